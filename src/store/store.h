/* store.h: the one storage interface.
 *
 * A struct store is a table of functions plus backend state, opened from a
 * URL (sqlite:PATH; postgres:// follows behind the same table). It is safe
 * to use from many threads: each backend keeps one connection and its
 * prepared statements per thread.
 *
 * Results that the caller reads are allocated from the arena it passes and
 * live as long as that arena. Times are Unix seconds (UTC).
 *
 * The gated part of an article is not in struct article. It is read only by
 * store_article_gated(), which takes the access decision that allows it:
 * a code path that has no FULL decision has no way to ask for it. */
#ifndef MH_STORE_H
#define MH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

struct access_decision;

enum access_level { ACCESS_PUBLIC = 0, ACCESS_MEMBERS = 1, ACCESS_PAID = 2 };
const char *access_level_name(enum access_level a);
/* Returns -1 when s names no level. */
int access_level_parse(const char *s);

struct named_ref {
	const char *slug;
	const char *name;
};

struct article {
	int64_t id;
	const char *slug;
	const char *title;
	const char *dek;
	const char *summary; /* plain text for meta tags: dek or the first teaser paragraph */
	enum access_level access;
	int64_t published_at;
	int64_t updated_at;
	const char *teaser_html; /* NULL in listings */
	bool has_gated;          /* there is a gated part after the teaser */
	struct named_ref *authors;
	size_t n_authors;
	struct named_ref *tags;
	size_t n_tags;
};

/* What import hands the store: all of one article, gated part included. */
struct quote_input {
	const char *speaker_slug;
	const char *speaker_name;
	const char *role;
	const char *text_html;
	bool gated;
};

struct article_input {
	const char *slug, *title, *dek, *summary;
	enum access_level access;
	int64_t published_at, updated_at;
	const char *teaser_md, *teaser_html;
	const char *gated_md, *gated_html;
	bool has_marker; /* the source split at <!-- paywall --> */
	struct named_ref *authors;
	size_t n_authors;
	struct named_ref *tags;
	size_t n_tags;
	struct quote_input *quotes;
	size_t n_quotes;
};

/* For export: the sources, gated part included. Operator-only path. */
struct article_source {
	struct article a;
	const char *teaser_md;
	const char *gated_md;
	bool has_marker;
};

enum list_kind { LIST_ALL, LIST_TAG, LIST_AUTHOR };

struct article_filter {
	enum list_kind kind;
	const char *slug; /* the tag or author */
	int64_t before;   /* only published_at <= before (0: no bound) */
	size_t limit;
	size_t offset;
};

struct speaker {
	int64_t id;
	const char *slug;
	const char *name;
	const char *role;
};

struct quote {
	int64_t id;
	int64_t article_id;
	const char *text_html; /* NULL when the quote sits in a gated part */
	const char *role;
	bool gated;
	struct article article; /* title, slug, access, published_at only */
};

enum member_role { ROLE_READER = 0, ROLE_EDITOR = 1, ROLE_ADMIN = 2 };
const char *member_role_name(enum member_role r);
int member_role_parse(const char *s);

struct member {
	int64_t id;
	const char *email;
	const char *name;
	const char *password_hash; /* argon2id string, or "" for link-only accounts */
	enum member_role role;
	int64_t created_at;
	int64_t comped_until; /* 0: not comped */
	bool email_verified;
};

/* Members, their sessions and mailed links, billing and the mail outbox.
 * Each table arrived as a migration with the feature that uses it. */
struct session {
	const char *token_hash; /* hex BLAKE2b-256 of the cookie's 32 random bytes */
	int64_t member_id;
	int64_t created_at, last_seen_at, expires_at;
	const char *user_agent, *ip;
};

enum token_purpose { TOKEN_SIGNIN = 0, TOKEN_RESET = 1, TOKEN_EMAIL = 2 };

/* A mailed single-use link, by the hash of its token. */
struct auth_token {
	const char *token_hash;
	enum token_purpose purpose;
	int64_t member_id;
	const char *new_email; /* TOKEN_EMAIL: the address being confirmed */
	const char *next;      /* a local path to go to afterwards */
	int64_t created_at, expires_at, used_at;
};

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
	const char *status; /* Stripe's names: active, trialing, past_due, ... */
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

