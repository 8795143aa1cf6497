/* fuzz_template.c: tmpl_set_add and tmpl_render on theme template source.
 *
 * Input: the first line holds the templates, the rest is the JSON context
 * (invalid or empty JSON renders with a NULL context). So that one line can
 * carry partials, parents and line-based standalone tags:
 * - the byte 0x1e (ASCII RS) separates up to 16 templates, named "t", "a",
 *   "b", ... in order: {{>a}} and {{<a}} in "t" reach the second one;
 * - a template holding the byte 0x1d (ASCII GS) is named by what precedes
 *   it instead (so a theme's own files keep their names: "layout" GS ...);
 *   a name already used replaces the template added under it before;
 * - the byte 0x1f (ASCII US) stands for a newline inside a template.
 * Every template added is rendered.
 * Each source is handed over in a heap block of exactly its length, not
 * NUL-terminated, so a read past the end faults under ASan.
 *
 * Invariants: a failed add says "name:line: ..." and leaves the set as it
 * was; a rendered template renders the same bytes twice (a set is not
 * changed by rendering); the output stays within its buffer's maximum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "render/template.h"
#include "fuzz.h"
#include "core/banned.h"

#define MAX_TEMPLATES 16
#define MAX_NAME      64
#define OUT_MAX       ((size_t) 64 << 10)

static const char default_names[MAX_TEMPLATES] = "tabcdefghijklmno";

static void
add_one(struct tmpl_set *set, const char *name, const uint8_t *p, size_t n, int *added)
{
	char *src = malloc(n ? n : 1);
	char err[256];
	if (!src)
		abort();
	for (size_t i = 0; i < n; i++)
		src[i] = p[i] == 0x1f ? '\n' : (char) p[i];

	bool had = tmpl_set_has(set, name);
	memset(err, 'x', sizeof err);
	mh_err rc = tmpl_set_add(set, name, src, n, err, sizeof err);
	if (rc == MH_OK) {
		CHECK(tmpl_set_has(set, name));
		*added = 1;
	} else {
		CHECK(rc == MH_ERR_PARSE);
		CHECK(memchr(err, '\0', sizeof err) != NULL);
		CHECK(strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':');
		CHECK(tmpl_set_has(set, name) == had);
	}
	free(src);
}

/* Renders name twice and compares. A render that ran out of its step
 * budget (TMPL_MAX_STEPS ops, about 15 s under ASan and UBSan) is not
 * repeated, and after it no other template is rendered: one such render
 * per input keeps the budget path covered without libFuzzer timeouts. */
static mh_err
render_twice(const struct tmpl_set *set, const char *name, json_t *ctx)
{
	struct buf one, two;
	buf_init(&one, OUT_MAX);
	buf_init(&two, OUT_MAX);
	mh_err r1 = tmpl_render(set, name, ctx, &one);
	CHECK(r1 == MH_OK || r1 == MH_ERR_NOMEM || r1 == MH_ERR_TOOBIG);
	CHECK(one.len <= OUT_MAX);
	CHECK(one.ptr[one.len] == '\0');
	if (r1 != MH_ERR_TOOBIG) {
		mh_err r2 = tmpl_render(set, name, ctx, &two);
		CHECK(r1 == r2);
		CHECK(one.len == two.len && memcmp(one.ptr, two.ptr, one.len) == 0);
	}
	buf_release(&one);
	buf_release(&two);
	return r1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t) (nl - data) : size;
	const uint8_t *rest = nl ? nl + 1 : data + size;
	size_t rlen = size - (size_t) (rest - data);

	json_t *ctx = NULL;
	if (rlen) {
		json_error_t jerr;
		ctx = json_loadb((const char *) rest, rlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	}

	struct tmpl_set *set = tmpl_set_new();
	char names[MAX_TEMPLATES][MAX_NAME + 1];
	int added[MAX_TEMPLATES] = { 0 };
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= tlen && k < MAX_TEMPLATES; i++) {
		if (i < tlen && data[i] != 0x1e)
			continue;
		const uint8_t *seg = data + start;
		size_t n = i - start;
		const uint8_t *gs = memchr(seg, 0x1d, n);
		size_t nlen = gs ? (size_t) (gs - seg) : 0;
		if (gs && nlen > 0 && nlen <= MAX_NAME && !memchr(seg, '\0', nlen)) {
			memcpy(names[k], seg, nlen);
			names[k][nlen] = '\0';
			n -= nlen + 1;
			seg = gs + 1;
		} else {
			names[k][0] = default_names[k];
			names[k][1] = '\0';
		}
		add_one(set, names[k], seg, n, &added[k]);
		/* Adding the same source again replaces it in place. */
		if (k == 0 && added[0])
			add_one(set, names[k], seg, n, &added[0]);
		k++;
		start = i + 1;
	}

	struct buf none = BUF_INIT;
	CHECK(tmpl_render(set, "no such template", ctx, &none) == MH_ERR_NOTFOUND);
	CHECK(none.len == 0);
	buf_release(&none);
	for (size_t i = 0; i < k; i++)
		if (added[i] && tmpl_set_has(set, names[i]) && render_twice(set, names[i], ctx) == MH_ERR_TOOBIG)
			break;

	tmpl_set_free(set);
	json_decref(ctx);
	return 0;
}
