/* htmltext.c: the words of stored HTML as plain text. */
#include "core/htmltext.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/text.h"
#include "core/banned.h"

/* Tags that sit inside a word's run of text: no space for them. */
static bool
inline_tag(const char *name, size_t n)
{
	static const char *const names[] = { "a",   "em",   "strong", "code", "b",   "i",    "s",     "del",
		                             "ins", "mark", "span",   "sub",  "sup", "abbr", "small", "u" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
			return true;
	return false;
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	char out[4];
	size_t n;
	if (cp < 0x80) {
		out[0] = (char) cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char) (0xc0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char) (0xe0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char) (0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char) (0xf0 | (cp >> 18));
		out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char) (0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, out, n);
}

/* Decodes the entity at p (just after '&') into *cp; returns the bytes it
 * took, 0 when it is none we know (the '&' then stands for itself). */
static size_t
entity(const char *p, uint32_t *cp_out)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} named[] = { { "amp;", '&' },      { "lt;", '<' },       { "gt;", '>' },
		      { "quot;", '"' },     { "apos;", '\'' },    { "nbsp;", 0xa0 },
		      { "mdash;", 0x2014 }, { "ndash;", 0x2013 }, { "hellip;", 0x2026 } };
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		size_t n = strlen(named[i].name);
		if (strncmp(p, named[i].name, n) == 0) {
			*cp_out = named[i].cp;
			return n;
		}
	}
	if (p[0] != '#')
		return 0;
	bool hex = p[1] == 'x' || p[1] == 'X';
	size_t i = hex ? 2 : 1;
	uint32_t cp = 0;
	size_t digits = 0;
	for (; digits < 8; i++, digits++) {
		int d = hex ? hex_digit(p[i]) : (p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : -1);
		if (d < 0)
			break;
		cp = cp * (hex ? 16 : 10) + (uint32_t) d;
	}
	if (!digits || p[i] != ';')
		return 0;
	/* Control characters, surrogates and what lies past Unicode read as a space. */
	if (cp < 0x20 || cp == 0x7f || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = ' ';
	*cp_out = cp;
	return i + 1;
}

void
htmltext_append(struct buf *b, const char *html)
{
	const char *p = html ? html : "";
	bool space = true; /* the last byte written was a space (or nothing was) */
	size_t start = b->len;
	while (*p) {
		unsigned char c = (unsigned char) *p;
		if (c == '<') {
			const char *end = strchr(p, '>');
			if (!end)
				break; /* a cut tag: the rest is not text */
			const char *name = p + 1 + (p[1] == '/');
			size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
			if (!inline_tag(name, n) && !space) {
				buf_putc(b, ' ');
				space = true;
			}
			p = end + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				buf_putc(b, ' ');
			space = true;
			p++;
			continue;
		}
		if (c == '&') {
			uint32_t cp;
			size_t took = entity(p + 1, &cp);
			if (took) {
				p += took + 1;
				if (cp == ' ') {
					if (!space)
						buf_putc(b, ' ');
					space = true;
				} else {
					put_utf8(b, cp);
					space = false;
				}
				continue;
			}
		}
		buf_putc(b, (char) c);
		space = false;
		p++;
	}
	if (b->len > start && b->ptr[b->len - 1] == ' ')
		b->len--, b->ptr[b->len] = '\0';
}
