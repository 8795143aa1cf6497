#include "core/text.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/banned.h"

bool
utf8_valid(const char *str, size_t n, int *bad_line)
{
	const unsigned char *s = (const unsigned char *) str;
	int line = 1;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t need;
		unsigned min;
		if (c == '\n')
			line++;
		if (c == 0)
			goto bad;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, min = 0x10000, c &= 0x07;
		} else {
			goto bad;
		}
		if (n - i - 1 < need)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			goto bad;
		i += need + 1;
	}
	return true;
bad:
	if (bad_line)
		*bad_line = line;
	return false;
}

static bool
digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool
time_parse_iso8601(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 1;
	const char *p = s;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
		return false;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return false;
			if (*p == '.')
				for (p++; *p >= '0' && *p <= '9'; p++)
					;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (!digits(&p, 2, &oh))
				return false;
			if (*p == ':')
				p++;
			if (!digits(&p, 2, &om))
				return false;
		} else if (*p) {
			return false;
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return false;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return false;
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec
	};
	*out = (int64_t) timegm(&tm) - sign * (oh * 3600 + om * 60);
	return true;
}

void
time_format_iso8601(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	/* Four digits, always: %Y drops the leading zeros of years before 1000. */
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
time_format_human(int64_t t, char *out, size_t n)
{
	static const char *months[] = { "January", "February", "March",     "April",   "May",      "June",
		                        "July",    "August",   "September", "October", "November", "December" };
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, n, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

void
time_format_http(int64_t t, char *out, size_t n)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mons[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, n, "%s, %02d %s %d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t
time_add_months(int64_t t, int months)
{
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	int day = tm.tm_mday;
	tm.tm_mday = 1;
	tm.tm_mon += months;
	time_t first = timegm(&tm);
	gmtime_r(&first, &tm);
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = tm.tm_year + 1900;
	int last = mdays[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	tm.tm_mday = day < last ? day : last;
	return (int64_t) timegm(&tm);
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
text_scrub(char *msg, size_t n, const char *secret)
{
	size_t sl = secret ? strlen(secret) : 0;
	if (!msg || !n || !sl || !strstr(msg, secret))
		return;
	struct buf b = BUF_INIT;
	const char *p = msg, *hit;
	while ((hit = strstr(p, secret))) {
		buf_add(&b, p, (size_t) (hit - p));
		buf_puts(&b, "***");
		p = hit + sl;
	}
	buf_puts(&b, p);
	snprintf(msg, n, "%s", b.ptr);
	buf_release(&b);
}
