/* api.c: the glue between HTTP and the Content API (api/content.h): the
 * prefixes it answers under, the key, CORS, the ETag and the error
 * envelope. What the answer holds is decided in src/api/, as an anonymous
 * reader, whoever asks and whatever cookies they bring. */
#include <sodium.h>
#include <string.h>

#include "api/content.h"
#include "auth/token.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/pagecache.h"
#include "core/vcache.h"
#include "core/banned.h"

/* The versions before "content/" that Ghost's clients use. */
static const char *const versions[] = { "", "v3/", "v4/", "v5/", "canary/", NULL };

/* The path after the API prefix, or NULL when it is none of them. */
static const char *
api_rest(struct http_req *r)
{
	if (!strncmp(r->path, "/api/v1/", 8))
		return r->path + 8;
	if (strncmp(r->path, "/ghost/api/", 11))
		return NULL;
	const char *s = r->path + 11;
	for (const char *const *v = versions; *v; v++) {
		size_t n = strlen(*v);
		if (!strncmp(s, *v, n) && !strncmp(s + n, "content/", 8))
			return s + n + 8;
	}
	return NULL;
}

/* Access-Control-Allow-Origin when the request's Origin may call the API. */
static void
cors(struct http_req *r)
{
	struct app *app = r->app;
	const char *allowed = app->cfg->api_cors_origins;
	const char *origin = http_header(r, "Origin");
	if (!allowed || !allowed[0])
		return;
	if (!strcmp(allowed, "*")) {
		http_add_header(r, "Access-Control-Allow-Origin", "*");
		return;
	}
	http_add_header(r, "Vary", "Origin");
	if (!origin || !origin[0] || strlen(origin) > 256)
		return;
	size_t n = strlen(origin);
	for (const char *s = allowed; *s;) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *end = s;
		while (*end && *end != ',' && *end != ' ')
			end++;
		if ((size_t) (end - s) == n && !memcmp(s, origin, n)) {
			http_add_header(r, "Access-Control-Allow-Origin", arena_strdup(r->arena, origin));
			return;
		}
		s = end;
	}
}

/* Sends a JSON answer: a 200 with its ETag (a 304 when the client holds
 * these bytes), anything else not to be cached. */
static void
send_bytes(struct http_req *r, int status, const char *etag, const char *data, size_t len)
{
	cors(r);
	if (status == 200) {
		http_add_header(r, "ETag", etag);
		http_add_header(r, "Cache-Control", "public, max-age=0, must-revalidate");
		const char *inm = http_header(r, "If-None-Match");
		if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
			http_respond_static(r, 304, "application/json; charset=utf-8", "", 0);
			return;
		}
	} else {
		http_add_header(r, "Cache-Control", "no-store");
	}
	struct buf b = BUF_INIT;
	buf_add(&b, data, len);
	http_respond(r, status, "application/json; charset=utf-8", &b);
}

/* The ETag of a body: its own hash, 32 hex digits in quotes. */
#define ETAG_CHARS 34
static void
etag_of(const char *data, size_t len, char out[ETAG_CHARS + 1])
{
	unsigned char h[16];
	crypto_generichash(h, sizeof h, (const unsigned char *) data, len, NULL, 0);
	out[0] = '"';
	sodium_bin2hex(out + 1, 33, h, sizeof h);
	out[ETAG_CHARS - 1] = '"';
	out[ETAG_CHARS] = '\0';
}

/* Whether every answer carries the same CORS headers (any origin, or none),
 * so one prepared response serves every request. */
static bool
cors_constant(const struct app *app)
{
	const char *allowed = app->cfg->api_cors_origins;
	return !allowed || !allowed[0] || !strcmp(allowed, "*");
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

/* Keeps an answer: its ETag, then its bytes; with a libmicrohttpd response
 * made once, queued again for every request it fits, as pages are. */
static void
cache_put(struct app *app, const char *key, int64_t version, const char *etag, const char *text, size_t len)
{
	struct buf b = BUF_INIT;
	buf_add(&b, etag, ETAG_CHARS);
	buf_add(&b, text, len);
	struct vc_value *v = vcache_value_new(b.ptr, b.len);
	buf_release(&b);
	if (cors_constant(app)) {
		const char *allowed = app->cfg->api_cors_origins;
		struct http_header headers[] = {
			{ "ETag", etag },
			{ "Cache-Control", "public, max-age=0, must-revalidate" },
			{ "Access-Control-Allow-Origin", "*" },
		};
		size_t n = allowed && !strcmp(allowed, "*") ? 3 : 2;
		/* The response holds a reference of its own, dropped when
		 * libmicrohttpd destroys it. */
		v->refs++;
		v->attached = http_shared_new("application/json; charset=utf-8", v->data + ETAG_CHARS, len, headers, n,
		                              release_value, v);
		if (v->attached)
			v->detach = drop_response;
		else
			v->refs--;
	}
	vcache_put_value(app->pages, key, version, v);
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
	http_respond_shared(s->r, 200, v->attached, v->len - ETAG_CHARS);
	s->r->cache = "hit";
	s->hit = true;
}

/* Serializes body (taken) and sends it; a 200 also goes into the cache
 * under cache_key (when not NULL) as its ETag and its bytes. */
static void
send_json(struct http_req *r, int status, json_t *body, const char *cache_key, int64_t version)
{
	struct app *app = r->app;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text) {
		static const char oom[] = "{\"errors\":[{\"message\":\"The server could not answer.\",\"type\":"
		                          "\"InternalServerError\"}]}";
		send_bytes(r, 500, "", oom, sizeof oom - 1);
		return;
	}
	size_t len = strlen(text);
	char etag[ETAG_CHARS + 1];
	etag_of(text, len, etag);
	if (status == 200 && cache_key)
		cache_put(app, cache_key, version, etag, text, len);
	send_bytes(r, status, arena_strdup(r->arena, etag), text, len);
	free(text);
}

