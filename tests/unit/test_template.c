/* test_template.c: the engine's own promises, always run: every feature the
 * themes use, parse errors name a line, recursion is bounded, the output
 * buffer's limit is reported, escaping is complete, and hostile source never
 * crashes. Then, when it is found, the official Mustache spec: it is another
 * project's text and stays outside this repository; MASTHEAD_MUSTACHE_SPEC
 * names its folder (make passes ../shared/testdata/mustache-spec when it
 * exists). Without it one line says the spec was not run: not a failure and
 * not a pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/template.h"

#include "core/banned.h"

#define SPEC_MAIN "spec-main"

/* Runs every case of one spec file; fails listing each case that differs. */
static void
run_spec(const char *file)
{
	const char *dir = getenv("MASTHEAD_MUSTACHE_SPEC");
	char path[1024];
	json_error_t jerr;

	snprintf(path, sizeof path, "%s/%s.json", dir, file);
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
	json_t *tests = json_object_get(root, "tests");
	assert_true(json_is_array(tests));

	size_t i, passed = 0, failed = 0;
	json_t *tc;
	json_array_foreach(tests, i, tc)
	{
		const char *name = json_string_value(json_object_get(tc, "name"));
		json_t *tmpl = json_object_get(tc, "template");
		const char *expected = json_string_value(json_object_get(tc, "expected"));
		json_t *partials = json_object_get(tc, "partials");
		struct tmpl_set *set = tmpl_set_new();
		struct buf out = BUF_INIT;
		char err[256];
		const char *pname;
		json_t *p;
		mh_err e = MH_OK;

		json_object_foreach(partials, pname, p)
		{
			e = tmpl_set_add(set, pname, json_string_value(p), json_string_length(p), err, sizeof err);
			if (e)
				break;
		}
		if (!e)
			e = tmpl_set_add(set, SPEC_MAIN, json_string_value(tmpl), json_string_length(tmpl), err,
			                 sizeof err);
		if (!e)
			e = tmpl_render(set, SPEC_MAIN, json_object_get(tc, "data"), &out);
		if (e) {
			print_error("%s / %s: %s %s\n", file, name, mh_strerror(e), err);
			failed++;
		} else if (strcmp(out.ptr, expected) != 0) {
			print_error("%s / %s:\n  expected: \"%s\"\n  got:      \"%s\"\n", file, name, expected,
			            out.ptr);
			failed++;
		} else {
			passed++;
		}
		buf_release(&out);
		tmpl_set_free(set);
	}
	print_message("%s: %zu of %zu cases pass\n", file, passed, passed + failed);
	json_decref(root);
	assert_int_equal(failed, 0);
	assert_true(passed > 0);
}

static void
spec_comments(void **state)
{
	run_spec("comments");
}
static void
spec_delimiters(void **state)
{
	run_spec("delimiters");
}
static void
spec_interpolation(void **state)
{
	run_spec("interpolation");
}
static void
spec_inverted(void **state)
{
	run_spec("inverted");
}
static void
spec_partials(void **state)
{
	run_spec("partials");
}
static void
spec_sections(void **state)
{
	run_spec("sections");
}
static void
spec_inheritance(void **state)
{
	run_spec("~inheritance");
}

/* Renders src (with the given partials, as name/source pairs ending in
 * NULL) against the JSON text data; returns the output, to be freed. */
static char *
render_str(const char *src, const char *data, mh_err *ep, ...)
{
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	char err[256];
	json_t *ctx = data ? json_loads(data, JSON_DECODE_ANY, NULL) : NULL;
	va_list ap;
	const char *name;

	va_start(ap, ep);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *psrc = va_arg(ap, const char *);
		assert_int_equal(tmpl_set_add(set, name, psrc, strlen(psrc), err, sizeof err), MH_OK);
	}
	va_end(ap);
	assert_int_equal(tmpl_set_add(set, "t", src, strlen(src), err, sizeof err), MH_OK);
	mh_err e = tmpl_render(set, "t", ctx, &out);
	if (ep)
		*ep = e;
	else
		assert_int_equal(e, MH_OK);
	json_decref(ctx);
	tmpl_set_free(set);
	return buf_detach(&out, NULL);
}

