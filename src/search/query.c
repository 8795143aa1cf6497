/* query.c: a reader's search text to quoted terms (query.h). */
#include "search/query.h"

#include <stdint.h>
#include <string.h>

#include "core/banned.h"

/* The length of the well-formed UTF-8 sequence at p (n bytes left) and its
 * code point, or 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t need;
	uint32_t v;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < need + 1 || p[1] < lo || p[1] > hi)
		return 0;
	v = (v << 6) | (p[1] & 0x3f);
	for (size_t k = 2; k <= need; k++) {
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
		v = (v << 6) | (p[k] & 0x3f);
	}
	*cp = v;
	return need + 1;
}

/* Spaces and punctuation outside ASCII that readers type between words:
 * Latin-1's (no-break space to inverted question mark, times, divide), the
 * General Punctuation block (dashes, curly quotes, ellipsis) and CJK's. */
static bool
separator(uint32_t cp)
{
	return (cp >= 0xa0 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 || (cp >= 0x2000 && cp <= 0x206f) ||
	       (cp >= 0x3000 && cp <= 0x303f) || cp == 0xfeff;
}

static bool
ascii_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
add_term(struct search_terms *out, const char *w, size_t n)
{
	if (n == 0 || n > SEARCH_TERM_MAX || out->n == SEARCH_TERMS_MAX)
		return;
	for (size_t i = 0; i < out->n; i++)
		if (strlen(out->terms[i]) == n && memcmp(out->terms[i], w, n) == 0)
			return;
	memcpy(out->terms[out->n], w, n);
	out->terms[out->n][n] = '\0';
	out->n++;
}

bool
search_terms_parse(const char *q, size_t len, struct search_terms *out)
{
	memset(out, 0, sizeof *out);
	const unsigned char *p = (const unsigned char *) (q ? q : "");
	if (!q)
		len = 0;
	if (len > SEARCH_INPUT_MAX)
		len = SEARCH_INPUT_MAX; /* a sequence cut here reads as not UTF-8: a separator */
	char word[SEARCH_TERM_MAX + 1];
	size_t wn = 0;
	bool too_long = false;
	size_t i = 0;
	while (i <= len) {
		size_t step = 1;
		bool in_word = false;
		if (i < len) {
			if (p[i] < 0x80) {
				in_word = ascii_word(p[i]);
			} else {
				uint32_t cp;
				size_t k = utf8_seq(p + i, len - i, &cp);
				if (k) {
					step = k;
					in_word = !separator(cp);
				}
			}
		}
		if (in_word) {
			if (wn + step > SEARCH_TERM_MAX) {
				too_long = true;
			} else {
				for (size_t k = 0; k < step; k++) {
					unsigned char c = p[i + k];
					word[wn++] = (char) (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
				}
			}
		} else {
			if (!too_long)
				add_term(out, word, wn);
			wn = 0;
			too_long = false;
		}
		i += step;
	}
	size_t m = 0, t = 0, o = 0;
	for (size_t k = 0; k < out->n; k++) {
		size_t n = strlen(out->terms[k]);
		if (k) {
			out->match[m++] = ' ';
			out->text[t++] = ' ';
			memcpy(out->any + o, " OR ", 4);
			o += 4;
		}
		out->any[o++] = '"';
		memcpy(out->any + o, out->terms[k], n);
		o += n;
		out->any[o++] = '"';
		out->match[m++] = '"';
		memcpy(out->match + m, out->terms[k], n);
		m += n;
		out->match[m++] = '"';
		memcpy(out->text + t, out->terms[k], n);
		t += n;
	}
	out->match[m] = '\0';
	out->any[o] = '\0';
	out->text[t] = '\0';
	return out->n > 0;
}