struct gift_link {
	int64_t id;
	const char *token_hash;
	int64_t member_id, article_id;
	int max_uses, uses;
	int64_t created_at, expires_at, revoked_at;
	const char *article_slug, *article_title; /* filled by gift_list */
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

struct outbox_mail {
	int64_t id;
	const char *to, *subject, *text, *html;
	const char *message_id;
	int64_t created_at;
	int attempts;
	int64_t next_attempt_at;
	int64_t sent_at;
	const char *last_error;
};

struct store;

struct store_versions {
	int64_t content;
	int64_t members;
};

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	mh_err (*migrate)(struct store *s, int *applied);
	mh_err (*ping)(struct store *s);
	/* Numbers that change whenever published content (content) or what a
	 * signed-in request knows of its member (members: sessions ended,
	 * members and subscriptions changed) changes, from any process. */
	mh_err (*versions)(struct store *s, struct store_versions *out);
	mh_err (*begin)(struct store *s);
	mh_err (*commit)(struct store *s);
	mh_err (*rollback)(struct store *s);

	mh_err (*article_upsert)(struct store *s, const struct article_input *in, int64_t *id, bool *created);
	mh_err (*article_by_slug)(struct store *s, struct arena *a, const char *slug, struct article **out);
	mh_err (*article_gated)(struct store *s, struct arena *a, int64_t article_id, const char **html);
	mh_err (*article_list)(struct store *s, struct arena *a, const struct article_filter *f, struct article **out,
	                       size_t *n);
	mh_err (*article_sources)(struct store *s, struct arena *a, struct article_source **out, size_t *n);
	mh_err (*named_by_slug)(struct store *s, struct arena *a, enum list_kind kind, const char *slug,
	                        struct named_ref *out);
	mh_err (*speaker_by_slug)(struct store *s, struct arena *a, const char *slug, struct speaker *out);
	mh_err (*speaker_quotes)(struct store *s, struct arena *a, int64_t speaker_id, struct quote **out, size_t *n);
	mh_err (*quote_gated)(struct store *s, struct arena *a, int64_t quote_id, const char **html);

	mh_err (*member_create)(struct store *s, const struct member *m, int64_t *id);
	mh_err (*member_by_email)(struct store *s, struct arena *a, const char *email, struct member *out);
	mh_err (*member_list)(struct store *s, struct arena *a, struct member **out, size_t *n);
	mh_err (*member_set_role)(struct store *s, const char *email, enum member_role role);
	mh_err (*member_set_password)(struct store *s, const char *email, const char *hash);
	mh_err (*member_by_id)(struct store *s, struct arena *a, int64_t id, struct member *out);
	/* Sets name (when not NULL), e-mail (when not NULL) and verified (when >= 0). */
	mh_err (*member_update)(struct store *s, int64_t id, const char *name, const char *email, int verified);

	mh_err (*session_create)(struct store *s, const struct session *in);
	/* The live session and its member; MH_ERR_NOTFOUND when unknown or expired at now. */
	mh_err (*session_get)(struct store *s, struct arena *a, const char *token_hash, int64_t now,
	                      struct session *out, struct member *m);
	mh_err (*session_touch)(struct store *s, const char *token_hash, int64_t now, int64_t expires_at);
	mh_err (*session_delete)(struct store *s, const char *token_hash);
	/* Deletes every session of a member but keep_hash (NULL: all). */
	mh_err (*session_delete_member)(struct store *s, int64_t member_id, const char *keep_hash);
	mh_err (*session_list)(struct store *s, struct arena *a, int64_t member_id, int64_t now, struct session **out,
	                       size_t *n);

	mh_err (*token_create)(struct store *s, const struct auth_token *t);
	/* A valid, unused token of that purpose; MH_ERR_NOTFOUND otherwise. */
	mh_err (*token_get)(struct store *s, struct arena *a, const char *token_hash, enum token_purpose purpose,
	                    int64_t now, struct auth_token *out);
	/* Marks it used; MH_ERR_NOTFOUND when it was used, expired or unknown (one winner). */
	mh_err (*token_use)(struct store *s, const char *token_hash, enum token_purpose purpose, int64_t now);

	/* Counts an attempt in bucket; *allowed false (and nothing counted) when
	 * limit attempts fell within the last window seconds. */
	mh_err (*rate_hit)(struct store *s, const char *bucket, int64_t now, int64_t window, int limit, bool *allowed,
	                   int64_t *retry_after);
	/* Deletes expired sessions, mailed links, checkouts, old meter reads and
	 * rate events; *removed counts the rows. Any node may run it at any time. */
	mh_err (*housekeep)(struct store *s, int64_t now, int *removed);

