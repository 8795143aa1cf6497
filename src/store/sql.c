/* sql.c: the text of every statement, in the SQL both engines speak, and
 * the one place where their dialects differ.
 *
 * The shared dialect: ON CONFLICT ... DO NOTHING, not INSERT OR IGNORE;
 * CASE expressions, not summed comparisons; every parameter whose type the
 * statement does not fix (IS NULL, COALESCE) cast to it; booleans stored as
 * integers and compared with = 1; numbered placeholders ?1, ?2...
 *
 * What differs, decided here and only here:
 *  - placeholders: SQLite takes ?n as written, PostgreSQL gets $n;
 *  - new ids: SQLite reads sqlite3_last_insert_rowid, PostgreSQL appends
 *    RETURNING id to the inserts in returns_id[] below;
 *  - transactions: BEGIN IMMEDIATE (SQLite's writer lock) or BEGIN (each
 *    driver names its own begin_sql);
 *  - a count-then-insert in one statement (the rate limit) is atomic in
 *    SQLite, whose writers queue; in PostgreSQL two can count at once, so
 *    it runs after a lock on its key (sql_lock_before);
 *  - full text search: FTS5 on SQLite, tsvector/GIN on PostgreSQL
 *    (docs/search.md): the ST_SEARCH_* statements below have a PostgreSQL
 *    text of their own in pg_sql[]. */
#include "store/sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

#define ARTICLE_COLS                                                                                                   \
	"a.id, a.slug, a.title, a.dek, a.summary, a.access, a.published_at, a.updated_at, a.has_gated, "               \
	"a.featured, a.feature_image, a.feature_image_alt, a.feature_image_caption, a.feature_image_credit"
/* Search (docs/search.md): on SQLite an article's rowid in both FTS5
 * indexes is its minute of publication (from 1970 to 2097: earlier ones
 * count as 1970, later ones as 2097) in the high bits and its id in the
 * low 37; PostgreSQL orders its matches by the same two numbers. */
#define SEARCH_MINUTE(t)   "MIN(MAX(" t ", 0) / 60, 67108863)"
#define SEARCH_KEY(t, id)  "((" SEARCH_MINUTE(t) " << 37) | " id ")"
#define SEARCH_KEY_LAST(t) "((" SEARCH_MINUTE(t) " << 37) | 137438953471)"
#define SEARCH_ID(rowid)   "(" rowid " & 137438953471)"
#define SEARCH_SCOPE                                                                                                   \
	"CASE WHEN a.access = 'members' THEN ?5 WHEN a.access = 'public' AND a.published_at > ?7 THEN ?4 ELSE ?6 END = 1"
#define LIST_TAIL   " AND a.published_at <= ?2 ORDER BY a.published_at DESC, a.id DESC LIMIT ?3 OFFSET ?4"
#define MEMBER_COLS "id, email, name, password_hash, role, created_at, comped_until, email_verified"
#define PLAN_COLS   "id, code, name, amount, currency, interval_months, trial_days, retired, provider_price_id"
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

#define NL_COLS      "id, slug, name, sender, reply_to, full_levels, subscribe_on_signup"
#define NL_SEND_COLS "s.id, s.newsletter_id, s.article_id, s.created_at, s.enqueued_at, s.finished_at"

/* The newsroom's working copies (sqlops.c reads NEWSROOM_NCOLS columns in
 * this order); body is "''" in lists. */
#define NEWSROOM_COLS(body)                                                                                            \
	"n.id, n.status, n.slug, n.title, n.dek, n.access, n.authors, n.tags, n.publish_at, n.featured, "              \
	"n.feature_image, n.feature_image_alt, " body ", n.live_slug, n.live_at, n.created_at, n.updated_at, "         \
	"n.updated_by"
#define NEWSROOM_REV_COLS                                                                                              \
	"r.id, r.at, r.actor, r.note, r.newsroom_id, r.slug, r.title, r.dek, r.access, r.authors, r.tags, "            \
	"r.publish_at, r.featured, r.feature_image, r.feature_image_alt, r.body"
/* ?1 status ('' any; scheduled includes published rows due later), ?2
 * access, ?3 a tag, ?4 an author, ?5 words of the title (LIKE-escaped), ?6 now. */
#define NEWSROOM_WHERE                                                                                                 \
	"(?1 = '' OR (?1 = 'published' AND n.status = 'published' AND n.publish_at <= ?6) "                            \
	"OR (?1 = 'scheduled' AND (n.status = 'scheduled' OR (n.status = 'published' AND n.publish_at > ?6))) "        \
	"OR (?1 IN ('draft', 'archived') AND n.status = ?1)) AND (?2 = '' OR n.access = ?2) "                          \
	"AND (?3 = '' OR lower(', ' || n.tags || ', ') LIKE '%, ' || lower(?3) || ', %' ESCAPE '\\') "                 \
	"AND (?4 = '' OR lower(', ' || n.authors || ', ') LIKE '%, ' || lower(?4) || ', %' ESCAPE '\\') "              \
	"AND (?5 = '' OR lower(n.title) LIKE '%' || lower(?5) || '%' ESCAPE '\\')"
/* A published article's source as the editor holds it: the teaser, and the
 * gated part after the paywall marker. */
