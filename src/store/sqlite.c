/* sqlite.c: the SQLite backend of store.h.
 *
 * Each thread gets its own connection (WAL lets readers run beside one
 * writer), with every statement prepared once on first use and kept.
 *
 * The statements are written in the SQL both engines speak, so a PostgreSQL
 * backend can share them: ON CONFLICT ... DO NOTHING, not INSERT OR IGNORE;
 * CASE expressions, not summed comparisons; every parameter whose type the
 * statement does not fix (IS NULL, COALESCE) cast to it; booleans compared
 * with = 1. What stays SQLite's own is in this file's code, not its SQL:
 * sqlite3_last_insert_rowid (RETURNING in the other dialect), sqlite3_changes
 * and the PRAGMAs at connection open. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/alloc.h"
#include "core/embed.h"
#include "core/htmltext.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

enum stmt_id {
	ST_ARTICLE_ID,
	ST_ARTICLE_INSERT,
	ST_ARTICLE_UPDATE,
	ST_GATED_DELETE,
	ST_GATED_INSERT,
	ST_AUTHORS_CLEAR,
	ST_AUTHOR_UPSERT,
	ST_AUTHOR_ID,
	ST_AUTHOR_LINK,
	ST_TAGS_CLEAR,
	ST_TAG_UPSERT,
	ST_TAG_ID,
	ST_TAG_LINK,
	ST_QUOTES_CLEAR,
	ST_SPEAKER_UPSERT,
	ST_SPEAKER_ID,
	ST_QUOTE_INSERT,
	ST_QUOTE_GATED_INSERT,
	ST_ARTICLE_BY_SLUG,
	ST_ARTICLE_AUTHORS,
	ST_ARTICLE_TAGS,
	ST_ARTICLE_GATED,
	ST_LIST_ALL,
	ST_LIST_TAG,
	ST_LIST_AUTHOR,
	ST_SOURCES,
	ST_TAG_BY_SLUG,
	ST_AUTHOR_BY_SLUG,
	ST_SPEAKER_BY_SLUG,
	ST_SPEAKER_QUOTES,
	ST_QUOTE_GATED,
	ST_SEARCH_PUB_DELETE,
	ST_SEARCH_GATED_DELETE,
	ST_SEARCH_PUB_INSERT,
	ST_SEARCH_GATED_INSERT,
	ST_SEARCH_PENDING,
	ST_SEARCH_PENDING_DONE,
	ST_SEARCH_PUBLIC,
	ST_SEARCH_GATED,
	ST_SEARCH_EXCERPT,
	ST_SEARCH_ARTICLE,
	ST_SEARCH_GATED_SNIPPET,
	ST_MEMBER_INSERT,
	ST_MEMBER_BY_EMAIL,
	ST_MEMBER_LIST,
	ST_MEMBER_SET_ROLE,
	ST_MEMBER_SET_PASSWORD,
	ST_MEMBER_BY_ID,
	ST_MEMBER_UPDATE,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_TOUCH,
	ST_SESSION_DELETE,
	ST_HK_SESSIONS,
	ST_HK_TOKENS,
	ST_HK_CHECKOUTS,
	ST_HK_METER,
	ST_SESSION_DELETE_MEMBER,
	ST_SESSION_LIST,
	ST_TOKEN_INSERT,
	ST_TOKEN_GET,
	ST_TOKEN_USE,
	ST_RATE_COUNT,
	ST_RATE_INSERT,
	ST_RATE_PRUNE,
	ST_OUTBOX_INSERT,
	ST_OUTBOX_DUE,
	ST_OUTBOX_CLAIM,
	ST_OUTBOX_SENT,
	ST_OUTBOX_RETRY,
	ST_OUTBOX_LIST,
	ST_PLAN_UPSERT,
	ST_PLAN_LIST,
	ST_PLAN_GET,
	ST_PLAN_ID,
	ST_SUB_BY_MEMBER,
	ST_SUB_GET,
	ST_SUB_INSERT,
	ST_SUB_UPDATE,
	ST_PM_CLEAR_DEFAULT,
	ST_PM_INSERT,
	ST_PM_DEFAULT,
	ST_GIFT_INSERT,
	ST_GIFT_GET,
	ST_GIFT_USE,
	ST_GIFT_LIST,
	ST_GIFT_REVOKE,
	ST_METER_GET,
	ST_METER_ADD,
	ST_INV_INSERT,
	ST_INV_ID_BY_KEY,
	ST_INV_SAVE,
	ST_INV_GET,
	ST_INV_OPEN,
	ST_INV_LIST,
	ST_INV_DUE,
	ST_INV_CLAIM,
	ST_INV_RELEASE,
	ST_CHG_INSERT,
	ST_CHG_FINISH,
	ST_CHG_PENDING,
	ST_CHG_LAST_FAILURE,
	ST_SUB_DUE,
	ST_APIKEY_INSERT,
	ST_APIKEY_BY_HASH,
	ST_APIKEY_LIST,
	ST_APIKEY_REVOKE,
	ST_SPEAKER_LIST,
	ST_ARTICLE_COUNT,
	ST_SUB_BY_PROVIDER,
	ST_CARDS_EXPIRING,
	ST_CARD_REMINDED,
	ST_CHECKOUT_INSERT,
	ST_CHECKOUT_GET,
	ST_CHECKOUT_COMPLETE,
	ST_LEDGER_INSERT,
	ST_LEDGER_GET,
	ST_LEDGER_COUNT,
	ST_EVENT_INSERT,
	ST_VERSIONS,
	ST_PING,
	ST_CHANGES,
	ST_CHANGES_PRUNE,
	ST_FEED_TOKEN_SAVE,
	ST_FEED_TOKEN_DELETE,
	ST_FEED_TOKEN_BY_MEMBER,
	ST_FEED_TOKEN_FIND,
	ST_SITEMAP,
	ST_COUNT
};

#define ARTICLE_COLS "a.id, a.slug, a.title, a.dek, a.summary, a.access, a.published_at, a.updated_at, a.has_gated"
#define LIST_TAIL    " AND a.published_at <= ?2 ORDER BY a.published_at DESC, a.id DESC LIMIT ?3 OFFSET ?4"
#define MEMBER_COLS  "id, email, name, password_hash, role, created_at, comped_until, email_verified"
#define PLAN_COLS    "id, code, name, amount, currency, interval_months, trial_days, retired, provider_price_id"
#define SUB_COLS                                                                                                       \
	"id, member_id, plan_id, status, period_start, period_end, trial_end, grace_until, cancel_at_period_end, "     \
	"canceled_at, provider, provider_id, provider_customer, provider_updated, created_at, updated_at, "            \
	"trial_reminded, version"
#define INV_COLS                                                                                                       \
	"id, subscription_id, amount, currency, status, period_start, period_end, attempts, next_attempt_at, "         \
	"idempotency_key, provider_id, paid_at, created_at"
#define CHG_COLS                                                                                                       \
	"id, invoice_id, idempotency_key, payment_method_id, status, failure_code, failure_message, created_at, "      \
	"finished_at"
#define PM_COLS "id, member_id, brand, last4, exp_month, exp_year, behavior, is_default, provider_id, created_at"
#define GIFT_COLS                                                                                                      \
	"g.id, g.token_hash, g.member_id, g.article_id, g.max_uses, g.uses, g.created_at, g.expires_at, g.revoked_at"
#define SESSION_COLS "token_hash, member_id, created_at, last_seen_at, expires_at, user_agent, ip"
#define OUTBOX_COLS                                                                                                    \
	"id, to_addr, subject, body_text, body_html, message_id, created_at, attempts, next_attempt_at, sent_at, last_error"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ARTICLE_ID] = "SELECT id FROM articles WHERE slug = ?1",
	[ST_ARTICLE_INSERT] =
	        "INSERT INTO articles (slug, title, dek, summary, access, published_at, updated_at, teaser_md, "
	        "teaser_html, has_marker, has_gated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_ARTICLE_UPDATE] =
	        "UPDATE articles SET slug = ?1, title = ?2, dek = ?3, summary = ?4, access = ?5, published_at = ?6, "
	        "updated_at = ?7, teaser_md = ?8, teaser_html = ?9, has_marker = ?10, has_gated = ?11 WHERE id = ?12",
	[ST_GATED_DELETE] = "DELETE FROM article_gated WHERE article_id = ?1",
	[ST_GATED_INSERT] = "INSERT INTO article_gated (article_id, body_md, body_html) VALUES (?1, ?2, ?3)",
	[ST_AUTHORS_CLEAR] = "DELETE FROM article_authors WHERE article_id = ?1",
	[ST_AUTHOR_UPSERT] =
	        "INSERT INTO authors (slug, name) VALUES (?1, ?2) ON CONFLICT (slug) DO UPDATE SET name = excluded.name",
	[ST_AUTHOR_ID] = "SELECT id FROM authors WHERE slug = ?1",
	[ST_AUTHOR_LINK] =
	        "INSERT INTO article_authors (article_id, author_id, position) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[ST_TAGS_CLEAR] = "DELETE FROM article_tags WHERE article_id = ?1",
	[ST_TAG_UPSERT] =
	        "INSERT INTO tags (slug, name) VALUES (?1, ?2) ON CONFLICT (slug) DO UPDATE SET name = excluded.name",
	[ST_TAG_ID] = "SELECT id FROM tags WHERE slug = ?1",
	[ST_TAG_LINK] =
	        "INSERT INTO article_tags (article_id, tag_id, position) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[ST_QUOTES_CLEAR] = "DELETE FROM quotes WHERE article_id = ?1",
	[ST_SPEAKER_UPSERT] = "INSERT INTO speakers (slug, name, role) VALUES (?1, ?2, ?3) "
	                      "ON CONFLICT (slug) DO UPDATE SET name = excluded.name, role = excluded.role",
	[ST_SPEAKER_ID] = "SELECT id FROM speakers WHERE slug = ?1",
	[ST_QUOTE_INSERT] = "INSERT INTO quotes (article_id, speaker_id, position, role, gated, text_html) "
	                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_QUOTE_GATED_INSERT] = "INSERT INTO quote_gated (quote_id, text_html) VALUES (?1, ?2)",
	[ST_ARTICLE_BY_SLUG] = "SELECT " ARTICLE_COLS ", a.teaser_html FROM articles a WHERE a.slug = ?1",
	[ST_ARTICLE_AUTHORS] = "SELECT au.slug, au.name FROM article_authors x JOIN authors au ON au.id = x.author_id "
	                       "WHERE x.article_id = ?1 ORDER BY x.position",
	[ST_ARTICLE_TAGS] = "SELECT t.slug, t.name FROM article_tags x JOIN tags t ON t.id = x.tag_id "
	                    "WHERE x.article_id = ?1 ORDER BY x.position",
	[ST_ARTICLE_GATED] = "SELECT body_html FROM article_gated WHERE article_id = ?1",
	[ST_LIST_ALL] = "SELECT " ARTICLE_COLS " FROM articles a WHERE CAST(?1 AS TEXT) IS NULL" LIST_TAIL,
	[ST_LIST_TAG] = "SELECT " ARTICLE_COLS " FROM articles a JOIN article_tags x ON x.article_id = a.id "
	                "JOIN tags t ON t.id = x.tag_id WHERE t.slug = ?1" LIST_TAIL,
	[ST_LIST_AUTHOR] = "SELECT " ARTICLE_COLS " FROM articles a JOIN article_authors x ON x.article_id = a.id "
	                   "JOIN authors au ON au.id = x.author_id WHERE au.slug = ?1" LIST_TAIL,
	[ST_SOURCES] = "SELECT " ARTICLE_COLS ", a.teaser_md, COALESCE(g.body_md, ''), a.has_marker "
	               "FROM articles a LEFT JOIN article_gated g ON g.article_id = a.id ORDER BY a.published_at, a.id",
	[ST_TAG_BY_SLUG] = "SELECT slug, name FROM tags WHERE slug = ?1",
	[ST_AUTHOR_BY_SLUG] = "SELECT slug, name FROM authors WHERE slug = ?1",
	[ST_SPEAKER_BY_SLUG] = "SELECT id, slug, name, role FROM speakers WHERE slug = ?1",
	[ST_SPEAKER_QUOTES] = "SELECT q.id, q.article_id, q.role, q.gated, q.text_html, a.slug, a.title, a.access, "
	                      "a.published_at FROM quotes q JOIN articles a ON a.id = q.article_id "
	                      "WHERE q.speaker_id = ?1 AND a.published_at <= ?2 "
	                      "ORDER BY a.published_at DESC, q.position",
	[ST_QUOTE_GATED] = "SELECT text_html FROM quote_gated WHERE quote_id = ?1",
	/* Search (docs/search.md): FTS5, so SQLite's own SQL. Marks are 0x01
	 * and 0x02, which indexed text never holds (core/htmltext.h). */
	[ST_SEARCH_PUB_DELETE] = "DELETE FROM search_public WHERE rowid = ?1",
	[ST_SEARCH_GATED_DELETE] = "DELETE FROM search_gated WHERE rowid = ?1",
	[ST_SEARCH_PUB_INSERT] = "INSERT INTO search_public (rowid, title, dek, body) VALUES (?1, ?2, ?3, ?4)",
	[ST_SEARCH_GATED_INSERT] = "INSERT INTO search_gated (rowid, open, body) VALUES (?1, ?2, ?3)",
	[ST_SEARCH_PENDING] = "SELECT p.article_id, a.title, a.dek, a.teaser_html, COALESCE(g.body_html, '') "
	                      "FROM search_pending p JOIN articles a ON a.id = p.article_id "
	                      "LEFT JOIN article_gated g ON g.article_id = a.id ORDER BY p.article_id LIMIT 200",
	[ST_SEARCH_PENDING_DONE] = "DELETE FROM search_pending WHERE article_id = ?1",
	/* Title hits weigh most, then the dek, then the teaser. The articles
	 * are read through the narrow index that migration 0009 made for it (the
	 * planner would read the rows, text and all, by their id). */
	[ST_SEARCH_PUBLIC] =
	        "SELECT a.id, a.access, a.published_at, bm25(search_public, 10.0, 4.0, 1.0) "
	        "FROM search_public JOIN articles a INDEXED BY articles_search ON a.id = search_public.rowid "
	        "WHERE search_public MATCH ?1 AND a.published_at <= ?2 ORDER BY search_public.rowid",
	[ST_SEARCH_GATED] = "SELECT a.id, a.access, a.published_at FROM search_gated "
	                    "JOIN articles a INDEXED BY articles_search ON a.id = search_gated.rowid "
	                    "WHERE search_gated MATCH ?1 AND a.published_at <= ?2 ORDER BY search_gated.rowid",
	[ST_SEARCH_EXCERPT] =
	        "SELECT a.slug, a.title, a.dek, a.published_at, highlight(search_public, 0, X'01', X'02'), "
	        "highlight(search_public, 1, X'01', X'02'), "
	        "snippet(search_public, 2, X'01', X'02', '\xe2\x80\xa6', 24) "
	        "FROM search_public JOIN articles a ON a.id = search_public.rowid "
	        "WHERE search_public MATCH ?1 AND search_public.rowid = ?2",
	[ST_SEARCH_ARTICLE] = "SELECT slug, title, dek, published_at FROM articles WHERE id = ?1",
	[ST_SEARCH_GATED_SNIPPET] =
	        "SELECT snippet(search_gated, 1, X'01', X'02', '\xe2\x80\xa6', 24) FROM search_gated "
	        "WHERE search_gated MATCH ?1 AND rowid = ?2",
	[ST_MEMBER_INSERT] = "INSERT INTO members (email, name, password_hash, role, created_at, comped_until) "
	                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MEMBER_BY_EMAIL] = "SELECT " MEMBER_COLS " FROM members WHERE email = ?1",
	[ST_MEMBER_LIST] = "SELECT " MEMBER_COLS " FROM members ORDER BY id",
	[ST_MEMBER_SET_ROLE] = "UPDATE members SET role = ?2 WHERE email = ?1",
	[ST_MEMBER_SET_PASSWORD] = "UPDATE members SET password_hash = ?2 WHERE email = ?1",
	[ST_MEMBER_BY_ID] = "SELECT " MEMBER_COLS " FROM members WHERE id = ?1",
	[ST_MEMBER_UPDATE] =
	        "UPDATE members SET name = COALESCE(CAST(?2 AS TEXT), name), email = COALESCE(CAST(?3 AS TEXT), email), "
	        "email_verified = CASE WHEN CAST(?4 AS INTEGER) >= 0 THEN CAST(?4 AS INTEGER) ELSE email_verified END "
	        "WHERE id = ?1",
	[ST_SESSION_INSERT] = "INSERT INTO sessions (" SESSION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_SESSION_GET] =
	        "SELECT s.token_hash, s.member_id, s.created_at, s.last_seen_at, s.expires_at, s.user_agent, "
	        "s.ip, m.id, m.email, m.name, m.password_hash, m.role, m.created_at, m.comped_until, "
	        "m.email_verified FROM sessions s JOIN members m ON m.id = s.member_id "
	        "WHERE s.token_hash = ?1 AND s.expires_at > ?2",
	[ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE token_hash = ?1",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
	[ST_SESSION_DELETE_MEMBER] =
	        "DELETE FROM sessions WHERE member_id = ?1 AND token_hash <> COALESCE(CAST(?2 AS TEXT), '')",
	[ST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE member_id = ?1 AND expires_at > ?2 "
	                    "ORDER BY last_seen_at DESC",
	[ST_TOKEN_INSERT] = "INSERT INTO auth_tokens (token_hash, purpose, member_id, new_email, next, created_at, "
	                    "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_TOKEN_GET] = "SELECT token_hash, member_id, new_email, next, created_at, expires_at FROM auth_tokens "
	                 "WHERE token_hash = ?1 AND purpose = ?2 AND used_at = 0 AND expires_at > ?3",
	[ST_TOKEN_USE] = "UPDATE auth_tokens SET used_at = ?3 WHERE token_hash = ?1 AND purpose = ?2 AND used_at = 0 "
	                 "AND expires_at > ?3",
	[ST_RATE_COUNT] = "SELECT count(*), min(at) FROM rate_events WHERE bucket = ?1 AND at > ?2",
	/* Counted and recorded in one statement: two attempts at once cannot
	 * both see room for one more. */
	[ST_RATE_INSERT] = "INSERT INTO rate_events (bucket, at) SELECT ?1, ?2 WHERE (SELECT count(*) FROM "
	                   "rate_events WHERE bucket = ?1 AND at > ?3) < ?4",
	[ST_RATE_PRUNE] = "DELETE FROM rate_events WHERE at < ?1",
	[ST_HK_SESSIONS] = "DELETE FROM sessions WHERE expires_at < ?1",
	[ST_HK_TOKENS] = "DELETE FROM auth_tokens WHERE expires_at < ?1",
	[ST_HK_CHECKOUTS] = "DELETE FROM checkouts WHERE expires_at < ?1",
	[ST_HK_METER] = "DELETE FROM meter_reads WHERE read_at < ?1",
	[ST_OUTBOX_INSERT] = "INSERT INTO mail_outbox (to_addr, subject, body_text, body_html, message_id, created_at, "
	                     "next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[ST_OUTBOX_DUE] = "SELECT " OUTBOX_COLS " FROM mail_outbox WHERE sent_at = 0 AND next_attempt_at <= ?1 "
	                  "AND claimed_until <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
	[ST_OUTBOX_CLAIM] = "UPDATE mail_outbox SET claimed_until = ?2, attempts = attempts + 1 "
	                    "WHERE id = ?1 AND sent_at = 0 AND claimed_until <= ?3",
	[ST_OUTBOX_SENT] = "UPDATE mail_outbox SET sent_at = ?2, claimed_until = 0, last_error = '' WHERE id = ?1",
	[ST_OUTBOX_RETRY] =
	        "UPDATE mail_outbox SET next_attempt_at = ?2, claimed_until = 0, last_error = ?3 WHERE id = ?1",
	[ST_OUTBOX_LIST] = "SELECT " OUTBOX_COLS " FROM mail_outbox ORDER BY id",
	[ST_PLAN_UPSERT] = "INSERT INTO plans (code, name, amount, currency, interval_months, trial_days, retired, "
	                   "provider_price_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	                   "ON CONFLICT (code) DO UPDATE SET name = excluded.name, amount = excluded.amount, "
	                   "currency = excluded.currency, interval_months = excluded.interval_months, "
	                   "trial_days = excluded.trial_days, retired = excluded.retired, "
	                   "provider_price_id = excluded.provider_price_id",
	[ST_PLAN_LIST] =
	        "SELECT " PLAN_COLS " FROM plans WHERE ?1 = 1 OR retired = 0 ORDER BY interval_months, amount, id",
	[ST_PLAN_GET] = "SELECT " PLAN_COLS " FROM plans WHERE id = ?1 OR code = ?2",
	[ST_PLAN_ID] = "SELECT id FROM plans WHERE code = ?1",
	[ST_SUB_BY_MEMBER] = "SELECT " SUB_COLS " FROM subscriptions WHERE member_id = ?1",
	[ST_SUB_GET] = "SELECT " SUB_COLS " FROM subscriptions WHERE id = ?1",
	[ST_SUB_INSERT] =
	        "INSERT INTO subscriptions (member_id, plan_id, status, period_start, period_end, trial_end, "
	        "grace_until, cancel_at_period_end, canceled_at, provider, provider_id, provider_customer, "
	        "provider_updated, created_at, updated_at, trial_reminded) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	        "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
	[ST_SUB_UPDATE] = "UPDATE subscriptions SET member_id = ?2, plan_id = ?3, status = ?4, period_start = ?5, "
	                  "period_end = ?6, trial_end = ?7, grace_until = ?8, cancel_at_period_end = ?9, "
	                  "canceled_at = ?10, provider = ?11, provider_id = ?12, provider_customer = ?13, "
	                  "provider_updated = ?14, created_at = ?15, updated_at = ?16, trial_reminded = ?17, "
	                  "version = version + 1 WHERE id = ?1 AND version = ?18",
	[ST_PM_CLEAR_DEFAULT] = "UPDATE payment_methods SET is_default = 0 WHERE member_id = ?1",
	[ST_PM_INSERT] = "INSERT INTO payment_methods (member_id, brand, last4, exp_month, exp_year, behavior, "
	                 "is_default, provider_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_PM_DEFAULT] = "SELECT " PM_COLS " FROM payment_methods WHERE member_id = ?1 AND is_default = 1 "
	                  "ORDER BY id DESC LIMIT 1",
	[ST_GIFT_INSERT] = "INSERT INTO gift_links (token_hash, member_id, article_id, max_uses, uses, created_at, "
	                   "expires_at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
	[ST_GIFT_GET] = "SELECT " GIFT_COLS " FROM gift_links g WHERE g.token_hash = ?1",
	[ST_GIFT_USE] = "UPDATE gift_links SET uses = uses + 1 WHERE id = ?1 AND uses < max_uses AND "
	                "expires_at > ?2 AND revoked_at = 0",
	[ST_GIFT_LIST] =
	        "SELECT " GIFT_COLS ", a.slug, a.title FROM gift_links g JOIN articles a ON a.id = g.article_id "
	        "WHERE g.member_id = ?1 ORDER BY g.created_at DESC, g.id DESC",
	[ST_GIFT_REVOKE] = "UPDATE gift_links SET revoked_at = ?3 WHERE id = ?1 AND member_id = ?2 AND revoked_at = 0",
	[ST_METER_GET] =
	        "SELECT count(*), coalesce(sum(CASE WHEN article_id = ?3 THEN 1 ELSE 0 END), 0) FROM meter_reads "
	        "WHERE member_id = ?1 AND month = ?2",
	[ST_APIKEY_INSERT] = "INSERT INTO api_keys (name, key_hash, created_at) VALUES (?1, ?2, ?3)",
	[ST_APIKEY_BY_HASH] = "SELECT id, name, key_hash, created_at, revoked_at FROM api_keys WHERE key_hash = ?1",
	[ST_APIKEY_LIST] = "SELECT id, name, key_hash, created_at, revoked_at FROM api_keys ORDER BY id",
	[ST_APIKEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at = 0",
	[ST_SPEAKER_LIST] =
	        "SELECT s.id, s.slug, s.name, s.role FROM speakers s WHERE EXISTS (SELECT 1 FROM quotes q "
	        "JOIN articles a ON a.id = q.article_id WHERE q.speaker_id = s.id AND a.published_at <= ?1) "
	        "ORDER BY s.name, s.id",
	[ST_ARTICLE_COUNT] = "SELECT count(*) FROM articles WHERE published_at <= ?1",
	[ST_METER_ADD] = "INSERT INTO meter_reads (member_id, month, article_id, read_at) VALUES (?1, ?2, ?3, ?4) "
	                 "ON CONFLICT DO NOTHING",
	[ST_INV_INSERT] = "INSERT INTO invoices (subscription_id, amount, currency, status, period_start, period_end, "
	                  "attempts, next_attempt_at, idempotency_key, provider_id, paid_at, created_at) "
	                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_INV_ID_BY_KEY] = "SELECT id FROM invoices WHERE idempotency_key = ?1",
	[ST_INV_SAVE] = "UPDATE invoices SET status = ?2, attempts = ?3, next_attempt_at = ?4, paid_at = ?5, "
	                "provider_id = ?6 WHERE id = ?1",
	[ST_INV_GET] = "SELECT " INV_COLS " FROM invoices WHERE id = ?1",
	[ST_INV_OPEN] = "SELECT " INV_COLS " FROM invoices WHERE subscription_id = ?1 AND status = 'open' "
	                "ORDER BY created_at DESC, id DESC LIMIT 1",
	[ST_INV_LIST] =
	        "SELECT " INV_COLS " FROM invoices WHERE subscription_id = ?1 ORDER BY created_at DESC, id DESC "
	        "LIMIT 50",
	[ST_INV_DUE] = "SELECT " INV_COLS " FROM invoices WHERE status = 'open' AND next_attempt_at > 0 AND "
	               "next_attempt_at <= ?1 AND claimed_until <= ?1 ORDER BY next_attempt_at, id LIMIT 500",
	[ST_INV_CLAIM] = "UPDATE invoices SET claimed_until = ?2 + ?3 WHERE id = ?1 AND claimed_until <= ?2",
	[ST_INV_RELEASE] = "UPDATE invoices SET claimed_until = 0 WHERE id = ?1",
	[ST_CHG_INSERT] = "INSERT INTO charges (invoice_id, idempotency_key, payment_method_id, status, created_at) "
	                  "VALUES (?1, ?2, ?3, 'pending', ?4)",
	[ST_CHG_FINISH] = "UPDATE charges SET status = ?2, failure_code = ?3, failure_message = ?4, finished_at = ?5 "
	                  "WHERE id = ?1 AND status = 'pending'",
	[ST_CHG_PENDING] = "SELECT " CHG_COLS " FROM charges WHERE status = 'pending' ORDER BY id",
	[ST_CHG_LAST_FAILURE] = "SELECT " CHG_COLS " FROM charges WHERE invoice_id = ?1 AND status = 'failed' "
	                        "ORDER BY id DESC LIMIT 1",
	[ST_SUB_DUE] = "SELECT " SUB_COLS " FROM subscriptions WHERE status IN ('active', 'trialing', 'past_due') AND "
	               "(period_end <= ?1 OR (status = 'past_due' AND grace_until > 0 AND grace_until <= ?1) OR "
	               "(status = 'trialing' AND trial_reminded = 0 AND trial_end > 0 AND trial_end - ?2 <= ?1)) "
	               "ORDER BY id",
	[ST_SUB_BY_PROVIDER] = "SELECT " SUB_COLS " FROM subscriptions WHERE (?1 <> '' AND provider_id = ?1) OR "
	                       "(?2 <> '' AND provider_customer = ?2) ORDER BY (provider_id = ?1) DESC LIMIT 1",
	[ST_CARDS_EXPIRING] = "SELECT " PM_COLS " FROM payment_methods WHERE is_default = 1 AND expiry_reminded = 0 "
	                      "AND exp_year * 12 + exp_month - 1 < ?1 ORDER BY id",
	[ST_CARD_REMINDED] = "UPDATE payment_methods SET expiry_reminded = 1 WHERE id = ?1 AND expiry_reminded = 0",
	[ST_CHECKOUT_INSERT] = "INSERT INTO checkouts (token_hash, member_id, plan_id, purpose, status, created_at, "
	                       "expires_at) VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6)",
	[ST_CHECKOUT_GET] = "SELECT token_hash, member_id, plan_id, purpose, status, created_at, expires_at FROM "
	                    "checkouts WHERE token_hash = ?1 AND expires_at > ?2",
	[ST_CHECKOUT_COMPLETE] = "UPDATE checkouts SET status = 'complete' WHERE token_hash = ?1 AND status = 'open'",
	[ST_LEDGER_INSERT] = "INSERT INTO test_provider_charges (idempotency_key, amount, outcome, created_at) "
	                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[ST_LEDGER_GET] = "SELECT outcome FROM test_provider_charges WHERE idempotency_key = ?1",
	[ST_LEDGER_COUNT] = "SELECT count(*) FROM test_provider_charges WHERE idempotency_key LIKE ?1 || '%' AND "
	                    "outcome = 'succeeded'",
	[ST_EVENT_INSERT] = "INSERT INTO billing_events (provider, event_id, type, created, received_at) "
	                    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_VERSIONS] = "SELECT (SELECT version FROM content_version WHERE id = 1), "
	                "(SELECT COALESCE(MAX(seq), 0) FROM member_changes)",
	[ST_PING] = "SELECT 1",
	[ST_CHANGES] = "SELECT seq, member_id FROM member_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[ST_CHANGES_PRUNE] = "DELETE FROM member_changes WHERE seq <= (SELECT MAX(seq) FROM member_changes) - ?1",
	[ST_FEED_TOKEN_SAVE] =
	        "INSERT INTO feed_tokens (member_id, token_hash, nonce, created_at) VALUES (?1, ?2, ?3, ?4) "
	        "ON CONFLICT (member_id) DO UPDATE SET token_hash = excluded.token_hash, "
	        "nonce = excluded.nonce, created_at = excluded.created_at",
	[ST_FEED_TOKEN_DELETE] = "DELETE FROM feed_tokens WHERE member_id = ?1",
	[ST_FEED_TOKEN_BY_MEMBER] =
	        "SELECT member_id, token_hash, nonce, created_at FROM feed_tokens WHERE member_id = ?1",
	[ST_FEED_TOKEN_FIND] = "SELECT member_id, token_hash, nonce, created_at FROM feed_tokens WHERE token_hash = ?1",
	/* Published articles, then the tags, authors and speakers that have one. */
	[ST_SITEMAP] = "SELECT 'a', a.slug, a.title, a.published_at, a.updated_at FROM articles a "
	               "WHERE a.published_at <= ?1 "
	               "UNION ALL SELECT 't', t.slug, t.name, 0, 0 FROM tags t WHERE EXISTS (SELECT 1 FROM "
	               "article_tags x JOIN articles a ON a.id = x.article_id WHERE x.tag_id = t.id AND "
	               "a.published_at <= ?1) "
	               "UNION ALL SELECT 'u', au.slug, au.name, 0, 0 FROM authors au WHERE EXISTS (SELECT 1 FROM "
	               "article_authors x JOIN articles a ON a.id = x.article_id WHERE x.author_id = au.id AND "
	               "a.published_at <= ?1) "
	               "UNION ALL SELECT 'p', sp.slug, sp.name, 0, 0 FROM speakers sp WHERE EXISTS (SELECT 1 FROM "
	               "quotes q JOIN articles a ON a.id = q.article_id WHERE q.speaker_id = sp.id AND "
	               "a.published_at <= ?1) "
	               "ORDER BY 1, 4 DESC, 2",
};

struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmts[ST_COUNT];
	struct conn *next;
	struct sq *owner;
};

struct sq {
	char *path;
	pthread_key_t key;
	pthread_mutex_t lock;
	struct conn *all;
};

static void
conn_close(struct conn *c)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	sqlite3_close(c->db);
	free(c);
}

static void
conn_unlink(struct sq *q, struct conn *c)
{
	pthread_mutex_lock(&q->lock);
	for (struct conn **pp = &q->all; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

/* A thread that ends closes its own connection. */
static void
conn_thread_exit(void *p)
{
	struct conn *c = p;
	conn_unlink(c->owner, c);
	conn_close(c);
}

static mh_err
sq_fail(struct store *s, sqlite3 *db, const char *what)
{
	snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
	if (db && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
		return MH_ERR_CONFLICT;
	return MH_ERR_DB;
}

/* Runs after each commit, once other connections can see it: counts the
 * process's writes for the caches, and checkpoints as SQLite's own hook
 * (which this one replaces) would. */
static int
on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;
	__atomic_fetch_add(&s->writes, 1, __ATOMIC_RELEASE);
	if (frames >= 1000)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static struct conn *
conn_get(struct store *s)
{
	struct sq *q = s->impl;
	struct conn *c = pthread_getspecific(q->key);
	if (c)
		return c;
	c = xcalloc(1, sizeof *c);
	c->owner = q;
	int rc = sqlite3_open_v2(q->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		sq_fail(s, c->db, q->path);
		log_error("cannot open database", "path=\"%s\" error=\"%s\"", q->path, store_errbuf());
		conn_close(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 5000);
	/* 512 KiB of page cache a connection (not SQLite's 2 MiB): every thread
	 * has one, the server keeps what it reads most in its own caches, and
	 * the kernel keeps the file. */
	sqlite3_exec(c->db,
	             "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; "
	             "PRAGMA cache_size = -512;",
	             NULL, NULL, NULL);
	sqlite3_wal_hook(c->db, on_commit, s);
	pthread_setspecific(q->key, c);
	pthread_mutex_lock(&q->lock);
	c->next = q->all;
	q->all = c;
	pthread_mutex_unlock(&q->lock);
	return c;
}

/* Returns the prepared statement, reset and with no bindings; NULL on error. */
static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id)
{
	struct conn *c = conn_get(s);
	if (!c)
		return NULL;
	if (!c->stmts[id]) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id], NULL) !=
		    SQLITE_OK) {
			sq_fail(s, c->db, "prepare");
			log_error("cannot prepare statement", "id=%d error=\"%s\"", (int) id, store_errbuf());
			return NULL;
		}
	}
	sqlite3_reset(c->stmts[id]);
	sqlite3_clear_bindings(c->stmts[id]);
	return c->stmts[id];
}