static void
expect_render(const char *src, const char *data, const char *want)
{
	char *got = render_str(src, data, NULL, NULL);
	if (strcmp(got, want) != 0)
		fail_msg("template \"%s\"\n  expected: \"%s\"\n  got:      \"%s\"", src, want, got);
	free(got);
}

/* Each bad source must fail with MH_ERR_PARSE and "t:LINE: ...". */
static void
test_parse_errors(void **state)
{
	static const struct {
		const char *src;
		int line;
	} cases[] = {
		{ "{{x", 1 },
		{ "a\nb\n  {{x\n", 3 },
		{ "{{{x}}", 1 },
		{ "{{}}", 1 },
		{ "\n{{ }}", 2 },
		{ "{{#}}{{/}}", 1 },
		{ "{{>}}", 1 },
		{ "{{a b}}", 1 },
		{ "{{a..b}}", 1 },
		{ "{{.a}}", 1 },
		{ "{{a.}}", 1 },
		{ "one\n{{#a}}\ntwo\n{{/b}}\n", 4 },
		{ "{{/a}}", 1 },
		{ "x\n\n{{#a}}\n{{^b}}\n{{/b}}\n", 3 },
		{ "{{#a}}{{<p}}\n{{/a}}{{/p}}", 2 },
		{ "{{<p}}{{$b}}{{/p}}", 1 },
		{ "{{=<% %>}}", 1 },
		{ "{{= =}}", 1 },
		{ "{{=a=}}", 1 },
		{ "{{=<% =% =}}", 1 },
		{ "{{=}}", 1 },
		{ "{{=<% %>=}}\n<%x", 2 },
		{ "{{!\n\n unclosed comment", 1 },
		{ "{{#a}}", 1 },
	};
	struct tmpl_set *set = tmpl_set_new();
	char err[256], want[32];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mh_err e = tmpl_set_add(set, "t", cases[i].src, strlen(cases[i].src), err, sizeof err);
		snprintf(want, sizeof want, "t:%d: ", cases[i].line);
		if (e != MH_ERR_PARSE || strncmp(err, want, strlen(want)) != 0)
			fail_msg("\"%s\": got %d \"%s\", want a parse error at \"%s\"", cases[i].src, e, err, want);
		assert_false(tmpl_set_has(set, "t"));
	}

	/* A failed add keeps the template it would have replaced. */
	assert_int_equal(tmpl_set_add(set, "t", "ok", 2, err, sizeof err), MH_OK);
	assert_int_equal(tmpl_set_add(set, "t", "{{#x}}", 6, err, sizeof err), MH_ERR_PARSE);
	assert_true(tmpl_set_has(set, "t"));

	/* A tiny or missing error buffer is fine. */
	char tiny[4];
	assert_int_equal(tmpl_set_add(set, "u", "{{x", 3, tiny, sizeof tiny), MH_ERR_PARSE);
	assert_string_equal(tiny, "u:1");
	assert_int_equal(tmpl_set_add(set, "u", "{{x", 3, NULL, 0), MH_ERR_PARSE);

	/* Nesting past the bound is refused at compile time. */
	struct buf deep = BUF_INIT;
	for (int i = 0; i < TMPL_MAX_NEST + 1; i++)
		buf_puts(&deep, "{{#a}}");
	for (int i = 0; i < TMPL_MAX_NEST + 1; i++)
		buf_puts(&deep, "{{/a}}");
	assert_int_equal(tmpl_set_add(set, "deep", deep.ptr, deep.len, err, sizeof err), MH_ERR_PARSE);
	buf_release(&deep);

	tmpl_set_free(set);
}

