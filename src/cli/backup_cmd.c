/* backup_cmd.c: masthead backup FILE and masthead restore [--force] FILE.
 *
 * A backup is one gzip-compressed tar (pax) archive, written by libarchive:
 *
 *   MANIFEST      "masthead-backup 1", the engine it came from, the time
 *   masthead.db   the whole database as of one commit (store_snapshot)
 *   site.ini      DATA's recorded address and name, when there is one
 *   secret.key    DATA's signing key, when the site has one there
 *   media/...     DATA/media, when it exists
 *
 * The backup is written beside FILE and renamed onto it when whole, so FILE
 * is always a complete backup or the one that was there before.
 *
 * Restore reads the whole archive into a new folder beside DATA, accepts
 * only the names above (no links, no "..", no absolute paths), checks the
 * database (PRAGMA integrity_check), and only then puts it in place: on
 * SQLite by renaming the folder onto DATA, on PostgreSQL by store_copy into
 * the (empty) database. A failure at any point leaves DATA as it was. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/text.h"
#include "store/store.h"
#include "core/banned.h"

#define MANIFEST_MAGIC "masthead-backup 1\n"
#define MAX_ENTRY      (INT64_C(64) << 30) /* 64 GiB: a bound, not a budget */

static const char *const extras[] = { "site.ini", "secret.key", NULL };

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

/* Removes a folder and everything in it (links are removed, not followed). */
static void
remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
sqlite_path(const struct config *cfg)
{
	return strncmp(cfg->db, "sqlite:", 7) ? NULL : cfg->db + 7;
}

/* ---- backup ------------------------------------------------------------------------------------ */

static struct archive *walk_ar;
static size_t walk_skip;
static int walk_failed;

static int
add_file(struct archive *ar, const char *disk, const char *name, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, S_ISDIR(st->st_mode) ? (AE_IFDIR | 0750) : (AE_IFREG | 0640));
	archive_entry_set_size(e, S_ISDIR(st->st_mode) ? 0 : st->st_size);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	int rc = -1;
	if (archive_write_header(ar, e) != ARCHIVE_OK) {
		fprintf(stderr, "masthead backup: %s: %s\n", name, archive_error_string(ar));
		goto out;
	}
	if (S_ISREG(st->st_mode)) {
		int fd = open(disk, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "masthead backup: cannot read %s: %s\n", disk, strerror(errno));
			goto out;
		}
		char chunk[65536];
		ssize_t n;
		int64_t left = st->st_size;
		while (left > 0 && (n = read(fd, chunk, sizeof chunk)) > 0) {
			if (n > left)
				n = (ssize_t) left; /* grew while read: the size in the header wins */
			if (archive_write_data(ar, chunk, (size_t) n) != n) {
				fprintf(stderr, "masthead backup: %s: %s\n", name, archive_error_string(ar));
				close(fd);
				goto out;
			}
			left -= n;
		}
		close(fd);
		if (left > 0) {
			fprintf(stderr, "masthead backup: %s shrank while it was read\n", disk);
			goto out;
		}
	}
	rc = 0;
out:
	archive_entry_free(e);
	return rc;
}

static int
add_media(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) ftw;
	if (flag != FTW_F && flag != FTW_D)
		return 0; /* links and what cannot be read are not media */
	if (add_file(walk_ar, path, path + walk_skip, st)) {
		walk_failed = 1;
		return 1;
	}
	return 0;
}

static int
write_archive(const struct config *cfg, const char *db_file, const char *engine, const char *out)
{
	struct archive *ar = archive_write_new();
	struct buf manifest = BUF_INIT, p = BUF_INIT;
	int code = EXIT_FAIL;
	archive_write_set_format_pax_restricted(ar);
	archive_write_add_filter_gzip(ar);
	if (archive_write_open_filename(ar, out) != ARCHIVE_OK) {
		fprintf(stderr, "masthead backup: cannot write %s: %s\n", out, archive_error_string(ar));
		goto out;
	}
	char when[32];
	time_format_iso8601(clock_now(), when, sizeof when);
	buf_printf(&manifest, MANIFEST_MAGIC "engine %s\ncreated %s\n", engine, when);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "MANIFEST");
	archive_entry_set_mode(e, AE_IFREG | 0640);
	archive_entry_set_size(e, (int64_t) manifest.len);
	archive_entry_set_mtime(e, clock_now(), 0);
	bool ok = archive_write_header(ar, e) == ARCHIVE_OK &&
	          archive_write_data(ar, manifest.ptr, manifest.len) == (ssize_t) manifest.len;
	archive_entry_free(e);
	if (!ok) {
		fprintf(stderr, "masthead backup: %s: %s\n", out, archive_error_string(ar));
		goto out;
	}
	struct stat st;
	if (stat(db_file, &st) != 0 || add_file(ar, db_file, "masthead.db", &st))
		goto out;
	for (const char *const *x = extras; *x; x++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", cfg->data, *x);
		if (stat(p.ptr, &st) == 0 && S_ISREG(st.st_mode) && add_file(ar, p.ptr, *x, &st))
			goto out;
	}
	buf_reset(&p);
	buf_printf(&p, "%s/media", cfg->data);
	if (stat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode)) {
		walk_ar = ar;
		walk_skip = strlen(cfg->data) + 1;
		walk_failed = 0;
		if (nftw(p.ptr, add_media, 16, FTW_PHYS) != 0 || walk_failed)
			goto out;
	}
	if (archive_write_close(ar) != ARCHIVE_OK) {
		fprintf(stderr, "masthead backup: cannot finish %s: %s\n", out, archive_error_string(ar));
		goto out;
	}
	code = EXIT_OK;
