/* postgres.c: the PostgreSQL backend of store.h, through libpq: its
 * connections, its statement driver for the shared ops (sql.h, sqlops.c)
 * and its migrations.
 *
 * Connections come from a bounded pool (store_set_pool, --db-pool): a
 * thread borrows one at its first call, keeps it (a thread-specific key)
 * until store_release() or its exit, and gives it back unless a
 * transaction is open on it; when every connection is out, the next
 * borrower waits, bounded. Connections are opened when first needed and
 * kept; every statement is prepared once per connection on first use and
 * kept with it. Parameters travel as text, typed at prepare time (bigint
 * for numbers, text for strings).
 *
 * Where PostgreSQL behaves unlike SQLite, the driver makes it behave the
 * same, here and nowhere else:
 *  - a failed statement inside a transaction would abort the whole
 *    transaction; each write in a transaction runs under its own savepoint,
 *    so a conflict (an invoice that exists) leaves the transaction usable,
 *    as in SQLite;
 *  - SAVEPOINT outside a transaction (an op that stands alone) opens one,
 *    and the matching RELEASE commits it;
 *  - unique, foreign-key and check violations (SQLSTATE class 23) are
 *    MH_ERR_CONFLICT, as SQLite's constraint errors are;
 *  - a connection that broke is reset on the next statement. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/embed.h"
#include "core/log.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

#define PG_MAXPARAMS 32
#define OID_INT8     20
#define OID_TEXT     25
/* The advisory lock migrations run under: "mh" "migr" as a number. */
#define MIGRATE_LOCK INT64_C(0x6d686d696772)

struct pgconn;

struct pg_stmt {
	struct db_stmt base;
	struct pgconn *c;
	enum stmt_id id;
	char *sql;
	int nparams;
	bool prepared, returns_id, is_select, ran;
	bool adhoc; /* prepare(): run unnamed, parameters typed by the server */
	const char *vals[PG_MAXPARAMS];
	char nums[PG_MAXPARAMS][24];
	unsigned types[PG_MAXPARAMS];
	PGresult *res;
	int row, nrows;
	int64_t changes, last_id;
};

struct pgconn {
	PGconn *conn;
	struct store *s;
	struct pg_stmt stmts[ST_COUNT];
	/* The savepoint that opened a transaction by itself ("" when none). */
	char auto_sp[32];
	char sqlstate[6];
	char msg[200];
	struct pgconn *next;      /* in pgq.all */
	struct pgconn *idle_next; /* in pgq.idle */
	struct pgq *owner;
};

struct pgq {
	char *url;
	pthread_key_t key; /* the calling thread's borrowed connection */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct pgconn *all;  /* every open connection (under lock) */
	struct pgconn *idle; /* those not borrowed, through idle_next (under lock) */
	int open, max;       /* under lock */
};

extern const struct db_driver postgres_driver;

static void
stmt_clear(struct pg_stmt *st)
{
	if (st->res)
		PQclear(st->res);
	st->res = NULL;
	st->ran = false;
	st->row = st->nrows = 0;
}

static void
conn_close(struct pgconn *c)
{
	for (int i = 0; i < ST_COUNT; i++) {
		stmt_clear(&c->stmts[i]);
		free(c->stmts[i].sql);
	}
	if (c->conn)
		PQfinish(c->conn);
	free(c);
}

static bool in_transaction(struct pgconn *c);
static bool run(struct pgconn *c, const char *sql);

/* Gives c back to the pool (q->lock held). */
static void
pool_put_locked(struct pgq *q, struct pgconn *c)
{
	c->idle_next = q->idle;
	q->idle = c;
	pthread_cond_signal(&q->freed);
}

