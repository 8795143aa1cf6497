/* The newsroom's working copy through the importer's parser (content/newsroom.h). */
#include "unit.h"

#include <string.h>

#include "content/newsroom.h"

#define T0 INT64_C(1796000000)

static struct newsroom_article
story(const char *title, const char *authors, const char *body)
{
	return (struct newsroom_article){ .status = NEWSROOM_DRAFT,
		                          .slug = "a-story",
		                          .title = title,
		                          .dek = "",
		                          .access = "paid",
		                          .authors = authors,
		                          .tags = "City Hall, Port",
		                          .body = body,
		                          .live_slug = "" };
}

static void
test_fields_survive_the_import_format(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	const struct article_parse_opts o = { 2, 0, T0 };
	/* What YAML would read otherwise: quotes, a colon, a hash, a backslash. */
	const char *title = "He said: \"no\" # not a comment \\ really";
	struct newsroom_article n = story(title, " Ann Lee ,Bo Ng,, ",
	                                  "Lede.\n\n> On the record.\n>\n> \xe2\x80\x94 Ana Ruiz, Commissioner\n\n"
	                                  "<!-- paywall -->\n\nGated.\n");
	struct article_input in;
	char err[256] = "";
	assert_int_equal(newsroom_parse(a, &n, &o, T0, &in, err, sizeof err), MH_OK);
	assert_string_equal(in.title, title);
	assert_string_equal(in.slug, "a-story");
	assert_int_equal(in.access, ACCESS_PAID);
	assert_int_equal(in.published_at, T0); /* no time yet: the parser's now */
	assert_int_equal(in.n_authors, 2);
	assert_string_equal(in.authors[0].name, "Ann Lee");
	assert_string_equal(in.authors[1].slug, "bo-ng");
	assert_int_equal(in.n_tags, 2);
	assert_string_equal(in.tags[0].slug, "city-hall");
	assert_true(in.has_marker);
	assert_non_null(strstr(in.teaser_html, "Lede."));
	assert_null(strstr(in.teaser_html, "Gated."));
	assert_non_null(strstr(in.gated_html, "Gated."));
	assert_int_equal(in.n_quotes, 1);
	assert_string_equal(in.quotes[0].speaker_name, "Ana Ruiz");
	assert_string_equal(in.quotes[0].role, "Commissioner");
	/* A set time is kept. */
	n.publish_at = T0 + 3600;
	assert_int_equal(newsroom_parse(a, &n, &o, T0, &in, err, sizeof err), MH_OK);
	assert_int_equal(in.published_at, T0 + 3600);
	arena_free(a);
}

static void
test_errors_name_the_field_or_the_body_line(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	const struct article_parse_opts o = { 2, 0, T0 };
	struct article_input in;
	char err[256];
	struct newsroom_article n = story("Fine", "Ann", "One.\n\nTwo \xff.\n");
	assert_int_equal(newsroom_parse(a, &n, &o, T0, &in, err, sizeof err), MH_ERR_INVALID);
	assert_string_equal(err, "Body, line 3: invalid UTF-8");
	n = story("Fine", "!!!", "Body.\n");
	assert_int_not_equal(newsroom_parse(a, &n, &o, T0, &in, err, sizeof err), MH_OK);
	assert_non_null(strstr(err, "'authors'"));
	assert_null(strstr(err, "line"));
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_survive_the_import_format),
		cmocka_unit_test(test_errors_name_the_field_or_the_body_line),
	};
	return cmocka_run_group_tests_name("newsroom", tests, NULL, NULL);
}
