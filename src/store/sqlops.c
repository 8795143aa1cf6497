/* sqlops.c: every op of store_ops that both engines share, written once
 * against the statement driver of sql.h (s->db). An engine brings its
 * connections, its driver, its migrations and its close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/embed.h"
#include "core/buf.h"
#include "core/htmltext.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

static struct db_stmt *
stmt(struct store *s, enum stmt_id id)
{
	return s->db->stmt(s, id);
}

static inline void
db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	st->drv->bind_int64(st, i, v);
}

static void
bind_text(struct db_stmt *st, int i, const char *v)
{
	st->drv->bind_text(st, i, v ? v : "");
}

static inline int
db_step(struct db_stmt *st)
{
	return st->drv->step(st);
}

static inline void
db_reset(struct db_stmt *st)
{
	st->drv->reset(st);
}

static inline int64_t
db_col_int64(struct db_stmt *st, int i)
{
	return st->drv->col_int64(st, i);
}

static inline int
db_col_int(struct db_stmt *st, int i)
{
	return (int) st->drv->col_int64(st, i);
}

static inline const char *
db_col_text(struct db_stmt *st, int i)
{
	return st->drv->col_text(st, i);
}

static inline bool
db_col_null(struct db_stmt *st, int i)
{
	return st->drv->col_null(st, i);
}

static inline int64_t
db_changes(struct db_stmt *st)
{
	return st->drv->changes(st);
}

static inline int64_t
db_last_id(struct db_stmt *st)
{
	return st->drv->last_id(st);
}

static inline mh_err
db_fail(struct store *s, struct db_stmt *st, const char *what)
{
	return st->drv->fail(s, st, what);
}

static const char *
col_str(struct arena *a, struct db_stmt *st, int i)
{
	return arena_strndup(a, db_col_text(st, i), st->drv->col_bytes(st, i));
}

static mh_err collect_rows(struct store *s, struct arena *a, struct db_stmt *st, size_t size,
                           void (*read)(struct arena *, struct db_stmt *, void *), void **out, size_t *n);

/* Steps a statement that returns no rows. */
static mh_err
exec_stmt(struct store *s, struct db_stmt *st)
{
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return db_fail(s, st, "write");
	return MH_OK;
}

static mh_err
exec_sql(struct store *s, const char *sql)
{
	return s->db->exec(s, sql);
}

/* Looks up one id by a text key; MH_ERR_NOTFOUND when there is no row. */
static mh_err
id_by_text(struct store *s, enum stmt_id id, const char *key, int64_t *out)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key);
	int rc = db_step(st);
	mh_err err = MH_OK;
	if (rc == DB_ROW)
		*out = db_col_int64(st, 0);
	else if (rc == DB_DONE)
		err = MH_ERR_NOTFOUND;
	else
		err = db_fail(s, st, "lookup");
	db_reset(st);
	return err;
}

static mh_err
op_bulk_memory(struct store *s, unsigned mib)
{
	if (s->db->dialect != SQL_SQLITE)
		return MH_OK;
	if (mib < 1)
		mib = 1;
	if (mib > 4096)
		mib = 4096;
	/* Negative: KiB. The temporary database holds the staged search rows
	 * (search_index), a quarter is plenty for them. */
	char sql[128];
	snprintf(sql, sizeof sql, "PRAGMA main.cache_size = -%u; PRAGMA temp.cache_size = -%u", mib * 1024u,
	         mib * 256u);
	return exec_sql(s, sql);
}

static mh_err
op_ping(struct store *s)
{
	struct db_stmt *st = stmt(s, ST_PING);
	if (!st)
		return MH_ERR_DB;
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "ping");
}

static mh_err
op_versions(struct store *s, struct store_versions *out)
{
	struct db_stmt *st = stmt(s, ST_VERSIONS);
	if (!st)
		return MH_ERR_DB;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->content = db_col_int64(st, 0);
		out->members = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "read");
}

/* Member changes: the rows after *cursor, in commit order. SQLite has one
 * writer, so a row's seq is its commit order; on PostgreSQL the trigger of
 * migration 0010 makes it so (an advisory lock held to commit around the
 * seq's draw), so both engines read the same way. */
static mh_err
op_member_changes(struct store *s, struct arena *a, int64_t *cursor, size_t max, int64_t **ids, size_t *n, bool *flush)
{
	*ids = NULL;
	*n = 0;
	*flush = false;
	struct store_versions v;
	mh_err err = op_versions(s, &v);
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
	struct db_stmt *st = stmt(s, ST_CHANGES);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, *cursor);
	db_bind_int64(st, 2, (int64_t) max);
	int64_t *out = arena_alloc(a, max * sizeof *out);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		*cursor = db_col_int64(st, 0);
		out[(*n)++] = db_col_int64(st, 1);
	}
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "read");
	*ids = out;
	return MH_OK;
}

static mh_err
op_begin(struct store *s)
{
	return exec_sql(s, s->db->begin_sql);
}
/* SQLite: the search rows staged in this transaction go into the full-text
 * indexes, one statement each (see search_index). Nothing on PostgreSQL. */
static mh_err
search_stage_flush(struct store *s)
{
	static const enum stmt_id steps[] = { ST_SEARCH_STAGE_PUB, ST_SEARCH_STAGE_GATED, ST_SEARCH_STAGE_CLEAR };
	if (s->db->dialect != SQL_SQLITE)
		return MH_OK;
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		struct db_stmt *st = stmt(s, steps[i]);
		mh_err err = st ? exec_stmt(s, st) : MH_ERR_DB;
		if (err)
			return err;
	}
	return MH_OK;
}

/* Ends a write with ROLLBACK when it could not end with COMMIT, so a
 * failed commit never leaves its connection inside a transaction (holding
 * SQLite's write lock) whatever its caller does next. */
static mh_err
abandon(struct store *s, mh_err err, const char *rollback, const char *release)
{
	char msg[STORE_ERRMSG_MAX];
	snprintf(msg, sizeof msg, "%s", store_errbuf());
	exec_sql(s, rollback);
	if (release)
		exec_sql(s, release);
	snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg);
	return err;
}

/* A failed commit has rolled back: callers may roll back again (a no-op). */
static mh_err
op_commit(struct store *s)
{
	mh_err err = search_stage_flush(s);
	if (!err)
		err = exec_sql(s, "COMMIT");
	return err ? abandon(s, err, "ROLLBACK", NULL) : MH_OK;
}

/* RELEASE of a savepoint, which commits when it is the outermost: undone
 * when it fails, for the same reason as op_commit. */
static mh_err
release_savepoint(struct store *s, const char *name)
{
	char sql[64];
	snprintf(sql, sizeof sql, "RELEASE %s", name);
	mh_err err = exec_sql(s, sql);
	if (!err)
		return MH_OK;
	char rollback[64];
	snprintf(rollback, sizeof rollback, "ROLLBACK TO %s", name);
	return abandon(s, err, rollback, sql);
}
/* Nothing to undo after a failed commit (it rolled back): the message
 * stays the commit's. */
static mh_err
op_rollback(struct store *s)
{
	if (!s->db->in_txn(s))
		return MH_OK;
	return exec_sql(s, "ROLLBACK");
}

/* Links names (authors or tags) to an article, creating them as needed. */
static mh_err
link_names(struct store *s, int64_t article_id, const struct named_ref *refs, size_t n, enum stmt_id upsert,
           enum stmt_id get_id, enum stmt_id link)
{
	for (size_t i = 0; i < n; i++) {
		struct db_stmt *st = stmt(s, upsert);
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
		db_bind_int64(st, 1, article_id);
		db_bind_int64(st, 2, id);
		db_bind_int64(st, 3, (int64_t) i);
		if ((err = exec_stmt(s, st)))
			return err;
	}
	return MH_OK;
}

static mh_err
clear_for(struct store *s, enum stmt_id id, int64_t article_id)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, article_id);
	return exec_stmt(s, st);
}

/* Rewrites one article's rows in both search indexes (docs/search.md), in
 * the caller's transaction; the gated index gets a row only when there is
 * gated text. The statements are each engine's (sql.c). */
