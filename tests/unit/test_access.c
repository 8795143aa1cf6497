/* The access decision, row by row of the table in docs/paywall.md, and its edges. */
#include "unit.h"

#include <string.h>

#include "paywall/access.h"
#include "store/store.h"

#define NOW 1800000000
#define DAY 86400

struct row {
	const char *name;
	enum access_level level;
	struct viewer v;
	bool full;
	enum access_reason reason;
};

static const struct viewer anon = { 0 };
#define MEMBER(...)                                                                                                    \
	{                                                                                                              \
		.signed_in = true, .member_id = 7, __VA_ARGS__                                                         \
	}

static const struct row rows[] = {
	{ "anonymous, public", ACCESS_PUBLIC, { 0 }, true, REASON_PUBLIC },
	{ "anonymous, members", ACCESS_MEMBERS, { 0 }, false, REASON_ANONYMOUS },
	{ "anonymous, paid", ACCESS_PAID, { 0 }, false, REASON_ANONYMOUS },
	{ "member, members", ACCESS_MEMBERS, MEMBER(), true, REASON_MEMBER },
	{ "member without plan, paid", ACCESS_PAID, MEMBER(), false, REASON_NO_PLAN },
	{ "active, paid", ACCESS_PAID, MEMBER(.status = SUB_ACTIVE, .period_end = NOW + DAY), true, REASON_SUBSCRIBER },
	{ "trialing, paid", ACCESS_PAID, MEMBER(.status = SUB_TRIALING), true, REASON_SUBSCRIBER },
	/* A renewal that never happened: active, period over longer than the grace period (7 days by default). */
	{ "active, period ended inside the grace period", ACCESS_PAID,
	  MEMBER(.status = SUB_ACTIVE, .period_end = NOW - 7 * DAY + 1), true, REASON_SUBSCRIBER },
	{ "active, period ended a grace period ago", ACCESS_PAID,
	  MEMBER(.status = SUB_ACTIVE, .period_end = NOW - 7 * DAY), false, REASON_PAYMENT_FAILED },
	{ "active, period ended past a 2-day grace", ACCESS_PAID,
	  MEMBER(.status = SUB_ACTIVE, .period_end = NOW - 2 * DAY, .renewal_grace = 2 * DAY), false,
	  REASON_PAYMENT_FAILED },
	{ "trialing, trial ended a grace period ago", ACCESS_PAID,
	  MEMBER(.status = SUB_TRIALING, .period_end = NOW - 8 * DAY), false, REASON_PAYMENT_FAILED },
	{ "active, canceling, period ended a grace period ago", ACCESS_PAID,
	  MEMBER(.status = SUB_ACTIVE, .period_end = NOW - 8 * DAY, .cancel_at_period_end = true), false,
	  REASON_LAPSED },
	{ "past_due in grace", ACCESS_PAID, MEMBER(.status = SUB_PAST_DUE, .grace_until = NOW + 1), true,
	  REASON_GRACE },
	{ "past_due, grace ends now", ACCESS_PAID, MEMBER(.status = SUB_PAST_DUE, .grace_until = NOW), false,
	  REASON_PAYMENT_FAILED },
	{ "past_due after grace", ACCESS_PAID, MEMBER(.status = SUB_PAST_DUE, .grace_until = NOW - DAY), false,
	  REASON_PAYMENT_FAILED },
	{ "unpaid", ACCESS_PAID, MEMBER(.status = SUB_UNPAID), false, REASON_PAYMENT_FAILED },
	{ "incomplete", ACCESS_PAID, MEMBER(.status = SUB_INCOMPLETE), false, REASON_PAYMENT_FAILED },
	{ "incomplete_expired", ACCESS_PAID, MEMBER(.status = SUB_INCOMPLETE_EXPIRED), false, REASON_PAYMENT_FAILED },
	{ "canceled inside the paid period", ACCESS_PAID, MEMBER(.status = SUB_CANCELED, .period_end = NOW + 1), true,
	  REASON_SUBSCRIBER },
	{ "canceled, period ends now", ACCESS_PAID, MEMBER(.status = SUB_CANCELED, .period_end = NOW), false,
	  REASON_LAPSED },
	{ "paused", ACCESS_PAID, MEMBER(.status = SUB_PAUSED, .period_end = NOW + DAY), false, REASON_LAPSED },
	{ "editor", ACCESS_PAID, MEMBER(.role = ROLE_EDITOR), true, REASON_STAFF },
	{ "admin with unpaid plan", ACCESS_PAID, MEMBER(.role = ROLE_ADMIN, .status = SUB_UNPAID), true, REASON_STAFF },
	{ "comped until later", ACCESS_PAID, MEMBER(.comped_until = NOW + 1), true, REASON_COMPED },
	{ "comp expired", ACCESS_PAID, MEMBER(.comped_until = NOW), false, REASON_NO_PLAN },
	{ "gift link, anonymous", ACCESS_PAID, { .gift = true }, true, REASON_GIFT },
	{ "unpaid member, members article", ACCESS_MEMBERS, MEMBER(.status = SUB_UNPAID), true, REASON_MEMBER },
	{ "meter left, anonymous", ACCESS_PAID, { .meter_remaining = 2 }, true, REASON_METERED },
	{ "meter used up, anonymous", ACCESS_PAID, { .meter_remaining = 0 }, false, REASON_ANONYMOUS },
	{ "meter used up, article already read",
	  ACCESS_PAID,
	  { .meter_remaining = 0, .meter_counted = true },
	  true,
	  REASON_METERED },
	{ "meter off", ACCESS_PAID, { .meter_remaining = -1, .meter_counted = true }, false, REASON_ANONYMOUS },
	{ "meter left, member without plan", ACCESS_PAID, MEMBER(.meter_remaining = 1), true, REASON_METERED },
	{ "meter left, unpaid member", ACCESS_PAID, MEMBER(.status = SUB_UNPAID, .meter_remaining = 3), false,
	  REASON_PAYMENT_FAILED },
	{ "meter left, members article, anonymous", ACCESS_MEMBERS, { .meter_remaining = 3 }, false, REASON_ANONYMOUS },
};

