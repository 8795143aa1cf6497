/* Front matter, Markdown, teaser split and quotes. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "content/article.h"
#include "content/markdown.h"
#include "core/buf.h"

static const struct article_parse_opts opts = { 2, 1 << 20, 1700000000 };

static mh_err
parse(struct arena *a, const char *src, struct article_input *out, char *err)
{
	return article_parse(a, src, strlen(src), &opts, out, err, 512);
}

static void
test_full_article(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512] = "";
	const char *src = "---\n"
	                  "title: Port approves \"night\" window\n"
	                  "dek: The board voted 5-2.\n"
	                  "access: paid\n"
	                  "authors: [Mara Ellison, Tomas Reyes]\n"
	                  "tags: [port, City Hall]\n"
	                  "published_at: 2026-11-20T09:00:00Z\n"
	                  "---\n"
	                  "The lede paragraph.\n\n"
	                  "> We will not open at night.\n"
	                  "> Not this year.\n"
	                  ">\n"
	                  "> \xe2\x80\x94 Ines Okafor, Chair of the Port Authority\n\n"
	                  "<!-- paywall -->\n\n"
	                  "GATED-MARKER secret paragraph. <script>alert(1)</script>\n\n"
	                  "> Unattributed quote stays a blockquote.\n\n"
	                  "> It will cost us.\n"
	                  "> -- Nadia Ferro, Cooperative President\n";
	assert_int_equal(parse(a, src, &in, err), MH_OK);
	assert_string_equal(in.title, "Port approves \"night\" window");
	assert_string_equal(in.slug, "port-approves-night-window");
	assert_int_equal(in.access, ACCESS_PAID);
	assert_int_equal(in.n_authors, 2);
	assert_string_equal(in.authors[1].slug, "tomas-reyes");
	assert_string_equal(in.tags[1].slug, "city-hall");
	assert_string_equal(in.tags[1].name, "City Hall");
	assert_int_equal(in.published_at, 1795165200);
	assert_true(in.has_marker);
	assert_null(strstr(in.teaser_html, "GATED-MARKER"));
	assert_null(strstr(in.teaser_md, "GATED-MARKER"));
	assert_null(strstr(in.teaser_html, "paywall"));
	assert_non_null(strstr(in.gated_html, "GATED-MARKER"));
	assert_null(strstr(in.gated_html, "<script>")); /* raw HTML is dropped */
	assert_non_null(strstr(in.teaser_html, "<figure class=\"quote\">"));
	assert_non_null(strstr(in.teaser_html, "<a href=\"/people/ines-okafor\">Ines Okafor</a>"));
	assert_non_null(strstr(in.teaser_html, "<span class=\"role\">Chair of the Port Authority</span>"));
	assert_null(strstr(in.teaser_html, "\xe2\x80\x94 Ines")); /* the citation line left the quote */
	assert_non_null(strstr(in.gated_html, "<blockquote>\n<p>Unattributed"));
	assert_int_equal(in.n_quotes, 2);
	assert_false(in.quotes[0].gated);
	assert_string_equal(in.quotes[0].speaker_name, "Ines Okafor");
	assert_non_null(strstr(in.quotes[0].text_html, "Not this year."));
	assert_true(in.quotes[1].gated);
	assert_string_equal(in.quotes[1].speaker_slug, "nadia-ferro");
	assert_string_equal(in.quotes[1].role, "Cooperative President");
	assert_string_equal(in.summary, "The board voted 5-2.");
	arena_free(a);
}

static void
test_default_teaser_is_two_paragraphs(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512];
	const char *src = "---\ntitle: No marker\naccess: members\n---\n"
	                  "## Heading\n\nOne.\n\nTwo.\n\nThree is gated.\n\nFour.\n";
	assert_int_equal(parse(a, src, &in, err), MH_OK);
	assert_false(in.has_marker);
	assert_non_null(strstr(in.teaser_html, "Two."));
	assert_null(strstr(in.teaser_html, "Three"));
	assert_non_null(strstr(in.gated_html, "Three is gated."));
	assert_string_equal(in.summary, "One.");
	arena_free(a);
}