static sqlite3 *
handle(struct store *s)
{
	struct conn *c = conn_get(s);
	return c ? c->db : NULL;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

static const char *
col_str(struct arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return arena_strndup(a, t ? (const char *) t : "", (size_t) sqlite3_column_bytes(st, i));
}

static mh_err collect_rows(struct store *s, struct arena *a, sqlite3_stmt *st, size_t size,
                           void (*read)(struct arena *, sqlite3_stmt *, void *), void **out, size_t *n);

/* Steps a statement that returns no rows. */
static mh_err
exec_stmt(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(s, sqlite3_db_handle(st), "write");
	return MH_OK;
}

static mh_err
exec_sql(struct store *s, const char *sql)
{
	sqlite3 *db = handle(s);
	if (!db)
		return MH_ERR_DB;
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return MH_ERR_DB;
	}
	return MH_OK;
}

/* Looks up one id by a text key; MH_ERR_NOTFOUND when there is no row. */
static mh_err
id_by_text(struct store *s, enum stmt_id id, const char *key, int64_t *out)
{
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	mh_err err = MH_OK;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		err = MH_ERR_NOTFOUND;
	else
		err = sq_fail(s, sqlite3_db_handle(st), "lookup");
	sqlite3_reset(st);
	return err;
}

static void
sq_close(struct store *s)
{
	struct sq *q = s->impl;
	struct conn *c = q->all;
	while (c) {
		struct conn *n = c->next;
		conn_close(c);
		c = n;
	}
	pthread_key_delete(q->key);
	pthread_mutex_destroy(&q->lock);
	free(q->path);
	free(q);
}

static mh_err
sq_ping(struct store *s)
{
	sqlite3_stmt *st = stmt(s, ST_PING);
	if (!st)
		return MH_ERR_DB;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "ping");
}

static mh_err
sq_versions(struct store *s, struct store_versions *out)
{
	sqlite3_stmt *st = stmt(s, ST_VERSIONS);
	if (!st)
		return MH_ERR_DB;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->content = sqlite3_column_int64(st, 0);
		out->members = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "read");
}

/* Member changes: the rows after *cursor, in commit order (SQLite has one
 * writer, so a row's seq is its commit order). */
static mh_err
sq_member_changes(struct store *s, struct arena *a, int64_t *cursor, size_t max, int64_t **ids, size_t *n, bool *flush)
{
	*ids = NULL;
	*n = 0;
	*flush = false;
	struct store_versions v;
	mh_err err = sq_versions(s, &v);
	if (err)
		return err;
	/* A first call, a reader further behind than housekeeping keeps, or a
	 * store that went back (restored): nothing can be said per member. */
	if (*cursor < 0 || *cursor > v.members || v.members - *cursor > STORE_CHANGES_BEHIND) {
		*flush = true;
		*cursor = v.members;
		return MH_OK;
	}
	if (*cursor == v.members || max == 0)
		return MH_OK;
	sqlite3_stmt *st = stmt(s, ST_CHANGES);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, *cursor);
	sqlite3_bind_int64(st, 2, (int64_t) max);
	int64_t *out = arena_alloc(a, max * sizeof *out);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*cursor = sqlite3_column_int64(st, 0);
		out[(*n)++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "read");
	*ids = out;
	return MH_OK;
}

