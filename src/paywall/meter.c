#include "paywall/meter.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core/slice.h"
#include "core/banned.h"

#define MAC_CHARS TOKEN_MAC_CHARS

/* Under a label of its own, so that no other signed cookie passes for this one. */
static void
meter_mac(const unsigned char key[SECRET_BYTES], const char *payload, size_t n, char out[MAC_CHARS + 1])
{
	token_mac(key, "meter:", payload, n, out);
}

static void
month_format(int64_t now, const char *fmt, char out[8])
{
	time_t t = (time_t) now;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(out, 8, fmt, &tm) == 0)
		out[0] = '\0';
}

void
meter_month(int64_t now, char out[8])
{
	month_format(now, "%Y-%m", out);
}

int
meter_limit(long configured)
{
	if (configured <= 0)
		return 0;
	return (int) (configured < METER_MAX ? configured : METER_MAX);
}

void
meter_cookie_parse(const char *text, const unsigned char key[SECRET_BYTES], int64_t now, struct meter_jar *jar)
{
	jar->n = 0;
	if (!text || strnlen(text, METER_COOKIE_MAX + 1) > METER_COOKIE_MAX)
		return;
	const char *dot = strrchr(text, '.');
	if (!dot || strlen(dot + 1) != MAC_CHARS)
		return;
	char want[MAC_CHARS + 1], month[8];
	meter_mac(key, text, (size_t) (dot - text), want);
	month_format(now, "%Y%m", month);
	if (sodium_memcmp(want, dot + 1, MAC_CHARS) != 0 || strncmp(text, month, 6) != 0 || text[6] != '.')
		return;
	/* "YYYYMM.mac" has no ids part at all: only the key makes one. */
	if (dot < text + 7)
		return;
	struct slice ids = { text + 7, (size_t) (dot - text - 7) }, one;
	while (ids.len && jar->n < METER_MAX) {
		slice_split(&ids, '-', &one);
		long id;
		if (slice_to_long(one, &id))
			jar->ids[jar->n++] = id;
	}
}

mh_err
meter_cookie_format(const struct meter_jar *jar, const unsigned char key[SECRET_BYTES], int64_t now, struct buf *out)
{
	char month[8], mac[MAC_CHARS + 1];
	month_format(now, "%Y%m", month);
	size_t start = out->len;
	buf_puts(out, month);
	buf_putc(out, '.');
	for (size_t i = 0; i < jar->n; i++)
		buf_printf(out, "%s%lld", i ? "-" : "", (long long) jar->ids[i]);
	meter_mac(key, out->ptr + start, out->len - start, mac);
	buf_putc(out, '.');
	buf_puts(out, mac);
	return buf_error(out);
}

bool
meter_jar_holds(const struct meter_jar *jar, int64_t article_id)
{
	for (size_t i = 0; i < jar->n; i++)
		if (jar->ids[i] == article_id)
			return true;
	return false;
}

void
meter_jar_add(struct meter_jar *jar, int64_t article_id)
{
	if (jar->n < METER_MAX)
		jar->ids[jar->n++] = article_id;
}

int
meter_left(int limit, int used)
{
	return limit > used ? limit - used : 0;
}

void
meter_view(struct viewer *v, int limit, int used, bool counted)
{
	v->meter_remaining = meter_left(limit, used);
	v->meter_counted = counted;
}

bool
meter_counts(const struct viewer *v, const struct access_decision *d)
{
	return d->reason == REASON_METERED && !v->meter_counted;
}