#define NEWSROOM_BODY                                                                                                  \
	"a.teaser_md || CASE WHEN a.has_marker = 1 OR COALESCE(g.body_md, '') <> '' "                                  \
	"THEN '\n\n<!-- paywall -->\n\n' || COALESCE(g.body_md, '') ELSE '' END"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ARTICLE_ID] = "SELECT id FROM articles WHERE slug = ?1",
	[ST_ARTICLE_INSERT] =
	        "INSERT INTO articles (slug, title, dek, summary, access, published_at, updated_at, teaser_md, "
	        "teaser_html, has_marker, has_gated, featured, feature_image, feature_image_alt, feature_image_caption, "
	        "feature_image_credit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[ST_ARTICLE_UPDATE] =
	        "UPDATE articles SET slug = ?1, title = ?2, dek = ?3, summary = ?4, access = ?5, published_at = ?6, "
	        "updated_at = ?7, teaser_md = ?8, teaser_html = ?9, has_marker = ?10, has_gated = ?11, "
	        "featured = ?13, feature_image = ?14, feature_image_alt = ?15, feature_image_caption = ?16, "
	        "feature_image_credit = ?17 WHERE id = ?12",
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
	[ST_MEMBER_INSERT] = "INSERT INTO members (email, name, password_hash, role, created_at, comped_until, "
	                     "email_verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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
	                    "expires_at, password_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_TOKEN_GET] = "SELECT token_hash, member_id, new_email, next, created_at, expires_at, password_hash FROM "
	                 "auth_tokens "
	                 "WHERE token_hash = ?1 AND purpose = ?2 AND used_at = 0 AND expires_at > ?3",
	[ST_TOKEN_USE] = "UPDATE auth_tokens SET used_at = ?3 WHERE token_hash = ?1 AND purpose = ?2 AND used_at = 0 "
	                 "AND expires_at > ?3",
	[ST_TOKEN_SPEND_MEMBER] = "UPDATE auth_tokens SET used_at = ?2 WHERE member_id = ?1 AND used_at = 0",
	[ST_RATE_COUNT] = "SELECT count(*), min(at) FROM rate_events WHERE bucket = ?1 AND at > ?2",
	/* Counted and recorded in one statement: two attempts at once cannot
	 * both see room for one more. */
	[ST_RATE_INSERT] = "INSERT INTO rate_events (bucket, at) SELECT ?1, ?2 WHERE (SELECT count(*) FROM "
	                   "rate_events WHERE bucket = ?1 AND at > ?3) < ?4",
	[ST_RATE_PRUNE] = "DELETE FROM rate_events WHERE at < ?1",
	/* PostgreSQL only (sql_lock_before): two attempts on one bucket queue
	 * here, so each counts what the other inserted. */
	[ST_RATE_LOCK] = "SELECT pg_advisory_xact_lock(hashtext(?1))",
	[ST_SECRET_INSERT] = "INSERT INTO site_secret (id, key_hex) VALUES (1, ?1) ON CONFLICT DO NOTHING",
	[ST_SECRET_GET] = "SELECT key_hex FROM site_secret WHERE id = 1",
	[ST_MIGRATION_APPLIED] = "SELECT 1 FROM schema_migrations WHERE version = ?1",
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
	/* Only where writers do not queue (sql_lock_before): see pg_sql[]. */
	[ST_PM_LOCK_MEMBER] = "SELECT id FROM members WHERE id = ?1",
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
	[ST_METER_ADD] = "INSERT INTO meter_reads (member_id, month, article_id, read_at) VALUES (?1, ?2, ?3, ?4) "
	                 "ON CONFLICT DO NOTHING",
	[ST_INV_INSERT] =
	        "INSERT INTO invoices (subscription_id, amount, currency, status, period_start, period_end, "
	        "attempts, next_attempt_at, idempotency_key, provider_id, paid_at, created_at, claimed_until) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
	/* Only an open invoice: a worker that read it open before another paid
	 * it and let go must not take it (and charge it) again. */
	[ST_INV_CLAIM] = "UPDATE invoices SET claimed_until = ?2 + ?3 WHERE id = ?1 AND claimed_until <= ?2 "
	                 "AND status = 'open'",
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
	[ST_APIKEY_INSERT] = "INSERT INTO api_keys (name, key_hash, created_at) VALUES (?1, ?2, ?3)",
	[ST_APIKEY_BY_HASH] = "SELECT id, name, key_hash, created_at, revoked_at FROM api_keys WHERE key_hash = ?1",
	[ST_APIKEY_LIST] = "SELECT id, name, key_hash, created_at, revoked_at FROM api_keys ORDER BY id",
	[ST_APIKEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at = 0",
	[ST_REDIRECT_PUT] = "INSERT INTO redirects (old_path, new_path, source, created_at) VALUES (?1, ?2, ?3, ?4) "
	                    "ON CONFLICT (old_path) DO UPDATE SET new_path = ?2, source = ?3",
	[ST_REDIRECT_GET] = "SELECT new_path FROM redirects WHERE old_path = ?1",
	[ST_REDIRECT_LIST] = "SELECT old_path, new_path, source, created_at FROM redirects ORDER BY old_path",
	[ST_CONSENT_PUT] =
	        "INSERT INTO member_consents (member_id, newsletter, source, updated_at) VALUES (?1, ?2, ?3, ?4) "
	        "ON CONFLICT (member_id) DO UPDATE SET newsletter = ?2, source = ?3, updated_at = ?4",
	[ST_CONSENT_GET] = "SELECT newsletter FROM member_consents WHERE member_id = ?1",
	[ST_MEMBER_SET_COMPED] = "UPDATE members SET comped_until = ?2 WHERE id = ?1",
	[ST_SPEAKER_LIST] =
	        "SELECT s.id, s.slug, s.name, s.role FROM speakers s WHERE EXISTS (SELECT 1 FROM quotes q "
	        "JOIN articles a ON a.id = q.article_id WHERE q.speaker_id = s.id AND a.published_at <= ?1) "
	        "ORDER BY s.name, s.id",
	[ST_ARTICLE_COUNT] = "SELECT count(*) FROM articles WHERE published_at <= ?1",
	/* /metrics: read at each scrape, never on a page's path. */
	[ST_STATS_OUTBOX] = "SELECT count(*) FROM mail_outbox WHERE sent_at = 0",
	[ST_STATS_SUBS] = "SELECT status, count(*) FROM subscriptions GROUP BY status ORDER BY status",
	[ST_STATS_MRR] =
	        "SELECT p.currency, p.interval_months, CAST(sum(p.amount) AS BIGINT), count(*) FROM subscriptions s "
	        "JOIN plans p ON p.id = s.plan_id WHERE s.status = 'active' "
	        "GROUP BY p.currency, p.interval_months ORDER BY p.currency, p.interval_months",
	[ST_STATS_CHARGES] = "SELECT status, count(*) FROM charges GROUP BY status ORDER BY status",
	/* Search on SQLite: FTS5. Marks are 0x01 and 0x02, which indexed text
	 * never holds (core/htmltext.h). An article's rows in both indexes are
	 * keyed by SEARCH_KEY (its minute of publication, then its id), so the
	 * index's own order is newest first and a query can read the newest
	 * matches and stop (docs/search.md, "Speed"). The old rows go before the
	 * article's row changes (sqlops.c, upsert_body). */
	[ST_SEARCH_PUB_DELETE] = "DELETE FROM search_public WHERE rowid = "
	                         "(SELECT " SEARCH_KEY("published_at", "id") " FROM articles WHERE id = ?1)",
	[ST_SEARCH_GATED_DELETE] = "DELETE FROM search_gated WHERE rowid = "
	                           "(SELECT " SEARCH_KEY("published_at", "id") " FROM articles WHERE id = ?1)",
	[ST_SEARCH_PUB_INSERT] = "INSERT INTO search_public (rowid, title, dek, body) "
	                         "SELECT " SEARCH_KEY("published_at", "id") ", ?2, ?3, ?4 FROM articles WHERE id = ?1",
	[ST_SEARCH_GATED_INSERT] = "INSERT INTO search_gated (rowid, open, body) "
	                           "SELECT " SEARCH_KEY("published_at", "id") ", ?2, ?3 FROM articles WHERE id = ?1",
	/* temp.search_stage is made with each connection (sqlite/sqlite.c); a
	 * second write of one article in a transaction replaces its row. */
	[ST_SEARCH_STAGE] = "INSERT OR REPLACE INTO temp.search_stage (id, title, dek, body, open, gated_body, gated) "
	                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* At commit the staged rows go in under their SEARCH_KEY, in key order. */
	[ST_SEARCH_STAGE_PUB] =
	        "INSERT INTO search_public (rowid, title, dek, body) "
	        "SELECT " SEARCH_KEY("a.published_at",
	                             "a.id") ", st.title, st.dek, st.body "
	                                     "FROM temp.search_stage st JOIN articles a ON a.id = st.id ORDER BY 1",
	[ST_SEARCH_STAGE_GATED] =
	        "INSERT INTO search_gated (rowid, open, body) "
	        "SELECT " SEARCH_KEY(
	                "a.published_at",
	                "a.id") ", st.open, st.gated_body "
	                        "FROM temp.search_stage st JOIN articles a ON a.id = st.id WHERE st.gated = 1 ORDER BY 1",
	[ST_SEARCH_STAGE_CLEAR] = "DELETE FROM temp.search_stage",
	[ST_SEARCH_PENDING] = "SELECT p.article_id, a.title, a.dek, a.teaser_html, COALESCE(g.body_html, '') "
	                      "FROM search_pending p JOIN articles a ON a.id = p.article_id "
	                      "LEFT JOIN article_gated g ON g.article_id = a.id ORDER BY p.article_id LIMIT 200",
	[ST_SEARCH_PENDING_DONE] = "DELETE FROM search_pending WHERE article_id = ?1",
	/* The newest ?3 matches, ranked: title hits weigh most, then the dek,
	 * then the teaser. The rank runs on those rows only, and is bm25 with
	 * each word's document count capped (sqlite/rank.h), which keeps it from
	 * reading every match as bm25() does. The articles are read
	 * through the narrow index that migration 0009 made for it (the planner
	 * would read the rows, text and all, by their id). */
	[ST_SEARCH_PUBLIC] =
	        "SELECT a.id, a.access, a.published_at, masthead_bm25(search_public, 10.0, 4.0, 1.0) "
	        "FROM search_public JOIN articles a INDEXED BY articles_search ON a.id = " SEARCH_ID(
	                "search_public.rowid") " WHERE search_public MATCH ?1 AND search_public.rowid <= " SEARCH_KEY_LAST("?2") " AND a.published_at <= ?2 ORDER BY search_public.rowid DESC LIMIT ?3",
	/* The newest ?3 matches of the gated index that the public index does not
	 * match, among the articles whose gated index this reader may search:
	 * ?4 public, ?5 members, ?6 paid articles; a public article published at
	 * or before ?7 counts as paid (the auto-paywall). */
	[ST_SEARCH_GATED] =
	        "SELECT a.id, a.access, a.published_at FROM search_gated "
	        "JOIN articles a INDEXED BY articles_search ON a.id = " SEARCH_ID(
	                "search_gated.rowid") " "
	                                      "WHERE search_gated MATCH ?1 AND search_gated.rowid <= " SEARCH_KEY_LAST(
	                                              "?2") " "
	                                                    "AND a.published_at <= ?2 AND " SEARCH_SCOPE " "
	                                                    "AND search_gated.rowid NOT IN (SELECT rowid FROM search_public WHERE search_public MATCH ?1) "
	                                                    "ORDER BY search_gated.rowid DESC LIMIT ?3",
	[ST_SEARCH_EXCERPT] =
	        "SELECT a.slug, a.title, a.dek, a.published_at, highlight(search_public, 0, X'01', X'02'), "
	        "highlight(search_public, 1, X'01', X'02'), "
	        "snippet(search_public, 2, X'01', X'02', '\xe2\x80\xa6', 24) "
	        "FROM search_public, articles a WHERE a.id = ?2 AND search_public MATCH ?1 AND search_public.rowid = "
	        "(SELECT " SEARCH_KEY("published_at", "id") " FROM articles WHERE id = ?2)",
	[ST_SEARCH_ARTICLE] = "SELECT slug, title, dek, published_at FROM articles WHERE id = ?1",
	/* One segment an index: each query seeks a word's list once per
	 * segment, and a bulk import leaves a dozen or more. */
	[ST_SEARCH_COMPACT_PUB] = "INSERT INTO search_public (search_public) VALUES ('optimize')",
	[ST_SEARCH_COMPACT_GATED] = "INSERT INTO search_gated (search_gated) VALUES ('optimize')",
	[ST_SEARCH_GATED_SNIPPET] =
	        "SELECT snippet(search_gated, 1, X'01', X'02', '\xe2\x80\xa6', 24) FROM search_gated "
	        "WHERE search_gated MATCH ?1 AND rowid = "
	        "(SELECT " SEARCH_KEY("published_at", "id") " FROM articles WHERE id = ?2)",

	/* Newsletters (migration 0014, nlops.c). */
	[ST_NL_SAVE] = "INSERT INTO newsletters (slug, name, sender, reply_to, full_levels, subscribe_on_signup, "
	               "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (slug) DO UPDATE SET "
	               "name = excluded.name, sender = excluded.sender, reply_to = excluded.reply_to, "
	               "full_levels = excluded.full_levels, subscribe_on_signup = excluded.subscribe_on_signup",
	[ST_NL_ID] = "SELECT id FROM newsletters WHERE slug = ?1",
	[ST_NL_GET] = "SELECT " NL_COLS ", 0 FROM newsletters WHERE slug = ?1",
	[ST_NL_FIRST] = "SELECT " NL_COLS ", 0 FROM newsletters ORDER BY id LIMIT 1",
	[ST_NL_LIST] = "SELECT " NL_COLS ", CASE WHEN EXISTS (SELECT 1 FROM newsletter_members m "
	               "WHERE m.newsletter_id = newsletters.id AND m.member_id = ?1) THEN 1 ELSE 0 END "
	               "FROM newsletters ORDER BY id",
	[ST_NL_SUB_ON] = "INSERT INTO newsletter_members (newsletter_id, member_id, subscribed_at) VALUES (?1, ?2, ?3) "
	                 "ON CONFLICT DO NOTHING",
	[ST_NL_SUB_OFF] = "DELETE FROM newsletter_members WHERE newsletter_id = ?1 AND member_id = ?2",
	[ST_NL_SEND_INSERT] =
	        "INSERT INTO newsletter_sends (newsletter_id, article_id, created_at) VALUES (?1, ?2, ?3)",
	[ST_NL_SEND_GET] = "SELECT " NL_SEND_COLS ", '', '' FROM newsletter_sends s "
	                   "WHERE s.newsletter_id = ?1 AND s.article_id = ?2",
	[ST_NL_SENDS] = "SELECT " NL_SEND_COLS ", n.slug, a.slug FROM newsletter_sends s "
	                "JOIN newsletters n ON n.id = s.newsletter_id JOIN articles a ON a.id = s.article_id "
	                "ORDER BY s.id DESC",
	[ST_NL_AUDIENCE] =
	        "SELECT m.id, m.email, m.name, m.role, m.comped_until, "
	        "CASE WHEN s.id IS NULL THEN 0 ELSE 1 END, COALESCE(s.status, ''), COALESCE(s.grace_until, 0), "
	        "COALESCE(s.period_end, 0), COALESCE(s.cancel_at_period_end, 0) "
	        "FROM newsletter_members nm JOIN members m ON m.id = nm.member_id "
	        "LEFT JOIN subscriptions s ON s.member_id = m.id "
	        "WHERE nm.newsletter_id = ?1 AND nm.member_id > ?2 "
	        "AND NOT EXISTS (SELECT 1 FROM mail_suppressions x WHERE x.email = m.email) "
	        "ORDER BY nm.member_id LIMIT ?3",
	[ST_NL_ENQUEUE] = "INSERT INTO newsletter_recipients (send_id, member_id, email, name, reason, full_text) "
	                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
	[ST_NL_SEND_MARK] =
	        "UPDATE newsletter_sends SET "
	        "enqueued_at = CASE WHEN CAST(?2 AS BIGINT) > 0 THEN CAST(?2 AS BIGINT) ELSE enqueued_at END, "
	        "finished_at = CASE WHEN CAST(?3 AS BIGINT) > 0 THEN CAST(?3 AS BIGINT) ELSE finished_at END "
	        "WHERE id = ?1",
	[ST_NL_LEASE] = "UPDATE newsletter_sends SET lease_owner = ?2, lease_until = ?4 WHERE id = ?1 "
	                "AND (lease_until <= ?3 OR lease_owner = ?2 OR lease_owner = ?5)",
	[ST_NL_LEASE_HOLDER] = "SELECT lease_owner, lease_until FROM newsletter_sends WHERE id = ?1",
	[ST_NL_ORPHANS] = "UPDATE newsletter_recipients SET state = 'unconfirmed', "
	                  "last_error = 'its sender stopped before the server confirmed it' "
	                  "WHERE send_id = ?1 AND state = 'claimed'",
	[ST_NL_DUE] = "SELECT id, send_id, member_id, email, name, reason, full_text, state, attempts "
	              "FROM newsletter_recipients WHERE send_id = ?1 AND state = 'queued' AND id > ?2 "
	              "AND next_attempt_at <= ?3 ORDER BY id LIMIT ?4",
	[ST_NL_CLAIM] = "UPDATE newsletter_recipients SET state = 'claimed', claimed_at = ?2, attempts = attempts + 1 "
	                "WHERE id = ?1 AND state = 'queued'",
	[ST_NL_SETTLE] =
	        "UPDATE newsletter_recipients SET state = CAST(?2 AS TEXT), sent_at = CASE WHEN "
	        "CAST(?2 AS TEXT) = 'sent' THEN CAST(?3 AS BIGINT) ELSE sent_at END, next_attempt_at = ?4, last_error = ?5, "
	        "attempts = attempts + CASE WHEN state = 'queued' THEN 1 ELSE 0 END "
	        "WHERE id = ?1 AND state IN ('queued', 'claimed')",
	[ST_NL_COUNTS] = "SELECT state, COUNT(*), SUM(CASE WHEN unsubscribed_at > 0 THEN 1 ELSE 0 END) "
	                 "FROM newsletter_recipients WHERE send_id = ?1 GROUP BY state",
	[ST_NL_RECIPIENT] = "SELECT r.id, r.send_id, r.member_id, r.email, r.name, r.reason, r.full_text, r.state, "
	                    "r.attempts, s.newsletter_id, s.article_id FROM newsletter_recipients r "
	                    "JOIN newsletter_sends s ON s.id = r.send_id WHERE r.id = ?1",
	[ST_NL_UNSUB_ROW] =
	        "UPDATE newsletter_recipients SET unsubscribed_at = ?2 WHERE id = ?1 AND unsubscribed_at = 0",
	[ST_NL_BOUNCE_ROW] = "UPDATE newsletter_recipients SET state = 'bounced', last_error = ?2 WHERE id = ?1",
	[ST_NL_SUPPRESS] = "INSERT INTO mail_suppressions (email, reason, detail, created_at) VALUES (?1, ?2, ?3, ?4) "
	                   "ON CONFLICT DO NOTHING",
	[ST_NL_SUPPRESSED] = "SELECT 1 FROM mail_suppressions WHERE email = ?1",
	[ST_AUDIT_ADD] = "INSERT INTO audit_log (at, actor_id, actor_email, action, target, detail, ip) "
	                 "VALUES (?1, NULLIF(?2, 0), ?3, ?4, ?5, ?6, ?7)",
	[ST_AUDIT_LIST] =
	        "SELECT id, at, COALESCE(actor_id, 0), actor_email, action, target, detail, ip FROM audit_log "
	        "WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2",
	[ST_DIR_TAGS] = "SELECT t.slug, t.name, '', COUNT(*) FROM tags t JOIN article_tags x ON x.tag_id = t.id "
	                "JOIN articles a ON a.id = x.article_id WHERE a.published_at <= ?1 "
	                "GROUP BY t.id, t.slug, t.name ORDER BY t.name, t.slug",
	[ST_DIR_AUTHORS] = "SELECT au.slug, au.name, '', COUNT(*) FROM authors au "
	                   "JOIN article_authors x ON x.author_id = au.id JOIN articles a ON a.id = x.article_id "
	                   "WHERE a.published_at <= ?1 GROUP BY au.id, au.slug, au.name ORDER BY au.name, au.slug",
	[ST_DIR_PEOPLE] =
	        "SELECT sp.slug, sp.name, sp.role, COUNT(DISTINCT q.article_id) FROM speakers sp "
	        "JOIN quotes q ON q.speaker_id = sp.id JOIN articles a ON a.id = q.article_id "
	        "WHERE a.published_at <= ?1 GROUP BY sp.id, sp.slug, sp.name, sp.role ORDER BY sp.name, sp.slug",
	[ST_AUTHOR_PUT] = "INSERT INTO authors (slug, name, bio, photo, photo_alt) VALUES (?1, ?2, ?3, ?4, ?5) "
	                  "ON CONFLICT (slug) DO UPDATE SET name = ?2, bio = ?3, photo = ?4, photo_alt = ?5",
	[ST_AUTHOR_GET] = "SELECT slug, name, bio, photo, photo_alt FROM authors WHERE slug = ?1",
	[ST_READS_ADD] =
	        "INSERT INTO article_reads (article_id, hour, reads) SELECT id, ?2, ?3 FROM articles WHERE slug = ?1 "
	        "ON CONFLICT (article_id, hour) DO UPDATE SET reads = article_reads.reads + excluded.reads",
	[ST_READS_PRUNE] = "DELETE FROM article_reads WHERE hour < ?1",
	[ST_MOST_READ] = "SELECT a.slug, a.title, a.access, SUM(r.reads) FROM article_reads r "
	                 "JOIN articles a ON a.id = r.article_id WHERE r.hour >= ?1 AND a.published_at <= ?2 "
	                 "GROUP BY a.id, a.slug, a.title, a.access, a.published_at "
	                 "ORDER BY 4 DESC, a.published_at DESC, a.id DESC LIMIT ?3",
	[ST_MEDIA_ADD] = "INSERT INTO media (hash, type, width, height, bytes, url, alt, filename, uploaded_by, "
	                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULLIF(?9, 0), ?10) "
	                 "ON CONFLICT (hash) DO NOTHING",
	[ST_MEDIA_LIST] = "SELECT m.hash, m.type, m.width, m.height, m.bytes, m.url, m.alt, m.filename, "
	                  "COALESCE(m.uploaded_by, 0), COALESCE(u.email, ''), m.created_at FROM media m "
	                  "LEFT JOIN members u ON u.id = m.uploaded_by "
	                  "ORDER BY m.created_at DESC, m.hash LIMIT ?2 OFFSET ?1",
	[ST_NEWSROOM_ADOPT] =
	        "INSERT INTO newsroom_articles (status, slug, title, dek, access, authors, tags, publish_at, featured, "
	        "feature_image, feature_image_alt, body, live_slug, live_at, created_at, updated_at, updated_by) "
	        "SELECT 'published', a.slug, a.title, a.dek, a.access, "
	        "COALESCE((SELECT group_concat(w.name, ', ') FROM (SELECT au.name FROM article_authors x JOIN authors au "
	        "ON au.id = x.author_id WHERE x.article_id = a.id ORDER BY x.position) w), ''), "
	        "COALESCE((SELECT group_concat(w.name, ', ') FROM (SELECT t.name FROM article_tags x JOIN tags t "
	        "ON t.id = x.tag_id WHERE x.article_id = a.id ORDER BY x.position) w), ''), "
	        "a.published_at, a.featured, a.feature_image, a.feature_image_alt, " NEWSROOM_BODY ", a.slug, "
	        "a.updated_at, ?1, ?1, '' FROM articles a LEFT JOIN article_gated g ON g.article_id = a.id "
	        "WHERE NOT EXISTS (SELECT 1 FROM newsroom_articles n WHERE n.live_slug = a.slug) "
	        "AND NOT EXISTS (SELECT 1 FROM newsroom_articles n WHERE n.slug = a.slug) "
	        "ON CONFLICT DO NOTHING",
	[ST_NEWSROOM_LIST] = "SELECT " NEWSROOM_COLS("''") " FROM newsroom_articles n WHERE " NEWSROOM_WHERE
	                                                   " ORDER BY n.updated_at DESC, n.id DESC LIMIT ?7 OFFSET ?8",
	[ST_NEWSROOM_COUNT] = "SELECT count(*) FROM newsroom_articles n WHERE " NEWSROOM_WHERE,
	[ST_NEWSROOM_GET] = "SELECT " NEWSROOM_COLS("n.body") " FROM newsroom_articles n WHERE n.id = ?1",
	/* ?1..?16 the fields, ?17 created_at. */
	[ST_NEWSROOM_INSERT] =
	        "INSERT INTO newsroom_articles (status, slug, title, dek, access, authors, tags, publish_at, featured, "
	        "feature_image, feature_image_alt, body, live_slug, live_at, created_at, updated_at, updated_by) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?17, ?15, ?16)",
	/* ?1..?16 as the insert's; ?17 the id. */
	[ST_NEWSROOM_UPDATE] =
	        "UPDATE newsroom_articles SET status = ?1, slug = ?2, title = ?3, dek = ?4, access = ?5, "
	        "authors = ?6, tags = ?7, publish_at = ?8, featured = ?9, feature_image = ?10, "
	        "feature_image_alt = ?11, body = ?12, live_slug = ?13, live_at = ?14, "
	        "updated_at = ?15, updated_by = ?16 WHERE id = ?17",
	[ST_NEWSROOM_REV_ADD] =
	        "INSERT INTO newsroom_revisions (newsroom_id, at, actor, note, slug, title, dek, access, authors, tags, "
	        "publish_at, featured, feature_image, feature_image_alt, body) SELECT id, ?2, ?3, ?4, slug, title, dek, "
	        "access, authors, tags, publish_at, featured, feature_image, feature_image_alt, body "
	        "FROM newsroom_articles WHERE id = ?1",
	[ST_NEWSROOM_REVS] = "SELECT " NEWSROOM_REV_COLS " FROM newsroom_revisions r WHERE r.newsroom_id = ?1 "
	                     "ORDER BY r.id DESC LIMIT ?2",
	[ST_NEWSROOM_REV_GET] = "SELECT " NEWSROOM_REV_COLS " FROM newsroom_revisions r WHERE r.newsroom_id = ?1 "
	                        "AND r.id = ?2",
	[ST_NEWSROOM_DUE] = "SELECT id FROM newsroom_articles WHERE status = 'scheduled' AND publish_at <= ?1 "
	                    "ORDER BY publish_at, id LIMIT ?2",
	[ST_NEWSROOM_CLAIM] =
	        "UPDATE newsroom_articles SET status = 'published' WHERE id = ?1 AND status = 'scheduled' "
	        "AND publish_at <= ?2",
	[ST_ARTICLE_DELETE] = "DELETE FROM articles WHERE slug = ?1",
	[ST_NEWSROOM_PREVIEW_ADD] = "INSERT INTO newsroom_previews (token_hash, newsroom_id, expires_at, created_at) "
	                            "VALUES (?1, ?2, ?3, ?4)",
	[ST_NEWSROOM_PREVIEW_GET] =
	        "SELECT newsroom_id FROM newsroom_previews WHERE token_hash = ?1 AND expires_at > ?2",
	/* The newsroom's members (docs/newsroom.md): ?1 is a LIKE pattern
	 * whose own %, _ and \\ the caller escaped with \\. */
	[ST_MEMBER_SEARCH] = "SELECT " MEMBER_COLS " FROM members WHERE lower(email) LIKE ?1 ESCAPE '\\' "
	                     "OR lower(name) LIKE ?1 ESCAPE '\\' ORDER BY id LIMIT ?2 OFFSET ?3",
	/* Deleting a member: the rows that name them but do not hang on
	 * their row (the others go with it: ON DELETE CASCADE). */
	[ST_MEMBER_DEL_RECIPIENTS] = "DELETE FROM newsletter_recipients WHERE member_id = ?1",
	[ST_MEMBER_DEL_OUTBOX] = "DELETE FROM mail_outbox WHERE to_addr = (SELECT email FROM members WHERE id = ?1)",
	[ST_MEMBER_DELETE] = "DELETE FROM members WHERE id = ?1",
	/* The dashboard: paying at a moment, from paid invoices. */
	[ST_PAYING_AT] = "SELECT i.currency, count(DISTINCT i.subscription_id), "
	                 "CAST(round(sum(i.amount * 1.0 / p.interval_months)) AS BIGINT) FROM invoices i "
	                 "JOIN subscriptions s ON s.id = i.subscription_id JOIN plans p ON p.id = s.plan_id "
	                 "WHERE i.status = 'paid' AND i.amount > 0 AND i.period_start <= ?1 AND i.period_end > ?1 "
	                 "GROUP BY i.currency ORDER BY count(DISTINCT i.subscription_id) DESC, i.currency",
	[ST_DASH_MEMBERS] = "SELECT count(*) FROM members",
	[ST_DASH_TRIALS] = "SELECT count(*) FROM subscriptions WHERE status = 'trialing'",
	[ST_DASH_STARTED] = "SELECT count(*) FROM (SELECT subscription_id, min(paid_at) AS first FROM invoices "
	                    "WHERE status = 'paid' AND amount > 0 GROUP BY subscription_id) f "
	                    "WHERE f.first >= ?1 AND f.first <= ?2",
	[ST_DASH_CHURNED] = "SELECT count(*) FROM subscriptions WHERE (status = 'canceled' AND period_end >= ?1 "
	                    "AND period_end <= ?2) OR (status = 'unpaid' AND grace_until >= ?1 AND grace_until <= ?2)",
	[ST_DASH_RECOVERED] =
	        "SELECT i.currency, CAST(sum(i.amount) AS BIGINT) FROM invoices i WHERE i.status = 'paid' "
	        "AND i.paid_at >= ?1 AND i.paid_at <= ?2 AND EXISTS (SELECT 1 FROM charges f JOIN charges w "
	        "ON w.invoice_id = f.invoice_id AND w.status = 'succeeded' AND w.payment_method_id <> f.payment_method_id "
	        "AND w.id > f.id WHERE f.invoice_id = i.id AND f.status = 'failed') GROUP BY i.currency ORDER BY i.currency",
	[ST_INVOICES_FAILING] =
	        "SELECT i.id, m.id, m.email, m.name, s.status, i.amount, i.currency, i.attempts, i.next_attempt_at, "
	        "i.created_at FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id "
	        "JOIN members m ON m.id = s.member_id WHERE i.status = 'open' AND EXISTS (SELECT 1 FROM charges c "
	        "WHERE c.invoice_id = i.id AND c.status = 'failed') ORDER BY i.created_at, i.id LIMIT ?1",
	[ST_SETTING_LIST] = "SELECT name, value, secret FROM settings ORDER BY name",
	[ST_SETTING_PUT] = "INSERT INTO settings (name, value, secret, updated_at) VALUES (?1, ?2, ?3, ?4) "
	                   "ON CONFLICT (name) DO UPDATE SET value = excluded.value, secret = excluded.secret, "
	                   "updated_at = excluded.updated_at",
	[ST_SETTING_DELETE] = "DELETE FROM settings WHERE name = ?1",
	[ST_SETTINGS_BUMP] = "UPDATE settings_version SET version = version + 1 WHERE id = 1",
	[ST_SETTINGS_VERSION] = "SELECT version FROM settings_version WHERE id = 1",
	[ST_DEVICE_CODE_ADD] = "INSERT INTO device_codes (member_id, code_hash, created_at, expires_at) "
	                       "VALUES (?1, ?2, ?3, ?4)",
	[ST_DEVICE_CODE_GET] =
	        "SELECT id, member_id, code_hash, expires_at, attempts, used FROM device_codes WHERE id = ?1",
	[ST_DEVICE_CODE_TRY] = "UPDATE device_codes SET attempts = attempts + 1 "
	                       "WHERE id = ?1 AND used = 0 AND attempts < ?2 AND expires_at > ?3",
	[ST_DEVICE_CODE_USE] = "UPDATE device_codes SET used = 1 WHERE id = ?1 AND used = 0",
	[ST_DEVICE_CODE_PRUNE] = "DELETE FROM device_codes WHERE expires_at < ?1",
};