out:
	archive_write_free(ar);
	buf_release(&manifest);
	buf_release(&p);
	return code;
}

int
cmd_backup(struct config *cfg, int argc, char **argv)
{
	if (argc != 1 || !argv[0][0]) {
		fprintf(stderr, "masthead backup: give one FILE to write (usage: masthead backup FILE)\n");
		return EXIT_USAGE;
	}
	const char *file = argv[0];
	const char *sq = sqlite_path(cfg);
	if (sq && access(sq, F_OK) != 0) {
		fprintf(stderr, "masthead backup: there is no site at %s (no %s)\n", cfg->data, sq);
		return EXIT_FAIL;
	}
	/* Opened as it is: a backup never migrates the site it copies. */
	int code = EXIT_OK;
	char err[512];
	struct store *s;
	mh_err rc = store_open(cfg->db, &s, err, sizeof err);
	if (rc) {
		fprintf(stderr, "masthead backup: %s\n", err);
		return rc == MH_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
	}
	struct buf db = BUF_INIT, tmp = BUF_INIT;
	buf_printf(&db, "%s.db-%ld", file, (long) getpid());
	buf_printf(&tmp, "%s.tmp-%ld", file, (long) getpid());
	int64_t rows;
	if (store_snapshot(s, db.ptr, &rows, err, sizeof err)) {
		fprintf(stderr, "masthead backup: %s\n", err);
		code = EXIT_FAIL;
		goto out;
	}
	code = write_archive(cfg, db.ptr, store_engine(s), tmp.ptr);
	if (code == EXIT_OK && rename(tmp.ptr, file) != 0) {
		fprintf(stderr, "masthead backup: cannot write %s: %s\n", file, strerror(errno));
		code = EXIT_FAIL;
	}
	if (code == EXIT_OK) {
		struct stat st;
		stat(file, &st);
		printf("backup: %s site written to %s (%lld bytes)\n", store_engine(s), file, (long long) st.st_size);
	}
out:
	unlink(db.ptr);
	unlink(tmp.ptr);
	store_close(s);
	buf_release(&db);
	buf_release(&tmp);
	return code;
}

/* ---- restore ----------------------------------------------------------------------------------- */

/* The names a backup may hold: MANIFEST, masthead.db, the extras, and
 * media/ with plain relative names below it. */
static bool
name_allowed(const char *name)
{
	if (!strcmp(name, "MANIFEST") || !strcmp(name, "masthead.db"))
		return true;
	for (const char *const *x = extras; *x; x++)
		if (!strcmp(name, *x))
			return true;
	if (strncmp(name, "media", 5) != 0 || (name[5] != '\0' && name[5] != '/'))
		return false;
	for (const char *c = name; *c;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t) (slash - c) : strlen(c);
		if (n == 0 && slash && slash[1] == '\0')
			break; /* a folder's trailing slash */
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n + (slash ? 1 : 0);
	}
	return true;
}

static bool
dir_has_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *e;
	bool any = false;
	while (!any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return any;
}

/* Reads the archive at file into the folder dir (which exists and is
 * empty); on failure says why on stderr. */
