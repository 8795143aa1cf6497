/* dispatch.c: what happens between the route table and a handler, and the
 * error pages every handler answers with. web_before() serves cached pages,
 * resolves the session and enforces the route's flags (signed in, editor,
 * admin, CSRF) before any handler runs, so no handler repeats those rules. */
#include <string.h>

#include "auth/token.h"
#include "core/buf.h"
#include "core/clock.h"
#include "paywall/access.h"
#include "web/handlers.h"
#include "web/reads.h"
#include "web/app.h"
#include "web/page.h"
#include "web/pagecache.h"
#include "web/settings.h"
#include "core/banned.h"

void
app_error(struct http_req *r, int status, const char *message)
{
	static const struct {
		int status;
		const char *title;
	} titles[] = {
		{ 400, "Bad request" },       { 404, "Page not found" },      { 405, "Method not allowed" },
		{ 413, "Request too large" }, { 429, "Too many requests" },   { 500, "Something went wrong" },
		{ 501, "Not implemented" },   { 503, "Service unavailable" },
	};
	const char *title = "Error";
	for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
		if (titles[i].status == status)
			title = titles[i].title;
	json_t *ctx = page_context(r, title, message);
	json_object_set_new(ctx, "status", json_integer(status));
	json_object_set_new(ctx, "title", json_string(title));
	json_object_set_new(ctx, "message", json_string(message));
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	page_send(r, status, "error", ctx, CACHE_PRIVATE);
}

/* An imported site's old address (store_redirect_put): 301 to where it
 * lives now. The target is checked again here, so a row written by other
 * means can never send a reader to another site. */
bool
app_redirect_old(struct http_req *r, const char *old_path)
{
	struct app *app = r->app;
	const char *to;
	if ((r->method != HTTP_GET && r->method != HTTP_HEAD) || strlen(old_path) > 1024 ||
	    store_redirect_get(app->store, r->arena, old_path, &to) != MH_OK)
		return false;
	if (to[0] != '/' || to[1] == '/' || to[1] == '\\' || strpbrk(to, "\r\n"))
		return false;
	http_add_header(r, "Cache-Control", "public, max-age=3600");
	http_redirect(r, 301, to);
	return true;
}

void
app_not_found(struct http_req *r)
{
	if (app_redirect_old(r, r->path))
		return;
	app_error(r, 404, "We could not find that page. It may have moved, or the link may be mistyped.");
}

void
app_method_not_allowed(struct http_req *r)
{
	app_error(r, 405, "That address does not accept this kind of request.");
}

/* Whether a signed-in reader would read a paid article in full by their
 * own standing (no gift, no meter): the same decision the paywall makes. */
static bool
reader_entitled(struct web_ctx *c)
{
	struct viewer v;
	memset(&v, 0, sizeof v);
	v.signed_in = true;
	v.member_id = c->member.id;
	v.role = c->member.role;
	v.comped_until = c->member.comped_until;
	v.meter_remaining = -1;
	if (c->has_sub) {
		v.status = c->sub.status;
		v.grace_until = c->sub.grace_until;
		v.period_end = c->sub.period_end;
		v.cancel_at_period_end = c->sub.cancel_at_period_end;
	}
	struct article paid;
	memset(&paid, 0, sizeof paid);
	paid.access = ACCESS_PAID;
	int64_t now = clock_now();
	paid.published_at = now;
	return access_decide(&paid, &v, now).full;
}

bool
web_before(struct http_req *r, const struct route *rt)
{
	struct web_ctx *c = web_ctx(r);
	struct app *app = r->app;
	/* Most read: every article page served counts, from the cache too. */
	if (rt->handler == h_article && r->method == HTTP_GET && r->params[0])
		reads_count(app->reads, r->params[0]);
	/* The settings follow the content version (web/settings.h); theme
	 * files and the probes need none, and do not wait on the store. */
	if (app->settings && strncmp(rt->pattern, "/static/", 8) && strcmp(rt->pattern, "/healthz") &&
	    strcmp(rt->pattern, "/metrics") && web_request_versions(r))
		settings_follow(app, c->versions.content);
	if ((rt->flags & ROUTE_CACHEABLE) && app->pages && (c->cache_key = pagecache_key(r))) {
		if (!web_request_versions(r))
			c->cache_key = NULL;
		else if (pagecache_serve(app->pages, r, c->cache_key, c->versions.content))
			return false;
	}
	web_resolve_session(r);
	c->entitled = c->signed_in && reader_entitled(c);
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
	/* A signed-in reader's kind, for page skeletons: values with line
	 * breaks would be indented by standalone partials, so they never go
	 * into one. */
	if ((rt->flags & ROUTE_CACHEABLE) && c->signed_in && app->fragments && !strpbrk(c->member.name, "\r\n") &&
	    !strpbrk(c->member.email, "\r\n") && web_request_versions(r)) {
		const char *path = pagecache_path_key(r);
		if (path)
			c->skel_base = arena_concat(r->arena, path, c->member.name[0] ? "|n|" : "|-|",
			                            member_role_name(c->member.role), c->entitled ? "|s" : "|-", NULL);
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
