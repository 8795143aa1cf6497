/* test_store_contract.c: the store's contract, op by op, against every store
 * URL in MASTHEAD_STORE_URLS (space-separated; default a fresh SQLite file),
 * so a second engine is held to the same promises. Two-writer cases run the
 * same op from several threads, each on its own connection. */
#include "unit.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "paywall/access.h"
#include "store/store.h"

#define T0 INT64_C(1796000000) /* a fixed clock: 2026-12-11 */

static char url[512];
static char dir[64];
static char pgdb[64]; /* the fresh PostgreSQL database of the running test */

/* Runs one command on the cluster url names; 0 when it worked. */
static int
pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(url);
	int rc = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		if (rc)
			fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	} else {
		fprintf(stderr, "cannot connect to %s: %s", url, PQerrorMessage(c));
	}
	PQfinish(c);
	return rc;
}

static int
setup(void **state)
{
	char u[600];
	if (strncmp(url, "sqlite:", 7) == 0) {
		snprintf(dir, sizeof dir, "/tmp/mh-contract-XXXXXX");
		if (!mkdtemp(dir))
			return -1;
		snprintf(u, sizeof u, "sqlite:%s/t.db", dir);
	} else {
		/* Each test gets a database of its own on the same server. */
		static int serial;
		dir[0] = '\0';
		snprintf(pgdb, sizeof pgdb, "mh_contract_%d_%d", (int) getpid(), ++serial);
		char sql[128];
		snprintf(sql, sizeof sql, "CREATE DATABASE %s", pgdb);
		if (pg_admin(sql))
			return -1;
		const char *slash = strrchr(url, '/');
		const char *query = strchr(slash, '?');
		snprintf(u, sizeof u, "%.*s/%s%s", (int) (slash - url), url, pgdb, query ? query : "");
	}
	struct store *s;
	char err[256];
	if (store_open(u, &s, err, sizeof err)) {
		fprintf(stderr, "cannot open %s: %s\n", u, err);
		return -1;
	}
	int applied;
	if (store_migrate(s, &applied))
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	store_close(*state);
	if (pgdb[0]) {
		char sql[128];
		snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", pgdb);
		pgdb[0] = '\0';
		return pg_admin(sql);
	}
	if (dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		return system(cmd);
	}
	return 0;
}

static int64_t
member(struct store *s, const char *email)
{
	struct member m = { 0, email, "Name", "", ROLE_READER, T0, 0, false };
	int64_t id = 0;
	assert_int_equal(store_member_create(s, &m, &id), MH_OK);
	assert_true(id > 0);
	return id;
}

static void
test_members(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t id = member(s, "one@example.test");
	struct member m;
	assert_int_equal(store_member_by_email(s, a, "one@example.test", &m), MH_OK);
	assert_int_equal(m.id, id);
	assert_int_equal(store_member_by_email(s, a, "nobody@example.test", &m), MH_ERR_NOTFOUND);
	struct member dup = { 0, "one@example.test", "", "", ROLE_READER, T0, 0, false };
	int64_t id2;
	assert_int_equal(store_member_create(s, &dup, &id2), MH_ERR_CONFLICT);
	assert_int_equal(store_member_set_role(s, "one@example.test", ROLE_EDITOR), MH_OK);
	assert_int_equal(store_member_by_id(s, a, id, &m), MH_OK);
	assert_int_equal(m.role, ROLE_EDITOR);
	arena_free(a);
}

/* Moving in: redirects are idempotent upserts, consent one row a member,
 * comped until a time. */
static void
test_import_site_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	const char *to = NULL;
	assert_int_equal(store_redirect_get(s, a, "/old/", &to), MH_ERR_NOTFOUND);
	assert_int_equal(store_redirect_put(s, "/old/", "/articles/old", "ghost", T0), MH_OK);
	assert_int_equal(store_redirect_put(s, "/?p=7", "/articles/seven", "wordpress", T0), MH_OK);
	assert_int_equal(store_redirect_put(s, "/old/", "/articles/new", "ghost", T0 + 1), MH_OK);
	assert_int_equal(store_redirect_get(s, a, "/old/", &to), MH_OK);
	assert_string_equal(to, "/articles/new");
	struct redirect *list;
	size_t n;
	assert_int_equal(store_redirect_list(s, a, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].old_path, "/?p=7");
	assert_string_equal(list[1].old_path, "/old/");
	assert_string_equal(list[1].source, "ghost");

	int64_t id = member(s, "consent@example.test");
	bool yes = true;
	assert_int_equal(store_consent_get(s, id, &yes), MH_ERR_NOTFOUND);
	assert_int_equal(store_consent_put(s, id, true, "ghost", T0), MH_OK);
	assert_int_equal(store_consent_get(s, id, &yes), MH_OK);
	assert_true(yes);
	assert_int_equal(store_consent_put(s, id, false, "ghost", T0 + 1), MH_OK);
	assert_int_equal(store_consent_get(s, id, &yes), MH_OK);
	assert_false(yes);

	assert_int_equal(store_member_set_comped(s, id, T0 + 86400), MH_OK);
	struct member m;
	assert_int_equal(store_member_by_id(s, a, id, &m), MH_OK);
	assert_int_equal(m.comped_until, T0 + 86400);
	assert_int_equal(store_member_set_comped(s, id + 1000, T0), MH_ERR_NOTFOUND);
	arena_free(a);
}

