/* HTML bodies from other platforms into stored Markdown (content/html.h):
 * what is kept, what hostile input becomes, and the stored HTML that
 * markdown.c renders from the result. */
#include "unit.h"

#include <string.h>

#include "content/html.h"
#include "content/markdown.h"

static const char *const ghost_markers[] = { "members-only", NULL };
static const struct html_opts ghost = { ghost_markers, false, "__GHOST_URL__", "https://old.example" };

/* The Markdown, and the HTML a reader would get from it (teaser then gated). */
static const char *
convert(struct arena *a, const char *html, const struct html_opts *o, const char **rendered, struct md_article *md)
{
	struct html_result r;
	assert_int_equal(html_to_markdown(a, html, strlen(html), o, &r), MH_OK);
	md_render_article(a, r.md, strlen(r.md), 2, md);
	*rendered = arena_concat(a, md->teaser_html, md->gated_html, NULL);
	return r.md;
}

static void
test_structure_is_kept(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct md_article md;
	const char *html;
	const char *out = convert(a,
	                          "<h2>Background</h2><p>Plain <strong>bold</strong> <em>it</em> "
	                          "<a href=\"https://example.org/x?a=1&amp;b=2\">link</a></p>"
	                          "<ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>"
	                          "<ol start=\"3\"><li>three</li></ol>"
	                          "<figure><img src=\"https://img.example/a.jpg\" alt=\"A dock\">"
	                          "<figcaption>The dock at dawn</figcaption></figure>",
	                          &ghost, &html, &md);
	assert_non_null(strstr(out, "## Background"));
	assert_non_null(strstr(html, "<h2>Background</h2>"));
	assert_non_null(strstr(html, "<strong>bold</strong>"));
	assert_non_null(strstr(html, "<em>it</em>"));
	assert_non_null(strstr(html, "<a href=\"https://example.org/x?a=1&amp;b=2\">link</a>"));
	assert_non_null(strstr(html, "<li>one\n<ul>\n<li>nested</li>"));
	assert_non_null(strstr(html, "<ol start=\"3\">"));
	assert_non_null(strstr(html, "<img src=\"https://img.example/a.jpg\" alt=\"A dock\" />"));
	assert_non_null(strstr(html, "<em>The dock at dawn</em>"));
	arena_free(a);
}

static void
test_hostile_input_is_dropped(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct md_article md;
	const char *html;
	convert(a,
	        "<p onclick=\"steal()\">Hi<script>alert('x')</script><style>p{}</style></p>"
	        "<p><a href=\"javascript:alert(1)\">js</a> <a href=\" JaVaScRiPt:alert(2)\">js2</a> "
	        "<a href=\"java\tscript:alert(3)\">js3</a> <a href=\"//evil.example/\">proto</a> "
	        "<a href=\"data:text/html,x\">data</a></p>"
	        "<img src=\"javascript:alert(4)\" onerror=\"alert(5)\" alt=\"x\">"
	        "<iframe src=\"javascript:alert(6)\"></iframe><svg><script>alert(7)</script></svg>"
	        "<form action=\"/x\"><input name=\"q\"></form>"
	        "<table><tr><td>cell<table><tr><td>inner</td></tr></table></td></tr></table>"
	        "<p>&lt;script&gt;alert(8)&lt;/script&gt; &lt;!-- paywall --&gt;</p>"
	        "<div><p>unclosed <b>bold <i>both",
	        &ghost, &html, &md);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<style"));
	assert_null(strstr(html, "onclick"));
	assert_null(strstr(html, "onerror"));
	assert_null(strstr(html, "javascript"));
	assert_null(strstr(html, "JaVaScRiPt"));
	assert_null(strstr(html, "evil.example"));
	assert_null(strstr(html, "data:"));
	assert_null(strstr(html, "<iframe"));
	assert_null(strstr(html, "<svg"));
	assert_null(strstr(html, "<form"));
	assert_null(strstr(html, "<input"));
	assert_null(strstr(html, "<table"));
	/* Text stays text: the escaped script and the marker lookalike. */
	assert_non_null(strstr(html, "&lt;script&gt;alert(8)&lt;/script&gt;"));
	assert_false(md.has_marker);
	assert_non_null(strstr(html, "cell"));
	assert_non_null(strstr(html, "inner"));
	assert_non_null(strstr(html, "<strong>bold <em>both</em></strong>"));
	arena_free(a);
}

