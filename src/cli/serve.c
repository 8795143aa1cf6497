/* serve.c: masthead serve and masthead demo. */
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "media/media.h"
#include "core/clock.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "content/import.h"
#include "content/newsroom.h"
#include "core/accesslog.h"
#include "core/embed.h"
#include "core/log.h"
#include "auth/token.h"
#include "billing/billing.h"
#include "http/http.h"
#include "mail/mail.h"
#include "web/reads.h"
#include "web/app.h"
#include "web/metrics.h"
#include "web/pagecache.h"
#include "web/settings.h"
#include "core/alloc.h"
#include "core/banned.h"

/* What the in-memory caches may hold (see docs/performance.md). */
#define PAGES_BYTES     (16u << 20)
#define FRAGMENTS_BYTES (16u << 20)
#define SESSIONS_BYTES  (16u << 20)

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
		return EXIT_USAGE; /* a theme is a setting: a bad one is bad usage */
	}
	if (proxy_list_parse(cfg->trusted_proxy, &app.proxies, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		theme_release(&app.theme);
		return EXIT_USAGE;
	}
	if (proxy_list_parse(cfg->metrics_allow, &app.metrics_allow, err, sizeof err)) {
		fprintf(stderr, "masthead: --metrics-allow: %s\n", err); /* checked by cli_main already */
		theme_release(&app.theme);
		return EXIT_USAGE;
	}
	if (secret_load(cfg, s, app.secret, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	/* The newsroom's settings over the operator's: app.cfg from here on. */
	app.base = cfg;
	if (settings_start(&app)) {
		fprintf(stderr, "masthead: cannot read the settings: %s\n", store_errmsg(s));
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	/* Made now when the password memory is not the default, so no sign-in pays for it. */
	password_dummy();
	/* Block the stop signals in every thread; this one waits for them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* On PostgreSQL a thread waits for the server on every store read, so
	 * the default is four threads per core there (one on SQLite, whose
	 * reads never leave the process); the pool (--db-pool) bounds how many
	 * reach the database at once. */
	unsigned threads = (unsigned) cfg->threads;
	if (!threads && strcmp(store_engine(s), "postgres") == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = 4 * (unsigned) (n > 0 ? n : 1);
	}
	struct http_server_opts o = {
		.listen = cfg->listen,
		.threads = threads,
		.max_connections = (unsigned) cfg->max_connections,
		.timeout = (unsigned) cfg->timeout,
		.per_ip = (unsigned) cfg->per_ip_connections,
		.per_ip_exempt = &app.proxies,
		.header_timeout = (unsigned) cfg->header_timeout,
		.body_min_rate = (unsigned) cfg->body_min_rate,
		.max_header = (size_t) cfg->max_header,
		.max_body = (size_t) cfg->max_body,
		/* An image (media.h) and the form fields around it. */
		.max_upload = MEDIA_MAX_BYTES + 64 * 1024,
		.access_log = cfg->access_log,
		.defer_threads = (unsigned) cfg->password_threads,
		.routes = app_routes,
		.app = &app,
		.not_found = app_not_found,
		.method_not_allowed = app_method_not_allowed,
		.error = app_error,
		.before = web_before,
		.idle = app_idle,
		.completed = metrics_request,
	};
	metrics_init(app_routes);
	app.billing = (struct billing){ s, app.cfg, app.theme.templates, NULL,
		                        billing_provider_named(app.cfg->billing_provider) };
	struct billing_scheduler *scheduler = NULL;
	app.pages = cfg->page_cache ? vcache_new(8192, PAGES_BYTES) : NULL;
	app.fragments = cfg->page_cache ? vcache_new(8192, FRAGMENTS_BYTES) : NULL;
	app.sessions = vcache_new(32768, SESSIONS_BYTES);
	pthread_mutex_init(&app.versions.lock, NULL);
	app.members_changed = xcalloc(1, sizeof *app.members_changed);
	app.versions.changes_cursor = STORE_CHANGES_FIRST;
	unsigned char mark[8];
	randombytes_buf(mark, sizeof mark);
	memcpy(app.slot_mark, "mhslot", 6);
	sodium_bin2hex(app.slot_mark + 6, sizeof app.slot_mark - 6, mark, sizeof mark);
	if (app_listen(&app))
		log_error("cannot listen for pushed changes", "error=\"%s\"", store_errmsg(s));
	struct http_server *srv;
	if (mailer_start(s, app.cfg, &app.mailer)) {
		fprintf(stderr, "masthead: cannot start the mail sender\n");
		store_listener_stop(s, app.listener);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	if (cfg->access_log && accesslog_start(cfg->access_log_file, 0, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		mailer_stop(app.mailer);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	app.reads = reads_start(s, cfg->reads_flush_seconds);
	if (http_server_start(&o, &srv, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		reads_stop(app.reads);
		accesslog_stop();
		mailer_stop(app.mailer);
		store_listener_stop(s, app.listener);
		theme_release(&app.theme);
		return EXIT_FAIL;
	}
	app.billing.mailer = app.mailer;
	/* The address readers use is the one really listened on (port 0 picks one).
	 * The old string stays alive: a request may be reading it right now. */
	char *old_public_url = NULL;
	uint16_t bound = http_server_port(srv);
	if (cfg->public_url_derived && bound) {
		const char *colon = strrchr(cfg->listen, ':');
		struct buf u = BUF_INIT;
		buf_printf(&u, "http://%.*s:%u", (int) (colon - cfg->listen), cfg->listen, (unsigned) bound);
		old_public_url = cfg->public_url;
		cfg->public_url = buf_detach(&u, NULL);
	}
	/* The snapshot takes the address too. */
	if (old_public_url && settings_reload(&app))
		log_error("cannot read the settings", "error=\"%s\"", store_errmsg(s));
	/* What this node serves as, the newsroom's settings included. */
	cli_record_site(app.cfg);
	/* Charges a crash left pending are settled before anything else. */
	int settled = 0;
	if (billing_reconcile(&app.billing, clock_now(), &settled) == MH_OK && settled)
		log_info("billing reconciled", "charges=%d", settled);
	if (cfg->billing_interval > 0 && billing_scheduler_start(&app.billing, (int) cfg->billing_interval, &scheduler))
		log_error("cannot start the billing scheduler", "%s", "");
	/* Scheduled stories of the newsroom go live when due (content/newsroom.h). */
	struct newsroom_scheduler *publisher = NULL;
	const struct article_parse_opts publish_opts = { (int) cfg->teaser_paragraphs, (size_t) cfg->max_import_bytes,
		                                         0 };
	if (cfg->publish_interval > 0 &&
	    newsroom_scheduler_start(s, &publish_opts, (int) cfg->publish_interval, &publisher))
		log_error("cannot start the publishing scheduler", "%s", "");
	store_release(s); /* this thread's start-up reads are done */
	uint16_t port = http_server_port(srv);
	/* Tests read this line to learn the port when they asked for port 0. */
	char host[128];
	const char *colon = strrchr(cfg->listen, ':');
	snprintf(host, sizeof host, "%.*s", (int) (colon - cfg->listen), cfg->listen);
	printf("masthead listening on http://%s:%u/\n", host, (unsigned) port);
	if (banner)
		fputs(banner, stdout);
	fflush(stdout);
	log_info("server started", "listen=%s:%u db=\"%s\"", host, (unsigned) port, store_url(s));

	int sig = 0;
	/* SIGHUP: logrotate moved the access log; the writer opens it again. */
	while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
		accesslog_reopen();
		log_info("reopened the access log", "%s", "");
	}
	log_info("stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_server_stop(srv, 10000);
	metrics_release();
	/* No request is left to log: what is buffered is written now. */
	accesslog_stop();
	reads_stop(app.reads);
	billing_scheduler_stop(scheduler);
	newsroom_scheduler_stop(publisher);
	mailer_stop(app.mailer);
	store_listener_stop(s, app.listener);
	vcache_free(app.pages);
	vcache_free(app.fragments);
	vcache_free(app.sessions);
	pthread_mutex_destroy(&app.versions.lock);
	free(app.members_changed);
	free(old_public_url);
	app.cfg = cfg;
	settings_stop(&app);
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
		mh_err rc = store_member_by_email(s, a, demo_accounts[i].email, &m);
		if (rc == MH_OK)
			continue;
		char hash[PASSWORD_HASH_MAX];
		if (rc != MH_ERR_NOTFOUND || password_hash(DEMO_PASSWORD, hash) != MH_OK) {
			fprintf(stderr, "masthead demo: cannot seed %s: %s\n", demo_accounts[i].email, store_errmsg(s));
			code = EXIT_FAIL;
			break;
		}
		m = (struct member){
			0,   demo_accounts[i].email, demo_accounts[i].name, hash, demo_accounts[i].role, clock_now(), 0,
			true
		};
		if (store_member_create(s, &m, NULL)) {
			fprintf(stderr, "masthead demo: cannot seed %s: %s\n", demo_accounts[i].email, store_errmsg(s));
			code = EXIT_FAIL;
			break;
		}
	}
	arena_free(a);
	return code;
}

/* The demo's newsletter, with every demo account subscribed (README.md). */
static int
seed_newsletter(struct store *s)
{
	struct arena *a = arena_new();
	struct newsletter nl;
	int64_t id = 0;
	mh_err rc = store_newsletter_get(s, a, "ledger-daily", &nl);
	if (rc == MH_OK)
		id = nl.id;
	else if (rc == MH_ERR_NOTFOUND) {
		nl = (struct newsletter){ 0,    "ledger-daily", "The Ledger Daily", "", "", "public,members,paid",
			                  true, false };
		rc = store_newsletter_save(s, &nl, &id);
	}
	for (size_t i = 0; !rc && i < sizeof demo_accounts / sizeof *demo_accounts; i++) {
		struct member m;
		if (!(rc = store_member_by_email(s, a, demo_accounts[i].email, &m)))
			rc = store_newsletter_subscribe(s, id, m.id, true, clock_now());
	}
	arena_free(a);
	if (rc) {
		fprintf(stderr, "masthead demo: cannot seed the newsletter: %s\n", store_errmsg(s));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Readers who subscribed over the demo's last eleven months, so the
 * newsroom's dashboard (docs/newsroom.md) has a history to chart: when they
 * subscribed and canceled (days before the demo's clock; 0: never), and to
 * which plan. They sign in by mailed link only and get no newsletter; their
 * billing runs through the same machinery as the demo accounts'. Those
 * still paying are on the yearly plan, first renewing at least 45 days
 * after the demo's clock, and the monthly ones have canceled: so whatever a
 * test bills in the demo's next month and a half is the demo accounts'. */
static const struct {
	const char *email, *name;
	int subscribed, canceled;
	bool yearly;
} demo_history[] = {
	{ "june.okonkwo@readers.demo.test", "June Okonkwo", 330, 200, false },
	{ "mara.lindqvist@readers.demo.test", "Mara Lindqvist", 320, 0, true },
	{ "tomas.achebe@readers.demo.test", "Tomas Achebe", 300, 0, true },
	{ "lena.farrow@readers.demo.test", "Lena Farrow", 280, 120, false },
	{ "helen.marsh@readers.demo.test", "Helen Marsh", 260, 0, true },
	{ "oskar.brandt@readers.demo.test", "Oskar Brandt", 230, 0, true },
	{ "felix.mbeki@readers.demo.test", "Felix Mbeki", 200, 60, false },
	{ "samir.haddad@readers.demo.test", "Samir Haddad", 190, 0, true },
	{ "ida.kowalczyk@readers.demo.test", "Ida Kowalczyk", 160, 0, true },
	{ "ravi.castellanos@readers.demo.test", "Ravi Castellanos", 150, 40, false },
	{ "grace.tanaka@readers.demo.test", "Grace Tanaka", 130, 0, true },
	{ "pablo.reyes@readers.demo.test", "Pablo Reyes", 100, 12, false },
	{ "noor.elsayed@readers.demo.test", "Noor Elsayed", 100, 0, true },
	{ "vera.nilsen@readers.demo.test", "Vera Nilsen", 75, 0, true },
	/* Her card expired before her first renewal, which failed; a new card
	 * three days ago paid it (the dashboard's "recovered by card updates"),
	 * and she canceled the day after. */
	{ "nadia.petrov@readers.demo.test", "Nadia Petrov", 50, 2, false },
	{ "dara.quinn@readers.demo.test", "Dara Quinn", 45, 0, true },
	{ "owen.blackwood@readers.demo.test", "Owen Blackwood", 25, 0, true },
	{ "ama.boateng@readers.demo.test", "Ama Boateng", 6, 0, true },
};
#define DEMO_HISTORY_EXPIRING "nadia.petrov@readers.demo.test"
#define DEMO_HISTORY_DAYS     335

static int
seed_history_members(struct store *s, int64_t now)
{
	struct arena *a = arena_new();
	int code = EXIT_OK;
	for (size_t i = 0; i < sizeof demo_history / sizeof *demo_history && !code; i++) {
		struct member m;
		mh_err rc = store_member_by_email(s, a, demo_history[i].email, &m);
		if (rc == MH_ERR_NOTFOUND) {
			m = (struct member){ 0,
				             demo_history[i].email,
				             demo_history[i].name,
				             "",
				             ROLE_READER,
				             now - (int64_t) demo_history[i].subscribed * 86400 - 3600,
				             0,
				             true };
			rc = store_member_create(s, &m, &m.id);
			/* A new member joins the newsletters that take members at
			 * sign-up (migration 0014): these readers get none. */
			struct newsletter *nl;
			size_t nn = 0;
			if (!rc)
				rc = store_newsletter_list(s, a, 0, &nl, &nn);
			for (size_t k = 0; !rc && k < nn; k++)
				rc = store_newsletter_subscribe(s, nl[k].id, m.id, false, now);
		}
		if (rc) {
			fprintf(stderr, "masthead demo: cannot seed %s: %s\n", demo_history[i].email, store_errmsg(s));
			code = EXIT_FAIL;
		}
	}
	arena_free(a);
	return code;
}

/* The demo's plans, and the subscription states of the demo accounts (README.md)
 * reached by driving the billing machinery through a shifted clock: the
 * checkouts of the past, then a billing run for every day since. */
static int
seed_billing(const struct config *cfg, struct store *s, int64_t now)
{
	static const struct plan plans[] = {
		{ 0, "monthly", "Monthly", 800, "usd", 1, 0, false, "" },
		{ 0, "yearly", "Yearly", 8000, "usd", 12, 0, false, "" },
	};
	int64_t monthly = 0, id;
	for (size_t i = 0; i < sizeof plans / sizeof *plans; i++) {
		struct plan old;
		struct arena *pa = arena_new();
		bool exists = store_plan_get(s, pa, 0, plans[i].code, &old) == MH_OK;
		arena_free(pa);
		if (!exists && store_plan_upsert(s, &plans[i], &id)) {
			fprintf(stderr, "masthead demo: cannot seed plans: %s\n", store_errmsg(s));
			return EXIT_FAIL;
		}
	}
	struct arena *a = arena_new();
	struct plan p;
	if (store_plan_get(s, a, 0, "monthly", &p) == MH_OK)
		monthly = p.id;
	/* No mail: the demo's history happened before anyone was reading. */
	struct billing b = { s, cfg, NULL, NULL, &billing_test_provider };
	const int64_t day = 86400;
	time_t t = (time_t) (now - 45 * day);
	struct tm tm;
	gmtime_r(&t, &tm);
	/* A card that expires in the month lapsed@ subscribed: good then, expired at the renewal a month later. */
	struct test_card ok = { "Visa", "4242", 12, tm.tm_year + 1900 + 3, CARD_SUCCEEDS };
	struct test_card short_lived = { "Visa", "4242", tm.tm_mon + 1, tm.tm_year + 1900, CARD_SUCCEEDS };
	struct test_card fails = { "Visa", "0341", 12, tm.tm_year + 1900 + 2, CARD_CHARGES_FAIL };
	struct step {
		int64_t at;
		const char *email;
		int what; /* 0 subscribe, 1 new card, 2 cancel, 3 a history reader's new card */
		const struct test_card *card;
		bool yearly;
	};
	/* The demo accounts' steps, then the history's (demo_history), in time order. */
	const struct step accounts[] = {
		{ now - 45 * day, "lapsed@demo.test", 0, &short_lived, false },
		{ now - 32 * day, "pastdue@demo.test", 0, &ok, false },
		{ now - 31 * day, "pastdue@demo.test", 1, &fails, false },
		{ now - 10 * day, "subscriber@demo.test", 0, &ok, false },
	};
	size_t nh = sizeof demo_history / sizeof *demo_history, na = sizeof accounts / sizeof *accounts, nsteps = 0;
	struct step *steps = xmalloc((na + 2 * nh + 1) * sizeof *steps); /* subscribe, cancel; one card */
	time_t t50 = (time_t) (now - 50 * day);
	struct tm tm50;
	gmtime_r(&t50, &tm50);
	struct test_card expiring = { "Mastercard", "4444", tm50.tm_mon + 1, tm50.tm_year + 1900, CARD_SUCCEEDS };
	for (size_t i = 0; i < nh; i++) {
		bool exp = !strcmp(demo_history[i].email, DEMO_HISTORY_EXPIRING);
		steps[nsteps++] = (struct step){ now - demo_history[i].subscribed * day, demo_history[i].email, 0,
			                         exp ? &expiring : &ok, demo_history[i].yearly };
		if (exp)
			steps[nsteps++] = (struct step){ now - 3 * day, demo_history[i].email, 3, &ok, false };
		if (demo_history[i].canceled)
			steps[nsteps++] = (struct step){ now - demo_history[i].canceled * day, demo_history[i].email, 2,
				                         NULL, false };
	}
	for (size_t i = 0; i < na; i++)
		steps[nsteps++] = accounts[i];
	for (size_t i = 1; i < nsteps; i++) /* insertion sort by time: a few dozen steps */
		for (size_t j = i; j > 0 && steps[j].at < steps[j - 1].at; j--) {
			struct step tmp = steps[j];
			steps[j] = steps[j - 1];
			steps[j - 1] = tmp;
		}
	int64_t yearly = 0;
	if (store_plan_get(s, a, 0, "yearly", &p) == MH_OK)
		yearly = p.id;
	int code = EXIT_OK;
	bool any = false;
	size_t next = 0;
	/* A run a week through the history (a renewal charged a few days late
	 * keeps its period), four a day over the last 45 days
	 * (the demo accounts' retries and grace periods). */
	for (int64_t at = now - DEMO_HISTORY_DAYS * day; at <= now && !code;
	     at += at < now - 45 * day ? 7 * day : day / 4) {
		for (; next < nsteps && steps[next].at <= at; next++) {
			struct member m;
			struct subscription sub;
			if (store_member_by_email(s, a, steps[next].email, &m))
				continue;
			bool has = store_subscription_by_member(s, a, m.id, &sub) == MH_OK;
			struct billing_outcome out;
			mh_err err = MH_OK;
			if (steps[next].what == 0 && !has) {
				err = billing_subscribe(&b, a, m.id, steps[next].yearly ? yearly : monthly,
				                        steps[next].card, steps[next].at, &out);
				any = true;
			} else if (steps[next].what == 1 && has && sub.created_at >= now - 40 * day) {
				err = billing_update_card(&b, a, m.id, steps[next].card, steps[next].at, &out);
			} else if (steps[next].what == 3 && has && sub.created_at >= now - DEMO_HISTORY_DAYS * day) {
				err = billing_update_card(&b, a, m.id, steps[next].card, steps[next].at, &out);
			} else if (steps[next].what == 2 && has && sub.created_at >= now - DEMO_HISTORY_DAYS * day) {
				err = billing_cancel(&b, m.id, true, steps[next].at);
				if (err == MH_ERR_NOTFOUND)
					err = MH_OK; /* ended already */
			}
			if (err) {
				fprintf(stderr, "masthead demo: cannot seed %s: %s\n", steps[next].email,
				        store_errmsg(s));
				code = EXIT_FAIL;
			}
		}
		struct billing_stats st;
		if (any && !code && billing_run(&b, at, &st)) {
			fprintf(stderr, "masthead demo: billing run failed: %s\n", store_errmsg(s));
			code = EXIT_FAIL;
		}
	}
	free(steps);
	arena_free(a);
	return code;
}

/* The demo's staff sign in without a code by mail, so the newsroom can be
 * tried at once (docs/newsroom.md); only on a demo's first start, so an
 * admin who turns the check on keeps it on. */
static int
seed_settings(struct store *s)
{
	struct arena *a = arena_new();
	struct setting *rows;
	size_t n;
	int64_t version;
	mh_err rc = store_settings_get(s, a, &rows, &n, &version);
	bool seeded = false;
	for (size_t i = 0; !rc && i < n; i++)
		seeded |= !strcmp(rows[i].name, "staff-device-check");
	if (!rc && !seeded) {
		const struct setting off = { "staff-device-check", "false", false };
		rc = store_settings_save(s, &off, 1, NULL, 0, NULL, 0, clock_now());
	}
	arena_free(a);
	if (rc) {
		fprintf(stderr, "masthead demo: cannot seed the settings: %s\n", store_errmsg(s));
		return EXIT_FAIL;
	}
	return EXIT_OK;
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
	/* The demo is the demo paper unless told otherwise; a new site starts as
	 * plain "masthead" with no tagline. These are defaults, not the
	 * operator's choice: the newsroom may change them (/admin/settings). */
	unsigned long long given = cfg->given;
	if (!config_given(cfg, "site-name"))
		config_set(cfg, "site-name", "The Harbor Vale Ledger", err, sizeof err);
	if (!config_given(cfg, "site-tagline"))
		config_set(cfg, "site-tagline", "Independent news for Harbor Vale and the coast", err, sizeof err);
	if (!config_given(cfg, "sections"))
		config_set(cfg, "sections", "City Hall, Port, Business, Schools, Environment, Culture", err,
		           sizeof err);
	cfg->soft |= cfg->given & ~given;
	config_finish(cfg); /* a derived sender takes the demo paper's name */
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
	struct import_opts io = { { (int) cfg->teaser_paragraphs, (size_t) cfg->max_import_bytes, clock_now() },
		                  NULL,
		                  stderr };
	struct import_summary sum;
	if (import_sources(s, src, n, &io, &sum) || seed_accounts(s) || seed_newsletter(s) ||
	    seed_history_members(s, clock_now()) || seed_billing(cfg, s, clock_now()) || seed_settings(s)) {
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
