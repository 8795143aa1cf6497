/* http.h: requests, responses and the route table, over libmicrohttpd.
 *
 * Routes are data: one table of method, pattern, handler and flags, and
 * one dispatcher that enforces the flags before any handler runs. A
 * handler answers by calling exactly one http_respond*() function. */
#ifndef MH_HTTP_H
#define MH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_DELETE = 1 << 4,
	HTTP_OPTIONS = 1 << 5,
	HTTP_PATCH = 1 << 6,
};

#define HTTP_MAX_PARAMS  4
#define HTTP_MAX_HEADERS 12

struct http_req;
typedef void (*http_handler)(struct http_req *r);

/* Route flags, enforced before the handler runs (see http_server_opts.before). */
enum {
	ROUTE_RAW_BODY = 1 << 0,  /* keep the body unparsed (webhooks) */
	ROUTE_CSRF = 1 << 1,      /* a POST must carry a valid CSRF token */
	ROUTE_SIGNED_IN = 1 << 2, /* only for a signed-in member */
	ROUTE_EDITOR = 1 << 3,    /* only for editors and admins */
	ROUTE_ADMIN = 1 << 4,     /* only for admins */
	ROUTE_CACHEABLE = 1 << 5, /* a public page, the same for every visitor without cookies */
	ROUTE_UPLOAD = 1 << 6,    /* the body may be max_upload bytes, not max_body (http_server_opts) */
};

struct route {
	unsigned methods;    /* HTTP_GET | ... ; GET also answers HEAD */
	const char *pattern; /* "/articles/:slug"; a final * takes the rest of the path */
	http_handler handler;
	unsigned flags;
};

struct http_header {
	const char *name, *value;
};

struct http_req {
	void *conn;          /* struct MHD_Connection */
	struct arena *arena; /* freed when the request completes */
	void *app;           /* the application, for handlers */
	enum http_method method;
	const char *method_name;
	const char *path; /* decoded, without the query */
	const char *params[HTTP_MAX_PARAMS];
	size_t n_params;
	struct buf body;
	bool body_too_big;
	/* the response, for the access log */
	int status;
	size_t bytes;
	bool responded;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	int64_t start_ns;
	const struct route *route;
	void *ctx;               /* the application's per-request state */
	struct http_field *form; /* the parsed body's text fields, on first http_form() */
	size_t n_form;
	struct http_file *files; /* a multipart body's file parts, on first http_form() */
	size_t n_files;
	bool form_bad; /* a multipart body that did not parse */
	bool form_parsed;
	const char *cache;   /* "hit", "skeleton": which cache answered, for the access log */
	const char *session; /* "cache", "store": where the caller's session was found, for the access log */
	struct http_server *server;
	struct http_job *job; /* set by http_defer() until its done callback runs */
};

struct http_field {
	const char *name, *value;
};

/* A file part of a multipart/form-data body: data points into the body
 * (it lives as long as the request), the rest is from the request's arena. */
struct http_file {
	const char *name;         /* the form field's name */
	const char *filename;     /* as the browser sent it ("" when absent): never trusted for anything */
	const char *content_type; /* as the browser sent it ("" when absent): never trusted either */
	const char *data;
	size_t len;
};

/* The request's path for logs: token-shaped segments written "[token]". */
const char *http_log_path(struct http_req *r);
/* Appends path to out with each segment of a token's shape (43 base64url
 * characters between '/' and '/' or '.') written "[token]"; true when one was. */
bool http_path_redact(const char *path, struct buf *out);
/* More query parameters than this are refused (414) before libmicrohttpd
 * parses them: it keeps each in the connection's memory pool, and 0.9.75,
 * when that runs out, neither answers nor closes until the idle timeout. */
#define HTTP_MAX_QUERY_ARGS 100
/* True when the query of uri (the request line's target) has more than
 * HTTP_MAX_QUERY_ARGS parameters, or more than a pool for max_header
 * bytes of headers holds. */
bool http_query_too_big(const char *uri, size_t max_header);
const char *http_header(struct http_req *r, const char *name);
const char *http_query(struct http_req *r, const char *name);
const char *http_cookie(struct http_req *r, const char *name);
/* A field of an application/x-www-form-urlencoded body (decoded, from the
 * arena), or NULL. Fields with invalid UTF-8 or a NUL read as absent. */
const char *http_form(struct http_req *r, const char *name);
/* The parser under http_form, on its own (for the fuzz target): up to max
 * fields of body into out, names and values decoded into a; a field whose
 * name is empty or whose name or value is not valid UTF-8 is left out.
 * Returns the count. */