static mh_err
sq_begin(struct store *s)
{
	return exec_sql(s, "BEGIN IMMEDIATE");
}
static mh_err
sq_commit(struct store *s)
{
	return exec_sql(s, "COMMIT");
}
static mh_err
sq_rollback(struct store *s)
{
	return exec_sql(s, "ROLLBACK");
}

static mh_err search_index_pending(struct store *s, int *done);

static mh_err
sq_migrate(struct store *s, int *applied)
{
	mh_err err = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
	                         "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
	if (err)
		return err;
	*applied = 0;
	sqlite3 *db = handle(s);
	for (const struct embedded_file *m = embedded_migrations; m->name; m++) {
		long version = strtol(m->name, NULL, 10);
		if (version <= 0) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "migration %s: name must start with its number",
			         m->name);
			return MH_ERR_INVALID;
		}
		if ((err = sq_begin(s)))
			return err;
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &st, NULL)) {
			err = sq_fail(s, db, "migrate");
			goto fail;
		}
		sqlite3_bind_int64(st, 1, version);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW) {
			sq_rollback(s);
			continue;
		}
		if ((err = exec_sql(s, m->data))) {
			char msg[STORE_ERRMSG_MAX];
			snprintf(msg, sizeof msg, "%s", store_errbuf());
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "migration %.40s: %.200s", m->name, msg);
			goto fail;
		}
		if (sqlite3_prepare_v2(db,
		                       "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
		                       -1, &st, NULL)) {
			err = sq_fail(s, db, "migrate");
			goto fail;
		}
		sqlite3_bind_int64(st, 1, version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, clock_now());
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			err = sq_fail(s, db, "migrate");
			goto fail;
		}
		if ((err = sq_commit(s)))
			goto fail;
		(*applied)++;
		log_info("migration applied", "name=%s", m->name);
	}
	int indexed;
	if ((err = search_index_pending(s, &indexed)))
		return err;
	if (indexed)
		log_info("search index built", "articles=%d", indexed);
	return MH_OK;
fail:
	sq_rollback(s);
	return err;
}

/* Links names (authors or tags) to an article, creating them as needed. */
static mh_err
link_names(struct store *s, int64_t article_id, const struct named_ref *refs, size_t n, enum stmt_id upsert,
           enum stmt_id get_id, enum stmt_id link)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = stmt(s, upsert);
		if (!st)
			return MH_ERR_DB;
		bind_text(st, 1, refs[i].slug);
		bind_text(st, 2, refs[i].name);
		mh_err err = exec_stmt(s, st);
		int64_t id;
		if (err || (err = id_by_text(s, get_id, refs[i].slug, &id)))
			return err;
		if (!(st = stmt(s, link)))
			return MH_ERR_DB;
		sqlite3_bind_int64(st, 1, article_id);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_int64(st, 3, (int64_t) i);
		if ((err = exec_stmt(s, st)))
			return err;
	}
	return MH_OK;
}

static mh_err
clear_for(struct store *s, enum stmt_id id, int64_t article_id)
{
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, article_id);
	return exec_stmt(s, st);
}

/* Search (docs/search.md): an article's rows in both indexes, rewritten
 * whole in the caller's transaction; the gated index gets a row only when
 * there is gated text. */
static mh_err
search_index(struct store *s, int64_t id, const char *title, const char *dek, const char *teaser_html,
             const char *gated_html)
{
	mh_err err;
	if ((err = clear_for(s, ST_SEARCH_PUB_DELETE, id)) || (err = clear_for(s, ST_SEARCH_GATED_DELETE, id)) ||
	    (err = clear_for(s, ST_SEARCH_PENDING_DONE, id)))
		return err;
	struct buf text = BUF_INIT;
	htmltext_append(&text, title);
	char *t = buf_detach(&text, NULL);
	htmltext_append(&text, dek);
	char *d = buf_detach(&text, NULL);
	htmltext_append(&text, teaser_html);
	/* The gated index's open column: all the public text, one run. */
	struct buf open = BUF_INIT;
	buf_puts(&open, t);
	buf_putc(&open, ' ');
	buf_puts(&open, d);
	buf_putc(&open, ' ');
	buf_puts(&open, text.ptr);
	sqlite3_stmt *st = stmt(s, ST_SEARCH_PUB_INSERT);
	if (!st) {
		err = MH_ERR_DB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, t);
	bind_text(st, 3, d);
	bind_text(st, 4, text.ptr);
	if ((err = exec_stmt(s, st)))
		goto out;
	if (gated_html && gated_html[0]) {
		buf_reset(&text);
		htmltext_append(&text, gated_html);
		if (!(st = stmt(s, ST_SEARCH_GATED_INSERT))) {
			err = MH_ERR_DB;
			goto out;
		}
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, open.ptr);
		bind_text(st, 3, text.ptr);
		err = exec_stmt(s, st);
	}
out:
	free(t);
	free(d);
	buf_release(&open);
	buf_release(&text);
	return err;
}

/* Indexes the articles queued in search_pending (by migration 0009, for
 * the articles a database held before it), a batch a transaction. */
static mh_err
search_index_pending(struct store *s, int *done)
{
	*done = 0;
	for (;;) {
		struct arena *a = arena_new();
		mh_err err = sq_begin(s);
		sqlite3_stmt *st = err ? NULL : stmt(s, ST_SEARCH_PENDING);
		if (!err && !st)
			err = MH_ERR_DB;
		size_t n = 0, cap = 200;
		struct {
			int64_t id;
			const char *title, *dek, *teaser, *gated;
		} *rows = arena_alloc(a, cap * sizeof *rows);
		int rc = SQLITE_DONE;
		while (!err && n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			rows[n].id = sqlite3_column_int64(st, 0);
			rows[n].title = col_str(a, st, 1);
			rows[n].dek = col_str(a, st, 2);
			rows[n].teaser = col_str(a, st, 3);
			rows[n].gated = col_str(a, st, 4);
			n++;
		}
		if (st)
			sqlite3_reset(st);
		if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
			err = sq_fail(s, handle(s), "search index");
		for (size_t i = 0; !err && i < n; i++)
			err = search_index(s, rows[i].id, rows[i].title, rows[i].dek, rows[i].teaser, rows[i].gated);
		arena_free(a);
		if (err) {
			sq_rollback(s);
			return err;
		}
		if ((err = sq_commit(s)))
			return err;
		*done += (int) n;
		if (n == 0)
			return MH_OK;
	}
}

static mh_err
upsert_body(struct store *s, const struct article_input *in, int64_t *id, bool *created)
{
	mh_err err = id_by_text(s, ST_ARTICLE_ID, in->slug, id);
	if (err && err != MH_ERR_NOTFOUND)
		return err;
	*created = err == MH_ERR_NOTFOUND;
	sqlite3_stmt *st = stmt(s, *created ? ST_ARTICLE_INSERT : ST_ARTICLE_UPDATE);
	if (!st)
		return MH_ERR_DB;
	bool has_gated = in->gated_html && in->gated_html[0];
	bind_text(st, 1, in->slug);
	bind_text(st, 2, in->title);
	bind_text(st, 3, in->dek);
	bind_text(st, 4, in->summary);
	bind_text(st, 5, access_level_name(in->access));
	sqlite3_bind_int64(st, 6, in->published_at);
	sqlite3_bind_int64(st, 7, in->updated_at);
	bind_text(st, 8, in->teaser_md);
	bind_text(st, 9, in->teaser_html);
	sqlite3_bind_int(st, 10, in->has_marker);
	sqlite3_bind_int(st, 11, has_gated);
	if (!*created)
		sqlite3_bind_int64(st, 12, *id);
	if ((err = exec_stmt(s, st)))
		return err;
	if (*created)
		*id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));

	if ((err = clear_for(s, ST_GATED_DELETE, *id)))
		return err;
	if (has_gated) {
		if (!(st = stmt(s, ST_GATED_INSERT)))
			return MH_ERR_DB;
		sqlite3_bind_int64(st, 1, *id);
		bind_text(st, 2, in->gated_md);
		bind_text(st, 3, in->gated_html);
		if ((err = exec_stmt(s, st)))
			return err;
	}
	if ((err = search_index(s, *id, in->title, in->dek, in->teaser_html, has_gated ? in->gated_html : "")))
		return err;
	if ((err = clear_for(s, ST_AUTHORS_CLEAR, *id)) ||
	    (err = link_names(s, *id, in->authors, in->n_authors, ST_AUTHOR_UPSERT, ST_AUTHOR_ID, ST_AUTHOR_LINK)) ||
	    (err = clear_for(s, ST_TAGS_CLEAR, *id)) ||
	    (err = link_names(s, *id, in->tags, in->n_tags, ST_TAG_UPSERT, ST_TAG_ID, ST_TAG_LINK)) ||
	    (err = clear_for(s, ST_QUOTES_CLEAR, *id)))
		return err;
	for (size_t i = 0; i < in->n_quotes; i++) {
		const struct quote_input *q = &in->quotes[i];
		int64_t speaker_id;
		if (!(st = stmt(s, ST_SPEAKER_UPSERT)))
			return MH_ERR_DB;
		bind_text(st, 1, q->speaker_slug);
		bind_text(st, 2, q->speaker_name);
		bind_text(st, 3, q->role);
		if ((err = exec_stmt(s, st)) || (err = id_by_text(s, ST_SPEAKER_ID, q->speaker_slug, &speaker_id)))
			return err;
		if (!(st = stmt(s, ST_QUOTE_INSERT)))
			return MH_ERR_DB;
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, speaker_id);
		sqlite3_bind_int64(st, 3, (int64_t) i);
		bind_text(st, 4, q->role);
		sqlite3_bind_int(st, 5, q->gated);
		bind_text(st, 6, q->gated ? "" : q->text_html);
		if ((err = exec_stmt(s, st)))
			return err;
		if (q->gated) {
			int64_t quote_id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
			if (!(st = stmt(s, ST_QUOTE_GATED_INSERT)))
				return MH_ERR_DB;
			sqlite3_bind_int64(st, 1, quote_id);
			bind_text(st, 2, q->text_html);
			if ((err = exec_stmt(s, st)))
				return err;
		}
	}
	return MH_OK;
}

static mh_err
sq_article_upsert(struct store *s, const struct article_input *in, int64_t *id, bool *created)
{
	/* A savepoint nests inside an import's transaction and stands alone outside one. */
	mh_err err = exec_sql(s, "SAVEPOINT article_upsert");
	if (err)
		return err;
	if ((err = upsert_body(s, in, id, created))) {
		char msg[STORE_ERRMSG_MAX];
		snprintf(msg, sizeof msg, "%s", store_errbuf());
		exec_sql(s, "ROLLBACK TO article_upsert");
		exec_sql(s, "RELEASE article_upsert");
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg);
		return err;
	}
	return exec_sql(s, "RELEASE article_upsert");
}

static void
read_article_row(struct arena *a, sqlite3_stmt *st, struct article *out)
{
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(st, 0);
	out->slug = col_str(a, st, 1);
	out->title = col_str(a, st, 2);
	out->dek = col_str(a, st, 3);
	out->summary = col_str(a, st, 4);
	int level = access_level_parse((const char *) sqlite3_column_text(st, 5));
	out->access = level < 0 ? ACCESS_PAID : (enum access_level) level; /* unknown: the strictest */
	out->published_at = sqlite3_column_int64(st, 6);
	out->updated_at = sqlite3_column_int64(st, 7);
	out->has_gated = sqlite3_column_int(st, 8) != 0;
}

static mh_err
read_refs(struct store *s, struct arena *a, enum stmt_id id, int64_t article_id, struct named_ref **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, article_id);
	size_t cap = 4, count = 0;
	struct named_ref *refs = arena_alloc(a, cap * sizeof *refs);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct named_ref *more = arena_alloc(a, 2 * cap * sizeof *refs);
			memcpy(more, refs, cap * sizeof *refs);
			refs = more;
			cap *= 2;
		}
		refs[count].slug = col_str(a, st, 0);
		refs[count].name = col_str(a, st, 1);
		count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "read");
	*out = refs;
	*n = count;
	return MH_OK;
}

static mh_err
read_people(struct store *s, struct arena *a, struct article *art)
{
	mh_err err = read_refs(s, a, ST_ARTICLE_AUTHORS, art->id, &art->authors, &art->n_authors);
	if (!err)
		err = read_refs(s, a, ST_ARTICLE_TAGS, art->id, &art->tags, &art->n_tags);
	return err;
}

