/* embed.h: files compiled into the binary (see tools/embed.c). */
#ifndef MH_EMBED_H
#define MH_EMBED_H

#include <stddef.h>

struct embedded_file {
	const char *name; /* path relative to its folder, e.g. "templates/page.mustache" */
	const char *data; /* NUL-terminated */
	size_t len;
};

/* SQL migrations, src/store/migrations/ENGINE/NNNN_name.sql, named
 * "ENGINE/NNNN_name.sql", in name order. */
extern const struct embedded_file embedded_migrations[];
/* The default theme, themes/default/... */
extern const struct embedded_file embedded_theme[];
/* The demo articles, demo/articles/NN-slug.md. */
extern const struct embedded_file embedded_demo[];

#endif
