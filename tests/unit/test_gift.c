/* test_gift.c: gift links on the reader's side without a request: the
 * signed cookie round-trips and keeps its format, a tampered or foreign MAC
 * is refused, it keeps the newest GIFT_MAX and drops the expired, and which
 * link opens the article, and whether that spends a use. */
#include "unit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "paywall/gift.h"

#define DEC_1 INT64_C(1796083200) /* 2026-12-01T00:00:00Z */
#define DAY   86400
#define TOK   "AAAAAAAAAAAAAAAAAAAAbbbbbbbbbbbbbbbbbbbb-_9"

static unsigned char key[SECRET_BYTES];

static int
setup(void **state)
{
	for (int i = 0; i < SECRET_BYTES; i++)
		key[i] = (unsigned char) i;
	return sodium_init() < 0 ? -1 : 0;
}

/* A well-formed token of its own for n. */
static const char *
token_of(int n, char out[TOKEN_CHARS + 1])
{
	snprintf(out, TOKEN_CHARS + 1, "tok%040d", n);
	return out;
}

/* payload "~" MAC under label, computed here on its own. */
static const char *
signed_as(const char *label, const char *payload, char *out, size_t n)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char msg[4096], hex[33];
	snprintf(msg, sizeof msg, "%s%s", label, payload);
	crypto_auth_hmacsha256(mac, (const unsigned char *) msg, strlen(msg), key);
	sodium_bin2hex(hex, sizeof hex, mac, 16);
	snprintf(out, n, "%s~%s", payload, hex);
	return out;
}

/* Field by field: the structs have padding. */
static void
assert_same(const struct gift_jar *got, const struct gift_jar *want)
{
	assert_int_equal(got->n, want->n);
	for (size_t i = 0; i < want->n; i++) {
		assert_int_equal(got->held[i].article_id, want->held[i].article_id);
		assert_int_equal(got->held[i].expires_at, want->held[i].expires_at);
		assert_string_equal(got->held[i].token, want->held[i].token);
	}
}

static long
format(const struct gift_jar *jar, int64_t now, char *out, size_t n)
{
	struct buf b = BUF_INIT;
	long max_age = -1;
	assert_true(gift_cookie_format(jar, key, now, &b, &max_age));
	assert_true(b.len < n);
	memcpy(out, b.ptr, b.len + 1);
	buf_release(&b);
	return max_age;
}

/* The format of cookies browsers hold today, signed by another implementation. */
static void
test_cookie_format_is_stable(void **state)
{
	static const char want[] = "5.1796169600." TOK "~814e0176074bf7a5f0d72d1e355091d7";
	struct gift_jar jar = { .n = 0 }, got;
	gift_keep(&jar, 5, DEC_1 + DAY, TOK);
	char text[GIFT_COOKIE_MAX + 1];
	assert_int_equal(format(&jar, DEC_1, text, sizeof text), DAY);
	assert_string_equal(text, want);
	gift_cookie_parse(want, key, DEC_1, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.held[0].article_id, 5);
	assert_int_equal(got.held[0].expires_at, DEC_1 + DAY);
	assert_string_equal(got.held[0].token, TOK);
}

static void
test_round_trip(void **state)
{
	struct gift_jar jar = { .n = 0 }, got;
	char t[TOKEN_CHARS + 1], text[GIFT_COOKIE_MAX + 1];
	gift_keep(&jar, 1, DEC_1 + 3 * DAY, token_of(1, t));
	gift_keep(&jar, 2, DEC_1 + 7 * DAY, token_of(2, t));
	gift_keep(&jar, 1, DEC_1 + 5 * DAY, token_of(3, t));
	/* The cookie lasts as long as its last gift. */
	assert_int_equal(format(&jar, DEC_1, text, sizeof text), 7 * DAY);
	gift_cookie_parse(text, key, DEC_1 + DAY, &got);
	assert_same(&got, &jar);
}

