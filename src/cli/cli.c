/* cli.c: argument parsing and dispatch. Settings come from flags, then
 * MASTHEAD_* variables, then the config file, then (public-url, site-name and
 * mail-from, outside serve and demo) DATA/site.ini, then defaults. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/password.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/log.h"
#include "http/proxy.h"
#include "store/store.h"
#include "core/banned.h"

#ifndef MASTHEAD_VERSION
#define MASTHEAD_VERSION "0.1.0"
#endif

/* Settings every serving command takes. */
#define SERVER_KEYS                                                                                                    \
	"public-url", "site-name", "site-tagline", "theme", "log-level", "threads", "max-connections", "timeout",      \
	        "per-ip-connections", "header-timeout", "body-min-rate", "max-body", "max-header", "page-size",        \
	        "access-log", "access-log-file", "smtp-url", "mail-from", "mail-retry-base", "session-days", "secret", \
	        "rate-limit", "meter-articles", "auto-paywall-days", "gift-max-uses", "gift-days", "grace-days",       \
	        "page-cache", "recheck-ms", "retry-days", "billing-interval", "reads-flush-seconds",                   \
	        "billing-provider", "stripe-secret-key", "stripe-webhook-secret", "stripe-api-base",                   \
	        "password-threads", "password-memory-mib", "api-cors-origins", "db-pool", "metrics-allow",             \
	        "metrics-token", "sections", "staff-device-check"

static const char *const serve_keys[] = { "listen", "trusted-proxy", "no-migrate", SERVER_KEYS, NULL };
static const char *const demo_keys[] = { "port", "teaser-paragraphs", SERVER_KEYS, NULL };
static const char *const import_keys[] = { "teaser-paragraphs", "max-import-bytes", "import-cache-mib", NULL };
static const char *const no_keys[] = { NULL };
static const char *const user_keys[] = { "password-memory-mib", NULL };
static const char *const billing_keys[] = { "grace-days", "retry-days", "billing-provider",
	                                    "smtp-url",   "mail-from",  "site-name",
	                                    "public-url", "theme",      NULL };
static const char *const newsletter_keys[] = { "smtp-url",
	                                       "mail-from",
	                                       "mail-retry-base",
	                                       "site-name",
	                                       "public-url",
	                                       "theme",
	                                       "secret",
	                                       "auto-paywall-days",
	                                       "newsletter-connections",
	                                       "newsletter-rate",
	                                       "newsletter-give-up",
	                                       "dkim-selector",
	                                       "dkim-domain",
	                                       "dkim-key",
	                                       "bounce-domain",
	                                       NULL };
static const char *const dkim_keys[] = { "dkim-key", NULL };
static const char *const mail_keys[] = { "smtp-url", "mail-from", "mail-retry-base", "site-name", "public-url", NULL };

