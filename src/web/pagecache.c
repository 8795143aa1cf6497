#include "web/pagecache.h"

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/banned.h"

#define SLOTS    4096
#define STRIPES  64
#define TTL      60
#define MAX_PAGE (256u << 10)

struct entry {
	char *key;
	char *body;
	size_t len;
	int64_t version;
	time_t stored;
};

struct pagecache {
	struct entry slots[SLOTS];
	pthread_mutex_t locks[STRIPES];
};

struct pagecache *
pagecache_new(void)
{
	struct pagecache *c = xcalloc(1, sizeof *c);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	return c;
}

void
pagecache_free(struct pagecache *c)
{
	if (!c)
		return;
	for (int i = 0; i < SLOTS; i++) {
		free(c->slots[i].key);
		free(c->slots[i].body);
	}
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->locks[i]);
	free(c);
}

static size_t
slot_of(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *) key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t) (h % SLOTS);
}

const char *
pagecache_key(struct http_req *r)
{
	if ((r->method != HTTP_GET && r->method != HTTP_HEAD) || http_header(r, "Cookie"))
		return NULL;
	int args = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	const char *page = http_query(r, "page");
	if (args > 1 || (args == 1 && !page))
		return NULL;
	if (strlen(r->path) > 512 || (page && strlen(page) > 16))
		return NULL;
	return page ? arena_printf(r->arena, "%s?page=%s", r->path, page) : r->path;
}

bool
pagecache_serve(struct pagecache *c, struct http_req *r, const char *key, int64_t version)
{
	size_t i = slot_of(key);
	pthread_mutex_t *lock = &c->locks[i % STRIPES];
	struct buf b = BUF_INIT;
	bool hit = false;
	pthread_mutex_lock(lock);
	struct entry *e = &c->slots[i];
	if (e->key && strcmp(e->key, key) == 0 && e->version == version && time(NULL) - e->stored < TTL) {
		buf_add(&b, e->body, e->len);
		hit = true;
	}
	pthread_mutex_unlock(lock);
	if (!hit)
		return false;
	http_add_header(r, "Cache-Control", "public, max-age=60");
	http_add_header(r, "Vary", "Cookie");
	http_add_header(r, "X-Cache", "hit");
	http_respond(r, 200, "text/html; charset=utf-8", &b);
	return true;
}

void
pagecache_put(struct pagecache *c, const char *key, int64_t version, const char *body, size_t len)
{
	if (len > MAX_PAGE)
		return;
	size_t i = slot_of(key);
	pthread_mutex_t *lock = &c->locks[i % STRIPES];
	char *k = xstrdup(key), *copy = xmalloc(len ? len : 1);
	memcpy(copy, body, len);
	pthread_mutex_lock(lock);
	struct entry *e = &c->slots[i];
	char *old_key = e->key, *old_body = e->body;
	e->key = k;
	e->body = copy;
	e->len = len;
	e->version = version;
	e->stored = time(NULL);
	pthread_mutex_unlock(lock);
	free(old_key);
	free(old_body);
}