static mh_err
search_index(struct store *s, int64_t id, const char *title, const char *dek, const char *teaser_html,
             const char *gated_html, bool fresh)
{
	mh_err err = MH_OK;
	/* A new article has no index rows yet (an article that goes takes its
	 * rows with it: migration 0009's trigger). Each statement on a
	 * full-text table makes SQLite's index write out what it holds. */
	if (!fresh &&
	    ((err = clear_for(s, ST_SEARCH_PUB_DELETE, id)) || (err = clear_for(s, ST_SEARCH_GATED_DELETE, id)) ||
	     (err = clear_for(s, ST_SEARCH_PENDING_DONE, id))))
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
	buf_puts(&open, text.ptr ? text.ptr : "");
	bool gated = gated_html && gated_html[0];
	struct db_stmt *st;
	if (s->db->dialect == SQL_SQLITE && s->db->in_txn(s)) {
		/* Inside a transaction (an import), SQLite's full-text index writes
		 * what it holds out at every statement that touches it: the rows
		 * wait in a temporary table and go in at commit, one statement an
		 * index (sql_search_stage_flush). */
		struct buf g = BUF_INIT;
		if (gated)
			htmltext_append(&g, gated_html);
		if (!(st = stmt(s, ST_SEARCH_STAGE))) {
			buf_release(&g);
			err = MH_ERR_DB;
			goto out;
		}
		db_bind_int64(st, 1, id);
		bind_text(st, 2, t);
		bind_text(st, 3, d);
		bind_text(st, 4, text.ptr);
		bind_text(st, 5, open.ptr);
		bind_text(st, 6, g.ptr);
		db_bind_int64(st, 7, gated);
		err = exec_stmt(s, st);
		buf_release(&g);
		goto out;
	}
	if (!(st = stmt(s, ST_SEARCH_PUB_INSERT))) {
		err = MH_ERR_DB;
		goto out;
	}
	db_bind_int64(st, 1, id);
	bind_text(st, 2, t);
	bind_text(st, 3, d);
	bind_text(st, 4, text.ptr);
	if ((err = exec_stmt(s, st)))
		goto out;
	if (gated) {
		buf_reset(&text);
		htmltext_append(&text, gated_html);
		if (!(st = stmt(s, ST_SEARCH_GATED_INSERT))) {
			err = MH_ERR_DB;
			goto out;
		}
		db_bind_int64(st, 1, id);
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

static mh_err
op_search_compact(struct store *s)
{
	struct db_stmt *st = stmt(s, ST_SEARCH_COMPACT_PUB);
	mh_err err = st ? exec_stmt(s, st) : MH_ERR_DB;
	if (!err)
		err = (st = stmt(s, ST_SEARCH_COMPACT_GATED)) ? exec_stmt(s, st) : MH_ERR_DB;
	return err;
}

mh_err
sql_search_index_pending(struct store *s, int *done)
{
	*done = 0;
	for (;;) {
		struct arena *a = arena_new();
		mh_err err = op_begin(s);
		struct db_stmt *st = err ? NULL : stmt(s, ST_SEARCH_PENDING);
		if (!err && !st)
			err = MH_ERR_DB;
		size_t n = 0, cap = 200;
		struct {
			int64_t id;
			const char *title, *dek, *teaser, *gated;
		} *rows = arena_alloc(a, cap * sizeof *rows);
		int rc = DB_DONE;
		while (!err && n < cap && (rc = db_step(st)) == DB_ROW) {
			rows[n].id = db_col_int64(st, 0);
			rows[n].title = col_str(a, st, 1);
			rows[n].dek = col_str(a, st, 2);
			rows[n].teaser = col_str(a, st, 3);
			rows[n].gated = col_str(a, st, 4);
			n++;
		}
		if (st)
			db_reset(st);
		if (!err && rc != DB_ROW && rc != DB_DONE)
			err = db_fail(s, st, "search index");
		for (size_t i = 0; !err && i < n; i++)
			err = search_index(s, rows[i].id, rows[i].title, rows[i].dek, rows[i].teaser, rows[i].gated,
			                   false);
		arena_free(a);
		if (err) {
			op_rollback(s);
			return err;
		}
		if ((err = op_commit(s)))
			return err;
		*done += (int) n;
		if (n == 0)
			return *done >= STORE_SEARCH_COMPACT_AFTER ? op_search_compact(s) : MH_OK;
	}
}

static mh_err
upsert_body(struct store *s, const struct article_input *in, int64_t *id, bool *created)
{
	mh_err err = id_by_text(s, ST_ARTICLE_ID, in->slug, id);
	if (err && err != MH_ERR_NOTFOUND)
		return err;
	*created = err == MH_ERR_NOTFOUND;
	/* SQLite keys the search rows by the publication time as stored
	 * (sql.c, SEARCH_KEY): they go while it still finds them. */
	if (!*created &&
	    ((err = clear_for(s, ST_SEARCH_PUB_DELETE, *id)) || (err = clear_for(s, ST_SEARCH_GATED_DELETE, *id))))
		return err;
	struct db_stmt *st = stmt(s, *created ? ST_ARTICLE_INSERT : ST_ARTICLE_UPDATE);
	if (!st)
		return MH_ERR_DB;
	bool has_gated = in->gated_html && in->gated_html[0];
	bind_text(st, 1, in->slug);
	bind_text(st, 2, in->title);
	bind_text(st, 3, in->dek);
	bind_text(st, 4, in->summary);
	bind_text(st, 5, access_level_name(in->access));
	db_bind_int64(st, 6, in->published_at);
	db_bind_int64(st, 7, in->updated_at);
	bind_text(st, 8, in->teaser_md);
	bind_text(st, 9, in->teaser_html);
	db_bind_int64(st, 10, in->has_marker);
	db_bind_int64(st, 11, has_gated);
	if (!*created)
		db_bind_int64(st, 12, *id);
	/* The insert numbers these from 12, the update after the id. */
	int k = *created ? 12 : 13;
	db_bind_int64(st, k, in->featured);
	bind_text(st, k + 1, in->image.src);
	bind_text(st, k + 2, in->image.alt);
	bind_text(st, k + 3, in->image.caption);
	bind_text(st, k + 4, in->image.credit);
	if ((err = exec_stmt(s, st)))
		return err;
	if (*created)
		*id = db_last_id(st);

	/* A new article's id has nothing of an old one attached: rows that name
	 * an article go with it (ON DELETE CASCADE), so only an update clears. */
	bool fresh = *created;
	if (!fresh && (err = clear_for(s, ST_GATED_DELETE, *id)))
		return err;
	if (has_gated) {
		if (!(st = stmt(s, ST_GATED_INSERT)))
			return MH_ERR_DB;
		db_bind_int64(st, 1, *id);
		bind_text(st, 2, in->gated_md);
		bind_text(st, 3, in->gated_html);
		if ((err = exec_stmt(s, st)))
			return err;
	}
	if ((err = search_index(s, *id, in->title, in->dek, in->teaser_html, has_gated ? in->gated_html : "", fresh)))
		return err;
	if ((!fresh && (err = clear_for(s, ST_AUTHORS_CLEAR, *id))) ||
	    (err = link_names(s, *id, in->authors, in->n_authors, ST_AUTHOR_UPSERT, ST_AUTHOR_ID, ST_AUTHOR_LINK)) ||
	    (!fresh && (err = clear_for(s, ST_TAGS_CLEAR, *id))) ||
	    (err = link_names(s, *id, in->tags, in->n_tags, ST_TAG_UPSERT, ST_TAG_ID, ST_TAG_LINK)) ||
	    (!fresh && (err = clear_for(s, ST_QUOTES_CLEAR, *id))))
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
		db_bind_int64(st, 1, *id);
		db_bind_int64(st, 2, speaker_id);
		db_bind_int64(st, 3, (int64_t) i);
		bind_text(st, 4, q->role);
		db_bind_int64(st, 5, q->gated);
		bind_text(st, 6, q->gated ? "" : q->text_html);
		if ((err = exec_stmt(s, st)))
			return err;
		if (q->gated) {
			int64_t quote_id = db_last_id(st);
			if (!(st = stmt(s, ST_QUOTE_GATED_INSERT)))
				return MH_ERR_DB;
			db_bind_int64(st, 1, quote_id);
			bind_text(st, 2, q->text_html);
			if ((err = exec_stmt(s, st)))
				return err;
		}
	}
	return MH_OK;
}

static mh_err
op_article_upsert(struct store *s, const struct article_input *in, int64_t *id, bool *created)
{
	/* Inside the caller's transaction (an import) the caller rolls the whole
	 * of it back when an upsert fails, so no savepoint: SQLite's full-text
	 * index writes its pending terms out at every savepoint, which made
	 * each article cost a flush of its postings (docs/performance.md). */
	if (s->db->in_txn(s))
		return upsert_body(s, in, id, created);
	/* Alone, a transaction of its own: all of the article or none of it. */
	mh_err err = exec_sql(s, "SAVEPOINT article_upsert");
	if (err)
		return err;
	/* The savepoint is a transaction of its own: its staged search rows go in before it ends. */
	if ((err = upsert_body(s, in, id, created)) || (err = search_stage_flush(s))) {
		char msg[STORE_ERRMSG_MAX];
		snprintf(msg, sizeof msg, "%s", store_errbuf());
		exec_sql(s, "ROLLBACK TO article_upsert");
		exec_sql(s, "RELEASE article_upsert");
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg);
		return err;
	}
	return release_savepoint(s, "article_upsert");
}

/* Columns of ARTICLE_COLS (sql.c); a statement's own columns follow. */
#define ARTICLE_NCOLS 14

static void
read_article_row(struct arena *a, struct db_stmt *st, struct article *out)
{
	memset(out, 0, sizeof *out);
	out->id = db_col_int64(st, 0);
	out->slug = col_str(a, st, 1);
	out->title = col_str(a, st, 2);
	out->dek = col_str(a, st, 3);
	out->summary = col_str(a, st, 4);
	int level = access_level_parse(db_col_text(st, 5));
	out->access = level < 0 ? ACCESS_PAID : (enum access_level) level; /* unknown: the strictest */
	out->published_at = db_col_int64(st, 6);
	out->updated_at = db_col_int64(st, 7);
	out->has_gated = db_col_int(st, 8) != 0;
	out->featured = db_col_int(st, 9) != 0;
	out->image.src = col_str(a, st, 10);
	out->image.alt = col_str(a, st, 11);
	out->image.caption = col_str(a, st, 12);
	out->image.credit = col_str(a, st, 13);
}

static mh_err
read_refs(struct store *s, struct arena *a, enum stmt_id id, int64_t article_id, struct named_ref **out, size_t *n)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, article_id);
	size_t cap = 4, count = 0;
	struct named_ref *refs = arena_alloc(a, cap * sizeof *refs);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
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
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "read");
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
op_article_by_slug(struct store *s, struct arena *a, const char *slug, struct article **out)
{
	struct db_stmt *st = stmt(s, ST_ARTICLE_BY_SLUG);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
	}
	struct article *art = arena_alloc(a, sizeof *art);
	read_article_row(a, st, art);
	art->teaser_html = col_str(a, st, ARTICLE_NCOLS);
	db_reset(st);
	*out = art;
	return read_people(s, a, art);
}

static mh_err
text_by_id(struct store *s, struct arena *a, enum stmt_id id, int64_t key, const char **html)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, key);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*html = col_str(a, st, 0);
	else if (rc == DB_DONE)
		*html = "";
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? MH_OK : db_fail(s, st, "read");
}

static mh_err
op_article_gated(struct store *s, struct arena *a, int64_t article_id, const char **html)
{
	return text_by_id(s, a, ST_ARTICLE_GATED, article_id, html);
}

static mh_err
op_quote_gated(struct store *s, struct arena *a, int64_t quote_id, const char **html)
{
	return text_by_id(s, a, ST_QUOTE_GATED, quote_id, html);
}

static mh_err
op_article_list(struct store *s, struct arena *a, const struct article_filter *f, struct article **out, size_t *n)
{
	enum stmt_id id = f->kind == LIST_TAG ? ST_LIST_TAG : f->kind == LIST_AUTHOR ? ST_LIST_AUTHOR : ST_LIST_ALL;
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	if (f->kind != LIST_ALL)
		bind_text(st, 1, f->slug);
	db_bind_int64(st, 2, f->before ? f->before : INT64_MAX);
	db_bind_int64(st, 3, (int64_t) f->limit);
	db_bind_int64(st, 4, (int64_t) f->offset);
	struct article *list = arena_alloc(a, (f->limit ? f->limit : 1) * sizeof *list);
	size_t count = 0;
	int rc = DB_DONE;
	while (count < f->limit && (rc = db_step(st)) == DB_ROW)
		read_article_row(a, st, &list[count++]);
	db_reset(st);
	if (count < f->limit && rc != DB_DONE)
		return db_fail(s, st, "list");
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
op_article_sources(struct store *s, struct arena *a, struct article_source **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_SOURCES);
	if (!st)
		return MH_ERR_DB;
	size_t cap = 16, count = 0;
	struct article_source *list = xmallocarray(cap, sizeof *list);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (count == cap)
			list = xrealloc(list, (cap *= 2) * sizeof *list);
		read_article_row(a, st, &list[count].a);
		list[count].teaser_md = col_str(a, st, ARTICLE_NCOLS);
		list[count].gated_md = col_str(a, st, ARTICLE_NCOLS + 1);
		list[count].has_marker = db_col_int(st, ARTICLE_NCOLS + 2) != 0;
		count++;
	}
	db_reset(st);
	mh_err err = rc == DB_DONE ? MH_OK : db_fail(s, st, "export");
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
op_named_by_slug(struct store *s, struct arena *a, enum list_kind kind, const char *slug, struct named_ref *out)
{
	struct db_stmt *st = stmt(s, kind == LIST_TAG ? ST_TAG_BY_SLUG : ST_AUTHOR_BY_SLUG);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->slug = col_str(a, st, 0);
		out->name = col_str(a, st, 1);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_speaker_by_slug(struct store *s, struct arena *a, const char *slug, struct speaker *out)
{
	struct db_stmt *st = stmt(s, ST_SPEAKER_BY_SLUG);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->id = db_col_int64(st, 0);
		out->slug = col_str(a, st, 1);
		out->name = col_str(a, st, 2);
		out->role = col_str(a, st, 3);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_speaker_quotes(struct store *s, struct arena *a, int64_t speaker_id, struct quote **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_SPEAKER_QUOTES);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, speaker_id);
	db_bind_int64(st, 2, clock_now());
	size_t cap = 8, count = 0;
	struct quote *list = arena_alloc(a, cap * sizeof *list);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (count == cap) {
			struct quote *more = arena_alloc(a, 2 * cap * sizeof *list);
			memcpy(more, list, cap * sizeof *list);
			list = more;
			cap *= 2;
		}
		struct quote *q = &list[count++];
		memset(q, 0, sizeof *q);
		q->id = db_col_int64(st, 0);
		q->article_id = db_col_int64(st, 1);
		q->role = col_str(a, st, 2);
		q->gated = db_col_int(st, 3) != 0;
		q->text_html = q->gated ? NULL : col_str(a, st, 4);
		q->article.id = q->article_id;
		q->article.slug = col_str(a, st, 5);
		q->article.title = col_str(a, st, 6);
		int level = access_level_parse(db_col_text(st, 7));
		q->article.access = level < 0 ? ACCESS_PAID : (enum access_level) level;
		q->article.published_at = db_col_int64(st, 8);
	}
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "read");
	*out = list;
	*n = count;
	return MH_OK;
}

static void
read_member(struct arena *a, struct db_stmt *st, void *row)
{
	struct member *m = row;
	m->id = db_col_int64(st, 0);
	m->email = col_str(a, st, 1);
	m->name = col_str(a, st, 2);
	m->password_hash = col_str(a, st, 3);
	int role = member_role_parse(db_col_text(st, 4));
	m->role = role < 0 ? ROLE_READER : (enum member_role) role;
	m->created_at = db_col_int64(st, 5);
	m->comped_until = db_col_int64(st, 6);
	m->email_verified = db_col_int(st, 7) != 0;
}

static mh_err
op_member_create(struct store *s, const struct member *m, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, m->email);
	bind_text(st, 2, m->name);
	bind_text(st, 3, m->password_hash);
	bind_text(st, 4, member_role_name(m->role));
	db_bind_int64(st, 5, m->created_at);
	db_bind_int64(st, 6, m->comped_until);
	db_bind_int64(st, 7, m->email_verified ? 1 : 0);
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		*id = db_last_id(st);
	return err;
}

static mh_err
op_member_by_email(struct store *s, struct arena *a, const char *email, struct member *out)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_BY_EMAIL);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, email);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_member(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_member_list(struct store *s, struct arena *a, struct member **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_member, (void **) out, n);
}

