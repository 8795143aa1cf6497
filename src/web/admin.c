/* admin.c: the newsroom's frame (admin.h), its front door /admin and the
 * audit log's page. The sections live beside it: admin_*.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "core/banned.h"

static const struct {
	const char *path, *label;
	enum member_role role; /* the least role that sees it */
} sections[ADMIN_SECTION_COUNT] = {
	[ADMIN_DASHBOARD] = { "/admin", "Dashboard", ROLE_ADMIN },
	[ADMIN_ARTICLES] = { "/admin/articles", "Articles", ROLE_EDITOR },
	[ADMIN_MEMBERS] = { "/admin/members", "Members", ROLE_ADMIN },
	[ADMIN_SETTINGS] = { "/admin/settings", "Settings", ROLE_ADMIN },
	[ADMIN_AUDIT] = { "/admin/audit", "Audit log", ROLE_ADMIN },
	[ADMIN_MEDIA] = { "/admin/media", "Images", ROLE_EDITOR },
};

json_t *
admin_context(struct http_req *r, const char *title, enum admin_section section)
{
	struct web_ctx *c = web_ctx(r);
	json_t *ctx = page_context(r, title, NULL);
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_t *nav = json_array();
	for (int i = 0; i < ADMIN_SECTION_COUNT; i++) {
		if (c->member.role < sections[i].role)
			continue;
		json_t *e = json_object();
		json_object_set_new(e, "url", json_string(sections[i].path));
		json_object_set_new(e, "label", json_string(sections[i].label));
		json_object_set_new(e, "current", json_boolean(i == (int) section));
		json_array_append_new(nav, e);
	}
	json_t *admin = json_object();
	json_object_set_new(admin, "nav", nav);
	json_object_set_new(admin, "title", json_string(title));
	json_object_set_new(admin, "is_admin", json_boolean(c->member.role >= ROLE_ADMIN));
	json_object_set_new(ctx, "admin", admin);
	/* Every form in the newsroom posts a CSRF token. */
	json_object_set_new(ctx, "csrf", json_string(web_csrf(r)));
	return ctx;
}

void
admin_send(struct http_req *r, int status, const char *name, json_t *ctx)
{
	page_send(r, status, name, ctx, CACHE_PRIVATE);
}

const char *
admin_time(struct arena *a, int64_t t)
{
	if (t <= 0)
		return "";
	time_t tt = (time_t) t;
	struct tm tm;
	char out[32];
	if (!gmtime_r(&tt, &tm) || !strftime(out, sizeof out, "%Y-%m-%d %H:%M UTC", &tm))
		return "";
	return arena_strdup(a, out);
}

void
admin_audit(struct http_req *r, const char *action, const char *target, const char *detail)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct audit_entry e = {
		.at = clock_now(),
		.actor_id = c->signed_in ? c->member.id : 0,
		.actor_email = c->signed_in ? c->member.email : "",
		.action = action,
		.target = target,
		.detail = detail,
		.ip = web_client_ip(r),
	};
	if (store_audit_add(app->store, &e))
		log_error("cannot record an audit entry", "action=\"%s\" error=\"%s\"", action,
		          store_errmsg(app->store));
}

/* /admin: an admin's dashboard; an editor's work is the articles. */
void
h_admin(struct http_req *r)
{
	struct web_ctx *c = web_ctx(r);
	if (c->member.role < ROLE_ADMIN) {
		http_add_header(r, "Cache-Control", "private, no-store");
		http_redirect(r, 303, "/admin/articles");
		return;
	}
	h_admin_dashboard(r);
}

#define AUDIT_PAGE 50

/* /admin/audit?before=ID: the newest entries first, AUDIT_PAGE a page. */
void
h_admin_audit(struct http_req *r)
{
	struct app *app = r->app;
	const char *before_s = http_query(r, "before");
	int64_t before = 0;
	if (before_s && before_s[0]) {
		char *end;
		long long v = strtoll(before_s, &end, 10);
		if (*end || v <= 0) {
			app_error(r, 400, "That page of the audit log does not exist.");
			return;
		}
		before = v;
	}
	struct audit_entry *e;
	size_t n;
	if (store_audit_list(app->store, r->arena, before, AUDIT_PAGE + 1, &e, &n)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	json_t *ctx = admin_context(r, "Audit log", ADMIN_AUDIT);
	json_t *rows = json_array();
	for (size_t i = 0; i < n && i < AUDIT_PAGE; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "when", json_string(admin_time(r->arena, e[i].at)));
		json_object_set_new(o, "who", json_string(e[i].actor_email[0] ? e[i].actor_email : "command line"));
		json_object_set_new(o, "action", json_string(e[i].action));
		json_object_set_new(o, "target", json_string(e[i].target));
		json_object_set_new(o, "detail", json_string(e[i].detail));
		json_object_set_new(o, "ip", json_string(e[i].ip));
		json_array_append_new(rows, o);
	}
	json_object_set_new(ctx, "any", json_boolean(n > 0));
	json_object_set_new(ctx, "entries", rows);
	if (n > AUDIT_PAGE)
		json_object_set_new(ctx, "older",
		                    json_string(arena_printf(r->arena, "/admin/audit?before=%lld",
		                                             (long long) e[AUDIT_PAGE - 1].id)));
	admin_send(r, 200, "admin-audit", ctx);
}