/* A connection that is not coming back (it could not be opened). */
static void
pool_forget(struct pgq *q, struct pgconn *c)
{
	pthread_mutex_lock(&q->lock);
	for (struct pgconn **pp = &q->all; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	q->open--;
	pthread_cond_signal(&q->freed);
	pthread_mutex_unlock(&q->lock);
}

/* A thread that ends gives its connection back, a transaction it left
 * open rolled back. */
static void
conn_thread_exit(void *p)
{
	struct pgconn *c = p;
	if (c->conn && PQstatus(c->conn) == CONNECTION_OK && in_transaction(c))
		run(c, "ROLLBACK");
	c->auto_sp[0] = '\0';
	pthread_mutex_lock(&c->owner->lock);
	pool_put_locked(c->owner, c);
	pthread_mutex_unlock(&c->owner->lock);
}

/* Notes the error of a result (or of the connection when res is NULL). */
static void
note_error(struct pgconn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!m)
		m = PQerrorMessage(c->conn);
	snprintf(c->msg, sizeof c->msg, "%s", m && *m ? m : "unknown error");
	size_t n = strlen(c->msg);
	while (n && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' '))
		c->msg[--n] = '\0';
}

static mh_err
conn_fail(struct pgconn *c, const char *what)
{
	if (store_fault_taken(what))
		return MH_ERR_DB;
	snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s: %s", what, c ? c->msg : "cannot connect");
	if (c && strncmp(c->sqlstate, "23", 2) == 0)
		return MH_ERR_CONFLICT;
	return MH_ERR_DB;
}

/* A connection that broke comes back with nothing prepared. */
static bool
conn_check(struct pgconn *c)
{
	if (PQstatus(c->conn) == CONNECTION_OK)
		return true;
	PQreset(c->conn);
	for (int i = 0; i < ST_COUNT; i++)
		c->stmts[i].prepared = false;
	c->auto_sp[0] = '\0';
	if (PQstatus(c->conn) == CONNECTION_OK)
		return true;
	note_error(c, NULL);
	conn_fail(c, "connection lost");
	return false;
}

/* Opens the connection of a new pool entry; false (error noted) on failure. */
static bool
conn_open(struct pgq *q, struct pgconn *c)
{
	/* "masthead PID" in pg_stat_activity, unless the URL names the application. */
	char app[48];
	snprintf(app, sizeof app, "masthead %ld", (long) getpid());
	const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *const vals[] = { q->url, app, NULL };
	c->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		note_error(c, NULL);
		conn_fail(c, "cannot connect");
		return false;
	}
	PGresult *r = PQexec(c->conn, "SET client_min_messages = warning");
	PQclear(r);
	return true;
}

/* The calling thread's connection: the one it holds, else an idle one,
 * else a new one while the pool has room, else the first one given back
 * within STORE_POOL_WAIT_MS. */
