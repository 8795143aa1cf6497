/* page.h: building template contexts and sending rendered pages. */
#ifndef MH_PAGE_H
#define MH_PAGE_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"
#include "web/app.h"

enum cache_policy {
	CACHE_PUBLIC,  /* may be cached by a CDN when no session cookie is sent */
	CACHE_PRIVATE, /* personalised or gated: private, no-store */
};

/* A context with the keys every page has: site, viewer, page, year, ... */
json_t *page_context(struct http_req *r, const char *title, const char *description);
/* Renders template `name` with ctx (taken) and sends it. */
void page_send(struct http_req *r, int status, const char *name, json_t *ctx, enum cache_policy cache);
/* An article as the cards and article templates read it. */
json_t *page_article_json(struct http_req *r, const struct article *a);
/* An absolute URL for a path, from the public URL. */
const char *page_url(struct http_req *r, const char *path);

#endif
