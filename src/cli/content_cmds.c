/* content_cmds.c: masthead import, export and user. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/clock.h"
#include "auth/email.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "content/import.h"
#include "core/buf.h"
#include "store/store.h"
#include "core/banned.h"

int
cmd_import(struct config *cfg, int argc, char **argv)
{
	if (argc == 0) {
		fprintf(stderr, "masthead import: name at least one Markdown file or folder\n");
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct import_opts o = {
		{ (int) cfg->teaser_paragraphs, (size_t) cfg->max_import_bytes, clock_now() },
		isatty(STDERR_FILENO) ? stderr : NULL,
		stderr,
	};
	struct import_summary sum = { 0, 0, 0, 0 };
	/* The import is one transaction: with room for its pages, SQLite writes
	 * each once instead of again at every spill (docs/performance.md#import). */
	mh_err rc = store_bulk_memory(s, (unsigned) cfg->import_cache_mib);
	if (rc) {
		fprintf(stderr, "import: database error: %s\n", store_errmsg(s));
		sum.rejected = 1;
	} else
		rc = import_paths(s, argv, (size_t) argc, &o, &sum);
	if (rc == MH_ERR_NOTFOUND)
		; /* an empty folder: its one line says it all */
	else if (rc)
		fprintf(stderr, "import: %zu rejected; nothing was written\n", sum.rejected);
	else if (sum.authors)
		printf("import: %zu created, %zu updated, 0 rejected; %zu author profiles\n", sum.created, sum.updated,
		       sum.authors);
	else
		printf("import: %zu created, %zu updated, 0 rejected\n", sum.created, sum.updated);
	/* A bulk import leaves the search index in many parts (store.h). */
	if (!rc && sum.created + sum.updated >= STORE_SEARCH_COMPACT_AFTER && store_search_compact(s))
		fprintf(stderr, "import: the search index was not compacted (%s); searches stay slower\n",
		        store_errmsg(s));
	store_close(s);
	if (rc == MH_ERR_INVALID || rc == MH_ERR_TOOBIG || rc == MH_ERR_PARSE || rc == MH_ERR_NOTFOUND)
		return EXIT_DATA;
	return rc ? EXIT_FAIL : EXIT_OK;
}

/* Writes data to path through a temporary file and a rename, so a reader
 * never sees half a file. */
static int
write_atomic(const char *path, const char *data, size_t len)
{
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp-%ld", path, (long) getpid());
	FILE *f = fopen(tmp.ptr, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp.ptr, path) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "masthead export: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp.ptr);
	}
	buf_release(&tmp);
	return ok ? 0 : -1;
}

static void
csv_field(struct buf *b, const char *s)
{
	/* Quote every field; a leading = + - @ could run as a spreadsheet formula. */
	buf_putc(b, '"');
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

int
cmd_export(struct config *cfg, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "masthead export: name one folder to write into\n");
		return EXIT_USAGE;
	}
	const char *dir = argv[0];
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/articles", dir);
	if ((mkdir(dir, 0750) != 0 && errno != EEXIST) || (mkdir(path.ptr, 0750) != 0 && errno != EEXIST)) {
		fprintf(stderr, "masthead export: cannot create %s: %s\n", path.ptr, strerror(errno));
		buf_release(&path);
		return EXIT_FAIL;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s) {
		buf_release(&path);
		return code;
	}
	struct arena *a = arena_new();
	struct article_source *src;
	struct member *members;
	size_t n, nm;
	code = EXIT_OK;
	if (store_article_sources(s, a, &src, &n) || store_member_list(s, a, &members, &nm)) {
		fprintf(stderr, "masthead export: %s\n", store_errmsg(s));
		code = EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < n && !code; i++) {
		struct buf md = BUF_INIT;
		article_write_markdown(&md, &src[i]);
		buf_reset(&path);
		buf_printf(&path, "%s/articles/%s.md", dir, src[i].a.slug);
		if (write_atomic(path.ptr, md.ptr, md.len))
			code = EXIT_FAIL;
		buf_release(&md);
	}
	struct buf csv = BUF_INIT;
	buf_puts(&csv, "email,name,role,created_at\n");
	for (size_t i = 0; i < nm; i++) {
		csv_field(&csv, members[i].email);
		buf_putc(&csv, ',');
		csv_field(&csv, members[i].name);
		buf_printf(&csv, ",%s,%lld\n", member_role_name(members[i].role), (long long) members[i].created_at);
	}
	buf_reset(&path);
	buf_printf(&path, "%s/members.csv", dir);
	if (!code && write_atomic(path.ptr, csv.ptr, csv.len))
		code = EXIT_FAIL;
	buf_release(&csv);
	if (!code)
		printf("export: %zu articles and %zu members written to %s\n", n, nm, dir);
out:
	arena_free(a);
	buf_release(&path);
	store_close(s);
	return code;
}

/* Reads one line into out, without its line end. */
static int
read_line(char *out, size_t n)
{
	if (!fgets(out, (int) n, stdin))
		return -1;
	size_t len = strlen(out);
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return 0;
}

/* The terminal as it was before echo went off; a signal that ends the
 * command puts it back, so an interrupted prompt leaves a usable terminal. */