static int
extract(const char *file, const char *dir)
{
	struct archive *ar = archive_read_new();
	struct buf path = BUF_INIT;
	int code = EXIT_DATA;
	bool manifest = false, db = false;
	archive_read_support_filter_gzip(ar);
	archive_read_support_format_tar(ar);
	if (archive_read_open_filename(ar, file, 65536) != ARCHIVE_OK) {
		fprintf(stderr, "masthead restore: %s: %s\n", file, archive_error_string(ar));
		code = access(file, R_OK) == 0 ? EXIT_DATA : EXIT_FAIL;
		goto out;
	}
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		if (!name || !name_allowed(name) || (type != AE_IFREG && type != AE_IFDIR) ||
		    (type == AE_IFDIR && strncmp(name, "media", 5) != 0)) {
			fprintf(stderr, "masthead restore: %s is not a masthead backup: unexpected entry '%s'\n", file,
			        name ? name : "");
			goto out;
		}
		if (archive_entry_size(e) > MAX_ENTRY) {
			fprintf(stderr, "masthead restore: %s: entry '%s' is too big\n", file, name);
			goto out;
		}
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, name);
		if (type == AE_IFDIR) {
			if (mkdir(path.ptr, 0750) != 0 && errno != EEXIST) {
				fprintf(stderr, "masthead restore: cannot create %s: %s\n", path.ptr, strerror(errno));
				code = EXIT_FAIL;
				goto out;
			}
			continue;
		}
		/* A file inside media/ may come before its folder. */
		for (char *c = path.ptr + strlen(dir) + 1; (c = strchr(c, '/')); c++) {
			*c = '\0';
			mkdir(path.ptr, 0750);
			*c = '/';
		}
		int fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0) {
			fprintf(stderr, "masthead restore: cannot write %s: %s\n", path.ptr, strerror(errno));
			code = errno == EEXIST ? EXIT_DATA : EXIT_FAIL;
			goto out;
		}
		char chunk[65536];
		la_ssize_t n;
		struct buf head = BUF_INIT;
		while ((n = archive_read_data(ar, chunk, sizeof chunk)) > 0) {
			if (!strcmp(name, "MANIFEST") && head.len < 64)
				buf_add(&head, chunk, (size_t) n);
			if (write(fd, chunk, (size_t) n) != n) {
				fprintf(stderr, "masthead restore: cannot write %s: %s\n", path.ptr, strerror(errno));
				close(fd);
				buf_release(&head);
				code = EXIT_FAIL;
				goto out;
			}
		}
		if (close(fd) != 0 || n < 0) {
			fprintf(stderr, "masthead restore: %s: %s\n", file,
			        n < 0 ? archive_error_string(ar) : strerror(errno));
			buf_release(&head);
			goto out;
		}
		if (!strcmp(name, "MANIFEST")) {
			manifest = head.len >= strlen(MANIFEST_MAGIC) &&
			           !memcmp(head.ptr, MANIFEST_MAGIC, strlen(MANIFEST_MAGIC));
			if (!manifest) {
				fprintf(stderr,
				        "masthead restore: %s: not a masthead backup of a version this "
				        "binary reads (MANIFEST)\n",
				        file);
				buf_release(&head);
				goto out;
			}
		}
		db |= !strcmp(name, "masthead.db");
		buf_release(&head);
	}
	if (r != ARCHIVE_EOF) {
		fprintf(stderr, "masthead restore: %s is damaged or not a backup: %s\n", file,
		        archive_error_string(ar));
		goto out;
	}
	if (!manifest || !db) {
		fprintf(stderr, "masthead restore: %s is not a masthead backup (no %s)\n", file,
		        manifest ? "masthead.db" : "MANIFEST");
		goto out;
	}
	code = EXIT_OK;
out:
	archive_read_free(ar);
	buf_release(&path);
	return code;
}

/* Moves what besides the database the backup held into DATA (PostgreSQL:
 * the database went elsewhere). */
static int
place_extras(const struct config *cfg, const char *dir)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	int code = EXIT_OK;
	static const char *const names[] = { "site.ini", "secret.key", "media", NULL };
	mkdir(cfg->data, 0750);
	for (const char *const *x = names; *x && code == EXIT_OK; x++) {
		buf_reset(&from);
		buf_reset(&to);
		buf_printf(&from, "%s/%s", dir, *x);
		buf_printf(&to, "%s/%s", cfg->data, *x);
		if (access(from.ptr, F_OK) != 0)
			continue;
		if (!strcmp(*x, "media"))
			remove_tree(to.ptr);
		if (rename(from.ptr, to.ptr) != 0) {
			fprintf(stderr, "masthead restore: cannot move %s to %s: %s\n", from.ptr, to.ptr,
			        strerror(errno));
			code = EXIT_FAIL;
		}
	}
	buf_release(&from);
	buf_release(&to);
	return code;
}

