/* test_search.c: the reader's words as a query (search/query.h), HTML as
 * index text (core/htmltext.h), and search_query()'s paywall rule on a real
 * store (search/search.h). */
#include "unit.h"

#include <sqlite3.h>
#include <string.h>

#include "core/buf.h"
#include "core/htmltext.h"
#include "core/log.h"
#include "search/query.h"
#include "search/search.h"

#define T0 INT64_C(1796000000) /* a fixed clock: 2026-12-11 */

static void
parse(const char *q, struct search_terms *t)
{
	search_terms_parse(q, strlen(q), t);
}

static void
test_terms_are_words_quoted(void **state)
{
	struct search_terms t;
	assert_true(search_terms_parse("Climate  FERRY", 14, &t));
	assert_int_equal(t.n, 2);
	assert_string_equal(t.match, "\"climate\" \"ferry\"");
	assert_string_equal(t.any, "\"climate\" OR \"ferry\"");
	assert_string_equal(t.text, "climate ferry");
	/* The engine's syntax is only punctuation and words here. */
	parse("\"lantern\" OR title:fog NEAR(a b) x* -y ^z", &t);
	assert_string_equal(t.match, "\"lantern\" \"or\" \"title\" \"fog\" \"near\" \"a\" \"b\" \"x\"");
	assert_int_equal(t.n, SEARCH_TERMS_MAX); /* "y" and "z" were past the eighth */
	for (size_t i = 0; i < t.n; i++)
		assert_null(strchr(t.terms[i], '"'));
	/* Repeats count once; don't splits as the index does. */
	parse("Fog fog FOG don't", &t);
	assert_string_equal(t.text, "fog don t");
}

static void
test_terms_are_bounded(void **state)
{
	struct search_terms t;
	/* Nothing to search: empty, spaces, punctuation, NUL, bytes that are not UTF-8. */
	assert_false(search_terms_parse("", 0, &t));
	assert_false(search_terms_parse(NULL, 5, &t));
	assert_false(search_terms_parse("  !?\"*()", 8, &t));
	assert_false(search_terms_parse("\0\0\0", 3, &t));
	assert_false(search_terms_parse("\xff\xfe\xc0\xaf", 4, &t));
	assert_string_equal(t.match, "");
	assert_string_equal(t.text, "");
	/* A word past SEARCH_TERM_MAX bytes is dropped, one of exactly that many kept. */
	char q[400];
	memset(q, 'a', SEARCH_TERM_MAX + 1);
	q[SEARCH_TERM_MAX + 1] = ' ';
	memset(q + SEARCH_TERM_MAX + 2, 'b', SEARCH_TERM_MAX);
	q[2 * SEARCH_TERM_MAX + 2] = '\0';
	parse(q, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(strlen(t.terms[0]), SEARCH_TERM_MAX);
	assert_int_equal(t.terms[0][0], 'b');
	/* Only the first SEARCH_INPUT_MAX bytes count. */
	memset(q, ' ', sizeof q);
	memcpy(q + SEARCH_INPUT_MAX, "late", 4);
	q[SEARCH_INPUT_MAX + 4] = '\0';
	assert_false(search_terms_parse(q, strlen(q), &t));
	/* A word cut by the bound is cut, not mangled into bad UTF-8. */
	memset(q, ' ', sizeof q);
	memcpy(q + SEARCH_INPUT_MAX - 1, "\xc3\xa9", 2);
	assert_false(search_terms_parse(q, SEARCH_INPUT_MAX + 1, &t));
}

static void
test_terms_outside_ascii(void **state)
{
	struct search_terms t;
	/* Letters outside ASCII are word characters; their punctuation is not. */
	parse("Café\xe2\x80\x94Zoë \xe2\x80\x9cquoted\xe2\x80\x9d", &t);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.terms[0], "café");
	assert_string_equal(t.terms[1], "zoë");
	assert_string_equal(t.terms[2], "quoted");
	/* A stray byte splits a word; a surrogate's encoding is not UTF-8. */
	parse("ab\x80"
	      "cd\xed\xa0\x80"
	      "ef",
	      &t);
	assert_string_equal(t.text, "ab cd ef");
}

static void
test_htmltext(void **state)
{
	struct buf b = BUF_INIT;
	htmltext_append(&b, "<p>One <em>re</em>view &amp; two&#8212;three&#x41;</p>\n<p>Next\tline</p>"
	                    "<blockquote><p>Quote</p></blockquote>&bogus; &#0; \x01\x02 <cut");
	assert_string_equal(b.ptr, "One review & two\xe2\x80\x94threeA Next line Quote &bogus;");
	buf_reset(&b);
	htmltext_append(&b, NULL);
	assert_string_equal(b.ptr, "");
	buf_release(&b);
}

