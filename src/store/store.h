/* store.h: the one storage interface.
 *
 * A struct store is opaque: callers reach it only through the store_*()
 * functions below, opened from a URL (sqlite:PATH; postgres:// follows behind the same table). It is safe
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
#include "model/api.h"
#include "model/billing.h"
#include "model/content.h"
#include "model/mail.h"
#include "model/member.h"

/* Each function below is tagged with what it promises when several threads,
 * processes or nodes call it at once:
 *   [read]       a consistent read of committed rows;
 *   [write]      one statement, atomic; the last writer wins;
 *   [unique]     an insert that fails with MH_ERR_CONFLICT when the row's key
 *                exists, so of two callers exactly one creates it;
 *   [claim]      a conditional update: of several callers exactly one wins, the
 *                others get MH_ERR_CONFLICT or MH_ERR_NOTFOUND and change nothing;
 *   [version]    applies only over the version the caller read (MH_ERR_CONFLICT
 *                otherwise: read again and decide again);
 *   [idempotent] doing it twice is doing it once;
 *   [txn]        several statements in one transaction (or the transaction
 *                calls themselves); [once] takes a lock so one caller does it.
 * tests/unit/test_store_contract.c holds each engine to these. */

struct access_decision;
struct store;

struct store_versions {
	int64_t content;
	int64_t members;
};

/* Opens the store named by url; on failure writes a message into err. */
mh_err store_open(const char *url, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);
/* The backend's name ("sqlite", "postgres") and the URL it was opened from,
 * with its password (if any) shown as ***. */
const char *store_engine(const struct store *s);
const char *store_url(const struct store *s);
/* The last backend message of this thread, for the operator. */
const char *store_errmsg(const struct store *s);
/* The number of write transactions this process has committed so far. */
uint64_t store_writes(const struct store *s);

/* The only way to the gated body: decision must be a FULL decision for this
 * very article (paywall/access.h), or MH_ERR_DENIED is returned. */
mh_err store_article_gated(struct store *s, struct arena *a, const struct article *art,
                           const struct access_decision *decision, const char **html);

/* A gated quote's text, under the same rule as store_article_gated. */
mh_err store_quote_gated(struct store *s, struct arena *a, const struct quote *q,
                         const struct access_decision *decision, const char **html);

/* ---- The engine: migrations, versions, transactions ------------------------------------------ */

/* [once] */
mh_err store_migrate(struct store *s, int *applied);

/* [read] How many of this binary's migrations the database lacks
 * (an error when it was never migrated). */
mh_err store_migrations_pending(struct store *s, int *pending);

/* [read] */
mh_err store_ping(struct store *s);
/* [txn] Copies every row of from into to, a migrated and empty store, of either
 * engine, in one transaction of to that commits only when each table's row
 * count and checksum read back from to agree with from's (src/store/copy.c).
 * MH_ERR_CONFLICT when to is not empty; *rows counts the rows copied. */
mh_err store_copy(struct store *from, struct store *to, int64_t *rows);
/* [unique] The site's signing secret (hex), shared by every node of the
 * database: fresh is stored when there is none yet, and out gets the one
 * stored, so of several first starts exactly one key wins. */
mh_err store_site_secret(struct store *s, const char *fresh, char *out, size_t outlen);

/* [read] Numbers that change whenever published content (content) or what a
 * signed-in request knows of its member (members: the newest member change,
 * see store_member_changes) changes, from any process. */
mh_err store_versions(struct store *s, struct store_versions *out);

/* How many member changes a store keeps, and how far behind a reader may
 * fall before it is told to forget everything instead. */
#define STORE_CHANGES_KEPT   100000
#define STORE_CHANGES_BEHIND 50000

/* [read] The members whose sessions ended or whose row or subscription
 * changed, from any process, in commit order: up to max ids of the changes
 * after *cursor into *ids (a member may come more than once), and *cursor
 * moved past them. *flush when changes may have been missed (the first call,
 * with *cursor STORE_CHANGES_FIRST; a reader further behind than the store
 * keeps; a cursor the store never gave): forget everything kept about
 * members, and go on from the new *cursor. */