static void
test_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		struct article a = { .id = 42, .access = rows[i].level };
		struct access_decision d = access_decide(&a, &rows[i].v, NOW);
		if (d.full != rows[i].full || d.reason != rows[i].reason)
			fail_msg("%s: got %s/%s, want %s/%s", rows[i].name, d.full ? "FULL" : "TEASER",
			         access_reason_name(d.reason), rows[i].full ? "FULL" : "TEASER",
			         access_reason_name(rows[i].reason));
		assert_int_equal(d.article_id, 42);
	}
}

static void
test_gated_read_needs_full_decision(void **state)
{
	(void) state;
	struct article a = { .id = 5, .access = ACCESS_PAID, .has_gated = true };
	struct access_decision teaser = access_decide(&a, &anon, NOW);
	const char *html = "untouched";
	/* No store is needed: the check comes before any read. */
	assert_int_equal(store_article_gated(NULL, NULL, &a, &teaser, &html), MH_ERR_DENIED);
	assert_string_equal(html, "");
	struct access_decision other = { .article_id = 6, .full = true };
	assert_int_equal(store_article_gated(NULL, NULL, &a, &other, &html), MH_ERR_DENIED);
	assert_int_equal(store_article_gated(NULL, NULL, &a, NULL, &html), MH_ERR_DENIED);
}

static void
test_auto_paywall(void **state)
{
	(void) state;
	struct article a = { .id = 1, .access = ACCESS_PUBLIC, .published_at = NOW - 3 * DAY };
	access_apply_auto_paywall(&a, 0, NOW);
	assert_int_equal(a.access, ACCESS_PUBLIC);
	access_apply_auto_paywall(&a, 4, NOW);
	assert_int_equal(a.access, ACCESS_PUBLIC);
	access_apply_auto_paywall(&a, 3, NOW - 1);
	assert_int_equal(a.access, ACCESS_PUBLIC);
	access_apply_auto_paywall(&a, 3, NOW);
	assert_int_equal(a.access, ACCESS_PAID);
	struct article m = { .id = 2, .access = ACCESS_MEMBERS, .published_at = 0 };
	access_apply_auto_paywall(&m, 1, NOW);
	assert_int_equal(m.access, ACCESS_MEMBERS);
}

/* Every reason has its own name, and the name leads back to it. */
static void
test_reason_names_round_trip(void **state)
{
	for (int r = 0; r < REASON_COUNT; r++) {
		const char *name = access_reason_name((enum access_reason) r);
		assert_string_not_equal(name, "unknown");
		assert_int_equal(access_reason_parse(name), r);
	}
	assert_string_equal(access_reason_name(REASON_METERED), "metered");
	assert_string_equal(access_reason_name(REASON_COUNT), "unknown");
	assert_int_equal(access_reason_parse("unknown"), -1);
	assert_int_equal(access_reason_parse(""), -1);
}

static void
test_status_names_round_trip(void **state)
{
	(void) state;
	for (int s = SUB_NONE; s <= SUB_PAUSED; s++)
		assert_int_equal(sub_status_parse(sub_status_name((enum sub_status) s)), s);
	assert_int_equal(sub_status_parse("bogus"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_gated_read_needs_full_decision),
		cmocka_unit_test(test_status_names_round_trip),
		cmocka_unit_test(test_reason_names_round_trip),
		cmocka_unit_test(test_auto_paywall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
