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

/* PostgreSQL keeps a pool of at most max connections per process (SQLite a
 * connection per thread, and ignores this): a thread borrows one at its
 * first call and keeps it, its prepared statements with it, until
 * store_release(). When all are out, a call waits up to
 * STORE_POOL_WAIT_MS for one, then fails with MH_ERR_DB ("all N database
 * connections are busy"). The default is STORE_POOL_DEFAULT. */
#define STORE_POOL_DEFAULT 10
#define STORE_POOL_WAIT_MS 5000
void store_set_pool(struct store *s, int max);
/* The calling thread is done with the store for now (a request answered,
 * a job done): its connection goes back to the pool, unless a transaction
 * is open on it. Costs nothing when the thread holds none. */
void store_release(struct store *s);

/* [read] */
mh_err store_ping(struct store *s);
/* [txn] Copies every row of from into to, a migrated and empty store, of either
 * engine, in one transaction of to that commits only when each table's row
 * count and checksum read back from to agree with from's (src/store/copy.c).
 * MH_ERR_CONFLICT when to is not empty; *rows counts the rows copied. */
mh_err store_copy(struct store *from, struct store *to, int64_t *rows);
/* [read] A consistent copy of the whole database, as of one commit, into a
 * new SQLite file at path (replaced if it exists), while others write:
 * SQLite's online backup on SQLite, store_copy on PostgreSQL (*rows then
 * counts the rows; -1 on SQLite). src/store/snapshot.c. */
mh_err store_snapshot(struct store *s, const char *path, int64_t *rows, char *err, size_t errlen);
/* MH_OK when path is a SQLite file that passes PRAGMA integrity_check. */
mh_err store_sqlite_check(const char *path, char *err, size_t errlen);
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

/* Changes pushed by the database as they commit, to a node that wants to
 * know at once rather than at its next poll (PostgreSQL: LISTEN/NOTIFY on
 * a connection of the listener's own, migration 0016). The callbacks run
 * on the listener's thread, one at a time, in commit order. */
struct store_push {
	/* A member change (store_member_changes' seq and member id). */
	void (*member)(void *ctx, int64_t seq, int64_t member_id);
	/* The content version moved to version. */
	void (*content)(void *ctx, int64_t version);
	/* Listening (again): changes made before may have been missed, so
	 * forget everything kept and read the store afresh. */
	void (*flush)(void *ctx);
	/* The connection broke: nothing is pushed until the next flush. */
	void (*lost)(void *ctx);
	void *ctx;
};
struct store_listener;
/* Starts the listener, which connects, reconnects after a break (and says
 * so through flush) until store_listener_stop; p is copied. On an engine
 * with nothing to push (SQLite: one node) MH_ERR_UNSUPPORTED. */
mh_err store_listen(struct store *s, const struct store_push *p, struct store_listener **out);
/* Stops the thread and frees the listener store_listen made on s (NULL: nothing). */
void store_listener_stop(struct store *s, struct store_listener *l);
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

/* An article that a query matches. */
struct search_row {
	int64_t article_id;
	enum access_level access; /* as stored: the auto-paywall is the caller's to apply */
	int64_t published_at;
	double rank;    /* the public index's bm25 (lower is better); 0 without a public match */
	bool in_public; /* titles, deks, teasers matched */
	bool in_gated;  /* only all of the text (gated part too) matched */
};

/* What a search reads: the articles published at now, at most limit of
 * them, and the gated index only for the articles whose gated index the
 * reader may search (search/search.h derives it from the reading path's
 * decision): by access as stored, a public article published at or before
 * paywalled_before counting as paid (the auto-paywall; INT64_MIN: never). */
struct search_scope {
	int64_t now;
	size_t limit;
	bool gated_public, gated_members, gated_paid;
	int64_t paywalled_before;
};

/* What a result shows, from the public index. Marked text holds 0x01 where
 * a match starts and 0x02 where it ends, and is not escaped. */
