/* fuzz_form.c: application/x-www-form-urlencoded bodies (http_form_parse,
 * the parser under every form) and the CSRF check each form passes.
 *
 * The input is a body. Invariants:
 * - at most the fields asked for, each with a non-empty name, names and
 *   values valid UTF-8 text;
 * - the fields encoded again (buf_add_urlenc) parse to the same fields;
 * - a CSRF token made for a field's value as the cookie is valid for it
 *   exactly when the value has a token's shape, and for no other cookie; a
 *   field's name is not a valid token for its value (unless it is that token). */
#include <string.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/text.h"
#include "http/http.h"
#include "fuzz.h"
#include "core/banned.h"

#define MAX 64

static const unsigned char key[SECRET_BYTES] = "fuzz-form-key-0123456789abcdef!";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	struct arena *a = arena_new();
	struct http_field f[MAX], g[MAX];
	size_t n = http_form_parse(a, (const char *) data, size, f, MAX);
	CHECK(n <= MAX);
	struct buf again = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(f[i].name), vl = strlen(f[i].value);
		CHECK(nl > 0);
		CHECK(utf8_valid(f[i].name, nl, NULL) && utf8_valid(f[i].value, vl, NULL));
		if (i)
			buf_putc(&again, '&');
		buf_add_urlenc(&again, f[i].name, nl);
		buf_putc(&again, '=');
		buf_add_urlenc(&again, f[i].value, vl);
	}
	CHECK(!buf_error(&again));
	size_t m = http_form_parse(a, again.ptr ? again.ptr : "", again.len, g, MAX);
	CHECK(m == n);
	for (size_t i = 0; i < n; i++)
		CHECK(!strcmp(f[i].name, g[i].name) && !strcmp(f[i].value, g[i].value));

	for (size_t i = 0; i < n && i < 4; i++) {
		char token[TOKEN_CHARS + 1];
		csrf_token(key, f[i].value, token);
		/* Only a well-formed cookie (a token's shape) is ever accepted. */
		CHECK(csrf_valid(key, f[i].value, token) == token_well_formed(f[i].value));
		if (strcmp(f[i].value, f[(i + 1) % n].value) != 0)
			CHECK(!csrf_valid(key, f[(i + 1) % n].value, token));
		CHECK(!csrf_valid(key, f[i].value, f[i].name) || !strcmp(f[i].name, token));
	}
	buf_release(&again);
	arena_free(a);
	return 0;
}
