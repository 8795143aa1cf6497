/* test_api.c: the Content API's parsers: NQL filters (what they accept,
 * what they refuse, what they match), the query values, the paths, keys
 * and the plain text built from HTML. */
#include "unit.h"

#include <string.h>

#include "api/content.h"
#include "api/nql.h"
#include "core/buf.h"
#include "core/banned.h"

static struct named_ref tags[] = { { "harbor", "Harbor" }, { "city-hall", "City hall" } };
static struct named_ref authors[] = { { "ana-ruiz", "Ana Ruiz" }, { "bo-lee", "Bo Lee" } };

static struct article
sample(void)
{
	struct article a = { 0 };
	a.id = 7;
	a.slug = "pier-five";
	a.title = "Pier five";
	a.access = ACCESS_PAID;
	a.published_at = 1767268800; /* 2026-01-01T12:00:00Z */
	a.updated_at = 1767268800;
	a.tags = tags;
	a.n_tags = 2;
	a.authors = authors;
	a.n_authors = 2;
	return a;
}

static bool
matches(const char *filter)
{
	struct arena *ar = arena_new();
	struct nql_node *n;
	char err[200];
	if (nql_parse(ar, filter, &n, err, sizeof err) != MH_OK)
		fail_msg("'%s' refused: %s", filter, err);
	struct article a = sample();
	struct nql_subject s = { &a, "000000000000000000000007", false };
	bool got = nql_match(n, &s);
	arena_free(ar);
	return got;
}

static void
refused(const char *filter, const char *why)
{
	struct arena *ar = arena_new();
	struct nql_node *n = (struct nql_node *) 1;
	char err[200] = "";
	if (nql_parse(ar, filter, &n, err, sizeof err) != MH_ERR_INVALID)
		fail_msg("'%s' accepted", filter);
	assert_null(n);
	if (!strstr(err, why))
		fail_msg("'%s': '%s' does not say '%s'", filter, err, why);
	arena_free(ar);
}

static void
test_nql_matches(void **state)
{
	assert_true(matches("tag:harbor"));
	assert_true(matches("tags:city-hall"));
	assert_false(matches("tag:sports"));
	assert_true(matches("tags:[sports,harbor]"));
	assert_false(matches("tags:-[sports,harbor]"));
	assert_true(matches("author:bo-lee"));
	assert_true(matches("primary_author:ana-ruiz"));
	assert_false(matches("primary_author:bo-lee"));
	assert_true(matches("primary_tag:harbor"));
	assert_false(matches("featured:true"));
	assert_true(matches("featured:false"));
	assert_true(matches("visibility:paid"));
	assert_false(matches("visibility:public"));
	assert_false(matches("id:-000000000000000000000007"));
	assert_true(matches("id:-000000000000000000000008"));
	assert_true(matches("slug:pier-five"));
	assert_true(matches("published_at:>'2026-01-01'"));
	assert_false(matches("published_at:>'2026-01-02'"));
	assert_true(matches("published_at:<='2026-01-01 12:00:00'"));
	assert_false(matches("published_at:<'2026-01-01 12:00:00'"));
	assert_true(matches("published_at:>=2026-01-01T12:00:00Z"));
	/* + binds tighter than , */
	assert_true(matches("tag:sports+author:nobody,tag:harbor"));
	assert_false(matches("tag:sports+(author:nobody,tag:harbor)"));
	assert_true(matches("(tag:sports,tag:harbor)+visibility:paid"));
	assert_true(matches(" tag : harbor + author : bo-lee "));
	assert_true(matches("slug:'pier-five'"));
	assert_true(matches("slug:\"pier-five\""));
	assert_false(matches("slug:'it\\'s'"));
}

static void
test_nql_refuses(void **state)
{
	refused("", "Expected a field name");
	refused("tag", "Expected ':'");
	refused("tag:", "Expected a value");
	refused("colour:red", "Unknown field");
	refused("tag:[a,b", "Expected ',' or ']'");
	refused("tag:'open", "not closed");
	refused("featured:maybe", "true or false");
	refused("visibility:secret", "public, members or paid");
	refused("published_at:>'yesterday'", "A date");
	refused("tag:>x", "Only published_at");
	refused("published_at:-'2026-01-01'+x:y", "Unknown field");
	refused("(tag:a", "Expected ')'");
	refused("tag:a)", "Unexpected character");
	refused("tag:a++tag:b", "Expected a field name");
	refused("published_at:['2026-01-01']", "cannot be a list");
	struct buf b = BUF_INIT;
	for (int i = 0; i < 20; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "tag:a");
	refused(b.ptr, "nests too deeply");
	/* Too many clauses, too long. */
	buf_reset(&b);
	for (int i = 0; i < 400; i++)
		buf_puts(&b, i ? ",tag:a" : "tag:a");
	refused(b.ptr, "longer than");
	buf_reset(&b);
	for (int i = 0; i < 120; i++)
		buf_puts(&b, i ? ",tag:a" : "tag:a");
	refused(b.ptr, "too many conditions");
	buf_release(&b);
}