	mh_err (*outbox_push)(struct store *s, const struct outbox_mail *m, int64_t *id);
	/* Claims up to max mails due at now for lease seconds (so one sender sends each). */
	mh_err (*outbox_claim)(struct store *s, struct arena *a, int64_t now, int64_t lease, size_t max,
	                       struct outbox_mail **out, size_t *n);
	mh_err (*outbox_sent)(struct store *s, int64_t id, int64_t now);
	mh_err (*outbox_retry)(struct store *s, int64_t id, int64_t next_attempt_at, const char *error);
	mh_err (*outbox_list)(struct store *s, struct arena *a, struct outbox_mail **out, size_t *n);

	mh_err (*plan_upsert)(struct store *s, const struct plan *p, int64_t *id);
	/* Plans on offer (retired ones too when all), cheapest first. */
	mh_err (*plan_list)(struct store *s, struct arena *a, bool all, struct plan **out, size_t *n);
	mh_err (*plan_get)(struct store *s, struct arena *a, int64_t id, const char *code, struct plan *out);

	mh_err (*subscription_by_member)(struct store *s, struct arena *a, int64_t member_id, struct subscription *out);
	mh_err (*subscription_get)(struct store *s, struct arena *a, int64_t id, struct subscription *out);
	/* Inserts (id 0) or updates by id. */
	/* Inserts (id 0) or updates. An update applies only if the row is still
	 * at sub->version (then moves it on); otherwise MH_ERR_CONFLICT and
	 * nothing is written: read the row again and decide again. */
	mh_err (*subscription_save)(struct store *s, struct subscription *sub);
	/* Adds a card; make_default makes it the member's only default. */
	mh_err (*payment_method_add)(struct store *s, struct payment_method *pm, bool make_default);
	mh_err (*payment_method_default)(struct store *s, struct arena *a, int64_t member_id,
	                                 struct payment_method *out);

	mh_err (*gift_create)(struct store *s, struct gift_link *g);
	mh_err (*gift_get)(struct store *s, struct arena *a, const char *token_hash, struct gift_link *out);
	/* Counts one use; MH_ERR_NOTFOUND when used up, expired or revoked at now. */
	mh_err (*gift_use)(struct store *s, int64_t id, int64_t now);
	mh_err (*gift_list)(struct store *s, struct arena *a, int64_t member_id, struct gift_link **out, size_t *n);
	mh_err (*gift_revoke)(struct store *s, int64_t id, int64_t member_id, int64_t now);

	/* How many paid articles the member read in month, and whether article_id is one. */
	mh_err (*meter_get)(struct store *s, int64_t member_id, const char *month, int64_t article_id, int *count,
	                    bool *has);
	mh_err (*meter_add)(struct store *s, int64_t member_id, const char *month, int64_t article_id, int64_t now);

	/* Billing. Invoices are unique by idempotency key: creating one that
	 * exists returns MH_ERR_CONFLICT and its id. */
	mh_err (*invoice_create)(struct store *s, struct invoice *inv);
	mh_err (*invoice_save)(struct store *s, const struct invoice *inv);
	mh_err (*invoice_get)(struct store *s, struct arena *a, int64_t id, struct invoice *out);
	/* The newest open invoice of a subscription. */
	mh_err (*invoice_open)(struct store *s, struct arena *a, int64_t subscription_id, struct invoice *out);
	mh_err (*invoice_list)(struct store *s, struct arena *a, int64_t subscription_id, struct invoice **out,
	                       size_t *n);
	/* Open invoices whose retry is due at now. */
	mh_err (*invoices_due)(struct store *s, struct arena *a, int64_t now, struct invoice **out, size_t *n);
	/* Takes an invoice for lease seconds; MH_ERR_CONFLICT when another worker has it. */
	mh_err (*invoice_claim)(struct store *s, int64_t id, int64_t now, int64_t lease);
	mh_err (*invoice_release)(struct store *s, int64_t id);

