/* reader.h: the paywall on a request: who the reader is for the access
 * decision (subscription, gift link, meter), and what the page says after it.
 * The rules are in paywall/gift.h and paywall/meter.h; this side reads and
 * writes their cookies and does the store calls they ask for. */
#ifndef MH_READER_H
#define MH_READER_H

#include <jansson.h>

#include "http/http.h"
#include "paywall/access.h"
#include "paywall/gift.h"
#include "paywall/meter.h"

struct reader {
	struct viewer v;
	enum gift_outcome gift;
	bool gift_refused; /* a gift link was given but no longer works */
	bool personal;     /* the answer depends on this reader: never shared by caches */
	int meter_limit;   /* 0: metered mode off */
	int meter_used;
	struct meter_jar *meter_jar; /* anonymous: the meter cookie's articles (in the request's arena) */
};

/* Who reads article a (NULL: no gift or meter, e.g. for listings). */
mh_err reader_load(struct http_req *r, const struct article *a, struct reader *rd);
/* After the decision: counts a metered read, keeps the meter cookie. */
void reader_after(struct http_req *r, const struct article *a, struct reader *rd, const struct access_decision *d);
/* The paywall box for a TEASER decision. */
json_t *reader_paywall_json(struct http_req *r, const struct article *a, const struct reader *rd,
                            const struct access_decision *d);
/* The banner over a FULL article (past_due in grace), or false. */
json_t *reader_banner_json(struct http_req *r, const struct article *a, const struct access_decision *d);
/* "N free articles left" while metered, or false. */
json_t *reader_meter_json(struct http_req *r, const struct article *a, const struct reader *rd,
                          const struct access_decision *d);

#endif