#define STORE_CHANGES_FIRST (-1)
mh_err store_member_changes(struct store *s, struct arena *a, int64_t *cursor, size_t max, int64_t **ids, size_t *n,
                            bool *flush);

/* Lets the calling thread's connection keep up to mib MiB of database pages
 * for a bulk write (an import): a transaction bigger than SQLite's page
 * cache writes its pages out and back again, over and over. PostgreSQL:
 * nothing to do. The server's connections keep the small default. */
mh_err store_bulk_memory(struct store *s, unsigned mib);

/* [txn] */
mh_err store_begin(struct store *s);

/* [txn] */
mh_err store_commit(struct store *s);

/* [txn] */
mh_err store_rollback(struct store *s);

/* ---- Content: articles, their authors, tags and speakers ------------------------------------- */

/* [txn] */
mh_err store_article_upsert(struct store *s, const struct article_input *in, int64_t *id, bool *created);

/* [read] */
mh_err store_article_by_slug(struct store *s, struct arena *a, const char *slug, struct article **out);

/* [read] */
mh_err store_article_list(struct store *s, struct arena *a, const struct article_filter *f, struct article **out,
                          size_t *n);

/* [read] */
mh_err store_article_sources(struct store *s, struct arena *a, struct article_source **out, size_t *n);

/* [read] */
mh_err store_named_by_slug(struct store *s, struct arena *a, enum list_kind kind, const char *slug,
                           struct named_ref *out);

/* [read] */
mh_err store_speaker_by_slug(struct store *s, struct arena *a, const char *slug, struct speaker *out);

/* [read] */
mh_err store_speaker_quotes(struct store *s, struct arena *a, int64_t speaker_id, struct quote **out, size_t *n);

/* ---- Search (docs/search.md) ---------------------------------------------------------------- */

/* An article that a query matches, in one index or both. */
struct search_row {
	int64_t article_id;
	enum access_level access; /* as stored: the auto-paywall is the caller's to apply */
	int64_t published_at;
	double rank;    /* the public index's bm25 (lower is better); 0 without a public match */
	bool in_public; /* titles, deks, teasers matched */
	bool in_gated;  /* all of the text (gated part too) matched: for a reader whose decision allows it */
};

/* What a result shows, from the public index. Marked text holds 0x01 where
 * a match starts and 0x02 where it ends, and is not escaped. */
struct search_excerpt {
	const char *slug, *title, *dek;
	int64_t published_at;
	const char *title_marked, *dek_marked, *snippet_marked;
	bool matched; /* false: the public index does not match it (nothing marked) */
};

/* [read] Every article published at now that match (an FTS query built by
 * search/query.h, never a reader's text) matches in either index, in
 * article id order. search/search.h alone decides which rows a reader gets. */
mh_err store_search(struct store *s, struct arena *a, const char *match, int64_t now, struct search_row **out,
                    size_t *n);

/* [read] An article's excerpt with the words of mark (an FTS query too,
 * usually any of the terms) marked; MH_ERR_NOTFOUND for an unknown article. */
mh_err store_search_excerpt(struct store *s, struct arena *a, const char *mark, int64_t article_id,
                            struct search_excerpt *out);

/* [read] The gated index's snippet of an article (marked as above), under the
 * rule of store_article_gated, stricter (mark as above): the decision must be FULL for this
 * article by right, not by a gift link or the meter; MH_ERR_DENIED otherwise. */
mh_err store_search_gated_snippet(struct store *s, struct arena *a, const char *mark,
                                  const struct access_decision *decision, const char **snippet);

/* ---- Members --------------------------------------------------------------------------------- */

/* [unique] */
mh_err store_member_create(struct store *s, const struct member *m, int64_t *id);

/* [read] */
mh_err store_member_by_email(struct store *s, struct arena *a, const char *email, struct member *out);

