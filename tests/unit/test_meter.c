/* test_meter.c: the meter's rules without a request: the signed cookie
 * round-trips and keeps its format, a tampered or foreign MAC is refused,
 * only this month's cookie counts, and a read counts once. */
#include "unit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "paywall/meter.h"

#define DEC_1 INT64_C(1796083200) /* 2026-12-01T00:00:00Z */
#define DAY   86400

static unsigned char key[SECRET_BYTES];

static int
setup(void **state)
{
	for (int i = 0; i < SECRET_BYTES; i++)
		key[i] = (unsigned char) i;
	return sodium_init() < 0 ? -1 : 0;
}

/* The MAC as a browser's cookie carries it, computed here on its own. */
static void
mac_under(const char *label, const char *payload, char out[33])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char msg[4096];
	snprintf(msg, sizeof msg, "%s%s", label, payload);
	crypto_auth_hmacsha256(mac, (const unsigned char *) msg, strlen(msg), key);
	sodium_bin2hex(out, 33, mac, 16);
}

/* payload "." MAC under label, into out. */
static const char *
signed_as(const char *label, const char *payload, char *out, size_t n)
{
	char mac[33];
	mac_under(label, payload, mac);
	snprintf(out, n, "%s.%s", payload, mac);
	return out;
}

static void
format(const struct meter_jar *jar, int64_t now, char *out, size_t n)
{
	struct buf b = BUF_INIT;
	assert_int_equal(meter_cookie_format(jar, key, now, &b), MH_OK);
	assert_true(b.len < n);
	memcpy(out, b.ptr, b.len + 1);
	buf_release(&b);
}

static void
test_month_and_limit(void **state)
{
	char m[8];
	meter_month(DEC_1, m);
	assert_string_equal(m, "2026-12");
	meter_month(DEC_1 - 1, m);
	assert_string_equal(m, "2026-11");
	meter_month(DEC_1 + 31 * DAY, m);
	assert_string_equal(m, "2027-01");
	assert_int_equal(meter_limit(0), 0);
	assert_int_equal(meter_limit(-3), 0);
	assert_int_equal(meter_limit(1), 1);
	assert_int_equal(meter_limit(METER_MAX), METER_MAX);
	assert_int_equal(meter_limit(100000), METER_MAX);
}

/* The format of cookies browsers hold today, signed by another implementation. */
static void
test_cookie_format_is_stable(void **state)
{
	struct meter_jar jar = { .ids = { 3, 17, 42 }, .n = 3 };
	char text[METER_COOKIE_MAX + 1];
	format(&jar, DEC_1 + 5 * DAY, text, sizeof text);
	assert_string_equal(text, "202612.3-17-42.0a9954c9e7dbbf72c4cea984c730957c");

	struct meter_jar got;
	meter_cookie_parse("202612.3-17-42.0a9954c9e7dbbf72c4cea984c730957c", key, DEC_1, &got);
	assert_int_equal(got.n, 3);
	assert_true(got.ids[0] == 3 && got.ids[1] == 17 && got.ids[2] == 42);
}

static void
test_round_trip(void **state)
{
	struct meter_jar jar = { .n = 0 }, got;
	char text[METER_COOKIE_MAX + 1];
	/* Empty: "YYYYMM..mac". */
	format(&jar, DEC_1, text, sizeof text);
	assert_int_equal(strncmp(text, "202612..", 8), 0);
	got.n = 7;
	meter_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);

	for (int64_t id = 1; id <= METER_MAX; id++)
		meter_jar_add(&jar, id * 1000003);
	meter_jar_add(&jar, 5); /* full: kept as it was */
	assert_int_equal(jar.n, METER_MAX);
	format(&jar, DEC_1, text, sizeof text);
	meter_cookie_parse(text, key, DEC_1 + 30 * DAY, &got);
	assert_int_equal(got.n, METER_MAX);
	assert_memory_equal(got.ids, jar.ids, sizeof jar.ids);
	assert_true(meter_jar_holds(&got, 1000003));
	assert_false(meter_jar_holds(&got, 5));
}