static mh_err
sq_article_by_slug(struct store *s, struct arena *a, const char *slug, struct article **out)
{
	sqlite3_stmt *st = stmt(s, ST_ARTICLE_BY_SLUG);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
	}
	struct article *art = arena_alloc(a, sizeof *art);
	read_article_row(a, st, art);
	art->teaser_html = col_str(a, st, 9);
	sqlite3_reset(st);
	*out = art;
	return read_people(s, a, art);
}

static mh_err
text_by_id(struct store *s, struct arena *a, enum stmt_id id, int64_t key, const char **html)
{
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*html = col_str(a, st, 0);
	else if (rc == SQLITE_DONE)
		*html = "";
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_article_gated(struct store *s, struct arena *a, int64_t article_id, const char **html)
{
	return text_by_id(s, a, ST_ARTICLE_GATED, article_id, html);
}

static mh_err
sq_quote_gated(struct store *s, struct arena *a, int64_t quote_id, const char **html)
{
	return text_by_id(s, a, ST_QUOTE_GATED, quote_id, html);
}

/* Reads one index's matches (ordered by article id) into rows. */
static mh_err
search_rows(struct store *s, struct arena *a, enum stmt_id id, const char *match, int64_t now, bool ranked,
            struct search_row **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, match);
	sqlite3_bind_int64(st, 2, now);
	size_t cap = 64, count = 0;
	struct search_row *rows = arena_alloc(a, cap * sizeof *rows);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct search_row *more = arena_alloc(a, 2 * cap * sizeof *rows);
			memcpy(more, rows, cap * sizeof *rows);
			rows = more;
			cap *= 2;
		}
		struct search_row *r = &rows[count++];
		memset(r, 0, sizeof *r);
		r->article_id = sqlite3_column_int64(st, 0);
		int level = access_level_parse((const char *) sqlite3_column_text(st, 1));
		r->access = level < 0 ? ACCESS_PAID : (enum access_level) level;
		r->published_at = sqlite3_column_int64(st, 2);
		if (ranked) {
			r->rank = sqlite3_column_double(st, 3);
			r->in_public = true;
		} else {
			r->in_gated = true;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "search");
	*out = rows;
	*n = count;
	return MH_OK;
}

static mh_err
sq_search(struct store *s, struct arena *a, const char *match, int64_t now, struct search_row **out, size_t *n)
{
	struct search_row *pub, *gated;
	size_t np, ng;
	mh_err err = search_rows(s, a, ST_SEARCH_PUBLIC, match, now, true, &pub, &np);
	if (!err)
		err = search_rows(s, a, ST_SEARCH_GATED, match, now, false, &gated, &ng);
	if (err)
		return err;
	/* Both lists are in article order: merge them, one row an article. */
	struct search_row *rows = arena_alloc(a, (np + ng + 1) * sizeof *rows);
	size_t i = 0, j = 0, k = 0;
	while (i < np || j < ng) {
		if (j == ng || (i < np && pub[i].article_id < gated[j].article_id)) {
			rows[k++] = pub[i++];
		} else if (i == np || gated[j].article_id < pub[i].article_id) {
			rows[k++] = gated[j++];
		} else {
			rows[k] = pub[i++];
			rows[k++].in_gated = true;
			j++;
		}
	}
	*out = rows;
	*n = k;
	return MH_OK;
}

static mh_err
sq_search_excerpt(struct store *s, struct arena *a, const char *match, int64_t article_id, struct search_excerpt *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = stmt(s, ST_SEARCH_EXCERPT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, match);
	sqlite3_bind_int64(st, 2, article_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->slug = col_str(a, st, 0);
		out->title = col_str(a, st, 1);
		out->dek = col_str(a, st, 2);
		out->published_at = sqlite3_column_int64(st, 3);
		out->title_marked = col_str(a, st, 4);
		out->dek_marked = col_str(a, st, 5);
		out->snippet_marked = col_str(a, st, 6);
		out->matched = true;
		sqlite3_reset(st);
		return MH_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "search");
	/* No public match: the article as it is, nothing marked. */
	if (!(st = stmt(s, ST_SEARCH_ARTICLE)))
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, article_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->slug = col_str(a, st, 0);
		out->title = out->title_marked = col_str(a, st, 1);
		out->dek = out->dek_marked = col_str(a, st, 2);
		out->published_at = sqlite3_column_int64(st, 3);
		out->snippet_marked = "";
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return MH_ERR_NOTFOUND;
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "search");
}

static mh_err
sq_search_gated_snippet(struct store *s, struct arena *a, const char *match, int64_t article_id, const char **snippet)
{
	*snippet = "";
	sqlite3_stmt *st = stmt(s, ST_SEARCH_GATED_SNIPPET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, match);
	sqlite3_bind_int64(st, 2, article_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*snippet = col_str(a, st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "search");
}

static mh_err
sq_article_list(struct store *s, struct arena *a, const struct article_filter *f, struct article **out, size_t *n)
{
	enum stmt_id id = f->kind == LIST_TAG ? ST_LIST_TAG : f->kind == LIST_AUTHOR ? ST_LIST_AUTHOR : ST_LIST_ALL;
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	if (f->kind != LIST_ALL)
		bind_text(st, 1, f->slug);
	sqlite3_bind_int64(st, 2, f->before ? f->before : INT64_MAX);
	sqlite3_bind_int64(st, 3, (int64_t) f->limit);
	sqlite3_bind_int64(st, 4, (int64_t) f->offset);
	struct article *list = arena_alloc(a, (f->limit ? f->limit : 1) * sizeof *list);
	size_t count = 0;
	int rc = SQLITE_DONE;
	while (count < f->limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_article_row(a, st, &list[count++]);
	sqlite3_reset(st);
	if (count < f->limit && rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "list");
	for (size_t i = 0; i < count; i++) {
		mh_err err = read_people(s, a, &list[i]);
		if (err)
			return err;
	}
	*out = list;
	*n = count;
	return MH_OK;
}

static mh_err
sq_article_sources(struct store *s, struct arena *a, struct article_source **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_SOURCES);
	if (!st)
		return MH_ERR_DB;
	size_t cap = 16, count = 0;
	struct article_source *list = xmallocarray(cap, sizeof *list);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap)
			list = xrealloc(list, (cap *= 2) * sizeof *list);
		read_article_row(a, st, &list[count].a);
		list[count].teaser_md = col_str(a, st, 9);
		list[count].gated_md = col_str(a, st, 10);
		list[count].has_marker = sqlite3_column_int(st, 11) != 0;
		count++;
	}
	sqlite3_reset(st);
	mh_err err = rc == SQLITE_DONE ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "export");
	for (size_t i = 0; !err && i < count; i++)
		err = read_people(s, a, &list[i].a);
	/* Hand the list to the arena so the caller frees nothing. */
	struct article_source *copy = arena_alloc(a, (count ? count : 1) * sizeof *copy);
	memcpy(copy, list, count * sizeof *copy);
	free(list);
	*out = copy;
	*n = count;
	return err;
}

static mh_err
sq_named_by_slug(struct store *s, struct arena *a, enum list_kind kind, const char *slug, struct named_ref *out)
{
	sqlite3_stmt *st = stmt(s, kind == LIST_TAG ? ST_TAG_BY_SLUG : ST_AUTHOR_BY_SLUG);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->slug = col_str(a, st, 0);
		out->name = col_str(a, st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_speaker_by_slug(struct store *s, struct arena *a, const char *slug, struct speaker *out)
{
	sqlite3_stmt *st = stmt(s, ST_SPEAKER_BY_SLUG);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->slug = col_str(a, st, 1);
		out->name = col_str(a, st, 2);
		out->role = col_str(a, st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_speaker_quotes(struct store *s, struct arena *a, int64_t speaker_id, struct quote **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_SPEAKER_QUOTES);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, speaker_id);
	sqlite3_bind_int64(st, 2, clock_now());
	size_t cap = 8, count = 0;
	struct quote *list = arena_alloc(a, cap * sizeof *list);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct quote *more = arena_alloc(a, 2 * cap * sizeof *list);
			memcpy(more, list, cap * sizeof *list);
			list = more;
			cap *= 2;
		}
		struct quote *q = &list[count++];
		memset(q, 0, sizeof *q);
		q->id = sqlite3_column_int64(st, 0);
		q->article_id = sqlite3_column_int64(st, 1);
		q->role = col_str(a, st, 2);
		q->gated = sqlite3_column_int(st, 3) != 0;
		q->text_html = q->gated ? NULL : col_str(a, st, 4);
		q->article.id = q->article_id;
		q->article.slug = col_str(a, st, 5);
		q->article.title = col_str(a, st, 6);
		int level = access_level_parse((const char *) sqlite3_column_text(st, 7));
		q->article.access = level < 0 ? ACCESS_PAID : (enum access_level) level;
		q->article.published_at = sqlite3_column_int64(st, 8);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "read");
	*out = list;
	*n = count;
	return MH_OK;
}

static void
read_member(struct arena *a, sqlite3_stmt *st, void *row)
{
	struct member *m = row;
	m->id = sqlite3_column_int64(st, 0);
	m->email = col_str(a, st, 1);
	m->name = col_str(a, st, 2);
	m->password_hash = col_str(a, st, 3);
	int role = member_role_parse((const char *) sqlite3_column_text(st, 4));
	m->role = role < 0 ? ROLE_READER : (enum member_role) role;
	m->created_at = sqlite3_column_int64(st, 5);
	m->comped_until = sqlite3_column_int64(st, 6);
	m->email_verified = sqlite3_column_int(st, 7) != 0;
}

static mh_err
sq_member_create(struct store *s, const struct member *m, int64_t *id)
{
	sqlite3_stmt *st = stmt(s, ST_MEMBER_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, m->email);
	bind_text(st, 2, m->name);
	bind_text(st, 3, m->password_hash);
	bind_text(st, 4, member_role_name(m->role));
	sqlite3_bind_int64(st, 5, m->created_at);
	sqlite3_bind_int64(st, 6, m->comped_until);
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		*id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return err;
}

static mh_err
sq_member_by_email(struct store *s, struct arena *a, const char *email, struct member *out)
{
	sqlite3_stmt *st = stmt(s, ST_MEMBER_BY_EMAIL);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, email);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_member(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_member_list(struct store *s, struct arena *a, struct member **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_MEMBER_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_member, (void **) out, n);
}

static mh_err
member_update(struct store *s, enum stmt_id id, const char *email, const char *value)
{
	sqlite3_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, email);
	bind_text(st, 2, value);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
sq_member_set_role(struct store *s, const char *email, enum member_role role)
{
	return member_update(s, ST_MEMBER_SET_ROLE, email, member_role_name(role));
}

static mh_err
sq_member_set_password(struct store *s, const char *email, const char *hash)
{
	return member_update(s, ST_MEMBER_SET_PASSWORD, email, hash);
}

static mh_err
sq_member_by_id(struct store *s, struct arena *a, int64_t id, struct member *out)
{
	sqlite3_stmt *st = stmt(s, ST_MEMBER_BY_ID);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_member(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_member_update(struct store *s, int64_t id, const char *name, const char *email, int verified)
{
	sqlite3_stmt *st = stmt(s, ST_MEMBER_UPDATE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	if (name)
		bind_text(st, 2, name);
	if (email)
		bind_text(st, 3, email);
	sqlite3_bind_int(st, 4, verified);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

static void
read_session(struct arena *a, sqlite3_stmt *st, void *row)
{
	struct session *out = row;
	out->token_hash = col_str(a, st, 0);
	out->member_id = sqlite3_column_int64(st, 1);
	out->created_at = sqlite3_column_int64(st, 2);
	out->last_seen_at = sqlite3_column_int64(st, 3);
	out->expires_at = sqlite3_column_int64(st, 4);
	out->user_agent = col_str(a, st, 5);
	out->ip = col_str(a, st, 6);
}

static mh_err
sq_session_create(struct store *s, const struct session *in)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, in->token_hash);
	sqlite3_bind_int64(st, 2, in->member_id);
	sqlite3_bind_int64(st, 3, in->created_at);
	sqlite3_bind_int64(st, 4, in->last_seen_at);
	sqlite3_bind_int64(st, 5, in->expires_at);
	bind_text(st, 6, in->user_agent);
	bind_text(st, 7, in->ip);
	return exec_stmt(s, st);
}

static mh_err
sq_session_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct session *out,
               struct member *m)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_session(a, st, out);
		m->id = sqlite3_column_int64(st, 7);
		m->email = col_str(a, st, 8);
		m->name = col_str(a, st, 9);
		m->password_hash = col_str(a, st, 10);
		int role = member_role_parse((const char *) sqlite3_column_text(st, 11));
		m->role = role < 0 ? ROLE_READER : (enum member_role) role;
		m->created_at = sqlite3_column_int64(st, 12);
		m->comped_until = sqlite3_column_int64(st, 13);
		m->email_verified = sqlite3_column_int(st, 14) != 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_session_touch(struct store *s, const char *token_hash, int64_t now, int64_t expires_at)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_TOUCH);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, expires_at);
	return exec_stmt(s, st);
}