/* [read] */
mh_err store_member_list(struct store *s, struct arena *a, struct member **out, size_t *n);

/* [write] */
mh_err store_member_set_role(struct store *s, const char *email, enum member_role role);

/* [write] */
mh_err store_member_set_password(struct store *s, const char *email, const char *hash);

/* [read] */
mh_err store_member_by_id(struct store *s, struct arena *a, int64_t id, struct member *out);

/* [write] Sets name (when not NULL), e-mail (when not NULL) and verified (when >= 0). */
mh_err store_member_update(struct store *s, int64_t id, const char *name, const char *email, int verified);

/* ---- Sessions and mailed single-use links ---------------------------------------------------- */

/* [unique] */
mh_err store_session_create(struct store *s, const struct session *in);

/* [read] The live session and its member; MH_ERR_NOTFOUND when unknown or expired at now. */
mh_err store_session_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct session *out,
                         struct member *m);

/* [write] */
mh_err store_session_touch(struct store *s, const char *token_hash, int64_t now, int64_t expires_at);

/* [write] */
mh_err store_session_delete(struct store *s, const char *token_hash);

/* [write] Deletes every session of a member but keep_hash (NULL: all). */
mh_err store_session_delete_member(struct store *s, int64_t member_id, const char *keep_hash);

/* [read] */
mh_err store_session_list(struct store *s, struct arena *a, int64_t member_id, int64_t now, struct session **out,
                          size_t *n);

/* [unique] */
mh_err store_token_create(struct store *s, const struct auth_token *t);

/* [read] A valid, unused token of that purpose; MH_ERR_NOTFOUND otherwise. */
mh_err store_token_get(struct store *s, struct arena *a, const char *token_hash, enum token_purpose purpose,
                       int64_t now, struct auth_token *out);

/* [claim] Marks it used; MH_ERR_NOTFOUND when it was used, expired or unknown (one winner). */
mh_err store_token_use(struct store *s, const char *token_hash, enum token_purpose purpose, int64_t now);

/* ---- Limits and housekeeping ----------------------------------------------------------------- */

/* [claim] Counts an attempt in bucket; *allowed false (and nothing counted) when
 * limit attempts fell within the last window seconds. */
mh_err store_rate_hit(struct store *s, const char *bucket, int64_t now, int64_t window, int limit, bool *allowed,
                      int64_t *retry_after);

/* [write] Deletes expired sessions, mailed links, checkouts, old meter reads and
 * rate events; *removed counts the rows. Any node may run it at any time. */
mh_err store_housekeep(struct store *s, int64_t now, int *removed);

/* ---- The mail outbox ------------------------------------------------------------------------- */

/* [write] */
mh_err store_outbox_push(struct store *s, const struct outbox_mail *m, int64_t *id);

/* [claim] Claims up to max mails due at now for lease seconds (so one sender sends each). */
mh_err store_outbox_claim(struct store *s, struct arena *a, int64_t now, int64_t lease, size_t max,
                          struct outbox_mail **out, size_t *n);

/* [write] */
mh_err store_outbox_sent(struct store *s, int64_t id, int64_t now);

/* [write] */
mh_err store_outbox_retry(struct store *s, int64_t id, int64_t next_attempt_at, const char *error);

/* [read] */
mh_err store_outbox_list(struct store *s, struct arena *a, struct outbox_mail **out, size_t *n);

/* ---- Billing: plans, subscriptions, cards on file -------------------------------------------- */

/* [write] */
mh_err store_plan_upsert(struct store *s, const struct plan *p, int64_t *id);

/* [read] Plans on offer (retired ones too when all), cheapest first. */
mh_err store_plan_list(struct store *s, struct arena *a, bool all, struct plan **out, size_t *n);

/* [read] */
mh_err store_plan_get(struct store *s, struct arena *a, int64_t id, const char *code, struct plan *out);

/* [read] */
mh_err store_subscription_by_member(struct store *s, struct arena *a, int64_t member_id, struct subscription *out);

