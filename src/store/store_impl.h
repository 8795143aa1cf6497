/* store_impl.h: the table each backend fills, and the state behind an
 * opaque struct store. Only src/store/ includes it. */
#ifndef MH_STORE_IMPL_H
#define MH_STORE_IMPL_H

#include <stddef.h>

#include "store/store.h"

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	mh_err (*migrate)(struct store *s, int *applied);
	/* How many migrations of this binary the database lacks. */
	mh_err (*migrations_pending)(struct store *s, int *pending);
	mh_err (*ping)(struct store *s);
	mh_err (*bulk_memory)(struct store *s, unsigned mib);
	/* Numbers that change whenever published content (content) or what a
	 * signed-in request knows of its member (members: sessions ended,
	 * members and subscriptions changed) changes, from any process. */
	mh_err (*versions)(struct store *s, struct store_versions *out);
	mh_err (*member_changes)(struct store *s, struct arena *a, int64_t *cursor, size_t max, int64_t **ids,
	                         size_t *n, bool *flush);
	/* NULL where there is no pool (store_set_pool, store_release). */
	void (*set_pool)(struct store *s, int max);
	void (*release)(struct store *s);
	/* NULL when the engine pushes nothing (store_listen). */
	mh_err (*listen)(struct store *s, const struct store_push *p, struct store_listener **out);
	void (*listener_stop)(struct store_listener *l);
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
	/* Search (docs/search.md). */
	mh_err (*search)(struct store *s, struct arena *a, const char *match, const struct search_scope *scope,
	                 struct search_row **out, size_t *n, bool *more);
	mh_err (*search_excerpt)(struct store *s, struct arena *a, const char *match, int64_t article_id,
	                         struct search_excerpt *out);
	mh_err (*search_compact)(struct store *s);
	mh_err (*search_gated_snippet)(struct store *s, struct arena *a, const char *match, int64_t article_id,
	                               const char **snippet);

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
	mh_err (*token_spend_member)(struct store *s, int64_t member_id, int64_t now);
	mh_err (*rate_count)(struct store *s, const char *bucket, int64_t now, int64_t window, int *n,
	                     int64_t *retry_after);

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

	/* The Content API's keys (store.h has the promises) and its speaker list. */
	mh_err (*api_key_create)(struct store *s, const struct api_key *k, int64_t *id);
	mh_err (*api_key_by_hash)(struct store *s, struct arena *a, const char *key_hash, struct api_key *out);
	mh_err (*api_key_list)(struct store *s, struct arena *a, struct api_key **out, size_t *n);
	mh_err (*api_key_revoke)(struct store *s, const char *name, int64_t now);
	mh_err (*speaker_list)(struct store *s, struct arena *a, int64_t now, struct speaker **out, size_t *n);
	mh_err (*article_count)(struct store *s, int64_t before, size_t *n);
	/* Moving in: redirects, newsletter consent, comped members. */
	mh_err (*redirect_put)(struct store *s, const char *old_path, const char *new_path, const char *source,
	                       int64_t now);
	mh_err (*redirect_get)(struct store *s, struct arena *a, const char *old_path, const char **new_path);
	mh_err (*redirect_list)(struct store *s, struct arena *a, struct redirect **out, size_t *n);
	mh_err (*audit_add)(struct store *s, const struct audit_entry *e);
	mh_err (*audit_list)(struct store *s, struct arena *a, int64_t before_id, size_t limit,
	                     struct audit_entry **out, size_t *n);
	mh_err (*directory)(struct store *s, struct arena *a, enum directory_kind kind, int64_t now,
	                    struct directory_entry **out, size_t *n);
	mh_err (*author_put)(struct store *s, const struct author_profile *p);
	mh_err (*author_get)(struct store *s, struct arena *a, const char *slug, struct author_profile *out);
	mh_err (*reads_add)(struct store *s, const struct read_count *c, size_t n, int64_t hour, int64_t prune_before);
	mh_err (*most_read)(struct store *s, struct arena *a, int64_t since_hour, int64_t now, size_t limit,
	                    struct most_read **out, size_t *n);
	mh_err (*media_add)(struct store *s, const struct media_row *m, bool *added);
	mh_err (*media_list)(struct store *s, struct arena *a, size_t offset, size_t limit, struct media_row **out,
	                     size_t *n);
	mh_err (*consent_put)(struct store *s, int64_t member_id, bool newsletter, const char *source, int64_t now);
	mh_err (*consent_get)(struct store *s, int64_t member_id, bool *newsletter);
	mh_err (*member_set_comped)(struct store *s, int64_t member_id, int64_t until);
	mh_err (*site_stats)(struct store *s, struct arena *a, struct site_stats *out);
	/* The test provider's ledger: the outcome recorded under key, or the
	 * given one recorded now. */
	mh_err (*test_ledger_charge)(struct store *s, struct arena *a, const char *key, int64_t amount,
	                             const char *outcome, int64_t now, const char **recorded);
	mh_err (*test_ledger_count)(struct store *s, const char *key_prefix, int *n);

	/* A provider event, applied once: MH_ERR_CONFLICT when seen before. */
	mh_err (*billing_event_record)(struct store *s, const char *provider, const char *event_id, const char *type,
	                               int64_t created, int64_t now);

	/* The site's signing secret: fresh unless one is stored; out gets the stored one. */
	mh_err (*site_secret)(struct store *s, const char *fresh, char *out, size_t outlen);

	/* Private feeds and the sitemap. */
	mh_err (*feed_token_save)(struct store *s, const struct feed_token *t);
	mh_err (*feed_token_delete)(struct store *s, int64_t member_id);
	mh_err (*feed_token_by_member)(struct store *s, struct arena *a, int64_t member_id, struct feed_token *out);
	mh_err (*feed_token_find)(struct store *s, struct arena *a, const char *token_hash, struct feed_token *out);
	mh_err (*sitemap_list)(struct store *s, struct arena *a, int64_t now, struct sitemap_entry **out, size_t *n);

	/* The newsroom's articles. */
	mh_err (*newsroom_adopt)(struct store *s, int64_t now);
	mh_err (*newsroom_list)(struct store *s, struct arena *a, const struct newsroom_filter *f,
	                        struct newsroom_article **out, size_t *n, size_t *total);
	mh_err (*newsroom_get)(struct store *s, struct arena *a, int64_t id, struct newsroom_article *out);
	mh_err (*newsroom_put)(struct store *s, const struct newsroom_article *in, int64_t *id);
	mh_err (*newsroom_revision_add)(struct store *s, int64_t id, int64_t at, const char *actor, const char *note);
	mh_err (*newsroom_revisions)(struct store *s, struct arena *a, int64_t id, size_t limit,
	                             struct newsroom_revision **out, size_t *n);
	mh_err (*newsroom_revision_get)(struct store *s, struct arena *a, int64_t id, int64_t rev,
	                                struct newsroom_revision *out);
	mh_err (*newsroom_due)(struct store *s, struct arena *a, int64_t now, size_t max, int64_t **ids, size_t *n);
	mh_err (*newsroom_claim)(struct store *s, int64_t id, int64_t now);
	mh_err (*article_delete)(struct store *s, const char *slug);
	mh_err (*newsroom_preview_add)(struct store *s, const char *token_hash, int64_t id, int64_t expires_at,
	                               int64_t now);
	mh_err (*newsroom_preview_get)(struct store *s, const char *token_hash, int64_t now, int64_t *id);
	/* The newsroom's members and dashboard. */
	mh_err (*member_search)(struct store *s, struct arena *a, const char *q, size_t offset, size_t limit,
	                        struct member **out, size_t *n);
	mh_err (*member_delete)(struct store *s, int64_t member_id);
	mh_err (*member_import)(struct store *s, const struct member *m, size_t n, size_t *bad);
	mh_err (*paying_at)(struct store *s, struct arena *a, int64_t at, struct paying_at *out, size_t *n);
	mh_err (*dash_counts)(struct store *s, struct arena *a, int64_t from, int64_t to, struct dash_counts *out);
	mh_err (*invoices_failing)(struct store *s, struct arena *a, size_t limit, struct failing_invoice **out,
	                           size_t *n);
	mh_err (*settings_get)(struct store *s, struct arena *a, struct setting **out, size_t *n, int64_t *version);
	mh_err (*settings_version)(struct store *s, int64_t *version);
	mh_err (*settings_save)(struct store *s, const struct setting *put, size_t nput, const char *const *del,
	                        size_t ndel, const struct plan *plans, size_t nplans, int64_t now);
	mh_err (*device_code_add)(struct store *s, int64_t member_id, const char *code_hash, int64_t now,
	                          int64_t expires_at, int64_t *id);
	mh_err (*device_code_get)(struct store *s, struct arena *a, int64_t id, struct device_code *out);
	mh_err (*device_code_try)(struct store *s, int64_t id, int max_attempts, int64_t now);
	mh_err (*device_code_use)(struct store *s, int64_t id);
};

