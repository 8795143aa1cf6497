/* fuzz_path.c: the request target on outside text: the access log's
 * redaction of tokens (http_path_redact) and the query check that runs
 * before libmicrohttpd parses a query (http_query_too_big).
 *
 * Invariants:
 * - the redacted path holds no segment of a token's shape, and is the path
 *   itself when nothing was hidden;
 * - redacting what is already redacted changes nothing;
 * - the query check reads a terminated string only, and refuses any query
 *   with more than HTTP_MAX_QUERY_ARGS parameters. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/http.h"
#include "fuzz.h"
#include "core/banned.h"

static bool
has_token_segment(const char *p, size_t len)
{
	size_t i = 0;
	while (i <= len) {
		size_t n = 0;
		while (i + n < len && p[i + n] != '/' && p[i + n] != '.')
			n++;
		bool token = n == 43;
		for (size_t k = 0; token && k < n; k++) {
			char ch = p[i + k];
			token = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			        ch == '-' || ch == '_';
		}
		if (token)
			return true;
		i += n + 1;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	size_t len = strlen(text);

	struct buf out = BUF_INIT;
	bool hid = http_path_redact(text, &out);
	CHECK(!buf_error(&out));
	CHECK(!has_token_segment(out.ptr ? out.ptr : "", out.len));
	if (!hid)
		CHECK(out.len == len && (len == 0 || memcmp(out.ptr, text, len) == 0));
	else
		CHECK(has_token_segment(text, len));
	char *once = malloc(out.len + 1);
	CHECK(once != NULL);
	memcpy(once, out.ptr ? out.ptr : "", out.len);
	once[out.len] = '\0';
	struct buf again = BUF_INIT;
	CHECK(!http_path_redact(once, &again));
	CHECK(again.len == out.len && (out.len == 0 || memcmp(again.ptr, once, out.len) == 0));
	buf_release(&again);
	buf_release(&out);
	free(once);

	const char *q = strchr(text, '?');
	size_t args = 0;
	for (const char *p = q; p && *p; p++)
		args += *p == '&' || *p == ';';
	bool big = http_query_too_big(text, 16384);
	if (q && args + 1 > HTTP_MAX_QUERY_ARGS)
		CHECK(big);
	if (!q)
		CHECK(!big);
	free(text);
	return 0;
}