const struct command commands[] = {
	{ "demo", cmd_demo, "", "migrate a data dir, seed the demo site and serve it on 127.0.0.1", demo_keys },
	{ "serve", cmd_serve, "", "serve the site (applies pending migrations first)", serve_keys },
	{ "init", cmd_init, "", "create the data dir and the database", no_keys },
	{ "migrate", cmd_init, "", "apply pending database migrations", no_keys },
	{ "import", cmd_import, "PATH...", "import Markdown files (or folders of them) with front matter",
	  import_keys },
	{ "import-site", cmd_import_site,
	  "ghost FILE.json [--members FILE.csv] | wordpress FILE.xml | substack ZIP|DIR",
	  "move a whole publication in from Ghost, WordPress or Substack, all or nothing ([--dry-run])", import_keys },
	{ "redirects", cmd_redirects, "", "list the old addresses an imported site answers with 301", no_keys },
	{ "export", cmd_export, "DIR",
	  "write articles as Markdown and a members list (CSV) into DIR, for other tools; not a backup", no_keys },
	{ "user", cmd_user, "add|list|role|passwd ...", "manage member accounts", user_keys },
	{ "billing", cmd_billing, "run [--at ISO8601]", "renewals, retries, dunning and reminders due at that time",
	  billing_keys },
	{ "plan", cmd_plan, "add|list|retire|price ...", "manage subscription plans", no_keys },
	{ "key", cmd_key, "add NAME | list | revoke NAME", "manage Content API keys", no_keys },
	{ "mail", cmd_mail, "test EMAIL | list | flush", "send a test mail, list the outbox, send what is due",
	  mail_keys },
	{ "newsletter", cmd_newsletter,
	  "send SLUG [--newsletter NAME] | status [SLUG] | add SLUG NAME | bounce < MESSAGE",
	  "mail an article to a newsletter's members, report on sends, feed back bounces", newsletter_keys },
	{ "dkim", cmd_dkim, "keygen --selector S --domain D [--bits 2048]",
	  "make the DKIM key newsletters are signed with; prints the DNS record", dkim_keys },
	{ "copy", cmd_copy, "--from URL --to URL",
	  "copy a whole site into a new, empty database, of either engine; all or nothing", no_keys },
	{ "backup", cmd_backup, "FILE",
	  "write the whole site (database as of one commit, media, key) into one archive, while it serves", no_keys },
	{ "restore", cmd_restore, "[--force] FILE",
	  "put a backup in place of an empty site (--force: replace one); all or nothing", no_keys },
	{ NULL, NULL, NULL, NULL, NULL },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: masthead COMMAND [options]\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->summary);
	fprintf(out, "\nEvery command takes --data DIR (default ./data), --db URL and --config FILE.\n"
	             "Run 'masthead COMMAND --help' for its options. Exit codes: 0 done, 1 failed,\n"
	             "2 bad usage, 3 bad input data (nothing written).\n");
}

static bool
key_allowed(const struct command *c, const char *name)
{
	if (!strcmp(name, "data") || !strcmp(name, "db") || !strcmp(name, "config"))
		return true;
	for (const char *const *k = c->keys; *k; k++)
		if (!strcmp(*k, name))
			return true;
	return false;
}

static void
command_help(const struct command *c)
{
	printf("usage: masthead %s [options] %s\n\n%s\n\noptions (each also MASTHEAD_NAME or a config file key):\n",
	       c->name, c->args, c->summary);
	for (const struct config_key *k = config_keys; k->name; k++) {
		if (!key_allowed(c, k->name))
			continue;
		printf("  --%-18s %s", k->name, k->help);
		if (k->def[0])
			printf(" (default %s)", k->def);
		printf("\n");
	}
	if (!strcmp(c->name, "export"))
		printf("\nThe export holds articles (as import reads them) and members' e-mail, name, role and\n"
		       "sign-up time. It leaves out subscriptions, invoices, cards, password hashes and\n"
		       "sessions, and members.csv cannot be imported back: to back up a site, copy the\n"
		       "database (see docs/reference.md, \"Backups\").\n");
	if (!strcmp(c->name, "import-site"))
		printf("\nflags of the command:\n"
		       "  --dry-run            report what would happen and write nothing\n"
		       "  --members FILE.csv   ghost: the members export\n"
		       "  --source-url URL     ghost: where the old site's images stay (__GHOST_URL__ in images)\n"
		       "  --paywall-at-more    wordpress: gate what follows <!--more--> (posts paid unless --access)\n"
		       "  --access LEVEL       wordpress: public, members or paid for every post\n\n"
		       "A real run writes everything in one transaction; see docs/import-site.md.\n");
	if (!strcmp(c->name, "backup") || !strcmp(c->name, "restore"))
		printf("\nA backup is a .tar.gz: MANIFEST, masthead.db (the database as of one commit, either\n"
		       "engine: PostgreSQL is copied into SQLite), site.ini, secret.key and media/ from DATA.\n"
		       "Restore refuses a non-empty data dir without --force, and a non-empty PostgreSQL\n"
		       "database always; stop the server first. See docs/deploy.md, \"Backups\".\n");
	if (!strcmp(c->name, "user"))
		printf("\nsubcommands:\n  user add EMAIL [NAME] [ROLE]   asks for the password\n"
		       "  user list\n  user role EMAIL reader|editor|admin\n"
		       "  user passwd EMAIL               asks for the new password\n\n"
		       "On a terminal the password is typed twice and not shown; otherwise it is one\n"
		       "line of standard input.\n");
}