size_t http_form_parse(struct arena *a, const char *body, size_t len, struct http_field *out, size_t max);
/* The first file part named name of a multipart/form-data body, or NULL. */
const struct http_file *http_file(struct http_req *r, const char *name);
/* Whether the body claimed to be multipart/form-data but did not parse. */
bool http_form_malformed(struct http_req *r);
/* The multipart/form-data parser under http_form and http_file (RFC 7578,
 * RFC 2046 section 5.1.1), on its own for the fuzz target: the boundary
 * is read from content_type; text parts (no filename) go to fields (up to
 * max_fields; a value that is not valid UTF-8 is left out), file parts to
 * files (up to max_files; parts beyond either limit are an error). Names
 * and the boundary are bounded; data points into body. Returns MH_OK, or
 * MH_ERR_INVALID for a body that is not well-formed multipart (nothing
 * then is to be used). */
mh_err http_multipart_parse(struct arena *a, const char *content_type, const char *body, size_t len,
                            struct http_field *fields, size_t max_fields, size_t *n_fields, struct http_file *files,
                            size_t max_files, size_t *n_files);
/* The client's address as text, allocated from the request's arena. */
const char *http_client_addr(struct http_req *r);

/* Adds a response header; name and value must outlive the request (arena or static). */
void http_add_header(struct http_req *r, const char *name, const char *value);
/* Sends body (taken: the buffer is emptied) with the content type. */
void http_respond(struct http_req *r, int status, const char *content_type, struct buf *body);
/* Sends static bytes that outlive the server. */
void http_respond_static(struct http_req *r, int status, const char *content_type, const char *data, size_t len);
void http_respond_text(struct http_req *r, int status, const char *text);

/* One response queued on many requests (a cached page): made once with its
 * headers, reference-counted by libmicrohttpd. release(arg) runs when the
 * last request using it is done and http_shared_drop was called. */
struct http_shared;
struct http_shared *http_shared_new(const char *content_type, const char *data, size_t len,
                                    const struct http_header *headers, size_t n_headers, void (*release)(void *),
                                    void *arg);
void http_respond_shared(struct http_req *r, int status, struct http_shared *s, size_t len);
void http_shared_drop(struct http_shared *s);
void http_redirect(struct http_req *r, int status, const char *location);

/* Answers later, for work too slow for an HTTP thread (a password hash).
 * Called by a handler instead of responding: the connection is suspended
 * and work(r, arg) runs on one of the server's defer threads, which must
 * touch neither libmicrohttpd nor the store (it may use r's arena: the
 * HTTP thread leaves r alone meanwhile). Then done(r, arg) runs on the
 * HTTP thread and answers as a handler does. When the queue is full the
 * answer is 503 with Retry-After and neither runs; at shutdown, work not
 * yet started is answered 503 instead. done may not run when the client
 * went away, so arg belongs in r's arena. Without defer threads, both run
 * at once. */
void http_defer(struct http_req *r, void (*work)(struct http_req *r, void *arg),
                void (*done)(struct http_req *r, void *arg), void *arg);

/* Matches path against the table: the route, or NULL. *allowed gets the
 * methods of routes whose pattern matched (for 405's Allow). */
const struct route *http_route_match(const struct route *routes, struct http_req *r, unsigned *allowed);

struct proxy_list;

struct http_server_opts {
	const char *listen; /* ADDR:PORT, [v6]:PORT */
	unsigned threads;
	unsigned max_connections;
	unsigned per_ip; /* connections one address may hold; 0: no limit */
	/* Peers per_ip does not count (the trusted proxies: every reader
	 * behind one arrives from its address); NULL: none. */
	const struct proxy_list *per_ip_exempt;
	unsigned timeout;        /* seconds a connection may stay idle */
	unsigned header_timeout; /* seconds for a request line and its headers, all told; 0: none */
	unsigned body_min_rate;  /* bytes a second a body must average, after header_timeout; 0: none */
	size_t max_header;
	size_t max_body;
	size_t max_upload; /* the body limit of ROUTE_UPLOAD routes, checked before the body is read */
	bool access_log;
	unsigned defer_threads; /* for http_defer(); 0: none, work runs on the HTTP thread */
	unsigned defer_queue;   /* deferred work waiting beyond that; 0: 32 per thread */
	const struct route *routes;
	void *app;
	http_handler not_found;          /* no route matched */
	http_handler method_not_allowed; /* route matched, method did not; Allow already set */
	void (*error)(struct http_req *r, int status, const char *message);
	/* Runs before every handler; enforces the route's flags. Returns false
	 * when it has answered the request itself. */
	bool (*before)(struct http_req *r, const struct route *rt);
	/* Runs on a thread that finished its part of a request (the handler,
	 * or deferred work), so the app can give back what the thread
	 * borrowed for it (a database connection); NULL: nothing. */
	void (*idle)(void *app);
	/* Runs once for every request that got this far, when it completes
	 * (ns: its whole time); for counters, so it must not block. May be NULL. */
	void (*completed)(struct http_req *r, int64_t ns);
};

struct http_server;

mh_err http_server_start(const struct http_server_opts *o, struct http_server **out, char *err, size_t errlen);
uint16_t http_server_port(struct http_server *s);
/* Waits up to grace_ms for requests in flight, then stops. */
void http_server_stop(struct http_server *s, unsigned grace_ms);

#endif
