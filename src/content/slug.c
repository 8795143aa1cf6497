#include "content/slug.h"

#include <string.h>

#include "core/banned.h"

/* Latin-1 supplement and Latin Extended-A letters, U+00C0 to U+017F, as ASCII. */
static const char *
fold(unsigned cp)
{
	static const char *latin1[] = {
		"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
		"d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
		"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
		"d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",
	};
	if (cp >= 0xc0 && cp <= 0xff)
		return latin1[cp - 0xc0];
	if (cp >= 0x100 && cp <= 0x17f) {
		/* Latin Extended-A: each code point's base letter, in order. One
		 * byte is taken from the returned pointer. */
		static const char ext[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
		                          "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
		return &ext[cp - 0x100];
	}
	return NULL;
}

bool
slug_from(const char *text, char *out, size_t n)
{
	const unsigned char *s = (const unsigned char *) text;
	size_t len = 0;
	bool hyphen = false;
	if (n == 0)
		return false;
	while (*s && len + 1 < n && len < SLUG_MAX) {
		unsigned c = *s;
		const char *rep = NULL;
		char ascii[2] = { 0, 0 };
		size_t replen = 0;
		if (c < 0x80) {
			s++;
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				ascii[0] = (char) c;
			} else if (c >= 'A' && c <= 'Z') {
				ascii[0] = (char) (c - 'A' + 'a');
			} else if (c == '\'') {
				continue; /* "Harbor's" reads better as harbors */
			}
			if (ascii[0]) {
				rep = ascii;
				replen = 1;
			}
		} else {
			unsigned cp = 0;
			int extra = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
			cp = c & (0x3f >> extra);
			s++;
			for (int i = 0; i < extra && (*s & 0xc0) == 0x80; i++, s++)
				cp = (cp << 6) | (*s & 0x3f);
			const char *f = fold(cp);
			if (f && cp >= 0x100) {
				ascii[0] = *f;
				rep = ascii;
				replen = 1;
			} else if (f) {
				rep = f;
				replen = strlen(f);
			}
		}
		if (!rep || !replen) {
			hyphen = len > 0;
			continue;
		}
		if (hyphen && len + 1 < n && len < SLUG_MAX) {
			out[len++] = '-';
			hyphen = false;
		}
		for (size_t i = 0; i < replen && len + 1 < n && len < SLUG_MAX; i++)
			out[len++] = rep[i];
	}
	while (len > 0 && out[len - 1] == '-')
		len--;
	out[len] = '\0';
	return len > 0;
}

bool
slug_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && s[i + 1] == '-')
			return false;
	}
	return true;
}
