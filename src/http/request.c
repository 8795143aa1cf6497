/* request.c: reading a request and sending its response. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/http.h"
#include "core/banned.h"

/* A segment with a token's shape: 43 base64url characters. */
static bool
token_shaped(const char *seg, size_t n)
{
	if (n != 43)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = seg[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_'))
			return false;
	}
	return true;
}

/* Segments end at '/' and '.' (a private feed's "/feed/TOKEN.xml"). A slug
 * of that very length is hidden too: a small price. */
bool
http_path_redact(const char *path, struct buf *out)
{
	bool hid = false;
	const char *p = path;
	while (*p) {
		const char *seg = p;
		size_t n = 0;
		while (seg[n] && seg[n] != '/' && seg[n] != '.')
			n++;
		if (token_shaped(seg, n)) {
			buf_puts(out, "[token]");
			hid = true;
		} else {
			buf_add(out, seg, n);
		}
		p = seg + n;
		if (*p)
			buf_putc(out, *p++);
	}
	return hid;
}

const char *
http_log_path(struct http_req *r)
{
	struct buf b = BUF_INIT;
	bool hid = http_path_redact(r->path, &b);
	const char *out = hid && !buf_error(&b) ? arena_strndup(r->arena, b.ptr, b.len) : r->path;
	buf_release(&b);
	return out;
}

bool
http_query_too_big(const char *uri, size_t max_header)
{
	const char *q = strchr(uri, '?');
	if (!q)
		return false;
	size_t args = 1, len = strlen(q);
	for (const char *p = q; *p; p++)
		args += *p == '&' || *p == ';';
	/* Each parameter costs a record in the pool beside the text itself. */
	return args > HTTP_MAX_QUERY_ARGS || len + args * 64 > max_header / 2;
}

const char *
http_header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_query(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_cookie(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *
http_client_addr(struct http_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "-";
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, text, sizeof text);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, text, sizeof text);
	}
	return arena_strdup(r->arena, text);
}

void
http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->n_headers == HTTP_MAX_HEADERS) {
		log_error("too many response headers", "name=%s", name);
		return;
	}
	r->headers[r->n_headers].name = name;
	r->headers[r->n_headers].value = value;
	r->n_headers++;
}

/* What every response carries: the content type, the security headers and
 * the handler's own. */
static void
add_headers(struct MHD_Response *resp, const char *content_type, const struct http_header *h, size_t n)
{
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	bool own_referrer = false;
	for (size_t i = 0; i < n; i++)
		own_referrer |= strcmp(h[i].name, "Referrer-Policy") == 0;
	if (!own_referrer)
		MHD_add_response_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Content-Security-Policy",
	                        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
	                        "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
	for (size_t i = 0; i < n; i++)
		MHD_add_response_header(resp, h[i].name, h[i].value);
}

static bool
first_response(struct http_req *r, int status, size_t len)
{
	if (r->responded) {
		log_error("second response for one request", "path=\"%s\"", http_log_path(r));
		return false;
	}
	r->responded = true;
	r->status = status;
	r->bytes = len;
	return true;
}

static void
send_response(struct http_req *r, int status, const char *content_type, struct MHD_Response *resp, size_t len)
{
	if (first_response(r, status, len)) {
		add_headers(resp, content_type, r->headers, r->n_headers);
		MHD_queue_response(r->conn, (unsigned) status, resp);
	}
	MHD_destroy_response(resp);
}

struct http_shared *
http_shared_new(const char *content_type, const char *data, size_t len, const struct http_header *headers,
                size_t n_headers, void (*release)(void *), void *arg)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer_with_free_callback_cls(len, (void *) data, release, arg);
	if (!resp)
		return NULL;
	add_headers(resp, content_type, headers, n_headers);
	return (struct http_shared *) resp;
}

void
http_respond_shared(struct http_req *r, int status, struct http_shared *s, size_t len)
{
	if (first_response(r, status, len))
		MHD_queue_response(r->conn, (unsigned) status, (struct MHD_Response *) s);
}

void
http_shared_drop(struct http_shared *s)
{
	if (s)
		MHD_destroy_response((struct MHD_Response *) s);
}

void
http_respond(struct http_req *r, int status, const char *content_type, struct buf *body)
{
	if (buf_error(body)) {
		log_error("response over its size limit", "path=\"%s\"", http_log_path(r));
		buf_release(body);
		status = 500;
		content_type = "text/plain; charset=utf-8";
		buf_puts(body, "Something went wrong on our side.\n");
	}
	size_t len;
	char *data = buf_detach(body, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	send_response(r, status, content_type, resp, len);
}

void
http_respond_static(struct http_req *r, int status, const char *content_type, const char *data, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *) data, MHD_RESPMEM_PERSISTENT);
	send_response(r, status, content_type, resp, len);
}

void
http_respond_text(struct http_req *r, int status, const char *text)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, text);
	buf_putc(&b, '\n');
	http_respond(r, status, "text/plain; charset=utf-8", &b);
}

void
http_redirect(struct http_req *r, int status, const char *location)
{
	http_add_header(r, "Location", location);
	http_respond_static(r, status, "text/plain; charset=utf-8", "", 0);
}

/* Matches one pattern; captures go into r->params. */
static bool
match(const char *pattern, const char *path, struct http_req *r)
{
	size_t n = 0;
	const char *p = pattern, *s = path;
	while (*p) {
		if (*p == '*') {
			if (n < HTTP_MAX_PARAMS)
				r->params[n++] = s;
			r->n_params = n;
			return *s != '\0';
		}
		if (*p == ':') {
			const char *end = strchr(s, '/');
			size_t len = end ? (size_t) (end - s) : strlen(s);
			if (len == 0 || n == HTTP_MAX_PARAMS)
				return false;
			r->params[n++] = arena_strndup(r->arena, s, len);
			s += len;
			while (*p && *p != '/')
				p++;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	r->n_params = n;
	return *s == '\0';
}

const struct route *
http_route_match(const struct route *routes, struct http_req *r, unsigned *allowed)
{
	*allowed = 0;
	for (const struct route *rt = routes; rt->pattern; rt++) {
		if (!match(rt->pattern, r->path, r))
			continue;
		unsigned m = rt->methods;
		if (m & HTTP_GET)
			m |= HTTP_HEAD;
		if (m & r->method)
			return rt;
		*allowed |= m;
	}
	r->n_params = 0;
	return NULL;
}
