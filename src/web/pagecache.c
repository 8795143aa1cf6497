/* pagecache.c: whole pages in the versioned cache, for readers who send no
 * cookie: the key a request may be answered under, and one libmicrohttpd
 * response per page, made when it is stored. */
#include "core/clock.h"
#include "web/reads.h"
#include "web/pagecache.h"

#include <microhttpd.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

const char *
pagecache_key(struct http_req *r)
{
	return http_header(r, "Cookie") ? NULL : pagecache_path_key(r);
}

const char *
pagecache_path_key(struct http_req *r)
{
	if (r->method != HTTP_GET && r->method != HTTP_HEAD)
		return NULL;
	int args = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	const char *page = http_query(r, "page");
	if (args > 1 || (args == 1 && !page))
		return NULL;
	if (strlen(r->path) > 512 || (page && strlen(page) > 16))
		return NULL;
	if (page)
		return arena_printf(r->arena, "%s?page=%s", r->path, page);
	/* The front page's Most read changes by the hour, content or not. */
	if (strcmp(r->path, "/") == 0)
		return arena_printf(r->arena, "/#h%lld", (long long) reads_hour(clock_now()));
	return r->path;
}

struct serve {
	struct http_req *r;
	bool hit;
};

static void
serve_value(struct vc_value *v, void *arg)
{
	struct serve *s = arg;
	if (!v->attached)
		return;
	/* Queued while the entry cannot change, so it cannot drop the response
	 * meanwhile; libmicrohttpd holds its own reference from here. */
	http_respond_shared(s->r, 200, v->attached, v->len);
	s->r->cache = "hit";
	s->hit = true;
}

bool
pagecache_serve(struct vcache *c, struct http_req *r, const char *key, int64_t version)
{
	struct serve s = { r, false };
	vcache_visit(c, key, version, PAGECACHE_TTL, serve_value, &s);
	return s.hit;
}

static void
release_value(void *arg)
{
	vcache_unref(arg);
}

static void
drop_response(void *resp)
{
	http_shared_drop(resp);
}

void
pagecache_put_page(struct vcache *c, const char *key, int64_t version, const char *body, size_t len)
{
	static const struct http_header headers[] = {
		{ "Cache-Control", "public, max-age=60" },
		{ "Vary", "Cookie" },
		{ "X-Cache", "hit" },
	};
	struct vc_value *v = vcache_value_new(body, len);
	/* The response holds a reference of its own, dropped when libmicrohttpd
	 * destroys it: after the table let go and the last request finished. */
	v->refs++;
	v->attached = http_shared_new("text/html; charset=utf-8", v->data, len, headers,
	                              sizeof headers / sizeof *headers, release_value, v);
	if (v->attached)
		v->detach = drop_response;
	else
		v->refs--;
	vcache_put_value(c, key, version, v);
}