static mh_err
sq_session_delete(struct store *s, const char *token_hash)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_DELETE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	return exec_stmt(s, st);
}

static mh_err
sq_session_delete_member(struct store *s, int64_t member_id, const char *keep_hash)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_DELETE_MEMBER);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	if (keep_hash)
		bind_text(st, 2, keep_hash);
	return exec_stmt(s, st);
}

static mh_err
sq_session_list(struct store *s, struct arena *a, int64_t member_id, int64_t now, struct session **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_LIST);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	sqlite3_bind_int64(st, 2, now);
	return collect_rows(s, a, st, sizeof **out, read_session, (void **) out, n);
}

static const char *const purposes[] = { "signin", "reset", "email" };

static mh_err
sq_token_create(struct store *s, const struct auth_token *t)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, t->token_hash);
	bind_text(st, 2, purposes[t->purpose]);
	sqlite3_bind_int64(st, 3, t->member_id);
	bind_text(st, 4, t->new_email);
	bind_text(st, 5, t->next ? t->next : "/");
	sqlite3_bind_int64(st, 6, t->created_at);
	sqlite3_bind_int64(st, 7, t->expires_at);
	return exec_stmt(s, st);
}

static mh_err
sq_token_get(struct store *s, struct arena *a, const char *token_hash, enum token_purpose purpose, int64_t now,
             struct auth_token *out)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	bind_text(st, 2, purposes[purpose]);
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->token_hash = col_str(a, st, 0);
		out->purpose = purpose;
		out->member_id = sqlite3_column_int64(st, 1);
		out->new_email = col_str(a, st, 2);
		out->next = col_str(a, st, 3);
		out->created_at = sqlite3_column_int64(st, 4);
		out->expires_at = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_token_use(struct store *s, const char *token_hash, enum token_purpose purpose, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_USE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	bind_text(st, 2, purposes[purpose]);
	sqlite3_bind_int64(st, 3, now);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
sq_rate_hit(struct store *s, const char *bucket, int64_t now, int64_t window, int limit, bool *allowed,
            int64_t *retry_after)
{
	sqlite3_stmt *st = stmt(s, ST_RATE_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, bucket);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now - window);
	sqlite3_bind_int64(st, 4, limit);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	*allowed = sqlite3_changes(sqlite3_db_handle(st)) == 1;
	*retry_after = 0;
	if (!*allowed) {
		/* Refused: when the oldest attempt in the window leaves it. */
		if (!(st = stmt(s, ST_RATE_COUNT)))
			return MH_ERR_DB;
		bind_text(st, 1, bucket);
		sqlite3_bind_int64(st, 2, now - window);
		int rc = sqlite3_step(st);
		int64_t oldest = rc == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL
		                         ? sqlite3_column_int64(st, 1)
		                         : now;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return sq_fail(s, sqlite3_db_handle(st), "rate");
		*retry_after = oldest + window - now;
		if (*retry_after < 1)
			*retry_after = 1;
		return MH_OK;
	}
	/* Now and then, forget attempts older than a day. */
	if ((now % 64) == 0 && (st = stmt(s, ST_RATE_PRUNE))) {
		sqlite3_bind_int64(st, 1, now - 86400);
		err = exec_stmt(s, st);
	}
	return err;
}

/* Rows nobody can use any more: expired sessions, mailed links and
 * checkouts a day after they expired, meter reads older than 62 days (the
 * meter counts the calendar month). */
static mh_err
sq_housekeep(struct store *s, int64_t now, int *removed)
{
	static const struct {
		int id;
		int64_t age;
	} jobs[] = {
		{ ST_HK_SESSIONS, 0 },       { ST_HK_TOKENS, 86400 },  { ST_HK_CHECKOUTS, 86400 },
		{ ST_HK_METER, 62 * 86400 }, { ST_RATE_PRUNE, 86400 },
	};
	*removed = 0;
	for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
		sqlite3_stmt *st = stmt(s, jobs[i].id);
		if (!st)
			return MH_ERR_DB;
		sqlite3_bind_int64(st, 1, now - jobs[i].age);
		mh_err err = exec_stmt(s, st);
		if (err)
			return err;
		*removed += sqlite3_changes(sqlite3_db_handle(st));
	}
	/* Member changes: the newest STORE_CHANGES_KEPT, whatever their age. */
	sqlite3_stmt *st = stmt(s, ST_CHANGES_PRUNE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, STORE_CHANGES_KEPT);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	*removed += sqlite3_changes(sqlite3_db_handle(st));
	return MH_OK;
}

static void
read_outbox(struct arena *a, sqlite3_stmt *st, void *row)
{
	struct outbox_mail *m = row;
	m->id = sqlite3_column_int64(st, 0);
	m->to = col_str(a, st, 1);
	m->subject = col_str(a, st, 2);
	m->text = col_str(a, st, 3);
	m->html = col_str(a, st, 4);
	m->message_id = col_str(a, st, 5);
	m->created_at = sqlite3_column_int64(st, 6);
	m->attempts = sqlite3_column_int(st, 7);
	m->next_attempt_at = sqlite3_column_int64(st, 8);
	m->sent_at = sqlite3_column_int64(st, 9);
	m->last_error = col_str(a, st, 10);
}

static mh_err
sq_outbox_push(struct store *s, const struct outbox_mail *m, int64_t *id)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, m->to);
	bind_text(st, 2, m->subject);
	bind_text(st, 3, m->text);
	bind_text(st, 4, m->html);
	bind_text(st, 5, m->message_id);
	sqlite3_bind_int64(st, 6, m->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		*id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return err;
}

static mh_err
sq_outbox_claim(struct store *s, struct arena *a, int64_t now, int64_t lease, size_t max, struct outbox_mail **out,
                size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_DUE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t) max);
	struct outbox_mail *list = arena_alloc(a, (max ? max : 1) * sizeof *list);
	size_t count = 0;
	int rc = SQLITE_DONE;
	while (count < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_outbox(a, st, &list[count++]);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(s, sqlite3_db_handle(st), "outbox");
	/* Keep only the rows this sender won. */
	size_t won = 0;
	for (size_t i = 0; i < count; i++) {
		if (!(st = stmt(s, ST_OUTBOX_CLAIM)))
			return MH_ERR_DB;
		sqlite3_bind_int64(st, 1, list[i].id);
		sqlite3_bind_int64(st, 2, now + lease);
		sqlite3_bind_int64(st, 3, now);
		mh_err err = exec_stmt(s, st);
		if (err)
			return err;
		if (sqlite3_changes(sqlite3_db_handle(st)) == 1) {
			list[won] = list[i];
			list[won].attempts++;
			won++;
		}
	}
	*out = list;
	*n = won;
	return MH_OK;
}

static mh_err
sq_outbox_sent(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_SENT);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	return exec_stmt(s, st);
}

static mh_err
sq_outbox_retry(struct store *s, int64_t id, int64_t next_attempt_at, const char *error)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_RETRY);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, next_attempt_at);
	bind_text(st, 3, error);
	return exec_stmt(s, st);
}

static mh_err
sq_outbox_list(struct store *s, struct arena *a, struct outbox_mail **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_outbox, (void **) out, n);
}

static void
read_plan(struct arena *a, sqlite3_stmt *st, void *row)
{
	struct plan *p = row;
	p->id = sqlite3_column_int64(st, 0);
	p->code = col_str(a, st, 1);
	p->name = col_str(a, st, 2);
	p->amount = sqlite3_column_int64(st, 3);
	p->currency = col_str(a, st, 4);
	p->interval_months = sqlite3_column_int(st, 5);
	p->trial_days = sqlite3_column_int(st, 6);
	p->retired = sqlite3_column_int(st, 7) != 0;
	p->provider_price_id = col_str(a, st, 8);
}

static mh_err
sq_plan_upsert(struct store *s, const struct plan *p, int64_t *id)
{
	sqlite3_stmt *st = stmt(s, ST_PLAN_UPSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, p->code);
	bind_text(st, 2, p->name);
	sqlite3_bind_int64(st, 3, p->amount);
	bind_text(st, 4, p->currency);
	sqlite3_bind_int(st, 5, p->interval_months);
	sqlite3_bind_int(st, 6, p->trial_days);
	sqlite3_bind_int(st, 7, p->retired);
	bind_text(st, 8, p->provider_price_id);
	sqlite3_bind_int64(st, 9, clock_now());
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		err = id_by_text(s, ST_PLAN_ID, p->code, id);
	return err;
}

static mh_err
sq_plan_list(struct store *s, struct arena *a, bool all, struct plan **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_PLAN_LIST);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int(st, 1, all);
	return collect_rows(s, a, st, sizeof **out, read_plan, (void **) out, n);
}