static void
test_tampered_or_foreign_mac_refused(void **state)
{
	char good[128], text[128];
	signed_as("meter:", "202612.3-17", good, sizeof good);
	struct meter_jar got;
	meter_cookie_parse(good, key, DEC_1, &got);
	assert_int_equal(got.n, 2);

	/* Another id under the old MAC. */
	memcpy(text, good, sizeof good);
	text[7] = '4';
	meter_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* One MAC digit off; the same MAC in capitals. */
	memcpy(text, good, sizeof good);
	text[strlen(text) - 1] ^= 1;
	meter_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	memcpy(text, good, sizeof good);
	for (char *p = strrchr(text, '.'); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char) (*p - 'a' + 'A');
	if (strcmp(text, good) != 0) {
		meter_cookie_parse(text, key, DEC_1, &got);
		assert_int_equal(got.n, 0);
	}
	/* Signed under the gift cookie's label, or with no label. */
	meter_cookie_parse(signed_as("gift:", "202612.3-17", text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	meter_cookie_parse(signed_as("", "202612.3-17", text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* Another server's key. */
	unsigned char other[SECRET_BYTES];
	memset(other, 0x5a, sizeof other);
	meter_cookie_parse(good, other, DEC_1, &got);
	assert_int_equal(got.n, 0);
}

static void
test_month_rollover(void **state)
{
	struct meter_jar jar = { .ids = { 9 }, .n = 1 }, got;
	char text[METER_COOKIE_MAX + 1];
	format(&jar, DEC_1 - 1, text, sizeof text); /* the last second of November */
	assert_int_equal(strncmp(text, "202611.9.", 9), 0);
	meter_cookie_parse(text, key, DEC_1 - 30 * DAY, &got);
	assert_int_equal(got.n, 1);
	meter_cookie_parse(text, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* Not the same month a year on, nor the year before. */
	meter_cookie_parse(text, key, DEC_1 - 1 + 365 * DAY, &got);
	assert_int_equal(got.n, 0);
	meter_cookie_parse(text, key, DEC_1 - 1 - 365 * DAY, &got);
	assert_int_equal(got.n, 0);
}

static void
test_malformed_ignored(void **state)
{
	struct meter_jar got;
	char text[4096];
	static const char *const junk[] = {
		"",
		".",
		"..",
		"202612",
		"202612.",
		"202612.3.",
		"202612.3.abc",
		"~~~",
		"202612.3.0a9954c9e7dbbf72c4cea984c730957",
	};
	meter_cookie_parse(NULL, key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		got.n = 99;
		meter_cookie_parse(junk[i], key, DEC_1, &got);
		assert_int_equal(got.n, 0);
	}
	/* Signed, but no ids part: only the key can make one; nothing is read. */
	meter_cookie_parse(signed_as("meter:", "202612", text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* Signed, but the month is not "YYYYMM.". */
	meter_cookie_parse(signed_as("meter:", "2026-12.3", text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, 0);
	/* Signed with odd ids: whatever is not a number is skipped. */
	meter_cookie_parse(signed_as("meter:", "202612.3--x-+4-5-99999999999999999999-7", text, sizeof text), key,
	                   DEC_1, &got);
	assert_int_equal(got.n, 3);
	assert_true(got.ids[0] == 3 && got.ids[1] == 5 && got.ids[2] == 7);
	/* Signed and well formed, but longer than a cookie may be. */
	char payload[3000] = "202612.";
	for (size_t n = strlen(payload); n + 2 < 2100; n += 2)
		memcpy(payload + n, "1-", 3);
	meter_cookie_parse(signed_as("meter:", payload, text, sizeof text), key, DEC_1, &got);
	assert_true(strlen(text) > METER_COOKIE_MAX);
	assert_int_equal(got.n, 0);
	/* More ids than the meter holds: the first METER_MAX. */
	payload[METER_COOKIE_MAX - 40] = '\0';
	meter_cookie_parse(signed_as("meter:", payload, text, sizeof text), key, DEC_1, &got);
	assert_int_equal(got.n, METER_MAX);
}

/* Three paid articles with two free a month, read from one browser. */
static void
test_reads_count_once(void **state)
{
	struct article art[3] = { { .id = 11, .access = ACCESS_PAID },
		                  { .id = 12, .access = ACCESS_PAID },
		                  { .id = 13, .access = ACCESS_PAID } };
	int limit = meter_limit(2);
	char cookie[METER_COOKIE_MAX + 1] = "";
	static const int order[] = { 0, 0, 1, 0, 2, 1 };
	static const bool full[] = { true, true, true, true, false, true };
	static const bool counts[] = { true, false, true, false, false, false };
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const struct article *a = &art[order[i]];
		struct meter_jar jar;
		meter_cookie_parse(cookie[0] ? cookie : NULL, key, DEC_1 + (int64_t) i * DAY, &jar);
		struct viewer v = { .meter_remaining = -1 };
		meter_view(&v, limit, (int) jar.n, meter_jar_holds(&jar, a->id));
		struct access_decision d = access_decide(a, &v, DEC_1);
		assert_int_equal(d.full, full[i]);
		assert_int_equal(meter_counts(&v, &d), counts[i]);
		if (meter_counts(&v, &d)) {
			meter_jar_add(&jar, a->id);
			format(&jar, DEC_1 + (int64_t) i * DAY, cookie, sizeof cookie);
		}
	}
	/* A new month starts afresh. */
	struct meter_jar jar;
	meter_cookie_parse(cookie, key, DEC_1 + 31 * DAY, &jar);
	struct viewer v = { .meter_remaining = -1 };
	meter_view(&v, limit, (int) jar.n, meter_jar_holds(&jar, 13));
	assert_int_equal(v.meter_remaining, 2);
	assert_true(access_decide(&art[2], &v, DEC_1).full);
}

static void
test_view_and_left(void **state)
{
	struct viewer v = { .meter_remaining = -1 };
	meter_view(&v, 3, 1, false);
	assert_int_equal(v.meter_remaining, 2);
	assert_false(v.meter_counted);
	meter_view(&v, 3, 5, true); /* a lowered limit: none left, the counted one still opens */
	assert_int_equal(v.meter_remaining, 0);
	assert_true(v.meter_counted);
	assert_int_equal(meter_left(3, 3), 0);
	assert_int_equal(meter_left(3, 4), 0);
	assert_int_equal(meter_left(3, 0), 3);

	/* Only a metered decision on an article not yet counted counts. */
	struct viewer fresh = { .meter_remaining = 1 }, again = { .meter_remaining = 0, .meter_counted = true };
	for (int r = 0; r < REASON_COUNT; r++) {
		struct access_decision d = { 1, r == REASON_METERED, (enum access_reason) r };
		assert_int_equal(meter_counts(&fresh, &d), r == REASON_METERED);
		assert_false(meter_counts(&again, &d));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_month_and_limit),  cmocka_unit_test(test_cookie_format_is_stable),
		cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_tampered_or_foreign_mac_refused),
		cmocka_unit_test(test_month_rollover),   cmocka_unit_test(test_malformed_ignored),
		cmocka_unit_test(test_reads_count_once), cmocka_unit_test(test_view_and_left),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
