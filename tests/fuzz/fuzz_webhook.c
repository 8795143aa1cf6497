/* fuzz_webhook.c: a Stripe webhook's JSON body (stripe_apply_event) after
 * its signature was checked: the event read, its handler run against a real
 * store (SQLite in a temporary folder), a mail queued.
 *
 * Every input starts from the same store: two members, two plans with
 * Stripe prices, and member 1 paying through Stripe (subscription
 * sub_fuzz, customer cus_fuzz), put back from a pristine file with
 * SQLite's backup API before each input (the store stays open), so a crash
 * replays alone. Invariants:
 * - the answer is applied, ignored (MH_OK), unknown (MH_ERR_NOTFOUND) or
 *   malformed (MH_ERR_INVALID), never a store error, and every failure
 *   says why;
 * - an event applied once is not applied twice: the same body again is
 *   MH_OK and changes no subscription;
 * - a subscription's status stays one of Stripe's, on a plan that exists. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billing/providers/stripe.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "fuzz.h"
#include "render/theme.h"
#include "store/store.h"
#include "core/banned.h"

#define NOW INT64_C(1796083200)

static char dir[64];
static char db_path[128], base_path[128];
static struct config cfg;
static struct theme th;
static int64_t members[2], plans[2];
static struct store *store;
static sqlite3 *pristine, *live; /* raw connections: the backup's source and target */

static void
must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_webhook: cannot set up: %s\n", what);
		abort();
	}
}

static void
remove_db(const char *path)
{
	char p[160];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static void
cleanup(void)
{
	store_close(store);
	sqlite3_close(live);
	sqlite3_close(pristine);
	remove_db(db_path);
	remove_db(base_path);
	rmdir(dir);
}

/* The live store's content back to the pristine one's. */
static void
restore(void)
{
	sqlite3_backup *bk = sqlite3_backup_init(live, "main", pristine, "main");
	must(bk != NULL, sqlite3_errmsg(live));
	must(sqlite3_backup_step(bk, -1) == SQLITE_DONE, "backup step");
	must(sqlite3_backup_finish(bk) == SQLITE_OK, "backup finish");
	/* Put back indeed: no event is known yet. */
	sqlite3_stmt *st;
	must(sqlite3_prepare_v2(live, "SELECT count(*) FROM billing_events", -1, &st, NULL) == SQLITE_OK, "count");
	must(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0, "a pristine store");
	sqlite3_finalize(st);
}

/* The pristine store, made once a process. */
static void
init(void)
{
	log_set_level(LOG_ERROR); /* an applied event logs a line: millions would */
	/* In memory where there is a tmpfs for it: a copy and a commit an input. */
	const char *tmp = getenv("TMPDIR");
	if (!tmp || strlen(tmp) >= 30)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/mh-fuzz-webhook-XXXXXX", tmp);
	must(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(db_path, sizeof db_path, "%s/t.db", dir);
	snprintf(base_path, sizeof base_path, "%s/base.db", dir);
	atexit(cleanup);
	char url[160], err[256];
	snprintf(url, sizeof url, "sqlite:%s", base_path);
	struct store *s;
	int applied;
	must(!store_open(url, &s, err, sizeof err) && !store_migrate(s, &applied), "open and migrate");
	config_init(&cfg);
	must(!config_set(&cfg, "data", dir, err, sizeof err) && !theme_load(&th, NULL, err, sizeof err), "config");
	struct member m = { 0, "riley@fuzz.test", "Riley Reader", "", ROLE_READER, NOW, 0, true };
	struct member o = { 0, "olive@fuzz.test", "Olive Other", "", ROLE_READER, NOW, 0, true };
	struct plan p = { 0, "monthly", "Monthly", 800, "usd", 1, 0, false, "price_fuzz_monthly" };
	struct plan y = { 0, "yearly", "Yearly", 8000, "usd", 12, 0, false, "price_fuzz_yearly" };
	must(!store_member_create(s, &m, &members[0]) && !store_member_create(s, &o, &members[1]) &&
	             !store_plan_upsert(s, &p, &plans[0]) && !store_plan_upsert(s, &y, &plans[1]),
	     "seed");
	struct subscription sub = { 0 };
	sub.member_id = members[0];
	sub.plan_id = plans[0];
	sub.status = SUB_ACTIVE;
	sub.period_start = NOW - 86400;
	sub.period_end = NOW + 29 * 86400;
	sub.provider = "stripe";
	sub.provider_id = "sub_fuzz";
	sub.provider_customer = "cus_fuzz";
	sub.provider_updated = NOW - 86400;
	sub.created_at = sub.updated_at = NOW - 86400;
	must(!store_subscription_save(s, &sub), "subscription");
	store_close(s); /* the last connection checkpoints the WAL into the file */
	must(sqlite3_open_v2(base_path, &pristine, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open the pristine");
	must(sqlite3_open(db_path, &live) == SQLITE_OK, "open the live store");
	restore();
	snprintf(url, sizeof url, "sqlite:%s", db_path);
	must(!store_open(url, &store, err, sizeof err), "open the store");
}

struct snapshot {
	bool has[2];
	int status[2];
	int64_t plan[2], period_end[2], version[2];
};

static void
snap(struct store *s, struct arena *a, struct snapshot *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < 2; i++) {
		struct subscription sub;
		mh_err rc = store_subscription_by_member(s, a, members[i], &sub);
		CHECK(rc == MH_OK || rc == MH_ERR_NOTFOUND);
		if (rc)
			continue;
		out->has[i] = true;
		out->status[i] = (int) sub.status;
		out->plan[i] = sub.plan_id;
		out->period_end[i] = sub.period_end;
		out->version[i] = sub.version;
		CHECK(sub.status >= SUB_NONE && sub.status <= SUB_PAUSED);
		CHECK(sub.plan_id == plans[0] || sub.plan_id == plans[1]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	if (!dir[0])
		init();
	else
		restore();
	struct store *s = store;
	char err[256];
	struct arena *a = arena_new();
	struct billing b = { s, &cfg, th.templates, NULL, &billing_stripe_provider };

	/* A copy of exactly size bytes, as a request body arrives. */
	char *body = malloc(size ? size : 1);
	if (!body)
		abort();
	memcpy(body, data, size);
	err[0] = 'x';
	mh_err rc = stripe_apply_event(&b, a, body, size, NOW, err, sizeof err);
	CHECK(rc == MH_OK || rc == MH_ERR_NOTFOUND || rc == MH_ERR_INVALID);
	CHECK(rc == MH_OK || err[0]);
	struct snapshot first, second;
	snap(s, a, &first);
	if (rc == MH_OK) {
		/* Stripe delivers an event again: nothing moves. */
		CHECK(stripe_apply_event(&b, a, body, size, NOW + 60, err, sizeof err) == MH_OK);
		snap(s, a, &second);
		CHECK(memcmp(&first, &second, sizeof first) == 0);
	}
	free(body);
	arena_free(a);
	return 0;
}
