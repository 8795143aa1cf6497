/* testcards.c: the built-in test provider. Its checkout accepts only
 * Stripe's published test numbers; it keeps brand, last four and expiry,
 * never the number or the CVC. Charges are recorded in its own ledger by
 * idempotency key, as a real provider would, so a retried key returns the
 * first outcome instead of charging again. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "billing/billing.h"
#include "auth/token.h"
#include "core/buf.h"
#include "store/store.h"
#include "core/slice.h"
#include "core/banned.h"

static const struct {
	const char *number;
	int behavior;
} test_numbers[] = {
	{ "4242424242424242", CARD_SUCCEEDS }, { "4000000000000341", CARD_CHARGES_FAIL },
	{ "4000000000000002", CARD_DECLINED }, { "4000000000009995", CARD_INSUFFICIENT },
	{ "4000000000000069", CARD_EXPIRED },
};

static bool
luhn(const char *d, size_t n)
{
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = d[n - 1 - i] - '0';
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static int
month_index(int64_t t)
{
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

mh_err
test_card_read(const char *number, const char *expiry, const char *cvc, const char *name, int64_t now,
               struct test_card *out, const char **error)
{
	memset(out, 0, sizeof *out);
	char digits[24];
	size_t n = 0;
	for (const char *p = number ? number : ""; *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (!isdigit((unsigned char) *p) || n == sizeof digits - 1) {
			*error = "The card number should be 12 to 19 digits.";
			return MH_ERR_INVALID;
		}
		digits[n++] = *p;
	}
	digits[n] = '\0';
	if (n < 12 || n > 19) {
		*error = "The card number should be 12 to 19 digits.";
		return MH_ERR_INVALID;
	}
	if (!luhn(digits, n)) {
		*error = "That card number is not valid. Please check it.";
		return MH_ERR_INVALID;
	}
	/* MM/YY, MM / YY or MM/YYYY */
	int mm = 0, yy = 0, got = 0;
	const char *e = expiry ? expiry : "";
	while (*e == ' ')
		e++;
	for (; isdigit((unsigned char) *e) && got < 2; e++, got++)
		mm = mm * 10 + (*e - '0');
	while (*e == ' ')
		e++;
	int ydigits = 0;
	if (*e == '/') {
		for (e++; *e == ' '; e++)
			;
		for (; isdigit((unsigned char) *e) && ydigits < 4; e++, ydigits++)
			yy = yy * 10 + (*e - '0');
	}
	while (*e == ' ')
		e++;
	if (got == 0 || mm < 1 || mm > 12 || (ydigits != 2 && ydigits != 4) || *e) {
		*error = "The expiry date should look like 04/29.";
		return MH_ERR_INVALID;
	}
	if (ydigits == 2)
		yy += 2000;
	if (yy * 12 + mm - 1 < month_index(now)) {
		*error = "That expiry date is in the past.";
		return MH_ERR_INVALID;
	}
	size_t cl = cvc ? strlen(cvc) : 0;
	bool cvc_ok = cl == 3 || cl == 4;
	for (size_t i = 0; cvc_ok && i < cl; i++)
		cvc_ok = isdigit((unsigned char) cvc[i]);
	if (!cvc_ok) {
		*error = "The security code is the 3 or 4 digits on the card.";
		return MH_ERR_INVALID;
	}
	struct slice nm = slice_trim(slice_from(name));
	if (nm.len == 0 || nm.len > 100) {
		*error = "Please enter the name on the card.";
		return MH_ERR_INVALID;
	}
	int behavior = -1;
	for (size_t i = 0; i < sizeof test_numbers / sizeof *test_numbers; i++)
		if (strcmp(digits, test_numbers[i].number) == 0)
			behavior = test_numbers[i].behavior;
	if (behavior < 0) {
		*error = "This is a test checkout: real cards are not accepted. Use one of the test card numbers.";
		return MH_ERR_INVALID;
	}
	out->behavior = behavior;
	memcpy(out->brand, digits[0] == '4' ? "Visa" : "Card", 5);
	memcpy(out->last4, digits + n - 4, 4);
	out->last4[4] = '\0';
	out->exp_month = mm;
	out->exp_year = yy;
	return MH_OK;
}

const char *
test_card_decline(const struct test_card *c)
{
	switch (c->behavior) {
	case CARD_DECLINED: return "Your card was declined. Please use another card.";
	case CARD_INSUFFICIENT: return "Your card has insufficient funds. Please use another card.";
	case CARD_EXPIRED: return "Your card has expired. Please use another card.";
	default: return NULL;
	}
}

static const char *
message_for(const char *code)
{
	if (!strcmp(code, "card_declined"))
		return "Your card was declined.";
	if (!strcmp(code, "expired_card"))
		return "Your card has expired.";
	if (!strcmp(code, "insufficient_funds"))
		return "Your card has insufficient funds.";
	return "The payment could not be processed.";
}

static mh_err
test_charge(struct billing *b, struct arena *a, const struct payment_method *pm, int64_t amount, const char *currency,
            const char *key, int64_t now, struct charge_result *out)
{
	(void) currency;
	const char *outcome = "succeeded";
	if (strcmp(pm->behavior, "fail") == 0)
		outcome = "card_declined";
	else if (pm->exp_year * 12 + pm->exp_month - 1 < month_index(now))
		outcome = "expired_card";
	const char *recorded;
	mh_err err = store_test_ledger_charge(b->store, a, key, amount, outcome, now, &recorded);
	if (err)
		return err;
	out->ok = strcmp(recorded, "succeeded") == 0;
	out->code = out->ok ? "" : recorded;
	out->message = out->ok ? "" : message_for(recorded);
	return MH_OK;
}

/* The test provider's checkout: its own page, /checkout/TOKEN, open for an hour. */
static mh_err
test_checkout(struct billing *b, struct arena *a, const struct member *m, const struct plan *plan, const char *next,
              int64_t now, const char **url, char *msg, size_t msglen)
{
	char token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	token_new(token);
	token_hash(token, hash);
	struct checkout co = { hash,
		               m->id,
		               plan ? plan->id : 0,
		               plan ? "subscribe" : "card",
		               "open",
		               now,
		               now + BILLING_CHECKOUT_MINUTES * 60 };
	mh_err err = store_checkout_create(b->store, &co);
	if (err) {
		snprintf(msg, msglen, "store: %s", store_errmsg(b->store));
		return err;
	}
	struct buf u = BUF_INIT;
	buf_printf(&u, "/checkout/%s?next=", token);
	buf_add_urlenc(&u, next, strlen(next));
	*url = arena_strndup(a, u.ptr, u.len);
	buf_release(&u);
	return MH_OK;
}

const struct billing_provider billing_test_provider = { "test", test_checkout, test_charge, NULL, NULL };