/* Search on PostgreSQL (migrations/postgres/0009_search.sql): the same
 * statements over tsvector columns. The query text is the one FTS5 gets,
 * turned into a tsquery by search_tsquery() word by word. The rank is
 * ts_rank with the title first, negated so that lower ranks first like
 * bm25. Marks as on SQLite; a headline shows the whole title and dek and
 * at most 24 words of the body. */
#define PG_CFG             "'masthead_search'"
#define PG_MARK            "StartSel=\x01, StopSel=\x02"
#define PG_SEARCH_ORDER(t) "LEAST(GREATEST(" t ".published_at, 0) / 60, 67108863) DESC, " t ".id DESC"
static const char *const pg_sql[ST_COUNT] = {
	/* string_agg orders by position itself. */
	[ST_NEWSROOM_ADOPT] =
	        "INSERT INTO newsroom_articles (status, slug, title, dek, access, authors, tags, publish_at, featured, "
	        "feature_image, feature_image_alt, body, live_slug, live_at, created_at, updated_at, updated_by) "
	        "SELECT 'published', a.slug, a.title, a.dek, a.access, "
	        "COALESCE((SELECT string_agg(au.name, ', ' ORDER BY x.position) FROM article_authors x JOIN authors au "
	        "ON au.id = x.author_id WHERE x.article_id = a.id), ''), "
	        "COALESCE((SELECT string_agg(t.name, ', ' ORDER BY x.position) FROM article_tags x JOIN tags t "
	        "ON t.id = x.tag_id WHERE x.article_id = a.id), ''), "
	        "a.published_at, a.featured, a.feature_image, a.feature_image_alt, " NEWSROOM_BODY ", a.slug, "
	        "a.updated_at, ?1, ?1, '' FROM articles a LEFT JOIN article_gated g ON g.article_id = a.id "
	        "WHERE NOT EXISTS (SELECT 1 FROM newsroom_articles n WHERE n.live_slug = a.slug) "
	        "AND NOT EXISTS (SELECT 1 FROM newsroom_articles n WHERE n.slug = a.slug) "
	        "ON CONFLICT DO NOTHING",
	/* Two "add a default card" of one member queue here, so the second
	 * clears the first's default before it inserts its own. */
	[ST_PM_LOCK_MEMBER] = "SELECT id FROM members WHERE id = ?1 FOR UPDATE",
	/* Never run: PostgreSQL indexes each row as it is written. */
	[ST_SEARCH_STAGE] = "SELECT 1",
	[ST_SEARCH_STAGE_PUB] = "SELECT 1",
	[ST_SEARCH_STAGE_GATED] = "SELECT 1",
	[ST_SEARCH_STAGE_CLEAR] = "SELECT 1",
	[ST_SEARCH_PUB_DELETE] = "DELETE FROM search_public WHERE article_id = ?1",
	[ST_SEARCH_GATED_DELETE] = "DELETE FROM search_gated WHERE article_id = ?1",
	[ST_SEARCH_PUB_INSERT] =
	        "INSERT INTO search_public (article_id, title, dek, body, doc) VALUES (?1, ?2, ?3, ?4, "
	        "setweight(to_tsvector(" PG_CFG ", ?2), 'A') || setweight(to_tsvector(" PG_CFG
	        ", ?3), 'B') || setweight(to_tsvector(" PG_CFG ", ?4), 'D'))",
	[ST_SEARCH_GATED_INSERT] = "INSERT INTO search_gated (article_id, open, body, doc) VALUES (?1, ?2, ?3, "
	                           "to_tsvector(" PG_CFG ", ?2) || to_tsvector(" PG_CFG ", ?3))",
	/* As on SQLite: the newest ?3 matches (by minute, then id), and only
	 * they are ranked; the gated-only matches within the reader's scope. */
	[ST_SEARCH_PUBLIC] = "SELECT w.id, w.access, w.published_at, -ts_rank('{0.1, 0.25, 0.4, 1.0}', w.doc, w.q, 1) "
	                     "FROM (SELECT a.id, a.access, a.published_at, p.doc, q "
	                     "FROM search_tsquery(?1) q, search_public p JOIN articles a ON a.id = p.article_id "
	                     "WHERE p.doc @@ q AND a.published_at <= ?2 ORDER BY " PG_SEARCH_ORDER(
	                             "a") " LIMIT ?3) w "
	                                  "ORDER BY " PG_SEARCH_ORDER("w"),
	[ST_SEARCH_GATED] = "SELECT a.id, a.access, a.published_at "
	                    "FROM search_tsquery(?1) q, search_gated g JOIN articles a ON a.id = g.article_id "
	                    "WHERE g.doc @@ q AND a.published_at <= ?2 AND " SEARCH_SCOPE " "
	                    "AND NOT EXISTS (SELECT 1 FROM search_public p WHERE p.article_id = g.article_id "
	                    "AND p.doc @@ q) ORDER BY " PG_SEARCH_ORDER("a") " LIMIT ?3",
	[ST_SEARCH_EXCERPT] = "SELECT a.slug, a.title, a.dek, a.published_at, "
	                      "ts_headline(" PG_CFG ", p.title, q, '" PG_MARK ", HighlightAll=true'), "
	                      "ts_headline(" PG_CFG ", p.dek, q, '" PG_MARK ", HighlightAll=true'), "
	                      "ts_headline(" PG_CFG ", p.body, q, '" PG_MARK ", MaxWords=24, MinWords=8') "
	                      "FROM search_tsquery(?1) q, search_public p JOIN articles a ON a.id = p.article_id "
	                      "WHERE p.doc @@ q AND p.article_id = ?2",
	/* GIN indexes merge their own pending lists; fresh statistics keep
	 * the planner's choice for a common word. */
	[ST_SEARCH_COMPACT_PUB] = "ANALYZE search_public",
	[ST_SEARCH_COMPACT_GATED] = "ANALYZE search_gated",
	[ST_SEARCH_GATED_SNIPPET] = "SELECT ts_headline(" PG_CFG ", g.body, q, '" PG_MARK ", MaxWords=24, MinWords=8') "
	                            "FROM search_tsquery(?1) q, search_gated g WHERE g.doc @@ q AND g.article_id = ?2",
};

