/* fuzz_meter.c: the meter cookie parser on outside text.
 *
 * The input is parsed as the cookie it is, and then as the payload of a
 * cookie signed here under the meter's label (so that the fuzzer gets past
 * the MAC to the ids). Invariants:
 * - a jar never holds more than METER_MAX ids, and none is negative;
 * - an unsigned input, one signed under another label, or the signed one
 *   with any byte changed, is empty; so is the signed one read in a month
 *   other than the one it names;
 * - what parses formats back, within METER_COOKIE_MAX, to text that parses
 *   to the same ids and formats to the same text again;
 * - the viewer's meter_remaining stays within 0..limit. */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paywall/meter.h"
#include "fuzz.h"
#include "core/banned.h"

#define NOW  INT64_C(1796083200) /* 2026-12-01T00:00:00Z: seeds are "202612." */
#define DAYS INT64_C(86400)

static const unsigned char key[SECRET_BYTES] = "fuzz-meter-key-0123456789abcdef";

/* payload "." MAC under label: the signing done on its own, not by meter.c. */
static char *
sign(const char *label, const char *payload)
{
	size_t n = strlen(label) + strlen(payload);
	char *msg = malloc(n + 1), hex[33], *out = malloc(strlen(payload) + 34);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	if (!msg || !out)
		abort();
	snprintf(msg, n + 1, "%s%s", label, payload);
	crypto_auth_hmacsha256(mac, (const unsigned char *) msg, n, key);
	sodium_bin2hex(hex, sizeof hex, mac, 16);
	snprintf(out, strlen(payload) + 34, "%s.%s", payload, hex);
	free(msg);
	return out;
}

static void
check_jar(const struct meter_jar *jar)
{
	CHECK(jar->n <= METER_MAX);
	for (size_t i = 0; i < jar->n; i++)
		CHECK(jar->ids[i] >= 0);
}

static bool
same(const struct meter_jar *a, const struct meter_jar *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->ids, b->ids, a->n * sizeof a->ids[0]) == 0);
}

static void
check_round_trip(const struct meter_jar *jar)
{
	struct buf one = BUF_INIT, two = BUF_INIT;
	CHECK(meter_cookie_format(jar, key, NOW, &one) == MH_OK);
	CHECK(one.len <= METER_COOKIE_MAX);
	CHECK(strncmp(one.ptr, "202612.", 7) == 0);
	struct meter_jar back;
	meter_cookie_parse(one.ptr, key, NOW, &back);
	CHECK(same(&back, jar));
	CHECK(meter_cookie_format(&back, key, NOW, &two) == MH_OK);
	CHECK(one.len == two.len && memcmp(one.ptr, two.ptr, one.len) == 0);
	buf_release(&one);
	buf_release(&two);
}

static void
check_view(const struct meter_jar *jar, int64_t article_id)
{
	for (int limit = 1; limit <= METER_MAX; limit += 33) {
		struct viewer v = { .meter_remaining = -1 };
		meter_view(&v, limit, (int) jar->n, meter_jar_holds(jar, article_id));
		CHECK(v.meter_remaining >= 0 && v.meter_remaining <= limit);
		CHECK(v.meter_remaining == meter_left(limit, (int) jar->n));
		struct article a = { .id = article_id, .access = ACCESS_PAID };
		struct access_decision d = access_decide(&a, &v, NOW);
		/* A read counts only while some are left, and only once. */
		if (meter_counts(&v, &d))
			CHECK(v.meter_remaining > 0 && !v.meter_counted);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096 || sodium_init() < 0)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	/* As it comes: only the key makes a cookie, so this is empty. */
	struct meter_jar jar;
	meter_cookie_parse(text, key, NOW, &jar);
	CHECK(jar.n == 0);

	char *cookie = sign("meter:", text);
	meter_cookie_parse(cookie, key, NOW, &jar);
	check_jar(&jar);
	if (jar.n > 0) {
		CHECK(strlen(cookie) <= METER_COOKIE_MAX);
		CHECK(strncmp(cookie, "202612.", 7) == 0);
	}
	check_round_trip(&jar);
	check_view(&jar, jar.n ? jar.ids[0] : 1);

	/* Read in another month, it counts only if made for that month. */
	struct meter_jar other;
	meter_cookie_parse(cookie, key, NOW + 31 * DAYS, &other);
	check_jar(&other);
	CHECK(other.n == 0 || strncmp(cookie, "202701.", 7) == 0);
	meter_cookie_parse(cookie, key, NOW - DAYS, &other);
	check_jar(&other);
	CHECK(other.n == 0 || strncmp(cookie, "202611.", 7) == 0);
	/* Under another cookie's label, nothing. */
	char *foreign = sign("gift:", text);
	meter_cookie_parse(foreign, key, NOW, &other);
	CHECK(other.n == 0);
	free(foreign);

	/* Any one byte changed breaks the MAC. */
	size_t len = strlen(cookie);
	size_t at = (size * 7919u) % len;
	cookie[at] = (char) (cookie[at] == 'x' ? 'y' : 'x');
	meter_cookie_parse(cookie, key, NOW, &other);
	CHECK(other.n == 0);

	/* Adding to a parsed jar keeps the bound. */
	for (int i = 0; i < 3; i++)
		meter_jar_add(&jar, (int64_t) size + i);
	check_jar(&jar);
	check_round_trip(&jar);

	free(cookie);
	free(text);
	return 0;
}
