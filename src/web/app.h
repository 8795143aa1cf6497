/* app.h: what every handler shares: settings, the store, the theme. */
#ifndef MH_APP_H
#define MH_APP_H

#include <jansson.h>

#include "core/config.h"
#include "http/http.h"
#include "store/store.h"

struct tmpl_set;

struct static_file {
	char *path;          /* "style.css" */
	const char *data;
	size_t len;
	const char *content_type;
	char etag[24];       /* "\"hex\"" */
};

struct theme {
	struct tmpl_set *templates;
	struct static_file *files;
	size_t n_files;
	char *css_url;       /* /static/style.css?v=..., cache-busted */
	char *favicon_url;
	char **owned;        /* file contents read from a theme folder */
	size_t n_owned;
};

struct app {
	const struct config *cfg;
	struct store *store;
	struct theme theme;
};

/* Loads the theme from cfg->theme, or the built-in one; err on failure. */
mh_err theme_load(struct theme *t, const char *dir, char *err, size_t errlen);
void theme_release(struct theme *t);
const struct static_file *theme_static(const struct theme *t, const char *path);

/* The route table and the handlers' fallbacks, for http_server_start. */
extern const struct route app_routes[];
void app_not_found(struct http_req *r);
void app_method_not_allowed(struct http_req *r);
void app_error(struct http_req *r, int status, const char *message);

#endif