static mh_err
member_update(struct store *s, enum stmt_id id, const char *email, const char *value)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, email);
	bind_text(st, 2, value);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_member_set_role(struct store *s, const char *email, enum member_role role)
{
	return member_update(s, ST_MEMBER_SET_ROLE, email, member_role_name(role));
}

static mh_err
op_member_set_password(struct store *s, const char *email, const char *hash)
{
	return member_update(s, ST_MEMBER_SET_PASSWORD, email, hash);
}

static mh_err
op_member_by_id(struct store *s, struct arena *a, int64_t id, struct member *out)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_BY_ID);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_member(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_member_update(struct store *s, int64_t id, const char *name, const char *email, int verified)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_UPDATE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	if (name)
		bind_text(st, 2, name);
	if (email)
		bind_text(st, 3, email);
	db_bind_int64(st, 4, verified);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

static void
read_session(struct arena *a, struct db_stmt *st, void *row)
{
	struct session *out = row;
	out->token_hash = col_str(a, st, 0);
	out->member_id = db_col_int64(st, 1);
	out->created_at = db_col_int64(st, 2);
	out->last_seen_at = db_col_int64(st, 3);
	out->expires_at = db_col_int64(st, 4);
	out->user_agent = col_str(a, st, 5);
	out->ip = col_str(a, st, 6);
}

static mh_err
op_session_create(struct store *s, const struct session *in)
{
	struct db_stmt *st = stmt(s, ST_SESSION_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, in->token_hash);
	db_bind_int64(st, 2, in->member_id);
	db_bind_int64(st, 3, in->created_at);
	db_bind_int64(st, 4, in->last_seen_at);
	db_bind_int64(st, 5, in->expires_at);
	bind_text(st, 6, in->user_agent);
	bind_text(st, 7, in->ip);
	return exec_stmt(s, st);
}

static mh_err
op_session_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct session *out,
               struct member *m)
{
	struct db_stmt *st = stmt(s, ST_SESSION_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		read_session(a, st, out);
		m->id = db_col_int64(st, 7);
		m->email = col_str(a, st, 8);
		m->name = col_str(a, st, 9);
		m->password_hash = col_str(a, st, 10);
		int role = member_role_parse(db_col_text(st, 11));
		m->role = role < 0 ? ROLE_READER : (enum member_role) role;
		m->created_at = db_col_int64(st, 12);
		m->comped_until = db_col_int64(st, 13);
		m->email_verified = db_col_int(st, 14) != 0;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_session_touch(struct store *s, const char *token_hash, int64_t now, int64_t expires_at)
{
	struct db_stmt *st = stmt(s, ST_SESSION_TOUCH);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, expires_at);
	return exec_stmt(s, st);
}

static mh_err
op_session_delete(struct store *s, const char *token_hash)
{
	struct db_stmt *st = stmt(s, ST_SESSION_DELETE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	return exec_stmt(s, st);
}

static mh_err
op_session_delete_member(struct store *s, int64_t member_id, const char *keep_hash)
{
	struct db_stmt *st = stmt(s, ST_SESSION_DELETE_MEMBER);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	if (keep_hash)
		bind_text(st, 2, keep_hash);
	return exec_stmt(s, st);
}

static mh_err
op_session_list(struct store *s, struct arena *a, int64_t member_id, int64_t now, struct session **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_SESSION_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	db_bind_int64(st, 2, now);
	return collect_rows(s, a, st, sizeof **out, read_session, (void **) out, n);
}

static const char *const purposes[] = { "signin", "reset", "email" };

static mh_err
op_token_create(struct store *s, const struct auth_token *t)
{
	struct db_stmt *st = stmt(s, ST_TOKEN_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, t->token_hash);
	bind_text(st, 2, purposes[t->purpose]);
	db_bind_int64(st, 3, t->member_id);
	bind_text(st, 4, t->new_email);
	bind_text(st, 5, t->next ? t->next : "/");
	db_bind_int64(st, 6, t->created_at);
	db_bind_int64(st, 7, t->expires_at);
	bind_text(st, 8, t->password_hash ? t->password_hash : "");
	return exec_stmt(s, st);
}

static mh_err
op_token_get(struct store *s, struct arena *a, const char *token_hash, enum token_purpose purpose, int64_t now,
             struct auth_token *out)
{
	struct db_stmt *st = stmt(s, ST_TOKEN_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	bind_text(st, 2, purposes[purpose]);
	db_bind_int64(st, 3, now);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(out, 0, sizeof *out);
		out->token_hash = col_str(a, st, 0);
		out->purpose = purpose;
		out->member_id = db_col_int64(st, 1);
		out->new_email = col_str(a, st, 2);
		out->next = col_str(a, st, 3);
		out->created_at = db_col_int64(st, 4);
		out->expires_at = db_col_int64(st, 5);
		out->password_hash = col_str(a, st, 6);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_token_use(struct store *s, const char *token_hash, enum token_purpose purpose, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_TOKEN_USE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	bind_text(st, 2, purposes[purpose]);
	db_bind_int64(st, 3, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_rate_count(struct store *s, const char *bucket, int64_t now, int64_t window, int *n, int64_t *retry_after)
{
	struct db_stmt *st = stmt(s, ST_RATE_COUNT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, bucket);
	db_bind_int64(st, 2, now - window);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*n = (int) db_col_int64(st, 0);
		int64_t oldest = !db_col_null(st, 1) ? db_col_int64(st, 1) : now;
		*retry_after = oldest + window - now < 1 ? 1 : oldest + window - now;
	}
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "rate");
}

static mh_err
op_token_spend_member(struct store *s, int64_t member_id, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_TOKEN_SPEND_MEMBER);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	db_bind_int64(st, 2, now);
	return exec_stmt(s, st);
}

static mh_err
rate_lock(struct store *s, const char *bucket)
{
	mh_err err = exec_sql(s, "SAVEPOINT rate_hit");
	if (err)
		return err;
	struct db_stmt *st = stmt(s, ST_RATE_LOCK);
	if (!st)
		err = MH_ERR_DB;
	else {
		bind_text(st, 1, bucket);
		err = exec_stmt(s, st);
	}
	if (err) {
		exec_sql(s, "ROLLBACK TO rate_hit");
		exec_sql(s, "RELEASE rate_hit");
	}
	return err;
}

/* Ends rate_lock's savepoint: kept when err is MH_OK, undone otherwise. */
static mh_err
rate_unlock(struct store *s, mh_err err)
{
	if (err) {
		char msg[STORE_ERRMSG_MAX];
		snprintf(msg, sizeof msg, "%s", store_errbuf());
		exec_sql(s, "ROLLBACK TO rate_hit");
		exec_sql(s, "RELEASE rate_hit");
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "%s", msg);
		return err;
	}
	return release_savepoint(s, "rate_hit");
}

static mh_err
op_rate_hit(struct store *s, const char *bucket, int64_t now, int64_t window, int limit, bool *allowed,
            int64_t *retry_after)
{
	/* Where one statement's count does not see a concurrent insert
	 * (PostgreSQL), attempts on a bucket queue on its lock first. */
	bool queue = sql_lock_before(s->db->dialect, ST_RATE_INSERT);
	mh_err err;
	if (queue && (err = rate_lock(s, bucket)))
		return err;
	struct db_stmt *st = stmt(s, ST_RATE_INSERT);
	if (!st)
		err = MH_ERR_DB;
	else {
		bind_text(st, 1, bucket);
		db_bind_int64(st, 2, now);
		db_bind_int64(st, 3, now - window);
		db_bind_int64(st, 4, limit);
		err = exec_stmt(s, st);
	}
	if (queue)
		err = rate_unlock(s, err);
	if (err)
		return err;
	*allowed = db_changes(st) == 1;
	*retry_after = 0;
	if (!*allowed) {
		/* Refused: when the oldest attempt in the window leaves it. */
		if (!(st = stmt(s, ST_RATE_COUNT)))
			return MH_ERR_DB;
		bind_text(st, 1, bucket);
		db_bind_int64(st, 2, now - window);
		int rc = db_step(st);
		int64_t oldest = rc == DB_ROW && !db_col_null(st, 1) ? db_col_int64(st, 1) : now;
		db_reset(st);
		if (rc != DB_ROW)
			return db_fail(s, st, "rate");
		*retry_after = oldest + window - now;
		if (*retry_after < 1)
			*retry_after = 1;
		return MH_OK;
	}
	/* Now and then, forget attempts older than a day. */
	if ((now % 64) == 0 && (st = stmt(s, ST_RATE_PRUNE))) {
		db_bind_int64(st, 1, now - 86400);
		err = exec_stmt(s, st);
	}
	return err;
}

/* Rows nobody can use any more: expired sessions, mailed links and
 * checkouts a day after they expired, meter reads older than 62 days (the
 * meter counts the calendar month). */
static mh_err
op_housekeep(struct store *s, int64_t now, int *removed)
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
		struct db_stmt *st = stmt(s, jobs[i].id);
		if (!st)
			return MH_ERR_DB;
		db_bind_int64(st, 1, now - jobs[i].age);
		mh_err err = exec_stmt(s, st);
		if (err)
			return err;
		*removed += db_changes(st);
	}
	/* Member changes: the newest STORE_CHANGES_KEPT, whatever their age. */
	struct db_stmt *st = stmt(s, ST_CHANGES_PRUNE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, STORE_CHANGES_KEPT);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	*removed += db_changes(st);
	return MH_OK;
}

static void
read_outbox(struct arena *a, struct db_stmt *st, void *row)
{
	struct outbox_mail *m = row;
	m->id = db_col_int64(st, 0);
	m->to = col_str(a, st, 1);
	m->subject = col_str(a, st, 2);
	m->text = col_str(a, st, 3);
	m->html = col_str(a, st, 4);
	m->message_id = col_str(a, st, 5);
	m->created_at = db_col_int64(st, 6);
	m->attempts = db_col_int(st, 7);
	m->next_attempt_at = db_col_int64(st, 8);
	m->sent_at = db_col_int64(st, 9);
	m->last_error = col_str(a, st, 10);
}

static mh_err
op_outbox_push(struct store *s, const struct outbox_mail *m, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_OUTBOX_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, m->to);
	bind_text(st, 2, m->subject);
	bind_text(st, 3, m->text);
	bind_text(st, 4, m->html);
	bind_text(st, 5, m->message_id);
	db_bind_int64(st, 6, m->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		*id = db_last_id(st);
	return err;
}

static mh_err
op_outbox_claim(struct store *s, struct arena *a, int64_t now, int64_t lease, size_t max, struct outbox_mail **out,
                size_t *n)
{
	struct db_stmt *st = stmt(s, ST_OUTBOX_DUE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, (int64_t) max);
	struct outbox_mail *list = arena_alloc(a, (max ? max : 1) * sizeof *list);
	size_t count = 0;
	int rc = DB_DONE;
	while (count < max && (rc = db_step(st)) == DB_ROW)
		read_outbox(a, st, &list[count++]);
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return db_fail(s, st, "outbox");
	/* Keep only the rows this sender won. */
	size_t won = 0;
	for (size_t i = 0; i < count; i++) {
		if (!(st = stmt(s, ST_OUTBOX_CLAIM)))
			return MH_ERR_DB;
		db_bind_int64(st, 1, list[i].id);
		db_bind_int64(st, 2, now + lease);
		db_bind_int64(st, 3, now);
		mh_err err = exec_stmt(s, st);
		if (err)
			return err;
		if (db_changes(st) == 1) {
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
op_outbox_sent(struct store *s, int64_t id, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_OUTBOX_SENT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	return exec_stmt(s, st);
}

static mh_err
op_outbox_retry(struct store *s, int64_t id, int64_t next_attempt_at, const char *error)
{
	struct db_stmt *st = stmt(s, ST_OUTBOX_RETRY);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, next_attempt_at);
	bind_text(st, 3, error);
	return exec_stmt(s, st);
}

static mh_err
op_outbox_list(struct store *s, struct arena *a, struct outbox_mail **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_OUTBOX_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_outbox, (void **) out, n);
}

static void
read_plan(struct arena *a, struct db_stmt *st, void *row)
{
	struct plan *p = row;
	p->id = db_col_int64(st, 0);
	p->code = col_str(a, st, 1);
	p->name = col_str(a, st, 2);
	p->amount = db_col_int64(st, 3);
	p->currency = col_str(a, st, 4);
	p->interval_months = db_col_int(st, 5);
	p->trial_days = db_col_int(st, 6);
	p->retired = db_col_int(st, 7) != 0;
	p->provider_price_id = col_str(a, st, 8);
}

static mh_err
op_plan_upsert(struct store *s, const struct plan *p, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_PLAN_UPSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, p->code);
	bind_text(st, 2, p->name);
	db_bind_int64(st, 3, p->amount);
	bind_text(st, 4, p->currency);
	db_bind_int64(st, 5, p->interval_months);
	db_bind_int64(st, 6, p->trial_days);
	db_bind_int64(st, 7, p->retired);
	bind_text(st, 8, p->provider_price_id);
	db_bind_int64(st, 9, clock_now());
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		err = id_by_text(s, ST_PLAN_ID, p->code, id);
	return err;
}

