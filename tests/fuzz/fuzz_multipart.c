/* fuzz_multipart.c: multipart/form-data bodies (http_multipart_parse, the
 * parser under every upload).
 *
 * The input: line 1 is the Content-Type header's value, the rest the body.
 * Invariants:
 * - on an error nothing is returned; otherwise at most the parts asked for,
 *   each with a non-empty name of valid UTF-8, text values valid UTF-8
 *   without NUL, file data inside the body;
 * - the parts written out again as multipart with the same boundary parse
 *   to the same fields and files. */
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/text.h"
#include "http/http.h"
#include "fuzz.h"
#include "core/banned.h"

#define MAXF 16

static void
quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	const char *in = (const char *) data;
	const char *nl = memchr(in, '\n', size);
	if (!nl)
		return 0;
	struct arena *a = arena_new();
	char *ct = arena_strndup(a, in, (size_t) (nl - in));
	const char *body = nl + 1;
	size_t len = size - (size_t) (nl + 1 - in);
	struct http_field f[MAXF], g[MAXF];
	struct http_file x[MAXF], y[MAXF];
	size_t nf = 99, nx = 99, mf, mx;
	mh_err rc = http_multipart_parse(a, ct, body, len, f, MAXF, &nf, x, MAXF, &nx);
	CHECK(nf <= MAXF && nx <= MAXF);
	if (rc) {
		CHECK(rc == MH_ERR_INVALID && nf == 0 && nx == 0);
		arena_free(a);
		return 0;
	}
	for (size_t i = 0; i < nf; i++) {
		CHECK(f[i].name[0] && utf8_valid(f[i].name, strlen(f[i].name), NULL));
		CHECK(utf8_valid(f[i].value, strlen(f[i].value), NULL));
	}
	for (size_t i = 0; i < nx; i++) {
		CHECK(x[i].name[0] && utf8_valid(x[i].name, strlen(x[i].name), NULL));
		CHECK(x[i].data >= body && x[i].data + x[i].len <= body + len);
	}
	/* Written out again with a boundary of a plain shape (the input's may
	 * have been quoted); skipped when a part holds that boundary. */
	const char *bd = "fuzzboundary7e3";
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < nf + nx; i++) {
		bool file = i >= nf;
		const char *name = file ? x[i - nf].name : f[i].name;
		buf_printf(&out, "--%s\r\nContent-Disposition: form-data; name=", bd);
		quoted(&out, name);
		if (file) {
			buf_puts(&out, "; filename=");
			quoted(&out, x[i - nf].filename);
			if (x[i - nf].content_type[0])
				buf_printf(&out, "\r\nContent-Type: %s", x[i - nf].content_type);
		}
		buf_puts(&out, "\r\n\r\n");
		if (file)
			buf_add(&out, x[i - nf].data, x[i - nf].len);
		else
			buf_puts(&out, f[i].value);
		buf_puts(&out, "\r\n");
	}
	buf_printf(&out, "--%s--\r\n", bd);
	CHECK(!buf_error(&out));
	bool clash = false;
	for (size_t i = 0; i < nf; i++)
		clash |= strstr(f[i].value, bd) != NULL;
	for (size_t i = 0; i < nx; i++)
		clash |= memmem(x[i].data, x[i].len, bd, strlen(bd)) != NULL;
	if (!clash && (nf || nx)) {
		const char *ct2 = arena_printf(a, "multipart/form-data; boundary=%s", bd);
		rc = http_multipart_parse(a, ct2, out.ptr, out.len, g, MAXF, &mf, y, MAXF, &mx);
		CHECK(rc == MH_OK);
		CHECK(mf == nf && mx == nx);
		for (size_t i = 0; i < nf; i++)
			CHECK(!strcmp(f[i].name, g[i].name) && !strcmp(f[i].value, g[i].value));
		for (size_t i = 0; i < nx; i++) {
			CHECK(!strcmp(x[i].name, y[i].name) && !strcmp(x[i].filename, y[i].filename));
			CHECK(!strcmp(x[i].content_type, y[i].content_type));
			CHECK(x[i].len == y[i].len && !memcmp(x[i].data, y[i].data, x[i].len));
		}
	}
	buf_release(&out);
	arena_free(a);
	return 0;
}
