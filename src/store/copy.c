/* copy.c: a whole site from one store to another (masthead copy), on
 * either engine, all or nothing.
 *
 * The target must be migrated and empty. Every table is read from the
 * source and written to the target inside one transaction of the target;
 * before it commits, each table's row count and checksum are read back from
 * the target and compared with the source's. The checksum is the sum of a
 * BLAKE2b hash of each row's values as text, so it does not depend on row
 * order (and so on collation) and both engines compute it alike. A table
 * in the source that this file does not know stops the copy before
 * anything is written: copying part of a site is worse than not copying. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

/* In an order that satisfies every foreign key. */
static const char *const tables[] = {
	"authors",
	"tags",
	"articles",
	"article_gated",
	"article_authors",
	"article_tags",
	"speakers",
	"quotes",
	"quote_gated",
	"members",
	"sessions",
	"auth_tokens",
	"rate_events",
	"mail_outbox",
	"plans",
	"payment_methods",
	"subscriptions",
	"invoices",
	"charges",
	"billing_events",
	"checkouts",
	"gift_links",
	"meter_reads",
	"test_provider_charges",
	"site_secret",
	"feed_tokens",
	"api_keys",
	"redirects",
	"member_consents",
	/* After members: a member's insert subscribes it to the newsletters
	 * that exist (migration 0014's trigger), and on the target none do yet. */
	"newsletters",
	"newsletter_members",
	"newsletter_sends",
	"newsletter_recipients",
	"mail_suppressions",
	"audit_log",
	"article_reads",
	"media",
	"newsroom_articles",
	"newsroom_revisions",
	"newsroom_previews",
	"settings",
	"device_codes",
};
#define NTABLES (sizeof tables / sizeof tables[0])

/* Each engine's own bookkeeping, made by the migrations on both sides, and
 * what is derived from the copied rows: the member change log (filled on
 * the target by its triggers as rows arrive; a node that read the source
 * forgets all sessions when its cursor is beyond the target's) and the
 * search indexes, which differ between the engines (FTS5 and its shadow
 * tables, tsvector tables) and are rebuilt from the articles on the target
 * after the copy commits. */
static const char *const own[] = {
	"schema_migrations",   "content_version",       "member_version",        "member_changes",
	"search_public",       "search_gated",          "search_pending",        "search_public_data",
	"search_public_idx",   "search_public_content", "search_public_docsize", "search_public_config",
	"search_gated_data",   "search_gated_idx",      "search_gated_content",  "search_gated_docsize",
	"search_gated_config", "settings_version",
};

static bool
listed(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static mh_err
fail(struct store *s, struct db_stmt *st, const char *what)
{
	return s->db->fail(s, st, what);
}

/* Every table of s is one copy knows. */
static mh_err
known_tables(struct store *s)
{
	struct db_stmt *st = s->db->prepare(s, sql_tables_query(s->db->dialect));
	if (!st)
		return MH_ERR_DB;
	mh_err err = MH_OK;
	int rc;
	while ((rc = s->db->step(st)) == DB_ROW) {
		const char *name = s->db->col_text(st, 0);
		if (!listed(name, tables, NTABLES) && !listed(name, own, sizeof own / sizeof own[0])) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX,
			         "%s holds a table copy does not know (%.100s): nothing copied", store_url(s), name);
			err = MH_ERR_UNSUPPORTED;
			break;
		}
	}
	if (!err && rc != DB_DONE)
		err = fail(s, st, "list tables");
	s->db->finalize(st);
	return err;
}

/* Adds one row's hash to *sum. */
static void
row_hash(struct store *s, struct db_stmt *st, int ncols, uint64_t *sum)
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 8);
	for (int i = 0; i < ncols; i++) {
		if (s->db->col_null(st, i)) {
			crypto_generichash_update(&h, (const unsigned char *) "\x1e", 1);
			continue;
		}
		crypto_generichash_update(&h, (const unsigned char *) s->db->col_text(st, i), s->db->col_bytes(st, i));
		crypto_generichash_update(&h, (const unsigned char *) "\x1f", 1);
	}
	unsigned char out[8];
	crypto_generichash_final(&h, out, sizeof out);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | out[i];
	*sum += v;
}

/* The count and checksum of table in s, over the columns cols names. */
static mh_err
table_sum(struct store *s, const char *table, const char *cols, int64_t *count, uint64_t *sum)
{
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "SELECT %s FROM %s", cols, table);
	struct db_stmt *st = s->db->prepare(s, sql.ptr);
	buf_release(&sql);
	if (!st)
		return MH_ERR_DB;
	*count = 0;
	*sum = 0;
	int rc;
	int ncols = -1;
	while ((rc = s->db->step(st)) == DB_ROW) {
		if (ncols < 0)
			ncols = s->db->col_count(st);
		row_hash(s, st, ncols, sum);
		(*count)++;
	}
	mh_err err = rc == DB_DONE ? MH_OK : fail(s, st, "check");
	s->db->finalize(st);
	return err;
}

static mh_err
run_sql(struct store *s, const char *sql)
{
	struct db_stmt *st = s->db->prepare(s, sql);
	if (!st)
		return MH_ERR_DB;
	int rc;
	while ((rc = s->db->step(st)) == DB_ROW)
		;
	mh_err err = rc == DB_DONE ? MH_OK : fail(s, st, "copy");
	s->db->finalize(st);
	return err;
}