static void
test_marked_html(void **state)
{
	struct arena *a = arena_new();
	assert_string_equal(search_marked_html(a, "a \x01<b>\x02 & \x01open"),
	                    "a <mark>&lt;b&gt;</mark> &amp; <mark>open</mark>");
	assert_string_equal(search_marked_html(a, "\x02stray\x01\x01x\x02\x02"), "stray<mark>x</mark>");
	assert_string_equal(search_marked_html(a, NULL), "");
	arena_free(a);
}

/* Who searches the gated index, per kind of article (docs/search.md). */
static void
test_gated_allowed(void **state)
{
	const struct reading_rules rules = { 30 };
	struct viewer anon = { .meter_remaining = -1 };
	struct viewer member = { .signed_in = true, .member_id = 1, .meter_remaining = -1 };
	struct viewer sub = member;
	sub.status = SUB_ACTIVE;
	struct viewer lapsed = member;
	lapsed.status = SUB_CANCELED;
	lapsed.period_end = T0 - 1;
	struct viewer grace = member;
	grace.status = SUB_PAST_DUE;
	grace.grace_until = T0 + 10;
	struct viewer staff = member;
	staff.role = ROLE_EDITOR;
	struct viewer gift = anon;
	gift.gift = true;
	struct viewer metered = member;
	metered.meter_remaining = 3;
	struct {
		const struct viewer *v;
		enum access_level level;
		int64_t published_at;
		bool allowed;
	} cases[] = {
		{ &anon, ACCESS_PUBLIC, T0 - 86400, true },
		{ &anon, ACCESS_PUBLIC, T0 - 31 * 86400, false }, /* auto-paywalled */
		{ &sub, ACCESS_PUBLIC, T0 - 31 * 86400, true },
		{ &anon, ACCESS_MEMBERS, T0, false },
		{ &member, ACCESS_MEMBERS, T0, true },
		{ &lapsed, ACCESS_MEMBERS, T0, true },
		{ &member, ACCESS_PAID, T0, false },
		{ &lapsed, ACCESS_PAID, T0, false },
		{ &sub, ACCESS_PAID, T0, true },
		{ &grace, ACCESS_PAID, T0, true },
		{ &staff, ACCESS_PAID, T0, true },
		{ &gift, ACCESS_PAID, T0, false },
		{ &metered, ACCESS_PAID, T0, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct article art = { .id = 7, .access = cases[i].level, .published_at = cases[i].published_at };
		struct access_decision d;
		bool got = search_gated_allowed(&art, cases[i].v, &rules, T0, &d);
		if (got != cases[i].allowed)
			fail_msg("case %zu: allowed %d, want %d", i, got, cases[i].allowed);
		assert_int_equal(d.article_id, 7);
	}
	/* The reader's gift and meter are left as they were. */
	assert_true(gift.gift);
	assert_int_equal(metered.meter_remaining, 3);
}

static void
add(struct store *s, const char *slug, enum access_level level, int64_t at, const char *title, const char *teaser,
    const char *gated)
{
	struct article_input in = { .slug = slug,
		                    .title = title,
		                    .dek = "",
		                    .summary = "",
		                    .access = level,
		                    .published_at = at,
		                    .updated_at = at,
		                    .teaser_md = "",
		                    .teaser_html = teaser,
		                    .gated_md = "",
		                    .gated_html = gated };
	int64_t id;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
}

static void
test_search_query_rule(void **state)
{
	char dir[64];
	struct store *s = unit_store_open(dir);
	assert_non_null(s);
	struct arena *a = arena_new();
	add(s, "paid", ACCESS_PAID, T0 - 100, "Night at the lighthouse", "<p>Keepers climb.</p>",
	    "<p>They speak of zebrafrost.</p>");
	add(s, "body", ACCESS_PUBLIC, T0 - 50, "Council notes", "<p>A lighthouse permit passed.</p>", "");
	add(s, "open-gated", ACCESS_PUBLIC, T0 - 10, "Open story", "<p>Teaser.</p>", "<p>More zebrafrost here.</p>");
	const struct reading_rules rules = { 0 };
	struct viewer anon = { .meter_remaining = -1 };
	struct viewer sub = { .signed_in = true, .member_id = 1, .status = SUB_ACTIVE, .meter_remaining = -1 };
	struct viewer gift = anon;
	gift.gift = true;
	struct search_results r;

	/* Title hit before body hit. */
	assert_int_equal(search_query(s, a, "lighthouse", 10, &anon, &rules, T0, 1, 10, &r), MH_OK);
	assert_int_equal(r.total, 2);
	assert_string_equal(r.hits[0].slug, "paid");
	assert_string_equal(r.hits[0].title_html, "Night at the <mark>lighthouse</mark>");
	assert_string_equal(r.hits[1].slug, "body");
	assert_true(r.hits[0].rank < r.hits[1].rank);

	/* A gated word: the public article's gated part for everyone; the paid
	 * one's only for the subscriber, never by a gift link. */
	assert_int_equal(search_query(s, a, "zebrafrost", 10, &anon, &rules, T0, 1, 10, &r), MH_OK);
	assert_int_equal(r.total, 1);
	assert_string_equal(r.hits[0].slug, "open-gated");
	assert_true(r.hits[0].gated);
	assert_int_equal(search_query(s, a, "zebrafrost", 10, &gift, &rules, T0, 1, 10, &r), MH_OK);
	assert_int_equal(r.total, 1);
	assert_int_equal(search_query(s, a, "zebrafrost", 10, &sub, &rules, T0, 1, 10, &r), MH_OK);
	assert_int_equal(r.total, 2);
	/* Gated-only matches: newest first. */
	assert_string_equal(r.hits[0].slug, "open-gated");
	assert_string_equal(r.hits[1].slug, "paid");
	assert_non_null(strstr(r.hits[1].snippet_html, "<mark>zebrafrost</mark>"));
	/* Across the teaser and the gated part. */
	assert_int_equal(search_query(s, a, "keepers zebrafrost", 18, &sub, &rules, T0, 1, 10, &r), MH_OK);
	assert_int_equal(r.total, 1);
	assert_int_equal(search_query(s, a, "keepers zebrafrost", 18, &anon, &rules, T0, 1, 10, &r), MH_OK);
	assert_int_equal(r.total, 0);
	assert_int_equal(r.n, 0);

	/* Paging: the total stays, the page past the end is empty. */
	assert_int_equal(search_query(s, a, "zebrafrost", 10, &sub, &rules, T0, 2, 1, &r), MH_OK);
	assert_int_equal(r.total, 2);
	assert_int_equal(r.pages, 2);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.hits[0].slug, "paid");
	assert_int_equal(search_query(s, a, "zebrafrost", 10, &sub, &rules, T0, 3, 1, &r), MH_OK);
	assert_int_equal(r.n, 0);
	/* Nothing to search, and limits clamped. */
	assert_int_equal(search_query(s, a, "\"*", 2, &sub, &rules, T0, 0, 0, &r), MH_OK);
	assert_int_equal(r.terms.n, 0);
	assert_int_equal(r.total, 0);
	assert_int_equal(r.page, 1);
	assert_int_equal(r.limit, 1);
	assert_int_equal(search_query(s, a, "x", 1, &sub, &rules, T0, 99999, 999, &r), MH_OK);
	assert_int_equal(r.page, SEARCH_PAGE_MAX);
	assert_int_equal(r.limit, SEARCH_LIMIT_MAX);
	arena_free(a);
	assert_int_equal(unit_store_close(s, dir), 0);
}

