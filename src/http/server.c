/* server.c: libmicrohttpd glue. An internal thread pool on epoll, one
 * struct http_req per request with its own arena, released in the
 * completion callback (which also runs when the client goes away).
 *
 * http_defer() suspends a connection while a defer thread works for it.
 * libmicrohttpd leaves a suspended connection alone (no reads, no
 * timeout, no completion callback even when the client has gone), so the
 * request and its arena stay valid until the defer thread resumes it; the
 * access handler then runs again and calls the job's done. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/accesslog.h"
#include "core/alloc.h"
#include "core/log.h"
#include "http/http.h"
#include "http/proxy.h"
#include "http/workers.h"
#include "core/banned.h"

/* A connection's deadline, against clients that hold a connection by
 * sending slowly (slowloris, slow bodies): libmicrohttpd's own timeout is
 * an idle timeout, which a byte every few seconds resets. The reaper thread
 * shuts down (shutdown(2), from outside libmicrohttpd's thread, which then
 * sees the connection end and closes it) every connection past its
 * deadline. One per connection, made and freed by on_connection(). */
struct conn_watch {
	struct conn_watch *prev, *next;
	int fd;
	_Atomic int64_t deadline_ms; /* 0: none (a response is under way) */
	bool cut;
	struct ip_count *ip;
};

/* Connections held per client address, for the per_ip cap. Kept here and
 * not by libmicrohttpd's own option, which counts every peer: behind a
 * reverse proxy every connection comes from the proxy, and the cap would
 * turn readers away. Trusted proxies (http_server_opts.per_ip_exempt) are
 * not counted; the proxy limits its own clients. A node per address that
 * holds a connection, freed with its last one. */
struct ip_count {
	struct ip_count *next;
	int family;
	unsigned char addr[16];
	unsigned n;
};
#define IP_BUCKETS 1024

struct http_server {
	struct MHD_Daemon *d;
	struct http_server_opts o;
	atomic_int inflight;
	struct workers *pool; /* http_defer()'s threads; NULL: none */
	pthread_mutex_t watch_lock;
	struct conn_watch *watching; /* under watch_lock */
	pthread_t reaper;
	bool reaper_running;
	atomic_bool stopping;
	atomic_long cut; /* connections shut down for missing their deadline */
	pthread_mutex_t ip_lock;
	struct ip_count *ips[IP_BUCKETS]; /* under ip_lock */
};

/* The request line's query was refused (http_query_too_big). */
static char too_many_args; /* its address marks such a request */

enum job_state { JOB_WAITING, JOB_RAN, JOB_CANCELLED };

/* A deferred piece of a request, in its arena. */
struct http_job {
	struct http_req *r;
	void (*work)(struct http_req *, void *);
	void (*done)(struct http_req *, void *);
	void *arg;
	atomic_int state; /* enum job_state; written by the defer thread before it resumes */
};

static int64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static enum http_method
method_of(const char *m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} table[] = {
		{ "GET", HTTP_GET },       { "HEAD", HTTP_HEAD },       { "POST", HTTP_POST },   { "PUT", HTTP_PUT },
		{ "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS }, { "PATCH", HTTP_PATCH },
	};
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (strcmp(m, table[i].name) == 0)
			return table[i].m;
	return 0;
}

static void
dispatch(struct http_server *s, struct http_req *r)
{
	unsigned allowed = 0;
	if (!r->method) {
		http_add_header(r, "Allow", "GET, HEAD, POST");
		s->o.error(r, 501, "That request method is not supported.");
		return;
	}
	const struct route *rt = http_route_match(s->o.routes, r, &allowed);
	if (!rt) {
		if (allowed) {
			struct buf b = BUF_INIT;
			static const char *names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
			for (int i = 0; i < 7; i++)
				if (allowed & (1u << i))
					buf_printf(&b, "%s%s", b.len ? ", " : "", names[i]);
			http_add_header(r, "Allow", arena_strndup(r->arena, b.ptr, b.len));
			buf_release(&b);
			s->o.method_not_allowed(r);
		} else {
			s->o.not_found(r);
		}
		return;
	}
	r->route = rt;
	if (s->o.before && !s->o.before(r, rt))
		return;
	rt->handler(r);
	/* A deferred request belongs to a defer thread now: hands off. */
	if (r->job)
		return;
	if (!r->responded) {
		log_error("handler sent no response", "path=\"%s\"", http_log_path(r));
		s->o.error(r, 500, "Something went wrong on our side.");
	}
}