static void
test_feature_image(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512] = "";
	const char *src = "---\n"
	                  "title: Pier 9\n"
	                  "featured: true\n"
	                  "feature_image: https://img.example/pier-9.jpg\n"
	                  "feature_image_alt: Cranes over Pier 9 at dusk.\n"
	                  "feature_image_caption: The night shift at Pier 9.\n"
	                  "feature_image_credit: Ana Ruiz\n"
	                  "---\nBody.\n";
	assert_int_equal(parse(a, src, &in, err), MH_OK);
	assert_true(in.featured);
	assert_string_equal(in.image.src, "https://img.example/pier-9.jpg");
	assert_string_equal(in.image.alt, "Cranes over Pier 9 at dusk.");
	assert_string_equal(in.image.caption, "The night shift at Pier 9.");
	assert_string_equal(in.image.credit, "Ana Ruiz");
	/* Left out: no image, not featured. */
	assert_int_equal(parse(a, "---\ntitle: T\nfeatured: false\n---\nB\n", &in, err), MH_OK);
	assert_false(in.featured);
	assert_null(in.image.src);
	arena_free(a);
}

static void
test_bad_input(void **state)
{
	(void) state;
	static const struct {
		const char *src, *want;
	} cases[] = {
		{ "no front matter\n", "line 1: expected front matter" },
		{ "---\ntitle: x\n", "not closed" },
		{ "---\ntitle: [a\n---\nbody\n", "malformed YAML" },
		{ "---\ndek: no title\n---\nbody\n", "no title" },
		{ "---\ntitle: T\naccess: secret\n---\n",
		  "line 3: access must be public, members or paid, not 'secret'" },
		{ "---\ntitle: T\nacess: paid\n---\n", "line 3: unknown front matter key 'acess'" },
		{ "---\ntitle: T\nslug: Bad Slug\n---\n", "line 3: slug 'Bad Slug'" },
		{ "---\ntitle: T\npublished_at: soon\n---\n", "line 3: 'published_at' is not a date" },
		{ "---\ntitle: [a, b]\n---\n", "line 2: 'title' must be a single text" },
		{ "---\ntitle: T\ntags: {a: b}\n---\n", "must be a text or a list of texts" },
		{ "---\ntitle: T\ntitle: U\n---\n", "line 3: 'title' is given twice" },
		{ "---\ntitle: T\n---\nok\n\nbad \xff byte\n", "line 6: invalid UTF-8" },
		{ "---\ntitle: &a T\nslug: *a\n---\n", "aliases are not allowed" },
		{ "---\ntitle: \"!!!\"\n---\n", "no slug can be made" },
		{ "---\ntitle: T\nfeatured: yes\n---\n", "line 3: featured must be true or false, not 'yes'" },
		{ "---\ntitle: T\nfeature_image: javascript:alert(1)\nfeature_image_alt: x\n---\n",
		  "line 3: feature_image must be an https:// or http:// address or a path" },
		{ "---\ntitle: T\nfeature_image: //evil.example/a.png\nfeature_image_alt: x\n---\n",
		  "line 3: feature_image must be" },
		{ "---\ntitle: T\nfeature_image: /a b.png\nfeature_image_alt: x\n---\n",
		  "line 3: feature_image must be" },
		{ "---\ntitle: T\nfeature_image: /a.png\n---\n", "line 3: feature_image needs feature_image_alt" },
		{ "---\ntitle: T\nfeature_image_caption: A caption\n---\n",
		  "line 3: feature_image_caption without feature_image" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct arena *a = arena_new();
		struct article_input in;
		char err[512] = "";
		mh_err rc = parse(a, cases[i].src, &in, err);
		if (rc == MH_OK || !strstr(err, cases[i].want))
			fail_msg("case %zu: rc=%d err='%s', want '%s'", i, rc, err, cases[i].want);
		arena_free(a);
	}
}

static void
test_size_limit(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512];
	struct article_parse_opts small = { 2, 64, 0 };
	const char *src = "---\ntitle: T\n---\nA body that makes this file longer than sixty-four bytes.\n";
	assert_int_equal(article_parse(a, src, strlen(src), &small, &in, err, sizeof err), MH_ERR_TOOBIG);
	assert_non_null(strstr(err, "over the limit"));
	arena_free(a);
}