static struct pgconn *
conn_get(struct store *s)
{
	struct pgq *q = s->impl;
	struct pgconn *c = pthread_getspecific(q->key);
	if (c)
		return conn_check(c) ? c : NULL;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STORE_POOL_WAIT_MS / 1000;
	until.tv_nsec += (long) (STORE_POOL_WAIT_MS % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->lock);
	while (!q->idle && q->open >= q->max) {
		if (pthread_cond_timedwait(&q->freed, &q->lock, &until) != 0 && !q->idle && q->open >= q->max) {
			int max = q->max;
			pthread_mutex_unlock(&q->lock);
			snprintf(store_errbuf(), STORE_ERRMSG_MAX,
			         "all %d database connections are busy (waited %d ms; see --db-pool)", max,
			         STORE_POOL_WAIT_MS);
			return NULL;
		}
	}
	if (q->idle) {
		c = q->idle;
		q->idle = c->idle_next;
		pthread_mutex_unlock(&q->lock);
		pthread_setspecific(q->key, c);
		return conn_check(c) ? c : NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->owner = q;
	c->s = s;
	c->next = q->all;
	q->all = c;
	q->open++;
	pthread_mutex_unlock(&q->lock);
	if (!conn_open(q, c)) {
		pool_forget(q, c);
		conn_close(c);
		return NULL;
	}
	pthread_setspecific(q->key, c);
	return c;
}

/* store_release(): the thread's connection back to the pool, unless a
 * transaction is open on it (the thread still needs it to finish). */
static void
pg_release(struct store *s)
{
	struct pgq *q = s->impl;
	struct pgconn *c = pthread_getspecific(q->key);
	if (!c || c->auto_sp[0] || (PQstatus(c->conn) == CONNECTION_OK && in_transaction(c)))
		return;
	/* Results kept by statements are of no use to the next borrower. */
	for (int i = 0; i < ST_COUNT; i++)
		if (c->stmts[i].res)
			stmt_clear(&c->stmts[i]);
	pthread_setspecific(q->key, NULL);
	pthread_mutex_lock(&q->lock);
	pool_put_locked(q, c);
	pthread_mutex_unlock(&q->lock);
}

static void
pg_set_pool(struct store *s, int max)
{
	struct pgq *q = s->impl;
	struct pgconn *gone = NULL;
	pthread_mutex_lock(&q->lock);
	q->max = max < 1 ? 1 : max;
	/* A smaller pool closes its idle connections beyond the new size; the
	 * borrowed ones come back to it, and no new one opens until they fit. */
	while (q->open > q->max && q->idle) {
		struct pgconn *c = q->idle;
		q->idle = c->idle_next;
		for (struct pgconn **pp = &q->all; *pp; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		}
		q->open--;
		c->next = gone;
		gone = c;
	}
	pthread_cond_broadcast(&q->freed);
	pthread_mutex_unlock(&q->lock);
	while (gone) {
		struct pgconn *n = gone->next;
		conn_close(gone);
		gone = n;
	}
}

static bool
in_transaction(struct pgconn *c)
{
	PGTransactionStatusType t = PQtransactionStatus(c->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* Runs one command without parameters; false (error noted) on failure. */
static bool
run(struct pgconn *c, const char *sql)
{
	PGresult *r = PQexec(c->conn, sql);
	ExecStatusType t = PQresultStatus(r);
	bool ok = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
	if (!ok)
		note_error(c, r);
	PQclear(r);
	return ok;
}

static void
count_write(struct store *s)
{
	__atomic_fetch_add(&s->writes, 1, __ATOMIC_RELEASE);
}

/* Transaction control and savepoints, as the shared ops use them. */
static mh_err
exec_sql(struct store *s, const char *sql)
{
	struct pgconn *c = conn_get(s);
	if (!c)
		return MH_ERR_DB;
	/* A rollback never fails on purpose: it is how callers clean up. */
	if (strncmp(sql, "ROLLBACK", 8) != 0 && store_fault_call()) {
		store_fault_taken(sql);
		return MH_ERR_DB;
	}
	if (strncmp(sql, "SAVEPOINT ", 10) == 0 && !in_transaction(c)) {
		if (!run(c, "BEGIN"))
			return conn_fail(c, "begin");
		snprintf(c->auto_sp, sizeof c->auto_sp, "%s", sql + 10);
	}
	if (!run(c, sql)) {
		mh_err err = conn_fail(c, "exec");
		if (strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0)
			run(c, "ROLLBACK");
		return err;
	}
	if (strncmp(sql, "RELEASE ", 8) == 0 && c->auto_sp[0] && strcmp(sql + 8, c->auto_sp) == 0) {
		c->auto_sp[0] = '\0';
		if (!run(c, "COMMIT"))
			return conn_fail(c, "commit");
		count_write(s);
	} else if (strcmp(sql, "COMMIT") == 0) {
		count_write(s);
	}
	return MH_OK;
}

static struct db_stmt *
stmt(struct store *s, enum stmt_id id)
{
	struct pgconn *c = conn_get(s);
	if (!c)
		return NULL;
	struct pg_stmt *st = &c->stmts[id];
	if (!st->sql) {
		st->base.drv = &postgres_driver;
		st->c = c;
		st->id = id;
		st->sql = sql_render(SQL_POSTGRES, id, &st->nparams);
		st->returns_id = sql_returns_id(id);
		st->is_select = strncmp(st->sql, "SELECT", 6) == 0;
		if (st->nparams > PG_MAXPARAMS) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "statement %d: too many parameters", (int) id);
			return NULL;
		}
	}
	stmt_clear(st);
	for (int i = 0; i < PG_MAXPARAMS; i++) {
		st->vals[i] = NULL;
		st->types[i] = 0;
	}
	return &st->base;
}

#define PG(st) ((struct pg_stmt *) (st))

static void
drv_bind_int64(struct db_stmt *dst, int i, int64_t v)
{
	struct pg_stmt *st = PG(dst);
	if (i < 1 || i > PG_MAXPARAMS)
		return;
	snprintf(st->nums[i - 1], sizeof st->nums[i - 1], "%lld", (long long) v);
	st->vals[i - 1] = st->nums[i - 1];
	st->types[i - 1] = OID_INT8;
}

static void
drv_bind_text(struct db_stmt *dst, int i, const char *v)
{
	struct pg_stmt *st = PG(dst);
	if (i < 1 || i > PG_MAXPARAMS)
		return;
	st->vals[i - 1] = v;
	st->types[i - 1] = OID_TEXT;
}

static int
execute(struct pg_stmt *st)
{
	struct pgconn *c = st->c;
	struct store *s = c->s;
	if (st->adhoc) {
		st->res = PQexecParams(c->conn, st->sql, st->nparams, NULL, st->vals, NULL, NULL, 0);
		ExecStatusType t = PQresultStatus(st->res);
		if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
			note_error(c, st->res);
			return DB_ERROR;
		}
		const char *n = PQcmdTuples(st->res);
		st->changes = n && *n ? strtoll(n, NULL, 10) : 0;
		st->nrows = PQntuples(st->res);
		if (!st->is_select && !in_transaction(c))
			count_write(s);
		return DB_DONE;
	}
	char name[16];
	snprintf(name, sizeof name, "s%d", (int) st->id);
	if (!st->prepared) {
		Oid types[PG_MAXPARAMS];
		for (int i = 0; i < st->nparams; i++)
			types[i] = st->types[i] ? st->types[i] : OID_TEXT;
		PGresult *r = PQprepare(c->conn, name, st->sql, st->nparams, types);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			note_error(c, r);
		PQclear(r);
		if (!ok) {
			log_error("cannot prepare statement", "id=%d error=\"%s\"", (int) st->id, c->msg);
			return DB_ERROR;
		}
		st->prepared = true;
	}
	bool guard = !st->is_select && in_transaction(c);
	if (guard && !run(c, "SAVEPOINT mh_stmt"))
		return DB_ERROR;
	st->res = PQexecPrepared(c->conn, name, st->nparams, st->vals, NULL, NULL, 0);
	ExecStatusType t = PQresultStatus(st->res);
	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
		note_error(c, st->res);
		if (guard) {
			char keep[sizeof c->msg];
			char state[sizeof c->sqlstate];
			memcpy(keep, c->msg, sizeof keep);
			memcpy(state, c->sqlstate, sizeof state);
			run(c, "ROLLBACK TO SAVEPOINT mh_stmt");
			run(c, "RELEASE SAVEPOINT mh_stmt");
			memcpy(c->msg, keep, sizeof keep);
			memcpy(c->sqlstate, state, sizeof state);
		}
		conn_check(c);
		return DB_ERROR;
	}
	const char *n = PQcmdTuples(st->res);
	st->changes = n && *n ? strtoll(n, NULL, 10) : 0;
	st->nrows = PQntuples(st->res);
	if (st->returns_id) {
		st->last_id = st->nrows ? strtoll(PQgetvalue(st->res, 0, 0), NULL, 10) : 0;
		st->nrows = 0;
	}
	if (guard && !run(c, "RELEASE SAVEPOINT mh_stmt"))
		return DB_ERROR;
	if (!st->is_select && !in_transaction(c) && sql_moves_versions(st->id))
		count_write(s);
	return DB_DONE;
}