struct db_driver;

struct store {
	const struct store_ops *ops;
	/* The statement driver the shared ops run on (sql.h). */
	const struct db_driver *db;
	char *url;
	void *impl;
	/* Write transactions this process committed; bumped (atomically) once
	 * each is visible to other connections, so caches know to look again. */
	uint64_t writes;
};

/* The calling thread's message buffer (store_errmsg reads it back). */
char *store_errbuf(void);
#define STORE_ERRMSG_MAX 256

/* The fault build's failing store call (core/fault.h): each engine asks
 * store_fault_call() before a statement runs, BEGIN, COMMIT or a savepoint
 * and, on true, fails it without running it. Its driver's fail then asks
 * store_fault_taken(what), which writes the message and is true once for
 * that call (a later real error is the engine's own again). Elsewhere both
 * are false constants. */
#ifdef MH_FAULTS
bool store_fault_call(void);
bool store_fault_taken(const char *what);
#else
static inline bool
store_fault_call(void)
{
	return false;
}
static inline bool
store_fault_taken(const char *what)
{
	(void) what;
	return false;
}
#endif

mh_err sqlite_store_open(const char *path, struct store *s, char *err, size_t errlen);
/* The PostgreSQL listener (postgres/listen.c), on a connection of its own to url. */
mh_err postgres_listen(const char *url, const struct store_push *p, struct store_listener **out);
void postgres_listener_stop(struct store_listener *l);
mh_err postgres_store_open(const char *url, struct store *s, char *err, size_t errlen);

#endif
