/* billing.h: plans, cards on file and the subscription lifecycle.
 *
 * Every function takes the time it acts at (`now`), so `masthead billing
 * run --at T` and the tests can step the clock. Charges go through the
 * provider under idempotency keys, recorded as pending first: a crash
 * between charging and recording neither charges twice nor loses the
 * payment (billing_reconcile finishes what was pending). */
#ifndef MH_BILLING_H
#define MH_BILLING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "store/store.h"

struct tmpl_set;
struct mailer;
struct billing;

struct charge_result {
	bool ok;
	const char *code;    /* card_declined, insufficient_funds, expired_card, processing_error */
	const char *message; /* for the member: "Your card was declined." */
};

/* What a payment provider does for masthead. The site, the scheduler and the
 * webhook reach a provider only through this table, chosen in one place
 * (billing_provider_named). */
struct billing_provider {
	const char *name;
	/* Where to send member m to pay for plan, or (plan NULL) to replace the
	 * card on file, coming back to next (a local path) afterwards: *url.
	 * MH_ERR_UNSUPPORTED: this plan cannot be bought through the provider
	 * (yet); MH_ERR_NOTFOUND: the provider knows no card of this member;
	 * other errors: the provider did not answer. msg says more, for the log. */
	mh_err (*checkout)(struct billing *b, struct arena *a, const struct member *m, const struct plan *plan,
	                   const char *next, int64_t now, const char **url, char *msg, size_t msglen);
	/* Charges amount to the card under key; the same key never charges
	 * twice. NULL for providers that charge on their own (Stripe). */
	mh_err (*charge)(struct billing *b, struct arena *a, const struct payment_method *pm, int64_t amount,
	                 const char *currency, const char *key, int64_t now, struct charge_result *out);
	/* Applies one event the provider sent, its signature checked by the
	 * caller. NULL for providers that send none (test). */
	mh_err (*apply_event)(struct billing *b, struct arena *a, const char *body, size_t len, int64_t now, char *err,
	                      size_t errlen);
	/* Links member_id to a customer the provider already knows (a site
	 * moving in): the member's subscription row carries it, live when
	 * paying, ended otherwise, so the provider's next event about that
	 * customer finds the member. Doing it twice is doing it once.
	 * MH_ERR_CONFLICT: the member pays through something else already;
	 * MH_ERR_NOTFOUND: there is no plan to hang it on. msg says which.
	 * NULL for providers without customers of their own (test). */
	mh_err (*attach_customer)(struct billing *b, struct arena *a, int64_t member_id, const char *customer,
	                          bool paying, int64_t now, char *msg, size_t msglen);
};

extern const struct billing_provider billing_test_provider;
extern const struct billing_provider billing_stripe_provider;
/* The provider a billing-provider setting names, or NULL for none. */
const struct billing_provider *billing_provider_named(const char *name);

#define BILLING_CHECKOUT_MINUTES 60 /* the test provider's checkout page stays open this long */

struct billing {
	struct store *store;
	/* Swapped whole while others read them when the settings change (web/settings.h). */
	const struct config *_Atomic cfg;
	const struct tmpl_set *templates; /* mail templates; NULL sends no mail */
	struct mailer *mailer;            /* woken after queuing mail; may be NULL */
	const struct billing_provider *_Atomic provider;
};

/* A card as the test checkout read it. */
struct test_card {
	char brand[16];
	char last4[5];
	int exp_month, exp_year;
	enum { CARD_SUCCEEDS, CARD_CHARGES_FAIL, CARD_DECLINED, CARD_INSUFFICIENT, CARD_EXPIRED } behavior;
};

/* Checks a test checkout form: Luhn, an expiry MM/YY not in the past, a
 * CVC, a name, and one of the test numbers. On bad input returns
 * MH_ERR_INVALID with a message for the member in *error. The number and
 * CVC are read, never kept. */
mh_err test_card_read(const char *number, const char *expiry, const char *cvc, const char *name, int64_t now,
                      struct test_card *out, const char **error);
/* The decline message for a card the test provider refuses at entry, or NULL. */
const char *test_card_decline(const struct test_card *c);

struct billing_outcome {
	bool ok;             /* the subscription is active (or trialing) */
	const char *message; /* why not, for the member */
};

/* Starts a subscription to plan with card (saved as the default): trial,
 * or a first invoice charged at once. A declined first charge leaves it
 * incomplete with the reason in out. */
mh_err billing_subscribe(struct billing *b, struct arena *a, int64_t member_id, int64_t plan_id,
                         const struct test_card *card, int64_t now, struct billing_outcome *out);
/* Saves card as the default and retries the open invoice at once;
 * MH_ERR_CONFLICT when another worker holds that invoice (it is being paid). */
mh_err billing_update_card(struct billing *b, struct arena *a, int64_t member_id, const struct test_card *card,
                           int64_t now, struct billing_outcome *out);
/* The test provider's checkout behind token_hash, while it is open and
 * member_id's: MH_ERR_NOTFOUND when unknown, expired or another's;
 * MH_ERR_CONFLICT (and *out) when it is member_id's and paid already. */
mh_err billing_checkout_open(struct billing *b, struct arena *a, const char *token_hash, int64_t member_id, int64_t now,
                             struct checkout *out);
/* Pays an open checkout with card: subscribes or saves the card, as its
 * purpose says, and completes the checkout once the card was taken (a
 * refused card leaves it open for another try). */
mh_err billing_checkout_pay(struct billing *b, struct arena *a, const struct checkout *co, const struct test_card *card,
                            int64_t now, struct billing_outcome *out);
/* Cancel at the end of the paid period, or take that back. */
mh_err billing_cancel(struct billing *b, int64_t member_id, bool cancel, int64_t now);

struct billing_stats {
	int renewed, failed, retried, recovered, unpaid, canceled, trial_notices, card_notices, reconciled;
	int expired_rows; /* housekeeping: sessions, links, checkouts, meter reads removed */
};
/* Everything due at now: renewals, retries, grace ends, cancellations,
 * trial ends and reminders, card expiry reminders. */
mh_err billing_run(struct billing *b, int64_t now, struct billing_stats *st);
/* Finishes charges left pending by a crash. */
mh_err billing_reconcile(struct billing *b, int64_t now, int *finished);

/* The scheduler thread of `serve`: billing_run every interval seconds. */
struct billing_scheduler;
mh_err billing_scheduler_start(struct billing *b, int interval, struct billing_scheduler **out);
void billing_scheduler_stop(struct billing_scheduler *s);

/* Money as text: 800 "usd" -> "$8.00". */
const char *billing_money(struct arena *a, int64_t amount, const char *currency);

/* Ends member_id's subscription now, before their account is deleted
 * (docs/newsroom.md, "Members"): a live one of a provider that masthead
 * charges itself (test) becomes canceled at now, its open invoices void,
 * and no mail is sent. MH_OK when there is nothing live to end;
 * MH_ERR_UNSUPPORTED when the provider charges on its own (Stripe): the
 * subscription must be canceled there first. */
mh_err billing_end_now(struct billing *b, int64_t member_id, int64_t now);

#endif