static const bool returns_id[ST_COUNT] = {
	[ST_ARTICLE_INSERT] = true,  [ST_QUOTE_INSERT] = true,  [ST_MEMBER_INSERT] = true,  [ST_OUTBOX_INSERT] = true,
	[ST_SUB_INSERT] = true,      [ST_PM_INSERT] = true,     [ST_GIFT_INSERT] = true,    [ST_INV_INSERT] = true,
	[ST_CHG_INSERT] = true,      [ST_APIKEY_INSERT] = true, [ST_NL_SEND_INSERT] = true, [ST_NEWSROOM_INSERT] = true,
	[ST_DEVICE_CODE_ADD] = true,
};

bool
sql_lock_before(enum sql_dialect d, enum stmt_id id)
{
	return d == SQL_POSTGRES && (id == ST_RATE_INSERT || id == ST_PM_CLEAR_DEFAULT);
}

/* Writes to tables without a version trigger (migrations 0004 and 0010
 * name the ones with): a commit of theirs need not make the next request
 * read the versions again. */
static const bool moves_nothing[ST_COUNT] = {
	[ST_SESSION_TOUCH] = true,
	[ST_SESSION_INSERT] = true,
	[ST_RATE_INSERT] = true,
	[ST_METER_ADD] = true,
	/* The newsroom's working copies: what readers read does not move. */
	[ST_NEWSROOM_ADOPT] = true,
	[ST_NEWSROOM_INSERT] = true,
	[ST_NEWSROOM_UPDATE] = true,
	[ST_NEWSROOM_REV_ADD] = true,
	[ST_NEWSROOM_CLAIM] = true,
	[ST_NEWSROOM_PREVIEW_ADD] = true,
	/* Staff device codes, the audit log and read counts. */
	[ST_DEVICE_CODE_ADD] = true,
	[ST_DEVICE_CODE_TRY] = true,
	[ST_DEVICE_CODE_USE] = true,
	[ST_DEVICE_CODE_PRUNE] = true,
	[ST_AUDIT_ADD] = true,
	[ST_READS_ADD] = true,
	[ST_READS_PRUNE] = true,
};