/* [read] */
mh_err store_subscription_get(struct store *s, struct arena *a, int64_t id, struct subscription *out);

/* [version] Inserts (id 0) or updates by id. */
/* Inserts (id 0) or updates. An update applies only if the row is still
 * at sub->version (then moves it on); otherwise MH_ERR_CONFLICT and
 * nothing is written: read the row again and decide again. */
mh_err store_subscription_save(struct store *s, struct subscription *sub);

/* [txn] Adds a card; make_default makes it the member's only default. */
mh_err store_payment_method_add(struct store *s, struct payment_method *pm, bool make_default);

/* [read] */
mh_err store_payment_method_default(struct store *s, struct arena *a, int64_t member_id, struct payment_method *out);

/* ---- The paywall: gift links and the meter --------------------------------------------------- */

/* [unique] */
mh_err store_gift_create(struct store *s, struct gift_link *g);

/* [read] */
mh_err store_gift_get(struct store *s, struct arena *a, const char *token_hash, struct gift_link *out);

/* [claim] Counts one use; MH_ERR_NOTFOUND when used up, expired or revoked at now. */
mh_err store_gift_use(struct store *s, int64_t id, int64_t now);

/* [read] */
mh_err store_gift_list(struct store *s, struct arena *a, int64_t member_id, struct gift_link **out, size_t *n);

/* [claim] */
mh_err store_gift_revoke(struct store *s, int64_t id, int64_t member_id, int64_t now);

/* [read] How many paid articles the member read in month, and whether article_id is one. */
mh_err store_meter_get(struct store *s, int64_t member_id, const char *month, int64_t article_id, int *count,
                       bool *has);

/* [idempotent] */
mh_err store_meter_add(struct store *s, int64_t member_id, const char *month, int64_t article_id, int64_t now);

/* ---- Billing: invoices, charges and the scheduler's lists ------------------------------------ */

/* [unique] Billing. Invoices are unique by idempotency key: creating one that
 * exists returns MH_ERR_CONFLICT and its id. */
mh_err store_invoice_create(struct store *s, struct invoice *inv);

/* [write] */
mh_err store_invoice_save(struct store *s, const struct invoice *inv);

/* [read] */
mh_err store_invoice_get(struct store *s, struct arena *a, int64_t id, struct invoice *out);

/* [read] The newest open invoice of a subscription. */
mh_err store_invoice_open(struct store *s, struct arena *a, int64_t subscription_id, struct invoice *out);

/* [read] */
mh_err store_invoice_list(struct store *s, struct arena *a, int64_t subscription_id, struct invoice **out, size_t *n);

/* [read] Open invoices whose retry is due at now. */
mh_err store_invoices_due(struct store *s, struct arena *a, int64_t now, struct invoice **out, size_t *n);

/* [claim] Takes an invoice for lease seconds; MH_ERR_CONFLICT when another worker has it. */
mh_err store_invoice_claim(struct store *s, int64_t id, int64_t now, int64_t lease);

/* [write] */
mh_err store_invoice_release(struct store *s, int64_t id);

/* [unique] Records a charge as pending before the provider is asked. */
mh_err store_charge_begin(struct store *s, struct charge *c);

/* [claim] Records a pending charge's outcome, once: MH_ERR_CONFLICT when
 * it was finished already. */
mh_err store_charge_finish(struct store *s, int64_t id, const char *status, const char *code, const char *message,
                           int64_t now);

/* [read] */
mh_err store_charges_pending(struct store *s, struct arena *a, struct charge **out, size_t *n);

/* [read] */
mh_err store_invoice_failure(struct store *s, struct arena *a, int64_t invoice_id, struct charge *out);

/* [read] Subscriptions with work due at now: period end, grace end, trial reminders. */
mh_err store_subscriptions_due(struct store *s, struct arena *a, int64_t now, int64_t trial_notice,
                               struct subscription **out, size_t *n);

/* [read] */
mh_err store_subscription_by_provider(struct store *s, struct arena *a, const char *provider_id, const char *customer,
                                      struct subscription *out);

