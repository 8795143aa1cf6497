/* xml.c: escaping for XML 1.0 character data. */
#include "core/xml.h"

#include <stdint.h>
#include <string.h>

#include "core/banned.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* The length of the valid UTF-8 sequence at p (at most n bytes) and its
 * code point, or 0 when it is not one (overlong, surrogate, beyond U+10FFFF
 * or cut short). */
static size_t
utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static int
xml_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0a || cp == 0x0d;
	return cp != 0xfffe && cp != 0xffff;
}

void
xml_escape(struct buf *b, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *) p;
	size_t start = 0, i = 0;
	while (i < n) {
		const char *rep = NULL;
		uint32_t cp = 0;
		size_t len = 1;
		switch (u[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			len = utf8_seq(u + i, n - i, &cp);
			if (len == 0) {
				len = 1;
				rep = replacement;
			} else if (!xml_char_ok(cp)) {
				rep = replacement;
			}
		}
		if (!rep) {
			i += len;
			continue;
		}
		buf_add(b, p + start, i - start);
		buf_puts(b, rep);
		i += len;
		start = i;
	}
	buf_add(b, p + start, n - start);
}

void
xml_escape_str(struct buf *b, const char *s)
{
	if (s)
		xml_escape(b, s, strlen(s));
}