static mh_err
op_plan_list(struct store *s, struct arena *a, bool all, struct plan **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_PLAN_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, all);
	return collect_rows(s, a, st, sizeof **out, read_plan, (void **) out, n);
}

static mh_err
op_plan_get(struct store *s, struct arena *a, int64_t id, const char *code, struct plan *out)
{
	struct db_stmt *st = stmt(s, ST_PLAN_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	bind_text(st, 2, code ? code : "");
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_plan(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static void
read_subscription(struct arena *a, struct db_stmt *st, struct subscription *out)
{
	memset(out, 0, sizeof *out);
	out->id = db_col_int64(st, 0);
	out->member_id = db_col_int64(st, 1);
	out->plan_id = db_col_int64(st, 2);
	int status = sub_status_parse(col_str(a, st, 3));
	out->status = status < 0 ? SUB_NONE : (enum sub_status) status;
	out->period_start = db_col_int64(st, 4);
	out->period_end = db_col_int64(st, 5);
	out->trial_end = db_col_int64(st, 6);
	out->grace_until = db_col_int64(st, 7);
	out->cancel_at_period_end = db_col_int(st, 8) != 0;
	out->canceled_at = db_col_int64(st, 9);
	out->provider = col_str(a, st, 10);
	out->provider_id = col_str(a, st, 11);
	out->provider_customer = col_str(a, st, 12);
	out->provider_updated = db_col_int64(st, 13);
	out->created_at = db_col_int64(st, 14);
	out->updated_at = db_col_int64(st, 15);
	out->trial_reminded = db_col_int(st, 16) != 0;
	out->version = db_col_int64(st, 17);
}

static mh_err
op_subscription_by_member(struct store *s, struct arena *a, int64_t member_id, struct subscription *out)
{
	struct db_stmt *st = stmt(s, ST_SUB_BY_MEMBER);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_subscription(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_subscription_save(struct store *s, struct subscription *sub)
{
	struct db_stmt *st = stmt(s, sub->id ? ST_SUB_UPDATE : ST_SUB_INSERT);
	if (!st)
		return MH_ERR_DB;
	if (sub->id)
		db_bind_int64(st, 1, sub->id);
	db_bind_int64(st, 2, sub->member_id);
	db_bind_int64(st, 3, sub->plan_id);
	bind_text(st, 4, sub_status_name(sub->status));
	db_bind_int64(st, 5, sub->period_start);
	db_bind_int64(st, 6, sub->period_end);
	db_bind_int64(st, 7, sub->trial_end);
	db_bind_int64(st, 8, sub->grace_until);
	db_bind_int64(st, 9, sub->cancel_at_period_end);
	db_bind_int64(st, 10, sub->canceled_at);
	bind_text(st, 11, sub->provider ? sub->provider : "test");
	bind_text(st, 12, sub->provider_id);
	bind_text(st, 13, sub->provider_customer);
	db_bind_int64(st, 14, sub->provider_updated);
	db_bind_int64(st, 15, sub->created_at);
	db_bind_int64(st, 16, sub->updated_at);
	db_bind_int64(st, 17, sub->trial_reminded);
	if (sub->id)
		db_bind_int64(st, 18, sub->version);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	if (!sub->id) {
		sub->id = db_last_id(st);
		sub->version = 0;
	} else if (db_changes(st) != 1) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "subscription %lld changed since it was read",
		         (long long) sub->id);
		return MH_ERR_CONFLICT;
	} else {
		sub->version++;
	}
	return MH_OK;
}

static mh_err
op_payment_method_add(struct store *s, struct payment_method *pm, bool make_default)
{
	mh_err err = exec_sql(s, "SAVEPOINT pm_add");
	if (err)
		return err;
	struct db_stmt *st;
	/* Where writers do not queue (PostgreSQL), two of these for one member
	 * could both clear and both insert a default: the member's row lock,
	 * held to the end of the transaction, makes them take turns. */
	if (make_default && sql_lock_before(s->db->dialect, ST_PM_CLEAR_DEFAULT)) {
		if (!(st = stmt(s, ST_PM_LOCK_MEMBER)))
			goto fail;
		db_bind_int64(st, 1, pm->member_id);
		int rc = db_step(st);
		db_reset(st);
		if (rc == DB_ERROR) {
			err = db_fail(s, st, "lock");
			goto fail;
		}
	}
	if (make_default) {
		if (!(st = stmt(s, ST_PM_CLEAR_DEFAULT)))
			goto fail;
		db_bind_int64(st, 1, pm->member_id);
		if ((err = exec_stmt(s, st)))
			goto fail;
	}
	if (!(st = stmt(s, ST_PM_INSERT)))
		goto fail;
	db_bind_int64(st, 1, pm->member_id);
	bind_text(st, 2, pm->brand);
	bind_text(st, 3, pm->last4);
	db_bind_int64(st, 4, pm->exp_month);
	db_bind_int64(st, 5, pm->exp_year);
	bind_text(st, 6, pm->behavior ? pm->behavior : "ok");
	db_bind_int64(st, 7, make_default);
	bind_text(st, 8, pm->provider_id);
	db_bind_int64(st, 9, pm->created_at);
	if ((err = exec_stmt(s, st)))
		goto fail;
	pm->id = db_last_id(st);
	pm->is_default = make_default;
	return release_savepoint(s, "pm_add");
fail:
	exec_sql(s, "ROLLBACK TO pm_add");
	exec_sql(s, "RELEASE pm_add");
	return err ? err : MH_ERR_DB;
}

static void
read_pm(struct arena *a, struct db_stmt *st, struct payment_method *out)
{
	out->id = db_col_int64(st, 0);
	out->member_id = db_col_int64(st, 1);
	out->brand = col_str(a, st, 2);
	out->last4 = col_str(a, st, 3);
	out->exp_month = db_col_int(st, 4);
	out->exp_year = db_col_int(st, 5);
	out->behavior = col_str(a, st, 6);
	out->is_default = db_col_int(st, 7) != 0;
	out->provider_id = col_str(a, st, 8);
	out->created_at = db_col_int64(st, 9);
}

static mh_err
op_payment_method_default(struct store *s, struct arena *a, int64_t member_id, struct payment_method *out)
{
	struct db_stmt *st = stmt(s, ST_PM_DEFAULT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_pm(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static void
read_gift(struct arena *a, struct db_stmt *st, struct gift_link *g)
{
	memset(g, 0, sizeof *g);
	g->id = db_col_int64(st, 0);
	g->token_hash = col_str(a, st, 1);
	g->member_id = db_col_int64(st, 2);
	g->article_id = db_col_int64(st, 3);
	g->max_uses = db_col_int(st, 4);
	g->uses = db_col_int(st, 5);
	g->created_at = db_col_int64(st, 6);
	g->expires_at = db_col_int64(st, 7);
	g->revoked_at = db_col_int64(st, 8);
}

static mh_err
op_gift_create(struct store *s, struct gift_link *g)
{
	struct db_stmt *st = stmt(s, ST_GIFT_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, g->token_hash);
	db_bind_int64(st, 2, g->member_id);
	db_bind_int64(st, 3, g->article_id);
	db_bind_int64(st, 4, g->max_uses);
	db_bind_int64(st, 5, g->created_at);
	db_bind_int64(st, 6, g->expires_at);
	mh_err err = exec_stmt(s, st);
	if (!err)
		g->id = db_last_id(st);
	return err;
}

static mh_err
op_gift_get(struct store *s, struct arena *a, const char *token_hash, struct gift_link *out)
{
	struct db_stmt *st = stmt(s, ST_GIFT_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_gift(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_gift_use(struct store *s, int64_t id, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_GIFT_USE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_gift_list(struct store *s, struct arena *a, int64_t member_id, struct gift_link **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_GIFT_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	size_t cap = 8, count = 0;
	struct gift_link *list = arena_alloc(a, cap * sizeof *list);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
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
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "read");
	*out = list;
	*n = count;
	return MH_OK;
}

static mh_err
op_gift_revoke(struct store *s, int64_t id, int64_t member_id, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_GIFT_REVOKE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, member_id);
	db_bind_int64(st, 3, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_meter_get(struct store *s, int64_t member_id, const char *month, int64_t article_id, int *count, bool *has)
{
	struct db_stmt *st = stmt(s, ST_METER_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	bind_text(st, 2, month);
	db_bind_int64(st, 3, article_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*count = db_col_int(st, 0);
		*has = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "read");
}

static mh_err
op_meter_add(struct store *s, int64_t member_id, const char *month, int64_t article_id, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_METER_ADD);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	bind_text(st, 2, month);
	db_bind_int64(st, 3, article_id);
	db_bind_int64(st, 4, now);
	return exec_stmt(s, st);
}

/* Runs a query and collects its rows through read(); the list lives in a. */
static mh_err
collect_rows(struct store *s, struct arena *a, struct db_stmt *st, size_t size,
             void (*read)(struct arena *, struct db_stmt *, void *), void **out, size_t *n)
{
	size_t cap = 8, count = 0;
	char *list = arena_alloc(a, cap * size);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
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
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "read");
	*out = list;
	*n = count;
	return MH_OK;
}

static void
read_invoice(struct arena *a, struct db_stmt *st, void *p)
{
	struct invoice *inv = p;
	inv->id = db_col_int64(st, 0);
	inv->subscription_id = db_col_int64(st, 1);
	inv->amount = db_col_int64(st, 2);
	inv->currency = col_str(a, st, 3);
	inv->status = col_str(a, st, 4);
	inv->period_start = db_col_int64(st, 5);
	inv->period_end = db_col_int64(st, 6);
	inv->attempts = db_col_int(st, 7);
	inv->next_attempt_at = db_col_int64(st, 8);
	inv->idempotency_key = col_str(a, st, 9);
	inv->provider_id = col_str(a, st, 10);
	inv->paid_at = db_col_int64(st, 11);
	inv->created_at = db_col_int64(st, 12);
}

static void
read_charge(struct arena *a, struct db_stmt *st, void *p)
{
	struct charge *c = p;
	c->id = db_col_int64(st, 0);
	c->invoice_id = db_col_int64(st, 1);
	c->idempotency_key = col_str(a, st, 2);
	c->payment_method_id = db_col_int64(st, 3);
	c->status = col_str(a, st, 4);
	c->failure_code = col_str(a, st, 5);
	c->failure_message = col_str(a, st, 6);
	c->created_at = db_col_int64(st, 7);
	c->finished_at = db_col_int64(st, 8);
}

static void
read_subscription_row(struct arena *a, struct db_stmt *st, void *p)
{
	read_subscription(a, st, p);
}

static void
read_pm_row(struct arena *a, struct db_stmt *st, void *p)
{
	read_pm(a, st, p);
}

/* One row through read(), or MH_ERR_NOTFOUND. */
static mh_err
one_row(struct store *s, struct arena *a, struct db_stmt *st, void (*read)(struct arena *, struct db_stmt *, void *),
        void *out)
{
	int rc = db_step(st);
	if (rc == DB_ROW)
		read(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_subscription_get(struct store *s, struct arena *a, int64_t id, struct subscription *out)
{
	struct db_stmt *st = stmt(s, ST_SUB_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	return one_row(s, a, st, read_subscription_row, out);
}

static mh_err
op_invoice_create(struct store *s, struct invoice *inv)
{
	struct db_stmt *st = stmt(s, ST_INV_INSERT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, inv->subscription_id);
	db_bind_int64(st, 2, inv->amount);
	bind_text(st, 3, inv->currency);
	bind_text(st, 4, inv->status ? inv->status : "open");
	db_bind_int64(st, 5, inv->period_start);
	db_bind_int64(st, 6, inv->period_end);
	db_bind_int64(st, 7, inv->attempts);
	db_bind_int64(st, 8, inv->next_attempt_at);
	bind_text(st, 9, inv->idempotency_key);
	bind_text(st, 10, inv->provider_id);
	db_bind_int64(st, 11, inv->paid_at);
	db_bind_int64(st, 12, inv->created_at);
	db_bind_int64(st, 13, inv->claimed_until);
	mh_err err = exec_stmt(s, st);
	if (!err)
		inv->id = db_last_id(st);
	else if (err == MH_ERR_CONFLICT && id_by_text(s, ST_INV_ID_BY_KEY, inv->idempotency_key, &inv->id) != MH_OK)
		return MH_ERR_DB;
	return err;
}

static mh_err
op_invoice_save(struct store *s, const struct invoice *inv)
{
	struct db_stmt *st = stmt(s, ST_INV_SAVE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, inv->id);
	bind_text(st, 2, inv->status);
	db_bind_int64(st, 3, inv->attempts);
	db_bind_int64(st, 4, inv->next_attempt_at);
	db_bind_int64(st, 5, inv->paid_at);
	bind_text(st, 6, inv->provider_id);
	return exec_stmt(s, st);
}

static mh_err
op_invoice_get(struct store *s, struct arena *a, int64_t id, struct invoice *out)
{
	struct db_stmt *st = stmt(s, ST_INV_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	return one_row(s, a, st, read_invoice, out);
}

static mh_err
op_invoice_open(struct store *s, struct arena *a, int64_t subscription_id, struct invoice *out)
{
	struct db_stmt *st = stmt(s, ST_INV_OPEN);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, subscription_id);
	return one_row(s, a, st, read_invoice, out);
}

static mh_err
op_invoice_list(struct store *s, struct arena *a, int64_t subscription_id, struct invoice **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_INV_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, subscription_id);
	return collect_rows(s, a, st, sizeof **out, read_invoice, (void **) out, n);
}

static mh_err
op_invoices_due(struct store *s, struct arena *a, int64_t now, struct invoice **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_INV_DUE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	return collect_rows(s, a, st, sizeof **out, read_invoice, (void **) out, n);
}

static mh_err
op_invoice_claim(struct store *s, int64_t id, int64_t now, int64_t lease)
{
	struct db_stmt *st = stmt(s, ST_INV_CLAIM);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, lease);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_CONFLICT;
	return err;
}

static mh_err
op_invoice_release(struct store *s, int64_t id)
{
	struct db_stmt *st = stmt(s, ST_INV_RELEASE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	return exec_stmt(s, st);
}

static mh_err
op_charge_begin(struct store *s, struct charge *c)
{
	struct db_stmt *st = stmt(s, ST_CHG_INSERT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, c->invoice_id);
	bind_text(st, 2, c->idempotency_key);
	db_bind_int64(st, 3, c->payment_method_id);
	db_bind_int64(st, 4, c->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err)
		c->id = db_last_id(st);
	return err;
}

static mh_err
op_charge_finish(struct store *s, int64_t id, const char *status, const char *code, const char *message, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_CHG_FINISH);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	bind_text(st, 2, status);
	bind_text(st, 3, code);
	bind_text(st, 4, message);
	db_bind_int64(st, 5, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_CONFLICT; /* finished already, by another worker */
	return err;
}

static mh_err
op_charges_pending(struct store *s, struct arena *a, struct charge **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_CHG_PENDING);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_charge, (void **) out, n);
}

static mh_err
op_invoice_failure(struct store *s, struct arena *a, int64_t invoice_id, struct charge *out)
{
	struct db_stmt *st = stmt(s, ST_CHG_LAST_FAILURE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, invoice_id);
	return one_row(s, a, st, read_charge, out);
}

static mh_err
op_subscriptions_due(struct store *s, struct arena *a, int64_t now, int64_t trial_notice, struct subscription **out,
                     size_t *n)
{
	struct db_stmt *st = stmt(s, ST_SUB_DUE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, trial_notice);
	return collect_rows(s, a, st, sizeof **out, read_subscription_row, (void **) out, n);
}

static mh_err
op_subscription_by_provider(struct store *s, struct arena *a, const char *provider_id, const char *customer,
                            struct subscription *out)
{
	struct db_stmt *st = stmt(s, ST_SUB_BY_PROVIDER);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, provider_id);
	bind_text(st, 2, customer);
	return one_row(s, a, st, read_subscription_row, out);
}

static mh_err
op_cards_expiring(struct store *s, struct arena *a, int64_t before_month_index, struct payment_method **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_CARDS_EXPIRING);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, before_month_index);
	return collect_rows(s, a, st, sizeof **out, read_pm_row, (void **) out, n);
}

static mh_err
op_card_reminded(struct store *s, int64_t id)
{
	struct db_stmt *st = stmt(s, ST_CARD_REMINDED);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_CONFLICT; /* another run claimed this reminder first */
	return err;
}

static mh_err
op_checkout_create(struct store *s, const struct checkout *c)
{
	struct db_stmt *st = stmt(s, ST_CHECKOUT_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, c->token_hash);
	db_bind_int64(st, 2, c->member_id);
	db_bind_int64(st, 3, c->plan_id);
	bind_text(st, 4, c->purpose);
	db_bind_int64(st, 5, c->created_at);
	db_bind_int64(st, 6, c->expires_at);
	return exec_stmt(s, st);
}

static void
read_checkout(struct arena *a, struct db_stmt *st, void *p)
{
	struct checkout *c = p;
	c->token_hash = col_str(a, st, 0);
	c->member_id = db_col_int64(st, 1);
	c->plan_id = db_col_int64(st, 2);
	c->purpose = col_str(a, st, 3);
	c->status = col_str(a, st, 4);
	c->created_at = db_col_int64(st, 5);
	c->expires_at = db_col_int64(st, 6);
}

static mh_err
op_checkout_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct checkout *out)
{
	struct db_stmt *st = stmt(s, ST_CHECKOUT_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, now);
	return one_row(s, a, st, read_checkout, out);
}

static mh_err
op_checkout_complete(struct store *s, const char *token_hash)
{
	struct db_stmt *st = stmt(s, ST_CHECKOUT_COMPLETE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_test_ledger_charge(struct store *s, struct arena *a, const char *key, int64_t amount, const char *outcome,
                      int64_t now, const char **recorded)
{
	struct db_stmt *st = stmt(s, ST_LEDGER_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key);
	db_bind_int64(st, 2, amount);
	bind_text(st, 3, outcome);
	db_bind_int64(st, 4, now);
	mh_err err = exec_stmt(s, st);
	if (err || !(st = stmt(s, ST_LEDGER_GET)))
		return err ? err : MH_ERR_DB;
	bind_text(st, 1, key);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*recorded = col_str(a, st, 0);
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "ledger");
}

static mh_err
op_test_ledger_count(struct store *s, const char *key_prefix, int *n)
{
	struct db_stmt *st = stmt(s, ST_LEDGER_COUNT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key_prefix);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*n = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "ledger");
}

static mh_err
op_billing_event_record(struct store *s, const char *provider, const char *event_id, const char *type, int64_t created,
                        int64_t now)
{
	struct db_stmt *st = stmt(s, ST_EVENT_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, provider);
	bind_text(st, 2, event_id);
	bind_text(st, 3, type);
	db_bind_int64(st, 4, created);
	db_bind_int64(st, 5, now);
	return exec_stmt(s, st);
}

static mh_err
op_site_secret(struct store *s, const char *fresh, char *out, size_t outlen)
{
	struct db_stmt *st = stmt(s, ST_SECRET_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, fresh);
	mh_err err = exec_stmt(s, st);
	if (err || !(st = stmt(s, ST_SECRET_GET)))
		return err ? err : MH_ERR_DB;
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(out, outlen, "%s", db_col_text(st, 0));
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "secret");
}

/* How many of this binary's migrations the database has not applied; an
 * error when it has none at all (no schema_migrations). */
static mh_err
op_migrations_pending(struct store *s, int *pending)
{
	*pending = 0;
	size_t plen = strlen(s->db->migrations);
	for (const struct embedded_file *m = embedded_migrations; m->name; m++) {
		if (strncmp(m->name, s->db->migrations, plen) != 0)
			continue;
		struct db_stmt *st = stmt(s, ST_MIGRATION_APPLIED);
		if (!st)
			return MH_ERR_DB;
		db_bind_int64(st, 1, strtol(m->name + plen, NULL, 10));
		int rc = db_step(st);
		db_reset(st);
		if (rc == DB_DONE)
			(*pending)++;
		else if (rc != DB_ROW)
			return db_fail(s, st, "migrations");
	}
	return MH_OK;
}

/* ---- Search (docs/search.md) ---- */

/* Reads up to max of one index's matches, in the statement's order. */
static mh_err
search_rows(struct store *s, enum stmt_id id, const char *match, const struct search_scope *scope, size_t max,
            struct search_row *rows, size_t *n)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	bool ranked = id == ST_SEARCH_PUBLIC;
	bind_text(st, 1, match);
	db_bind_int64(st, 2, scope->now);
	db_bind_int64(st, 3, (int64_t) max);
	if (!ranked) {
		db_bind_int64(st, 4, scope->gated_public);
		db_bind_int64(st, 5, scope->gated_members);
		db_bind_int64(st, 6, scope->gated_paid);
		db_bind_int64(st, 7, scope->paywalled_before);
	}
	size_t count = 0;
	int rc = DB_DONE;
	while (count < max && (rc = db_step(st)) == DB_ROW) {
		struct search_row *r = &rows[count++];
		memset(r, 0, sizeof *r);
		r->article_id = db_col_int64(st, 0);
		int level = access_level_parse(db_col_text(st, 1));
		r->access = level < 0 ? ACCESS_PAID : (enum access_level) level;
		r->published_at = db_col_int64(st, 2);
		if (ranked) {
			/* A real on either engine, read as its text. */
			r->rank = strtod(db_col_text(st, 3), NULL);
			r->in_public = true;
		} else {
			r->in_gated = true;
		}
	}
	if (count == max)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "search");
	*n = count;
	return MH_OK;
}

/* One row past the limit on each side tells whether there are more. */
static mh_err
op_search(struct store *s, struct arena *a, const char *match, const struct search_scope *scope,
          struct search_row **out, size_t *n, bool *more)
{
	size_t limit = scope->limit, np = 0, ng = 0;
	struct search_row *rows = arena_alloc(a, (limit + 2) * sizeof *rows);
	*out = rows;
	*n = 0;
	*more = false;
	mh_err err = search_rows(s, ST_SEARCH_PUBLIC, match, scope, limit + 1, rows, &np);
	if (err)
		return err;
	if (np > limit) {
		*n = limit;
		*more = true;
		return MH_OK;
	}
	if (scope->gated_public || scope->gated_members || scope->gated_paid) {
		if ((err = search_rows(s, ST_SEARCH_GATED, match, scope, limit - np + 1, rows + np, &ng)))
			return err;
	}
	*more = np + ng > limit;
	*n = *more ? limit : np + ng;
	return MH_OK;
}

static mh_err
op_search_excerpt(struct store *s, struct arena *a, const char *match, int64_t article_id, struct search_excerpt *out)
{
	memset(out, 0, sizeof *out);
	struct db_stmt *st = stmt(s, ST_SEARCH_EXCERPT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, match);
	db_bind_int64(st, 2, article_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->slug = col_str(a, st, 0);
		out->title = col_str(a, st, 1);
		out->dek = col_str(a, st, 2);
		out->published_at = db_col_int64(st, 3);
		out->title_marked = col_str(a, st, 4);
		out->dek_marked = col_str(a, st, 5);
		out->snippet_marked = col_str(a, st, 6);
		out->matched = true;
		db_reset(st);
		return MH_OK;
	}
	db_reset(st);
	if (rc != DB_DONE)
		return db_fail(s, st, "search");
	/* No public match: the article as it is, nothing marked. */
	if (!(st = stmt(s, ST_SEARCH_ARTICLE)))
		return MH_ERR_DB;
	db_bind_int64(st, 1, article_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->slug = col_str(a, st, 0);
		out->title = out->title_marked = col_str(a, st, 1);
		out->dek = out->dek_marked = col_str(a, st, 2);
		out->published_at = db_col_int64(st, 3);
		out->snippet_marked = "";
	}
	db_reset(st);
	if (rc == DB_DONE)
		return MH_ERR_NOTFOUND;
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "search");
}

/* Called only through store_search_gated_snippet(), which has checked the
 * decision (FULL by right for this article). */
static mh_err
op_search_gated_snippet(struct store *s, struct arena *a, const char *match, int64_t article_id, const char **snippet)
{
	*snippet = "";
	struct db_stmt *st = stmt(s, ST_SEARCH_GATED_SNIPPET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, match);
	db_bind_int64(st, 2, article_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*snippet = col_str(a, st, 0);
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? MH_OK : db_fail(s, st, "search");
}

/* ---- Private feed tokens and the sitemap ---- */

static mh_err
op_feed_token_save(struct store *s, const struct feed_token *t)
{
	struct db_stmt *st = stmt(s, ST_FEED_TOKEN_SAVE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, t->member_id);
	bind_text(st, 2, t->token_hash);
	bind_text(st, 3, t->nonce);
	db_bind_int64(st, 4, t->created_at);
	return exec_stmt(s, st);
}

static mh_err
op_feed_token_delete(struct store *s, int64_t member_id)
{
	struct db_stmt *st = stmt(s, ST_FEED_TOKEN_DELETE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
feed_token_row(struct store *s, struct arena *a, struct db_stmt *st, struct feed_token *out)
{
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->member_id = db_col_int64(st, 0);
		out->token_hash = col_str(a, st, 1);
		out->nonce = col_str(a, st, 2);
		out->created_at = db_col_int64(st, 3);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_feed_token_by_member(struct store *s, struct arena *a, int64_t member_id, struct feed_token *out)
{
	struct db_stmt *st = stmt(s, ST_FEED_TOKEN_BY_MEMBER);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	return feed_token_row(s, a, st, out);
}

static mh_err
op_feed_token_find(struct store *s, struct arena *a, const char *token_hash, struct feed_token *out)
{
	struct db_stmt *st = stmt(s, ST_FEED_TOKEN_FIND);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	return feed_token_row(s, a, st, out);
}

static mh_err
op_sitemap_list(struct store *s, struct arena *a, int64_t now, struct sitemap_entry **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_SITEMAP);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	size_t cap = 64, count = 0;
	struct sitemap_entry *list = xmallocarray(cap, sizeof *list);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (count == cap)
			list = xrealloc(list, (cap *= 2) * sizeof *list);
		const char *kind = db_col_text(st, 0);
		list[count].kind = kind[0] ? kind[0] : 'a';
		list[count].slug = col_str(a, st, 1);
		list[count].title = col_str(a, st, 2);
		list[count].published_at = db_col_int64(st, 3);
		list[count].updated_at = db_col_int64(st, 4);
		count++;
	}
	db_reset(st);
	mh_err err = rc == DB_DONE ? MH_OK : db_fail(s, st, "read");
	/* Hand the list to the arena so the caller frees nothing. */
	struct sitemap_entry *copy = arena_alloc(a, (count ? count : 1) * sizeof *copy);
	memcpy(copy, list, count * sizeof *copy);
	free(list);
	*out = copy;
	*n = err ? 0 : count;
	return err;
}

/* ---- The Content API: keys and listings ---- */

static void
read_api_key(struct arena *a, struct db_stmt *st, void *p)
{
	struct api_key *k = p;
	k->id = db_col_int64(st, 0);
	k->name = col_str(a, st, 1);
	k->key_hash = col_str(a, st, 2);
	k->created_at = db_col_int64(st, 3);
	k->revoked_at = db_col_int64(st, 4);
}

static mh_err
op_api_key_create(struct store *s, const struct api_key *k, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_APIKEY_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, k->name);
	bind_text(st, 2, k->key_hash);
	db_bind_int64(st, 3, k->created_at);
	mh_err err = exec_stmt(s, st);
	if (!err && id)
		*id = db_last_id(st);
	return err;
}

static mh_err
op_api_key_by_hash(struct store *s, struct arena *a, const char *key_hash, struct api_key *out)
{
	struct db_stmt *st = stmt(s, ST_APIKEY_BY_HASH);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, key_hash);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_api_key(a, st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_api_key_list(struct store *s, struct arena *a, struct api_key **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_APIKEY_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_api_key, (void **) out, n);
}

static mh_err
op_api_key_revoke(struct store *s, const char *name, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_APIKEY_REVOKE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, name);
	db_bind_int64(st, 2, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static void
read_speaker_row(struct arena *a, struct db_stmt *st, void *p)
{
	struct speaker *sp = p;
	sp->id = db_col_int64(st, 0);
	sp->slug = col_str(a, st, 1);
	sp->name = col_str(a, st, 2);
	sp->role = col_str(a, st, 3);
}

static mh_err
op_speaker_list(struct store *s, struct arena *a, int64_t now, struct speaker **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_SPEAKER_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	return collect_rows(s, a, st, sizeof **out, read_speaker_row, (void **) out, n);
}

static mh_err
op_article_count(struct store *s, int64_t before, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_ARTICLE_COUNT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, before ? before : INT64_MAX);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*n = (size_t) db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "count");
}

static mh_err
op_redirect_put(struct store *s, const char *old_path, const char *new_path, const char *source, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_REDIRECT_PUT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, old_path);
	bind_text(st, 2, new_path);
	bind_text(st, 3, source);
	db_bind_int64(st, 4, now);
	return exec_stmt(s, st);
}

