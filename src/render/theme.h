/* theme.h: a theme: its templates, compiled once, and its static files with
 * their ETags, from the built-in copy or a folder. The site, the mail of any
 * command and later front doors load it from here, without the web layer. */
#ifndef MH_THEME_H
#define MH_THEME_H

#include <stddef.h>

#include "core/err.h"

struct tmpl_set;

struct static_file {
	char *path; /* "style.css" */
	const char *data;
	size_t len;
	const char *content_type;
	char etag[24]; /* "\"hex\"" */
};

struct theme {
	struct tmpl_set *templates;
	struct static_file *files;
	size_t n_files;
	char *css_url; /* /static/style.css?v=..., cache-busted */
	char *favicon_url;
	char **owned; /* file contents read from a theme folder */
	size_t n_owned;
};

/* Loads the theme from cfg->theme, or the built-in one; err on failure. */
mh_err theme_load(struct theme *t, const char *dir, char *err, size_t errlen);
void theme_release(struct theme *t);
const struct static_file *theme_static(const struct theme *t, const char *path);

#endif
