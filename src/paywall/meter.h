/* meter.h: the meter. Anonymous readers, and members without a plan, read
 * a few paid articles free each calendar month (UTC). A member's reads are
 * in the store, under meter_month(); an anonymous reader's are in a signed
 * cookie, "YYYYMM.id-id-id.mac", that only counts in its own month.
 * No HTTP and no store in here: the caller reads and writes the cookie and
 * records a member's read where meter_counts() says so. */
#ifndef MH_METER_H
#define MH_METER_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/token.h"
#include "core/buf.h"
#include "core/err.h"
#include "paywall/access.h"

#define METER_MAX        100  /* free articles a month at most, and ids a cookie keeps */
#define METER_COOKIE_MAX 2048 /* longer cookie text is ignored */

/* An anonymous reader's paid articles this month, as the cookie lists them. */
struct meter_jar {
	int64_t ids[METER_MAX];
	size_t n;
};

/* The month now falls in, as the store keys a member's reads: "YYYY-MM". */
void meter_month(int64_t now, char out[8]);
/* The free paid articles a month under the configured number: 0 (metered
 * mode off) when not positive, at most METER_MAX. */
int meter_limit(long configured);

/* The jar in the cookie text (NULL: no cookie). Anything but text signed
 * under key, of now's month and at most METER_COOKIE_MAX long, is an empty
 * jar: a last month's cookie starts the month afresh. */
void meter_cookie_parse(const char *text, const unsigned char key[SECRET_BYTES], int64_t now, struct meter_jar *jar);
/* Appends the cookie text for jar in now's month, signed under key, to out. */
mh_err meter_cookie_format(const struct meter_jar *jar, const unsigned char key[SECRET_BYTES], int64_t now,
                           struct buf *out);
bool meter_jar_holds(const struct meter_jar *jar, int64_t article_id);
/* Adds a read; a full jar keeps what it has. */
void meter_jar_add(struct meter_jar *jar, int64_t article_id);

/* Sets v's meter fields for a paid article: used of limit read this month,
 * counted when the article is one of them. */
void meter_view(struct viewer *v, int limit, int used, bool counted);
/* Free articles left of limit after used; never below 0. */
int meter_left(int limit, int used);
/* After decision d for v: true when the read counts against the meter (the
 * caller records it: a member's in the store, an anonymous reader's in the
 * jar and its cookie). Reopening an article counted this month does not. */
bool meter_counts(const struct viewer *v, const struct access_decision *d);

#endif
