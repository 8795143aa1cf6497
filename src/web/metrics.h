/* metrics.h: /metrics, the server's counters in Prometheus text format.
 *
 * Requests are counted by route and status, and timed into a histogram per
 * route, in the request's completion callback: relaxed atomic adds into
 * arrays made once at start, no lock on a request's path. What the
 * database knows (subscribers, MRR, the outbox, charges) is read at each
 * scrape. /metrics answers only the addresses in --metrics-allow (default
 * loopback; the client as proxy_client names it, so a request through a
 * trusted proxy counts as its real client) or a request with
 * "Authorization: Bearer" --metrics-token (compared in constant time);
 * anyone else gets 404, as if there were no such page. */
#ifndef MH_METRICS_H
#define MH_METRICS_H

#include <stdint.h>

#include "http/http.h"

struct proxy_list;

/* Once, before the server starts: the route table requests are counted by. */
void metrics_init(const struct route *routes);
void metrics_release(void);
/* From the completion callback; ns is the request's whole time. */
void metrics_request(struct http_req *r, int64_t ns);
/* Appends every counter in Prometheus text format (0.0.4). */
void metrics_write(struct buf *out);
/* Whether a request from client (address text) with this Authorization
 * header may read /metrics. */
bool metrics_allowed(const struct proxy_list *allow, const char *token, const char *client, const char *authorization);

void h_metrics(struct http_req *r);

#endif