static int
drv_step(struct db_stmt *dst)
{
	struct pg_stmt *st = PG(dst);
	if (!st->ran) {
		st->ran = true;
		if (store_fault_call() || execute(st) == DB_ERROR) {
			st->nrows = 0;
			return DB_ERROR;
		}
	}
	if (st->row < st->nrows) {
		st->row++;
		return DB_ROW;
	}
	return DB_DONE;
}

static void
drv_reset(struct db_stmt *dst)
{
	stmt_clear(PG(dst));
}

static bool
have_value(struct pg_stmt *st, int i)
{
	return st->res && st->row >= 1 && st->row <= st->nrows && i < PQnfields(st->res);
}

static const char *
drv_col_text(struct db_stmt *dst, int i)
{
	struct pg_stmt *st = PG(dst);
	return have_value(st, i) ? PQgetvalue(st->res, st->row - 1, i) : "";
}

static int64_t
drv_col_int64(struct db_stmt *dst, int i)
{
	const char *v = drv_col_text(dst, i);
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	return strtoll(v, NULL, 10);
}

static size_t
drv_col_bytes(struct db_stmt *dst, int i)
{
	struct pg_stmt *st = PG(dst);
	return have_value(st, i) ? (size_t) PQgetlength(st->res, st->row - 1, i) : 0;
}

