/* pagecache.h: small immutable values kept in memory under a key and a
 * version: rendered pages for readers who send no cookie (as a CDN would
 * keep them), page skeletons for signed-in readers, sessions, article
 * records. A value is valid while the version it was stored under is the
 * current one (the content or member version, which any import, edit,
 * sign-out or billing change moves, from any process) and it is younger
 * than the ttl the reader asks for.
 *
 * The table is 4-way set-associative (a key may take one of four entries;
 * a new one takes an empty, outdated or the oldest of them) under striped
 * reader-writer locks, and holds at most max_bytes of values. Values are
 * reference-counted: a reader keeps one while it uses it, even if the
 * entry is replaced meanwhile. */
#ifndef MH_PAGECACHE_H
#define MH_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

struct pagecache;

/* Seconds a page, skeleton or article record is kept at most, whatever
 * the version: the footer's year, scheduled articles, a missed change. */
#define PAGECACHE_TTL 60

struct pc_value {
	int refs;
	size_t len;
	struct http_shared *resp; /* pages stored with pagecache_put_page */
	char data[];
};

struct pagecache *pagecache_new(size_t slots, size_t max_bytes);
void pagecache_free(struct pagecache *c);

/* The value under key when it was stored at version less than ttl seconds
 * ago, with a reference the caller drops with pagecache_unref; else NULL. */
struct pc_value *pagecache_get(struct pagecache *c, const char *key, int64_t version, long ttl);
void pagecache_unref(struct pc_value *v);
/* Stores a copy of data (nothing when it would pass max_bytes). */
void pagecache_put(struct pagecache *c, const char *key, int64_t version, const void *data, size_t len);

/* Anonymous pages. The key for r when it may be cached (GET or HEAD, no
 * cookie, no query but ?page=), else NULL; from r's arena. */
const char *pagecache_key(struct http_req *r);
/* The same whatever the cookies: for pages kept per kind of signed-in reader. */
const char *pagecache_path_key(struct http_req *r);
/* Answers r with the stored page when it is fresh at version: one response
 * made when the page was stored, queued again on every hit. */
bool pagecache_serve(struct pagecache *c, struct http_req *r, const char *key, int64_t version);
/* Stores a page sent as "Cache-Control: public" to a visitor without cookies. */
void pagecache_put_page(struct pagecache *c, const char *key, int64_t version, const char *body, size_t len);

#endif
