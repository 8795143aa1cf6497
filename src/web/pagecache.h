/* pagecache.h: the site's use of the versioned cache (core/vcache.h):
 * which requests may be answered from it, and whole pages kept with one
 * libmicrohttpd response each, queued again on every hit. */
#ifndef MH_PAGECACHE_H
#define MH_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vcache.h"
#include "http/http.h"

/* Seconds a page, skeleton or article record is kept at most, whatever
 * the version: the footer's year, scheduled articles, a missed change. */
#define PAGECACHE_TTL 60

/* Anonymous pages. The key for r when it may be cached (GET or HEAD, no
 * cookie, no query but ?page=), else NULL; from r's arena. */
const char *pagecache_key(struct http_req *r);
/* The same whatever the cookies: for pages kept per kind of signed-in reader. */
const char *pagecache_path_key(struct http_req *r);
/* Answers r with the stored page when it is fresh at version: one response
 * made when the page was stored, queued again on every hit. */
bool pagecache_serve(struct vcache *c, struct http_req *r, const char *key, int64_t version);
/* Stores a page sent as "Cache-Control: public" to a visitor without cookies. */
void pagecache_put_page(struct vcache *c, const char *key, int64_t version, const char *body, size_t len);

#endif