static mh_err
op_redirect_get(struct store *s, struct arena *a, const char *old_path, const char **new_path)
{
	struct db_stmt *st = stmt(s, ST_REDIRECT_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, old_path);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*new_path = col_str(a, st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static void
read_redirect(struct arena *a, struct db_stmt *st, void *p)
{
	struct redirect *r = p;
	r->old_path = col_str(a, st, 0);
	r->new_path = col_str(a, st, 1);
	r->source = col_str(a, st, 2);
	r->created_at = db_col_int64(st, 3);
}

static mh_err
op_redirect_list(struct store *s, struct arena *a, struct redirect **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_REDIRECT_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_redirect, (void **) out, n);
}

static mh_err
op_audit_add(struct store *s, const struct audit_entry *e)
{
	struct db_stmt *st = stmt(s, ST_AUDIT_ADD);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, e->at);
	db_bind_int64(st, 2, e->actor_id);
	bind_text(st, 3, e->actor_email ? e->actor_email : "");
	bind_text(st, 4, e->action);
	bind_text(st, 5, e->target ? e->target : "");
	bind_text(st, 6, e->detail ? e->detail : "");
	bind_text(st, 7, e->ip ? e->ip : "");
	return exec_stmt(s, st);
}

static void
read_audit(struct arena *a, struct db_stmt *st, void *p)
{
	struct audit_entry *e = p;
	e->id = db_col_int64(st, 0);
	e->at = db_col_int64(st, 1);
	e->actor_id = db_col_int64(st, 2);
	e->actor_email = col_str(a, st, 3);
	e->action = col_str(a, st, 4);
	e->target = col_str(a, st, 5);
	e->detail = col_str(a, st, 6);
	e->ip = col_str(a, st, 7);
}

