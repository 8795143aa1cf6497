/* sql.h: the statements both engines run, named by one enum, and the
 * driver each engine gives the shared ops (sqlops.c) to run them with.
 * Only src/store/ includes it.
 *
 * The statements are written once, in the SQL both engines speak (see
 * sql.c); what differs between the dialects is decided in sql.c alone. */
#ifndef MH_STORE_SQL_H
#define MH_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct store;
struct store_ops;

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
	ST_TOKEN_SPEND_MEMBER,
	ST_RATE_COUNT,
	ST_RATE_INSERT,
	ST_RATE_PRUNE,
	ST_RATE_LOCK,
	ST_SECRET_INSERT,
	ST_SECRET_GET,
	ST_MIGRATION_APPLIED,
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
	ST_PM_LOCK_MEMBER,
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
	ST_APIKEY_INSERT,
	ST_APIKEY_BY_HASH,
	ST_APIKEY_LIST,
	ST_APIKEY_REVOKE,
	ST_SPEAKER_LIST,
	ST_ARTICLE_COUNT,
	ST_REDIRECT_PUT,
	ST_REDIRECT_GET,
	ST_REDIRECT_LIST,
	ST_CONSENT_PUT,
	ST_CONSENT_GET,
	ST_MEMBER_SET_COMPED,
	ST_STATS_OUTBOX,
	ST_STATS_SUBS,
	ST_STATS_MRR,
	ST_STATS_CHARGES,
	/* Search (docs/search.md): each engine's own full text SQL. */
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
	ST_SEARCH_COMPACT_PUB,
	ST_SEARCH_COMPACT_GATED,
	/* Newsletters (nlops.c). */
	ST_NL_SAVE,
	ST_NL_ID,
	ST_NL_GET,
	ST_NL_FIRST,
	ST_NL_LIST,
	ST_NL_SUB_ON,
	ST_NL_SUB_OFF,
	ST_NL_SEND_INSERT,
	ST_NL_SEND_GET,
	ST_NL_SENDS,
	ST_NL_AUDIENCE,
	ST_NL_ENQUEUE,
	ST_NL_SEND_MARK,
	ST_NL_LEASE,
	ST_NL_LEASE_HOLDER,
	ST_NL_ORPHANS,
	ST_NL_DUE,
	ST_NL_CLAIM,
	ST_NL_SETTLE,
	ST_NL_COUNTS,
	ST_NL_RECIPIENT,
	ST_NL_UNSUB_ROW,
	ST_NL_BOUNCE_ROW,
	ST_NL_SUPPRESS,
	ST_NL_SUPPRESSED,
	/* SQLite: search rows written inside a transaction wait in a temporary
	 * table until commit (sqlops.c, search_index). PostgreSQL: unused. */
	ST_SEARCH_STAGE,
	ST_SEARCH_STAGE_PUB,
	ST_SEARCH_STAGE_GATED,
	ST_SEARCH_STAGE_CLEAR,
	ST_AUDIT_ADD,
	ST_AUDIT_LIST,
	ST_DIR_TAGS,
	ST_DIR_AUTHORS,
	ST_DIR_PEOPLE,
	ST_AUTHOR_PUT,
	ST_AUTHOR_GET,
	ST_READS_ADD,
	ST_READS_PRUNE,
	ST_MOST_READ,
	ST_MEDIA_ADD,
	ST_MEDIA_LIST,
	ST_NEWSROOM_ADOPT,
	ST_NEWSROOM_LIST,
	ST_NEWSROOM_COUNT,
	ST_NEWSROOM_GET,
	ST_NEWSROOM_INSERT,
	ST_NEWSROOM_UPDATE,
	ST_NEWSROOM_REV_ADD,
	ST_NEWSROOM_REVS,
	ST_NEWSROOM_REV_GET,
	ST_NEWSROOM_DUE,
	ST_NEWSROOM_CLAIM,
	ST_ARTICLE_DELETE,
	ST_NEWSROOM_PREVIEW_ADD,
	ST_NEWSROOM_PREVIEW_GET,
	ST_MEMBER_SEARCH,
	ST_MEMBER_DEL_RECIPIENTS,
	ST_MEMBER_DEL_OUTBOX,
	ST_MEMBER_DELETE,
	ST_PAYING_AT,
	ST_DASH_MEMBERS,
	ST_DASH_TRIALS,
	ST_DASH_STARTED,
	ST_DASH_CHURNED,
	ST_DASH_RECOVERED,
	ST_INVOICES_FAILING,
	ST_SETTING_LIST,
	ST_SETTING_PUT,
	ST_SETTING_DELETE,
	ST_SETTINGS_BUMP,
	ST_SETTINGS_VERSION,
	ST_DEVICE_CODE_ADD,
	ST_DEVICE_CODE_GET,
	ST_DEVICE_CODE_TRY,
	ST_DEVICE_CODE_USE,
	ST_DEVICE_CODE_PRUNE,
	ST_COUNT
};

