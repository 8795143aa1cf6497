/* import.h: Markdown files into the store, all or nothing.
 *
 * Files are read, parsed, rendered and written one at a time inside one
 * transaction, so memory stays bounded whatever their number (the parse
 * arena is dropped every few hundred files; only the slugs stay). Any bad
 * file is reported as "path:line: message" on the error stream, the rest
 * are still checked, and the transaction is rolled back: nothing is written. */
#ifndef MH_IMPORT_H
#define MH_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "content/article.h"
#include "store/store.h"

struct import_source {
	const char *name; /* shown in messages */
	const char *data;
	size_t len;
};

struct import_opts {
	struct article_parse_opts parse;
	FILE *progress; /* a terminal to draw a progress line on, or NULL */
	FILE *errors;   /* where bad files are reported */
};

struct import_summary {
	size_t created, updated, rejected;
	size_t authors; /* author profiles made or replaced */
};

mh_err import_sources(struct store *s, const struct import_source *src, size_t n, const struct import_opts *o,
                      struct import_summary *sum);
/* Reads files and folders (every *.md below them, in name order). A folder
 * with no *.md below it is reported and MH_ERR_NOTFOUND returned, nothing
 * written. */
mh_err import_paths(struct store *s, char *const *paths, size_t n, const struct import_opts *o,
                    struct import_summary *sum);

#endif