struct search_excerpt {
	const char *slug, *title, *dek;
	int64_t published_at;
	const char *title_marked, *dek_marked, *snippet_marked;
	bool matched; /* false: the public index does not match it (nothing marked) */
};

/* [read] The articles that match (an FTS query built by search/query.h,
 * never a reader's text) matches, newest first (by the minute published,
 * then id), at most scope->limit: first the public index's matches, ranked
 * (in_public), then, when they are fewer than the limit, the gated index's
 * matches in scope that the public index does not match (in_gated). *more:
 * there are matches past the limit. Only the rows returned are ranked, so
 * the cost follows the limit, not the number of matches. search/search.h
 * decides, again, which rows a reader gets. */
mh_err store_search(struct store *s, struct arena *a, const char *match, const struct search_scope *scope,
                    struct search_row **out, size_t *n, bool *more);

/* [read] An article's excerpt with the words of mark (an FTS query too,
 * usually any of the terms) marked; MH_ERR_NOTFOUND for an unknown article. */
mh_err store_search_excerpt(struct store *s, struct arena *a, const char *mark, int64_t article_id,
                            struct search_excerpt *out);

/* [read] The gated index's snippet of an article (marked as above), under the
 * rule of store_article_gated, stricter (mark as above): the decision must be FULL for this
 * article by right, not by a gift link or the meter; MH_ERR_DENIED otherwise. */
mh_err store_search_gated_snippet(struct store *s, struct arena *a, const char *mark,
                                  const struct access_decision *decision, const char **snippet);

/* [write] Merges both indexes into one part each (FTS5's optimize: about
 * 20 s at 100,000 articles; PostgreSQL: fresh statistics). Run after a
 * bulk write of STORE_SEARCH_COMPACT_AFTER articles or more (import, the
 * index built after a migration): queries get slower with every part. */
#define STORE_SEARCH_COMPACT_AFTER 1000
mh_err store_search_compact(struct store *s);

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

/* [write] Spends every unused link of the member at now (a confirmed
 * address, a new password: links mailed before stop working). */
mh_err store_token_spend_member(struct store *s, int64_t member_id, int64_t now);

/* ---- Limits and housekeeping ----------------------------------------------------------------- */

/* [claim] Counts an attempt in bucket; *allowed false (and nothing counted) when
 * limit attempts fell within the last window seconds. */
mh_err store_rate_hit(struct store *s, const char *bucket, int64_t now, int64_t window, int limit, bool *allowed,
                      int64_t *retry_after);

/* [read] How many attempts bucket holds within the last window seconds, and
 * the seconds until the oldest of them leaves it (at least 1). */
mh_err store_rate_count(struct store *s, const char *bucket, int64_t now, int64_t window, int *n, int64_t *retry_after);

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
 * exists returns MH_ERR_CONFLICT and its id. The new row is claimed until
 * inv->claimed_until in the same statement (0: unclaimed). */
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

/* [claim] Takes an open invoice for lease seconds; MH_ERR_CONFLICT when another worker
 * has it, or it is open no more (paid, void). */
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

/* What /metrics reports from the database. */
#define SITE_STATS_MAX 16
struct site_stat {
	const char *key; /* a status, or a currency (mrr); from the arena */
	double value;    /* a count, or minor units a month (mrr) */
};
struct site_stats {
	int64_t outbox_queued;                    /* mails not sent yet */
	struct site_stat subs[SITE_STATS_MAX];    /* subscriptions by status */
	struct site_stat mrr[SITE_STATS_MAX];     /* active subscriptions' price a month, by currency */
	struct site_stat charges[SITE_STATS_MAX]; /* charges by status (pending, succeeded, failed) */
	size_t n_subs, n_mrr, n_charges;
};
/* [read] Each figure is a read of committed rows (not one snapshot for all). */
mh_err store_site_stats(struct store *s, struct arena *a, struct site_stats *out);

