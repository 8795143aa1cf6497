/* fuzz_frontmatter.c: frontmatter_parse on a whole imported file.
 *
 * Invariants: on success the body is the tail of the input and starts on
 * line body_line; every value has a key, keys are unique and found by
 * frontmatter_get, a text is one item and a list holds non-NULL items;
 * on failure the message reads "line N: ...".
 *
 * A known issue, reported and not yet fixed, is filtered out below; build
 * with -DMH_FUZZ_STRICT to drop the filter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/frontmatter.h"
#include "core/arena.h"
#include "fuzz.h"
#include "core/banned.h"

#ifdef MH_FUZZ_STRICT
#define KNOWN_ISSUE(cond) (0 && (cond))
#else
#define KNOWN_ISSUE(cond) (cond)
#endif

/* KNOWN ISSUE D (reported; remove this filter once fixed): libyaml ends
 * a line at a lone CR, U+0085, U+2028 and U+2029 too, find_close() at LF
 * only, so the line numbers of values (and of error messages) run ahead of
 * the file's real lines when the header holds such breaks. */
static int
has_odd_breaks(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
		if (i + 1 < n && p[i] == 0xc2 && p[i + 1] == 0x85)
			return 1;
		if (i + 2 < n && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			return 1;
	}
	return 0;
}

static void
check_ok(const char *src, size_t size, const struct frontmatter *fm)
{
	CHECK(fm->body >= src && fm->body <= src + size);
	CHECK((size_t) (fm->body - src) + fm->body_len == size);
	if (fm->body_len > 0) {
		int line = 1;
		for (const char *p = src; p < fm->body; p++)
			line += *p == '\n';
		CHECK(line == fm->body_line);
	}
	CHECK(fm->n_values <= 64);
	for (size_t i = 0; i < fm->n_values; i++) {
		const struct fm_value *v = &fm->values[i];
		CHECK(v->key != NULL);
		CHECK(v->line >= 2);
		if (!KNOWN_ISSUE(has_odd_breaks(src, (size_t) (fm->body - src))))
			CHECK(v->line < fm->body_line);
		CHECK(frontmatter_get(fm, v->key) == v);
		if (v->is_list) {
			CHECK(v->n_items <= 64);
		} else {
			CHECK(v->n_items == 1);
		}
		for (size_t k = 0; k < v->n_items; k++)
			CHECK(v->items[k] != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *src = (const char *) data;
	struct arena *a = arena_new();
	struct frontmatter fm;
	char err[256];

	memset(err, 'x', sizeof err);
	mh_err rc = frontmatter_parse(a, src, size, &fm, err, sizeof err);
	if (rc == MH_OK) {
		check_ok(src, size, &fm);
	} else {
		CHECK(rc == MH_ERR_PARSE);
		CHECK(memchr(err, '\0', sizeof err) != NULL);
		CHECK(strncmp(err, "line ", 5) == 0);
	}

	/* A short message buffer must still be cut safely. */
	char tiny[8];
	rc = frontmatter_parse(a, src, size, &fm, tiny, sizeof tiny);
	if (rc != MH_OK)
		CHECK(memchr(tiny, '\0', sizeof tiny) != NULL);

	arena_free(a);
	return 0;
}
