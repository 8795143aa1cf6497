/* stripe.h: the Stripe provider. Card entry happens on Stripe's own pages
 * (Checkout and the Billing Portal); Stripe charges, and tells masthead
 * through signed webhooks, which stripe_verify checks and
 * stripe_apply_event applies once per event id, in the order of the
 * events' `created` times. See docs/stripe.md. */
#ifndef MH_STRIPE_H
#define MH_STRIPE_H

#include <stddef.h>
#include <stdint.h>

#include "billing/billing.h"
#include "core/arena.h"
#include "core/config.h"
#include "store/store.h"

/* The largest webhook body masthead reads, and the signature's tolerance. */
#define STRIPE_MAX_EVENT      ((size_t) 1 << 20)
#define STRIPE_TOLERANCE      300
#define STRIPE_MAX_HEADER     4096
#define STRIPE_MAX_SIGNATURES 8

/* Creates a Checkout Session (mode subscription) for plan p; customer is
 * the member's Stripe customer id or "" / NULL (then customer_email).
 * *url (from a) is the page to send the member to. A Stripe error answer
 * is MH_ERR_IO with Stripe's message in err; the secret key never appears
 * in err or in the log. */
mh_err stripe_checkout(const struct config *cfg, struct arena *a, const struct member *m, const struct plan *p,
                       const char *customer, const char *success_url, const char *cancel_url,
                       const char *idempotency_key, const char **url, char *err, size_t errlen);
/* A Billing Portal session for customer; *url (from a) to redirect to. */
mh_err stripe_portal(const struct config *cfg, struct arena *a, const char *customer, const char *return_url,
                     const char *idempotency_key, const char **url, char *err, size_t errlen);
/* Checks a Stripe-Signature header over the raw body: any v1 HMAC-SHA256
 * of "t.body" under secret, |now - t| <= tolerance. MH_OK or MH_ERR_DENIED. */
mh_err stripe_verify(const char *secret, const char *header, const char *body, size_t len, int64_t now,
                     int64_t tolerance);
/* Applies one verified event, recording its id in the same transaction.
 * MH_OK: applied, or deliberately ignored (replayed, older than what the
 * subscription already reflects, or a type masthead does not handle).
 * MH_ERR_NOTFOUND: it names a member, customer or subscription masthead
 * does not know (yet): nothing is recorded, Stripe should retry.
 * MH_ERR_INVALID: malformed. Other errors: the store failed. */
mh_err stripe_apply_event(struct billing *b, struct arena *a, const char *body, size_t len, int64_t now, char *err,
                          size_t errlen);

#endif
