/* slug.h: URL slugs from titles and names. */
#ifndef MH_SLUG_H
#define MH_SLUG_H

#include <stdbool.h>
#include <stddef.h>

#define SLUG_MAX 80

/* Writes the slug of text into out (at least SLUG_MAX + 1 bytes): lower-case
 * ASCII letters and digits joined by single hyphens; common Latin letters
 * with accents lose them. Returns false when nothing is left (out is ""). */
bool slug_from(const char *text, char *out, size_t n);
/* True when s is already a well-formed slug. */
bool slug_valid(const char *s);

#endif
