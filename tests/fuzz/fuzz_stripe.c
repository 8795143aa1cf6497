/* fuzz_stripe.c: the Stripe-Signature header over a webhook body
 * (stripe_verify), the check before any event is read.
 *
 * Line 1 is the header, the rest the body. Invariants:
 * - the header as it comes verifies only if it holds a v1 signature of
 *   "t.body" under the key, which the fuzzer cannot forge: so never, unless
 *   it copied one made here;
 * - a header made here for the body ("t=NOW,v1=HMAC", with the input's
 *   header appended as more entries) verifies, also with the input's
 *   entries before it; the same header over a changed body, at a time past
 *   the tolerance, or under another secret, does not. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing/providers/stripe.h"
#include "fuzz.h"
#include "core/banned.h"

#define NOW    INT64_C(1796083200)
#define SECRET "whsec_fuzzfuzzfuzzfuzzfuzzfuzz"

static char *
signed_header(const char *body, size_t len, int64_t t, const char *extra, bool extra_first)
{
	char ts[32];
	snprintf(ts, sizeof ts, "%lld", (long long) t);
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, (const unsigned char *) SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	char hex[2 * sizeof mac + 1];
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	size_t n = strlen(extra) + 200;
	char *h = malloc(n);
	if (!h)
		abort();
	if (extra_first)
		snprintf(h, n, "%s,t=%s,v1=%s", extra, ts, hex);
	else
		snprintf(h, n, "t=%s,v1=%s%s%s", ts, hex, extra[0] ? "," : "", extra);
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16 || sodium_init() < 0)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	char *nl = memchr(text, '\n', size);
	const char *header = text, *body = "";
	size_t blen = 0;
	if (nl) {
		*nl = '\0';
		body = nl + 1;
		blen = size - (size_t) (nl + 1 - text);
	}
	/* As it comes. */
	mh_err rc = stripe_verify(SECRET, header, body, blen, NOW, STRIPE_TOLERANCE);
	CHECK(rc == MH_OK || rc == MH_ERR_DENIED);
	if (rc == MH_OK)
		CHECK(strstr(header, "v1=") != NULL);

	/* Made here: valid only for this body, time and secret. An input header
	 * with a comma or a t= of its own may shadow ours: only a clean one is
	 * held to it. */
	bool clean = !strchr(header, 't') && strlen(header) < STRIPE_MAX_HEADER - 200 && !strchr(header, ',');
	char *h = signed_header(body, blen, NOW, clean ? header : "", false);
	if (strlen(h) < STRIPE_MAX_HEADER) {
		CHECK(stripe_verify(SECRET, h, body, blen, NOW, STRIPE_TOLERANCE) == MH_OK);
		CHECK(stripe_verify(SECRET, h, body, blen, NOW + STRIPE_TOLERANCE + 1, STRIPE_TOLERANCE) ==
		      MH_ERR_DENIED);
		CHECK(stripe_verify("whsec_another", h, body, blen, NOW, STRIPE_TOLERANCE) == MH_ERR_DENIED);
		if (blen) {
			char *changed = malloc(blen);
			if (!changed)
				abort();
			memcpy(changed, body, blen);
			changed[size % blen] ^= 1;
			CHECK(stripe_verify(SECRET, h, changed, blen, NOW, STRIPE_TOLERANCE) == MH_ERR_DENIED);
			free(changed);
		}
	}
	free(h);
	free(text);
	return 0;
}