/* [read] Every speaker who has a quote in an article published at now, by name. */
mh_err store_speaker_list(struct store *s, struct arena *a, int64_t now, struct speaker **out, size_t *n);

/* ---- Moving in (import-site): redirects, newsletter consent, comped members ------------------ */

/* [idempotent] old_path (an old site's path, with "?p=ID" for WordPress's
 * query form) answers 301 with new_path, a same-site path. */
mh_err store_redirect_put(struct store *s, const char *old_path, const char *new_path, const char *source, int64_t now);

/* [read] MH_ERR_NOTFOUND when old_path has no redirect. */
mh_err store_redirect_get(struct store *s, struct arena *a, const char *old_path, const char **new_path);

/* [read] Every redirect, by old path. */
mh_err store_redirect_list(struct store *s, struct arena *a, struct redirect **out, size_t *n);

/* [idempotent] The member's newsletter consent as the old platform kept it. */
mh_err store_consent_put(struct store *s, int64_t member_id, bool newsletter, const char *source, int64_t now);

/* [read] MH_ERR_NOTFOUND when none was recorded. */
mh_err store_consent_get(struct store *s, int64_t member_id, bool *newsletter);

/* [write] A comped member reads everything until `until` (0: not comped). */
mh_err store_member_set_comped(struct store *s, int64_t member_id, int64_t until);
/* ---- Newsletters (docs/newsletters.md; src/store/nlops.c) ------------------------------------- */

struct newsletter {
	int64_t id;
	const char *slug, *name; /* name "": the site's name */
	const char *sender;      /* From; "": the site's mail-from */
	const char *reply_to;    /* "": none */
	const char *full_levels; /* article access levels mailed in full: "public,members,paid" */
	bool subscribe_on_signup;
	bool subscribed; /* store_newsletter_list with a member: that member's choice */
};

/* A subscribed member, with what the access decision reads of them. */
struct nl_audience {
	int64_t member_id;
	const char *email, *name;
	enum member_role role;
	int64_t comped_until;
	bool has_sub;
	enum sub_status status;
	int64_t grace_until, period_end;
	bool cancel_at_period_end;
};

enum nl_state { NL_QUEUED, NL_CLAIMED, NL_SENT, NL_FAILED, NL_BOUNCED, NL_UNCONFIRMED, NL_STATE_COUNT };

struct nl_recipient {
	int64_t id, send_id, member_id;
	const char *email, *name;
	const char *reason; /* access_reason_name() of the decision the version follows */
	bool full;
	enum nl_state state;
	int attempts;
	int64_t newsletter_id, article_id; /* store_newsletter_recipient only */
};

struct nl_send {
	int64_t id, newsletter_id, article_id;
	int64_t created_at, enqueued_at, finished_at;
	const char *newsletter_slug, *article_slug; /* store_newsletter_sends only */
};

struct nl_counts {
	int64_t recipients, state[NL_STATE_COUNT], unsubscribed;
};

/* What became of one claimed or queued recipient (store_newsletter_settle). */
struct nl_outcome {
	int64_t id;
	enum nl_state state; /* NL_SENT, NL_FAILED, NL_BOUNCED; NL_QUEUED: try again at retry_at */
	int64_t retry_at;
	const char *error;
};

const char *nl_state_name(enum nl_state st);

/* [write] Creates the newsletter, or updates the one with its slug. */
mh_err store_newsletter_save(struct store *s, const struct newsletter *nl, int64_t *id);
/* [read] By slug; slug NULL: the first one made. */
mh_err store_newsletter_get(struct store *s, struct arena *a, const char *slug, struct newsletter *out);
/* [read] Every newsletter; with member_id, .subscribed says whether that member gets it. */
mh_err store_newsletter_list(struct store *s, struct arena *a, int64_t member_id, struct newsletter **out, size_t *n);
/* [idempotent] Subscribes (on) or unsubscribes a member. */
mh_err store_newsletter_subscribe(struct store *s, int64_t newsletter_id, int64_t member_id, bool on, int64_t now);
/* [unique] The send of article_id by newsletter_id: MH_ERR_CONFLICT (and *id
 * the existing one) when it was started before. */