static void
send_error(struct http_req *r, int status, const char *type, const char *message, const char *context)
{
	send_json(r, status, api_error(type, message, context), NULL, 0);
}

/* The key: none 403, malformed, unknown or revoked 401. */
#define API_KEY_TTL 1 /* seconds a key found valid is believed without asking the store */
static bool
key_ok(struct http_req *r)
{
	struct app *app = r->app;
	const char *key = http_query(r, "key");
	if (!key || !key[0]) {
		send_error(r, 403, "NoPermissionError", "Authorization failed",
		           "Unable to determine the authenticated member or integration. Check the supplied Content "
		           "API Key.");
		return false;
	}
	char hash[TOKEN_HASH_CHARS + 1];
	struct api_key k;
	mh_err err = MH_ERR_NOTFOUND;
	if (api_key_well_formed(key)) {
		token_hash(key, hash);
		/* A key found valid is remembered for up to a second (keyed by its
		 * hash), so a revocation from any process holds within a second. */
		const char *known = app->pages ? arena_concat(r->arena, "apikey|", hash, NULL) : NULL;
		struct vc_value *v = known ? vcache_get(app->pages, known, 0, API_KEY_TTL) : NULL;
		if (v) {
			vcache_unref(v);
			return true;
		}
		err = store_api_key_by_hash(app->store, r->arena, hash, &k);
		/* The row was found by its hash; compare the whole of it in constant time all the same. */
		if (!err && (strlen(k.key_hash) != TOKEN_HASH_CHARS ||
		             sodium_memcmp(k.key_hash, hash, TOKEN_HASH_CHARS) != 0 || k.revoked_at))
			err = MH_ERR_NOTFOUND;
	}
	if (!err && app->pages)
		vcache_put(app->pages, arena_concat(r->arena, "apikey|", hash, NULL), 0, "1", 1);
	if (err == MH_ERR_NOTFOUND) {
		send_error(r, 401, "UnauthorizedError", "Unknown Content API Key", NULL);
		return false;
	}
	if (err) {
		log_error("cannot read API keys", "error=\"%s\"", store_errmsg(app->store));
		send_error(r, 500, "InternalServerError", "The server could not answer. Try again later.", NULL);
		return false;
	}
	return true;
}

void
h_api(struct http_req *r)
{
	struct app *app = r->app;
	const char *rest = api_rest(r);
	struct api_route rt;
	if (!rest || !api_route_parse(r->arena, rest, &rt)) {
		send_error(r, 404, "NotFoundError", "Resource not found", "The Content API has no such address.");
		return;
	}
	if (r->method == HTTP_OPTIONS) {
		cors(r);
		http_add_header(r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
		http_add_header(r, "Access-Control-Allow-Headers", "Accept-Version, Content-Type");
		http_add_header(r, "Access-Control-Max-Age", "86400");
		http_respond_static(r, 204, "text/plain; charset=utf-8", "", 0);
		return;
	}
	if (!key_ok(r))
		return;
	struct api_params p = {
		http_query(r, "include"), http_query(r, "fields"), http_query(r, "formats"), http_query(r, "limit"),
		http_query(r, "page"),    http_query(r, "order"),  http_query(r, "filter"),  http_query(r, "search"),
	};
	struct api_site site = {
		app->store,          app->cfg->public_url,
		app->cfg->site_name, app->cfg->site_tagline,
		app->secret,         { app->cfg->auto_paywall_days },
		clock_now(),         0,
	};
	/* Answers are the same for every key and every reader: kept in the
	 * page cache under the content version, as pages are, at most
	 * PAGECACHE_TTL seconds (so a scheduled post or the auto-paywall shows
	 * within that). Tiers come from the plans, which that version does not
	 * follow: never kept. */
	const char *cache_key = NULL;
	struct web_ctx *c = web_ctx(r);
	if (app->pages && strcmp(rt.resource, "tiers") && web_request_versions(r)) {
		const char *vals[] = { p.include, p.fields, p.formats, p.limit, p.page, p.order, p.filter, p.search };
		struct buf k = BUF_INIT;
		buf_printf(&k, "api|%s", r->path);
		for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
			if (vals[i])
				buf_printf(&k, "|%zu:%s", strlen(vals[i]), vals[i]);
			else
				buf_puts(&k, "|-");
		}
		cache_key = arena_strndup(r->arena, k.ptr, k.len);
		buf_release(&k);
		/* The prepared response, unless the client holds a copy to check. */
		struct serve sv = { r, false };
		if (!http_header(r, "If-None-Match") && cors_constant(app) &&
		    vcache_visit(app->pages, cache_key, c->versions.content, PAGECACHE_TTL, serve_value, &sv) && sv.hit)
			return;
		struct vc_value *hit = vcache_get(app->pages, cache_key, c->versions.content, PAGECACHE_TTL);
		if (hit && hit->len >= ETAG_CHARS) {
			r->cache = "hit";
			send_bytes(r, 200, arena_strndup(r->arena, hit->data, ETAG_CHARS), hit->data + ETAG_CHARS,
			           hit->len - ETAG_CHARS);
			vcache_unref(hit);
			return;
		}
		if (hit)
			vcache_unref(hit);
	}
	int status = 500;
	json_t *body = api_answer(&site, r->arena, &rt, &p, &status);
	send_json(r, status, body, cache_key, c->versions.content);
}