static mh_err
op_audit_list(struct store *s, struct arena *a, int64_t before_id, size_t limit, struct audit_entry **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_AUDIT_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, before_id);
	db_bind_int64(st, 2, (int64_t) limit);
	return collect_rows(s, a, st, sizeof **out, read_audit, (void **) out, n);
}

static void
read_directory(struct arena *a, struct db_stmt *st, void *p)
{
	struct directory_entry *e = p;
	e->slug = col_str(a, st, 0);
	e->name = col_str(a, st, 1);
	e->detail = col_str(a, st, 2);
	e->count = db_col_int64(st, 3);
}

static mh_err
op_directory(struct store *s, struct arena *a, enum directory_kind kind, int64_t now, struct directory_entry **out,
             size_t *n)
{
	static const enum stmt_id ids[] = {
		[DIR_TAGS] = ST_DIR_TAGS, [DIR_AUTHORS] = ST_DIR_AUTHORS, [DIR_PEOPLE] = ST_DIR_PEOPLE
	};
	if ((unsigned) kind >= sizeof ids / sizeof ids[0])
		return MH_ERR_INVALID;
	struct db_stmt *st = stmt(s, ids[kind]);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	return collect_rows(s, a, st, sizeof **out, read_directory, (void **) out, n);
}

static mh_err
op_author_put(struct store *s, const struct author_profile *p)
{
	struct db_stmt *st = stmt(s, ST_AUTHOR_PUT);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, p->slug);
	bind_text(st, 2, p->name);
	bind_text(st, 3, p->bio ? p->bio : "");
	bind_text(st, 4, p->photo ? p->photo : "");
	bind_text(st, 5, p->photo_alt ? p->photo_alt : "");
	return exec_stmt(s, st);
}

static mh_err
op_author_get(struct store *s, struct arena *a, const char *slug, struct author_profile *out)
{
	struct db_stmt *st = stmt(s, ST_AUTHOR_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->slug = col_str(a, st, 0);
		out->name = col_str(a, st, 1);
		out->bio = col_str(a, st, 2);
		out->photo = col_str(a, st, 3);
		out->photo_alt = col_str(a, st, 4);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_reads_add(struct store *s, const struct read_count *c, size_t n, int64_t hour, int64_t prune_before)
{
	mh_err rc = op_begin(s);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		struct db_stmt *st = stmt(s, ST_READS_ADD);
		if (!st) {
			rc = MH_ERR_DB;
			break;
		}
		bind_text(st, 1, c[i].slug);
		db_bind_int64(st, 2, hour);
		db_bind_int64(st, 3, c[i].reads);
		rc = exec_stmt(s, st);
	}
	if (!rc) {
		struct db_stmt *st = stmt(s, ST_READS_PRUNE);
		if (!st)
			rc = MH_ERR_DB;
		else {
			db_bind_int64(st, 1, prune_before);
			rc = exec_stmt(s, st);
		}
	}
	if (rc) {
		op_rollback(s);
		return rc;
	}
	return op_commit(s);
}

static void
read_most_read(struct arena *a, struct db_stmt *st, void *p)
{
	struct most_read *m = p;
	m->slug = col_str(a, st, 0);
	m->title = col_str(a, st, 1);
	int level = access_level_parse(col_str(a, st, 2));
	m->access = level < 0 ? ACCESS_PAID : (enum access_level) level;
	m->reads = db_col_int64(st, 3);
}

static mh_err
op_most_read(struct store *s, struct arena *a, int64_t since_hour, int64_t now, size_t limit, struct most_read **out,
             size_t *n)
{
	struct db_stmt *st = stmt(s, ST_MOST_READ);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, since_hour);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, (int64_t) limit);
	return collect_rows(s, a, st, sizeof **out, read_most_read, (void **) out, n);
}

static mh_err
op_media_add(struct store *s, const struct media_row *m, bool *added)
{
	struct db_stmt *st = stmt(s, ST_MEDIA_ADD);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, m->hash);
	bind_text(st, 2, m->type);
	db_bind_int64(st, 3, m->width);
	db_bind_int64(st, 4, m->height);
	db_bind_int64(st, 5, m->bytes);
	bind_text(st, 6, m->url);
	bind_text(st, 7, m->alt ? m->alt : "");
	bind_text(st, 8, m->filename ? m->filename : "");
	db_bind_int64(st, 9, m->uploaded_by);
	db_bind_int64(st, 10, m->created_at);
	mh_err err = exec_stmt(s, st);
	*added = !err && db_changes(st) == 1;
	return err;
}

static void
read_media(struct arena *a, struct db_stmt *st, void *p)
{
	struct media_row *m = p;
	m->hash = col_str(a, st, 0);
	m->type = col_str(a, st, 1);
	m->width = db_col_int64(st, 2);
	m->height = db_col_int64(st, 3);
	m->bytes = db_col_int64(st, 4);
	m->url = col_str(a, st, 5);
	m->alt = col_str(a, st, 6);
	m->filename = col_str(a, st, 7);
	m->uploaded_by = db_col_int64(st, 8);
	m->uploader = col_str(a, st, 9);
	m->created_at = db_col_int64(st, 10);
}

static mh_err
op_media_list(struct store *s, struct arena *a, size_t offset, size_t limit, struct media_row **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_MEDIA_LIST);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, (int64_t) offset);
	db_bind_int64(st, 2, (int64_t) limit);
	return collect_rows(s, a, st, sizeof **out, read_media, (void **) out, n);
}

static mh_err
op_consent_put(struct store *s, int64_t member_id, bool newsletter, const char *source, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_CONSENT_PUT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	db_bind_int64(st, 2, newsletter ? 1 : 0);
	bind_text(st, 3, source);
	db_bind_int64(st, 4, now);
	return exec_stmt(s, st);
}

