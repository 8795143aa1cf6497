/* sqlite.c: the SQLite backend of store.h: its connections, its statement
 * driver for the shared ops (sql.h, sqlops.c) and its migrations.
 *
 * Each thread gets its own connection (WAL lets readers run beside one
 * writer), with every statement prepared once on first use and kept.
 * The statements are shared with PostgreSQL (sql.c); what stays SQLite's
 * own is in this file's code, not its SQL: sqlite3_last_insert_rowid,
 * sqlite3_changes and the PRAGMAs at connection open. */
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
#include "store/sqlite/rank.h"
#include "core/log.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

struct conn;

struct sq_stmt {
	struct db_stmt base;
	sqlite3_stmt *st;
	struct conn *c;
	bool quiet; /* !sql_moves_versions(): its commit alone is not counted */
};

struct conn {
	sqlite3 *db;
	struct store *s;
	bool quiet_commit; /* a quiet statement is committing by itself (on_commit) */
	struct sq_stmt stmts[ST_COUNT];
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
		sqlite3_finalize(c->stmts[i].st);
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
	if (store_fault_taken(what))
		return MH_ERR_DB;
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
	struct conn *c = arg;
	/* A write no version trigger watches (a session's touch) committing on
	 * its own tells the caches nothing: the next request need not poll. */
	if (!c->quiet_commit)
		__atomic_fetch_add(&c->s->writes, 1, __ATOMIC_RELEASE);
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
	if (sqlite_rank_register(c->db) != SQLITE_OK) {
		sq_fail(s, c->db, "masthead_bm25");
		log_error("cannot register the search rank", "error=\"%s\"", store_errbuf());
		conn_close(c);
		return NULL;
	}
	/* 512 KiB of page cache a connection (not SQLite's 2 MiB): every thread
	 * has one, the server keeps what it reads most in its own caches, and
	 * the kernel keeps the file. */
	sqlite3_exec(c->db,
	             "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; "
	             "PRAGMA cache_size = -512; "
	             "CREATE TEMP TABLE IF NOT EXISTS search_stage (id INTEGER PRIMARY KEY, title TEXT, dek TEXT, "
	             "body TEXT, open TEXT, gated_body TEXT, gated INTEGER);",
	             NULL, NULL, NULL);
	c->s = s;
	sqlite3_wal_hook(c->db, on_commit, c);
	pthread_setspecific(q->key, c);
	pthread_mutex_lock(&q->lock);
	c->next = q->all;
	q->all = c;
	pthread_mutex_unlock(&q->lock);
	return c;
}

extern const struct db_driver sqlite_driver;

/* Returns the prepared statement, reset and with no bindings; NULL on error. */
static struct db_stmt *
stmt(struct store *s, enum stmt_id id)
{
	struct conn *c = conn_get(s);
	if (!c)
		return NULL;
	struct sq_stmt *st = &c->stmts[id];
	if (!st->st) {
		char *sql = sql_render(SQL_SQLITE, id, NULL);
		int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL);
		free(sql);
		if (rc != SQLITE_OK) {
			sq_fail(s, c->db, "prepare");
			log_error("cannot prepare statement", "id=%d error=\"%s\"", (int) id, store_errbuf());
			return NULL;
		}
		st->base.drv = &sqlite_driver;
		st->c = c;
		st->quiet = !sql_moves_versions(id);
	}
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
	return &st->base;
}

static sqlite3 *
handle(struct store *s)
{
	struct conn *c = conn_get(s);
	return c ? c->db : NULL;
}

#define SQ(st) (((struct sq_stmt *) (st))->st)

static void
drv_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(SQ(st), i, v);
}

static void
drv_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(SQ(st), i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(SQ(st), i);
}

static int
drv_step(struct db_stmt *dst)
{
	struct sq_stmt *st = (struct sq_stmt *) dst;
	/* Outside a transaction the statement commits inside this step. Only
	 * the prepared statements of sql.c are quiet; ad hoc ones (copy,
	 * migrations) and explicit transactions always count. */
	/* A fault build fails a statement's run, at its first step (as the
	 * PostgreSQL driver, which runs it whole then). */
	if (!sqlite3_stmt_busy(st->st) && store_fault_call())
		return DB_ERROR;
	bool quiet = st->quiet && st->c && sqlite3_get_autocommit(st->c->db);
	if (quiet)
		st->c->quiet_commit = true;
	int rc = sqlite3_step(st->st);
	if (quiet)
		st->c->quiet_commit = false;
	return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : DB_ERROR;
}

static void
drv_reset(struct db_stmt *st)
{
	sqlite3_reset(SQ(st));
}

static int64_t
drv_col_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(SQ(st), i);
}

