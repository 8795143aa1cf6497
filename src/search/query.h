/* query.h: a reader's search text to a full-text query, by masthead's own
 * rule, never by the engine's query language (docs/search.md).
 *
 * Words are runs of ASCII letters and digits and of non-ASCII characters
 * outside the common punctuation blocks; everything else (ASCII punctuation,
 * control bytes, bytes that are not UTF-8) separates them. ASCII letters are
 * lowered. Only the first SEARCH_INPUT_MAX bytes count; a word longer than
 * SEARCH_TERM_MAX bytes is dropped, a repeated one counted once, and words
 * past the SEARCH_TERMS_MAX-th ignored. The query asks for every word (AND),
 * each one quoted, so no operator of the engine can be written. */
#ifndef MH_SEARCH_QUERY_H
#define MH_SEARCH_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define SEARCH_INPUT_MAX 256
#define SEARCH_TERMS_MAX 8
#define SEARCH_TERM_MAX  64

struct search_terms {
	size_t n;
	char terms[SEARCH_TERMS_MAX][SEARCH_TERM_MAX + 1];
	/* The FTS5 query: "a" "b" (each term in double quotes, none inside). */
	char match[SEARCH_TERMS_MAX * (SEARCH_TERM_MAX + 3) + 1];
	/* Any of the terms, "a" OR "b": which words a snippet marks. */
	char any[SEARCH_TERMS_MAX * (SEARCH_TERM_MAX + 6) + 1];
	/* The terms joined by one space, to show the reader what was searched. */
	char text[SEARCH_TERMS_MAX * (SEARCH_TERM_MAX + 1) + 1];
};

/* Reads len bytes of q (NUL bytes included: they separate); false when no
 * word is left, and then out->n is 0 and both strings "". */
bool search_terms_parse(const char *q, size_t len, struct search_terms *out);

#endif