static void
test_recursion_bound(void **state)
{
	mh_err e;
	char *got;

	/* A partial that includes itself unconditionally. */
	got = render_str("[{{>r}}]", "{}", &e, "r", "x{{>r}}", NULL);
	assert_int_equal(e, MH_ERR_TOOBIG);
	assert_int_equal(strlen(got), 2 + TMPL_MAX_DEPTH);
	assert_int_equal(got[strlen(got) - 1], ']');
	free(got);

	/* Through a section and with indentation. */
	got = render_str("{{>r}}", "{\"a\":true}", &e, "r", "{{#a}}\n  {{>r}}\n{{/a}}\n", NULL);
	assert_int_equal(e, MH_ERR_TOOBIG);
	free(got);

	/* Parents that name each other, and a block whose argument names itself. */
	got = render_str("{{<p}}{{/p}}", "{}", &e, "p", "{{<q}}{{/q}}", "q", "{{<p}}{{/p}}", NULL);
	assert_int_equal(e, MH_ERR_TOOBIG);
	free(got);
	got = render_str("{{<p}}{{$b}}<{{$b}}x{{/b}}>{{/b}}{{/p}}", "{}", &e, "p", "{{$b}}{{/b}}", NULL);
	assert_int_equal(e, MH_OK);
	assert_string_equal(got, "<x>");
	free(got);

	/* Recursion over the same list doubles the work at each level, with
	 * no output to hit the buffer's limit: the step budget ends it. */
	got = render_str("{{>a}}", "{\"l\":[1,2]}", &e, "a", "{{#l}}{{>a}}{{/l}}", NULL);
	assert_int_equal(e, MH_ERR_TOOBIG);
	assert_string_equal(got, "");
	free(got);
	struct buf deep = BUF_INIT;
	for (int i = 0; i < 100; i++)
		buf_puts(&deep, "{{#l}}");
	for (int i = 0; i < 100; i++)
		buf_puts(&deep, "{{/l}}");
	got = render_str(deep.ptr, "{\"l\":[1,2]}", &e, NULL);
	assert_int_equal(e, MH_ERR_TOOBIG);
	free(got);
	buf_release(&deep);

	/* Legitimate recursion over data stops with the data. */
	got = render_str("{{>node}}", "{\"n\":1,\"kids\":[{\"n\":2,\"kids\":[{\"n\":3,\"kids\":[]}]}]}", &e, "node",
	                 "{{n}}({{#kids}}{{>node}}{{/kids}})", NULL);
	assert_int_equal(e, MH_OK);
	assert_string_equal(got, "1(2(3()))");
	free(got);
}

static void
test_buffer_limit(void **state)
{
	struct tmpl_set *set = tmpl_set_new();
	const char *src = "{{#items}}<li>{{name}}</li>\n{{/items}}";
	json_t *items = json_array();
	struct buf out;

	for (int i = 0; i < 10000; i++)
		json_array_append_new(items, json_pack("{s:s}", "name", "a fairly long item name"));
	json_t *ctx = json_pack("{s:o}", "items", items);
	assert_int_equal(tmpl_set_add(set, "list", src, strlen(src), NULL, 0), MH_OK);

	buf_init(&out, 4096);
	assert_int_equal(tmpl_render(set, "list", ctx, &out), MH_ERR_TOOBIG);
	assert_true(out.len <= 4096);
	buf_release(&out);

	buf_init(&out, 0);
	assert_int_equal(tmpl_render(set, "list", ctx, &out), MH_OK);
	assert_int_equal(out.len, 10000 * strlen("<li>a fairly long item name</li>\n"));
	assert_int_equal(tmpl_render(set, "nope", ctx, &out), MH_ERR_NOTFOUND);
	buf_release(&out);

	json_decref(ctx);
	tmpl_set_free(set);
}