mh_err store_newsletter_send_create(struct store *s, int64_t newsletter_id, int64_t article_id, int64_t now,
                                    int64_t *id);
/* [read] */
mh_err store_newsletter_send_get(struct store *s, struct arena *a, int64_t newsletter_id, int64_t article_id,
                                 struct nl_send *out);
/* [read] Every send, newest first, with the slugs. */
mh_err store_newsletter_sends(struct store *s, struct arena *a, struct nl_send **out, size_t *n);
/* [read] Up to max subscribed members after member id `after`, by id, but
 * those whose address is suppressed. */
mh_err store_newsletter_audience(struct store *s, struct arena *a, int64_t newsletter_id, int64_t after, size_t max,
                                 struct nl_audience **out, size_t *n);
/* [txn] Queues recipients of a send in one transaction; a member queued
 * already is skipped, so an interrupted enqueue can run again. */
mh_err store_newsletter_enqueue(struct store *s, int64_t send_id, const struct nl_recipient *r, size_t n);
/* [write] Marks the enqueue (finished) or the whole send (finished_at) done. */
mh_err store_newsletter_send_mark(struct store *s, int64_t send_id, int64_t enqueued_at, int64_t finished_at);
/* [claim] Takes the send's lease for owner until `until`: when it is free
 * (expired at now), held by owner, or held by steal (a dead owner); else
 * MH_ERR_CONFLICT, and holder gets who holds it. Taking it from anyone else turns their claimed rows
 * into unconfirmed ones (*orphans counts them): they are never sent again. */
mh_err store_newsletter_lease(struct store *s, int64_t send_id, const char *owner, const char *steal, int64_t now,
                              int64_t until, int64_t *orphans, char *holder, size_t holderlen);
/* [read] Up to max queued recipients due at now with id > after, by id. */
mh_err store_newsletter_due(struct store *s, struct arena *a, int64_t send_id, int64_t after, int64_t now, size_t max,
                            struct nl_recipient **out, size_t *n);
/* [claim] Claims each of ids (queued to claimed) and records the outcomes o
 * (as store_newsletter_settle), in one transaction; won[i] says whether
 * ids[i] was this caller's. */
mh_err store_newsletter_claim(struct store *s, const int64_t *ids, size_t n, int64_t now, bool *won,
                              const struct nl_outcome *o, size_t no);
/* [txn] Records outcomes in one transaction. */
mh_err store_newsletter_settle(struct store *s, const struct nl_outcome *o, size_t n, int64_t now);
/* [read] */
mh_err store_newsletter_counts(struct store *s, int64_t send_id, struct nl_counts *out);
/* [read] One recipient, with its send's newsletter and article. */
mh_err store_newsletter_recipient(struct store *s, struct arena *a, int64_t id, struct nl_recipient *out);
/* [idempotent] The recipient's member leaves the send's newsletter; the
 * recipient row remembers it (counts' unsubscribed). */
mh_err store_newsletter_unsubscribe(struct store *s, int64_t recipient_id, int64_t now);
/* [idempotent] A bounce of the recipient's message: the row becomes
 * bounced; hard (or a complaint) suppresses the address for every newsletter. */
mh_err store_newsletter_bounce(struct store *s, int64_t recipient_id, bool hard, const char *reason, const char *detail,
                               int64_t now);
/* [read] Whether an address is suppressed. */
mh_err store_mail_suppressed(struct store *s, const char *email, bool *yes);

/* ---- The newsroom's audit log (docs/newsroom.md) ---------------------------------------------- */

struct audit_entry {
	int64_t id, at;
	int64_t actor_id; /* 0: the account is gone or it was the command line */
	const char *actor_email, *action, *target, *detail, *ip;
};

