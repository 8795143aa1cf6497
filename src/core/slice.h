/* slice.h: a borrowed view of bytes, for parsing without copies.
 * A slice owns nothing; whoever owns ptr keeps it alive. */
#ifndef MH_SLICE_H
#define MH_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
	const char *ptr;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })

static inline struct slice
slice_from(const char *s)
{
	return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline bool
slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool
slice_eq_str(struct slice a, const char *s)
{
	return slice_eq(a, slice_from(s));
}

static inline bool
slice_starts_with(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

struct slice slice_trim(struct slice s);
/* Splits s at the first sep: *head gets what precedes it, s what follows.
 * Returns false (head = all of s, s empty) when sep does not occur. */
bool slice_split(struct slice *s, char sep, struct slice *head);
/* Parses a non-negative decimal integer; false on any other byte or on overflow. */
bool slice_to_long(struct slice s, long *out);

#endif
