/* fuzz_xml.c: xml_escape and the private feed's path segment on outside
 * bytes (article text in feeds and sitemaps, the address a feed reader
 * asks for).
 *
 * Invariants:
 * - xml_escape's output is valid UTF-8 holding only characters XML 1.0
 *   allows, no < > " ' at all, and every & starts one of the five
 *   predefined references; text that needs nothing comes out unchanged;
 * - feed_token_param accepts exactly "<43 base64url characters>.xml" and
 *   gives back those 43 characters. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/xml.h"
#include "fuzz.h"
#include "web/feeds.h"
#include "core/banned.h"

static bool
starts(const char *p, size_t n, const char *with)
{
	size_t k = strlen(with);
	return n >= k && memcmp(p, with, k) == 0;
}

static void
check_escape(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	xml_escape(&b, (const char *) data, size);
	CHECK(!buf_error(&b));
	const char *o = b.ptr ? b.ptr : "";
	size_t n = b.len;
	CHECK(utf8_valid(o, n, NULL));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) o[i];
		CHECK(c != '<' && c != '>' && c != '"' && c != '\'');
		CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
		if (c == '&')
			CHECK(starts(o + i, n - i, "&amp;") || starts(o + i, n - i, "&lt;") ||
			      starts(o + i, n - i, "&gt;") || starts(o + i, n - i, "&quot;") ||
			      starts(o + i, n - i, "&apos;"));
		/* U+FFFE and U+FFFF */
		if (c == 0xef && i + 2 < n && (unsigned char) o[i + 1] == 0xbf)
			CHECK((unsigned char) o[i + 2] != 0xbe && (unsigned char) o[i + 2] != 0xbf);
	}
	/* Plain printable ASCII passes through as it is. */
	bool plain = true;
	for (size_t i = 0; i < size && plain; i++)
		plain = data[i] >= 0x20 && data[i] < 0x7f && !strchr("&<>\"'", data[i]);
	if (plain)
		CHECK(n == size && (size == 0 || memcmp(o, data, size) == 0));
	buf_release(&b);
}

static void
check_segment(const uint8_t *data, size_t size)
{
	char *seg = malloc(size + 1);
	if (!seg)
		abort();
	if (size)
		memcpy(seg, data, size);
	seg[size] = '\0';
	char tok[TOKEN_CHARS + 1];
	if (feed_token_param(seg, tok)) {
		CHECK(strlen(seg) == TOKEN_CHARS + 4);
		CHECK(token_well_formed(tok));
		CHECK(memcmp(seg, tok, TOKEN_CHARS) == 0);
		CHECK(strcmp(seg + TOKEN_CHARS, ".xml") == 0);
	}
	free(seg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_escape(data, size);
	check_segment(data, size);
	return 0;
}
