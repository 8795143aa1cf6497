/* fuzz_gift.c: the gift cookie parser, and the plan over what it holds, on
 * outside text.
 *
 * The input's first line is the cookie's payload, parsed as it comes and
 * then signed here under the gift label (so that the fuzzer gets past the
 * MAC to the entries); the rest of the input is the ?gift= token given, if
 * any. Invariants:
 * - a jar holds at most GIFT_MAX gifts, each with a well-formed token, an
 *   expiry after now and an article id of at least 0;
 * - an unsigned input, one signed under another label, the signed one with
 *   any byte changed, or the signed one read once every gift has expired,
 *   is empty;
 * - what parses formats back, within GIFT_COOKIE_MAX, to text that parses to
 *   the same gifts and formats to the same text again;
 * - keeping a gift leaves it the newest, once, within GIFT_MAX;
 * - the plan tries the given link first, then only held links for the
 *   article, at most GIFT_MAX + 1 in all; settling opens the article exactly
 *   when some try did, else says why the given link (or the last held one)
 *   was refused. */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paywall/gift.h"
#include "fuzz.h"
#include "core/banned.h"

#define NOW   INT64_C(1796083200)          /* 2026-12-01T00:00:00Z */
#define NEVER INT64_C(1000000000000000000) /* past any expiry the parser accepts (18 digits) */
#define TOKEN "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz-_0"

static const unsigned char key[SECRET_BYTES] = "fuzz-gift-key-0123456789abcdef!";

/* payload "~" MAC under label: the signing done on its own, not by gift.c. */
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
	snprintf(out, strlen(payload) + 34, "%s~%s", payload, hex);
	free(msg);
	return out;
}

static void
check_jar(const struct gift_jar *jar, int64_t now)
{
	CHECK(jar->n <= GIFT_MAX);
	for (size_t i = 0; i < jar->n; i++) {
		CHECK(token_well_formed(jar->held[i].token));
		CHECK(jar->held[i].expires_at > now);
		CHECK(jar->held[i].article_id >= 0);
	}
}

static bool
same(const struct gift_jar *a, const struct gift_jar *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->held[i].article_id != b->held[i].article_id || a->held[i].expires_at != b->held[i].expires_at ||
		    strcmp(a->held[i].token, b->held[i].token) != 0)
			return false;
	return true;
}

static void
check_round_trip(const struct gift_jar *jar)
{
	struct buf one = BUF_INIT, two = BUF_INIT;
	long max_age = -1;
	bool wrote = gift_cookie_format(jar, key, NOW, &one, &max_age);
	/* Nothing to keep, nothing to write. */
	CHECK(wrote == (jar->n > 0));
	if (wrote) {
		CHECK(max_age > 0);
		CHECK(one.len <= GIFT_COOKIE_MAX);
		struct gift_jar back;
		gift_cookie_parse(one.ptr, key, NOW, &back);
		CHECK(same(&back, jar));
		CHECK(gift_cookie_format(&back, key, NOW, &two, &max_age));
		CHECK(one.len == two.len && memcmp(one.ptr, two.ptr, one.len) == 0);
	} else {
		CHECK(one.len == 0);
	}
	buf_release(&one);
	buf_release(&two);
}

static void
check_keep(struct gift_jar jar, int64_t article_id)
{
	size_t before = jar.n;
	gift_keep(&jar, article_id, NOW + 1, TOKEN);
	check_jar(&jar, NOW);
	CHECK(jar.n >= 1 && jar.n <= before + 1);
	CHECK(strcmp(jar.held[jar.n - 1].token, TOKEN) == 0 && jar.held[jar.n - 1].article_id == article_id);
	for (size_t i = 0; i + 1 < jar.n; i++)
		CHECK(strcmp(jar.held[i].token, TOKEN) != 0);
}

static void
check_plan(const struct gift_jar *jar, int64_t article_id, const char *given, const uint8_t *data, size_t size)
{
	struct gift_plan p;
	gift_plan_for(&p, jar, article_id, given);
	CHECK(p.n <= GIFT_MAX + 1);
	CHECK(p.given == (given != NULL));
	size_t held_for_it = 0;
	for (size_t i = 0; i < jar->n; i++)
		held_for_it += jar->held[i].article_id == article_id;
	for (size_t i = 0; i < p.n; i++) {
		const struct gift_try *t = &p.tries[i];
		CHECK(t->given == (given && i == 0));
		if (t->malformed) {
			CHECK(t->given && !token_well_formed(given) && t->token[0] == '\0' && !t->held);
			continue;
		}
		CHECK(token_well_formed(t->token));
		if (t->given) {
			CHECK(strcmp(t->token, given) == 0);
			continue;
		}
		/* A held link for this article, never the given one again. */
		CHECK(t->held && (!given || strcmp(t->token, given) != 0));
		bool found = false;
		for (size_t j = 0; j < jar->n && !found; j++)
			found = jar->held[j].article_id == article_id && strcmp(jar->held[j].token, t->token) == 0;
		CHECK(found);
	}
	CHECK(p.n <= held_for_it + (given ? 1 : 0));
	if (!given)
		CHECK(p.n == held_for_it);

	/* Each try's outcome from the input; settle as the caller does. */
	enum gift_outcome got = GIFT_NONE, first = GIFT_NONE, last = GIFT_NONE;
	bool any_ok = false;
	size_t i = 0;
	for (; i < p.n && got != GIFT_OK; i++) {
		enum gift_outcome tried = (enum gift_outcome)(GIFT_OK + (size ? data[i % size] : 0) % 5);
		got = gift_settle(&p, &p.tries[i], got, tried);
		any_ok |= tried == GIFT_OK;
		if (i == 0)
			first = tried;
		last = tried;
	}
	CHECK((got == GIFT_OK) == any_ok);
	if (p.n == 0)
		CHECK(got == GIFT_NONE);
	else if (!any_ok)
		CHECK(got == (given ? first : last));
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
	const char *given = NULL;
	char *nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		given = nl + 1;
	}

	/* As it comes: only the key makes a cookie, so this is empty. */
	struct gift_jar jar;
	gift_cookie_parse(text, key, NOW, &jar);
	CHECK(jar.n == 0);

	char *cookie = sign("gift:", text);
	gift_cookie_parse(cookie, key, NOW, &jar);
	check_jar(&jar, NOW);
	if (jar.n > 0)
		CHECK(strlen(cookie) <= GIFT_COOKIE_MAX);
	check_round_trip(&jar);
	int64_t article_id = jar.n ? jar.held[jar.n - 1].article_id : 1;
	check_keep(jar, article_id);
	check_plan(&jar, article_id, given, data, size);
	check_plan(&jar, article_id, NULL, data, size);

	/* Once everything has expired, under another label, or changed. */
	struct gift_jar other;
	gift_cookie_parse(cookie, key, NEVER, &other);
	CHECK(other.n == 0);
	char *foreign = sign("meter:", text);
	gift_cookie_parse(foreign, key, NOW, &other);
	CHECK(other.n == 0);
	free(foreign);
	size_t len = strlen(cookie);
	size_t at = (size * 7919u) % len;
	cookie[at] = (char) (cookie[at] == 'x' ? 'y' : 'x');
	gift_cookie_parse(cookie, key, NOW, &other);
	CHECK(other.n == 0);

	free(cookie);
	free(text);
	return 0;
}
