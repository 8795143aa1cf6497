/* serve.c: masthead serve and masthead demo. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "cli/cli.h"
#include "content/import.h"
#include "core/embed.h"
#include "core/log.h"
#include "auth/token.h"
#include "http/http.h"
#include "mail/mail.h"
#include "web/app.h"
#include "core/banned.h"

int
cli_serve(struct config *cfg, struct store *s, const char *banner)
{
	struct app app;
	memset(&app, 0, sizeof app);
	app.cfg = cfg;
	app.store = s;
	char err[512];
	if (theme_load(&app.theme, cfg->theme, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	if (secret_load(cfg, app.secret, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	/* Sign-in for an unknown e-mail verifies against this, so it takes as long. */
	char dummy[TOKEN_CHARS + 1];
	token_new(dummy);
	password_hash(dummy, app.dummy_hash);
	/* Block the stop signals in every thread; this one waits for them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct http_server_opts o = {
		.listen = cfg->listen,
		.threads = (unsigned) cfg->threads,
		.max_connections = (unsigned) cfg->max_connections,
		.timeout = (unsigned) cfg->timeout,
		.max_header = (size_t) cfg->max_header,
		.max_body = (size_t) cfg->max_body,
		.access_log = cfg->access_log,
		.routes = app_routes,
		.app = &app,
		.not_found = app_not_found,
		.method_not_allowed = app_method_not_allowed,
		.error = app_error,
		.before = web_before,
	};
	struct http_server *srv;
	if (mailer_start(s, cfg, &app.mailer)) {
		fprintf(stderr, "masthead: cannot start the mail sender\n");
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	if (http_server_start(&o, &srv, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		mailer_stop(app.mailer);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	uint16_t port = http_server_port(srv);
	/* Tests read this line to learn the port when they asked for port 0. */
	char host[128];
	const char *colon = strrchr(cfg->listen, ':');
	snprintf(host, sizeof host, "%.*s", (int) (colon - cfg->listen), cfg->listen);
	printf("masthead listening on http://%s:%u/\n", host, (unsigned) port);
	if (banner)
		fputs(banner, stdout);
	fflush(stdout);
	log_info("server started", "listen=%s:%u db=\"%s\"", host, (unsigned) port, s->url);

	int sig = 0;
	sigwait(&stop, &sig);
	log_info("stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_server_stop(srv, 10000);
	mailer_stop(app.mailer);
	theme_release(&app.theme);
	log_info("stopped", "%s", "");
	return EXIT_OK;
}