static int64_t
mono_ms(void)
{
	return mono_ns() / 1000000;
}

static struct conn_watch *
watch_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Sets the connection's deadline to ms from now (0: none). */
static void
watch_deadline(struct http_server *s, struct MHD_Connection *c, int64_t ms)
{
	struct conn_watch *w = watch_of(c);
	if (w)
		atomic_store(&w->deadline_ms, ms ? mono_ms() + ms : 0);
}

/* The address of a peer as bytes (family, 4 or 16 bytes) and as text. */
static bool
peer_key(const struct sockaddr *sa, int *family, unsigned char addr[16], char *text, size_t textlen)
{
	const void *src;
	size_t len;
	if (sa->sa_family == AF_INET) {
		src = &((const struct sockaddr_in *) sa)->sin_addr;
		len = 4;
	} else if (sa->sa_family == AF_INET6) {
		src = &((const struct sockaddr_in6 *) sa)->sin6_addr;
		len = 16;
	} else {
		return false;
	}
	*family = sa->sa_family;
	memset(addr, 0, 16);
	memcpy(addr, src, len);
	return inet_ntop(sa->sa_family, src, text, (socklen_t) textlen) != NULL;
}

/* The bucket of s->ips an address belongs in. */
static struct ip_count **
ip_bucket(struct http_server *s, int family, const unsigned char addr[16])
{
	uint32_t h = (uint32_t) family;
	for (int i = 0; i < 16; i++)
		h = h * 31 + addr[i];
	return &s->ips[h % IP_BUCKETS];
}

/* Takes one of the address's places; NULL when it holds per_ip already. */
static struct ip_count *
ip_take(struct http_server *s, int family, const unsigned char addr[16])
{
	struct ip_count **b = ip_bucket(s, family, addr), *e;
	pthread_mutex_lock(&s->ip_lock);
	for (e = *b; e; e = e->next)
		if (e->family == family && !memcmp(e->addr, addr, 16))
			break;
	if (!e) {
		e = xcalloc(1, sizeof *e);
		e->family = family;
		memcpy(e->addr, addr, 16);
		e->next = *b;
		*b = e;
	}
	if (e->n >= s->o.per_ip)
		e = NULL;
	else
		e->n++;
	pthread_mutex_unlock(&s->ip_lock);
	return e;
}

static void
ip_give_back(struct http_server *s, struct ip_count *e)
{
	pthread_mutex_lock(&s->ip_lock);
	if (--e->n == 0) {
		for (struct ip_count **p = ip_bucket(s, e->family, e->addr); *p; p = &(*p)->next)
			if (*p == e) {
				*p = e->next;
				free(e);
				break;
			}
	}
	pthread_mutex_unlock(&s->ip_lock);
}

/* libmicrohttpd's accept policy: refuses a connection from an address that
 * holds per_ip of them already. The place taken here is the connection's
 * from on_connection(STARTED) to on_connection(CLOSED). */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	struct http_server *s = cls;
	(void) salen;
	int family;
	unsigned char addr[16];
	char text[PROXY_ADDR_MAX];
	if (!s->o.per_ip || !peer_key(sa, &family, addr, text, sizeof text))
		return MHD_YES;
	if (s->o.per_ip_exempt && proxy_list_trusts(s->o.per_ip_exempt, text))
		return MHD_YES;
	return ip_take(s, family, addr) ? MHD_YES : MHD_NO;
}

