#include "core/slice.h"

#include <limits.h>

struct slice
slice_trim(struct slice s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t' || s.ptr[0] == '\r' || s.ptr[0] == '\n')) {
		s.ptr++;
		s.len--;
	}
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t' || s.ptr[s.len - 1] == '\r' ||
	                 s.ptr[s.len - 1] == '\n'))
		s.len--;
	return s;
}

bool
slice_split(struct slice *s, char sep, struct slice *head)
{
	const char *p = s->len ? memchr(s->ptr, sep, s->len) : NULL;
	if (!p) {
		*head = *s;
		s->ptr += s->len;
		s->len = 0;
		return false;
	}
	head->ptr = s->ptr;
	head->len = (size_t) (p - s->ptr);
	s->len -= head->len + 1;
	s->ptr = p + 1;
	return true;
}

bool
slice_to_long(struct slice s, long *out)
{
	long v = 0;
	if (s.len == 0 || s.len > 18)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		v = v * 10 + (s.ptr[i] - '0');
	}
	*out = v;
	return true;
}
