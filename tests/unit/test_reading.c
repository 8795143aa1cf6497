/* test_reading.c: the one reading path: the gated part comes only with a
 * FULL decision, schedules and the auto-paywall hold, quotes follow their
 * article, and one rule says who may give a gift. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "paywall/reading.h"
#include "store/store.h"

#define T0  INT64_C(1796000000)
#define DAY 86400

static char dir[64];

static int
setup(void **state)
{
	struct store *s = unit_store_open(dir);
	if (!s)
		return -1;
	static struct quote_input quotes[] = {
		{ "ada-lind", "Ada Lind", "Harbormaster", "<blockquote>OPEN-QUOTE</blockquote>", false },
		{ "ada-lind", "Ada Lind", "Harbormaster", "<blockquote>GATED-QUOTE</blockquote>", true },
	};
	struct article_input in = { .slug = "paid",
		                    .title = "Paid",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0 - DAY,
		                    .updated_at = T0 - DAY,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>TEASER</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>GATED-BODY</p>",
		                    .quotes = quotes,
		                    .n_quotes = 2 };
	int64_t id;
	bool created;
	if (store_article_upsert(s, &in, &id, &created))
		return -1;
	in.slug = "later";
	in.published_at = T0 + DAY;
	in.quotes = NULL;
	in.n_quotes = 0;
	if (store_article_upsert(s, &in, &id, &created))
		return -1;
	in.slug = "old-public";
	in.access = ACCESS_PUBLIC;
	in.published_at = T0 - 40 * DAY;
	if (store_article_upsert(s, &in, &id, &created))
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	return unit_store_close(*state, dir);
}

static const struct viewer anonymous = { .meter_remaining = -1 };
static const struct viewer subscriber = {
	.signed_in = true, .member_id = 7, .status = SUB_ACTIVE, .period_end = T0 + 20 * DAY, .meter_remaining = -1
};

static void
test_gated_only_when_full(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct reading rg;
	assert_int_equal(reading_open(s, a, "paid", &anonymous, NULL, T0, &rg), MH_OK);
	assert_false(rg.decision.full);
	assert_int_equal(rg.decision.reason, REASON_ANONYMOUS);
	assert_null(rg.gated_html);
	assert_string_equal(rg.article->teaser_html, "<p>TEASER</p>");
	assert_int_equal(reading_open(s, a, "paid", &subscriber, NULL, T0, &rg), MH_OK);
	assert_true(rg.decision.full);
	assert_string_equal(rg.gated_html, "<p>GATED-BODY</p>");
	/* Unknown, and not yet published. */
	assert_int_equal(reading_open(s, a, "nope", &subscriber, NULL, T0, &rg), MH_ERR_NOTFOUND);
	assert_int_equal(reading_open(s, a, "later", &subscriber, NULL, T0, &rg), MH_ERR_NOTFOUND);
	assert_int_equal(reading_open(s, a, "later", &subscriber, NULL, T0 + DAY, &rg), MH_OK);
	/* A decision for another article opens nothing. */
	const char *g = "x";
	struct access_decision forged = { rg.article->id + 999, true, REASON_SUBSCRIBER };
	assert_int_equal(reading_gated(s, a, rg.article, &forged, &g), MH_ERR_DENIED);
	arena_free(a);
}

static void
test_auto_paywall_rules(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct reading rg;
	struct reading_rules off = { 0 }, thirty = { 30 };
	assert_int_equal(reading_open(s, a, "old-public", &anonymous, &off, T0, &rg), MH_OK);
	assert_true(rg.decision.full);
	assert_int_equal(reading_open(s, a, "old-public", &anonymous, &thirty, T0, &rg), MH_OK);
	assert_false(rg.decision.full);
	assert_int_equal(rg.article->access, ACCESS_PAID);
	assert_null(rg.gated_html);
	arena_free(a);
}

static void
test_quotes_follow_their_article(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct speaker sp;
	struct quote *q;
	size_t n;
	assert_int_equal(store_speaker_by_slug(s, a, "ada-lind", &sp), MH_OK);
	assert_int_equal(store_speaker_quotes(s, a, sp.id, &q, &n), MH_OK);
	assert_int_equal(n, 2);
	int open = 0, gated = 0;
	for (size_t i = 0; i < n; i++) {
		const char *text;
		struct access_decision d;
		assert_int_equal(reading_quote(s, a, &q[i], &anonymous, NULL, T0, &text, &d), MH_OK);
		if (q[i].gated) {
			gated++;
			assert_null(text);
			assert_false(d.full);
			assert_int_equal(reading_quote(s, a, &q[i], &subscriber, NULL, T0, &text, &d), MH_OK);
			assert_string_equal(text, "<blockquote>GATED-QUOTE</blockquote>");
		} else {
			open++;
			assert_string_equal(text, "<blockquote>OPEN-QUOTE</blockquote>");
		}
	}
	assert_int_equal(open, 1);
	assert_int_equal(gated, 1);
	arena_free(a);
}

static void
test_who_may_give(void **state)
{
	struct article paid = { .id = 5, .access = ACCESS_PAID };
	struct article members = { .id = 6, .access = ACCESS_MEMBERS };
	for (int r = 0; r < REASON_COUNT; r++) {
		struct access_decision full = { 5, true, (enum access_reason) r };
		bool want = r == REASON_SUBSCRIBER || r == REASON_GRACE || r == REASON_STAFF || r == REASON_COMPED;
		assert_int_equal(reading_may_gift(&paid, &full), want);
		struct access_decision teaser = { 5, false, (enum access_reason) r };
		assert_false(reading_may_gift(&paid, &teaser));
		struct access_decision on_members = { 6, true, (enum access_reason) r };
		assert_false(reading_may_gift(&members, &on_members));
	}
	/* A decision for another article gives nothing. */
	struct access_decision other = { 9, true, REASON_SUBSCRIBER };
	assert_false(reading_may_gift(&paid, &other));
}

int
main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gated_only_when_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_paywall_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quotes_follow_their_article, setup, teardown),
		cmocka_unit_test(test_who_may_give),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