/* [read] Default cards expiring before `before` whose member was not reminded yet. */
mh_err store_cards_expiring(struct store *s, struct arena *a, int64_t before_month_index, struct payment_method **out,
                            size_t *n);

/* [claim] Claims the expiry reminder of one card: MH_ERR_CONFLICT when it was already claimed. */
mh_err store_card_reminded(struct store *s, int64_t id);

/* ---- Billing: checkouts, the test provider's ledger, provider events ------------------------- */

/* [unique] */
mh_err store_checkout_create(struct store *s, const struct checkout *c);

/* [read] */
mh_err store_checkout_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct checkout *out);

/* [claim] open to complete, once; MH_ERR_NOTFOUND when it was not open. */
mh_err store_checkout_complete(struct store *s, const char *token_hash);

/* [idempotent] The test provider's ledger: the outcome recorded under key, or the
 * given one recorded now. */
mh_err store_test_ledger_charge(struct store *s, struct arena *a, const char *key, int64_t amount, const char *outcome,
                                int64_t now, const char **recorded);

/* [read] */
mh_err store_test_ledger_count(struct store *s, const char *key_prefix, int *n);

/* [unique] A provider event, applied once: MH_ERR_CONFLICT when seen before. */
mh_err store_billing_event_record(struct store *s, const char *provider, const char *event_id, const char *type,
                                  int64_t created, int64_t now);

/* ---- Private feeds and the sitemap ----------------------------------------------------------- */

/* A member's private feed: the hash of the token in its address, and the
 * nonce the address is derived from (web/feeds.c). One per member. */
struct feed_token {
	int64_t member_id;
	const char *token_hash; /* hex BLAKE2b-256 of the token */
	const char *nonce;
	int64_t created_at;
};

/* One address of the sitemap: kind 'a' article (with its title and
 * times), 't' tag, 'u' author, 'p' speaker (title is the name, times 0). */
struct sitemap_entry {
	char kind;
	const char *slug;
	const char *title;
	int64_t published_at, updated_at;
};

/* [write] Makes or replaces the member's feed token. */
mh_err store_feed_token_save(struct store *s, const struct feed_token *t);

/* [claim] Revokes it; MH_ERR_NOTFOUND when the member has none. */
mh_err store_feed_token_delete(struct store *s, int64_t member_id);

/* [read] */
mh_err store_feed_token_by_member(struct store *s, struct arena *a, int64_t member_id, struct feed_token *out);

/* [read] The token with that hash; MH_ERR_NOTFOUND when unknown or revoked. */
mh_err store_feed_token_find(struct store *s, struct arena *a, const char *token_hash, struct feed_token *out);

/* [read] Every article published at now (newest first), then the tags,
 * authors and speakers with one. */
mh_err store_sitemap_list(struct store *s, struct arena *a, int64_t now, struct sitemap_entry **out, size_t *n);

/* ---- The Content API: keys and listings ----------------------------------------------------- */

/* [unique] A new key (name and key_hash are each unique). */
mh_err store_api_key_create(struct store *s, const struct api_key *k, int64_t *id);

/* [read] The key with that hash, revoked or not; MH_ERR_NOTFOUND when unknown. */
mh_err store_api_key_by_hash(struct store *s, struct arena *a, const char *key_hash, struct api_key *out);

/* [read] Every key, in the order they were made. */
mh_err store_api_key_list(struct store *s, struct arena *a, struct api_key **out, size_t *n);

/* [claim] Revokes the key named name at now; MH_ERR_NOTFOUND when unknown or revoked already. */
mh_err store_api_key_revoke(struct store *s, const char *name, int64_t now);

/* [read] How many articles are published at before (what store_article_list with LIST_ALL pages through). */
mh_err store_article_count(struct store *s, int64_t before, size_t *n);

/* [read] Every speaker who has a quote in an article published at now, by name. */
mh_err store_speaker_list(struct store *s, struct arena *a, int64_t now, struct speaker **out, size_t *n);

#endif