/* A database from before migration 0009: its articles get indexed when it
 * is migrated. The old state is made by undoing 0009 with SQLite itself,
 * which no code outside src/store/ does otherwise. */
/* A scope that reads the gated index of every article, for store calls. */
static const struct search_scope *
every(int64_t now)
{
	static struct search_scope sc;
	sc = (struct search_scope){ .now = now,
		                    .limit = 100,
		                    .gated_public = true,
		                    .gated_members = true,
		                    .gated_paid = true,
		                    .paywalled_before = INT64_MIN };
	return &sc;
}

static void
test_migration_indexes_old_articles(void **state)
{
	char dir[64], path[128], url[160], err[256];
	struct store *s = unit_store_open(dir);
	assert_non_null(s);
	add(s, "old-paid", ACCESS_PAID, T0 - 100, "Ferry <b>timetable</b>", "<p>Open words.</p>",
	    "<p>Closed zebrafrost.</p>");
	add(s, "old-public", ACCESS_PUBLIC, T0 - 90, "Ferry fares", "<p>Cheap.</p>", "");
	store_close(s);
	snprintf(path, sizeof path, "%s/t.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(db,
	                     "DROP TRIGGER search_articles_del; DROP INDEX articles_search; DROP TABLE search_public; "
	                     "DROP TABLE search_gated; DROP TABLE search_pending; "
	                     "DELETE FROM schema_migrations WHERE version = 9",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	snprintf(url, sizeof url, "sqlite:%s", path);
	assert_int_equal(store_open(url, &s, err, sizeof err), MH_OK);
	int applied;
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	assert_int_equal(applied, 1);
	struct arena *a = arena_new();
	struct search_row *rows;
	size_t n;
	bool more;
	assert_int_equal(store_search(s, a, "\"ferry\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_search(s, a, "\"timetable\" \"zebrafrost\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_true(rows[0].in_gated);
	/* Indexed once: migrating again finds nothing queued. */
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(store_search(s, a, "\"ferry\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 2);
	arena_free(a);
	assert_int_equal(unit_store_close(s, dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terms_are_words_quoted),
		cmocka_unit_test(test_terms_are_bounded),
		cmocka_unit_test(test_terms_outside_ascii),
		cmocka_unit_test(test_htmltext),
		cmocka_unit_test(test_marked_html),
		cmocka_unit_test(test_gated_allowed),
		cmocka_unit_test(test_search_query_rule),
		cmocka_unit_test(test_migration_indexes_old_articles),
	};
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests_name("search", tests, NULL, NULL);
}