/* The place on_accept() took for this connection, to hand on to its watch. */
static struct ip_count *
ip_of(struct http_server *s, struct MHD_Connection *c)
{
	int family;
	unsigned char addr[16];
	char text[PROXY_ADDR_MAX];
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!s->o.per_ip || !ci || !ci->client_addr || !peer_key(ci->client_addr, &family, addr, text, sizeof text))
		return NULL;
	if (s->o.per_ip_exempt && proxy_list_trusts(s->o.per_ip_exempt, text))
		return NULL;
	struct ip_count *e;
	pthread_mutex_lock(&s->ip_lock);
	for (e = *ip_bucket(s, family, addr); e; e = e->next)
		if (e->family == family && !memcmp(e->addr, addr, 16))
			break;
	pthread_mutex_unlock(&s->ip_lock);
	return e;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn_watch *w = xcalloc(1, sizeof *w);
		w->fd = ci ? ci->connect_fd : -1;
		atomic_init(&w->deadline_ms, s->o.header_timeout ? mono_ms() + s->o.header_timeout * 1000LL : 0);
		w->ip = ip_of(s, c);
		pthread_mutex_lock(&s->watch_lock);
		w->next = s->watching;
		if (w->next)
			w->next->prev = w;
		s->watching = w;
		pthread_mutex_unlock(&s->watch_lock);
		*socket_context = w;
		return;
	}
	struct conn_watch *w = *socket_context;
	if (!w)
		return;
	pthread_mutex_lock(&s->watch_lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		s->watching = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&s->watch_lock);
	if (w->ip)
		ip_give_back(s, w->ip);
	free(w);
	*socket_context = NULL;
}

static void *
reaper_main(void *arg)
{
	struct http_server *s = arg;
	while (!atomic_load(&s->stopping)) {
		usleep(250000);
		int64_t now = mono_ms();
		pthread_mutex_lock(&s->watch_lock);
		for (struct conn_watch *w = s->watching; w; w = w->next) {
			int64_t d = atomic_load(&w->deadline_ms);
			if (d && now > d && !w->cut && w->fd >= 0) {
				/* The connection stays libmicrohttpd's: it sees the
				 * end of the stream and closes it itself. */
				shutdown(w->fd, SHUT_RDWR);
				w->cut = true;
				atomic_fetch_add(&s->cut, 1);
			}
		}
		pthread_mutex_unlock(&s->watch_lock);
	}
	return NULL;
}