/* What a server serves as, recorded in DATA/site.ini when it starts, so that
 * commands that write links and mail (billing run, mail test) use the same
 * address and name without being told them again. */
#define SITE_FILE "site.ini"
static const char *const recorded_keys[] = { "public-url", "site-name", "mail-from", NULL };

static const char *
str_setting(const struct config *c, const char *name)
{
	return *(char *const *) ((const char *) c + config_find(name)->offset);
}

void
cli_record_site(const struct config *cfg)
{
	struct buf b = BUF_INIT, path = BUF_INIT, tmp = BUF_INIT;
	buf_puts(&b, "; Written by masthead serve when it starts: the address and name it serves as.\n"
	             "; Commands not given these settings (billing run, mail test) use them.\n");
	for (const char *const *k = recorded_keys; *k; k++) {
		const char *v = str_setting(cfg, *k);
		bool own = !strcmp(*k, "public-url") || (config_given(cfg, *k) && strcmp(*k, "mail-from")) ||
		           (!strcmp(*k, "mail-from") && !cfg->mail_from_derived);
		/* What the ini reader would change (a comment, outer spaces) is left out. */
		bool fits = v[0] && !strpbrk(v, ";\r\n") && v[0] != ' ' && v[strlen(v) - 1] != ' ';
		if (own && fits)
			buf_printf(&b, "%s = %s\n", *k, v);
	}
	buf_printf(&path, "%s/" SITE_FILE, cfg->data);
	buf_printf(&tmp, "%s.tmp-%ld", path.ptr, (long) getpid());
	FILE *f = fopen(tmp.ptr, "w");
	bool ok = f && fwrite(b.ptr, 1, b.len, f) == b.len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp.ptr, path.ptr) != 0) {
		log_warn("cannot record the site's address", "path=\"%s\" error=\"%s\"", path.ptr, strerror(errno));
		unlink(tmp.ptr);
	}
	buf_release(&b);
	buf_release(&path);
	buf_release(&tmp);
}

/* The recorded settings this command was not given. A missing file is no
 * error (no server has run here); a broken one is ignored with a warning. */
static void
read_recorded_site(struct config *cfg)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/" SITE_FILE, cfg->data);
	struct config rec;
	char err[512];
	config_init(&rec);
	if (access(path.ptr, F_OK) == 0 && config_load_file(&rec, path.ptr, err, sizeof err))
		log_warn("ignoring the recorded site settings", "error=\"%s\"", err);
	else
		for (const char *const *k = recorded_keys; *k; k++)
			if (config_given(&rec, *k) && !config_given(cfg, *k))
				config_set(cfg, *k, str_setting(&rec, *k), err, sizeof err);
	config_release(&rec);
	buf_release(&path);
}

struct flag {
	const char *name;
	const char *value;
};