/* Copies one table; *cols gets its column list (for the check). */
static mh_err
copy_table(struct store *from, struct store *to, const char *table, struct buf *cols, int64_t *count, uint64_t *sum)
{
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "SELECT * FROM %s", table);
	struct db_stmt *src = from->db->prepare(from, sql.ptr);
	if (!src) {
		buf_release(&sql);
		return MH_ERR_DB;
	}
	struct db_stmt *dst = NULL;
	mh_err err = MH_OK;
	int ncols = 0, rc;
	*count = 0;
	*sum = 0;
	while ((rc = from->db->step(src)) == DB_ROW) {
		if (!dst) {
			ncols = from->db->col_count(src);
			buf_reset(&sql);
			buf_printf(&sql, "INSERT INTO %s (", table);
			for (int i = 0; i < ncols; i++) {
				buf_printf(&sql, "%s%s", i ? ", " : "", from->db->col_name(src, i));
				buf_printf(cols, "%s%s", i ? ", " : "", from->db->col_name(src, i));
			}
			buf_printf(&sql, ") VALUES (");
			for (int i = 0; i < ncols; i++)
				buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
			buf_printf(&sql, ")");
			if (!(dst = to->db->prepare(to, sql.ptr))) {
				err = MH_ERR_DB;
				break;
			}
		}
		to->db->reset(dst);
		for (int i = 0; i < ncols; i++)
			to->db->bind_text(dst, i + 1, from->db->col_null(src, i) ? NULL : from->db->col_text(src, i));
		row_hash(from, src, ncols, sum);
		int wrc = to->db->step(dst);
		if (wrc != DB_DONE && wrc != DB_ROW) {
			err = fail(to, dst, table);
			break;
		}
		(*count)++;
	}
	if (!err && rc != DB_DONE)
		err = fail(from, src, table);
	if (!err && !dst) {
		/* An empty table: the check reads no column either. */
		buf_printf(cols, "1");
	}
	from->db->finalize(src);
	if (dst)
		to->db->finalize(dst);
	buf_release(&sql);
	return err;
}

static mh_err copy_all(struct store *from, struct store *to, int64_t *rows);

mh_err
store_copy(struct store *from, struct store *to, int64_t *rows)
{
	/* The source is read as of one moment while its writers go on (a
	 * backup of a live site): PostgreSQL's REPEATABLE READ snapshot, or
	 * SQLite's deferred read transaction. Read table by table outside
	 * one, rows written meanwhile could name rows the copy has passed
	 * (a new member's newsletter subscription without the member). */
	mh_err err = run_sql(from, from->db->dialect == SQL_POSTGRES ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	                                                             : "BEGIN");
	if (err)
		return err;
	err = copy_all(from, to, rows);
	char msg[STORE_ERRMSG_MAX];
	snprintf(msg, sizeof msg, "%s", store_errbuf());
	run_sql(from, "ROLLBACK"); /* read only: nothing to keep */
	snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg);
	return err;
}

static mh_err
copy_all(struct store *from, struct store *to, int64_t *rows)
{
	*rows = 0;
	mh_err err = known_tables(from);
	if (err)
		return err;
	for (size_t i = 0; i < NTABLES; i++) {
		int64_t n;
		uint64_t sum;
		if ((err = table_sum(to, tables[i], "1", &n, &sum)))
			return err;
		if (n) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX,
			         "%s is not empty (%s has %lld rows): copy only into a new database", store_url(to),
			         tables[i], (long long) n);
			return MH_ERR_CONFLICT;
		}
	}
	if ((err = to->ops->begin(to)))
		return err;
	for (size_t i = 0; i < NTABLES && !err; i++) {
		struct buf cols = BUF_INIT;
		int64_t n = 0, back = 0;
		uint64_t sum = 0, back_sum = 0;
		err = copy_table(from, to, tables[i], &cols, &n, &sum);
		if (!err)
			err = table_sum(to, tables[i], cols.ptr, &back, &back_sum);
		if (!err && (back != n || back_sum != sum)) {
			snprintf(store_errbuf(), STORE_ERRMSG_MAX,
			         "%s: %lld rows read, %lld written, checksums %s: nothing copied", tables[i],
			         (long long) n, (long long) back, back_sum == sum ? "agree" : "differ");
			err = MH_ERR_DB;
		}
		char *after = NULL;
		if (!err && strncmp(cols.ptr, "id,", 3) == 0 && (after = sql_after_copy(to->db->dialect, tables[i])))
			err = run_sql(to, after);
		free(after);
		buf_release(&cols);
		*rows += n;
	}
	if (err) {
		char msg[STORE_ERRMSG_MAX];
		snprintf(msg, sizeof msg, "%s", store_errbuf());
		to->ops->rollback(to);
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg);
		return err;
	}
	/* Every copied article into the target's search queue, indexed once
	 * the copy is in (the WHERE: SQLite's parser wants one before an
	 * upsert's ON CONFLICT). */
	err = run_sql(to, "INSERT INTO search_pending (article_id) SELECT id FROM articles WHERE 1 = 1 "
	                  "ON CONFLICT DO NOTHING");
	if (err) {
		to->ops->rollback(to);
		return err;
	}
	if ((err = to->ops->commit(to)))
		return err;
	int indexed;
	return sql_search_index_pending(to, &indexed);
}