/* Called with the request line, before libmicrohttpd parses the query:
 * one with too many parameters has its query cut off here (the buffer is
 * libmicrohttpd's own read buffer, writable, and parsed only after this
 * returns) and is answered 414 by on_request. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_server *s = cls;
	if (!http_query_too_big(uri, s->o.max_header))
		return NULL;
	char *q = strchr(uri, '?');
	q[1] = '\0';
	return &too_many_args;
}

/* The 413's message, naming the limit (the route's, or the server's). */
static const char *
too_large(struct http_req *r)
{
	size_t max = r->body.max;
	if (max >= 1024 * 1024 && max % (1024 * 1024) == 0)
		return arena_printf(r->arena, "The request body is too large: the limit here is %zu MB.",
		                    max / (1024 * 1024));
	if (max >= 1024 * 1024) /* an upload's: the file's limit and room for the form's fields */
		return arena_printf(r->arena, "The request body is too large: the limit here is about %zu MB.",
		                    max / (1024 * 1024));
	return arena_printf(r->arena, "The request body is too large: the limit here is %zu bytes.", max);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
           const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *r = *con_cls;
	bool args_refused = false;
	if (r == (void *) &too_many_args) {
		r = NULL;
		args_refused = true;
	}
	if (!r) {
		r = xcalloc(1, sizeof *r);
		r->start_ns = mono_ns();
		r->conn = c;
		r->arena = arena_new();
		r->app = s->o.app;
		r->method_name = arena_strdup(r->arena, method);
		r->method = method_of(method);
		r->path = arena_strdup(r->arena, url);
		r->server = s;
		*con_cls = r;
		atomic_fetch_add(&s->inflight, 1);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
		/* An upload route's larger limit; the route is looked up here
		 * only for a request with a body (readers' GETs have none). */
		size_t max_body = s->o.max_body;
		if (s->o.max_upload && r->method && (te || (cl && strcmp(cl, "0") != 0))) {
			unsigned allowed;
			const struct route *rt = http_route_match(s->o.routes, r, &allowed);
			if (rt && (rt->flags & ROUTE_UPLOAD))
				max_body = s->o.max_upload;
		}
		buf_init(&r->body, max_body);
		unsigned long long expect = cl ? strtoull(cl, NULL, 10) : te ? max_body : 0;
		/* The headers are in: a body gets its time at the minimum rate,
		 * a request without one has nothing more to wait for. */
		if (expect && s->o.header_timeout && s->o.body_min_rate)
			watch_deadline(s, c,
			               (int64_t) s->o.header_timeout * 1000 +
			                       (int64_t) (expect > max_body ? max_body : expect) * 1000 /
			                               s->o.body_min_rate);
		else
			watch_deadline(s, c, 0);
		if (args_refused) {
			r->body_too_big = true; /* nothing of the body is kept */
			s->o.error(r, 414, "Too many query parameters.");
		} else if (cl && strtoull(cl, NULL, 10) > max_body) {
			/* Answer before the body arrives; MHD then closes the connection. */
			r->body_too_big = true;
			s->o.error(r, 413, too_large(r));
		}
		return MHD_YES;
	}
	if (r->job) {
		/* Resumed: the defer thread is done with r. */
		struct http_job *j = r->job;
		r->job = NULL;
		if (atomic_load(&j->state) == JOB_CANCELLED) {
			http_add_header(r, "Retry-After", "5");
			s->o.error(r, 503, "The server is restarting. Please try again in a moment.");
		} else {
			j->done(r, j->arg);
		}
		if (!r->responded && !r->job) {
			log_error("deferred handler sent no response", "path=\"%s\"", http_log_path(r));
			s->o.error(r, 500, "Something went wrong on our side.");
		}
		if (s->o.idle)
			s->o.idle(s->o.app);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->body_too_big) {
			buf_add(&r->body, upload, *upload_size);
			if (buf_error(&r->body))
				r->body_too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->responded)
		return MHD_YES;
	watch_deadline(s, c, 0); /* all of it is in: the answer is ours to give */
	if (r->body_too_big)
		s->o.error(r, 413, too_large(r));
	else
		dispatch(s, r);
	if (s->o.idle)
		s->o.idle(s->o.app);
	return MHD_YES;
}

/* The access log line, written by hand: printf and gmtime for every request
 * were most of what the log cost. The time prefix is made once a second per
 * thread. Same fields as log_msg() would write: time level msg method path
 * status bytes ms ip [cache] [session] [aborted]. */
struct line {
	char *p;
	size_t len, cap; /* cap leaves room for the final '\n' */
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		n = l->cap - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void
put_uint(struct line *l, unsigned long long v, int min_digits)
{
	char d[24];
	int n = 0;
	do {
		d[sizeof d - 1 - n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v || n < min_digits);
	put(l, d + sizeof d - n, (size_t) n);
}

/* Quotes what a client sent: ", \ and control bytes escaped, so a path
 * cannot forge a field or a line. */
static void
put_quoted(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(l, "\"", 1);
	const unsigned char *c = (const unsigned char *) s, *run = c;
	for (;; c++) {
		/* Plain bytes are copied a run at a time; the rest escaped. */
		if (*c >= 0x20 && *c != 0x7f && *c != '"' && *c != '\\')
			continue;
		put(l, (const char *) run, (size_t) (c - run));
		if (!*c)
			break;
		if (*c == '"' || *c == '\\') {
			char e[2] = { '\\', (char) *c };
			put(l, e, 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15] };
			put(l, e, 6);
		}
		run = c + 1;
	}
	put(l, "\"", 1);
}

static void
put_addr(struct line *l, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "-";
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET) {
			/* By hand, as the rest of the line. */
			const unsigned char *b = (const unsigned char *) &((const struct sockaddr_in *) sa)->sin_addr;
			for (int i = 0; i < 4; i++) {
				if (i)
					put(l, ".", 1);
				put_uint(l, b[i], 1);
			}
			return;
		}
		if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, text, sizeof text);
	}
	puts_(l, text);
}