static struct termios saved_tty;
static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void
restore_tty(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

enum { PASSWORD_READ = 0, PASSWORD_NONE = -1, PASSWORD_MISMATCH = -2 };

/* Reads a password from standard input: on a terminal, typed twice with
 * echo off after prompts on standard error; otherwise one line. again is
 * scratch space as large as out. */
static int
read_password(char *out, char *again, size_t n)
{
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) != 0)
		return read_line(out, n) ? PASSWORD_NONE : PASSWORD_READ;
	struct termios quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t) ECHO;
	quiet.c_lflag |= ECHONL; /* the Enter key still moves to the next line */
	for (size_t i = 0; i < sizeof tty_signals / sizeof *tty_signals; i++)
		signal(tty_signals[i], restore_tty);
	/* Echo goes off before the prompt shows, so nothing typed after it is echoed. */
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fputs("password: ", stderr);
	int rc = read_line(out, n) ? PASSWORD_NONE : PASSWORD_READ;
	if (rc == PASSWORD_READ) {
		fputs("password again: ", stderr);
		if (read_line(again, n))
			rc = PASSWORD_NONE;
		else if (strcmp(out, again) != 0)
			rc = PASSWORD_MISMATCH;
	}
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	for (size_t i = 0; i < sizeof tty_signals / sizeof *tty_signals; i++)
		signal(tty_signals[i], SIG_DFL);
	return rc;
}

int
cmd_user(struct config *cfg, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	bool ok_args = (!strcmp(sub, "list") && argc == 1) || (!strcmp(sub, "add") && argc >= 2 && argc <= 4) ||
	               (!strcmp(sub, "role") && argc == 3) || (!strcmp(sub, "passwd") && argc == 2);
	if (!ok_args) {
		fprintf(stderr,
		        "masthead user: expected add EMAIL [NAME] [ROLE], list, role EMAIL ROLE, or passwd EMAIL\n");
		return EXIT_USAGE;
	}
	int role = ROLE_READER;
	if ((!strcmp(sub, "add") && argc == 4) || !strcmp(sub, "role")) {
		role = member_role_parse(argv[argc - 1]);
		if (role < 0) {
			fprintf(stderr, "masthead user: role must be reader, editor or admin, not '%s'\n",
			        argv[argc - 1]);
			return EXIT_USAGE;
		}
	}
	/* The site's own rule (auth/email.h): trimmed and lower-cased, so an
	 * account made here signs in as the site spells the address. */
	char email[EMAIL_MAX + 1] = "";
	if (strcmp(sub, "list") && !email_normalize(argv[1], email, sizeof email)) {
		fprintf(stderr, "masthead user: '%s' is not an e-mail address\n", argv[1]);
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct arena *a = arena_new();
	char password[PASSWORD_MAX + 2], again[PASSWORD_MAX + 2], hash[PASSWORD_HASH_MAX];
	mh_err rc = MH_OK;
	code = EXIT_OK;
	if (!strcmp(sub, "list")) {
		struct member *m;
		size_t n;
		if (!(rc = store_member_list(s, a, &m, &n)))
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\t%s\n", m[i].email, member_role_name(m[i].role), m[i].name);
	} else if (!strcmp(sub, "role")) {
		rc = store_member_set_role(s, email, (enum member_role) role);
	} else {
		int got = read_password(password, again, sizeof password);
		if (got == PASSWORD_MISMATCH) {
			fprintf(stderr, "masthead user: the two passwords typed differ; nothing was changed\n");
			code = EXIT_USAGE;
			goto out;
		}
		if (got != PASSWORD_READ || password_hash(password, hash)) {
			fprintf(stderr,
			        "masthead user: the password must be %d to %d characters, on one line of "
			        "standard input\n",
			        PASSWORD_MIN, PASSWORD_MAX);
			code = EXIT_USAGE;
			goto out;
		}
		if (!strcmp(sub, "passwd")) {
			/* The operator vouches for the address, as for user add:
			 * a password sign-in needs a confirmed one. */
			struct member m;
			struct arena *ma = arena_new();
			rc = store_member_set_password(s, email, hash);
			if (!rc && !(rc = store_member_by_email(s, ma, email, &m)) && !m.email_verified)
				rc = store_member_update(s, m.id, NULL, NULL, 1);
			arena_free(ma);
		} else {
			struct member m = {
				0, email, argc >= 3 ? argv[2] : "", hash, (enum member_role) role, clock_now(), 0, true
			};
			rc = store_member_create(s, &m, NULL);
		}
	}
	/* What changes an account's rights or password goes to the audit log,
	 * as when an admin does it in the newsroom; "" is the command line. */
	if (!rc && strcmp(sub, "list")) {
		struct audit_entry e = { 0,
			                 clock_now(),
			                 0,
			                 "",
			                 strcmp(sub, "add") ? (!strcmp(sub, "role") ? "member.role" : "member.password")
			                                    : "member.add",
			                 email,
			                 strcmp(sub, "passwd") ? member_role_name((enum member_role) role) : "",
			                 "" };
		if (store_audit_add(s, &e))
			fprintf(stderr, "masthead user: done, but the audit log could not record it: %s\n",
			        store_errmsg(s));
	}
	if (rc == MH_ERR_NOTFOUND) {
		fprintf(stderr, "masthead user: no member with e-mail %s\n", email);
		code = EXIT_DATA;
	} else if (rc == MH_ERR_CONFLICT) {
		fprintf(stderr, "masthead user: %s already has an account\n", email);
		code = EXIT_DATA;
	} else if (rc) {
		fprintf(stderr, "masthead user: %s\n", store_errmsg(s));
		code = EXIT_FAIL;
	} else if (strcmp(sub, "list")) {
		printf("user %s: done\n", sub);
	}
out:
	sodium_memzero(password, sizeof password);
	sodium_memzero(again, sizeof again);
	arena_free(a);
	store_close(s);
	return code;
}
