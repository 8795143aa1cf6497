/* session.c: who is asking. Session cookies, CSRF, and the route flags. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "auth/token.h"
#include "core/log.h"
#include "web/app.h"
#include "web/page.h"
#include "web/pagecache.h"
#include "core/vcache.h"
#include "core/banned.h"

#define SESSION_TTL 600 /* seconds a session stays in memory, unless its member changes */

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the member changes after the last one applied and marks those
 * members stale; under versions.lock (one applier, in commit order). */
static mh_err
apply_member_changes(struct app *app)
{
	enum { BATCH = 512 };
	struct arena *a = arena_new();
	mh_err err;
	for (;;) {
		int64_t *ids;
		size_t n;
		bool flush;
		err = store_member_changes(app->store, a, &app->versions.changes_cursor, BATCH, &ids, &n, &flush);
		if (err)
			break;
		if (flush)
			epochs_flush(app->members_changed);
		for (size_t i = 0; i < n; i++)
			epochs_change(app->members_changed, ids[i]);
		if (n < BATCH)
			break;
	}
	arena_free(a);
	return err;
}

/* How much longer the store waits between polls while changes are pushed
 * (the poll is then only a fallback for a listener that missed something). */
#define PUSHED_POLL_FACTOR 10

mh_err
app_versions(struct app *app, struct store_versions *out)
{
	struct app_versions *v = &app->versions;
	uint64_t writes = store_writes(app->store);
	int64_t now = mono_ms();
	int64_t read_ms = __atomic_load_n(&v->read_ms, __ATOMIC_ACQUIRE);
	int64_t every = app->cfg->recheck_ms;
	if (__atomic_load_n(&v->pushed, __ATOMIC_ACQUIRE))
		every *= PUSHED_POLL_FACTOR;
	if (read_ms && now - read_ms < every && __atomic_load_n(&v->writes_seen, __ATOMIC_ACQUIRE) == writes) {
		out->content = __atomic_load_n(&v->content, __ATOMIC_RELAXED);
		out->members = __atomic_load_n(&v->members, __ATOMIC_RELAXED);
		return MH_OK;
	}
	/* The writes are counted before the read, so a commit during it makes
	 * the next request read again. The read happens under the lock the
	 * listener applies pushed changes under, so a version read before a
	 * pushed one cannot overwrite it. */
	pthread_mutex_lock(&v->lock);
	/* Another request may have read them while this one waited. */
	read_ms = __atomic_load_n(&v->read_ms, __ATOMIC_ACQUIRE);
	if (read_ms && now - read_ms < every && v->writes_seen == writes) {
		out->content = __atomic_load_n(&v->content, __ATOMIC_RELAXED);
		out->members = __atomic_load_n(&v->members, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&v->lock);
		return MH_OK;
	}
	mh_err err = store_versions(app->store, out);
	if (!err && app->members_changed)
		err = apply_member_changes(app);
	if (err) {
		pthread_mutex_unlock(&v->lock);
		return err;
	}
	__atomic_store_n(&v->content, out->content, __ATOMIC_RELAXED);
	__atomic_store_n(&v->members, out->members, __ATOMIC_RELAXED);
	__atomic_store_n(&v->writes_seen, writes, __ATOMIC_RELEASE);
	__atomic_store_n(&v->read_ms, now ? now : 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&v->lock);
	return MH_OK;
}

/* Pushed changes (store_listen), on the listener's thread. */
static void
pushed_member(void *ctx, int64_t seq, int64_t member_id)
{
	struct app *app = ctx;
	struct app_versions *v = &app->versions;
	pthread_mutex_lock(&v->lock);
	/* Behind the cursor: a poll applied it already. Before the first poll
	 * (cursor STORE_CHANGES_FIRST) that poll forgets everything anyway. */
	if (v->changes_cursor >= 0 && seq > v->changes_cursor) {
		epochs_change(app->members_changed, member_id);
		v->changes_cursor = seq;
		__atomic_store_n(&v->members, seq, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&v->lock);
}

static void
pushed_content(void *ctx, int64_t version)
{
	struct app *app = ctx;
	struct app_versions *v = &app->versions;
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->content, version, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&v->lock);
}

static void
pushed_flush(void *ctx)
{
	struct app *app = ctx;
	struct app_versions *v = &app->versions;
	vcache_clear(app->pages);
	vcache_clear(app->fragments);
	vcache_clear(app->sessions);
	pthread_mutex_lock(&v->lock);
	epochs_flush(app->members_changed);
	v->changes_cursor = STORE_CHANGES_FIRST;
	/* The next request reads the versions from the store. */
	__atomic_store_n(&v->read_ms, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&v->pushed, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&v->flushes, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&v->lock);
	log_info("caches flushed", "reason=%s", "listening");
}

