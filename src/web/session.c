/* session.c: who is asking. Session cookies, CSRF, and the route flags. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/token.h"
#include "core/log.h"
#include "web/app.h"
#include "web/page.h"
#include "web/pagecache.h"
#include "core/banned.h"

#define SESSION_COOKIE "masthead_session"
#define CSRF_COOKIE    "masthead_csrf"
#define TOUCH_EVERY    300 /* seconds between sliding-expiry writes */

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
	const char *proto = app->cfg->trusted_proxy ? http_header(r, "X-Forwarded-Proto") : NULL;
	return proto && strcmp(proto, "https") == 0;
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
	const char *xff = app->cfg->trusted_proxy ? http_header(r, "X-Forwarded-For") : NULL;
	if (xff && xff[0]) {
		/* The proxy appends the address it saw last; that is the one it vouches for. */
		const char *last = strrchr(xff, ',');
		struct slice ip = slice_trim(slice_from(last ? last + 1 : xff));
		if (ip.len > 0 && ip.len < 64)
			return arena_strndup(r->arena, ip.ptr, ip.len);
	}
	return http_client_addr(r);
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
web_csrf(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	if (c->csrf)
		return c->csrf;
	const char *cookie = http_cookie(r, CSRF_COOKIE);
	if (!token_well_formed(cookie)) {
		char *fresh = arena_alloc(r->arena, TOKEN_CHARS + 1);
		token_new(fresh);
		/* A year: the cookie only pairs forms with this browser. */
		web_set_cookie(r, CSRF_COOKIE, fresh, 365L * 86400);
		cookie = fresh;
	}
	char *tok = arena_alloc(r->arena, TOKEN_CHARS + 1);
	csrf_token(app->secret, cookie, tok);
	c->csrf = tok;
	return tok;
}

mh_err
web_sign_in(struct http_req *r, const struct member *m)
{
	struct app *app = r->app;
	int64_t now = (int64_t) time(NULL);
	long days = app->cfg->session_days ? app->cfg->session_days : 30;
	char token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	token_new(token);
	token_hash(token, hash);
	const char *ua = http_header(r, "User-Agent");
	struct session s = { hash,
		             m->id,
		             now,
		             now,
		             now + days * 86400,
		             arena_strndup(r->arena, ua ? ua : "", ua ? strnlen(ua, 200) : 0),
		             web_client_ip(r) };
	/* Whatever session this browser had ends: a new sign-in is a new session. */
	struct web_ctx *c = web_ctx(r);
	if (c->signed_in)
		app->store->ops->session_delete(app->store, c->session.token_hash);
	mh_err err = app->store->ops->session_create(app->store, &s);
	if (err)
		return err;
	web_set_cookie(r, SESSION_COOKIE, arena_strdup(r->arena, token), days * 86400);
	return MH_OK;
}

static void
resolve_session(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	const char *cookie = http_cookie(r, SESSION_COOKIE);
	if (!cookie)
		return;
	char hash[TOKEN_HASH_CHARS + 1];
	int64_t now = (int64_t) time(NULL);
	mh_err err = MH_ERR_NOTFOUND;
	if (token_well_formed(cookie)) {
		token_hash(cookie, hash);
		err = app->store->ops->session_get(app->store, r->arena, hash, now, &c->session, &c->member);
	}
	if (err) {
		if (err != MH_ERR_NOTFOUND)
			log_error("session lookup failed", "error=\"%s\"", app->store->errmsg);
		/* An unknown or expired session: forget the cookie. */
		web_set_cookie(r, SESSION_COOKIE, "", 0);
		return;
	}
	c->signed_in = true;
	if (now - c->session.last_seen_at >= TOUCH_EVERY) {
		long days = app->cfg->session_days ? app->cfg->session_days : 30;
		if (app->store->ops->session_touch(app->store, hash, now, now + days * 86400) == MH_OK)
			web_set_cookie(r, SESSION_COOKIE, arena_strdup(r->arena, cookie), days * 86400);
	}
}

bool
web_before(struct http_req *r, const struct route *rt)
{
	struct web_ctx *c = web_ctx(r);
	struct app *app = r->app;
	if ((rt->flags & ROUTE_CACHEABLE) && app->pages && (c->cache_key = pagecache_key(r))) {
		if (app->store->ops->content_version(app->store, &c->cache_version)) {
			c->cache_key = NULL;
		} else if (pagecache_serve(app->pages, r, c->cache_key, c->cache_version)) {
			return false;
		}
	}
	resolve_session(r);
	if ((rt->flags & (ROUTE_SIGNED_IN | ROUTE_EDITOR | ROUTE_ADMIN)) && !c->signed_in) {
		if (r->method == HTTP_GET || r->method == HTTP_HEAD) {
			struct buf b = BUF_INIT;
			buf_puts(&b, "/signin?next=");
			buf_add_urlenc(&b, r->path, strlen(r->path));
			http_add_header(r, "Cache-Control", "private, no-store");
			http_redirect(r, 303, arena_strndup(r->arena, b.ptr, b.len));
			buf_release(&b);
		} else {
			app_error(r, 401, "Please sign in first.");
		}
		return false;
	}
	if (((rt->flags & ROUTE_EDITOR) && c->member.role < ROLE_EDITOR) ||
	    ((rt->flags & ROUTE_ADMIN) && c->member.role < ROLE_ADMIN)) {
		app_error(r, 403, "Your account does not have access to this page.");
		return false;
	}
	if ((rt->flags & ROUTE_CSRF) && r->method == HTTP_POST) {
		if (!csrf_valid(app->secret, http_cookie(r, CSRF_COOKIE), http_form(r, "csrf"))) {
			app_error(r, 403,
			          "This form has expired or came from another site. Go back, reload the page "
			          "and try again.");
			return false;
		}
	}
	return true;
}