static mh_err
op_consent_get(struct store *s, int64_t member_id, bool *newsletter)
{
	struct db_stmt *st = stmt(s, ST_CONSENT_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*newsletter = db_col_int64(st, 0) == 1;
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_member_set_comped(struct store *s, int64_t member_id, int64_t until)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_SET_COMPED);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	db_bind_int64(st, 2, until);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

/* Rows of (key, number) into list, at most SITE_STATS_MAX. */
static mh_err
stat_rows(struct store *s, struct arena *a, enum stmt_id id, struct site_stat *list, size_t *n)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	int rc;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW && *n < SITE_STATS_MAX) {
		list[*n].key = col_str(a, st, 0);
		list[*n].value = (double) db_col_int64(st, 1);
		(*n)++;
	}
	db_reset(st);
	return rc == DB_ERROR ? db_fail(s, st, "stats") : MH_OK;
}

static mh_err
op_site_stats(struct store *s, struct arena *a, struct site_stats *out)
{
	memset(out, 0, sizeof *out);
	struct db_stmt *st = stmt(s, ST_STATS_OUTBOX);
	if (!st)
		return MH_ERR_DB;
	int rc = db_step(st);
	if (rc == DB_ROW)
		out->outbox_queued = db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return db_fail(s, st, "stats");
	mh_err err = stat_rows(s, a, ST_STATS_SUBS, out->subs, &out->n_subs);
	if (!err)
		err = stat_rows(s, a, ST_STATS_CHARGES, out->charges, &out->n_charges);
	if (err)
		return err;
	/* A price a month: each (currency, months) group's sum over its months,
	 * added up per currency (rows come ordered by currency). */
	if (!(st = stmt(s, ST_STATS_MRR)))
		return MH_ERR_DB;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cur = col_str(a, st, 0);
		int64_t months = db_col_int64(st, 1);
		double monthly = (double) db_col_int64(st, 2) / (double) (months > 0 ? months : 1);
		if (out->n_mrr && !strcmp(out->mrr[out->n_mrr - 1].key, cur))
			out->mrr[out->n_mrr - 1].value += monthly;
		else if (out->n_mrr < SITE_STATS_MAX)
			out->mrr[out->n_mrr++] = (struct site_stat){ cur, monthly };
	}
	db_reset(st);
	return rc == DB_ERROR ? db_fail(s, st, "stats") : MH_OK;
}

/* ---- The newsroom's working copies ---- */

static mh_err
op_newsroom_adopt(struct store *s, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_ADOPT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	return exec_stmt(s, st);
}

/* Columns from `at` on: NEWSROOM_COLS' order, from status on. */
static void
read_newsroom_fields(struct arena *a, struct db_stmt *st, int at, bool with_status, struct newsroom_article *o)
{
	if (with_status) {
		int status = newsroom_status_parse(col_str(a, st, at++));
		o->status = status < 0 ? NEWSROOM_DRAFT : (enum newsroom_status) status;
	}
	o->slug = col_str(a, st, at++);
	o->title = col_str(a, st, at++);
	o->dek = col_str(a, st, at++);
	o->access = col_str(a, st, at++);
	o->authors = col_str(a, st, at++);
	o->tags = col_str(a, st, at++);
	o->publish_at = db_col_int64(st, at++);
	o->featured = db_col_int64(st, at++) != 0;
	o->feature_image = col_str(a, st, at++);
	o->feature_image_alt = col_str(a, st, at++);
	o->body = col_str(a, st, at++);
}

static void
read_newsroom(struct arena *a, struct db_stmt *st, void *p)
{
	struct newsroom_article *o = p;
	o->id = db_col_int64(st, 0);
	read_newsroom_fields(a, st, 1, true, o);
	o->live_slug = col_str(a, st, 13);
	o->live_at = db_col_int64(st, 14);
	o->created_at = db_col_int64(st, 15);
	o->updated_at = db_col_int64(st, 16);
	o->updated_by = col_str(a, st, 17);
}

/* s with LIKE's wildcards and escape character escaped by a backslash. */
static const char *
like_escaped(struct arena *a, const char *s)
{
	if (!s)
		return "";
	size_t len = strlen(s);
	char *out = arena_alloc(a, 2 * len + 1), *o = out;
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static void
bind_newsroom_filter(struct arena *a, struct db_stmt *st, const struct newsroom_filter *f)
{
	bind_text(st, 1, f->status >= 0 ? newsroom_status_name((enum newsroom_status) f->status) : "");
	bind_text(st, 2, f->access);
	bind_text(st, 3, like_escaped(a, f->tag));
	bind_text(st, 4, like_escaped(a, f->author));
	bind_text(st, 5, like_escaped(a, f->q));
	db_bind_int64(st, 6, f->now);
}

static mh_err
op_newsroom_list(struct store *s, struct arena *a, const struct newsroom_filter *f, struct newsroom_article **out,
                 size_t *n, size_t *total)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_COUNT);
	if (!st)
		return MH_ERR_DB;
	bind_newsroom_filter(a, st, f);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*total = (size_t) db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return db_fail(s, st, "read");
	if (!(st = stmt(s, ST_NEWSROOM_LIST)))
		return MH_ERR_DB;
	bind_newsroom_filter(a, st, f);
	db_bind_int64(st, 7, (int64_t) f->limit);
	db_bind_int64(st, 8, (int64_t) f->offset);
	return collect_rows(s, a, st, sizeof **out, read_newsroom, (void **) out, n);
}

static mh_err
op_newsroom_get(struct store *s, struct arena *a, int64_t id, struct newsroom_article *out)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(out, 0, sizeof *out);
		read_newsroom(a, st, out);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_newsroom_put(struct store *s, const struct newsroom_article *in, int64_t *id)
{
	bool insert = in->id == 0;
	struct db_stmt *st = stmt(s, insert ? ST_NEWSROOM_INSERT : ST_NEWSROOM_UPDATE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, newsroom_status_name(in->status));
	bind_text(st, 2, in->slug);
	bind_text(st, 3, in->title);
	bind_text(st, 4, in->dek);
	bind_text(st, 5, in->access);
	bind_text(st, 6, in->authors);
	bind_text(st, 7, in->tags);
	db_bind_int64(st, 8, in->publish_at);
	db_bind_int64(st, 9, in->featured ? 1 : 0);
	bind_text(st, 10, in->feature_image);
	bind_text(st, 11, in->feature_image_alt);
	bind_text(st, 12, in->body);
	bind_text(st, 13, in->live_slug);
	db_bind_int64(st, 14, in->live_at);
	db_bind_int64(st, 15, in->updated_at);
	bind_text(st, 16, in->updated_by);
	db_bind_int64(st, 17, insert ? in->created_at : in->id);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	if (!insert && db_changes(st) == 0)
		return MH_ERR_NOTFOUND;
	if (id)
		*id = insert ? db_last_id(st) : in->id;
	return MH_OK;
}

static mh_err
op_newsroom_revision_add(struct store *s, int64_t id, int64_t at, const char *actor, const char *note)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_REV_ADD);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, at);
	bind_text(st, 3, actor);
	bind_text(st, 4, note);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

static void
read_newsroom_rev(struct arena *a, struct db_stmt *st, void *p)
{
	struct newsroom_revision *r = p;
	r->id = db_col_int64(st, 0);
	r->at = db_col_int64(st, 1);
	r->actor = col_str(a, st, 2);
	r->note = col_str(a, st, 3);
	r->art.id = db_col_int64(st, 4);
	read_newsroom_fields(a, st, 5, false, &r->art);
	r->art.live_slug = "";
	r->art.updated_by = r->actor;
	r->art.updated_at = r->at;
}

static mh_err
op_newsroom_revisions(struct store *s, struct arena *a, int64_t id, size_t limit, struct newsroom_revision **out,
                      size_t *n)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_REVS);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, (int64_t) limit);
	return collect_rows(s, a, st, sizeof **out, read_newsroom_rev, (void **) out, n);
}

static mh_err
op_newsroom_revision_get(struct store *s, struct arena *a, int64_t id, int64_t rev, struct newsroom_revision *out)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_REV_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, rev);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(out, 0, sizeof *out);
		read_newsroom_rev(a, st, out);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static void
read_id(struct arena *a, struct db_stmt *st, void *p)
{
	(void) a;
	*(int64_t *) p = db_col_int64(st, 0);
}

static mh_err
op_newsroom_due(struct store *s, struct arena *a, int64_t now, size_t max, int64_t **ids, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_DUE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, (int64_t) max);
	return collect_rows(s, a, st, sizeof **ids, read_id, (void **) ids, n);
}

static mh_err
op_newsroom_claim(struct store *s, int64_t id, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_CLAIM);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) == 0)
		err = MH_ERR_CONFLICT;
	return err;
}

static mh_err
op_article_delete(struct store *s, const char *slug)
{
	struct db_stmt *st = stmt(s, ST_ARTICLE_DELETE);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, slug);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) == 0)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_newsroom_preview_add(struct store *s, const char *token_hash, int64_t id, int64_t expires_at, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_PREVIEW_ADD);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, id);
	db_bind_int64(st, 3, expires_at);
	db_bind_int64(st, 4, now);
	return exec_stmt(s, st);
}

static mh_err
op_newsroom_preview_get(struct store *s, const char *token_hash, int64_t now, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_NEWSROOM_PREVIEW_GET);
	if (!st)
		return MH_ERR_DB;
	bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int64(st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

/* ---- The newsroom's members and dashboard -------------------------------------------------------- */

static mh_err
op_member_search(struct store *s, struct arena *a, const char *q, size_t offset, size_t limit, struct member **out,
                 size_t *n)
{
	struct db_stmt *st = stmt(s, ST_MEMBER_SEARCH);
	if (!st)
		return MH_ERR_DB;
	/* "%q%", lower case, with LIKE's own characters taken literally. */
	size_t len = q ? strlen(q) : 0;
	char *pat = arena_alloc(a, 2 * len + 3), *p = pat;
	*p++ = '%';
	for (size_t i = 0; i < len; i++) {
		char c = q[i];
		if (c == '%' || c == '_' || c == '\\')
			*p++ = '\\';
		*p++ = c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
	}
	*p++ = '%';
	*p = '\0';
	bind_text(st, 1, pat);
	db_bind_int64(st, 2, (int64_t) limit);
	db_bind_int64(st, 3, (int64_t) offset);
	return collect_rows(s, a, st, sizeof **out, read_member, (void **) out, n);
}

static mh_err
op_member_delete(struct store *s, int64_t member_id)
{
	static const enum stmt_id steps[] = { ST_MEMBER_DEL_RECIPIENTS, ST_MEMBER_DEL_OUTBOX, ST_MEMBER_DELETE };
	mh_err err = op_begin(s);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof steps / sizeof *steps && !err; i++) {
		struct db_stmt *st = stmt(s, steps[i]);
		if (!st) {
			err = MH_ERR_DB;
			break;
		}
		db_bind_int64(st, 1, member_id);
		err = exec_stmt(s, st);
		if (!err && steps[i] == ST_MEMBER_DELETE && db_changes(st) == 0)
			err = MH_ERR_NOTFOUND;
	}
	if (!err)
		err = op_commit(s);
	if (err)
		op_rollback(s);
	return err;
}

static mh_err
op_member_import(struct store *s, const struct member *m, size_t n, size_t *bad)
{
	mh_err err = op_begin(s);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		if ((err = op_member_create(s, &m[i], NULL)) && bad)
			*bad = i;
	}
	if (!err)
		err = op_commit(s);
	if (err)
		op_rollback(s);
	return err;
}

static mh_err
op_paying_at(struct store *s, struct arena *a, int64_t at, struct paying_at *out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_PAYING_AT);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, at);
	int rc;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW && *n < SITE_STATS_MAX) {
		out[*n].currency = col_str(a, st, 0);
		out[*n].subscribers = db_col_int64(st, 1);
		out[*n].mrr = db_col_int64(st, 2);
		(*n)++;
	}
	db_reset(st);
	return rc == DB_ERROR ? db_fail(s, st, "dashboard") : MH_OK;
}

/* One count, of a statement that takes (from, to) or nothing. */
static mh_err
count_between(struct store *s, enum stmt_id id, bool bounded, int64_t from, int64_t to, int64_t *out)
{
	struct db_stmt *st = stmt(s, id);
	if (!st)
		return MH_ERR_DB;
	if (bounded) {
		db_bind_int64(st, 1, from);
		db_bind_int64(st, 2, to);
	}
	int rc = db_step(st);
	if (rc == DB_ROW)
		*out = db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "dashboard");
}