static bool
drv_col_null(struct db_stmt *dst, int i)
{
	struct pg_stmt *st = PG(dst);
	return !have_value(st, i) || PQgetisnull(st->res, st->row - 1, i);
}

static int64_t
drv_changes(struct db_stmt *dst)
{
	return PG(dst)->changes;
}

static int64_t
drv_last_id(struct db_stmt *dst)
{
	return PG(dst)->last_id;
}

static mh_err
drv_fail(struct store *s, struct db_stmt *dst, const char *what)
{
	struct pgconn *c = dst ? PG(dst)->c : pthread_getspecific(((struct pgq *) s->impl)->key);
	return conn_fail(c, what);
}

static struct db_stmt *
drv_prepare(struct store *s, const char *sql)
{
	struct pgconn *c = conn_get(s);
	if (!c)
		return NULL;
	struct pg_stmt *st = xcalloc(1, sizeof *st);
	st->base.drv = &postgres_driver;
	st->c = c;
	st->adhoc = true;
	st->sql = sql_render_text(SQL_POSTGRES, sql, &st->nparams);
	st->is_select = strncmp(st->sql, "SELECT", 6) == 0;
	if (st->nparams > PG_MAXPARAMS) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "too many parameters: %d", st->nparams);
		free(st->sql);
		free(st);
		return NULL;
	}
	return &st->base;
}

static void
drv_finalize(struct db_stmt *dst)
{
	if (!dst)
		return;
	struct pg_stmt *st = PG(dst);
	stmt_clear(st);
	free(st->sql);
	free(st);
}

static int
drv_col_count(struct db_stmt *dst)
{
	struct pg_stmt *st = PG(dst);
	return st->res ? PQnfields(st->res) : 0;
}

static const char *
drv_col_name(struct db_stmt *dst, int i)
{
	struct pg_stmt *st = PG(dst);
	const char *n = st->res ? PQfname(st->res, i) : NULL;
	return n ? n : "";
}

static bool
drv_in_txn(struct store *s)
{
	struct pgconn *c = conn_get(s);
	return c && in_transaction(c);
}