static void
test_attributed_quotes_become_structured(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct md_article md;
	const char *html;
	convert(a,
	        "<p>Lede.</p><blockquote><p>We will build it.</p><p>\xe2\x80\x94 Ines Okafor, Chair</p></blockquote>"
	        "<blockquote><p>Not this year.</p><footer><cite>Tomas Reyes, Harbourmaster</cite></footer>"
	        "</blockquote><blockquote><p>Unattributed.</p></blockquote>",
	        &ghost, &html, &md);
	assert_int_equal(md.n_quotes, 2);
	/* markdown.c attributes the quotes last first. */
	int ines = strcmp(md.quotes[0].speaker_name, "Ines Okafor") == 0 ? 0 : 1;
	assert_string_equal(md.quotes[ines].speaker_name, "Ines Okafor");
	assert_string_equal(md.quotes[ines].role, "Chair");
	assert_string_equal(md.quotes[1 - ines].speaker_name, "Tomas Reyes");
	assert_string_equal(md.quotes[1 - ines].role, "Harbourmaster");
	assert_non_null(strstr(html, "<figure class=\"quote\">"));
	assert_non_null(strstr(html, "<blockquote>\n<p>Unattributed.</p>"));
	arena_free(a);
}

static void
test_embeds_become_links_and_marker_splits(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct md_article md;
	const char *html;
	const char *out = convert(a,
	                          "<p>Teaser one.</p><iframe src=\"https://www.youtube.com/embed/abc\"></iframe>"
	                          "<!--members-only--><p>GATED text, see <a href=\"__GHOST_URL__/other/\">this</a>."
	                          "</p><blockquote class=\"twitter-tweet\"><p>tweet</p>"
	                          "<a href=\"https://twitter.com/x/status/1\">date</a></blockquote>"
	                          "<video><source src=\"https://cdn.example/v.mp4\"></video>",
	                          &ghost, &html, &md);
	assert_true(md.has_marker);
	assert_non_null(strstr(md.teaser_html, "href=\"https://www.youtube.com/embed/abc\""));
	assert_null(strstr(md.teaser_html, "GATED"));
	assert_non_null(strstr(md.gated_html, "GATED"));
	assert_non_null(strstr(md.gated_html, "<a href=\"/other/\">this</a>"));
	assert_non_null(strstr(md.gated_html, "href=\"https://twitter.com/x/status/1\""));
	assert_non_null(strstr(md.gated_html, "href=\"https://cdn.example/v.mp4\""));
	assert_null(strstr(out, "__GHOST_URL__"));
	arena_free(a);
}

static void
test_markdown_characters_in_text_stay_text(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct md_article md;
	const char *html;
	convert(a, "<p># not a heading</p><p>1. not a list *not em* [not](link) &amp;copy;</p><p>- dash</p>", NULL,
	        &html, &md);
	assert_non_null(strstr(html, "<p># not a heading</p>"));
	assert_non_null(strstr(html, "<p>1. not a list *not em* [not](link) &amp;copy;</p>"));
	assert_non_null(strstr(html, "<p>- dash</p>"));
	arena_free(a);
}

static void
test_deep_nesting_is_refused(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct buf_s {
		char *p;
		size_t n;
	} b = { NULL, 0 };
	size_t depth = HTML_MAX_DEPTH + 10;
	b.p = malloc(depth * 5 + 1);
	for (size_t i = 0; i < depth; i++)
		memcpy(b.p + i * 5, "<div>", 5);
	b.n = depth * 5;
	struct html_result r;
	assert_int_equal(html_to_markdown(a, b.p, b.n, NULL, &r), MH_ERR_TOOBIG);
	/* Unclosed paragraphs and list items do not nest. */
	for (size_t i = 0; i < depth; i++)
		memcpy(b.p + i * 5, "<p>x ", 5);
	assert_int_equal(html_to_markdown(a, b.p, b.n, NULL, &r), MH_OK);
	free(b.p);
	arena_free(a);
}

static void
test_url_rule(void **state)
{
	(void) state;
	assert_true(html_url_allowed("https://a.example/", false));
	assert_true(html_url_allowed("mailto:a@b.example", false));
	assert_true(html_url_allowed("/articles/x", false));
	assert_false(html_url_allowed("mailto:a@b.example", true));
	assert_false(html_url_allowed("//evil.example/", false));
	assert_false(html_url_allowed("/\\evil.example/", false));
	assert_false(html_url_allowed("vbscript:x", false));
	assert_false(html_url_allowed("https://a.example/\nx", false));
	assert_false(html_url_allowed("", false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_is_kept),
		cmocka_unit_test(test_hostile_input_is_dropped),
		cmocka_unit_test(test_attributed_quotes_become_structured),
		cmocka_unit_test(test_embeds_become_links_and_marker_splits),
		cmocka_unit_test(test_markdown_characters_in_text_stay_text),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_url_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