static mh_err
op_dash_counts(struct store *s, struct arena *a, int64_t from, int64_t to, struct dash_counts *out)
{
	memset(out, 0, sizeof *out);
	mh_err err = count_between(s, ST_DASH_MEMBERS, false, 0, 0, &out->members);
	if (!err)
		err = count_between(s, ST_DASH_TRIALS, false, 0, 0, &out->trials);
	if (!err)
		err = count_between(s, ST_DASH_STARTED, true, from, to, &out->started);
	if (!err)
		err = count_between(s, ST_DASH_CHURNED, true, from, to, &out->churned);
	if (err)
		return err;
	struct db_stmt *st = stmt(s, ST_DASH_RECOVERED);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, from);
	db_bind_int64(st, 2, to);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && out->n_recovered < SITE_STATS_MAX) {
		out->recovered[out->n_recovered].key = col_str(a, st, 0);
		out->recovered[out->n_recovered].value = (double) db_col_int64(st, 1);
		out->n_recovered++;
	}
	db_reset(st);
	return rc == DB_ERROR ? db_fail(s, st, "dashboard") : MH_OK;
}

static void
read_failing(struct arena *a, struct db_stmt *st, void *p)
{
	struct failing_invoice *f = p;
	f->invoice_id = db_col_int64(st, 0);
	f->member_id = db_col_int64(st, 1);
	f->email = col_str(a, st, 2);
	f->name = col_str(a, st, 3);
	f->status = col_str(a, st, 4);
	f->amount = db_col_int64(st, 5);
	f->currency = col_str(a, st, 6);
	f->attempts = db_col_int(st, 7);
	f->next_attempt_at = db_col_int64(st, 8);
	f->created_at = db_col_int64(st, 9);
}

static mh_err
op_invoices_failing(struct store *s, struct arena *a, size_t limit, struct failing_invoice **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_INVOICES_FAILING);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, (int64_t) limit);
	return collect_rows(s, a, st, sizeof **out, read_failing, (void **) out, n);
}

static mh_err
op_settings_version(struct store *s, int64_t *version)
{
	struct db_stmt *st = stmt(s, ST_SETTINGS_VERSION);
	if (!st)
		return MH_ERR_DB;
	int rc = db_step(st);
	if (rc == DB_ROW)
		*version = db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? MH_OK : db_fail(s, st, "read");
}

static void
read_setting(struct arena *a, struct db_stmt *st, void *p)
{
	struct setting *e = p;
	e->name = col_str(a, st, 0);
	e->value = col_str(a, st, 1);
	e->secret = db_col_int64(st, 2) != 0;
}

/* The version is read first: a save between the two reads makes the rows
 * newer than the version, never older, so the next look reads them again. */
static mh_err
op_settings_get(struct store *s, struct arena *a, struct setting **out, size_t *n, int64_t *version)
{
	mh_err err = op_settings_version(s, version);
	if (err)
		return err;
	struct db_stmt *st = stmt(s, ST_SETTING_LIST);
	if (!st)
		return MH_ERR_DB;
	return collect_rows(s, a, st, sizeof **out, read_setting, (void **) out, n);
}

static mh_err
op_settings_save(struct store *s, const struct setting *put, size_t nput, const char *const *del, size_t ndel,
                 const struct plan *plans, size_t nplans, int64_t now)
{
	mh_err err = op_begin(s);
	if (err)
		return err;
	for (size_t i = 0; !err && i < nput; i++) {
		struct db_stmt *st = stmt(s, ST_SETTING_PUT);
		if (!st) {
			err = MH_ERR_DB;
			break;
		}
		bind_text(st, 1, put[i].name);
		bind_text(st, 2, put[i].value);
		db_bind_int64(st, 3, put[i].secret ? 1 : 0);
		db_bind_int64(st, 4, now);
		err = exec_stmt(s, st);
	}
	for (size_t i = 0; !err && i < ndel; i++) {
		struct db_stmt *st = stmt(s, ST_SETTING_DELETE);
		if (!st) {
			err = MH_ERR_DB;
			break;
		}
		bind_text(st, 1, del[i]);
		err = exec_stmt(s, st);
	}
	for (size_t i = 0; !err && i < nplans; i++)
		err = op_plan_upsert(s, &plans[i], NULL);
	if (!err) {
		struct db_stmt *st = stmt(s, ST_SETTINGS_BUMP);
		err = st ? exec_stmt(s, st) : MH_ERR_DB;
	}
	if (err) {
		op_rollback(s);
		return err;
	}
	return op_commit(s);
}

static mh_err
op_device_code_add(struct store *s, int64_t member_id, const char *code_hash, int64_t now, int64_t expires_at,
                   int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_DEVICE_CODE_PRUNE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, now);
	mh_err err = exec_stmt(s, st);
	if (err)
		return err;
	if (!(st = stmt(s, ST_DEVICE_CODE_ADD)))
		return MH_ERR_DB;
	db_bind_int64(st, 1, member_id);
	bind_text(st, 2, code_hash);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, expires_at);
	err = exec_stmt(s, st);
	if (!err && id)
		*id = db_last_id(st);
	return err;
}

static mh_err
op_device_code_get(struct store *s, struct arena *a, int64_t id, struct device_code *out)
{
	struct db_stmt *st = stmt(s, ST_DEVICE_CODE_GET);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->id = db_col_int64(st, 0);
		out->member_id = db_col_int64(st, 1);
		out->code_hash = col_str(a, st, 2);
		out->expires_at = db_col_int64(st, 3);
		out->attempts = (int) db_col_int64(st, 4);
		out->used = db_col_int64(st, 5) != 0;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return MH_OK;
	return rc == DB_DONE ? MH_ERR_NOTFOUND : db_fail(s, st, "read");
}

static mh_err
op_device_code_try(struct store *s, int64_t id, int max_attempts, int64_t now)
{
	struct db_stmt *st = stmt(s, ST_DEVICE_CODE_TRY);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, max_attempts);
	db_bind_int64(st, 3, now);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

static mh_err
op_device_code_use(struct store *s, int64_t id)
{
	struct db_stmt *st = stmt(s, ST_DEVICE_CODE_USE);
	if (!st)
		return MH_ERR_DB;
	db_bind_int64(st, 1, id);
	mh_err err = exec_stmt(s, st);
	if (!err && db_changes(st) != 1)
		err = MH_ERR_NOTFOUND;
	return err;
}

void
sql_ops_fill(struct store_ops *o)
{
	o->member_search = op_member_search;
	o->member_delete = op_member_delete;
	o->member_import = op_member_import;
	o->paying_at = op_paying_at;
	o->dash_counts = op_dash_counts;
	o->invoices_failing = op_invoices_failing;
	o->redirect_put = op_redirect_put;
	o->redirect_get = op_redirect_get;
	o->redirect_list = op_redirect_list;
	o->audit_add = op_audit_add;
	o->audit_list = op_audit_list;
	o->directory = op_directory;
	o->author_put = op_author_put;
	o->author_get = op_author_get;
	o->reads_add = op_reads_add;
	o->most_read = op_most_read;
	o->media_add = op_media_add;
	o->media_list = op_media_list;
	o->consent_put = op_consent_put;
	o->consent_get = op_consent_get;
	o->member_set_comped = op_member_set_comped;
	o->migrations_pending = op_migrations_pending;
	o->site_secret = op_site_secret;
	o->ping = op_ping;
	o->bulk_memory = op_bulk_memory;
	o->versions = op_versions;
	o->begin = op_begin;
	o->commit = op_commit;
	o->rollback = op_rollback;
	o->article_upsert = op_article_upsert;
	o->article_by_slug = op_article_by_slug;
	o->article_gated = op_article_gated;
	o->article_list = op_article_list;
	o->article_sources = op_article_sources;
	o->named_by_slug = op_named_by_slug;
	o->speaker_by_slug = op_speaker_by_slug;
	o->speaker_quotes = op_speaker_quotes;
	o->quote_gated = op_quote_gated;
	o->member_create = op_member_create;
	o->member_by_email = op_member_by_email;
	o->member_list = op_member_list;
	o->member_set_role = op_member_set_role;
	o->member_set_password = op_member_set_password;
	o->member_by_id = op_member_by_id;
	o->member_update = op_member_update;
	o->session_create = op_session_create;
	o->session_get = op_session_get;
	o->session_touch = op_session_touch;
	o->session_delete = op_session_delete;
	o->session_delete_member = op_session_delete_member;
	o->session_list = op_session_list;
	o->token_create = op_token_create;
	o->token_get = op_token_get;
	o->token_use = op_token_use;
	o->token_spend_member = op_token_spend_member;
	o->rate_count = op_rate_count;
	o->rate_hit = op_rate_hit;
	o->housekeep = op_housekeep;
	o->outbox_push = op_outbox_push;
	o->outbox_claim = op_outbox_claim;
	o->outbox_sent = op_outbox_sent;
	o->outbox_retry = op_outbox_retry;
	o->outbox_list = op_outbox_list;
	o->site_stats = op_site_stats;
	o->plan_upsert = op_plan_upsert;
	o->plan_list = op_plan_list;
	o->plan_get = op_plan_get;
	o->subscription_by_member = op_subscription_by_member;
	o->subscription_save = op_subscription_save;
	o->subscription_get = op_subscription_get;
	o->payment_method_add = op_payment_method_add;
	o->payment_method_default = op_payment_method_default;
	o->gift_create = op_gift_create;
	o->gift_get = op_gift_get;
	o->gift_use = op_gift_use;
	o->gift_list = op_gift_list;
	o->gift_revoke = op_gift_revoke;
	o->meter_get = op_meter_get;
	o->meter_add = op_meter_add;
	o->invoice_create = op_invoice_create;
	o->invoice_save = op_invoice_save;
	o->invoice_get = op_invoice_get;
	o->invoice_open = op_invoice_open;
	o->invoice_list = op_invoice_list;
	o->invoices_due = op_invoices_due;
	o->invoice_claim = op_invoice_claim;
	o->invoice_release = op_invoice_release;
	o->charge_begin = op_charge_begin;
	o->charge_finish = op_charge_finish;
	o->charges_pending = op_charges_pending;
	o->invoice_failure = op_invoice_failure;
	o->subscriptions_due = op_subscriptions_due;
	o->subscription_by_provider = op_subscription_by_provider;
	o->cards_expiring = op_cards_expiring;
	o->card_reminded = op_card_reminded;
	o->checkout_create = op_checkout_create;
	o->checkout_get = op_checkout_get;
	o->checkout_complete = op_checkout_complete;
	o->test_ledger_charge = op_test_ledger_charge;
	o->test_ledger_count = op_test_ledger_count;
	o->billing_event_record = op_billing_event_record;
	o->member_changes = op_member_changes;
	o->search = op_search;
	o->search_excerpt = op_search_excerpt;
	o->search_gated_snippet = op_search_gated_snippet;
	o->search_compact = op_search_compact;
	o->feed_token_save = op_feed_token_save;
	o->feed_token_delete = op_feed_token_delete;
	o->feed_token_by_member = op_feed_token_by_member;
	o->feed_token_find = op_feed_token_find;
	o->sitemap_list = op_sitemap_list;
	o->api_key_create = op_api_key_create;
	o->api_key_by_hash = op_api_key_by_hash;
	o->api_key_list = op_api_key_list;
	o->api_key_revoke = op_api_key_revoke;
	o->speaker_list = op_speaker_list;
	o->article_count = op_article_count;
	o->newsroom_adopt = op_newsroom_adopt;
	o->newsroom_list = op_newsroom_list;
	o->newsroom_get = op_newsroom_get;
	o->newsroom_put = op_newsroom_put;
	o->newsroom_revision_add = op_newsroom_revision_add;
	o->newsroom_revisions = op_newsroom_revisions;
	o->newsroom_revision_get = op_newsroom_revision_get;
	o->newsroom_due = op_newsroom_due;
	o->newsroom_claim = op_newsroom_claim;
	o->article_delete = op_article_delete;
	o->newsroom_preview_add = op_newsroom_preview_add;
	o->newsroom_preview_get = op_newsroom_preview_get;
	o->settings_get = op_settings_get;
	o->settings_version = op_settings_version;
	o->settings_save = op_settings_save;
	o->device_code_add = op_device_code_add;
	o->device_code_get = op_device_code_get;
	o->device_code_try = op_device_code_try;
	o->device_code_use = op_device_code_use;
}