static void
test_sessions_and_housekeeping(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t id = member(s, "sess@example.test");
	struct session live = { "aa01", id, T0, T0, T0 + 3600, "ua", "127.0.0.1" };
	struct session old = { "aa02", id, T0 - 7200, T0 - 7200, T0 - 1, "ua", "127.0.0.1" };
	assert_int_equal(store_session_create(s, &live), MH_OK);
	assert_int_equal(store_session_create(s, &old), MH_OK);
	struct session got;
	struct member m;
	assert_int_equal(store_session_get(s, a, "aa01", T0, &got, &m), MH_OK);
	assert_int_equal(m.id, id);
	/* Expired: not found, and housekeeping removes exactly it. */
	assert_int_equal(store_session_get(s, a, "aa02", T0, &got, &m), MH_ERR_NOTFOUND);
	int removed = -1;
	assert_int_equal(store_housekeep(s, T0, &removed), MH_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(store_housekeep(s, T0, &removed), MH_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(store_session_get(s, a, "aa01", T0, &got, &m), MH_OK);
	/* A touch moves no version, so it does not count as a write the caches
	 * must look at (store_writes); ending the session does. */
	uint64_t writes = store_writes(s);
	assert_int_equal(store_session_touch(s, "aa01", T0 + 600, T0 + 7200), MH_OK);
	assert_int_equal(store_writes(s), writes);
	assert_int_equal(store_session_delete(s, "aa01"), MH_OK);
	assert_true(store_writes(s) > writes);
	assert_int_equal(store_session_get(s, a, "aa01", T0, &got, &m), MH_ERR_NOTFOUND);
	arena_free(a);
}

static void
test_tokens_are_single_use(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t id = member(s, "tok@example.test");
	struct auth_token t = { "bb01", TOKEN_SIGNIN, id, NULL, "/", T0, T0 + 900, 0, NULL };
	assert_int_equal(store_token_create(s, &t), MH_OK);
	struct auth_token got;
	assert_int_equal(store_token_get(s, a, "bb01", TOKEN_RESET, T0, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_token_get(s, a, "bb01", TOKEN_SIGNIN, T0 + 901, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_token_get(s, a, "bb01", TOKEN_SIGNIN, T0, &got), MH_OK);
	assert_int_equal(store_token_use(s, "bb01", TOKEN_SIGNIN, T0 + 1), MH_OK);
	assert_int_not_equal(store_token_use(s, "bb01", TOKEN_SIGNIN, T0 + 2), MH_OK);
	assert_int_equal(store_token_get(s, a, "bb01", TOKEN_SIGNIN, T0 + 3, &got), MH_ERR_NOTFOUND);
	/* A sign-up's password waits with its link; spending the member's
	 * links ends every unused one of theirs, and nobody else's. */
	int64_t other = member(s, "tok2@example.test");
	struct auth_token t2 = { "bb02", TOKEN_SIGNIN, id, "", "/", T0, T0 + 900, 0, "$argon2id$pending" };
	struct auth_token t3 = { "bb03", TOKEN_RESET, id, "", "/", T0, T0 + 900, 0, NULL };
	struct auth_token t4 = { "bb04", TOKEN_SIGNIN, other, "", "/", T0, T0 + 900, 0, NULL };
	assert_int_equal(store_token_create(s, &t2), MH_OK);
	assert_int_equal(store_token_create(s, &t3), MH_OK);
	assert_int_equal(store_token_create(s, &t4), MH_OK);
	assert_int_equal(store_token_get(s, a, "bb02", TOKEN_SIGNIN, T0, &got), MH_OK);
	assert_string_equal(got.password_hash, "$argon2id$pending");
	assert_int_equal(store_token_get(s, a, "bb04", TOKEN_SIGNIN, T0, &got), MH_OK);
	assert_string_equal(got.password_hash, "");
	assert_int_equal(store_token_spend_member(s, id, T0 + 5), MH_OK);
	assert_int_equal(store_token_get(s, a, "bb02", TOKEN_SIGNIN, T0 + 6, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_token_get(s, a, "bb03", TOKEN_RESET, T0 + 6, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_token_use(s, "bb02", TOKEN_SIGNIN, T0 + 6), MH_ERR_NOTFOUND);
	assert_int_equal(store_token_get(s, a, "bb04", TOKEN_SIGNIN, T0 + 6, &got), MH_OK);
	arena_free(a);
}

/* Two writers: threads hit one bucket at once; exactly `limit` get through. */
struct rate_job {
	struct store *s;
	int allowed, refused, errors;
};

#define RATE_LIMIT   40
#define RATE_THREADS 4
#define RATE_EACH    30

static void *
rate_worker(void *p)
{
	struct rate_job *j = p;
	for (int i = 0; i < RATE_EACH; i++) {
		bool ok;
		int64_t retry;
		if (store_rate_hit(j->s, "contract-bucket", T0, 600, RATE_LIMIT, &ok, &retry))
			j->errors++;
		else if (ok)
			j->allowed++;
		else
			j->refused++;
	}
	return NULL;
}

static void
test_rate_limit_two_writers(void **state)
{
	struct rate_job jobs[RATE_THREADS];
	pthread_t th[RATE_THREADS];
	for (int i = 0; i < RATE_THREADS; i++) {
		jobs[i] = (struct rate_job){ *state, 0, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, rate_worker, &jobs[i]), 0);
	}
	int allowed = 0, refused = 0, errors = 0;
	for (int i = 0; i < RATE_THREADS; i++) {
		pthread_join(th[i], NULL);
		allowed += jobs[i].allowed;
		refused += jobs[i].refused;
		errors += jobs[i].errors;
	}
	assert_int_equal(errors, 0);
	assert_int_equal(allowed, RATE_LIMIT);
	assert_int_equal(refused, RATE_THREADS * RATE_EACH - RATE_LIMIT);
	/* A refusal says when to come back. */
	bool ok;
	int64_t retry = 0;
	assert_int_equal(store_rate_hit(*state, "contract-bucket", T0 + 10, 600, RATE_LIMIT, &ok, &retry), MH_OK);
	assert_false(ok);
	assert_int_equal(retry, 590);
	/* Counting reads without recording. */
	int n = -1;
	assert_int_equal(store_rate_count(*state, "contract-bucket", T0 + 10, 600, &n, &retry), MH_OK);
	assert_int_equal(n, RATE_LIMIT);
	assert_int_equal(retry, 590);
	assert_int_equal(store_rate_count(*state, "contract-bucket", T0 + 10, 600, &n, &retry), MH_OK);
	assert_int_equal(n, RATE_LIMIT);
	assert_int_equal(store_rate_count(*state, "contract-bucket", T0 + 601, 600, &n, &retry), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_rate_count(*state, "no-such-bucket", T0, 600, &n, &retry), MH_OK);
	assert_int_equal(n, 0);
}

static int64_t
subscribed(struct store *s, const char *email, struct subscription *sub)
{
	struct arena *a = arena_new();
	struct plan *plans;
	size_t n;
	struct plan p = { 0, "monthly", "Monthly", 800, "usd", 1, 0, false, "" };
	int64_t plan_id;
	assert_int_equal(store_plan_upsert(s, &p, &plan_id), MH_OK);
	assert_int_equal(store_plan_list(s, a, true, &plans, &n), MH_OK);
	assert_true(n >= 1);
	memset(sub, 0, sizeof *sub);
	sub->member_id = member(s, email);
	sub->plan_id = plans[0].id;
	sub->status = SUB_ACTIVE;
	sub->period_start = T0;
	sub->period_end = T0 + 30 * 86400;
	sub->provider = "test";
	sub->provider_id = sub->provider_customer = "";
	sub->created_at = sub->updated_at = T0;
	assert_int_equal(store_subscription_save(s, sub), MH_OK);
	arena_free(a);
	return sub->id;
}

/* The figures /metrics reports: counts by status, the queue, and a yearly
 * plan's price spread over its months. */
/* The image library: one row per hash whoever adds it again, newest first,
 * the uploader's e-mail joined in. */
static void
test_media_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t ed = member(s, "ed@example.test");
	struct media_row one = {
		"aa11", "PNG", 2000, 1125, 27920, "/media/aa11-1600.webp", "Bands", "x.jpg", ed, "", T0
	};
	struct media_row two = {
		"bb22", "JPEG", 300, 200, 900, "/media/bb22-300.webp", "Small", "y.jpg", 0, "", T0 + 5
	};
	bool added = false;
	assert_int_equal(store_media_add(s, &one, &added), MH_OK);
	assert_true(added);
	assert_int_equal(store_media_add(s, &two, &added), MH_OK);
	assert_true(added);
	struct media_row again = one;
	again.alt = "Another description";
	assert_int_equal(store_media_add(s, &again, &added), MH_OK);
	assert_false(added);
	struct media_row *rows;
	size_t n;
	assert_int_equal(store_media_list(s, a, 0, 10, &rows, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].hash, "bb22");
	assert_string_equal(rows[0].uploader, "");
	assert_int_equal(rows[0].uploaded_by, 0);
	assert_string_equal(rows[1].hash, "aa11");
	assert_string_equal(rows[1].alt, "Bands");
	assert_string_equal(rows[1].uploader, "ed@example.test");
	assert_int_equal(rows[1].width, 2000);
	assert_int_equal(rows[1].bytes, 27920);
	assert_string_equal(rows[1].url, "/media/aa11-1600.webp");
	assert_int_equal(store_media_list(s, a, 1, 10, &rows, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].hash, "aa11");
	arena_free(a);
}

static void
test_site_stats(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct site_stats st;
	assert_int_equal(store_site_stats(s, a, &st), MH_OK);
	assert_int_equal(st.outbox_queued, 0);
	assert_int_equal(st.n_subs + st.n_mrr + st.n_charges, 0);

	struct subscription one, two, three;
	subscribed(s, "a@example.test", &one);
	subscribed(s, "b@example.test", &two);
	struct plan yearly = { 0, "yearly", "Yearly", 12000, "usd", 12, 0, false, "" };
	int64_t yearly_id;
	assert_int_equal(store_plan_upsert(s, &yearly, &yearly_id), MH_OK);
	subscribed(s, "c@example.test", &three);
	three.plan_id = yearly_id;
	assert_int_equal(store_subscription_save(s, &three), MH_OK);
	two.status = SUB_PAST_DUE;
	assert_int_equal(store_subscription_save(s, &two), MH_OK);
	struct outbox_mail m = { 0, "to@example.test", "Subject", "text", "", "<id@x>", T0, 0, T0, 0, "" };
	int64_t id;
	assert_int_equal(store_outbox_push(s, &m, &id), MH_OK);
	assert_int_equal(store_outbox_push(s, &m, &id), MH_OK);
	assert_int_equal(store_outbox_sent(s, id, T0), MH_OK);

	assert_int_equal(store_site_stats(s, a, &st), MH_OK);
	assert_int_equal(st.outbox_queued, 1);
	assert_int_equal(st.n_subs, 2);
	assert_string_equal(st.subs[0].key, "active");
	assert_true(st.subs[0].value == 2.0);
	assert_string_equal(st.subs[1].key, "past_due");
	assert_true(st.subs[1].value == 1.0);
	/* Active only: 800 a month and 12000 a year are 1800 a month. */
	assert_int_equal(st.n_mrr, 1);
	assert_string_equal(st.mrr[0].key, "usd");
	assert_true(st.mrr[0].value == 1800.0);
	arena_free(a);
}

/* The newsroom's member ops: search (LIKE's characters literal), an import
 * that is all or nothing, and a deletion that takes the member's rows with
 * it; and the dashboard's figures from invoice history. */
static void
test_newsroom_member_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct member *list;
	size_t n, bad = 99;
	struct member in[3] = {
		{ 0, "ann@example.test", "Ann 100%", "", ROLE_READER, T0, 0, true },
		{ 0, "bob_b@example.test", "Bob", "", ROLE_EDITOR, T0 + 1, T0 + 86400, false },
		{ 0, "ann@example.test", "Again", "", ROLE_READER, T0, 0, false },
	};
	/* The third repeats the first: nothing is created. */
	assert_int_equal(store_member_import(s, in, 3, &bad), MH_ERR_CONFLICT);
	assert_int_equal(bad, 2);
	assert_int_equal(store_member_search(s, a, "", 0, 10, &list, &n), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_member_import(s, in, 2, &bad), MH_OK);
	assert_int_equal(store_member_search(s, a, "ANN", 0, 10, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].email, "ann@example.test");
	assert_int_equal(store_member_search(s, a, "100%", 0, 10, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_member_search(s, a, "%", 0, 10, &list, &n), MH_OK);
	assert_int_equal(n, 1); /* only "Ann 100%" holds a percent sign */
	assert_int_equal(store_member_search(s, a, "_b", 0, 10, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].email, "bob_b@example.test");
	assert_int_equal(list[0].comped_until, T0 + 86400);
	assert_int_equal(store_member_search(s, a, "example", 1, 10, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].email, "bob_b@example.test");

	/* A subscriber with a paid month, then a renewal that failed on one
	 * card and was paid by another: recovered. */
	struct subscription sub;
	subscribed(s, "sub@example.test", &sub);
	struct payment_method old = { 0, sub.member_id, "Visa", "0341", 12, 2030, "fail", false, "", T0 };
	struct payment_method new = { 0, sub.member_id, "Visa", "4242", 12, 2030, "ok", false, "", T0 };
	assert_int_equal(store_payment_method_add(s, &old, true), MH_OK);
	assert_int_equal(store_payment_method_add(s, &new, true), MH_OK);
	struct invoice first = { 0, sub.id, 800,        "usd", "paid",          T0 - 30 * 86400, T0,
		                 1, 0,      "nr-inv-1", "",    T0 - 30 * 86400, T0 - 30 * 86400, 0 };
	struct invoice second = { 0, sub.id, 800, "usd", "open", T0, T0 + 30 * 86400, 0, 0, "nr-inv-2", "", 0, T0, 0 };
	assert_int_equal(store_invoice_create(s, &first), MH_OK);
	assert_int_equal(store_invoice_create(s, &second), MH_OK);
	struct charge c1 = { 0, second.id, "nr-c1", old.id, "pending", "", "", T0, 0 };
	assert_int_equal(store_charge_begin(s, &c1), MH_OK);
	assert_int_equal(store_charge_finish(s, c1.id, "failed", "card_declined", "Declined.", T0), MH_OK);
	struct failing_invoice *f;
	assert_int_equal(store_invoices_failing(s, a, 10, &f, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(f[0].member_id, sub.member_id);
	assert_string_equal(f[0].email, "sub@example.test");
	struct paying_at p[SITE_STATS_MAX];
	assert_int_equal(store_paying_at(s, a, T0 - 1, p, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].subscribers, 1);
	assert_int_equal(p[0].mrr, 800);
	assert_int_equal(store_paying_at(s, a, T0 + 10, p, &n), MH_OK);
	assert_int_equal(n, 0); /* the renewal is not paid yet */
	struct charge c2 = { 0, second.id, "nr-c2", new.id, "pending", "", "", T0 + 5, 0 };
	assert_int_equal(store_charge_begin(s, &c2), MH_OK);
	assert_int_equal(store_charge_finish(s, c2.id, "succeeded", "", "", T0 + 5), MH_OK);
	second.status = "paid";
	second.paid_at = T0 + 5;
	assert_int_equal(store_invoice_save(s, &second), MH_OK);
	struct dash_counts dc;
	assert_int_equal(store_dash_counts(s, a, T0 - 86400, T0 + 86400, &dc), MH_OK);
	assert_int_equal(dc.members, 3);
	assert_int_equal(dc.trials, 0);
	assert_int_equal(dc.started, 0); /* its first payment was the month before */
	assert_int_equal(dc.churned, 0);
	assert_int_equal(dc.n_recovered, 1);
	assert_string_equal(dc.recovered[0].key, "usd");
	assert_true(dc.recovered[0].value == 800.0);
	assert_int_equal(store_dash_counts(s, a, T0 - 40 * 86400, T0 - 86400, &dc), MH_OK);
	assert_int_equal(dc.started, 1);
	assert_int_equal(dc.n_recovered, 0);

	/* Deleting the subscriber takes their rows; the others stay. */
	assert_int_equal(store_member_delete(s, sub.member_id), MH_OK);
	assert_int_equal(store_member_delete(s, sub.member_id), MH_ERR_NOTFOUND);
	struct subscription gone;
	assert_int_equal(store_subscription_by_member(s, a, sub.member_id, &gone), MH_ERR_NOTFOUND);
	struct invoice *inv;
	assert_int_equal(store_invoice_list(s, a, sub.id, &inv, &n), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_paying_at(s, a, T0 - 1, p, &n), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_member_search(s, a, "", 0, 10, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	arena_free(a);
}

static void
test_subscription_save_is_conditional(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct subscription sub, run, member_view;
	int64_t id = subscribed(s, "sub@example.test", &sub);
	assert_int_equal(store_subscription_get(s, a, id, &run), MH_OK);
	assert_int_equal(store_subscription_get(s, a, id, &member_view), MH_OK);
	/* The member cancels first. */
	member_view.cancel_at_period_end = true;
	assert_int_equal(store_subscription_save(s, &member_view), MH_OK);
	/* A writer holding the older row loses, and writes nothing. */
	run.status = SUB_PAST_DUE;
	assert_int_equal(store_subscription_save(s, &run), MH_ERR_CONFLICT);
	struct subscription now;
	assert_int_equal(store_subscription_get(s, a, id, &now), MH_OK);
	assert_int_equal(now.status, SUB_ACTIVE);
	assert_true(now.cancel_at_period_end);
	/* Read again, it applies. */
	now.status = SUB_PAST_DUE;
	assert_int_equal(store_subscription_save(s, &now), MH_OK);
	assert_int_equal(store_subscription_get(s, a, id, &run), MH_OK);
	assert_int_equal(run.status, SUB_PAST_DUE);
	assert_true(run.cancel_at_period_end);
	arena_free(a);
}

static void
test_claims_are_once(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct subscription sub;
	subscribed(s, "claim@example.test", &sub);
	/* The card reminder. */
	struct payment_method pm = { 0, sub.member_id, "Visa", "4242", 1, 2027, "ok", true, "", T0 };
	assert_int_equal(store_payment_method_add(s, &pm, true), MH_OK);
	struct payment_method *cards;
	size_t n;
	assert_int_equal(store_cards_expiring(s, a, 2027 * 12 + 1, &cards, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_card_reminded(s, cards[0].id), MH_OK);
	assert_int_equal(store_card_reminded(s, cards[0].id), MH_ERR_CONFLICT);
	assert_int_equal(store_cards_expiring(s, a, 2027 * 12 + 1, &cards, &n), MH_OK);
	assert_int_equal(n, 0);
	/* An invoice: one claim at a time, for the lease. */
	struct invoice inv = { 0, sub.id, 800, "usd", "open", T0, T0 + 86400, 0, 0, "contract-inv-1", "", 0, T0, 0 };
	assert_int_equal(store_invoice_create(s, &inv), MH_OK);
	struct invoice again = inv;
	again.id = 0;
	assert_int_equal(store_invoice_create(s, &again), MH_ERR_CONFLICT);
	assert_int_equal(store_invoice_claim(s, inv.id, T0, 60), MH_OK);
	assert_int_equal(store_invoice_claim(s, inv.id, T0 + 30, 60), MH_ERR_CONFLICT);
	assert_int_equal(store_invoice_claim(s, inv.id, T0 + 61, 60), MH_OK); /* the lease ran out */
	assert_int_equal(store_invoice_release(s, inv.id), MH_OK);
	assert_int_equal(store_invoice_claim(s, inv.id, T0 + 62, 60), MH_OK);
	/* Created claimed: nobody else takes it until that claim lapses. */
	struct invoice held = { 0,  sub.id, 800, "usd",   "open", T0, T0 + 86400, 0, 0, "contract-inv-held",
		                "", 0,      T0,  T0 + 300 };
	assert_int_equal(store_invoice_create(s, &held), MH_OK);
	assert_int_equal(store_invoice_claim(s, held.id, T0 + 10, 60), MH_ERR_CONFLICT);
	assert_int_equal(store_invoice_claim(s, held.id, T0 + 300, 60), MH_OK);
	/* A paid invoice is nobody's to take: a run that read it open before
	 * another run paid it and let go must not charge it again. */
	assert_int_equal(store_invoice_release(s, held.id), MH_OK);
	assert_int_equal(store_invoice_get(s, a, held.id, &held), MH_OK);
	held.status = "paid";
	held.next_attempt_at = 0;
	assert_int_equal(store_invoice_save(s, &held), MH_OK);
	assert_int_equal(store_invoice_claim(s, held.id, T0 + 400, 60), MH_ERR_CONFLICT);
	/* A provider event applies once. */
	assert_int_equal(store_billing_event_record(s, "stripe", "evt_1", "invoice.paid", T0, T0), MH_OK);
	assert_int_equal(store_billing_event_record(s, "stripe", "evt_1", "invoice.paid", T0, T0), MH_ERR_CONFLICT);
	/* A checkout completes once. */
	struct checkout co = { "cc01", sub.member_id, sub.plan_id, "card", "open", T0, T0 + 3600 };
	assert_int_equal(store_checkout_create(s, &co), MH_OK);
	struct checkout got;
	assert_int_equal(store_checkout_get(s, a, "cc01", T0, &got), MH_OK);
	assert_int_equal(store_checkout_complete(s, "cc01"), MH_OK);
	assert_int_equal(store_checkout_complete(s, "cc01"), MH_ERR_NOTFOUND);
	arena_free(a);
}

/* Two senders claim the outbox at once: each mail goes to one of them. */
struct outbox_job {
	struct store *s;
	int64_t got[64];
	size_t n;
};

static void *
outbox_worker(void *p)
{
	struct outbox_job *j = p;
	struct arena *a = arena_new();
	for (;;) {
		struct outbox_mail *m;
		size_t n;
		if (store_outbox_claim(j->s, a, T0, 300, 3, &m, &n) || n == 0)
			break;
		for (size_t i = 0; i < n && j->n < 64; i++)
			j->got[j->n++] = m[i].id;
	}
	arena_free(a);
	return NULL;
}

static void
test_outbox_claims_two_senders(void **state)
{
	struct store *s = *state;
	enum { MAILS = 40 };
	for (int i = 0; i < MAILS; i++) {
		struct outbox_mail m = { 0, "to@example.test", "Subject", "text", "", "<id@x>", T0, 0, T0, 0, "" };
		int64_t id;
		assert_int_equal(store_outbox_push(s, &m, &id), MH_OK);
	}
	struct outbox_job jobs[2] = { { s, { 0 }, 0 }, { s, { 0 }, 0 } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, outbox_worker, &jobs[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(jobs[0].n + jobs[1].n, MAILS);
	for (size_t i = 0; i < jobs[0].n; i++)
		for (size_t k = 0; k < jobs[1].n; k++)
			assert_true(jobs[0].got[i] != jobs[1].got[k]);
}

static void
test_gated_needs_a_full_decision(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct article_input in = { .slug = "contract-paid",
		                    .title = "T",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0,
		                    .updated_at = T0,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>t</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>GATED</p>" };
	int64_t id;
	bool created;
	struct store_versions v0, v1;
	assert_int_equal(store_versions(s, &v0), MH_OK);
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	assert_true(created);
	assert_int_equal(store_versions(s, &v1), MH_OK);
	assert_true(v1.content != v0.content);
	struct article *art;
	assert_int_equal(store_article_by_slug(s, a, "contract-paid", &art), MH_OK);
	const char *html = "untouched";
	struct access_decision teaser = { id, false, REASON_ANONYMOUS };
	assert_int_equal(store_article_gated(s, a, art, &teaser, &html), MH_ERR_DENIED);
	assert_string_equal(html, "");
	struct access_decision other = { id + 1, true, REASON_SUBSCRIBER };
	assert_int_equal(store_article_gated(s, a, art, &other, &html), MH_ERR_DENIED);
	assert_int_equal(store_article_gated(s, a, art, NULL, &html), MH_ERR_DENIED);
	struct access_decision full = { id, true, REASON_SUBSCRIBER };
	assert_int_equal(store_article_gated(s, a, art, &full, &html), MH_OK);
	assert_string_equal(html, "<p>GATED</p>");
	arena_free(a);
}

/* The feature image and featured flag: written by an upsert, read back by
 * the article, listings and export, and replaced by the next upsert. */
static void
test_feature_image_round_trip(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct article_input in = { .slug = "contract-image",
		                    .title = "T",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PUBLIC,
		                    .published_at = T0,
		                    .updated_at = T0,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>t</p>",
		                    .featured = true,
		                    .image = { "/static/demo/x.svg", "Cranes.", "At dusk.", "Ana Ruiz" } };
	int64_t id;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	struct article *art;
	assert_int_equal(store_article_by_slug(s, a, "contract-image", &art), MH_OK);
	assert_true(art->featured);
	assert_string_equal(art->image.src, "/static/demo/x.svg");
	assert_string_equal(art->image.alt, "Cranes.");
	assert_string_equal(art->image.caption, "At dusk.");
	assert_string_equal(art->image.credit, "Ana Ruiz");
	assert_string_equal(art->teaser_html, "<p>t</p>");
	struct article_filter f = { LIST_ALL, NULL, T0 + 1, 100, 0 };
	struct article *list;
	size_t n;
	assert_int_equal(store_article_list(s, a, &f, &list, &n), MH_OK);
	bool seen = false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].slug, "contract-image") == 0) {
			seen = true;
			assert_true(list[i].featured);
			assert_string_equal(list[i].image.credit, "Ana Ruiz");
		}
	assert_true(seen);
	in.featured = false;
	in.image = (struct article_image){ NULL, NULL, NULL, NULL };
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	assert_false(created);
	assert_int_equal(store_article_by_slug(s, a, "contract-image", &art), MH_OK);
	assert_false(art->featured);
	assert_string_equal(art->image.src, "");
	arena_free(a);
}

static void
test_transactions(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	assert_int_equal(store_begin(s), MH_OK);
	member(s, "rolled@example.test");
	assert_int_equal(store_rollback(s), MH_OK);
	struct member m;
	assert_int_equal(store_member_by_email(s, a, "rolled@example.test", &m), MH_ERR_NOTFOUND);
	assert_int_equal(store_begin(s), MH_OK);
	member(s, "kept@example.test");
	assert_int_equal(store_commit(s), MH_OK);
	assert_int_equal(store_member_by_email(s, a, "kept@example.test", &m), MH_OK);
	assert_int_equal(store_ping(s), MH_OK);
	arena_free(a);
}

/* Content reads: listings, names, speakers and export sources. */
static void
test_content_reads(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	static struct named_ref authors[] = { { "ana-reyes", "Ana Reyes" } };
	static struct named_ref tags[] = { { "port", "Port" } };
	static struct quote_input quotes[] = { { "ines-okafor", "Ines Okafor", "Chair", "<blockquote>Q</blockquote>",
		                                 false } };
	struct article_input in = { .slug = "first",
		                    .title = "First",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PUBLIC,
		                    .published_at = T0 - 10,
		                    .updated_at = T0 - 10,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>t</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>g</p>",
		                    .authors = authors,
		                    .n_authors = 1,
		                    .tags = tags,
		                    .n_tags = 1,
		                    .quotes = quotes,
		                    .n_quotes = 1 };
	int64_t id;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	in.slug = "second";
	in.published_at = T0 - 5;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	in.slug = "scheduled";
	in.published_at = T0 + 3600;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	/* Newest first, nothing scheduled, by tag and by author, paged. */
	struct article *list;
	size_t n;
	struct article_filter all = { LIST_ALL, NULL, T0, 10, 0 };
	assert_int_equal(store_article_list(s, a, &all, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].slug, "second");
	struct article_filter by_tag = { LIST_TAG, "port", T0, 1, 1 };
	assert_int_equal(store_article_list(s, a, &by_tag, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].slug, "first");
	struct article_filter by_author = { LIST_AUTHOR, "ana-reyes", T0, 10, 0 };
	assert_int_equal(store_article_list(s, a, &by_author, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	struct named_ref ref;
	assert_int_equal(store_named_by_slug(s, a, LIST_TAG, "port", &ref), MH_OK);
	assert_string_equal(ref.name, "Port");
	assert_int_equal(store_named_by_slug(s, a, LIST_AUTHOR, "nobody", &ref), MH_ERR_NOTFOUND);
	struct speaker sp;
	struct quote *q;
	assert_int_equal(store_speaker_by_slug(s, a, "ines-okafor", &sp), MH_OK);
	assert_int_equal(store_speaker_quotes(s, a, sp.id, &q, &n), MH_OK);
	assert_true(n >= 2);
	struct article_source *src;
	assert_int_equal(store_article_sources(s, a, &src, &n), MH_OK);
	assert_int_equal(n, 3);
	/* The count pages through what LIST_ALL lists. */
	assert_int_equal(store_article_count(s, T0, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_article_count(s, T0 + 3600, &n), MH_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_article_count(s, T0 - 8, &n), MH_OK);
	assert_int_equal(n, 1);
	arena_free(a);
}

/* Members and sessions: the rest of their ops. */
static void
test_member_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t id = member(s, "m@example.test");
	member(s, "n@example.test");
	struct member *ms;
	size_t n;
	assert_int_equal(store_member_list(s, a, &ms, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_member_set_password(s, "m@example.test", "$argon2id$x"), MH_OK);
	assert_int_equal(store_member_set_password(s, "nobody@example.test", "$argon2id$x"), MH_ERR_NOTFOUND);
	assert_int_equal(store_member_update(s, id, "New Name", NULL, 1), MH_OK);
	struct member m;
	assert_int_equal(store_member_by_id(s, a, id, &m), MH_OK);
	assert_string_equal(m.name, "New Name");
	assert_string_equal(m.email, "m@example.test");
	assert_string_equal(m.password_hash, "$argon2id$x");
	assert_true(m.email_verified);
	/* E-mail taken by another member: refused. */
	assert_int_equal(store_member_update(s, id, NULL, "n@example.test", -1), MH_ERR_CONFLICT);
	struct session one = { "cc01", id, T0, T0, T0 + 600, "ua", "192.0.2.1" };
	struct session two = { "cc02", id, T0, T0, T0 + 600, "ua", "192.0.2.2" };
	assert_int_equal(store_session_create(s, &one), MH_OK);
	assert_int_equal(store_session_create(s, &two), MH_OK);
	assert_int_equal(store_session_touch(s, "cc01", T0 + 60, T0 + 6000), MH_OK);
	struct session *list;
	assert_int_equal(store_session_list(s, a, id, T0 + 700, &list, &n), MH_OK);
	assert_int_equal(n, 1); /* cc02 expired at T0 + 600; cc01 was moved on */
	assert_int_equal(store_session_delete_member(s, id, "cc01"), MH_OK);
	assert_int_equal(store_session_list(s, a, id, T0, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].token_hash, "cc01");
	arena_free(a);
}

/* The outbox after a claim: sent, retried later, listed. */
static void
test_outbox_lifecycle(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct outbox_mail m = { 0, "to@example.test", "Subject", "text", "", "<id@x>", T0, 0, T0, 0, "" };
	int64_t one, two;
	assert_int_equal(store_outbox_push(s, &m, &one), MH_OK);
	assert_int_equal(store_outbox_push(s, &m, &two), MH_OK);
	struct outbox_mail *got;
	size_t n;
	assert_int_equal(store_outbox_claim(s, a, T0, 300, 10, &got, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_sent(s, one, T0 + 1), MH_OK);
	assert_int_equal(store_outbox_retry(s, two, T0 + 600, "smtp: refused"), MH_OK);
	/* Not due yet, then due again; the sent one never comes back. */
	assert_int_equal(store_outbox_claim(s, a, T0 + 10, 300, 10, &got, &n), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_claim(s, a, T0 + 601, 300, 10, &got, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].id, two);
	assert_int_equal(store_outbox_list(s, a, &got, &n), MH_OK);
	assert_int_equal(n, 2);
	arena_free(a);
}

/* Gift links and the meter. */
static void
test_gifts_and_meter(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t giver = member(s, "giver@example.test");
	struct article_input in = { .slug = "gifted",
		                    .title = "Gifted",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0 - 10,
		                    .updated_at = T0 - 10,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>t</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>g</p>" };
	int64_t article;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &article, &created), MH_OK);
	struct gift_link g = { 0, "dd01", giver, article, 2, 0, T0, T0 + 86400, 0, NULL, NULL };
	assert_int_equal(store_gift_create(s, &g), MH_OK);
	struct gift_link got;
	assert_int_equal(store_gift_get(s, a, "dd01", &got), MH_OK);
	assert_int_equal(got.article_id, article);
	/* Two uses, then no more. */
	assert_int_equal(store_gift_use(s, got.id, T0 + 1), MH_OK);
	assert_int_equal(store_gift_use(s, got.id, T0 + 2), MH_OK);
	assert_int_not_equal(store_gift_use(s, got.id, T0 + 3), MH_OK);
	struct gift_link *list;
	size_t n;
	assert_int_equal(store_gift_list(s, a, giver, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].article_slug, "gifted");
	/* Only the giver revokes, once. */
	assert_int_not_equal(store_gift_revoke(s, got.id, giver + 1000, T0 + 4), MH_OK);
	assert_int_equal(store_gift_revoke(s, got.id, giver, T0 + 4), MH_OK);
	assert_int_not_equal(store_gift_revoke(s, got.id, giver, T0 + 5), MH_OK);
	/* The meter counts an article once a month. */
	int count = -1;
	bool has = true;
	assert_int_equal(store_meter_get(s, giver, "2026-12", article, &count, &has), MH_OK);
	assert_int_equal(count, 0);
	assert_false(has);
	assert_int_equal(store_meter_add(s, giver, "2026-12", article, T0), MH_OK);
	assert_int_equal(store_meter_add(s, giver, "2026-12", article, T0 + 1), MH_OK);
	assert_int_equal(store_meter_get(s, giver, "2026-12", article, &count, &has), MH_OK);
	assert_int_equal(count, 1);
	assert_true(has);
	assert_int_equal(store_meter_get(s, giver, "2027-01", article, &count, &has), MH_OK);
	assert_int_equal(count, 0);
	arena_free(a);
}

/* Billing's reads and the charge lifecycle. */
static void
test_billing_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct subscription sub, got;
	subscribed(s, "bill@example.test", &sub);
	struct plan p;
	assert_int_equal(store_plan_get(s, a, 0, "monthly", &p), MH_OK);
	assert_int_equal(store_plan_get(s, a, p.id, NULL, &p), MH_OK);
	assert_int_equal(store_plan_get(s, a, 0, "weekly", &p), MH_ERR_NOTFOUND);
	assert_int_equal(store_subscription_by_member(s, a, sub.member_id, &got), MH_OK);
	assert_int_equal(got.id, sub.id);
	/* Found by the provider's ids. */
	got.provider = "stripe";
	got.provider_id = "sub_9";
	got.provider_customer = "cus_9";
	assert_int_equal(store_subscription_save(s, &got), MH_OK);
	assert_int_equal(store_subscription_by_provider(s, a, "sub_9", "", &got), MH_OK);
	assert_int_equal(store_subscription_by_provider(s, a, "", "cus_9", &got), MH_OK);
	assert_int_equal(store_subscription_by_provider(s, a, "sub_0", "cus_0", &got), MH_ERR_NOTFOUND);
	/* Due: renewals whose period ended. */
	struct subscription *due;
	size_t n;
	assert_int_equal(store_subscriptions_due(s, a, T0 + 31 * 86400, 3 * 86400, &due, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_subscriptions_due(s, a, T0, 3 * 86400, &due, &n), MH_OK);
	assert_int_equal(n, 0);
	struct payment_method pm = { 0, sub.member_id, "Visa", "4242", 12, 2030, "ok", false, "", T0 };
	assert_int_equal(store_payment_method_add(s, &pm, true), MH_OK);
	struct payment_method def;
	assert_int_equal(store_payment_method_default(s, a, sub.member_id, &def), MH_OK);
	assert_string_equal(def.last4, "4242");
	/* An invoice: open, charged once with a failure, then paid. */
	struct invoice inv = {
		0, sub.id, 800, "usd", "open", T0, T0 + 86400, 0, T0 + 60, "contract-inv-2", "", 0, T0, 0
	};
	assert_int_equal(store_invoice_create(s, &inv), MH_OK);
	struct invoice one, *list;
	assert_int_equal(store_invoice_open(s, a, sub.id, &one), MH_OK);
	assert_int_equal(one.id, inv.id);
	assert_int_equal(store_invoices_due(s, a, T0 + 61, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	struct charge c = { 0, inv.id, "inv-a1", pm.id, "pending", "", "", T0, 0 };
	assert_int_equal(store_charge_begin(s, &c), MH_OK);
	struct charge *pending;
	assert_int_equal(store_charges_pending(s, a, &pending, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_charge_finish(s, c.id, "failed", "card_declined", "Declined.", T0 + 1), MH_OK);
	assert_int_not_equal(store_charge_finish(s, c.id, "succeeded", "", "", T0 + 2), MH_OK);
	struct charge fail;
	assert_int_equal(store_invoice_failure(s, a, inv.id, &fail), MH_OK);
	assert_string_equal(fail.failure_message, "Declined.");
	inv.status = "paid";
	inv.paid_at = T0 + 3;
	inv.next_attempt_at = 0;
	assert_int_equal(store_invoice_save(s, &inv), MH_OK);
	assert_int_equal(store_invoice_get(s, a, inv.id, &one), MH_OK);
	assert_string_equal(one.status, "paid");
	assert_int_equal(store_invoice_open(s, a, sub.id, &one), MH_ERR_NOTFOUND);
	assert_int_equal(store_invoice_list(s, a, sub.id, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	/* The test provider's ledger: a key's first outcome stands. */
	const char *rec;
	assert_int_equal(store_test_ledger_charge(s, a, "k-1", 800, "succeeded", T0, &rec), MH_OK);
	assert_string_equal(rec, "succeeded");
	assert_int_equal(store_test_ledger_charge(s, a, "k-1", 800, "failed", T0 + 1, &rec), MH_OK);
	assert_string_equal(rec, "succeeded");
	int count;
	assert_int_equal(store_test_ledger_count(s, "k-", &count), MH_OK);
	assert_int_equal(count, 1);
	arena_free(a);
}

/* Many threads add default cards for one member at once: every add
 * succeeds, and the member ends with exactly one default card. */
#define CARD_THREADS 8
#define CARD_EACH    12

struct card_job {
	struct store *s;
	int64_t member_id;
	int errors;
};

static void *
card_worker(void *p)
{
	struct card_job *j = p;
	for (int i = 0; i < CARD_EACH; i++) {
		struct payment_method pm = { 0, j->member_id, "Visa", "4242", 1 + i % 12, 2031, "ok", false, "", T0 };
		if (store_payment_method_add(j->s, &pm, true))
			j->errors++;
	}
	return NULL;
}

static void
test_one_default_card_under_concurrent_adds(void **state)
{
	struct store *s = *state;
	int64_t who = member(s, "cards@example.test");
	int64_t other = member(s, "other@example.test");
	struct payment_method keep = { 0, other, "Visa", "1111", 12, 2032, "ok", false, "", T0 };
	assert_int_equal(store_payment_method_add(s, &keep, true), MH_OK);
	struct card_job jobs[CARD_THREADS];
	pthread_t th[CARD_THREADS];
	for (int i = 0; i < CARD_THREADS; i++) {
		jobs[i] = (struct card_job){ s, who, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, card_worker, &jobs[i]), 0);
	}
	int errors = 0;
	for (int i = 0; i < CARD_THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += jobs[i].errors;
	}
	assert_int_equal(errors, 0);
	/* Every default card not yet reminded, of every member. */
	struct arena *a = arena_new();
	struct payment_method *cards;
	size_t n;
	assert_int_equal(store_cards_expiring(s, a, INT64_C(1) << 40, &cards, &n), MH_OK);
	int mine = 0, theirs = 0;
	for (size_t i = 0; i < n; i++) {
		mine += cards[i].member_id == who;
		theirs += cards[i].member_id == other;
	}
	assert_int_equal(mine, 1);
	assert_int_equal(theirs, 1);
	struct payment_method def;
	assert_int_equal(store_payment_method_default(s, a, who, &def), MH_OK);
	assert_int_equal(def.member_id, who);
	arena_free(a);
}

/* The connection pool (PostgreSQL; SQLite has a connection per thread):
 * with every connection out, a caller waits for one to come back, and
 * gives up with a clear error when none does in time. */
struct pool_job {
	struct store *s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int holding, go, done;
	mh_err err;
};

static void *
pool_holder(void *p)
{
	struct pool_job *j = p;
	mh_err err = store_begin(j->s);
	pthread_mutex_lock(&j->lock);
	j->holding++;
	if (err)
		j->err = err;
	pthread_cond_broadcast(&j->cond);
	while (!j->go)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
	store_commit(j->s);
	store_release(j->s);
	return NULL;
}

static void *
pool_waiter(void *p)
{
	struct pool_job *j = p;
	mh_err err = store_ping(j->s);
	store_release(j->s);
	pthread_mutex_lock(&j->lock);
	j->done = 1;
	j->err = err;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static void
test_pool_waits_then_gives_up(void **state)
{
	struct store *s = *state;
	if (strcmp(store_engine(s), "postgres") != 0)
		skip();
	store_release(s); /* what setup borrowed */
	store_set_pool(s, 2);
	struct pool_job j = { .s = s };
	pthread_mutex_init(&j.lock, NULL);
	pthread_cond_init(&j.cond, NULL);
	pthread_t h[2], w;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&h[i], NULL, pool_holder, &j), 0);
	pthread_mutex_lock(&j.lock);
	while (j.holding < 2)
		pthread_cond_wait(&j.cond, &j.lock);
	pthread_mutex_unlock(&j.lock);
	assert_int_equal(j.err, MH_OK);
	/* Both connections are out, each in a transaction: a third caller waits. */
	assert_int_equal(pthread_create(&w, NULL, pool_waiter, &j), 0);
	usleep(300 * 1000);
	pthread_mutex_lock(&j.lock);
	assert_int_equal(j.done, 0);
	j.go = 1;
	pthread_cond_broadcast(&j.cond);
	pthread_mutex_unlock(&j.lock);
	pthread_join(w, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(h[i], NULL);
	assert_int_equal(j.done, 1);
	assert_int_equal(j.err, MH_OK);
	/* One connection, held by this thread's open transaction: a caller gives
	 * up after STORE_POOL_WAIT_MS and says why. */
	store_set_pool(s, 1);
	assert_int_equal(store_begin(s), MH_OK);
	store_release(s); /* kept: a transaction is open */
	j.done = 0;
	j.err = MH_OK;
	assert_int_equal(pthread_create(&w, NULL, pool_waiter, &j), 0);
	pthread_join(w, NULL);
	assert_int_equal(j.err, MH_ERR_DB);
	assert_int_equal(store_commit(s), MH_OK);
	store_release(s);
	/* Given back, it serves the next caller at once. */
	j.done = 0;
	assert_int_equal(pthread_create(&w, NULL, pool_waiter, &j), 0);
	pthread_join(w, NULL);
	assert_int_equal(j.err, MH_OK);
	pthread_cond_destroy(&j.cond);
	pthread_mutex_destroy(&j.lock);
}

struct secret_job {
	struct store *s;
	char fresh[65];
	char got[80];
	mh_err err;
};

static void *
secret_worker(void *p)
{
	struct secret_job *j = p;
	j->err = store_site_secret(j->s, j->fresh, j->got, sizeof j->got);
	return NULL;
}

/* [unique]: of several first starts at once, one key is stored and every
 * caller gets that one; later callers get it too, whatever they offer. */
static void
test_site_secret_first_wins(void **state)
{
	struct secret_job jobs[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct secret_job){ .s = *state };
		memset(jobs[i].fresh, 'a' + i, 64);
		jobs[i].fresh[64] = '\0';
		assert_int_equal(pthread_create(&th[i], NULL, secret_worker, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jobs[i].err, MH_OK);
		assert_string_equal(jobs[i].got, jobs[0].got);
	}
	bool offered = false;
	for (int i = 0; i < 4; i++)
		offered |= strcmp(jobs[0].got, jobs[i].fresh) == 0;
	assert_true(offered);
	char again[80];
	assert_int_equal(store_site_secret(*state, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	                                   again, sizeof again),
	                 MH_OK);
	assert_string_equal(again, jobs[0].got);
}

/* [read]: after store_migrate, no migration of this binary is pending. */
static void
test_nothing_pending_after_migrate(void **state)
{
	int pending = -1;
	assert_int_equal(store_migrations_pending(*state, &pending), MH_OK);
	assert_int_equal(pending, 0);
}

static void
test_member_changes(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t one = member(s, "change1@example.test"), two = member(s, "change2@example.test");
	struct session sess = { "cc01", two, T0, T0, T0 + 3600, "ua", "127.0.0.1" };
	assert_int_equal(store_session_create(s, &sess), MH_OK);
	int64_t cursor = STORE_CHANGES_FIRST, *ids;
	size_t n;
	bool flush;
	/* The first call knows nothing: flush, and go on from the newest change. */
	assert_int_equal(store_member_changes(s, a, &cursor, 10, &ids, &n, &flush), MH_OK);
	assert_true(flush);
	assert_int_equal(n, 0);
	int64_t start = cursor;
	assert_int_equal(store_member_changes(s, a, &cursor, 10, &ids, &n, &flush), MH_OK);
	assert_false(flush);
	assert_int_equal(n, 0);
	assert_int_equal(cursor, start);
	/* A row change, a session ended: in commit order, max at a time. */
	assert_int_equal(store_member_set_role(s, "change1@example.test", ROLE_EDITOR), MH_OK);
	assert_int_equal(store_session_delete(s, "cc01"), MH_OK);
	assert_int_equal(store_member_changes(s, a, &cursor, 1, &ids, &n, &flush), MH_OK);
	assert_false(flush);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], one);
	assert_int_equal(store_member_changes(s, a, &cursor, 10, &ids, &n, &flush), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], two);
	assert_int_equal(store_member_changes(s, a, &cursor, 10, &ids, &n, &flush), MH_OK);
	assert_int_equal(n, 0);
	/* The newest change is what versions.members says. */
	struct store_versions v;
	assert_int_equal(store_versions(s, &v), MH_OK);
	assert_int_equal(v.members, cursor);
	/* A cursor the store never gave (a restored store): flush. */
	int64_t ahead = cursor + 5;
	assert_int_equal(store_member_changes(s, a, &ahead, 10, &ids, &n, &flush), MH_OK);
	assert_true(flush);
	assert_int_equal(ahead, cursor);
	/* Housekeeping keeps the newest changes. */
	int removed;
	assert_int_equal(store_housekeep(s, T0, &removed), MH_OK);
	assert_int_equal(store_member_changes(s, a, &cursor, 10, &ids, &n, &flush), MH_OK);
	assert_false(flush);
	arena_free(a);
}

/* A scope that reads the gated index of every article, for store tests. */
static const struct search_scope *
every(int64_t now)
{
	static struct search_scope sc;
	sc = (struct search_scope){ .now = now,
		                    .limit = 100,
		                    .gated_public = true,
		                    .gated_members = true,
		                    .gated_paid = true,
		                    .paywalled_before = INT64_MIN };
	return &sc;
}

/* Search: both indexes follow every upsert; the gated snippet needs a FULL
 * decision by right for that very article. */
static void
test_search_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct article_input in = { .slug = "fog",
		                    .title = "Harbor <em>fog</em> returns",
		                    .dek = "Keepers &amp; boats",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0 - 10,
		                    .updated_at = T0 - 10,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>The lighthouse keepers wait.</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>Behind the wall: zebrafrost.</p>" };
	int64_t id, later;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	in.slug = "later";
	in.title = "Scheduled fog";
	in.published_at = T0 + 3600;
	assert_int_equal(store_article_upsert(s, &in, &later, &created), MH_OK);
	struct search_row *rows;
	size_t n;
	bool more;
	/* A title word: the public index, ranked; not the scheduled one. */
	assert_int_equal(store_search(s, a, "\"fog\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].article_id, id);
	assert_true(rows[0].in_public);
	assert_true(rows[0].rank < 0);
	assert_int_equal(rows[0].access, ACCESS_PAID);
	assert_int_equal(rows[0].published_at, T0 - 10);
	/* A gated word: only the gated index; with a public word too, across both. */
	assert_int_equal(store_search(s, a, "\"zebrafrost\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_false(rows[0].in_public);
	assert_true(rows[0].in_gated);
	assert_int_equal(store_search(s, a, "\"lighthouse\" \"zebrafrost\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_false(rows[0].in_public);
	assert_true(rows[0].in_gated);
	/* The text is the HTML's words: no tags, entities decoded. */
	assert_int_equal(store_search(s, a, "\"em\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 0);
	struct search_excerpt ex;
	assert_int_equal(store_search_excerpt(s, a, "\"fog\" OR \"keepers\"", id, &ex), MH_OK);
	assert_true(ex.matched);
	assert_string_equal(ex.slug, "fog");
	assert_string_equal(ex.title_marked, "Harbor \x01"
	                                     "fog\x02 returns");
	assert_string_equal(ex.dek_marked, "\x01Keepers\x02 & boats");
	assert_non_null(strstr(ex.snippet_marked, "\x01keepers\x02"));
	assert_int_equal(store_search_excerpt(s, a, "\"zebrafrost\"", id, &ex), MH_OK);
	assert_false(ex.matched);
	assert_string_equal(ex.title_marked, "Harbor <em>fog</em> returns"); /* as stored */
	assert_int_equal(store_search_excerpt(s, a, "\"fog\"", id + 1000, &ex), MH_ERR_NOTFOUND);
	/* The gated snippet: FULL by right for this article only. */
	const char *snip = "x";
	struct access_decision d = { id, true, REASON_SUBSCRIBER };
	assert_int_equal(store_search_gated_snippet(s, a, "\"zebrafrost\"", &d, &snip), MH_OK);
	assert_non_null(strstr(snip, "\x01zebrafrost\x02"));
	struct access_decision teaser = { id, false, REASON_ANONYMOUS };
	struct access_decision gift = { id, true, REASON_GIFT };
	struct access_decision metered = { id, true, REASON_METERED };
	assert_int_equal(store_search_gated_snippet(s, a, "\"zebrafrost\"", &teaser, &snip), MH_ERR_DENIED);
	assert_string_equal(snip, "");
	assert_int_equal(store_search_gated_snippet(s, a, "\"zebrafrost\"", &gift, &snip), MH_ERR_DENIED);
	assert_int_equal(store_search_gated_snippet(s, a, "\"zebrafrost\"", &metered, &snip), MH_ERR_DENIED);
	assert_int_equal(store_search_gated_snippet(s, a, "\"zebrafrost\"", NULL, &snip), MH_ERR_DENIED);
	/* The gated index only in the reader's scope. */
	struct search_scope sc = *every(T0);
	sc.gated_paid = false;
	assert_int_equal(store_search(s, a, "\"zebrafrost\"", &sc, &rows, &n, &more), MH_OK);
	assert_int_equal(n, 0);
	assert_false(more);
	assert_int_equal(store_search(s, a, "\"fog\"", &sc, &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1); /* the public index is everyone's */
	/* An edit replaces both rows; an article without a gated part has no gated row. */
	in.slug = "fog";
	in.title = "Harbor mist returns";
	in.published_at = T0 - 10;
	in.gated_html = "";
	in.gated_md = "";
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	assert_false(created);
	assert_int_equal(store_search(s, a, "\"zebrafrost\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_search(s, a, "\"mist\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_search(s, a, "\"fog\"", every(T0 + 7200), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].article_id, later);
	/* A limit: the newest matches, by publication (not by id), and more. */
	int64_t older, newer;
	in.slug = "newer";
	in.published_at = T0 - 5;
	assert_int_equal(store_article_upsert(s, &in, &newer, &created), MH_OK);
	in.slug = "older";
	in.published_at = T0 - 3600;
	assert_int_equal(store_article_upsert(s, &in, &older, &created), MH_OK);
	sc = *every(T0);
	sc.limit = 2;
	assert_int_equal(store_search(s, a, "\"mist\"", &sc, &rows, &n, &more), MH_OK);
	assert_int_equal(n, 2);
	assert_true(more);
	assert_int_equal(rows[0].article_id, newer);
	assert_int_equal(rows[1].article_id, id);
	sc.limit = 3;
	assert_int_equal(store_search(s, a, "\"mist\"", &sc, &rows, &n, &more), MH_OK);
	assert_int_equal(n, 3);
	assert_false(more);
	assert_int_equal(rows[2].article_id, older);
	/* Compacting the indexes changes no answer. */
	assert_int_equal(store_search_compact(s), MH_OK);
	assert_int_equal(store_search(s, a, "\"mist\"", &sc, &rows, &n, &more), MH_OK);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].article_id, newer);
	/* Moved in time, an article moves in the order. */
	in.published_at = T0 - 1;
	assert_int_equal(store_article_upsert(s, &in, &older, &created), MH_OK);
	assert_int_equal(store_search(s, a, "\"mist\"", &sc, &rows, &n, &more), MH_OK);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].article_id, older);
	arena_free(a);
}

/* Upserts inside the caller's transaction (an import): searchable once it
 * commits, the gated word in the gated index only; an article written twice
 * in one transaction has its last text; a rollback leaves no index row. */
static void
test_search_in_a_transaction(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct article_input in = { .slug = "bulk-one",
		                    .title = "Quarry bells",
		                    .dek = "d",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0 - 10,
		                    .updated_at = T0 - 10,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>Open words.</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>Walled cinderwick.</p>" };
	int64_t id, id2;
	bool created;
	struct search_row *rows;
	size_t n;
	bool more;
	/* As an import does: more page cache for this connection, then one transaction. */
	assert_int_equal(store_bulk_memory(s, 8), MH_OK);
	assert_int_equal(store_begin(s), MH_OK);
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	in.title = "Quarry chimes";
	assert_int_equal(store_article_upsert(s, &in, &id2, &created), MH_OK);
	assert_false(created);
	assert_int_equal(id2, id);
	in.slug = "bulk-two";
	in.title = "Second bells";
	in.gated_html = "";
	assert_int_equal(store_article_upsert(s, &in, &id2, &created), MH_OK);
	assert_int_equal(store_commit(s), MH_OK);
	assert_int_equal(store_search(s, a, "\"chimes\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].article_id, id);
	assert_int_equal(store_search(s, a, "\"bells\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1); /* the first title was replaced in the same transaction */
	assert_int_equal(rows[0].article_id, id2);
	assert_int_equal(store_search(s, a, "\"cinderwick\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 1);
	assert_true(rows[0].in_gated);
	assert_false(rows[0].in_public);
	assert_int_equal(store_begin(s), MH_OK);
	in.slug = "bulk-gone";
	in.title = "Rolled tamarisk";
	assert_int_equal(store_article_upsert(s, &in, &id2, &created), MH_OK);
	assert_int_equal(store_rollback(s), MH_OK);
	assert_int_equal(store_search(s, a, "\"tamarisk\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 0);
	/* A later commit does not bring it back. */
	assert_int_equal(store_begin(s), MH_OK);
	assert_int_equal(store_commit(s), MH_OK);
	assert_int_equal(store_search(s, a, "\"tamarisk\"", every(T0), &rows, &n, &more), MH_OK);
	assert_int_equal(n, 0);
	arena_free(a);
}

/* Private feed tokens: one per member, found by hash, replaced on renewal,
 * gone on revocation; and the sitemap's list. */
static void
test_feed_tokens_and_sitemap(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	int64_t m1 = member(s, "feed1@example.test"), m2 = member(s, "feed2@example.test");
	struct feed_token t1 = { m1, "aa01", "n1", T0 }, t2 = { m2, "bb02", "n2", T0 }, got;
	assert_int_equal(store_feed_token_by_member(s, a, m1, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_feed_token_save(s, &t1), MH_OK);
	assert_int_equal(store_feed_token_save(s, &t2), MH_OK);
	assert_int_equal(store_feed_token_find(s, a, "aa01", &got), MH_OK);
	assert_int_equal(got.member_id, m1);
	assert_string_equal(got.nonce, "n1");
	assert_int_equal(got.created_at, T0);
	/* Renewing replaces the member's token: the old hash finds nothing. */
	struct feed_token renewed = { m1, "aa03", "n3", T0 + 5 };
	assert_int_equal(store_feed_token_save(s, &renewed), MH_OK);
	assert_int_equal(store_feed_token_find(s, a, "aa01", &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_feed_token_by_member(s, a, m1, &got), MH_OK);
	assert_string_equal(got.token_hash, "aa03");
	assert_string_equal(got.nonce, "n3");
	/* Two members cannot hold the same hash. */
	struct feed_token clash = { m2, "aa03", "n4", T0 };
	assert_int_not_equal(store_feed_token_save(s, &clash), MH_OK);
	/* Revoking is once, and only the member's own. */
	assert_int_equal(store_feed_token_delete(s, m1), MH_OK);
	assert_int_equal(store_feed_token_delete(s, m1), MH_ERR_NOTFOUND);
	assert_int_equal(store_feed_token_find(s, a, "aa03", &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_feed_token_find(s, a, "bb02", &got), MH_OK);

	/* The sitemap: published articles newest first, then their tags,
	 * authors and speakers; a scheduled article and its tag are left out. */
	struct named_ref au = { "writer-one", "Writer One" }, tag = { "harbor", "Harbor" },
	                 later = { "later", "Later" };
	struct quote_input q = { "speaker-one", "Speaker One", "Role", "<blockquote>q</blockquote>", false };
	struct article_input older = { .slug = "older",
		                       .title = "Older",
		                       .dek = "",
		                       .summary = "s",
		                       .access = ACCESS_PUBLIC,
		                       .published_at = T0 - 200,
		                       .updated_at = T0 - 100,
		                       .teaser_md = "t",
		                       .teaser_html = "<p>t</p>",
		                       .gated_md = "",
		                       .gated_html = "",
		                       .authors = &au,
		                       .n_authors = 1,
		                       .tags = &tag,
		                       .n_tags = 1,
		                       .quotes = &q,
		                       .n_quotes = 1 };
	struct article_input newer = older, scheduled = older;
	newer.slug = "newer";
	newer.title = "Newer";
	newer.published_at = T0 - 50;
	newer.n_quotes = 0;
	scheduled.slug = "scheduled";
	scheduled.published_at = T0 + 3600;
	scheduled.tags = &later;
	scheduled.n_quotes = 0;
	int64_t id;
	bool created;
	assert_int_equal(store_article_upsert(s, &older, &id, &created), MH_OK);
	assert_int_equal(store_article_upsert(s, &newer, &id, &created), MH_OK);
	assert_int_equal(store_article_upsert(s, &scheduled, &id, &created), MH_OK);
	struct sitemap_entry *e;
	size_t n;
	assert_int_equal(store_sitemap_list(s, a, T0, &e, &n), MH_OK);
	assert_int_equal(n, 5);
	assert_int_equal(e[0].kind, 'a');
	assert_string_equal(e[0].slug, "newer");
	assert_string_equal(e[0].title, "Newer");
	assert_int_equal(e[0].published_at, T0 - 50);
	assert_string_equal(e[1].slug, "older");
	assert_int_equal(e[1].updated_at, T0 - 100);
	assert_int_equal(e[2].kind, 'p');
	assert_string_equal(e[2].slug, "speaker-one");
	assert_int_equal(e[3].kind, 't');
	assert_string_equal(e[3].slug, "harbor");
	assert_int_equal(e[4].kind, 'u');
	assert_string_equal(e[4].slug, "writer-one");
	/* Once the scheduled article is out, it and its tag are listed. */
	assert_int_equal(store_sitemap_list(s, a, T0 + 3600, &e, &n), MH_OK);
	assert_int_equal(n, 7);
	assert_string_equal(e[0].slug, "scheduled");
	arena_free(a);
}

/* Content API keys: unique by name and hash, found by hash, revoked once;
 * the speaker list holds only speakers quoted in a published article. */
static void
test_api_keys_and_speakers(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct api_key k = { 0, "front end", "aa11", T0, 0 }, got;
	int64_t id = 0;
	assert_int_equal(store_api_key_create(s, &k, &id), MH_OK);
	assert_true(id > 0);
	struct api_key same_name = { 0, "front end", "bb22", T0, 0 }, same_hash = { 0, "other", "aa11", T0, 0 };
	assert_int_equal(store_api_key_create(s, &same_name, NULL), MH_ERR_CONFLICT);
	assert_int_equal(store_api_key_create(s, &same_hash, NULL), MH_ERR_CONFLICT);
	assert_int_equal(store_api_key_by_hash(s, a, "aa11", &got), MH_OK);
	assert_string_equal(got.name, "front end");
	assert_int_equal(got.revoked_at, 0);
	assert_int_equal(store_api_key_by_hash(s, a, "nope", &got), MH_ERR_NOTFOUND);
	struct api_key second = { 0, "second", "cc33", T0 + 1, 0 }, *list;
	assert_int_equal(store_api_key_create(s, &second, NULL), MH_OK);
	size_t n;
	assert_int_equal(store_api_key_list(s, a, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "front end");
	assert_string_equal(list[1].key_hash, "cc33");
	/* Revoked once: the second call changes nothing. */
	assert_int_equal(store_api_key_revoke(s, "front end", T0 + 5), MH_OK);
	assert_int_equal(store_api_key_revoke(s, "front end", T0 + 6), MH_ERR_NOTFOUND);
	assert_int_equal(store_api_key_revoke(s, "nobody", T0 + 6), MH_ERR_NOTFOUND);
	assert_int_equal(store_api_key_by_hash(s, a, "aa11", &got), MH_OK);
	assert_int_equal(got.revoked_at, T0 + 5);

	static struct named_ref authors[] = { { "ana-reyes", "Ana Reyes" } };
	static struct quote_input now_q[] = { { "zoe-quinn", "Zoe Quinn", "Mayor", "<p>Now</p>", false } };
	static struct quote_input later_q[] = { { "abe-later", "Abe Later", "Clerk", "<p>Later</p>", false } };
	struct article_input in = { .slug = "published",
		                    .title = "P",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PUBLIC,
		                    .published_at = T0 - 10,
		                    .updated_at = T0 - 10,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>t</p>",
		                    .gated_md = "",
		                    .gated_html = "",
		                    .authors = authors,
		                    .n_authors = 1,
		                    .quotes = now_q,
		                    .n_quotes = 1 };
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	in.slug = "scheduled";
	in.published_at = T0 + 3600;
	in.quotes = later_q;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	struct speaker *sp;
	assert_int_equal(store_speaker_list(s, a, T0, &sp, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sp[0].slug, "zoe-quinn");
	assert_string_equal(sp[0].role, "Mayor");
	assert_int_equal(store_speaker_list(s, a, T0 + 3600, &sp, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(sp[0].slug, "abe-later");
	arena_free(a);
}

/* Newsletters: sign-up subscribes (migration 0014's trigger), a send is
 * unique per article and newsletter, a recipient is claimed once, a lease
 * has one holder and taking it from another orphans their claims, bounces
 * suppress an address. */
/* Settings: a save is all or nothing and moves both versions; device codes
 * count their attempts and are spent once. */
static void
test_settings_and_device_codes(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct setting *rows;
	size_t n;
	int64_t v0, v1, v;
	struct store_versions c0, c1;
	assert_int_equal(store_settings_get(s, a, &rows, &n, &v0), MH_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_versions(s, &c0), MH_OK);
	const struct setting put[] = { { "site-name", "The Paper", false }, { "smtp-url", "sealed", true } };
	assert_int_equal(store_settings_save(s, put, 2, NULL, 0, NULL, 0, T0), MH_OK);
	assert_int_equal(store_settings_get(s, a, &rows, &n, &v1), MH_OK);
	assert_true(v1 > v0);
	assert_int_equal(store_versions(s, &c1), MH_OK);
	assert_true(c1.content > c0.content); /* the nodes' caches and settings follow it */
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "site-name");
	assert_string_equal(rows[0].value, "The Paper");
	assert_false(rows[0].secret);
	assert_true(rows[1].secret);
	/* A save that fails half way (a plan breaking a constraint) leaves nothing. */
	const struct setting again = { "site-name", "Half", false };
	const struct plan bad = { 0, "bad", "Negative", -1, "usd", 1, 0, false, "" }; /* CHECK (amount >= 0) */
	assert_int_not_equal(store_settings_save(s, &again, 1, NULL, 0, &bad, 1, T0), MH_OK);
	assert_int_equal(store_settings_get(s, a, &rows, &n, &v), MH_OK);
	assert_int_equal(v, v1);
	assert_string_equal(rows[0].value, "The Paper");
	const char *del[] = { "smtp-url" };
	assert_int_equal(store_settings_save(s, &again, 1, del, 1, NULL, 0, T0), MH_OK);
	assert_int_equal(store_settings_version(s, &v), MH_OK);
	assert_true(v > v1);
	assert_int_equal(store_settings_get(s, a, &rows, &n, &v), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].value, "Half");

	int64_t m = member(s, "staff@example.test"), id;
	struct device_code dc;
	assert_int_equal(store_device_code_add(s, m, "hash", T0, T0 + 600, &id), MH_OK);
	assert_int_equal(store_device_code_get(s, a, id, &dc), MH_OK);
	assert_int_equal(dc.member_id, m);
	assert_string_equal(dc.code_hash, "hash");
	assert_int_equal(store_device_code_try(s, id, 2, T0), MH_OK);
	assert_int_equal(store_device_code_try(s, id, 2, T0), MH_OK);
	assert_int_equal(store_device_code_try(s, id, 2, T0), MH_ERR_NOTFOUND);
	assert_int_equal(store_device_code_get(s, a, id, &dc), MH_OK);
	assert_int_equal(dc.attempts, 2);
	assert_int_equal(store_device_code_use(s, id), MH_OK);
	assert_int_equal(store_device_code_use(s, id), MH_ERR_NOTFOUND);
	assert_int_equal(store_device_code_add(s, m, "h2", T0, T0 + 600, &id), MH_OK);
	assert_int_equal(store_device_code_try(s, id, 5, T0 + 600), MH_ERR_NOTFOUND); /* expired */
	assert_int_equal(store_device_code_get(s, a, 999999, &dc), MH_ERR_NOTFOUND);
	arena_free(a);
}

static void
test_newsletter_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct newsletter nl = { 0, "weekly", "The Weekly", "", "", "", true, false }, got;
	int64_t nid = 0, again = 0;
	assert_int_equal(store_newsletter_save(s, &nl, &nid), MH_OK);
	nl.name = "Weekly, renamed";
	assert_int_equal(store_newsletter_save(s, &nl, &again), MH_OK);
	assert_int_equal(again, nid);
	assert_int_equal(store_newsletter_get(s, a, NULL, &got), MH_OK);
	assert_string_equal(got.name, "Weekly, renamed");
	assert_string_equal(got.full_levels, "public,members,paid");
	assert_int_equal(store_newsletter_get(s, a, "nope", &got), MH_ERR_NOTFOUND);
	int64_t m1 = member(s, "nl1@example.test"), m2 = member(s, "nl2@example.test"),
	        m3 = member(s, "nl3@example.test");
	struct newsletter *list;
	size_t n;
	assert_int_equal(store_newsletter_list(s, a, m1, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_true(list[0].subscribed); /* subscribed at sign-up */
	assert_int_equal(store_newsletter_subscribe(s, nid, m3, false, T0), MH_OK);
	assert_int_equal(store_newsletter_subscribe(s, nid, m3, false, T0), MH_OK);
	assert_int_equal(store_newsletter_list(s, a, m3, &list, &n), MH_OK);
	assert_false(list[0].subscribed);
	struct nl_audience *aud;
	assert_int_equal(store_newsletter_audience(s, a, nid, 0, 10, &aud, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_int_equal(aud[0].member_id, m1);
	assert_int_equal(aud[1].member_id, m2);
	assert_int_equal(store_newsletter_audience(s, a, nid, m1, 10, &aud, &n), MH_OK);
	assert_int_equal(n, 1);

	struct article_input in = { .slug = "mailed",
		                    .title = "Mailed",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0 - 10,
		                    .updated_at = T0 - 10,
		                    .teaser_md = "t",
		                    .teaser_html = "<p>t</p>",
		                    .gated_md = "g",
		                    .gated_html = "<p>g</p>" };
	int64_t article, send = 0, send2 = 0;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &article, &created), MH_OK);
	assert_int_equal(store_newsletter_send_create(s, nid, article, T0, &send), MH_OK);
	assert_int_equal(store_newsletter_send_create(s, nid, article, T0, &send2), MH_ERR_CONFLICT);
	assert_int_equal(send2, send);
	struct nl_recipient rs[2] = {
		{ .member_id = m1, .email = "nl1@example.test", .name = "One", .reason = "no_plan", .full = false },
		{ .member_id = m2, .email = "nl2@example.test", .name = "", .reason = "staff", .full = true }
	};
	assert_int_equal(store_newsletter_enqueue(s, send, rs, 2), MH_OK);
	assert_int_equal(store_newsletter_enqueue(s, send, rs, 2), MH_OK); /* resumable: no duplicates */
	struct nl_counts c;
	assert_int_equal(store_newsletter_counts(s, send, &c), MH_OK);
	assert_int_equal(c.recipients, 2);
	assert_int_equal(c.state[NL_QUEUED], 2);
	assert_int_equal(store_newsletter_send_mark(s, send, T0, 0), MH_OK);
	struct nl_send sd;
	assert_int_equal(store_newsletter_send_get(s, a, nid, article, &sd), MH_OK);
	assert_int_equal(sd.enqueued_at, T0);
	assert_int_equal(sd.finished_at, 0);

	/* The lease: one holder; a dead holder's claims become unconfirmed. */
	int64_t orphans = -1;
	char holder[64];
	assert_int_equal(store_newsletter_lease(s, send, "h/1/a", NULL, T0, T0 + 60, &orphans, holder, sizeof holder),
	                 MH_OK);
	assert_int_equal(
	        store_newsletter_lease(s, send, "h/2/b", NULL, T0 + 1, T0 + 61, &orphans, holder, sizeof holder),
	        MH_ERR_CONFLICT);
	assert_string_equal(holder, "h/1/a");
	struct nl_recipient *due;
	assert_int_equal(store_newsletter_due(s, a, send, 0, T0, 10, &due, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(due[1].reason, "staff");
	assert_true(due[1].full);
	int64_t ids[2] = { due[0].id, due[1].id };
	bool won[2];
	assert_int_equal(store_newsletter_claim(s, ids, 2, T0, won, NULL, 0), MH_OK);
	assert_true(won[0] && won[1]);
	assert_int_equal(store_newsletter_claim(s, ids, 2, T0, won, NULL, 0), MH_OK);
	assert_false(won[0] || won[1]); /* once */
	struct nl_outcome sent = { ids[0], NL_SENT, 0, "" };
	assert_int_equal(store_newsletter_settle(s, &sent, 1, T0), MH_OK);
	assert_int_equal(
	        store_newsletter_lease(s, send, "h/2/b", "h/1/a", T0 + 1, T0 + 61, &orphans, holder, sizeof holder),
	        MH_OK);
	assert_int_equal(orphans, 1);
	assert_int_equal(store_newsletter_counts(s, send, &c), MH_OK);
	assert_int_equal(c.state[NL_SENT], 1);
	assert_int_equal(c.state[NL_UNCONFIRMED], 1);
	assert_int_equal(store_newsletter_due(s, a, send, 0, T0, 10, &due, &n), MH_OK);
	assert_int_equal(n, 0); /* never sent again */

	/* Unsubscribe by a recipient; a hard bounce suppresses the address. */
	assert_int_equal(store_newsletter_unsubscribe(s, ids[0], T0), MH_OK);
	assert_int_equal(store_newsletter_unsubscribe(s, ids[0], T0 + 5), MH_OK);
	assert_int_equal(store_newsletter_counts(s, send, &c), MH_OK);
	assert_int_equal(c.unsubscribed, 1);
	assert_int_equal(store_newsletter_list(s, a, m1, &list, &n), MH_OK);
	assert_false(list[0].subscribed);
	bool sup = true;
	assert_int_equal(store_mail_suppressed(s, "nl2@example.test", &sup), MH_OK);
	assert_false(sup);
	assert_int_equal(store_newsletter_bounce(s, ids[1], true, "bounce", "5.1.1", T0), MH_OK);
	assert_int_equal(store_mail_suppressed(s, "nl2@example.test", &sup), MH_OK);
	assert_true(sup);
	assert_int_equal(store_newsletter_audience(s, a, nid, 0, 10, &aud, &n), MH_OK);
	assert_int_equal(n, 0); /* m1 left, m2 suppressed, m3 never subscribed */
	struct nl_recipient one;
	assert_int_equal(store_newsletter_recipient(s, a, ids[1], &one), MH_OK);
	assert_int_equal(one.state, NL_BOUNCED);
	assert_int_equal(one.article_id, article);
	assert_int_equal(store_newsletter_recipient(s, a, 999999, &one), MH_ERR_NOTFOUND);
	struct nl_send *sends;
	assert_int_equal(store_newsletter_sends(s, a, &sends, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sends[0].article_slug, "mailed");
	assert_string_equal(sends[0].newsletter_slug, "weekly");
	arena_free(a);
}

/* The newsroom's working copies (docs/newsroom.md): writing them never moves
 * the content version; slugs are unique; a scheduled story is claimed once;
 * published articles are adopted once; preview links expire. */
static void
test_newsroom_ops(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct store_versions v0, v1;
	struct newsroom_article n = { .status = NEWSROOM_DRAFT,
		                      .slug = "draft-one",
		                      .title = "Draft 50% one",
		                      .dek = "",
		                      .access = "paid",
		                      .authors = "Ann Lee, Bo Ng",
		                      .tags = "City, Port",
		                      .publish_at = 0,
		                      .body = "Body.\n",
		                      .live_slug = "",
		                      .created_at = T0,
		                      .updated_at = T0,
		                      .updated_by = "e@x" };
	int64_t id, other;
	assert_int_equal(store_versions(s, &v0), MH_OK);
	assert_int_equal(store_newsroom_put(s, &n, &id), MH_OK);
	assert_true(id > 0);
	assert_int_equal(store_newsroom_revision_add(s, id, T0, "e@x", "saved"), MH_OK);
	n.title = "Draft 50% one, again";
	n.id = id;
	n.updated_at = T0 + 1;
	assert_int_equal(store_newsroom_put(s, &n, NULL), MH_OK);
	assert_int_equal(store_versions(s, &v1), MH_OK);
	assert_int_equal(v1.content, v0.content);
	/* Slugs are unique; an unknown id is not found. */
	struct newsroom_article dup = n;
	dup.id = 0;
	dup.title = "Other";
	assert_int_equal(store_newsroom_put(s, &dup, &other), MH_ERR_CONFLICT);
	dup.slug = "other";
	dup.status = NEWSROOM_SCHEDULED;
	dup.publish_at = T0 + 60;
	assert_int_equal(store_newsroom_put(s, &dup, &other), MH_OK);
	dup.id = other + 1000;
	assert_int_equal(store_newsroom_put(s, &dup, NULL), MH_ERR_NOTFOUND);

	struct newsroom_article got;
	assert_int_equal(store_newsroom_get(s, a, id, &got), MH_OK);
	assert_string_equal(got.title, "Draft 50% one, again");
	assert_string_equal(got.authors, "Ann Lee, Bo Ng");
	assert_int_equal(got.status, NEWSROOM_DRAFT);
	assert_int_equal(store_newsroom_get(s, a, id + 1000, &got), MH_ERR_NOTFOUND);

	/* Filters: status, tag and author among the names, title words with literal wildcards. */
	struct newsroom_article *rows;
	size_t count, total;
	struct newsroom_filter f = { -1, "", "", "", "", T0, 10, 0 };
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 2);
	assert_int_equal(count, 2);
	f.status = NEWSROOM_SCHEDULED;
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 1);
	assert_string_equal(rows[0].slug, "other");
	assert_string_equal(rows[0].body, ""); /* lists leave the body out */
	f.status = -1;
	f.tag = "port";
	f.author = "bo ng";
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 2);
	f.tag = "Por";
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 0);
	f.tag = "";
	f.author = "";
	f.q = "50%";
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 1);
	f.q = "5_%";
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 0);

	/* Revisions belong to their story. */
	struct newsroom_revision *revs, rev;
	assert_int_equal(store_newsroom_revisions(s, a, id, 10, &revs, &count), MH_OK);
	assert_int_equal(count, 1);
	assert_string_equal(revs[0].art.title, "Draft 50% one");
	assert_int_equal(store_newsroom_revision_get(s, a, id, revs[0].id, &rev), MH_OK);
	assert_int_equal(store_newsroom_revision_get(s, a, other, revs[0].id, &rev), MH_ERR_NOTFOUND);

	/* Due at its time, claimed once. */
	int64_t *due;
	assert_int_equal(store_newsroom_due(s, a, T0 + 59, 10, &due, &count), MH_OK);
	assert_int_equal(count, 0);
	assert_int_equal(store_newsroom_claim(s, other, T0 + 59), MH_ERR_CONFLICT);
	assert_int_equal(store_newsroom_due(s, a, T0 + 60, 10, &due, &count), MH_OK);
	assert_int_equal(count, 1);
	assert_int_equal(due[0], other);
	assert_int_equal(store_newsroom_claim(s, other, T0 + 60), MH_OK);
	assert_int_equal(store_newsroom_claim(s, other, T0 + 60), MH_ERR_CONFLICT);
	assert_int_equal(store_versions(s, &v1), MH_OK);
	assert_int_equal(v1.content, v0.content);

	/* A published article gets a working copy once; deleting it moves the version. */
	struct article_input in = { .slug = "imported",
		                    .title = "Imported",
		                    .dek = "",
		                    .summary = "s",
		                    .access = ACCESS_PAID,
		                    .published_at = T0,
		                    .updated_at = T0,
		                    .teaser_md = "Tease.",
		                    .teaser_html = "<p>Tease.</p>",
		                    .gated_md = "Rest.",
		                    .gated_html = "<p>Rest.</p>",
		                    .has_marker = true };
	int64_t aid;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &aid, &created), MH_OK);
	assert_int_equal(store_newsroom_adopt(s, T0), MH_OK);
	assert_int_equal(store_newsroom_adopt(s, T0), MH_OK);
	f = (struct newsroom_filter){ NEWSROOM_PUBLISHED, "", "", "", "", T0 + 60, 10, 0 };
	assert_int_equal(store_newsroom_list(s, a, &f, &rows, &count, &total), MH_OK);
	assert_int_equal(total, 2); /* the claimed one and the adopted one */
	assert_int_equal(store_newsroom_list(s, a, &(struct newsroom_filter){ -1, "", "", "", "Imported", T0, 10, 0 },
	                                     &rows, &count, &total),
	                 MH_OK);
	assert_int_equal(total, 1);
	assert_int_equal(store_newsroom_get(s, a, rows[0].id, &got), MH_OK);
	assert_string_equal(got.body, "Tease.\n\n<!-- paywall -->\n\nRest.");
	assert_string_equal(got.live_slug, "imported");
	assert_int_equal(store_versions(s, &v0), MH_OK);
	assert_int_equal(store_article_delete(s, "imported"), MH_OK);
	assert_int_equal(store_article_delete(s, "imported"), MH_ERR_NOTFOUND);
	assert_int_equal(store_versions(s, &v1), MH_OK);
	assert_true(v1.content != v0.content);
	struct article *art;
	assert_int_equal(store_article_by_slug(s, a, "imported", &art), MH_ERR_NOTFOUND);

	/* Preview links: by hash, until they expire. */
	assert_int_equal(store_newsroom_preview_add(s, "hash1", id, T0 + 100, T0), MH_OK);
	assert_int_equal(store_newsroom_preview_add(s, "hash1", id, T0 + 100, T0), MH_ERR_CONFLICT);
	int64_t pid = 0;
	assert_int_equal(store_newsroom_preview_get(s, "hash1", T0 + 99, &pid), MH_OK);
	assert_int_equal(pid, id);
	assert_int_equal(store_newsroom_preview_get(s, "hash1", T0 + 100, &pid), MH_ERR_NOTFOUND);
	assert_int_equal(store_newsroom_preview_get(s, "nope", T0, &pid), MH_ERR_NOTFOUND);

	/* The status names, both ways. */
	for (int i = 0; i < NEWSROOM_STATUS_COUNT; i++)
		assert_int_equal(newsroom_status_parse(newsroom_status_name((enum newsroom_status) i)), i);
	assert_int_equal(newsroom_status_parse("live"), -1);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_and_housekeeping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_site_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_are_single_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_two_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscription_save_is_conditional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims_are_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_claims_two_senders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gated_needs_a_full_decision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_image_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gifts_and_meter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_billing_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_default_card_under_concurrent_adds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_waits_then_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_keys_and_speakers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_site_secret_first_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_pending_after_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_in_a_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_tokens_and_sitemap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newsletter_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_site_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_media_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newsroom_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newsroom_member_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_and_device_codes, setup, teardown),
	};
	log_set_level(LOG_WARN);
	const char *urls = getenv("MASTHEAD_STORE_URLS");
	if (!urls || !*urls)
		urls = "sqlite:";
	int failed = 0;
	char copy[2048];
	snprintf(copy, sizeof copy, "%s", urls);
	char *save = NULL;
	for (char *u = strtok_r(copy, " ", &save); u; u = strtok_r(NULL, " ", &save)) {
		snprintf(url, sizeof url, "%s", u);
		char name[600];
		snprintf(name, sizeof name, "store contract (%s)", strncmp(u, "sqlite:", 7) ? u : "sqlite");
		failed += cmocka_run_group_tests_name(name, tests, NULL, NULL);
	}
	return failed;
}
