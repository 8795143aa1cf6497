/* pagecache.h: rendered pages for readers who send no cookie, kept in
 * memory as a CDN would keep them. Only a page that was itself sent as
 * `Cache-Control: public` to a visitor without cookies is stored, and only
 * such visitors are served from it; an entry lives until the content
 * version moves (any import or edit, from any process) or 60 seconds pass. */
#ifndef MH_PAGECACHE_H
#define MH_PAGECACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"

struct pagecache;

struct pagecache *pagecache_new(void);
void pagecache_free(struct pagecache *c);
/* The key for r when it may be cached (GET or HEAD, no cookie, no query
 * but ?page=), else NULL. Allocated from r's arena. */
const char *pagecache_key(struct http_req *r);
/* Answers r from the cache when an entry for key is fresh at version. */
bool pagecache_serve(struct pagecache *c, struct http_req *r, const char *key, int64_t version);
void pagecache_put(struct pagecache *c, const char *key, int64_t version, const char *body, size_t len);

#endif