/* [write] Adds e (its id is ignored). */
mh_err store_audit_add(struct store *s, const struct audit_entry *e);
/* [read] Up to limit entries older than before_id (0: the newest), newest first. */
mh_err store_audit_list(struct store *s, struct arena *a, int64_t before_id, size_t limit, struct audit_entry **out,
                        size_t *n);

/* ---- The reading site's directories: /tags, /authors, /people --------------------------------- */

enum directory_kind { DIR_TAGS, DIR_AUTHORS, DIR_PEOPLE };

struct directory_entry {
	const char *slug, *name;
	const char *detail; /* a speaker's role; "" otherwise */
	int64_t count;      /* articles published at now (quoting them, for speakers) */
};

/* [read] Every tag, author or speaker with an article published at now, by name. */
mh_err store_directory(struct store *s, struct arena *a, enum directory_kind kind, int64_t now,
                       struct directory_entry **out, size_t *n);

/* ---- Author profiles --------------------------------------------------------------------------- */

/* [idempotent] Makes the author or replaces its name, bio and photo. */
mh_err store_author_put(struct store *s, const struct author_profile *p);
/* [read] MH_ERR_NOTFOUND for an unknown slug. */
mh_err store_author_get(struct store *s, struct arena *a, const char *slug, struct author_profile *out);

/* ---- Most read: reads by the hour --------------------------------------------------------------- */

struct read_count {
	const char *slug; /* as the reader asked for it: unknown slugs count nothing */
	int64_t reads;
};

struct most_read {
	const char *slug, *title;
	enum access_level access;
	int64_t reads;
};

/* [txn] Adds each count to its article's reads in hour, and forgets hours
 * before prune_before; in one transaction. */
mh_err store_reads_add(struct store *s, const struct read_count *c, size_t n, int64_t hour, int64_t prune_before);
/* [read] The limit articles published at now read most since since_hour,
 * most first (the newer first on a tie). */
mh_err store_most_read(struct store *s, struct arena *a, int64_t since_hour, int64_t now, size_t limit,
                       struct most_read **out, size_t *n);

/* ---- The newsroom's images (docs/newsroom.md, "Images") ---------------------------------------- */

struct media_row {
	const char *hash; /* the file's BLAKE2b-256 in hex: its name under DATA/media */
	const char *type; /* "JPEG", "PNG", "WebP", "GIF" */
	int64_t width, height, bytes;
	const char *url; /* the widest variant's public path */
	const char *alt, *filename;
	int64_t uploaded_by;  /* 0: the account is gone */
	const char *uploader; /* its e-mail, on reads ("" when gone) */
	int64_t created_at;
};

/* [idempotent] Adds m unless a row with its hash exists; *added says which. */
mh_err store_media_add(struct store *s, const struct media_row *m, bool *added);
/* [read] Up to limit images, newest first, after offset. */
mh_err store_media_list(struct store *s, struct arena *a, size_t offset, size_t limit, struct media_row **out,
                        size_t *n);

/* ---- The newsroom's articles (docs/newsroom.md, "Articles") ----------------------------------- */

enum newsroom_status {
	NEWSROOM_DRAFT,
	NEWSROOM_SCHEDULED,
	NEWSROOM_PUBLISHED,
	NEWSROOM_ARCHIVED,
	NEWSROOM_STATUS_COUNT
};
const char *newsroom_status_name(enum newsroom_status st);
/* -1 when s names no status. */
int newsroom_status_parse(const char *s);

/* A story's working copy: the fields of the import format, as the editor
 * holds them (authors and tags comma-separated), apart from what readers read. */
struct newsroom_article {
	int64_t id;
	enum newsroom_status status;
	const char *slug, *title, *dek, *access, *authors, *tags;
	int64_t publish_at;
	bool featured;
	const char *feature_image, *feature_image_alt, *body;
	const char *live_slug; /* the slug readers have it under; "" when not published */
	int64_t live_at;       /* when it was last published */
	int64_t created_at, updated_at;
	const char *updated_by;
};