	/* Records a charge as pending before the provider is asked. */
	mh_err (*charge_begin)(struct store *s, struct charge *c);
	mh_err (*charge_finish)(struct store *s, int64_t id, const char *status, const char *code, const char *message,
	                        int64_t now);
	mh_err (*charges_pending)(struct store *s, struct arena *a, struct charge **out, size_t *n);
	mh_err (*invoice_failure)(struct store *s, struct arena *a, int64_t invoice_id, struct charge *out);

	/* Subscriptions with work due at now: period end, grace end, trial reminders. */
	mh_err (*subscriptions_due)(struct store *s, struct arena *a, int64_t now, int64_t trial_notice,
	                            struct subscription **out, size_t *n);
	mh_err (*subscription_by_provider)(struct store *s, struct arena *a, const char *provider_id,
	                                   const char *customer, struct subscription *out);
	/* Default cards expiring before `before` whose member was not reminded yet. */
	mh_err (*cards_expiring)(struct store *s, struct arena *a, int64_t before_month_index,
	                         struct payment_method **out, size_t *n);
	/* Claims the expiry reminder of one card: MH_ERR_CONFLICT when it was already claimed. */
	mh_err (*card_reminded)(struct store *s, int64_t id);

	mh_err (*checkout_create)(struct store *s, const struct checkout *c);
	mh_err (*checkout_get)(struct store *s, struct arena *a, const char *token_hash, int64_t now,
	                       struct checkout *out);
	/* open to complete, once; MH_ERR_NOTFOUND when it was not open. */
	mh_err (*checkout_complete)(struct store *s, const char *token_hash);

	/* The test provider's ledger: the outcome recorded under key, or the
	 * given one recorded now. */
	mh_err (*test_ledger_charge)(struct store *s, struct arena *a, const char *key, int64_t amount,
	                             const char *outcome, int64_t now, const char **recorded);
	mh_err (*test_ledger_count)(struct store *s, const char *key_prefix, int *n);

	/* A provider event, applied once: MH_ERR_CONFLICT when seen before. */
	mh_err (*billing_event_record)(struct store *s, const char *provider, const char *event_id, const char *type,
	                               int64_t created, int64_t now);
};

struct store {
	const struct store_ops *ops;
	char *url;
	void *impl;
	char errmsg[256]; /* the last backend message, for the operator (per store, not per thread) */
	/* Write transactions this process committed; bumped (atomically) once
	 * each is visible to other connections, so caches know to look again. */
	uint64_t writes;
};

/* The number of write transactions this process has committed so far. */
static inline uint64_t
store_writes(const struct store *s)
{
	return __atomic_load_n(&s->writes, __ATOMIC_ACQUIRE);
}

/* Opens the store named by url; on failure writes a message into err. */
mh_err store_open(const char *url, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);

/* Thin wrappers over ops, so call sites read store_verb(s, ...). */
static inline mh_err
store_migrate(struct store *s, int *applied)
{
	return s->ops->migrate(s, applied);
}
static inline mh_err
store_ping(struct store *s)
{
	return s->ops->ping(s);
}
static inline mh_err
store_begin(struct store *s)
{
	return s->ops->begin(s);
}
static inline mh_err
store_commit(struct store *s)
{
	return s->ops->commit(s);
}
static inline mh_err
store_rollback(struct store *s)
{
	return s->ops->rollback(s);
}

static inline mh_err
store_article_upsert(struct store *s, const struct article_input *in, int64_t *id, bool *created)
{
	return s->ops->article_upsert(s, in, id, created);
}

static inline mh_err
store_article_by_slug(struct store *s, struct arena *a, const char *slug, struct article **out)
{
	return s->ops->article_by_slug(s, a, slug, out);
}

/* The only way to the gated body: decision must be a FULL decision for this
 * very article (paywall/access.h), or MH_ERR_DENIED is returned. */
mh_err store_article_gated(struct store *s, struct arena *a, const struct article *art,
                           const struct access_decision *decision, const char **html);

/* A gated quote's text, under the same rule as store_article_gated. */
mh_err store_quote_gated(struct store *s, struct arena *a, const struct quote *q,
                         const struct access_decision *decision, const char **html);

static inline mh_err
store_article_list(struct store *s, struct arena *a, const struct article_filter *f, struct article **out, size_t *n)
{
	return s->ops->article_list(s, a, f, out, n);
}

static inline mh_err
store_named_by_slug(struct store *s, struct arena *a, enum list_kind kind, const char *slug, struct named_ref *out)
{
	return s->ops->named_by_slug(s, a, kind, slug, out);
}

#endif