static void
access_line(struct http_req *r, enum MHD_RequestTerminationCode toe)
{
	static _Thread_local time_t sec = -1;
	static _Thread_local char stamp[32]; /* time=YYYY-MM-DDTHH:MM:SS */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof stamp, "time=%Y-%m-%dT%H:%M:%S", &tm);
		sec = ts.tv_sec;
	}
	int64_t ns = mono_ns() - r->start_ns;
	if (ns < 0)
		ns = 0;
	/* A path escapes to at most 6 bytes a byte; the rest fits in 512. */
	/* Tokens in the path (sign-in, reset, checkout links) are left out
	 * (http_log_path). */
	const char *path = http_log_path(r);
	size_t path_len = strlen(path);
	char small[1024];
	struct line l = { small, 0, sizeof small - 1 };
	if (path_len * 6 + 512 > l.cap) {
		l.cap = path_len * 6 + 512;
		l.p = arena_alloc(r->arena, l.cap + 1);
	}
	puts_(&l, stamp);
	put(&l, ".", 1);
	put_uint(&l, (unsigned long long) ts.tv_nsec / 1000000, 3);
	puts_(&l, "Z level=info msg=\"request\" method=");
	puts_(&l, r->method_name);
	puts_(&l, " path=");
	put_quoted(&l, path);
	puts_(&l, " status=");
	put_uint(&l, (unsigned long long) r->status, 1);
	puts_(&l, " bytes=");
	put_uint(&l, r->bytes, 1);
	puts_(&l, " ms=");
	put_uint(&l, (unsigned long long) ns / 1000000, 1);
	put(&l, ".", 1);
	put_uint(&l, (unsigned long long) (ns / 1000) % 1000, 3);
	puts_(&l, " ip=");
	put_addr(&l, r->conn);
	if (r->cache) {
		puts_(&l, " cache=");
		puts_(&l, r->cache);
	}
	if (r->session) {
		puts_(&l, " session=");
		puts_(&l, r->session);
	}
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		puts_(&l, " aborted=true");
	l.p[l.len++] = '\n';
	accesslog_add(l.p, l.len);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *r = *con_cls;
	if (r == (void *) &too_many_args) {
		*con_cls = NULL; /* refused before on_request ever saw it */
		return;
	}
	if (!r)
		return;
	if (r->job && atomic_load(&r->job->state) == JOB_WAITING) {
		/* Cannot happen (see the top of this file); if it ever did, a defer
		 * thread still uses r: better a leak than a use after free. */
		log_error("request completed while deferred", "path=\"%s\"", http_log_path(r));
		*con_cls = NULL;
		atomic_fetch_sub(&s->inflight, 1);
		return;
	}
	int64_t took = mono_ns() - r->start_ns;
	if (s->o.completed)
		s->o.completed(r, took);
	if (s->o.access_log && log_enabled(LOG_INFO))
		access_line(r, toe);
	buf_release(&r->body);
	arena_free(r->arena);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
	/* The next request on this connection has its own header deadline,
	 * after the idle time a keep-alive connection is allowed. */
	if (s->o.header_timeout)
		watch_deadline(s, c, ((int64_t) s->o.header_timeout + s->o.timeout) * 1000);
}

static void
job_run(void *arg, bool cancelled)
{
	struct http_job *j = arg;
	struct MHD_Connection *c = j->r->conn;
	struct http_server *s = j->r->server;
	if (!cancelled)
		j->work(j->r, j->arg);
	if (s->o.idle)
		s->o.idle(s->o.app);
	atomic_store(&j->state, cancelled ? JOB_CANCELLED : JOB_RAN);
	/* From here on r belongs to the HTTP thread again: touch nothing. */
	MHD_resume_connection(c);
}