static void
test_escaping(void **state)
{
	const char *data = "{\"x\":\"<a href=\\\"?a=1&b='2'\\\">\"}";

	expect_render("{{x}}", data, "&lt;a href=&quot;?a=1&amp;b=&#39;2&#39;&quot;&gt;");
	expect_render("{{{x}}}", data, "<a href=\"?a=1&b='2'\">");
	expect_render("{{&x}}", data, "<a href=\"?a=1&b='2'\">");
	expect_render("{{=<% %>=}}<%x%>|<%{x}%>|<%&x%>", data,
	              "&lt;a href=&quot;?a=1&amp;b=&#39;2&#39;&quot;&gt;|<a href=\"?a=1&b='2'\">|"
	              "<a href=\"?a=1&b='2'\">");
	expect_render("{{#l}}{{.}}{{/l}}", "{\"l\":[\"<\",\">\",\"&\",\"\\\"\",\"'\"]}", "&lt;&gt;&amp;&quot;&#39;");
}

static void
test_values(void **state)
{
	expect_render("{{i}} {{n}} {{big}} {{r}} {{e}} {{w}} {{t}} {{f}} [{{z}}] [{{o}}] [{{a}}]",
	              "{\"i\":42,\"n\":-7,\"big\":9007199254740993,\"r\":0.1,\"e\":1e300,\"w\":3.0,"
	              "\"t\":true,\"f\":false,\"z\":null,\"o\":{},\"a\":[1]}",
	              "42 -7 9007199254740993 0.1 1e+300 3 true false [] [] []");
	/* Falsey: false, null, "", [], a miss. Truthy: 0, {}, " ". */
	expect_render("{{#a}}A{{/a}}{{#b}}B{{/b}}{{#c}}C{{/c}}{{#d}}D{{/d}}{{#m}}M{{/m}}"
	              "{{#e}}E{{/e}}{{#f}}F{{/f}}{{#g}}G{{/g}}",
	              "{\"a\":false,\"b\":null,\"c\":\"\",\"d\":[],\"e\":0,\"f\":{},\"g\":\" \"}", "EFG");
	expect_render("{{^c}}empty{{/c}}", "{\"c\":\"\"}", "empty");
	/* A NULL context renders every lookup empty. */
	char *got = render_str("[{{a}}{{#a}}x{{/a}}{{^a}}y{{/a}}{{.}}]", NULL, NULL, NULL);
	assert_string_equal(got, "[y]");
	free(got);
	/* Strings may hold NUL bytes. */
	json_t *ctx = json_pack("{s:s%}", "s", "a\0b", (size_t) 3);
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	assert_int_equal(tmpl_set_add(set, "t", "[{{s}}]", 7, NULL, 0), MH_OK);
	assert_int_equal(tmpl_render(set, "t", ctx, &out), MH_OK);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.ptr, "[a\0b]", 5);
	buf_release(&out);
	tmpl_set_free(set);
	json_decref(ctx);
}

/* The shape the theme uses: a page fills a layout's blocks. */
static void
test_layout(void **state)
{
	const char *layout = "<!doctype html>\n"
	                     "<title>{{$title}}Masthead{{/title}}</title>\n"
	                     "<body>\n"
	                     "  {{>nav}}\n"
	                     "  <main>\n"
	                     "    {{$content}}\n"
	                     "    <p>Nothing here.</p>\n"
	                     "    {{/content}}\n"
	                     "  </main>\n"
	                     "</body>\n";
	const char *page = "{{<layout}}\n"
	                   "{{$title}}{{headline}} - Masthead{{/title}}\n"
	                   "{{$content}}\n"
	                   "<h1>{{headline}}</h1>\n"
	                   "{{#paras}}\n"
	                   "<p>{{.}}</p>\n"
	                   "{{/paras}}\n"
	                   "{{/content}}\n"
	                   "{{/layout}}\n";
	char *got = render_str(page, "{\"headline\":\"Rates & <Taxes>\",\"paras\":[\"one\",\"two\"]}", NULL, "layout",
	                       layout, "nav", "<nav>\n  <a href=/>Home</a>\n</nav>\n", NULL);
	assert_string_equal(got, "<!doctype html>\n"
	                         "<title>Rates &amp; &lt;Taxes&gt; - Masthead</title>\n"
	                         "<body>\n"
	                         "  <nav>\n"
	                         "    <a href=/>Home</a>\n"
	                         "  </nav>\n"
	                         "  <main>\n"
	                         "    <h1>Rates &amp; &lt;Taxes&gt;</h1>\n"
	                         "    <p>one</p>\n"
	                         "    <p>two</p>\n"
	                         "  </main>\n"
	                         "</body>\n");
	free(got);

	/* Without an override the layout's defaults render. */
	got = render_str("{{<layout}}{{/layout}}", "{}", NULL, "layout", layout, "nav", "", NULL);
	assert_string_equal(got, "<!doctype html>\n"
	                         "<title>Masthead</title>\n"
	                         "<body>\n"
	                         "  <main>\n"
	                         "    <p>Nothing here.</p>\n"
	                         "  </main>\n"
	                         "</body>\n");
	free(got);
}