const struct db_driver postgres_driver = {
	.dialect = SQL_POSTGRES,
	.begin_sql = "BEGIN",
	.migrations = "postgres/",
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
pg_close(struct store *s)
{
	struct pgq *q = s->impl;
	struct pgconn *c = q->all;
	while (c) {
		struct pgconn *n = c->next;
		conn_close(c);
		c = n;
	}
	pthread_key_delete(q->key);
	pthread_cond_destroy(&q->freed);
	pthread_mutex_destroy(&q->lock);
	free(q->url);
	free(q);
}

/* Runs a statement with text parameters; *found says whether it returned a row. */
static bool
run_params(struct pgconn *c, const char *sql, int n, const char *const *vals, bool *found)
{
	PGresult *r = PQexecParams(c->conn, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType t = PQresultStatus(r);
	bool ok = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
	if (!ok)
		note_error(c, r);
	else if (found)
		*found = PQntuples(r) > 0;
	PQclear(r);
	return ok;
}

/* The migrations in src/store/migrations/postgres/, each in its own
 * transaction, all under one advisory lock: nodes that start together wait
 * for the first, then find nothing left to do. */
static mh_err
pg_migrate(struct store *s, int *applied)
{
	*applied = 0;
	struct pgconn *c = conn_get(s);
	if (!c)
		return MH_ERR_DB;
	char lock[64];
	snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)", (long long) MIGRATE_LOCK);
	if (!run(c, lock))
		return conn_fail(c, "migrate");
	mh_err err = MH_OK;
	if (!run(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
	            "name TEXT NOT NULL, applied_at BIGINT NOT NULL)")) {
		err = conn_fail(c, "migrate");
		goto out;
	}
	for (const struct embedded_file *m = embedded_migrations; m->name; m++) {
		if (strncmp(m->name, "postgres/", 9) != 0)
			continue;
		const char *name = m->name + 9;
		long version = strtol(name, NULL, 10);
		if (version <= 0) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "migration %s: name must start with its number",
			         name);
			err = MH_ERR_INVALID;
			goto out;
		}
		char v[24], at[24];
		snprintf(v, sizeof v, "%ld", version);
		snprintf(at, sizeof at, "%lld", (long long) clock_now());
		const char *check[] = { v };
		bool found = false;
		if (!run_params(c, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, check, &found)) {
			err = conn_fail(c, "migrate");
			goto out;
		}
		if (found)
			continue;
		const char *row[] = { v, name, at };
		if (!run(c, "BEGIN") || !run(c, m->data) ||
		    !run_params(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", 3,
		                row, NULL) ||
		    !run(c, "COMMIT")) {
			char msg[sizeof c->msg];
			memcpy(msg, c->msg, sizeof msg);
			run(c, "ROLLBACK");
			snprintf(store_errbuf(), STORE_ERRMSG_MAX, "migration %.40s: %.200s", name, msg);
			err = MH_ERR_DB;
			goto out;
		}
		count_write(s);
		(*applied)++;
		log_info("migration applied", "name=%s", name);
	}
	/* Still under the lock, so that two nodes do not index the queue at once. */
	int indexed;
	if (!(err = sql_search_index_pending(s, &indexed)) && indexed)
		log_info("search index built", "articles=%d", indexed);
out:
	snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%lld)", (long long) MIGRATE_LOCK);
	run(c, lock);
	return err;
}

static mh_err
pg_listen(struct store *s, const struct store_push *p, struct store_listener **out)
{
	return postgres_listen(((struct pgq *) s->impl)->url, p, out);
}

static struct store_ops postgres_ops;

static void
ops_init(void)
{
	sql_ops_fill(&postgres_ops);
	postgres_ops.name = "postgres";
	postgres_ops.close = pg_close;
	postgres_ops.migrate = pg_migrate;
	postgres_ops.listen = pg_listen;
	postgres_ops.set_pool = pg_set_pool;
	postgres_ops.release = pg_release;
	postgres_ops.listener_stop = postgres_listener_stop;
}

mh_err
postgres_store_open(const char *url, struct store *s, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, ops_init);
	struct pgq *q = xcalloc(1, sizeof *q);
	q->url = xstrdup(url);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->freed, NULL);
	q->max = STORE_POOL_DEFAULT;
	pthread_key_create(&q->key, conn_thread_exit);
	s->ops = &postgres_ops;
	s->db = &postgres_driver;
	s->impl = q;
	/* Connect now so a bad URL is reported by the command that names it. */
	struct pgconn *c = conn_get(s);
	if (!c) {
		snprintf(err, errlen, "%s", store_errbuf());
		pg_close(s);
		s->impl = NULL;
		return MH_ERR_DB;
	}
	return MH_OK;
}
