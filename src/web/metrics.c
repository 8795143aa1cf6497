/* metrics.c: request counters and /metrics (see metrics.h). */
#include "web/metrics.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/proxy.h"
#include "web/app.h"
#include "web/handlers.h"
#include "core/banned.h"

/* The statuses counted on their own; any other is "other". */
static const int statuses[] = { 200, 201, 204, 301, 302, 303, 304, 400, 401, 403,
	                        404, 405, 409, 413, 415, 429, 500, 502, 503, 0 };
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* Latency bucket upper bounds in seconds (Prometheus' defaults, and 1 ms). */
static const double bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof bounds / sizeof bounds[0] + 1) /* the last: +Inf */

enum { CACHE_HIT, CACHE_SKELETON, CACHE_MISS, NCACHE };
static const char *const cache_names[NCACHE] = {
	[CACHE_HIT] = "hit", [CACHE_SKELETON] = "skeleton", [CACHE_MISS] = "miss"
};

struct row {
	_Atomic uint64_t status[NSTATUS];
	_Atomic uint64_t bucket[NBUCKETS];
	_Atomic uint64_t sum_us;
	_Atomic uint64_t cache[NCACHE];
};

enum { SIGNIN_PASSWORD, SIGNIN_LINK, NSIGNIN };
static const char *const signin_names[NSIGNIN] = { [SIGNIN_PASSWORD] = "password", [SIGNIN_LINK] = "link" };

static struct {
	const struct route *routes;
	size_t n;                             /* routes; rows[n] counts requests no route matched */
	struct row *rows;                     /* n + 1 */
	_Atomic uint64_t signins[NSIGNIN][2]; /* [method][ok] */
	int64_t started;
} m;

void
metrics_init(const struct route *routes)
{
	size_t n = 0;
	while (routes[n].pattern)
		n++;
	m.routes = routes;
	m.n = n;
	m.rows = xcalloc(n + 1, sizeof *m.rows);
	memset(m.signins, 0, sizeof m.signins);
}

void
metrics_release(void)
{
	free(m.rows);
	m.rows = NULL;
}

static size_t
status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void
metrics_request(struct http_req *r, int64_t ns)
{
	if (!m.rows)
		return;
	size_t i = r->route && r->route >= m.routes && r->route < m.routes + m.n ? (size_t) (r->route - m.routes) : m.n;
	struct row *row = &m.rows[i];
	atomic_fetch_add_explicit(&row->status[status_index(r->status)], 1, memory_order_relaxed);
	double s = (double) ns / 1e9;
	size_t b = 0;
	while (b < NBUCKETS - 1 && s > bounds[b])
		b++;
	atomic_fetch_add_explicit(&row->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&row->sum_us, (uint64_t) (ns > 0 ? ns / 1000 : 0), memory_order_relaxed);
	if ((r->method == HTTP_GET || r->method == HTTP_HEAD) && (r->status == 200 || r->status == 304)) {
		int c = !r->cache ? CACHE_MISS : !strcmp(r->cache, "skeleton") ? CACHE_SKELETON : CACHE_HIT;
		atomic_fetch_add_explicit(&row->cache[c], 1, memory_order_relaxed);
	}
	if (r->route && r->method == HTTP_POST && (r->route->handler == h_signin || r->route->handler == h_link_use)) {
		int how = r->route->handler == h_signin ? SIGNIN_PASSWORD : SIGNIN_LINK;
		atomic_fetch_add_explicit(&m.signins[how][r->status == 303], 1, memory_order_relaxed);
	}
}

static uint64_t
load(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* A label value: backslash, quote and newline escaped. */
static void
label(struct buf *out, const char *v)
{
	buf_putc(out, '"');
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(out, '\\');
		if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *v);
	}
	buf_putc(out, '"');
}

static const char *
method_of(const struct route *rt)
{
	return (rt->methods & HTTP_GET) ? "GET" : (rt->methods & HTTP_POST) ? "POST" : "OTHER";
}

static void
route_labels(struct buf *out, size_t i)
{
	buf_puts(out, "route=");
	label(out, i < m.n ? m.routes[i].pattern : "unmatched");
	buf_puts(out, ",method=");
	label(out, i < m.n ? method_of(&m.routes[i]) : "any");
}

