/* page.h: building template contexts and sending rendered pages. */
#ifndef MH_PAGE_H
#define MH_PAGE_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"
#include "web/app.h"

enum cache_policy {
	CACHE_PUBLIC,  /* may be cached by a CDN when no session cookie is sent */
	CACHE_SHARED,  /* signed-in readers only, the same for every one of a kind: may be a skeleton */
	CACHE_PRIVATE, /* personalised or gated: private, no-store */
};

/* A signed-in reader's own values in a page skeleton. */
enum page_slot { SLOT_NAME, SLOT_EMAIL, SLOT_CSRF, N_SLOTS };

/* The mark for a slot, for contexts rendered into a skeleton. */
const char *page_slot(struct http_req *r, enum page_slot slot);
/* The CSRF token for this page's forms (its mark while rendering a skeleton). */
const char *page_csrf(struct http_req *r);
/* The skeleton key for this reader's kind and the handler's variant (what
 * else the page depends on), or NULL when the page has no skeleton. */
const char *page_skeleton_key(struct http_req *r, const char *variant);
/* Sends the page from its skeleton when there is a fresh one. */
bool page_skeleton_serve(struct http_req *r, const char *key);
/* For a signed-in reader on a page whose skeleton depends on nothing but
 * the reader's kind and variant: sends it (true), or has the page rendered
 * into one (false: the handler renders as usual). */
bool page_skeleton_or_capture(struct http_req *r, const char *variant);

/* A context with the keys every page has: site, viewer, page, year, ... */
/* The configured sections (site setting "sections"), in menu order, as
 * tag references from r's arena; returns how many. */
size_t page_sections(struct http_req *r, struct named_ref **out);
json_t *page_context(struct http_req *r, const char *title, const char *description);
/* Renders template `name` with ctx (taken) and sends it. */
void page_send(struct http_req *r, int status, const char *name, json_t *ctx, enum cache_policy cache);
/* An article as the cards and article templates read it. */
json_t *page_article_json(struct http_req *r, const struct article *a);
/* An absolute URL for a path, from the public URL. */
const char *page_url(struct http_req *r, const char *path);

#endif