static mh_err
sq_plan_get(struct store *s, struct arena *a, int64_t id, const char *code, struct plan *out)
{
	sqlite3_stmt *st = stmt(s, ST_PLAN_GET);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, code ? code : "");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_plan(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static void
read_subscription(struct arena *a, sqlite3_stmt *st, struct subscription *out)
{
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(st, 0);
	out->member_id = sqlite3_column_int64(st, 1);
	out->plan_id = sqlite3_column_int64(st, 2);
	int status = sub_status_parse(col_str(a, st, 3));
	out->status = status < 0 ? SUB_NONE : (enum sub_status) status;
	out->period_start = sqlite3_column_int64(st, 4);
	out->period_end = sqlite3_column_int64(st, 5);
	out->trial_end = sqlite3_column_int64(st, 6);
	out->grace_until = sqlite3_column_int64(st, 7);
	out->cancel_at_period_end = sqlite3_column_int(st, 8) != 0;
	out->canceled_at = sqlite3_column_int64(st, 9);
	out->provider = col_str(a, st, 10);
	out->provider_id = col_str(a, st, 11);
	out->provider_customer = col_str(a, st, 12);
	out->provider_updated = sqlite3_column_int64(st, 13);
	out->created_at = sqlite3_column_int64(st, 14);
	out->updated_at = sqlite3_column_int64(st, 15);
	out->trial_reminded = sqlite3_column_int(st, 16) != 0;
	out->version = sqlite3_column_int64(st, 17);
}

static mh_err
sq_subscription_by_member(struct store *s, struct arena *a, int64_t member_id, struct subscription *out)
{
	sqlite3_stmt *st = stmt(s, ST_SUB_BY_MEMBER);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_subscription(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_subscription_save(struct store *s, struct subscription *sub)
{
	sqlite3_stmt *st = stmt(s, sub->id ? ST_SUB_UPDATE : ST_SUB_INSERT);
	if (!st)
		return MH_ERR_DB;
	if (sub->id)
		sqlite3_bind_int64(st, 1, sub->id);
	sqlite3_bind_int64(st, 2, sub->member_id);
	sqlite3_bind_int64(st, 3, sub->plan_id);
	bind_text(st, 4, sub_status_name(sub->status));
	sqlite3_bind_int64(st, 5, sub->period_start);
	sqlite3_bind_int64(st, 6, sub->period_end);
	sqlite3_bind_int64(st, 7, sub->trial_end);
	sqlite3_bind_int64(st, 8, sub->grace_until);
	sqlite3_bind_int(st, 9, sub->cancel_at_period_end);
	sqlite3_bind_int64(st, 10, sub->canceled_at);
	bind_text(st, 11, sub->provider ? sub->provider : "test");
	bind_text(st, 12, sub->provider_id);
	bind_text(st, 13, sub->provider_customer);
	sqlite3_bind_int64(st, 14, sub->provider_updated);
	sqlite3_bind_int64(st, 15, sub->created_at);
	sqlite3_bind_int64(st, 16, sub->updated_at);
	sqlite3_bind_int(st, 17, sub->trial_reminded);
	if (sub->id)
		sqlite3_bind_int64(st, 18, sub->version);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	if (!sub->id) {
		sub->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
		sub->version = 0;
	} else if (sqlite3_changes(sqlite3_db_handle(st)) != 1) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "subscription %lld changed since it was read",
		         (long long) sub->id);
		return MH_ERR_CONFLICT;
	} else {
		sub->version++;
	}
	return MH_OK;
}

static mh_err
sq_payment_method_add(struct store *s, struct payment_method *pm, bool make_default)
{
	mh_err err = exec_sql(s, "SAVEPOINT pm_add");
	if (err)
		return err;
	sqlite3_stmt *st;
	if (make_default) {
		if (!(st = stmt(s, ST_PM_CLEAR_DEFAULT)))
			goto fail;
		sqlite3_bind_int64(st, 1, pm->member_id);
		if ((err = exec_stmt(s, st)))
			goto fail;
	}
	if (!(st = stmt(s, ST_PM_INSERT)))
		goto fail;
	sqlite3_bind_int64(st, 1, pm->member_id);
	bind_text(st, 2, pm->brand);
	bind_text(st, 3, pm->last4);
	sqlite3_bind_int(st, 4, pm->exp_month);
	sqlite3_bind_int(st, 5, pm->exp_year);
	bind_text(st, 6, pm->behavior ? pm->behavior : "ok");
	sqlite3_bind_int(st, 7, make_default);
	bind_text(st, 8, pm->provider_id);
	sqlite3_bind_int64(st, 9, pm->created_at);
	if ((err = exec_stmt(s, st)))
		goto fail;
	pm->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	pm->is_default = make_default;
	return exec_sql(s, "RELEASE pm_add");
fail:
	exec_sql(s, "ROLLBACK TO pm_add");
	exec_sql(s, "RELEASE pm_add");
	return err ? err : MH_ERR_DB;
}

static void
read_pm(struct arena *a, sqlite3_stmt *st, struct payment_method *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->member_id = sqlite3_column_int64(st, 1);
	out->brand = col_str(a, st, 2);
	out->last4 = col_str(a, st, 3);
	out->exp_month = sqlite3_column_int(st, 4);
	out->exp_year = sqlite3_column_int(st, 5);
	out->behavior = col_str(a, st, 6);
	out->is_default = sqlite3_column_int(st, 7) != 0;
	out->provider_id = col_str(a, st, 8);
	out->created_at = sqlite3_column_int64(st, 9);
}

static mh_err
sq_payment_method_default(struct store *s, struct arena *a, int64_t member_id, struct payment_method *out)
{
	sqlite3_stmt *st = stmt(s, ST_PM_DEFAULT);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_pm(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static void
read_gift(struct arena *a, sqlite3_stmt *st, struct gift_link *g)
{
	memset(g, 0, sizeof *g);
	g->id = sqlite3_column_int64(st, 0);
	g->token_hash = col_str(a, st, 1);
	g->member_id = sqlite3_column_int64(st, 2);
	g->article_id = sqlite3_column_int64(st, 3);
	g->max_uses = sqlite3_column_int(st, 4);
	g->uses = sqlite3_column_int(st, 5);
	g->created_at = sqlite3_column_int64(st, 6);
	g->expires_at = sqlite3_column_int64(st, 7);
	g->revoked_at = sqlite3_column_int64(st, 8);
}

static mh_err
sq_gift_create(struct store *s, struct gift_link *g)
{
	sqlite3_stmt *st = stmt(s, ST_GIFT_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, g->token_hash);
	sqlite3_bind_int64(st, 2, g->member_id);
	sqlite3_bind_int64(st, 3, g->article_id);
	sqlite3_bind_int(st, 4, g->max_uses);
	sqlite3_bind_int64(st, 5, g->created_at);
	sqlite3_bind_int64(st, 6, g->expires_at);
	mh_err err = exec_stmt(s, st);
	if (!err)
		g->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return err;
}

static mh_err
sq_gift_get(struct store *s, struct arena *a, const char *token_hash, struct gift_link *out)
{
	sqlite3_stmt *st = stmt(s, ST_GIFT_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_gift(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_gift_use(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_GIFT_USE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
sq_gift_list(struct store *s, struct arena *a, int64_t member_id, struct gift_link **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_GIFT_LIST);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	size_t cap = 8, count = 0;
	struct gift_link *list = arena_alloc(a, cap * sizeof *list);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct gift_link *more = arena_alloc(a, 2 * cap * sizeof *list);
			memcpy(more, list, cap * sizeof *list);
			list = more;
			cap *= 2;
		}
		read_gift(a, st, &list[count]);
		list[count].article_slug = col_str(a, st, 9);
		list[count].article_title = col_str(a, st, 10);
		count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "read");
	*out = list;
	*n = count;
	return MH_OK;
}

static mh_err
sq_gift_revoke(struct store *s, int64_t id, int64_t member_id, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_GIFT_REVOKE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, member_id);
	sqlite3_bind_int64(st, 3, now);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
sq_meter_get(struct store *s, int64_t member_id, const char *month, int64_t article_id, int *count, bool *has)
{
	sqlite3_stmt *st = stmt(s, ST_METER_GET);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	bind_text(st, 2, month);
	sqlite3_bind_int64(st, 3, article_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int(st, 0);
		*has = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_meter_add(struct store *s, int64_t member_id, const char *month, int64_t article_id, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_METER_ADD);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	bind_text(st, 2, month);
	sqlite3_bind_int64(st, 3, article_id);
	sqlite3_bind_int64(st, 4, now);
	return exec_stmt(s, st);
}

/* Runs a query and collects its rows through read(); the list lives in a. */
static mh_err
collect_rows(struct store *s, struct arena *a, sqlite3_stmt *st, size_t size,
             void (*read)(struct arena *, sqlite3_stmt *, void *), void **out, size_t *n)
{
	size_t cap = 8, count = 0;
	char *list = arena_alloc(a, cap * size);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			char *more = arena_alloc(a, 2 * cap * size);
			memcpy(more, list, cap * size);
			list = more;
			cap *= 2;
		}
		memset(list + count * size, 0, size);
		read(a, st, list + count * size);
		count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, sqlite3_db_handle(st), "read");
	*out = list;
	*n = count;
	return MH_OK;
}

static void
read_invoice(struct arena *a, sqlite3_stmt *st, void *p)
{
	struct invoice *inv = p;
	inv->id = sqlite3_column_int64(st, 0);
	inv->subscription_id = sqlite3_column_int64(st, 1);
	inv->amount = sqlite3_column_int64(st, 2);
	inv->currency = col_str(a, st, 3);
	inv->status = col_str(a, st, 4);
	inv->period_start = sqlite3_column_int64(st, 5);
	inv->period_end = sqlite3_column_int64(st, 6);
	inv->attempts = sqlite3_column_int(st, 7);
	inv->next_attempt_at = sqlite3_column_int64(st, 8);
	inv->idempotency_key = col_str(a, st, 9);
	inv->provider_id = col_str(a, st, 10);
	inv->paid_at = sqlite3_column_int64(st, 11);
	inv->created_at = sqlite3_column_int64(st, 12);
}

static void
read_charge(struct arena *a, sqlite3_stmt *st, void *p)
{
	struct charge *c = p;
	c->id = sqlite3_column_int64(st, 0);
	c->invoice_id = sqlite3_column_int64(st, 1);
	c->idempotency_key = col_str(a, st, 2);
	c->payment_method_id = sqlite3_column_int64(st, 3);
	c->status = col_str(a, st, 4);
	c->failure_code = col_str(a, st, 5);
	c->failure_message = col_str(a, st, 6);
	c->created_at = sqlite3_column_int64(st, 7);
	c->finished_at = sqlite3_column_int64(st, 8);
}

static void
read_subscription_row(struct arena *a, sqlite3_stmt *st, void *p)
{
	read_subscription(a, st, p);
}

static void
read_pm_row(struct arena *a, sqlite3_stmt *st, void *p)
{
	read_pm(a, st, p);
}

/* One row through read(), or MH_ERR_NOTFOUND. */
static mh_err
one_row(struct store *s, struct arena *a, sqlite3_stmt *st, void (*read)(struct arena *, sqlite3_stmt *, void *),
        void *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_subscription_get(struct store *s, struct arena *a, int64_t id, struct subscription *out)
{
	sqlite3_stmt *st = stmt(s, ST_SUB_GET);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	return one_row(s, a, st, read_subscription_row, out);
}

static mh_err
sq_invoice_create(struct store *s, struct invoice *inv)
{
	sqlite3_stmt *st = stmt(s, ST_INV_INSERT);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, inv->subscription_id);
	sqlite3_bind_int64(st, 2, inv->amount);
	bind_text(st, 3, inv->currency);
	bind_text(st, 4, inv->status ? inv->status : "open");
	sqlite3_bind_int64(st, 5, inv->period_start);
	sqlite3_bind_int64(st, 6, inv->period_end);
	sqlite3_bind_int(st, 7, inv->attempts);
	sqlite3_bind_int64(st, 8, inv->next_attempt_at);
	bind_text(st, 9, inv->idempotency_key);
	bind_text(st, 10, inv->provider_id);
	sqlite3_bind_int64(st, 11, inv->paid_at);
	sqlite3_bind_int64(st, 12, inv->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err)
		inv->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	else if (err == MH_ERR_CONFLICT && id_by_text(s, ST_INV_ID_BY_KEY, inv->idempotency_key, &inv->id) != MH_OK)
		return MH_ERR_DB;
	return err;
}

static mh_err
sq_invoice_save(struct store *s, const struct invoice *inv)
{
	sqlite3_stmt *st = stmt(s, ST_INV_SAVE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, inv->id);
	bind_text(st, 2, inv->status);
	sqlite3_bind_int(st, 3, inv->attempts);
	sqlite3_bind_int64(st, 4, inv->next_attempt_at);
	sqlite3_bind_int64(st, 5, inv->paid_at);
	bind_text(st, 6, inv->provider_id);
	return exec_stmt(s, st);
}

static mh_err
sq_invoice_get(struct store *s, struct arena *a, int64_t id, struct invoice *out)
{
	sqlite3_stmt *st = stmt(s, ST_INV_GET);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	return one_row(s, a, st, read_invoice, out);
}

static mh_err
sq_invoice_open(struct store *s, struct arena *a, int64_t subscription_id, struct invoice *out)
{
	sqlite3_stmt *st = stmt(s, ST_INV_OPEN);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, subscription_id);
	return one_row(s, a, st, read_invoice, out);
}

static mh_err
sq_invoice_list(struct store *s, struct arena *a, int64_t subscription_id, struct invoice **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_INV_LIST);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, subscription_id);
	return collect_rows(s, a, st, sizeof **out, read_invoice, (void **) out, n);
}

static mh_err
sq_invoices_due(struct store *s, struct arena *a, int64_t now, struct invoice **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_INV_DUE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	return collect_rows(s, a, st, sizeof **out, read_invoice, (void **) out, n);
}

static mh_err
sq_invoice_claim(struct store *s, int64_t id, int64_t now, int64_t lease)
{
	sqlite3_stmt *st = stmt(s, ST_INV_CLAIM);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, lease);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_CONFLICT;
	return err;
}

static mh_err
sq_invoice_release(struct store *s, int64_t id)
{
	sqlite3_stmt *st = stmt(s, ST_INV_RELEASE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	return exec_stmt(s, st);
}

static mh_err
sq_charge_begin(struct store *s, struct charge *c)
{
	sqlite3_stmt *st = stmt(s, ST_CHG_INSERT);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, c->invoice_id);
	bind_text(st, 2, c->idempotency_key);
	sqlite3_bind_int64(st, 3, c->payment_method_id);
	sqlite3_bind_int64(st, 4, c->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err)
		c->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return err;
}

static mh_err
sq_charge_finish(struct store *s, int64_t id, const char *status, const char *code, const char *message, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_CHG_FINISH);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, status);
	bind_text(st, 3, code);
	bind_text(st, 4, message);
	sqlite3_bind_int64(st, 5, now);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_CONFLICT; /* finished already, by another worker */
	return err;
}

static mh_err
sq_charges_pending(struct store *s, struct arena *a, struct charge **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_CHG_PENDING);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_charge, (void **) out, n);
}

static mh_err
sq_invoice_failure(struct store *s, struct arena *a, int64_t invoice_id, struct charge *out)
{
	sqlite3_stmt *st = stmt(s, ST_CHG_LAST_FAILURE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, invoice_id);
	return one_row(s, a, st, read_charge, out);
}

static mh_err
sq_subscriptions_due(struct store *s, struct arena *a, int64_t now, int64_t trial_notice, struct subscription **out,
                     size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_SUB_DUE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, trial_notice);
	return collect_rows(s, a, st, sizeof **out, read_subscription_row, (void **) out, n);
}

