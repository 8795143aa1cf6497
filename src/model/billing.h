/* billing.h: plans, subscriptions and what paying leaves behind (cards on
 * file, invoices, charges, checkouts, provider events). Types only. */
#ifndef MH_MODEL_BILLING_H
#define MH_MODEL_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Subscription states, by Stripe's names. */
enum sub_status {
	SUB_NONE = 0,
	SUB_ACTIVE,
	SUB_TRIALING,
	SUB_PAST_DUE,
	SUB_UNPAID,
	SUB_INCOMPLETE,
	SUB_INCOMPLETE_EXPIRED,
	SUB_CANCELED,
	SUB_PAUSED,
};
const char *sub_status_name(enum sub_status s);
/* Returns -1 when s names no state. */
int sub_status_parse(const char *s);
/* A live subscription: it renews, and its member may cancel or resume it
 * (active, trialing, past_due). The one rule for "has a subscription". */
bool sub_status_live(enum sub_status s);
/* One that will not come back (canceled, incomplete_expired): a new
 * subscription may take its place. */
bool sub_status_ended(enum sub_status s);

struct plan {
	int64_t id;
	const char *code; /* "monthly", "yearly" */
	const char *name;
	int64_t amount;       /* minor units */
	const char *currency; /* ISO 4217, lower case */
	int interval_months;
	int trial_days;
	bool retired;
	const char *provider_price_id;
};

struct subscription {
	int64_t id, member_id, plan_id;
	enum sub_status status; /* by Stripe's names (sub_status_name) */
	int64_t period_start, period_end;
	int64_t trial_end;
	int64_t grace_until;
	bool cancel_at_period_end;
	int64_t canceled_at;
	const char *provider;
	const char *provider_id;
	const char *provider_customer;
	int64_t provider_updated; /* an older provider event never moves it backwards */
	int64_t created_at, updated_at;
	bool trial_reminded;
	int64_t version; /* as read; subscription_save applies only over this version */
};

struct payment_method {
	int64_t id, member_id;
	const char *brand, *last4; /* never the number or the CVC */
	int exp_month, exp_year;
	const char *behavior; /* test provider: "ok" or "fail" (every charge fails) */
	bool is_default;
	const char *provider_id;
	int64_t created_at;
};

struct invoice {
	int64_t id, subscription_id;
	int64_t amount;
	const char *currency;
	const char *status; /* open, paid, uncollectible, void */
	int64_t period_start, period_end;
	int attempts;
	int64_t next_attempt_at; /* 0: no retry planned */
	const char *idempotency_key;
	const char *provider_id;
	int64_t paid_at, created_at;
	/* store_invoice_create only: the claim taken with the insert, until
	 * then (0: none), so that no crash can leave a new invoice unclaimed
	 * and uncharged between two steps. */
	int64_t claimed_until;
};

struct charge {
	int64_t id, invoice_id;
	const char *idempotency_key;
	int64_t payment_method_id;
	const char *status; /* pending, succeeded, failed */
	const char *failure_code, *failure_message;
	int64_t created_at, finished_at;
};

struct checkout {
	const char *token_hash;
	int64_t member_id, plan_id;
	const char *purpose; /* subscribe, card */
	const char *status;  /* open, complete */
	int64_t created_at, expires_at;
};

struct billing_event {
	const char *provider;
	const char *event_id; /* unique: applied once */
	const char *type;
	int64_t created;
};

#endif