int
cli_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("masthead %s\n", MASTHEAD_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	const struct command *cmd = NULL;
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			cmd = c;
	if (!cmd) {
		fprintf(stderr, "masthead: unknown command '%s' (try masthead --help)\n", argv[1]);
		return EXIT_USAGE;
	}

	struct flag *flags = xcalloc((size_t) argc, sizeof *flags);
	char **pos = xcalloc((size_t) argc, sizeof *pos);
	int nflags = 0, npos = 0, code = EXIT_OK;
	struct config cfg;
	config_init(&cfg);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			command_help(cmd);
			goto out;
		}
		if (!strcmp(a, "--")) {
			while (++i < argc)
				pos[npos++] = argv[i];
			break;
		}
		if (strncmp(a, "--", 2) != 0 || !a[2]) {
			pos[npos++] = argv[i];
			continue;
		}
		const char *eq = strchr(a, '=');
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int) (eq ? (size_t) (eq - a - 2) : strlen(a + 2)), a + 2);
		if (!strcmp(cmd->name, "copy") && (!strcmp(name, "from") || !strcmp(name, "to"))) {
			/* The command's own two URLs, handed on as arguments. */
			pos[npos++] = argv[i];
			if (!eq && i + 1 < argc)
				pos[npos++] = argv[++i];
			continue;
		}
		if (!strcmp(cmd->name, "restore") && !strcmp(a, "--force")) {
			pos[npos++] = argv[i]; /* the command's own switch */
			continue;
		}
		if (!strcmp(cmd->name, "import-site") &&
		    (!strcmp(name, "members") || !strcmp(name, "source-url") || !strcmp(name, "access") ||
		     !strcmp(name, "dry-run") || !strcmp(name, "paywall-at-more"))) {
			/* The command's own flags, handed on as arguments (two are switches). */
			pos[npos++] = argv[i];
			if (!eq && i + 1 < argc && strcmp(name, "dry-run") && strcmp(name, "paywall-at-more"))
				pos[npos++] = argv[++i];
			continue;
		}
		if ((!strcmp(cmd->name, "billing") && !strcmp(name, "at")) ||
		    (!strcmp(cmd->name, "newsletter") && !strcmp(name, "newsletter")) ||
		    (!strcmp(cmd->name, "dkim") &&
		     (!strcmp(name, "selector") || !strcmp(name, "domain") || !strcmp(name, "bits")))) {
			/* A flag of the command itself, not a setting: handed on as arguments. */
			pos[npos++] = argv[i];
			if (!eq && i + 1 < argc)
				pos[npos++] = argv[++i];
			continue;
		}
		if (!config_find(name) || !key_allowed(cmd, name)) {
			fprintf(stderr, "masthead %s: unknown option --%s (try masthead %s --help)\n", cmd->name, name,
			        cmd->name);
			code = EXIT_USAGE;
			goto out;
		}
		const char *value = eq ? eq + 1 : NULL;
		if (!value && !strcmp(name, "no-migrate"))
			value = "true"; /* a switch: --no-migrate alone */
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "masthead %s: option --%s needs a value\n", cmd->name, name);
				code = EXIT_USAGE;
				goto out;
			}
			value = argv[++i];
		}
		flags[nflags].name = config_find(name)->name;
		flags[nflags].value = value;
		nflags++;
	}

	char err[512];
	const char *file = getenv("MASTHEAD_CONFIG");
	for (int i = 0; i < nflags; i++)
		if (!strcmp(flags[i].name, "config"))
			file = flags[i].value;
	if (file && file[0] && config_load_file(&cfg, file, err, sizeof err)) {
		fprintf(stderr, "masthead %s: %s\n", cmd->name, err);
		code = EXIT_USAGE;
		goto out;
	}
	if (config_load_env(&cfg, err, sizeof err)) {
		fprintf(stderr, "masthead %s: %s\n", cmd->name, err);
		code = EXIT_USAGE;
		goto out;
	}
	for (int i = 0; i < nflags; i++) {
		if (config_set(&cfg, flags[i].name, flags[i].value, err, sizeof err)) {
			fprintf(stderr, "masthead %s: --%s\n", cmd->name, err);
			code = EXIT_USAGE;
			goto out;
		}
	}
	int level = log_level_parse(cfg.log_level);
	if (level < 0) {
		fprintf(stderr, "masthead %s: log-level must be debug, info, warn or error, not '%s'\n", cmd->name,
		        cfg.log_level);
		code = EXIT_USAGE;
		goto out;
	}
	log_set_level((enum log_level) level);
	if (cfg.port > 65535) {
		fprintf(stderr, "masthead %s: --port must be at most 65535\n", cmd->name);
		code = EXIT_USAGE;
		goto out;
	}
	if (cfg.password_threads < 1 || cfg.password_threads > 64) {
		fprintf(stderr, "masthead %s: password-threads must be 1 to 64, not %ld\n", cmd->name,
		        cfg.password_threads);
		code = EXIT_USAGE;
		goto out;
	}
	if (cfg.db_pool < 1 || cfg.db_pool > 1000) {
		fprintf(stderr, "masthead %s: db-pool must be 1 to 1000, not %ld\n", cmd->name, cfg.db_pool);
		code = EXIT_USAGE;
		goto out;
	}
	/* Serving commands record what they serve as; every other one reads it. */
	if (cmd->run != cmd_serve && cmd->run != cmd_demo)
		read_recorded_site(&cfg);
	config_finish(&cfg);
	struct stat theme_st;
	if (cfg.theme[0] && (stat(cfg.theme, &theme_st) != 0 || !S_ISDIR(theme_st.st_mode))) {
		fprintf(stderr, "masthead %s: --theme: '%s' is not a folder\n", cmd->name, cfg.theme);
		code = EXIT_USAGE;
		goto out;
	}
	struct proxy_list proxies;
	if (proxy_list_parse(cfg.trusted_proxy, &proxies, err, sizeof err)) {
		fprintf(stderr, "masthead %s: %s\n", cmd->name, err);
		code = EXIT_USAGE;
		goto out;
	}
	if (proxy_list_parse(cfg.metrics_allow, &proxies, err, sizeof err)) {
		const char *why = strncmp(err, "trusted-proxy: ", 15) ? err : err + 15;
		fprintf(stderr, "masthead %s: --metrics-allow: %s\n", cmd->name, why);
		code = EXIT_USAGE;
		goto out;
	}
	if (!clock_init_from_env()) {
		fprintf(stderr,
		        "masthead %s: MASTHEAD_CLOCK must be an ISO 8601 time such as 2026-12-01T00:00:00Z, MASTHEAD_CLOCK_OFFSET whole seconds\n",
		        cmd->name);
		code = EXIT_USAGE;
		goto out;
	}
	if (password_init()) {
		fprintf(stderr, "masthead: libsodium cannot start\n");
		code = EXIT_FAIL;
		goto out;
	}
	if (password_set_memory((unsigned long) cfg.password_memory_mib)) {
		fprintf(stderr, "masthead %s: password-memory-mib must be %d to %d, not %ld\n", cmd->name,
		        PASSWORD_MEMORY_MIB_MIN, PASSWORD_MEMORY_MIB_MAX, cfg.password_memory_mib);
		code = EXIT_USAGE;
		goto out;
	}
	code = cmd->run(&cfg, npos, pos);