int
cmd_serve(struct config *cfg, int argc, char **argv)
{
	(void) argv;
	if (argc) {
		fprintf(stderr, "masthead serve: takes no arguments (did you mean --listen?)\n");
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	code = cli_serve(cfg, s, NULL);
	store_close(s);
	return code;
}

static const struct {
	const char *email, *name;
	enum member_role role;
	const char *state;
} demo_accounts[] = {
	{ "reader@demo.test", "Riley Reader", ROLE_READER, "free member" },
	{ "subscriber@demo.test", "Sam Subscriber", ROLE_READER, "active monthly subscription, Visa ending 4242" },
	{ "pastdue@demo.test", "Pat Pastdue", ROLE_READER, "past_due, inside the grace period" },
	{ "lapsed@demo.test", "Lee Lapsed", ROLE_READER, "unpaid after a failed renewal; card expired" },
	{ "editor@demo.test", "Eden Editor", ROLE_EDITOR, "editor" },
	{ "admin@demo.test", "Ada Admin", ROLE_ADMIN, "admin" },
};

#define DEMO_PASSWORD "masthead-demo"

static int
seed_accounts(struct store *s)
{
	struct arena *a = arena_new();
	int code = EXIT_OK;
	for (size_t i = 0; i < sizeof demo_accounts / sizeof *demo_accounts; i++) {
		struct member m;
		mh_err rc = s->ops->member_by_email(s, a, demo_accounts[i].email, &m);
		if (rc == MH_OK)
			continue;
		char hash[PASSWORD_HASH_MAX];
		if (rc != MH_ERR_NOTFOUND || password_hash(DEMO_PASSWORD, hash) != MH_OK) {
			fprintf(stderr, "masthead demo: cannot seed %s: %s\n", demo_accounts[i].email, s->errmsg);
			code = EXIT_FAIL;
			break;
		}
		m = (struct member){ 0,
			             demo_accounts[i].email,
			             demo_accounts[i].name,
			             hash,
			             demo_accounts[i].role,
			             (int64_t) time(NULL),
			             0,
			             true };
		if (s->ops->member_create(s, &m, NULL)) {
			fprintf(stderr, "masthead demo: cannot seed %s: %s\n", demo_accounts[i].email, s->errmsg);
			code = EXIT_FAIL;
			break;
		}
	}
	arena_free(a);
	return code;
}

/* The demo's plans and the subscription states of DESIGN section 10,
 * written directly until the billing engine drives them. */
static int
seed_billing(struct store *s, int64_t now)
{
	static const struct plan plans[] = {
		{ 0, "monthly", "Monthly", 800, "usd", 1, 0, false, "" },
		{ 0, "yearly", "Yearly", 8000, "usd", 12, 0, false, "" },
	};
	int64_t plan_id = 0;
	for (size_t i = 0; i < sizeof plans / sizeof *plans; i++) {
		int64_t id;
		if (s->ops->plan_upsert(s, &plans[i], &id)) {
			fprintf(stderr, "masthead demo: cannot seed plans: %s\n", s->errmsg);
			return EXIT_FAIL;
		}
		if (i == 0)
			plan_id = id;
	}
	time_t t = (time_t) now;
	struct tm tm;
	gmtime_r(&t, &tm);
	int year = tm.tm_year + 1900;
	const int64_t day = 86400;
	static const struct {
		const char *email, *status, *last4, *behavior;
		int start_days, end_days, grace_days, exp_month, exp_year_delta;
	} states[] = {
		{ "subscriber@demo.test", "active", "4242", "ok", -10, 20, 0, 12, 3 },
		{ "pastdue@demo.test", "past_due", "0341", "fail", -32, -2, 5, 12, 2 },
		{ "lapsed@demo.test", "unpaid", "0069", "ok", -40, -10, -3, 10, -1 },
	};
	struct arena *a = arena_new();
	int code = EXIT_OK;
	for (size_t i = 0; i < sizeof states / sizeof *states && !code; i++) {
		struct member m;
		struct subscription sub;
		if (s->ops->member_by_email(s, a, states[i].email, &m) ||
		    s->ops->subscription_by_member(s, a, m.id, &sub) != MH_ERR_NOTFOUND)
			continue;
		struct payment_method pm = { 0,
			                     m.id,
			                     "Visa",
			                     states[i].last4,
			                     states[i].exp_month,
			                     year + states[i].exp_year_delta,
			                     states[i].behavior,
			                     true,
			                     "",
			                     now };
		memset(&sub, 0, sizeof sub);
		sub.member_id = m.id;
		sub.plan_id = plan_id;
		sub.status = states[i].status;
		sub.period_start = now + states[i].start_days * day;
		sub.period_end = now + states[i].end_days * day;
		sub.grace_until = states[i].grace_days ? now + states[i].grace_days * day : 0;
		sub.provider = "test";
		sub.created_at = sub.updated_at = now;
		if (s->ops->payment_method_add(s, &pm, true) || s->ops->subscription_save(s, &sub)) {
			fprintf(stderr, "masthead demo: cannot seed %s: %s\n", states[i].email, s->errmsg);
			code = EXIT_FAIL;
		}
	}
	arena_free(a);
	return code;
}

int
cmd_demo(struct config *cfg, int argc, char **argv)
{
	(void) argv;
	if (argc) {
		fprintf(stderr, "masthead demo: takes no arguments (did you mean --port?)\n");
		return EXIT_USAGE;
	}
	/* The demo always serves on loopback; --port picks the port. */
	char listen[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%ld", cfg->port);
	char err[128];
	config_set(cfg, "listen", listen, err, sizeof err);
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;

	size_t n = 0;
	while (embedded_demo[n].name)
		n++;
	struct import_source src[64];
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		src[i] = (struct import_source){ embedded_demo[i].name, embedded_demo[i].data, embedded_demo[i].len };
	struct import_opts io = {
		{ (int) cfg->teaser_paragraphs, (size_t) cfg->max_import_bytes, (int64_t) time(NULL) }, NULL, stderr
	};
	struct import_summary sum;
	if (import_sources(s, src, n, &io, &sum) || seed_accounts(s) || seed_billing(s, (int64_t) time(NULL))) {
		store_close(s);
		return EXIT_FAIL;
	}
	struct buf banner = BUF_INIT;
	buf_printf(&banner, "demo data: %s (%zu articles created, %zu updated)\n", cfg->data, sum.created, sum.updated);
	buf_puts(&banner, "demo accounts, password " DEMO_PASSWORD ":\n");
	for (size_t i = 0; i < sizeof demo_accounts / sizeof *demo_accounts; i++)
		buf_printf(&banner, "  %-22s %s\n", demo_accounts[i].email, demo_accounts[i].state);
	buf_puts(&banner, "press Ctrl-C to stop\n");
	code = cli_serve(cfg, s, banner.ptr);
	buf_release(&banner);
	store_close(s);
	return code;
}