struct newsroom_revision {
	int64_t id, at;
	const char *actor, *note;
	struct newsroom_article art; /* the saved fields (id: the story's) */
};

struct newsroom_filter {
	int status;                   /* -1: any; NEWSROOM_SCHEDULED also counts published rows due later */
	const char *access;           /* NULL or "": any */
	const char *tag, *author, *q; /* a tag or author name among the row's; words of the title */
	int64_t now;
	size_t limit, offset;
};

/* [write] Gives every published article that has no working copy one (an
 * import, the demo, a command beside the server), by slug. */
mh_err store_newsroom_adopt(struct store *s, int64_t now);
/* [read] Working copies by filter, newest change first; *total counts all matches. */
mh_err store_newsroom_list(struct store *s, struct arena *a, const struct newsroom_filter *f,
                           struct newsroom_article **out, size_t *n, size_t *total);
/* [read] MH_ERR_NOTFOUND when unknown. */
mh_err store_newsroom_get(struct store *s, struct arena *a, int64_t id, struct newsroom_article *out);
/* [unique] A new working copy (in->id ignored; MH_ERR_CONFLICT when its slug is taken), or [write] the fields,
 * status, live_slug and live_at of the one with in->id (MH_ERR_CONFLICT: slug taken; MH_ERR_NOTFOUND). */
mh_err store_newsroom_put(struct store *s, const struct newsroom_article *in, int64_t *id);
/* [write] Keeps the working copy id as it now stands as a revision. */
mh_err store_newsroom_revision_add(struct store *s, int64_t id, int64_t at, const char *actor, const char *note);
/* [read] A story's revisions, newest first, at most limit. */
mh_err store_newsroom_revisions(struct store *s, struct arena *a, int64_t id, size_t limit,
                                struct newsroom_revision **out, size_t *n);
/* [read] One revision of story id; MH_ERR_NOTFOUND when it is not one of its. */
mh_err store_newsroom_revision_get(struct store *s, struct arena *a, int64_t id, int64_t rev,
                                   struct newsroom_revision *out);
/* [read] Ids of scheduled stories due at now, at most max. */
mh_err store_newsroom_due(struct store *s, struct arena *a, int64_t now, size_t max, int64_t **ids, size_t *n);
/* [claim] A scheduled story due at now becomes published: MH_ERR_CONFLICT when
 * another caller took it or it is no longer scheduled and due. */
mh_err store_newsroom_claim(struct store *s, int64_t id, int64_t now);
/* [write] Deletes the published article with that slug and everything
 * hanging from it (gated part, quotes, search rows, gift links, newsletter
 * sends); MH_ERR_NOTFOUND when there is none. */
mh_err store_article_delete(struct store *s, const char *slug);
/* [unique] A private preview link of story id (the token's hash) until expires_at. */
mh_err store_newsroom_preview_add(struct store *s, const char *token_hash, int64_t id, int64_t expires_at, int64_t now);
/* [read] The story a live preview token opens; MH_ERR_NOTFOUND when unknown or expired at now. */
mh_err store_newsroom_preview_get(struct store *s, const char *token_hash, int64_t now, int64_t *id);

/* ---- The newsroom's members and dashboard (docs/newsroom.md) ----------------------------------- */

/* [read] Members whose e-mail or name holds q (any case; "" or NULL: all),
 * by id, at most limit of them after the first offset. */
mh_err store_member_search(struct store *s, struct arena *a, const char *q, size_t offset, size_t limit,
                           struct member **out, size_t *n);

/* [txn] Deletes the member and their data: sessions, links, cards,
 * subscription, invoices, charges, gift links, meter reads, feed token,
 * newsletter subscriptions and deliveries, mail waiting in the outbox for
 * their address. The audit log keeps its entries (by e-mail). One
 * transaction; MH_ERR_NOTFOUND when there is no such member. */