/* Each tag kind the themes use, on its own, with the spec's rules for them. */
static void
test_features(void **state)
{
	/* Dotted names, and a name missing in a section found in the context around it. */
	expect_render("{{a.b.c}}|{{#a}}{{b.c}}{{top}}{{/a}}", "{\"a\":{\"b\":{\"c\":\"deep\"}},\"top\":\"T\"}",
	              "deep|deepT");
	/* A dotted name stops at its first part: no lookup of the rest further out. */
	expect_render("{{#a}}[{{b.c}}]{{/a}}", "{\"a\":{\"b\":{}},\"b\":{\"c\":\"out\"}}", "[]");
	/* Lists repeat; an object section pushes the object; inverted renders on empty lists. */
	expect_render("{{#l}}<{{n}}>{{/l}}{{^l}}none{{/l}}", "{\"l\":[{\"n\":1},{\"n\":2}]}", "<1><2>");
	expect_render("{{#l}}x{{/l}}{{^l}}none{{/l}}", "{\"l\":[]}", "none");
	expect_render("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"v\"}}", "v");
	/* Comments vanish, standalone lines with them. */
	expect_render("a\n{{! a note }}\nb{{!x}}c", "{}", "a\nbc");
	/* Standalone section tags leave no blank lines. */
	expect_render("<ul>\n{{#l}}\n<li>{{.}}</li>\n{{/l}}\n</ul>\n", "{\"l\":[1,2]}",
	              "<ul>\n<li>1</li>\n<li>2</li>\n</ul>\n");
	/* A standalone partial is indented line by line; a partial sees the caller's context. */
	char *got = render_str("<div>\n  {{>p}}\n</div>", "{\"v\":\"<v>\"}", NULL, "p", "a{{v}}\nb\n", NULL);
	assert_string_equal(got, "<div>\n  a&lt;v&gt;\n  b\n</div>");
	free(got);
	/* A missing partial renders nothing. */
	expect_render("[{{>missing}}]", "{}", "[]");
	/* Blocks: a parent's default, overridden by the child, and a block inside a section. */
	got = render_str("{{<p}}{{$x}}child {{v}}{{/x}}{{/p}}", "{\"v\":1,\"l\":[1]}", NULL, "p",
	                 "[{{$x}}default{{/x}}|{{#l}}{{$y}}y{{/y}}{{/l}}]", NULL);
	assert_string_equal(got, "[child 1|y]");
	free(got);
}

