/* snapshot.c: a consistent copy of a whole site's database in one SQLite
 * file, while other processes read and write it (masthead backup).
 *
 * On SQLite it is SQLite's online backup API in a single step: the step
 * holds one read transaction for the whole copy, so the file is the
 * database as of one commit (in WAL mode writers go on meanwhile). On
 * PostgreSQL it is store_copy into a fresh SQLite file, the path that
 * `masthead copy` takes and checks table by table. Either way a backup is
 * one format, restored into either engine. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "core/banned.h"

static mh_err
sqlite_backup(const char *from, const char *to, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	mh_err rc = MH_ERR_DB;
	if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", from, src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create %s: %s", to, dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, errlen, "cannot start the backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	/* -1: every page in one step, under one read transaction of src. A
	 * writer holding the lock at that moment makes it BUSY: try again. */
	int step;
	for (int tries = 0; (step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || step == SQLITE_LOCKED; tries++) {
		if (tries >= 100)
			break;
		sqlite3_sleep(100);
	}
	int fin = sqlite3_backup_finish(b);
	if (step != SQLITE_DONE || fin != SQLITE_OK) {
		snprintf(err, errlen, "backup of %s failed: %s", from,
		         sqlite3_errstr(step != SQLITE_DONE ? step : fin));
		goto out;
	}
	/* The copy is a plain rollback-journal file, whole in itself. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot finish %s: %s", to, sqlite3_errmsg(dst));
		goto out;
	}
	rc = MH_OK;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	return rc;
}

mh_err
store_snapshot(struct store *s, const char *path, int64_t *rows, char *err, size_t errlen)
{
	*rows = -1;
	unlink(path);
	if (!strcmp(store_engine(s), "sqlite"))
		return sqlite_backup(store_url(s) + strlen("sqlite:"), path, err, errlen);

	char url[4200];
	snprintf(url, sizeof url, "sqlite:%s", path);
	struct store *to;
	mh_err rc = store_open(url, &to, err, errlen);
	if (rc)
		return rc;
	int applied;
	if ((rc = store_migrate(to, &applied))) {
		snprintf(err, errlen, "cannot migrate %s: %s", path, store_errmsg(to));
		store_close(to);
		return rc;
	}
	if ((rc = store_copy(s, to, rows)))
		snprintf(err, errlen, "%s", store_errmsg(to));
	store_close(to);
	return rc;
}

mh_err
store_sqlite_check(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	mh_err rc = MH_ERR_INVALID;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the database: %s", db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "not a SQLite database: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "integrity check failed: %s", sqlite3_errmsg(db));
		goto out;
	}
	const char *got = (const char *) sqlite3_column_text(st, 0);
	if (!got || strcmp(got, "ok") != 0) {
		snprintf(err, errlen, "the database is damaged: %s", got ? got : "?");
		goto out;
	}
	rc = MH_OK;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
