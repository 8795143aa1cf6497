/* frontmatter.h: the YAML header of an imported Markdown file.
 *
 * The header is a mapping of keys to texts or lists of texts, between a
 * first line "---" and a closing "---". Everything is allocated from the
 * arena given. */
#ifndef MH_FRONTMATTER_H
#define MH_FRONTMATTER_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

struct fm_value {
	const char *key;
	const char **items; /* a text is a list of one, with is_list false */
	size_t *item_len;   /* bytes of each item as YAML gave it (a NUL inside shows) */
	size_t n_items;
	int is_list;
	int line; /* 1-based line in the file */
};

struct frontmatter {
	struct fm_value *values;
	size_t n_values;
	const char *body; /* what follows the closing line */
	size_t body_len;
	int body_line; /* the file line the body starts at */
};

/* Parses src; on failure writes "line N: message" into err and returns
 * MH_ERR_PARSE. */
mh_err frontmatter_parse(struct arena *a, const char *src, size_t len, struct frontmatter *out, char *err,
                         size_t errlen);
const struct fm_value *frontmatter_get(const struct frontmatter *fm, const char *key);

#endif