mh_err store_member_delete(struct store *s, int64_t member_id);

/* [txn] Creates the n members, all or none: MH_ERR_CONFLICT when one's
 * e-mail is taken (*bad its index), and nothing is created. */
mh_err store_member_import(struct store *s, const struct member *m, size_t n, size_t *bad);

/* Paying subscribers at one moment, by currency: those with a paid invoice
 * (of more than nothing) whose period holds the moment, and its price a
 * month (an invoice's amount over its plan's months), in minor units. */
struct paying_at {
	const char *currency;
	int64_t subscribers;
	int64_t mrr;
};
/* [read] At most SITE_STATS_MAX currencies. */
mh_err store_paying_at(struct store *s, struct arena *a, int64_t at, struct paying_at *out, size_t *n);

/* The dashboard's counts between from and to (this month, up to now). */
struct dash_counts {
	int64_t members;
	int64_t trials;  /* subscriptions trialing now */
	int64_t started; /* subscriptions whose first paid invoice was paid between from and to */
	int64_t churned; /* canceled at a period end, or unpaid at a grace end, between from and to */
	struct site_stat recovered[SITE_STATS_MAX]; /* invoices paid between from and to by another card
	                                             * than one that failed on them, by currency */
	size_t n_recovered;
};
/* [read] */
mh_err store_dash_counts(struct store *s, struct arena *a, int64_t from, int64_t to, struct dash_counts *out);

/* An open invoice with a failed charge: its member is waiting on a card. */
struct failing_invoice {
	int64_t invoice_id, member_id;
	const char *email, *name, *status; /* the subscription's status */
	int64_t amount;
	const char *currency;
	int attempts;
	int64_t next_attempt_at, created_at;
};
/* [read] The oldest first, at most limit. */
mh_err store_invoices_failing(struct store *s, struct arena *a, size_t limit, struct failing_invoice **out, size_t *n);

/* ---- Settings the newsroom sets (docs/newsroom.md, "Settings") ------------------------------- */

struct setting {
	const char *name;  /* a config key (core/config.h) */
	const char *value; /* a secret's value is sealed by the caller (web/settings.c) */
	bool secret;
};

/* [read] Every setting, by name, and the settings' version as of the same read. */
mh_err store_settings_get(struct store *s, struct arena *a, struct setting **out, size_t *n, int64_t *version);
/* [read] The settings' version alone: it moves with every save. */
mh_err store_settings_version(struct store *s, int64_t *version);
/* [txn] One save, all or nothing: each of put written, each name in del
 * removed, each of plans upserted (by code), and the version moved (which
 * moves the content version too: the nodes reload). */
mh_err store_settings_save(struct store *s, const struct setting *put, size_t nput, const char *const *del, size_t ndel,
                           const struct plan *plans, size_t nplans, int64_t now);

/* ---- New-device codes of staff sign-ins (web/admin_device.c) ---------------------------------- */

struct device_code {
	int64_t id, member_id;
	const char *code_hash;
	int64_t expires_at;
	int attempts;
	bool used;
};

/* [write] A new code for member_id; codes expired before now are removed. */
mh_err store_device_code_add(struct store *s, int64_t member_id, const char *code_hash, int64_t now, int64_t expires_at,
                             int64_t *id);
/* [read] MH_ERR_NOTFOUND when there is no such code. */
mh_err store_device_code_get(struct store *s, struct arena *a, int64_t id, struct device_code *out);
/* [claim] Counts one attempt: MH_ERR_NOTFOUND when the code is used,
 * expired at now, or has had max_attempts already (nothing counted then). */
mh_err store_device_code_try(struct store *s, int64_t id, int max_attempts, int64_t now);
/* [claim] Spends the code: MH_ERR_NOTFOUND when it was spent already. */
mh_err store_device_code_use(struct store *s, int64_t id);

#endif
