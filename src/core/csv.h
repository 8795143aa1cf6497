/* csv.h: RFC 4180 records (quoted fields, "" inside quotes, CRLF or LF),
 * as Ghost's and Substack's member exports write them. */
#ifndef MH_CSV_H
#define MH_CSV_H

#include <stddef.h>

#include "core/arena.h"

struct csv {
	const char *p, *end;
	int line; /* of the next record, 1-based */
};

#define CSV_MAX_FIELDS 256

void csv_init(struct csv *c, const char *data, size_t len);

/* The next record's fields (NUL-terminated, from a) into *fields and *n,
 * its first line into *line. Returns 1 for a record, 0 at the end, -1 for
 * a malformed one (a quote left open, text after a closing quote, more
 * than CSV_MAX_FIELDS fields): the reader has moved past its first line. */
int csv_next(struct csv *c, struct arena *a, char ***fields, size_t *n, int *line);

#endif