static void
test_query_values(void **state)
{
	struct arena *a = arena_new();
	struct api_query q;
	char err[300];
	struct api_params p = { 0 };
	assert_int_equal(api_query_parse(a, &p, &q, err, sizeof err), MH_OK);
	assert_int_equal(q.limit, API_LIMIT_DEFAULT);
	assert_int_equal(q.page, 1);
	assert_true(q.html);
	assert_false(q.plaintext);
	p = (struct api_params){ "tags, authors", "id,title", "plaintext", "all", "2", "title asc, published_at DESC",
		                 "tag:x",         NULL };
	assert_int_equal(api_query_parse(a, &p, &q, err, sizeof err), MH_OK);
	assert_true(q.inc_tags && q.inc_authors);
	assert_int_equal(q.n_fields, 2);
	assert_false(q.html);
	assert_true(q.plaintext);
	assert_true(q.limit_all);
	assert_int_equal(q.limit, API_LIMIT_MAX);
	assert_int_equal(q.page, 2);
	assert_int_equal(q.n_order, 2);
	assert_int_equal(q.order[0].field, API_ORD_TITLE);
	assert_false(q.order[0].desc);
	assert_true(q.order[1].desc);
	assert_non_null(q.filter);
	p = (struct api_params){ .limit = "100000" };
	assert_int_equal(api_query_parse(a, &p, &q, err, sizeof err), MH_OK);
	assert_int_equal(q.limit, API_LIMIT_MAX);
	const struct api_params bad[] = {
		{ .include = "comments" }, { .formats = "mobiledoc" },
		{ .limit = "0" },          { .limit = "-1" },
		{ .limit = "ten" },        { .page = "0" },
		{ .order = "colour asc" }, { .order = "title sideways" },
		{ .filter = "tag:[" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		assert_int_equal(api_query_parse(a, &bad[i], &q, err, sizeof err), MH_ERR_INVALID);
		assert_true(err[0] != '\0');
	}
	arena_free(a);
}

static void
test_routes(void **state)
{
	struct arena *a = arena_new();
	struct api_route rt;
	assert_true(api_route_parse(a, "posts/", &rt));
	assert_string_equal(rt.resource, "posts");
	assert_null(rt.by);
	assert_true(api_route_parse(a, "posts", &rt));
	assert_true(api_route_parse(a, "posts/00000000000000000000000e/", &rt));
	assert_string_equal(rt.by, "id");
	assert_string_equal(rt.key, "00000000000000000000000e");
	assert_true(api_route_parse(a, "tags/slug/port/", &rt));
	assert_string_equal(rt.resource, "tags");
	assert_string_equal(rt.by, "slug");
	assert_string_equal(rt.key, "port");
	assert_true(api_route_parse(a, "people/slug/ines-okafor", &rt));
	assert_true(api_route_parse(a, "settings/", &rt));
	assert_false(api_route_parse(a, "settings/x/", &rt));
	assert_false(api_route_parse(a, "tiers/slug/x/", &rt) && rt.by && strcmp(rt.by, "slug"));
	assert_false(api_route_parse(a, "members/", &rt));
	assert_false(api_route_parse(a, "", &rt));
	assert_false(api_route_parse(a, "posts//", &rt));
	assert_false(api_route_parse(a, "posts/slug/a/b/", &rt));
	arena_free(a);
}

static void
test_keys_and_text(void **state)
{
	char k1[API_KEY_CHARS + 1], k2[API_KEY_CHARS + 1];
	api_key_new(k1);
	api_key_new(k2);
	assert_int_equal(strlen(k1), 26);
	assert_true(api_key_well_formed(k1));
	assert_string_not_equal(k1, k2);
	assert_false(api_key_well_formed("0123456789abcdef012345678"));
	assert_false(api_key_well_formed("0123456789abcdef0123456789a"));
	assert_false(api_key_well_formed("0123456789ABCDEF0123456789"));
	assert_false(api_key_well_formed(NULL));
	struct arena *a = arena_new();
	assert_string_equal(api_html_to_text(a, "<p>One &amp; two</p>\n<p>Three<br>four</p>"),
	                    "One & two\n\nThree\nfour");
	assert_string_equal(api_html_to_text(a, "<p>a &lt;b&gt; &quot;c&quot;</p>"), "a <b> \"c\"");
	assert_string_equal(api_html_to_text(a, "no tags"), "no tags");
	arena_free(a);
}

/* Filtered, reordered and read-by-id lists go through every post, a batch
 * at a time: ten posts read three at a time give the same answers as one
 * read (the batch boundary is the old cap's boundary, made small). */
static json_t *
answer(const struct api_site *site, struct arena *a, const char *path, struct api_params p, int *status)
{
	struct api_route rt;
	assert_true(api_route_parse(a, path, &rt));
	return api_answer(site, a, &rt, &p, status);
}

static void
test_lists_past_a_batch(void **state)
{
	(void) state;
	char dir[64];
	struct store *s = unit_store_open(dir);
	assert_non_null(s);
	struct arena *a = arena_new();
	const int64_t t0 = 1767268800;
	for (int i = 0; i < 10; i++) {
		struct named_ref tag[] = { { i % 4 == 0 ? "quarter" : "rest", "T" } };
		struct article_input in = { .slug = arena_printf(a, "post-%d", i),
			                    .title = arena_printf(a, "Title %c", 'J' - i),
			                    .dek = "",
			                    .summary = "s",
			                    .access = ACCESS_PUBLIC,
			                    .published_at = t0 + i * 60,
			                    .updated_at = t0 + i * 60,
			                    .teaser_md = "t",
			                    .teaser_html = "<p>t</p>",
			                    .tags = tag,
			                    .n_tags = 1 };
		int64_t id;
		bool created;
		assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	}
	unsigned char secret[32] = { 0 };
	for (size_t batch = 3; batch <= 20; batch += 17) {
		struct api_site site = { s, "http://x", "X", "", secret, { 0 }, t0 + 3600, batch };
		int status;
		/* A filter whose matches sit in the first, second and last batch. */
		json_t *j = answer(&site, a, "posts/", (struct api_params){ .filter = "tag:quarter" }, &status);
		assert_int_equal(status, 200);
		json_t *posts = json_object_get(j, "posts");
		assert_int_equal(json_array_size(posts), 3);
		assert_string_equal(json_string_value(json_object_get(json_array_get(posts, 0), "slug")), "post-8");
		assert_string_equal(json_string_value(json_object_get(json_array_get(posts, 2), "slug")), "post-0");
		json_t *pg = json_object_get(json_object_get(j, "meta"), "pagination");
		assert_int_equal(json_integer_value(json_object_get(pg, "total")), 3);
		json_decref(j);
		/* Another order: all ten, the oldest (last batch) first by title. */
		j = answer(&site, a, "posts/", (struct api_params){ .order = "title desc", .limit = "all" }, &status);
		posts = json_object_get(j, "posts");
		assert_int_equal(json_array_size(posts), 10);
		assert_string_equal(json_string_value(json_object_get(json_array_get(posts, 0), "slug")), "post-0");
		json_decref(j);
		/* A read by id finds the oldest post. */
		j = answer(&site, a, "posts/000000000000000000000001/", (struct api_params){ 0 }, &status);
		assert_int_equal(status, 200);
		assert_string_equal(
		        json_string_value(json_object_get(json_array_get(json_object_get(j, "posts"), 0), "slug")),
		        "post-0");
		json_decref(j);
		/* Tags count every post. */
		j = answer(&site, a, "tags/", (struct api_params){ .include = "count.posts", .filter = "slug:rest" },
		           &status);
		assert_int_equal(status, 200);
		json_t *count = json_object_get(json_array_get(json_object_get(j, "tags"), 0), "count");
		assert_int_equal(json_integer_value(json_object_get(count, "posts")), 7);
		json_decref(j);
	}
	arena_free(a);
	assert_int_equal(unit_store_close(s, dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nql_matches),   cmocka_unit_test(test_nql_refuses),
		cmocka_unit_test(test_query_values),  cmocka_unit_test(test_routes),
		cmocka_unit_test(test_keys_and_text), cmocka_unit_test(test_lists_past_a_batch),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