static void
pushed_lost(void *ctx)
{
	struct app *app = ctx;
	/* Polled every --recheck-ms again until the listener is back. */
	__atomic_store_n(&app->versions.pushed, 0, __ATOMIC_RELEASE);
}

void
app_idle(void *app)
{
	store_release(((struct app *) app)->store);
}

mh_err
app_listen(struct app *app)
{
	struct store_push p = { pushed_member, pushed_content, pushed_flush, pushed_lost, app };
	mh_err err = store_listen(app->store, &p, &app->listener);
	return err == MH_ERR_UNSUPPORTED ? MH_OK : err;
}

/* The request's versions, read once per request. */
bool
web_request_versions(struct http_req *r)
{
	struct web_ctx *c = web_ctx(r);
	if (!c->have_versions) {
		if (app_versions(r->app, &c->versions)) {
			struct app *app = r->app;
			log_error("cannot read the store's versions", "error=\"%s\"", store_errmsg(app->store));
			return false;
		}
		c->have_versions = true;
	}
	return true;
}

struct web_ctx *
web_ctx(struct http_req *r)
{
	if (!r->ctx)
		r->ctx = arena_zalloc(r->arena, sizeof(struct web_ctx));
	return r->ctx;
}

static bool
is_https(struct http_req *r)
{
	struct app *app = r->app;
	if (strncmp(app->cfg->public_url, "https://", 8) == 0)
		return true;
	/* The peer's address is looked up only when a proxy claims https. */
	const char *proto = http_header(r, "X-Forwarded-Proto");
	return proto && proxy_https(&app->proxies, http_client_addr(r), proto);
}

void
web_set_cookie(struct http_req *r, const char *name, const char *value, long max_age)
{
	http_add_header(r, "Set-Cookie",
	                arena_printf(r->arena, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s", name,
	                             max_age ? value : "", max_age, is_https(r) ? "; Secure" : ""));
}

const char *
web_client_ip(struct http_req *r)
{
	struct app *app = r->app;
	char *out = arena_alloc(r->arena, PROXY_ADDR_MAX);
	return proxy_client(&app->proxies, http_client_addr(r), http_header(r, "X-Forwarded-For"), out, PROXY_ADDR_MAX);
}

const char *
web_safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
		return "/";
	for (const char *p = next; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '\\')
			return "/";
	return next;
}

const char *
web_browser_id(struct http_req *r, bool *fresh)
{
	struct web_ctx *c = web_ctx(r);
	if (fresh)
		*fresh = false;
	if (c->browser_id)
		return c->browser_id;
	const char *cookie = http_cookie(r, CSRF_COOKIE);
	if (!token_well_formed(cookie)) {
		char *made = arena_alloc(r->arena, TOKEN_CHARS + 1);
		token_new(made);
		/* A year: the cookie only pairs forms (and gifts) with this browser. */
		web_set_cookie(r, CSRF_COOKIE, made, 365L * 86400);
		cookie = made;
		if (fresh)
			*fresh = true;
	}
	c->browser_id = cookie;
	return cookie;
}

const char *
web_csrf(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	if (c->csrf)
		return c->csrf;
	const char *cookie = web_browser_id(r, NULL);
	char *tok = arena_alloc(r->arena, TOKEN_CHARS + 1);
	csrf_token(app->secret, cookie, tok);
	c->csrf = tok;
	return tok;
}

mh_err
web_sign_in(struct http_req *r, const struct member *m)
{
	struct app *app = r->app;
	const struct account_rules rules = web_account_rules(app);
	struct web_ctx *c = web_ctx(r);
	char token[TOKEN_CHARS + 1];
	int64_t max_age;
	mh_err err =
	        account_session_start(app->store, r->arena, &rules, m, http_header(r, "User-Agent"), web_client_ip(r),
	                              c->signed_in ? c->session.token_hash : NULL, clock_now(), token, &max_age);
	if (err)
		return err;
	web_set_cookie(r, SESSION_COOKIE, arena_strdup(r->arena, token), max_age);
	return MH_OK;
}

/* A session as the cache keeps it: the fixed part, then its strings. */
struct cached_session {
	/* The CSRF token for the browser's CSRF cookie, when it sent one: an
	 * HMAC less for every page with a form. */
	char csrf_cookie[TOKEN_CHARS + 1];
	char csrf[TOKEN_CHARS + 1];
	struct member m;
	struct session s;
	bool has_sub;
	struct viewer sub;
	uint16_t lens[3];
	uint64_t mark; /* epochs_mark() before the store was read */
};