static const char *
drv_col_text(struct db_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(SQ(st), i);
	return t ? (const char *) t : "";
}

static size_t
drv_col_bytes(struct db_stmt *st, int i)
{
	return (size_t) sqlite3_column_bytes(SQ(st), i);
}

static bool
drv_col_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(SQ(st), i) == SQLITE_NULL;
}

static int64_t
drv_changes(struct db_stmt *st)
{
	return sqlite3_changes(sqlite3_db_handle(SQ(st)));
}

static int64_t
drv_last_id(struct db_stmt *st)
{
	return sqlite3_last_insert_rowid(sqlite3_db_handle(SQ(st)));
}

static mh_err
drv_fail(struct store *s, struct db_stmt *st, const char *what)
{
	return sq_fail(s, st ? sqlite3_db_handle(SQ(st)) : handle(s), what);
}

static mh_err
exec_sql(struct store *s, const char *sql)
{
	sqlite3 *db = handle(s);
	if (!db)
		return MH_ERR_DB;
	/* A rollback never fails on purpose: it is how callers clean up. */
	if (strncmp(sql, "ROLLBACK", 8) != 0 && store_fault_call()) {
		store_fault_taken(sql);
		return MH_ERR_DB;
	}
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return MH_ERR_DB;
	}
	return MH_OK;
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
		if (strncmp(m->name, "sqlite/", 7) != 0)
			continue;
		const char *name = m->name + 7;
		long version = strtol(name, NULL, 10);
		if (version <= 0) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "migration %s: name must start with its number",
			         name);
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
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "migration %.40s: %.200s", name, msg);
			goto fail;
		}
		if (sqlite3_prepare_v2(db,
		                       "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
		                       -1, &st, NULL)) {
			err = sq_fail(s, db, "migrate");
			goto fail;
		}
		sqlite3_bind_int64(st, 1, version);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
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
		log_info("migration applied", "name=%s", name);
	}
	int indexed;
	if ((err = sql_search_index_pending(s, &indexed)))
		return err;
	if (indexed)
		log_info("search index built", "articles=%d", indexed);
	return MH_OK;
fail:
	sq_rollback(s);
	return err;
}

static struct db_stmt *
drv_prepare(struct store *s, const char *sql)
{
	sqlite3 *db = handle(s);
	if (!db)
		return NULL;
	struct sq_stmt *st = xcalloc(1, sizeof *st);
	st->base.drv = &sqlite_driver;
	if (sqlite3_prepare_v2(db, sql, -1, &st->st, NULL) != SQLITE_OK) {
		sq_fail(s, db, "prepare");
		free(st);
		return NULL;
	}
	return &st->base;
}

static void
drv_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(SQ(st));
	free(st);
}

static int
drv_col_count(struct db_stmt *st)
{
	return sqlite3_column_count(SQ(st));
}

static const char *
drv_col_name(struct db_stmt *st, int i)
{
	const char *n = sqlite3_column_name(SQ(st), i);
	return n ? n : "";
}

static bool
drv_in_txn(struct store *s)
{
	struct conn *c = conn_get(s);
	return c && !sqlite3_get_autocommit(c->db);
}

static struct store_ops sqlite_ops;

const struct db_driver sqlite_driver = {
	.dialect = SQL_SQLITE,
	.begin_sql = "BEGIN IMMEDIATE",
	.migrations = "sqlite/",
	.stmt = stmt,
	.exec = exec_sql,
	.in_txn = drv_in_txn,
	.bind_int64 = drv_bind_int64,
	.bind_text = drv_bind_text,
	.step = drv_step,
	.reset = drv_reset,
	.col_int64 = drv_col_int64,
	.col_text = drv_col_text,
	.col_bytes = drv_col_bytes,
	.col_null = drv_col_null,
	.changes = drv_changes,
	.last_id = drv_last_id,
	.fail = drv_fail,
	.prepare = drv_prepare,
	.finalize = drv_finalize,
	.col_count = drv_col_count,
	.col_name = drv_col_name,
};

static void
ops_init(void)
{
	sql_ops_fill(&sqlite_ops);
	sqlite_ops.name = "sqlite";
	sqlite_ops.close = sq_close;
	sqlite_ops.migrate = sq_migrate;
}

mh_err
sqlite_store_open(const char *path, struct store *s, char *err, size_t errlen)
{
	struct sq *q = xcalloc(1, sizeof *q);
	q->path = xstrdup(path);
	pthread_mutex_init(&q->lock, NULL);
	pthread_key_create(&q->key, conn_thread_exit);
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, ops_init);
	s->ops = &sqlite_ops;
	s->db = &sqlite_driver;
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