static void
test_set(void **state)
{
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	char name[32];

	/* Many templates: the table grows, and each stays reachable. */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_int_equal(tmpl_set_add(set, name, name, strlen(name), NULL, 0), MH_OK);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_true(tmpl_set_has(set, name));
	}
	assert_false(tmpl_set_has(set, "p300"));
	/* Replacing keeps one template of that name; partials resolve late. */
	assert_int_equal(tmpl_set_add(set, "main", "{{>p7}}", 7, NULL, 0), MH_OK);
	assert_int_equal(tmpl_set_add(set, "p7", "seven", 5, NULL, 0), MH_OK);
	assert_int_equal(tmpl_render(set, "main", NULL, &out), MH_OK);
	assert_string_equal(out.ptr, "seven");
	assert_int_equal(tmpl_set_add(set, "", "", 0, NULL, 0), MH_OK);
	assert_true(tmpl_set_has(set, ""));
	buf_release(&out);
	tmpl_set_free(set);
	tmpl_set_free(NULL);
}

/* Every prefix and some mutations of a busy template compile or fail
 * cleanly, and whatever compiles renders; run under ASan and valgrind. */
static void
test_hostile(void **state)
{
	const char *src = "{{! c }}\n{{#a}}\n  {{b.c}} {{{d}}} {{&e}}\n{{/a}}{{^f}}x{{/f}}\n"
	                  "{{=<% %>=}}<%#g%><%.%><%/g%><%={{ }}=%>\n"
	                  "  {{>p}}\n{{<p}}\n  {{$blk}}\n    y\n  {{/blk}}\n{{/p}}\n"
	                  "{{$blk}}z{{/blk}}\r\n";
	size_t n = strlen(src);
	char *copy = malloc(n + 1);
	static const char subst[] = "{}#^/<>$=!&. \n";
	json_t *ctx = json_loads("{\"a\":{\"b\":{\"c\":1}},\"g\":[\"h\"],\"d\":\"<\"}", 0, NULL);
	struct tmpl_set *set = tmpl_set_new();
	struct buf out;
	char err[128];

	assert_int_equal(tmpl_set_add(set, "p", "{{$blk}}-{{/blk}}{{>q}}", 23, NULL, 0), MH_OK);
	assert_int_equal(tmpl_set_add(set, "q", "{{#a}}{{>p}}{{/a}}", 18, NULL, 0), MH_OK);
	for (size_t len = 0; len <= n; len++) {
		for (size_t s = 0; s <= sizeof subst - 1; s++) {
			memcpy(copy, src, n + 1);
			if (s < sizeof subst - 1 && len < n)
				copy[len] = subst[s];
			size_t use = s < sizeof subst - 1 ? n : len;
			if (tmpl_set_add(set, "t", copy, use, err, sizeof err) != MH_OK)
				continue;
			buf_init(&out, 1 << 16);
			mh_err e = tmpl_render(set, "t", ctx, &out);
			assert_true(e == MH_OK || e == MH_ERR_TOOBIG);
			buf_release(&out);
		}
	}
	free(copy);
	json_decref(ctx);
	tmpl_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest own[] = {
		cmocka_unit_test(test_features),        cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_recursion_bound), cmocka_unit_test(test_buffer_limit),
		cmocka_unit_test(test_escaping),        cmocka_unit_test(test_values),
		cmocka_unit_test(test_layout),          cmocka_unit_test(test_set),
		cmocka_unit_test(test_hostile),
	};
	const struct CMUnitTest spec[] = {
		cmocka_unit_test(spec_comments),      cmocka_unit_test(spec_delimiters),
		cmocka_unit_test(spec_interpolation), cmocka_unit_test(spec_inverted),
		cmocka_unit_test(spec_partials),      cmocka_unit_test(spec_sections),
		cmocka_unit_test(spec_inheritance),
	};
	int failed = cmocka_run_group_tests_name("template", own, NULL, NULL);
	const char *dir = getenv("MASTHEAD_MUSTACHE_SPEC");
	if (!dir || !*dir) {
		printf("mustache spec: not run (set MASTHEAD_MUSTACHE_SPEC to its folder of JSON files)\n");
		return failed;
	}
	printf("mustache spec: running the official spec from %s\n", dir);
	return failed + cmocka_run_group_tests_name("mustache spec", spec, NULL, NULL);
}
