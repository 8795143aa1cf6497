/* fuzz_text.c: utf8_valid, time_parse_iso8601 and slug_from on outside text.
 *
 * The input is checked as raw bytes by utf8_valid (against a table-driven
 * reference validator) and, as a NUL-terminated copy, parsed as a date and
 * turned into a slug. Invariants:
 * - utf8_valid agrees with the reference, and *bad_line names an existing line;
 * - slug_from's output always fits, is "" when it returns false and is
 *   slug_valid() when it returns true; a slug is its own slug;
 * - a parsed time in 1970..9999 formats with time_format_iso8601 as
 *   YYYY-MM-DDTHH:MM:SSZ and parses back to the same second. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/slug.h"
#include "core/text.h"
#include "fuzz.h"
#include "core/banned.h"

/* 253402300800 is 10000-01-01T00:00:00Z. */
#define YEAR_10000 INT64_C(253402300800)

/* Unicode's table of well-formed byte sequences (Table 3-7), NUL excluded. */
static bool
ref_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t need;
		uint8_t lo = 0x80, hi = 0xbf;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += need + 1;
	}
	return true;
}

static void
check_utf8(const uint8_t *data, size_t size)
{
	int bad_line = -1;
	bool ok = utf8_valid((const char *) data, size, &bad_line);
	CHECK(ok == ref_utf8_valid(data, size));
	if (!ok) {
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		CHECK(bad_line >= 1 && (size_t) bad_line <= lines);
	}
	CHECK(utf8_valid((const char *) data, size, NULL) == ok);
}

static void
check_slug(const char *text, size_t size)
{
	char out[SLUG_MAX + 1], again[SLUG_MAX + 1];
	memset(out, 'x', sizeof out);
	bool ok = slug_from(text, out, sizeof out);
	size_t len = strnlen(out, sizeof out);
	CHECK(len < sizeof out);
	CHECK(ok == (len > 0));
	if (ok) {
		CHECK(slug_valid(out));
		CHECK(slug_from(out, again, sizeof again));
		CHECK(strcmp(out, again) == 0);
	}

	/* A smaller buffer: the output still fits and is still a slug. */
	size_t n = 1 + size % (SLUG_MAX + 1);
	char *small = malloc(n);
	if (!small)
		abort();
	ok = slug_from(text, small, n);
	len = strnlen(small, n);
	CHECK(len < n);
	CHECK(ok == (len > 0));
	if (ok)
		CHECK(slug_valid(small));
	free(small);

	/* n == 0 writes nothing. */
	char none = 'x';
	CHECK(!slug_from(text, &none, 0));
	CHECK(none == 'x');
}

static void
check_time(const char *text)
{
	int64_t t = INT64_MIN;
	if (!time_parse_iso8601(text, &t))
		return;
	char iso[32], human[64], http[64];
	/* Every format must cope with every parsed value (years 0000..9999,
	 * shifted by an offset). */
	time_format_iso8601(t, iso, sizeof iso);
	time_format_human(t, human, sizeof human);
	time_format_http(t, http, sizeof http);
	if (t < 0 || t >= YEAR_10000)
		return;
	CHECK(strlen(iso) == 20);
	CHECK(iso[4] == '-' && iso[7] == '-' && iso[10] == 'T' && iso[13] == ':' && iso[16] == ':' && iso[19] == 'Z');
	int64_t back = INT64_MIN;
	CHECK(time_parse_iso8601(iso, &back));
	CHECK(back == t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_utf8(data, size);

	char *text = malloc(size + 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	check_slug(text, size);
	check_time(text);
	free(text);
	return 0;
}