out:
	config_release(&cfg);
	free(flags);
	free(pos);
	return code;
}

static int
mkdir_p(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

struct store *
cli_open_store(struct config *cfg, int *code)
{
	char err[512];
	struct store *s;
	if (!strncmp(cfg->db, "sqlite:", 7) && mkdir_p(cfg->data) != 0) {
		fprintf(stderr, "masthead: cannot create data dir %s: %s\n", cfg->data, strerror(errno));
		*code = EXIT_FAIL;
		return NULL;
	}
	mh_err rc = store_open(cfg->db, &s, err, sizeof err);
	if (rc) {
		fprintf(stderr, "masthead: %s\n", err);
		*code = rc == MH_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
		return NULL;
	}
	store_set_pool(s, (int) cfg->db_pool);
	int applied;
	if (cfg->no_migrate) {
		/* Another node or `masthead migrate` migrates; this one only checks
		 * that it was done. */
		int pending = 0;
		if (store_migrations_pending(s, &pending) || pending) {
			if (pending)
				fprintf(stderr, "masthead: %s lacks %d migration%s (run masthead migrate first)\n",
				        store_url(s), pending, pending == 1 ? "" : "s");
			else
				fprintf(stderr, "masthead: %s is not migrated (run masthead migrate first): %s\n",
				        store_url(s), store_errmsg(s));
			store_close(s);
			*code = EXIT_FAIL;
			return NULL;
		}
	} else if ((rc = store_migrate(s, &applied))) {
		fprintf(stderr, "masthead: cannot migrate %s: %s\n", store_url(s), store_errmsg(s));
		store_close(s);
		*code = EXIT_FAIL;
		return NULL;
	}
	/* A fault build's store-fail-at=N counts the command's own calls. */
	fault_arm_process();
	*code = EXIT_OK;
	return s;
}

int
cmd_init(struct config *cfg, int argc, char **argv)
{
	(void) argv;
	if (argc) {
		fprintf(stderr, "masthead: this command takes no arguments\n");
		return EXIT_USAGE;
	}
	int code;
	cfg->no_migrate = false; /* migrating is this command's whole job */
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	printf("database ready: %s\n", store_url(s));
	store_close(s);
	return EXIT_OK;
}