bool
sql_moves_versions(enum stmt_id id)
{
	return !moves_nothing[id];
}

bool
sql_returns_id(enum stmt_id id)
{
	return returns_id[id];
}

char *
sql_render_text(enum sql_dialect d, const char *sql, int *nparams)
{
	size_t len = strlen(sql);
	/* "$n" is never longer than "?n"; room for " RETURNING id". */
	char *out = xmalloc(len + 32);
	size_t o = 0;
	int max = 0;
	char quote = 0;
	for (size_t i = 0; i < len; i++) {
		char c = sql[i];
		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '?' && i + 1 < len && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
			int n = 0;
			size_t j = i + 1;
			while (j < len && sql[j] >= '0' && sql[j] <= '9')
				n = n * 10 + (sql[j++] - '0');
			if (n > max)
				max = n;
			if (d == SQL_POSTGRES)
				c = '$';
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (nparams)
		*nparams = max;
	return out;
}

char *
sql_render(enum sql_dialect d, enum stmt_id id, int *nparams)
{
	const char *text = d == SQL_POSTGRES && pg_sql[id] ? pg_sql[id] : stmt_sql[id];
	char *out = sql_render_text(d, text, nparams);
	if (d == SQL_POSTGRES && returns_id[id])
		memcpy(out + strlen(out), " RETURNING id", sizeof " RETURNING id");
	return out;
}

const char *
sql_tables_query(enum sql_dialect d)
{
	return d == SQL_POSTGRES ? "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	                         : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
}

char *
sql_after_copy(enum sql_dialect d, const char *table)
{
	if (d != SQL_POSTGRES)
		return NULL;
	/* An identity column's sequence moves on past the copied ids. */
	size_t n = 3 * strlen(table) + 160;
	char *out = xmalloc(n);
	snprintf(out, n,
	         "SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT max(id) FROM %s), 0) + 1, false)",
	         table, table);
	return out;
}