void
http_defer(struct http_req *r, void (*work)(struct http_req *, void *), void (*done)(struct http_req *, void *),
           void *arg)
{
	struct http_server *s = r->server;
	if (!s || !s->pool) {
		work(r, arg);
		done(r, arg);
		return;
	}
	if (!workers_reserve(s->pool)) {
		http_add_header(r, "Retry-After", "1");
		s->o.error(r, 503, "Too many requests are waiting. Please try again in a moment.");
		return;
	}
	struct http_job *j = arena_alloc(r->arena, sizeof *j);
	j->r = r;
	j->work = work;
	j->done = done;
	j->arg = arg;
	atomic_init(&j->state, JOB_WAITING);
	r->job = j;
	/* Suspended before the job is queued: its thread may resume at once. */
	MHD_suspend_connection(r->conn);
	workers_submit(s->pool, job_run, j);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_msg(LOG_WARN, "http", "detail=\"%s\"", msg);
}

static bool
parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t) (colon - listen) >= sizeof host)
		return false;
	memcpy(host, listen, (size_t) (colon - listen));
	host[colon - listen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return false;
	memset(ss, 0, sizeof *ss);
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) ss;
		host[hl - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t) port);
		*v6 = true;
		return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *) ss;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t) port);
	*v6 = false;
	if (strcmp(host, "localhost") == 0)
		return inet_pton(AF_INET, "127.0.0.1", &a4->sin_addr) == 1;
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
}

mh_err
http_server_start(const struct http_server_opts *o, struct http_server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	bool v6;
	if (!parse_listen(o->listen, &ss, &v6)) {
		snprintf(err, errlen, "listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:8080)", o->listen);
		return MH_ERR_INVALID;
	}
	struct http_server *s = xcalloc(1, sizeof *s);
	s->o = *o;
	unsigned threads = o->threads;
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned) n : 1;
	}
	/* The pool also holds the response headers; keep room beside the request's. */
	size_t mem = o->max_header + 4096;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (o->defer_threads) {
		flags |= MHD_ALLOW_SUSPEND_RESUME;
		s->pool = workers_new(o->defer_threads, o->defer_queue ? o->defer_queue : 32 * o->defer_threads);
		if (!s->pool) {
			snprintf(err, errlen, "cannot start %u defer threads", o->defer_threads);
			free(s);
			return MH_ERR_IO;
		}
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	pthread_mutex_init(&s->watch_lock, NULL);
	pthread_mutex_init(&s->ip_lock, NULL);
	s->d = MHD_start_daemon(flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
	                        MHD_OPTION_CONNECTION_LIMIT, o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	                        o->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_NOTIFY_COMPLETED,
	                        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	                        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this machine)", o->listen);
		workers_free(s->pool);
		pthread_mutex_destroy(&s->watch_lock);
		free(s);
		return MH_ERR_IO;
	}
	if (o->header_timeout && pthread_create(&s->reaper, NULL, reaper_main, s) == 0)
		s->reaper_running = true;
	*out = s;
	return MH_OK;
}

uint16_t
http_server_port(struct http_server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

void
http_server_stop(struct http_server *s, unsigned grace_ms)
{
	/* No MHD_quiesce_daemon(): in epoll mode it races the daemon's own
	 * thread, which removes the same listen socket from the epoll set when
	 * it sees the daemon quiesced; the loser gets ENOENT and libmicrohttpd
	 * aborts the process ("Failed to remove listen FD from epoll set", seen
	 * once in a few hundred stops under load). The listener stays open
	 * through the grace period instead: a connection that arrives then is
	 * served or, after it, closed by MHD_stop_daemon() like any other. */
	for (unsigned waited = 0; atomic_load(&s->inflight) > 0 && waited < grace_ms; waited += 10)
		usleep(10000);
	/* libmicrohttpd cannot stop with connections suspended: deferred work
	 * not started is cancelled, work running finishes, and every connection
	 * is resumed before the threads end. Later requests to defer get 503
	 * from the stopped pool. A moment more lets the cancelled ones send
	 * their 503 rather than see the connection drop. */
	if (s->pool) {
		workers_stop(s->pool);
		for (unsigned waited = 0; atomic_load(&s->inflight) > 0 && waited < 1000; waited += 10)
			usleep(10000);
	}
	atomic_store(&s->stopping, true);
	if (s->reaper_running)
		pthread_join(s->reaper, NULL);
	MHD_stop_daemon(s->d);
	workers_free(s->pool);
	pthread_mutex_destroy(&s->watch_lock);
	free(s);
}
