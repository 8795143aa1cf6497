/* admin.h: what every newsroom page (/admin, docs/newsroom.md) shares: its
 * layout's context, sending a page, and the audit log. The route table
 * checks roles (ROUTE_EDITOR, ROUTE_ADMIN) before any handler runs. */
#ifndef MH_ADMIN_H
#define MH_ADMIN_H

#include <jansson.h>

#include <stdint.h>

#include "core/arena.h"
#include "http/http.h"

/* The newsroom's sections, for the navigation's current entry. */
enum admin_section {
	ADMIN_DASHBOARD,
	ADMIN_ARTICLES,
	ADMIN_MEMBERS,
	ADMIN_SETTINGS,
	ADMIN_AUDIT,
	ADMIN_MEDIA,
	ADMIN_SECTION_COUNT
};

/* A page context (page.h) with the newsroom's navigation for the viewer's
 * role, section marked current, and the page kept out of search engines. */
json_t *admin_context(struct http_req *r, const char *title, enum admin_section section);
/* Renders template name with ctx (taken): private, never cached (every
 * page is framed by no one: X-Frame-Options DENY is the site's). */
void admin_send(struct http_req *r, int status, const char *name, json_t *ctx);
/* t as "2026-12-01 14:03 UTC" (the newsroom shows times in UTC); "" for 0. */
const char *admin_time(struct arena *a, int64_t t);
/* Records what the signed-in viewer did, to what, from where (the audit
 * log); a failure to record is logged, never shown to the viewer. */
void admin_audit(struct http_req *r, const char *action, const char *target, const char *detail);

#endif
