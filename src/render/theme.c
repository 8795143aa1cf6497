/* theme.c: templates compiled once at start, static assets with ETags. */
#include "render/theme.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/embed.h"
#include "render/template.h"
#include "core/banned.h"

#define THEME_FILE_MAX (4u << 20)

static const char *
content_type_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".webp", "image/webp" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static mh_err
add_file(struct theme *t, const char *name, const char *data, size_t len, char *err, size_t errlen)
{
	size_t nl = strlen(name);
	if (strncmp(name, "templates/", 10) == 0 && nl > 19 && strcmp(name + nl - 9, ".mustache") == 0) {
		char tname[128];
		snprintf(tname, sizeof tname, "%.*s", (int) (nl - 19), name + 10);
		return tmpl_set_add(t->templates, tname, data, len, err, errlen);
	}
	if (strncmp(name, "static/", 7) != 0)
		return MH_OK;
	t->files = xrealloc(t->files, (t->n_files + 1) * sizeof *t->files);
	struct static_file *f = &t->files[t->n_files++];
	f->path = xstrdup(name + 7);
	f->data = data;
	f->len = len;
	f->content_type = content_type_of(name);
	unsigned char h[8];
	crypto_generichash(h, sizeof h, (const unsigned char *) data, len, NULL, 0);
	char hex[17];
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(f->etag, sizeof f->etag, "\"%s\"", hex);
	return MH_OK;
}

static mh_err
load_dir(struct theme *t, const char *root, const char *sub, char *err, size_t errlen)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", root, sub);
	DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT)
			return MH_OK;
		snprintf(err, errlen, "%s: cannot read theme folder: %s", path, strerror(errno));
		return MH_ERR_IO;
	}
	mh_err rc = MH_OK;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char file[2048], name[512];
		snprintf(file, sizeof file, "%.1024s/%.255s", path, e->d_name);
		snprintf(name, sizeof name, "%.32s/%.255s", sub, e->d_name);
		FILE *f = fopen(file, "rb");
		if (!f) {
			snprintf(err, errlen, "%s: cannot read: %s", file, strerror(errno));
			rc = MH_ERR_IO;
			break;
		}
		struct buf b = BUF_INIT;
		buf_init(&b, THEME_FILE_MAX);
		char chunk[16384];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_add(&b, chunk, got);
		fclose(f);
		if (buf_error(&b)) {
			snprintf(err, errlen, "%s: larger than %u bytes", file, THEME_FILE_MAX);
			buf_release(&b);
			rc = MH_ERR_TOOBIG;
			break;
		}
		size_t len;
		char *data = buf_detach(&b, &len);
		t->owned = xrealloc(t->owned, (t->n_owned + 1) * sizeof *t->owned);
		t->owned[t->n_owned++] = data;
		rc = add_file(t, name, data, len, err, errlen);
	}
	closedir(d);
	return rc;
}

mh_err
theme_load(struct theme *t, const char *dir, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->templates = tmpl_set_new();
	mh_err rc = MH_OK;
	if (dir && dir[0]) {
		if ((rc = load_dir(t, dir, "templates", err, errlen)) || (rc = load_dir(t, dir, "static", err, errlen)))
			return rc;
		/* Templates added after a theme was copied come from the built-in
		 * theme, so an older copy keeps working (the feed note). */
		for (const struct embedded_file *f = embedded_theme; f->name && !rc; f++)
			if (!strcmp(f->name, "templates/feed-note.mustache") &&
			    !tmpl_set_has(t->templates, "feed-note"))
				rc = add_file(t, f->name, f->data, f->len, err, errlen);
		if (rc)
			return rc;
	} else {
		for (const struct embedded_file *f = embedded_theme; f->name && !rc; f++)
			rc = add_file(t, f->name, f->data, f->len, err, errlen);
		if (rc)
			return rc;
	}
	static const char *required[] = { "layout", "index", "article", "list", "person", "error" };
	for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
		if (!tmpl_set_has(t->templates, required[i])) {
			snprintf(err, errlen, "theme %s: template %s.mustache is missing",
			         dir && dir[0] ? dir : "(built in)", required[i]);
			return MH_ERR_NOTFOUND;
		}
	}
	const struct static_file *css = theme_static(t, "style.css");
	const struct static_file *ico = theme_static(t, "favicon.svg");
	struct buf b = BUF_INIT;
	/* The ETag without its quotes makes a version that changes with the file. */
	buf_printf(&b, "/static/style.css?v=%.8s", css ? css->etag + 1 : "0");
	t->css_url = buf_detach(&b, NULL);
	buf_printf(&b, "/static/favicon.svg?v=%.8s", ico ? ico->etag + 1 : "0");
	t->favicon_url = buf_detach(&b, NULL);
	return MH_OK;
}

void
theme_release(struct theme *t)
{
	tmpl_set_free(t->templates);
	for (size_t i = 0; i < t->n_files; i++)
		free(t->files[i].path);
	free(t->files);
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->css_url);
	free(t->favicon_url);
	memset(t, 0, sizeof *t);
}

const struct static_file *
theme_static(const struct theme *t, const char *path)
{
	for (size_t i = 0; i < t->n_files; i++)
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}