static void
test_tampered_or_foreign_mac_refused(void **state)
{
	char good[256], text[256];
	signed_as("gift:", "5.1796169600." TOK, good, sizeof good);
	struct gift_jar got;
	gift_cookie_parse(good, key, DEC_1, &got);
	assert_int_equal(got.n, 1);

	/* Another article, or a later expiry, under the old MAC. */
	memcpy(text, good, sizeof good);
	text[0] = '6';
	gift_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	memcpy(text, good, sizeof good);
	text[2] = '9';
	gift_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* One MAC digit off. */
	memcpy(text, good, sizeof good);
	text[strlen(text) - 1] ^= 1;
	gift_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* Signed under the meter cookie's label, or none. */
	gift_cookie_parse(signed_as("meter:", "5.1796169600." TOK, text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	gift_cookie_parse(signed_as("", "5.1796169600." TOK, text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	unsigned char other[SECRET_BYTES];
	memset(other, 0x5a, sizeof other);
	gift_cookie_parse(good, other, DEC_1, &got);
	assert_int_equal(got.n, 0);
}

static void
test_keeps_the_newest_sixteen(void **state)
{
	struct gift_jar jar = { .n = 0 }, got;
	char t[TOKEN_CHARS + 1], text[GIFT_COOKIE_MAX + 1];
	for (int i = 1; i <= GIFT_MAX + 4; i++)
		gift_keep(&jar, 100 + i, DEC_1 + 30 * DAY, token_of(i, t));
	assert_int_equal(jar.n, GIFT_MAX);
	for (int i = 0; i < GIFT_MAX; i++)
		assert_string_equal(jar.held[i].token, token_of(i + 5, t));
	format(&jar, DEC_1, text, sizeof text);
	gift_cookie_parse(text, key, DEC_1, &got);
	assert_same(&got, &jar);

	/* Opening a held one again moves it to the newest, once; nothing is dropped. */
	gift_keep(&jar, 105, DEC_1 + 40 * DAY, token_of(5, t));
	assert_int_equal(jar.n, GIFT_MAX);
	assert_string_equal(jar.held[0].token, token_of(6, t));
	assert_string_equal(jar.held[GIFT_MAX - 1].token, token_of(5, t));
	assert_int_equal(jar.held[GIFT_MAX - 1].expires_at, DEC_1 + 40 * DAY);

	/* A cookie signed with more entries than a jar holds: the first GIFT_MAX. */
	char payload[GIFT_COOKIE_MAX] = "", one[128];
	for (int i = 1; i <= GIFT_MAX + 2; i++) {
		snprintf(one, sizeof one, "%s%d.1796169600.%s", i > 1 ? "~" : "", i, token_of(i, t));
		memcpy(payload + strlen(payload), one, strlen(one) + 1);
	}
	gift_cookie_parse(signed_as("gift:", payload, text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, GIFT_MAX);
	assert_int_equal(got.held[GIFT_MAX - 1].article_id, GIFT_MAX);
}

static void
test_expired_dropped(void **state)
{
	struct gift_jar jar = { .n = 0 }, got;
	char t[TOKEN_CHARS + 1], text[GIFT_COOKIE_MAX + 1];
	gift_keep(&jar, 1, DEC_1 + DAY, token_of(1, t));
	gift_keep(&jar, 2, DEC_1 + 3 * DAY, token_of(2, t));
	gift_keep(&jar, 3, DEC_1 + 2 * DAY, token_of(3, t));
	format(&jar, DEC_1, text, sizeof text);
	gift_cookie_parse(text, key, DEC_1 + DAY - 1, &got);
	assert_int_equal(got.n, 3);
	/* Expiring at now is expired. */
	gift_cookie_parse(text, key, DEC_1 + DAY, &got);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.held[0].article_id, 2);
	assert_int_equal(got.held[1].article_id, 3);
	/* The cookie then lasts as long as the last one left. */
	assert_int_equal(format(&got, DEC_1 + DAY, text, sizeof text), 2 * DAY);
	gift_cookie_parse(text, key, DEC_1 + 3 * DAY, &got);
	assert_int_equal(got.n, 0);

	/* Nothing that outlasts now: no cookie to write, out untouched. */
	struct buf b = BUF_INIT;
	long max_age = -1;
	buf_puts(&b, "x");
	assert_false(gift_cookie_format(&jar, key, DEC_1 + 3 * DAY, &b, &max_age));
	assert_string_equal(b.ptr, "x");
	assert_int_equal(max_age, -1);
	jar.n = 0;
	assert_false(gift_cookie_format(&jar, key, DEC_1, &b, &max_age));
	buf_release(&b);
}

static void
test_malformed_ignored(void **state)
{
	struct gift_jar got;
	char text[4096];
	static const char *const unsigned_junk[] = {
		"",
		"~",
		"~~",
		"5.1796169600." TOK,
		"5.1796169600." TOK "~",
		"5.1796169600." TOK "~814e0176074bf7a5f0d72d1e355091d",
	};
	gift_cookie_parse(NULL, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	for (size_t i = 0; i < sizeof unsigned_junk / sizeof unsigned_junk[0]; i++) {
		got.n = 99;
		gift_cookie_parse(unsigned_junk[i], key, DEC_1, &got);
		assert_int_equal(got.n, 0);
	}
	/* Signed, but each entry but the good one is malformed: skipped. */
	static const char *const bad_entries[] = {
		"",
		"5",
		"5.1796169600",
		"x.1796169600." TOK,
		"5.soon." TOK,
		"-5.1796169600." TOK,
		"5.1796169600." TOK "A",
		"5.1796169600.AAAAAAAAAAAAAAAAAAAAbbbbbbbbbbbbbbbbbbbb-_",
		"5.1796169600.AAAAAAAAAAAAAAAAAAAAbbbbbbbbbbbbbbbbbbbb-.9",
		"5.1796169600.AAAAAAAAAAAAAAAAAAAAbbbbbbbbbbbbbbbbbbbb-+9",
		"5.1796169600.5." TOK,
	};
	for (size_t i = 0; i < sizeof bad_entries / sizeof bad_entries[0]; i++) {
		char payload[512];
		snprintf(payload, sizeof payload, "%s~7.1796169600." TOK, bad_entries[i]);
		gift_cookie_parse(signed_as("gift:", payload, text, sizeof text), key, DEC_1, &got);
		assert_int_equal(got.n, 1);
		assert_int_equal(got.held[0].article_id, 7);
	}
	/* Signed and well formed, but longer than a cookie may be. */
	char payload[3000] = "", one[128], t[TOKEN_CHARS + 1];
	for (int i = 1; strlen(payload) < GIFT_COOKIE_MAX; i++) {
		snprintf(one, sizeof one, "%s%d.1796169600.%s", i > 1 ? "~" : "", i, token_of(i, t));
		memcpy(payload + strlen(payload), one, strlen(one) + 1);
	}
	gift_cookie_parse(signed_as("gift:", payload, text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
}

/* Whether the stored link opens the article, and whether that spends a use. */
static void
test_judge(void **state)
{
	struct gift_link g = { .id = 1, .article_id = 5, .expires_at = DEC_1 + DAY };
	bool spend = true;
	assert_int_equal(gift_judge(NULL, 5, false, DEC_1, &spend), GIFT_UNKNOWN);
	assert_false(spend);
	assert_int_equal(gift_judge(&g, 6, false, DEC_1, &spend), GIFT_UNKNOWN);
	assert_int_equal(gift_judge(&g, 5, false, DEC_1, &spend), GIFT_OK);
	assert_true(spend);
	/* Reopening a held gift spends nothing. */
	assert_int_equal(gift_judge(&g, 5, true, DEC_1, &spend), GIFT_OK);
	assert_false(spend);
	assert_int_equal(gift_judge(&g, 5, true, DEC_1 + DAY, &spend), GIFT_EXPIRED);
	assert_false(spend);
	g.revoked_at = DEC_1 - 1;
	assert_int_equal(gift_judge(&g, 5, false, DEC_1, &spend), GIFT_REVOKED);
	assert_int_equal(gift_judge(&g, 5, true, DEC_1 + 2 * DAY, &spend), GIFT_REVOKED);
	assert_false(spend);
}

static void
test_plan(void **state)
{
	struct gift_jar jar = { .n = 0 };
	char t[TOKEN_CHARS + 1];
	gift_keep(&jar, 5, DEC_1 + DAY, token_of(1, t));
	gift_keep(&jar, 6, DEC_1 + DAY, token_of(2, t));
	gift_keep(&jar, 5, DEC_1 + DAY, token_of(3, t));
	struct gift_plan p;

	/* Nothing given, nothing held for it: nothing to try. */
	gift_plan_for(&p, &jar, 7, NULL);
	assert_int_equal(p.n, 0);
	assert_false(p.given);
	/* Held ones for the article, newest first. */
	gift_plan_for(&p, &jar, 5, NULL);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.tries[0].token, token_of(3, t));
	assert_string_equal(p.tries[1].token, token_of(1, t));
	assert_true(p.tries[0].held && !p.tries[0].given && !p.tries[0].malformed);
	/* A held one given again: first, held, and not tried twice. */
	gift_plan_for(&p, &jar, 5, token_of(1, t));
	assert_int_equal(p.n, 2);
	assert_true(p.given && p.tries[0].given && p.tries[0].held);
	assert_string_equal(p.tries[0].token, token_of(1, t));
	assert_string_equal(p.tries[1].token, token_of(3, t));
	/* Held for another article: not held for this one. */
	gift_plan_for(&p, &jar, 5, token_of(2, t));
	assert_int_equal(p.n, 3);
	assert_false(p.tries[0].held);
	/* A new one, and a malformed one. */
	gift_plan_for(&p, &jar, 6, token_of(9, t));
	assert_int_equal(p.n, 2);
	assert_false(p.tries[0].held);
	assert_true(p.tries[1].held);
	gift_plan_for(&p, &jar, 6, "garbage");
	assert_int_equal(p.n, 2);
	assert_true(p.tries[0].malformed && p.tries[0].given && !p.tries[0].held);
	assert_string_equal(p.tries[0].token, "");
	gift_plan_for(&p, &jar, 6, "");
	assert_true(p.n == 2 && p.tries[0].malformed);

	/* A full jar for one article, and a given link: GIFT_MAX + 1 tries. */
	jar.n = 0;
	for (int i = 1; i <= GIFT_MAX; i++)
		gift_keep(&jar, 5, DEC_1 + DAY, token_of(i, t));
	gift_plan_for(&p, &jar, 5, token_of(99, t));
	assert_int_equal(p.n, GIFT_MAX + 1);
}

/* Runs the plan as the caller does, with the outcome of each try given. */
static enum gift_outcome
settle_all(const struct gift_plan *p, const enum gift_outcome *outcomes, size_t *tried)
{
	enum gift_outcome got = GIFT_NONE;
	size_t i = 0;
	for (; i < p->n && got != GIFT_OK; i++)
		got = gift_settle(p, &p->tries[i], got, outcomes[i]);
	*tried = i;
	return got;
}

static void
test_settle(void **state)
{
	struct gift_plan given = { .n = 3,
		                   .given = true,
		                   .tries = { { .given = true }, { .held = true }, { .held = true } } };
	struct gift_plan held = { .n = 2, .tries = { { .held = true }, { .held = true } } };
	size_t n;
	/* The given link opens it: nothing else is tried. */
	assert_int_equal(settle_all(&given, (enum gift_outcome[]){ GIFT_OK, GIFT_OK, GIFT_OK }, &n), GIFT_OK);
	assert_int_equal(n, 1);
	/* A refused given link with a held one that works. */
	assert_int_equal(settle_all(&given, (enum gift_outcome[]){ GIFT_EXPIRED, GIFT_REVOKED, GIFT_OK }, &n), GIFT_OK);
	assert_int_equal(n, 3);
	/* None works: the given link says why. */
	assert_int_equal(settle_all(&given, (enum gift_outcome[]){ GIFT_USED_UP, GIFT_REVOKED, GIFT_EXPIRED }, &n),
	                 GIFT_USED_UP);
	/* Only held ones: the first that works, else the last refusal. */
	assert_int_equal(settle_all(&held, (enum gift_outcome[]){ GIFT_OK, GIFT_REVOKED }, &n), GIFT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(settle_all(&held, (enum gift_outcome[]){ GIFT_REVOKED, GIFT_EXPIRED }, &n), GIFT_EXPIRED);
	struct gift_plan none = { .n = 0 };
	assert_int_equal(settle_all(&none, NULL, &n), GIFT_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_format_is_stable),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampered_or_foreign_mac_refused),
		cmocka_unit_test(test_keeps_the_newest_sixteen),
		cmocka_unit_test(test_expired_dropped),
		cmocka_unit_test(test_malformed_ignored),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_settle),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