static void
session_cache_put(struct http_req *r, const char *hash, uint64_t mark)
{
	struct app *app = r->app;
	const struct web_ctx *c = web_ctx(r);
	/* The session's own token hash is the key; its user agent and address
	 * are only read from the store (the account page's list). */
	const char *str[3] = { c->member.email, c->member.name, c->member.password_hash };
	struct cached_session cs;
	memset(&cs, 0, sizeof cs);
	cs.m = c->member;
	cs.s = c->session;
	cs.has_sub = c->has_sub;
	cs.sub = c->sub;
	cs.mark = mark;
	const char *cookie = http_cookie(r, CSRF_COOKIE);
	if (token_well_formed(cookie)) {
		memcpy(cs.csrf_cookie, cookie, TOKEN_CHARS);
		csrf_token(app->secret, cookie, cs.csrf);
	}
	struct buf b = BUF_INIT;
	for (int i = 0; i < 3; i++) {
		size_t n = str[i] ? strlen(str[i]) : 0;
		if (n > 4096)
			return;
		cs.lens[i] = (uint16_t) n;
	}
	cs.m.email = cs.m.name = cs.m.password_hash = NULL;
	cs.s.token_hash = cs.s.user_agent = cs.s.ip = NULL;
	buf_add(&b, &cs, sizeof cs);
	for (int i = 0; i < 3; i++)
		buf_add(&b, str[i] ? str[i] : "", cs.lens[i]);
	if (!buf_error(&b))
		vcache_put(app->sessions, hash, 0, b.ptr, b.len);
	buf_release(&b);
}

static bool
session_cache_get(struct http_req *r, const char *hash, int64_t now)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct vc_value *v = vcache_get(app->sessions, hash, 0, SESSION_TTL);
	if (!v)
		return false;
	struct cached_session cs;
	memcpy(&cs, v->data, sizeof cs);
	bool ok = cs.s.expires_at > now && epochs_fresh(app->members_changed, cs.m.id, cs.mark);
	if (ok) {
		const char *p = v->data + sizeof cs;
		const char **str[3] = { &cs.m.email, &cs.m.name, &cs.m.password_hash };
		cs.s.token_hash = arena_strdup(r->arena, hash);
		cs.s.user_agent = cs.s.ip = "";
		for (int i = 0; i < 3; i++) {
			*str[i] = arena_strndup(r->arena, p, cs.lens[i]);
			p += cs.lens[i];
		}
		c->member = cs.m;
		c->session = cs.s;
		c->has_sub = cs.has_sub;
		c->sub = cs.sub;
		const char *cookie = http_cookie(r, CSRF_COOKIE);
		if (cs.csrf_cookie[0] && cookie && strcmp(cookie, cs.csrf_cookie) == 0)
			c->csrf = arena_strndup(r->arena, cs.csrf, TOKEN_CHARS);
	}
	vcache_unref(v);
	return ok;
}

static mh_err
load_subscription(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct subscription sub;
	mh_err err = store_subscription_by_member(app->store, r->arena, c->member.id, &sub);
	if (err == MH_ERR_NOTFOUND)
		return MH_OK;
	if (err)
		return err;
	c->has_sub = true;
	c->sub.status = sub.status;
	c->sub.grace_until = sub.grace_until;
	c->sub.period_end = sub.period_end;
	c->sub.cancel_at_period_end = sub.cancel_at_period_end;
	return MH_OK;
}

void
web_resolve_session(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	const char *cookie = http_cookie(r, SESSION_COOKIE);
	if (!cookie)
		return;
	char hash[TOKEN_HASH_CHARS + 1];
	int64_t now = clock_now();
	mh_err err = MH_ERR_NOTFOUND;
	bool cached = false;
	uint64_t mark = 0;
	if (account_token_hash(cookie, hash)) {
		bool versions = app->sessions && app->members_changed && web_request_versions(r);
		mark = versions ? epochs_mark(app->members_changed) : 0;
		cached = versions && session_cache_get(r, hash, now);
		err = cached ? MH_OK : account_session_find(app->store, r->arena, hash, now, &c->session, &c->member);
		if (!err && !cached && (err = load_subscription(r)) == MH_OK && versions)
			session_cache_put(r, hash, mark);
		if (!err)
			r->session = cached ? "cache" : "store";
	}
	if (err) {
		if (err != MH_ERR_NOTFOUND)
			log_error("session lookup failed", "error=\"%s\"", store_errmsg(app->store));
		/* An unknown or expired session: forget the cookie. */
		web_set_cookie(r, SESSION_COOKIE, "", 0);
		return;
	}
	c->signed_in = true;
	const struct account_rules rules = web_account_rules(app);
	bool touched = false;
	int64_t max_age = 0;
	if (account_session_touch(app->store, &rules, hash, &c->session, now, &touched, &max_age) == MH_OK && touched) {
		web_set_cookie(r, SESSION_COOKIE, arena_strdup(r->arena, cookie), max_age);
		/* The touch moves no version: the entry stays valid, with the new times. */
		if (app->sessions && mark)
			session_cache_put(r, hash, mark);
	}
}