int
cmd_restore(struct config *cfg, int argc, char **argv)
{
	const char *file = NULL;
	bool force = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!file && argv[i][0])
			file = argv[i];
		else {
			fprintf(stderr,
			        "masthead restore: unexpected argument %s (usage: masthead restore [--force] FILE)\n",
			        argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!file) {
		fprintf(stderr, "masthead restore: give the backup FILE (usage: masthead restore [--force] FILE)\n");
		return EXIT_USAGE;
	}
	if (access(file, R_OK) != 0) {
		fprintf(stderr, "masthead restore: cannot read %s: %s\n", file, strerror(errno));
		return EXIT_FAIL;
	}
	const char *sq = sqlite_path(cfg);
	struct buf want = BUF_INIT, dir = BUF_INIT, old = BUF_INIT, p = BUF_INIT;
	int code = EXIT_FAIL;
	buf_printf(&want, "%s/masthead.db", cfg->data);
	if (sq && strcmp(sq, want.ptr) != 0) {
		fprintf(stderr,
		        "masthead restore: a SQLite site is restored as DATA/masthead.db; give --data, not --db %s\n",
		        cfg->db);
		code = EXIT_USAGE;
		goto out;
	}
	if (dir_has_entries(cfg->data) && !force) {
		fprintf(stderr, "masthead restore: %s is not empty: stop its server and add --force to replace it\n",
		        cfg->data);
		code = EXIT_DATA;
		goto out;
	}
	buf_printf(&dir, "%s.restore-%ld", cfg->data, (long) getpid());
	buf_printf(&old, "%s.replaced-%ld", cfg->data, (long) getpid());
	remove_tree(dir.ptr);
	if (mkdir(dir.ptr, 0750) != 0) {
		fprintf(stderr, "masthead restore: cannot create %s: %s\n", dir.ptr, strerror(errno));
		goto out;
	}
	if ((code = extract(file, dir.ptr)) != EXIT_OK)
		goto out;
	char err[512];
	buf_printf(&p, "%s/masthead.db", dir.ptr);
	if (store_sqlite_check(p.ptr, err, sizeof err)) {
		fprintf(stderr, "masthead restore: %s: %s\n", file, err);
		code = EXIT_DATA;
		goto out;
	}
	buf_reset(&p);
	buf_printf(&p, "%s/MANIFEST", dir.ptr);
	unlink(p.ptr); /* what the archive was, not part of the site */
	buf_reset(&p);
	buf_printf(&p, "%s/masthead.db", dir.ptr);
	if (sq) {
		bool had = access(cfg->data, F_OK) == 0;
		if (had && rename(cfg->data, old.ptr) != 0) {
			fprintf(stderr, "masthead restore: cannot move %s aside: %s\n", cfg->data, strerror(errno));
			code = EXIT_FAIL;
			goto out;
		}
		if (rename(dir.ptr, cfg->data) != 0) {
			fprintf(stderr, "masthead restore: cannot put the site in %s: %s\n", cfg->data,
			        strerror(errno));
			if (had)
				rename(old.ptr, cfg->data);
			code = EXIT_FAIL;
			goto out;
		}
		remove_tree(old.ptr);
	} else {
		/* PostgreSQL: the rows go into the configured database, which must
		 * be empty; store_copy checks every table before it commits. */
		struct buf url = BUF_INIT;
		buf_printf(&url, "sqlite:%s", p.ptr);
		struct store *from = NULL, *to = NULL;
		if (store_open(url.ptr, &from, err, sizeof err) || store_migrate(from, &(int){ 0 })) {
			fprintf(stderr, "masthead restore: %s: %s\n", file, from ? store_errmsg(from) : err);
			code = EXIT_DATA;
		} else if ((to = cli_open_store(cfg, &code)) != NULL) {
			int64_t rows;
			mh_err rc = store_copy(from, to, &rows);
			if (rc == MH_ERR_CONFLICT)
				fprintf(stderr,
				        "masthead restore: %s: %s (drop and create the database to replace it)\n",
				        store_url(to), store_errmsg(to));
			else if (rc)
				fprintf(stderr, "masthead restore: %s\n", store_errmsg(to));
			code = rc == MH_ERR_CONFLICT ? EXIT_DATA : rc ? EXIT_FAIL : place_extras(cfg, dir.ptr);
		}
		if (to)
			store_close(to);
		if (from)
			store_close(from);
		buf_release(&url);
		if (code != EXIT_OK)
			goto out;
	}
	printf("restore: %s restored into %s\n", file, sq ? cfg->data : cfg->db);
	code = EXIT_OK;
out:
	if (dir.len)
		remove_tree(dir.ptr);
	buf_release(&want);
	buf_release(&dir);
	buf_release(&old);
	buf_release(&p);
	return code;
}