enum sql_dialect { SQL_SQLITE, SQL_POSTGRES };

/* The statement as the dialect wants it, malloc'd: SQLite's as written;
 * PostgreSQL's with $n for ?n and RETURNING id after an insert whose new id
 * is read. *nparams gets the highest parameter number it names. */
char *sql_render(enum sql_dialect d, enum stmt_id id, int *nparams);
/* Whether, in dialect d, the statement must run after its lock statement
 * (ST_RATE_LOCK for ST_RATE_INSERT, ST_PM_LOCK_MEMBER for
 * ST_PM_CLEAR_DEFAULT) in one transaction. */
bool sql_lock_before(enum sql_dialect d, enum stmt_id id);
/* Whether the statement inserts a row whose new id the caller reads. */
bool sql_returns_id(enum stmt_id id);
/* Whether a write by the statement alone may move the content version or
 * add a member change (store_writes() counts only those): false for the
 * hot writes on tables no version trigger watches (a session's touch, a
 * new session, a rate limit's attempt, a meter read). */
bool sql_moves_versions(enum stmt_id id);
/* A migration or ad-hoc statement (? numbered placeholders) in the dialect. */
char *sql_render_text(enum sql_dialect d, const char *sql, int *nparams);

/* A prepared statement of one engine; each engine's own struct begins with it. */
struct db_stmt {
	const struct db_driver *drv;
};

enum { DB_ERROR = 1, DB_ROW = 100, DB_DONE = 101 };

/* What an engine provides; the shared ops call nothing else. Binding a
 * text keeps the pointer until the statement is stepped or reset. */
struct db_driver {
	enum sql_dialect dialect;
	const char *begin_sql;
	const char *migrations; /* its folder in embedded_migrations: "sqlite/" */
	/* The statement, reset and with no bindings; NULL (message set) on error. */
	struct db_stmt *(*stmt)(struct store *s, enum stmt_id id);
	mh_err (*exec)(struct store *s, const char *sql);
	/* True when the calling thread's connection is inside a transaction. */
	bool (*in_txn)(struct store *s);
	void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	void (*bind_text)(struct db_stmt *st, int i, const char *v);
	int (*step)(struct db_stmt *st); /* DB_ROW, DB_DONE or DB_ERROR */
	void (*reset)(struct db_stmt *st);
	int64_t (*col_int64)(struct db_stmt *st, int i);
	const char *(*col_text)(struct db_stmt *st, int i); /* "" for NULL */
	size_t (*col_bytes)(struct db_stmt *st, int i);
	bool (*col_null)(struct db_stmt *st, int i);
	int64_t (*changes)(struct db_stmt *st);
	int64_t (*last_id)(struct db_stmt *st);
	/* Sets the message from the engine's last error on st (NULL: the
	 * thread's connection) and maps it: a constraint is MH_ERR_CONFLICT. */
	mh_err (*fail)(struct store *s, struct db_stmt *st, const char *what);
	/* An ad-hoc statement (? numbered placeholders), for this use only:
	 * its parameters are typed by the statement, and finalize frees it. */
	struct db_stmt *(*prepare)(struct store *s, const char *sql);
	void (*finalize)(struct db_stmt *st);
	int (*col_count)(struct db_stmt *st);
	const char *(*col_name)(struct db_stmt *st, int i);
};

/* The query that lists the database's tables, one name a row. */
const char *sql_tables_query(enum sql_dialect d);
/* What a copy runs on the target after filling table (which has an id
 * column): NULL when nothing (SQLite's next rowid follows max(id)). */
char *sql_after_copy(enum sql_dialect d, const char *table);

/* Indexes the articles queued in search_pending (by migration 0009 for
 * the articles a database held before it, or by a copy), a batch a
 * transaction; *done gets how many. Each engine runs it after migrating. */
mh_err sql_search_index_pending(struct store *s, int *done);

/* Fills every op of the table but name, close and migrate with the shared
 * implementations, which run on s->db. */
void sql_ops_fill(struct store_ops *ops);

#endif