static mh_err
sq_subscription_by_provider(struct store *s, struct arena *a, const char *provider_id, const char *customer,
                            struct subscription *out)
{
	sqlite3_stmt *st = stmt(s, ST_SUB_BY_PROVIDER);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, provider_id);
	bind_text(st, 2, customer);
	return one_row(s, a, st, read_subscription_row, out);
}

static mh_err
sq_cards_expiring(struct store *s, struct arena *a, int64_t before_month_index, struct payment_method **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_CARDS_EXPIRING);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, before_month_index);
	return collect_rows(s, a, st, sizeof **out, read_pm_row, (void **) out, n);
}

static mh_err
sq_card_reminded(struct store *s, int64_t id)
{
	sqlite3_stmt *st = stmt(s, ST_CARD_REMINDED);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_CONFLICT; /* another run claimed this reminder first */
	return err;
}

static mh_err
sq_checkout_create(struct store *s, const struct checkout *c)
{
	sqlite3_stmt *st = stmt(s, ST_CHECKOUT_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, c->token_hash);
	sqlite3_bind_int64(st, 2, c->member_id);
	sqlite3_bind_int64(st, 3, c->plan_id);
	bind_text(st, 4, c->purpose);
	sqlite3_bind_int64(st, 5, c->created_at);
	sqlite3_bind_int64(st, 6, c->expires_at);
	return exec_stmt(s, st);
}

static void
read_checkout(struct arena *a, sqlite3_stmt *st, void *p)
{
	struct checkout *c = p;
	c->token_hash = col_str(a, st, 0);
	c->member_id = sqlite3_column_int64(st, 1);
	c->plan_id = sqlite3_column_int64(st, 2);
	c->purpose = col_str(a, st, 3);
	c->status = col_str(a, st, 4);
	c->created_at = sqlite3_column_int64(st, 5);
	c->expires_at = sqlite3_column_int64(st, 6);
}

static mh_err
sq_checkout_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct checkout *out)
{
	sqlite3_stmt *st = stmt(s, ST_CHECKOUT_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, now);
	return one_row(s, a, st, read_checkout, out);
}

static mh_err
sq_checkout_complete(struct store *s, const char *token_hash)
{
	sqlite3_stmt *st = stmt(s, ST_CHECKOUT_COMPLETE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
sq_test_ledger_charge(struct store *s, struct arena *a, const char *key, int64_t amount, const char *outcome,
                      int64_t now, const char **recorded)
{
	sqlite3_stmt *st = stmt(s, ST_LEDGER_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, amount);
	bind_text(st, 3, outcome);
	sqlite3_bind_int64(st, 4, now);
	mh_err err = exec_stmt(s, st);
	if (err || !(st = stmt(s, ST_LEDGER_GET)))
		return err ? err : MH_ERR_DB;
	bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*recorded = col_str(a, st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "ledger");
}

static mh_err
sq_test_ledger_count(struct store *s, const char *key_prefix, int *n)
{
	sqlite3_stmt *st = stmt(s, ST_LEDGER_COUNT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key_prefix);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "ledger");
}

static mh_err
sq_billing_event_record(struct store *s, const char *provider, const char *event_id, const char *type, int64_t created,
                        int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_EVENT_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, provider);
	bind_text(st, 2, event_id);
	bind_text(st, 3, type);
	sqlite3_bind_int64(st, 4, created);
	sqlite3_bind_int64(st, 5, now);
	return exec_stmt(s, st);
}

/* ---- Private feed tokens and the sitemap ---- */

static mh_err
sq_feed_token_save(struct store *s, const struct feed_token *t)
{
	sqlite3_stmt *st = stmt(s, ST_FEED_TOKEN_SAVE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, t->member_id);
	bind_text(st, 2, t->token_hash);
	bind_text(st, 3, t->nonce);
	sqlite3_bind_int64(st, 4, t->created_at);
	return exec_stmt(s, st);
}

static mh_err
sq_feed_token_delete(struct store *s, int64_t member_id)
{
	sqlite3_stmt *st = stmt(s, ST_FEED_TOKEN_DELETE);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
feed_token_row(struct store *s, struct arena *a, sqlite3_stmt *st, struct feed_token *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->member_id = sqlite3_column_int64(st, 0);
		out->token_hash = col_str(a, st, 1);
		out->nonce = col_str(a, st, 2);
		out->created_at = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_feed_token_by_member(struct store *s, struct arena *a, int64_t member_id, struct feed_token *out)
{
	sqlite3_stmt *st = stmt(s, ST_FEED_TOKEN_BY_MEMBER);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, member_id);
	return feed_token_row(s, a, st, out);
}

static mh_err
sq_feed_token_find(struct store *s, struct arena *a, const char *token_hash, struct feed_token *out)
{
	sqlite3_stmt *st = stmt(s, ST_FEED_TOKEN_FIND);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	return feed_token_row(s, a, st, out);
}

static mh_err
sq_sitemap_list(struct store *s, struct arena *a, int64_t now, struct sitemap_entry **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_SITEMAP);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	size_t cap = 64, count = 0;
	struct sitemap_entry *list = xmallocarray(cap, sizeof *list);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap)
			list = xrealloc(list, (cap *= 2) * sizeof *list);
		const unsigned char *kind = sqlite3_column_text(st, 0);
		list[count].kind = kind ? (char) kind[0] : 'a';
		list[count].slug = col_str(a, st, 1);
		list[count].title = col_str(a, st, 2);
		list[count].published_at = sqlite3_column_int64(st, 3);
		list[count].updated_at = sqlite3_column_int64(st, 4);
		count++;
	}
	sqlite3_reset(st);
	mh_err err = rc == SQLITE_DONE ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "read");
	/* Hand the list to the arena so the caller frees nothing. */
	struct sitemap_entry *copy = arena_alloc(a, (count ? count : 1) * sizeof *copy);
	memcpy(copy, list, count * sizeof *copy);
	free(list);
	*out = copy;
	*n = err ? 0 : count;
	return err;
}

static void
read_api_key(struct arena *a, sqlite3_stmt *st, void *p)
{
	struct api_key *k = p;
	k->id = sqlite3_column_int64(st, 0);
	k->name = col_str(a, st, 1);
	k->key_hash = col_str(a, st, 2);
	k->created_at = sqlite3_column_int64(st, 3);
	k->revoked_at = sqlite3_column_int64(st, 4);
}

static mh_err
sq_api_key_create(struct store *s, const struct api_key *k, int64_t *id)
{
	sqlite3_stmt *st = stmt(s, ST_APIKEY_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, k->name);
	bind_text(st, 2, k->key_hash);
	sqlite3_bind_int64(st, 3, k->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		*id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return err;
}

static mh_err
sq_api_key_by_hash(struct store *s, struct arena *a, const char *key_hash, struct api_key *out)
{
	sqlite3_stmt *st = stmt(s, ST_APIKEY_BY_HASH);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_api_key(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MH_OK;
	return rc == SQLITE_DONE ? MH_ERR_NOTFOUND : sq_fail(s, sqlite3_db_handle(st), "read");
}

static mh_err
sq_api_key_list(struct store *s, struct arena *a, struct api_key **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_APIKEY_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_api_key, (void **) out, n);
}

static mh_err
sq_api_key_revoke(struct store *s, const char *name, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_APIKEY_REVOKE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, now);
	mh_err err = exec_stmt(s, st);
	if (!err && sqlite3_changes(sqlite3_db_handle(st)) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static void
read_speaker(struct arena *a, sqlite3_stmt *st, void *p)
{
	struct speaker *sp = p;
	sp->id = sqlite3_column_int64(st, 0);
	sp->slug = col_str(a, st, 1);
	sp->name = col_str(a, st, 2);
	sp->role = col_str(a, st, 3);
}

static mh_err
sq_speaker_list(struct store *s, struct arena *a, int64_t now, struct speaker **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_SPEAKER_LIST);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	return collect_rows(s, a, st, sizeof **out, read_speaker, (void **) out, n);
}

static mh_err
sq_article_count(struct store *s, int64_t before, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_ARTICLE_COUNT);
	if (!st)
		return MH_ERR_DB;
	sqlite3_bind_int64(st, 1, before ? before : INT64_MAX);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = (size_t) sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MH_OK : sq_fail(s, sqlite3_db_handle(st), "count");
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.migrate = sq_migrate,
	.ping = sq_ping,
	.versions = sq_versions,
	.member_changes = sq_member_changes,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.article_upsert = sq_article_upsert,
	.search = sq_search,
	.search_excerpt = sq_search_excerpt,
	.search_gated_snippet = sq_search_gated_snippet,
	.article_by_slug = sq_article_by_slug,
	.article_gated = sq_article_gated,
	.article_list = sq_article_list,
	.article_sources = sq_article_sources,
	.named_by_slug = sq_named_by_slug,
	.speaker_by_slug = sq_speaker_by_slug,
	.speaker_quotes = sq_speaker_quotes,
	.quote_gated = sq_quote_gated,
	.member_create = sq_member_create,
	.member_by_email = sq_member_by_email,
	.member_list = sq_member_list,
	.member_set_role = sq_member_set_role,
	.member_set_password = sq_member_set_password,
	.member_by_id = sq_member_by_id,
	.member_update = sq_member_update,
	.session_create = sq_session_create,
	.session_get = sq_session_get,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_delete_member = sq_session_delete_member,
	.session_list = sq_session_list,
	.token_create = sq_token_create,
	.token_get = sq_token_get,
	.token_use = sq_token_use,
	.rate_hit = sq_rate_hit,
	.housekeep = sq_housekeep,
	.outbox_push = sq_outbox_push,
	.outbox_claim = sq_outbox_claim,
	.outbox_sent = sq_outbox_sent,
	.outbox_retry = sq_outbox_retry,
	.outbox_list = sq_outbox_list,
	.plan_upsert = sq_plan_upsert,
	.plan_list = sq_plan_list,
	.plan_get = sq_plan_get,
	.subscription_by_member = sq_subscription_by_member,
	.subscription_save = sq_subscription_save,
	.subscription_get = sq_subscription_get,
	.payment_method_add = sq_payment_method_add,
	.payment_method_default = sq_payment_method_default,
	.gift_create = sq_gift_create,
	.gift_get = sq_gift_get,
	.gift_use = sq_gift_use,
	.gift_list = sq_gift_list,
	.gift_revoke = sq_gift_revoke,
	.meter_get = sq_meter_get,
	.meter_add = sq_meter_add,
	.invoice_create = sq_invoice_create,
	.invoice_save = sq_invoice_save,
	.invoice_get = sq_invoice_get,
	.invoice_open = sq_invoice_open,
	.invoice_list = sq_invoice_list,
	.invoices_due = sq_invoices_due,
	.invoice_claim = sq_invoice_claim,
	.invoice_release = sq_invoice_release,
	.charge_begin = sq_charge_begin,
	.charge_finish = sq_charge_finish,
	.charges_pending = sq_charges_pending,
	.invoice_failure = sq_invoice_failure,
	.subscriptions_due = sq_subscriptions_due,
	.subscription_by_provider = sq_subscription_by_provider,
	.cards_expiring = sq_cards_expiring,
	.card_reminded = sq_card_reminded,
	.checkout_create = sq_checkout_create,
	.checkout_get = sq_checkout_get,
	.api_key_create = sq_api_key_create,
	.api_key_by_hash = sq_api_key_by_hash,
	.api_key_list = sq_api_key_list,
	.api_key_revoke = sq_api_key_revoke,
	.speaker_list = sq_speaker_list,
	.article_count = sq_article_count,
	.checkout_complete = sq_checkout_complete,
	.test_ledger_charge = sq_test_ledger_charge,
	.test_ledger_count = sq_test_ledger_count,
	.billing_event_record = sq_billing_event_record,
	.feed_token_save = sq_feed_token_save,
	.feed_token_delete = sq_feed_token_delete,
	.feed_token_by_member = sq_feed_token_by_member,
	.feed_token_find = sq_feed_token_find,
	.sitemap_list = sq_sitemap_list,
};

mh_err
sqlite_store_open(const char *path, struct store *s, char *err, size_t errlen)
{
	struct sq *q = xcalloc(1, sizeof *q);
	q->path = xstrdup(path);
	pthread_mutex_init(&q->lock, NULL);
	pthread_key_create(&q->key, conn_thread_exit);
	s->ops = &sqlite_ops;
	s->impl = q;
	/* Open now so a bad path is reported by the command that names it. */
	if (!conn_get(s)) {
		snprintf(err, errlen, "%s", store_errbuf());
		sq_close(s);
		s->impl = NULL;
		return MH_ERR_DB;
	}
	return MH_OK;
}