static void
test_export_round_trip(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in, again;
	char err[512];
	const char *src = "---\ntitle: \"Quote: \\\"yes\\\"\"\naccess: paid\nauthors: [A B]\ntags: [x]\n"
	                  "published_at: 2026-11-01T00:00:00Z\n---\nOne.\n\nTwo.\n\nThree.\n";
	assert_int_equal(parse(a, src, &in, err), MH_OK);
	struct named_ref authors[] = { { "a-b", "A B" } }, tags[] = { { "x", "x" } };
	struct article_source s = { { .slug = in.slug,
		                      .title = in.title,
		                      .dek = "",
		                      .access = in.access,
		                      .published_at = in.published_at,
		                      .updated_at = in.updated_at,
		                      .authors = authors,
		                      .n_authors = 1,
		                      .tags = tags,
		                      .n_tags = 1 },
		                    in.teaser_md,
		                    in.gated_md,
		                    in.has_marker };
	struct buf b = BUF_INIT;
	article_write_markdown(&b, &s);
	assert_int_equal(parse(a, b.ptr, &again, err), MH_OK);
	assert_string_equal(again.title, in.title);
	assert_string_equal(again.slug, in.slug);
	assert_string_equal(again.teaser_html, in.teaser_html);
	assert_string_equal(again.gated_html, in.gated_html);
	assert_int_equal(again.published_at, in.published_at);
	buf_release(&b);
	arena_free(a);
}

static void
test_deep_nesting_is_bounded(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	buf_puts(&b, "---\ntitle: Deep\n---\n");
	for (int i = 0; i < 5000; i++)
		buf_putc(&b, '>');
	buf_puts(&b, " deep\n> \xe2\x80\x94 Some One, Role\n");
	for (int i = 0; i < 5000; i++)
		buf_puts(&b, "[");
	struct article_input in;
	char err[512];
	assert_int_equal(parse(a, b.ptr, &in, err), MH_OK);
	buf_release(&b);
	arena_free(a);
}

/* Found by fuzzing: cmark ends lines at a lone CR too, and the cut must agree. */
static void
test_lone_cr_lines_split_where_cmark_does(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512];
	const char *src = "---\ntitle: Leak\naccess: paid\n---\nFree intro.\r\r<!-- paywall -->\r\r"
	                  "SECRET one.\r\rSECRET two.\r";
	assert_int_equal(parse(a, src, &in, err), MH_OK);
	assert_true(in.has_marker);
	assert_null(strstr(in.teaser_html, "SECRET"));
	assert_non_null(strstr(in.gated_html, "SECRET two."));
	arena_free(a);
}

static void
test_first_line_indentation_is_kept(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512];
	const char *src = "---\ntitle: Code\naccess: paid\n---\nIntro.\n\n<!-- paywall -->\n\n"
	                  "    $ make install\n    $ make test\n";
	assert_int_equal(parse(a, src, &in, err), MH_OK);
	assert_non_null(strstr(in.gated_html, "<pre><code>$ make install"));
	arena_free(a);
}

static void
test_marker_with_nothing_after_survives_export(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct article_input in;
	char err[512];
	assert_int_equal(parse(a, "---\ntitle: Last\n---\nOne.\n\nTwo.\n\nThree.\n\n<!-- paywall -->\n", &in, err),
	                 MH_OK);
	struct article_source s = { { .slug = in.slug,
		                      .title = in.title,
		                      .dek = "",
		                      .access = in.access,
		                      .published_at = in.published_at,
		                      .updated_at = in.updated_at },
		                    in.teaser_md,
		                    in.gated_md,
		                    in.has_marker };
	struct buf b = BUF_INIT;
	article_write_markdown(&b, &s);
	assert_non_null(strstr(b.ptr, "<!-- paywall -->"));
	struct article_input again;
	assert_int_equal(parse(a, b.ptr, &again, err), MH_OK);
	assert_string_equal(again.teaser_html, in.teaser_html);
	buf_release(&b);
	arena_free(a);
}

static void
test_control_characters_in_values_are_refused(void **state)
{
	(void) state;
	static const char *cases[] = {
		"---\ntitle: \"Control \\x01 char\"\n---\n",
		"---\ntitle: \"Line \\L separator\"\n---\n",
		"---\ntitle: \"Cut \\0 short\"\n---\n",
		"---\ntitle: T\nauthors: [\"A\\tB\"]\n---\n",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct arena *a = arena_new();
		struct article_input in;
		char err[512] = "";
		if (parse(a, cases[i], &in, err) != MH_ERR_INVALID || !strstr(err, "holds"))
			fail_msg("case %zu: '%s'", i, err);
		arena_free(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_article),
		cmocka_unit_test(test_default_teaser_is_two_paragraphs),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_feature_image),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_export_round_trip),
		cmocka_unit_test(test_deep_nesting_is_bounded),
		cmocka_unit_test(test_lone_cr_lines_split_where_cmark_does),
		cmocka_unit_test(test_first_line_indentation_is_kept),
		cmocka_unit_test(test_marker_with_nothing_after_survives_export),
		cmocka_unit_test(test_control_characters_in_values_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