static void
help(struct buf *out, const char *name, const char *type, const char *text)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void
metrics_write(struct buf *out)
{
	if (!m.rows)
		return;
	help(out, "masthead_http_requests_total", "counter", "Requests answered, by route and status.");
	for (size_t i = 0; i <= m.n; i++)
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t v = load(&m.rows[i].status[s]);
			if (!v)
				continue;
			buf_puts(out, "masthead_http_requests_total{");
			route_labels(out, i);
			if (statuses[s])
				buf_printf(out, ",status=\"%d\"} %llu\n", statuses[s], (unsigned long long) v);
			else
				buf_printf(out, ",status=\"other\"} %llu\n", (unsigned long long) v);
		}

	help(out, "masthead_http_request_duration_seconds", "histogram",
	     "Time from the request's arrival to its completion, by route.");
	for (size_t i = 0; i <= m.n; i++) {
		uint64_t counts[NBUCKETS], total = 0;
		for (size_t b = 0; b < NBUCKETS; b++)
			total += counts[b] = load(&m.rows[i].bucket[b]);
		if (!total)
			continue;
		uint64_t cum = 0;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += counts[b];
			buf_puts(out, "masthead_http_request_duration_seconds_bucket{");
			route_labels(out, i);
			if (b < NBUCKETS - 1)
				buf_printf(out, ",le=\"%g\"} %llu\n", bounds[b], (unsigned long long) cum);
			else
				buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long) cum);
		}
		buf_puts(out, "masthead_http_request_duration_seconds_sum{");
		route_labels(out, i);
		buf_printf(out, "} %.6f\n", (double) load(&m.rows[i].sum_us) / 1e6);
		buf_puts(out, "masthead_http_request_duration_seconds_count{");
		route_labels(out, i);
		buf_printf(out, "} %llu\n", (unsigned long long) cum);
	}

	/* Only routes a cache ever answered, or that are cacheable pages. */
	help(out, "masthead_cache_requests_total", "counter",
	     "Successful GETs by route and which cache answered them (miss: rendered).");
	struct buf ratio = BUF_INIT;
	help(&ratio, "masthead_cache_hit_ratio", "gauge", "Share of a route's successful GETs answered from a cache.");
	for (size_t i = 0; i < m.n; i++) {
		uint64_t c[NCACHE], total = 0;
		for (int k = 0; k < NCACHE; k++)
			total += c[k] = load(&m.rows[i].cache[k]);
		if (!(m.routes[i].flags & ROUTE_CACHEABLE) && c[CACHE_HIT] + c[CACHE_SKELETON] == 0)
			continue;
		for (int k = 0; k < NCACHE; k++) {
			buf_puts(out, "masthead_cache_requests_total{");
			route_labels(out, i);
			buf_printf(out, ",result=\"%s\"} %llu\n", cache_names[k], (unsigned long long) c[k]);
		}
		buf_puts(&ratio, "masthead_cache_hit_ratio{");
		route_labels(&ratio, i);
		buf_printf(&ratio, "} %.6f\n",
		           total ? (double) (c[CACHE_HIT] + c[CACHE_SKELETON]) / (double) total : 0.0);
	}
	buf_add(out, ratio.ptr, ratio.len);
	buf_release(&ratio);

	help(out, "masthead_signins_total", "counter", "Sign-in attempts by method and result.");
	for (int k = 0; k < NSIGNIN; k++)
		for (int ok = 0; ok < 2; ok++)
			buf_printf(out, "masthead_signins_total{method=\"%s\",result=\"%s\"} %llu\n", signin_names[k],
			           ok ? "ok" : "failed", (unsigned long long) load(&m.signins[k][ok]));
}

bool
metrics_allowed(const struct proxy_list *allow, const char *token, const char *client, const char *authorization)
{
	if (token && token[0] && authorization && !strncmp(authorization, "Bearer ", 7)) {
		/* Both hashed first, so the comparison's time says nothing of the length either. */
		unsigned char want[32], got[32];
		crypto_generichash(want, sizeof want, (const unsigned char *) token, strlen(token), NULL, 0);
		crypto_generichash(got, sizeof got, (const unsigned char *) authorization + 7,
		                   strlen(authorization + 7), NULL, 0);
		if (sodium_memcmp(want, got, sizeof want) == 0)
			return true;
	}
	return client && proxy_list_trusts(allow, client);
}

static void
gauge_rows(struct buf *out, const char *name, const char *what, const char *key, const struct site_stat *rows, size_t n)
{
	help(out, name, "gauge", what);
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "%s{%s=", name, key);
		label(out, rows[i].key);
		buf_printf(out, "} %.2f\n", rows[i].value);
	}
}

void
h_metrics(struct http_req *r)
{
	struct app *app = r->app;
	http_add_header(r, "Cache-Control", "no-store");
	if (!metrics_allowed(&app->metrics_allow, app->cfg->metrics_token, web_client_ip(r),
	                     http_header(r, "Authorization"))) {
		app_not_found(r);
		return;
	}
	struct site_stats st;
	if (store_site_stats(app->store, r->arena, &st)) {
		log_error("metrics: cannot read the store", "error=\"%s\"", store_errmsg(app->store));
		http_respond_text(r, 503, "The database cannot be read.\n");
		return;
	}
	struct buf out = BUF_INIT;
	metrics_write(&out);
	help(&out, "masthead_outbox_queued", "gauge", "Mails in the outbox not sent yet.");
	buf_printf(&out, "masthead_outbox_queued %lld\n", (long long) st.outbox_queued);
	gauge_rows(&out, "masthead_subscriptions", "Subscriptions by status.", "status", st.subs, st.n_subs);
	gauge_rows(&out, "masthead_mrr_minor_units", "Active subscriptions' price a month, in cents, by currency.",
	           "currency", st.mrr, st.n_mrr);
	gauge_rows(&out, "masthead_billing_charges", "Charges by outcome (pending, succeeded, failed).", "status",
	           st.charges, st.n_charges);
	http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}
