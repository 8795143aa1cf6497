/* admin_media.c: the newsroom's images (docs/newsroom.md, "Images"): the
 * library at /admin/media, uploads to it, and /media/ where readers get
 * the resized variants. Checking, hashing and resizing is media/media.c's;
 * this file turns requests into its calls and its results into pages. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "media/media.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "core/banned.h"

#define MEDIA_PAGE 50

struct upload {
	const char *dir;
	const char *data;
	size_t len;
	const char *alt, *filename;
	struct media_info info;
	mh_err rc;
	char err[256];
};

static const char *
media_dir(struct http_req *r)
{
	struct app *app = r->app;
	return arena_concat(r->arena, app->cfg->data, "/media", NULL);
}

/* The library: the upload form (with error and values when a try failed),
 * then a page of the images uploaded, newest first. */
static void
library(struct http_req *r, int status, const char *file_error, const char *alt_error, const char *alt)
{
	struct app *app = r->app;
	size_t page = 0;
	const char *p = http_query(r, "page");
	if (p && p[0]) {
		char *end;
		long v = strtol(p, &end, 10);
		if (*end || v < 1 || v > 100000) {
			app_error(r, 400, "That page of the image library does not exist.");
			return;
		}
		page = (size_t) v - 1;
	}
	struct media_row *m;
	size_t n;
	if (store_media_list(app->store, r->arena, page * MEDIA_PAGE, MEDIA_PAGE + 1, &m, &n)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	json_t *ctx = admin_context(r, "Images", ADMIN_MEDIA);
	json_t *rows = json_array();
	const char *added = http_query(r, "added");
	for (size_t i = 0; i < n && i < MEDIA_PAGE; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "url", json_string(m[i].url));
		const char *slash = strrchr(m[i].url, '/');
		/* The narrowest variant as the thumbnail. */
		json_object_set_new(
		        o, "thumb",
		        json_string(arena_printf(r->arena, "/media/%s-%d.webp", m[i].hash,
		                                 m[i].width < media_widths[0] ? (int) m[i].width : media_widths[0])));
		json_object_set_new(o, "name", json_string(slash ? slash + 1 : m[i].url));
		json_object_set_new(o, "alt", json_string(m[i].alt));
		json_object_set_new(o, "filename", json_string(m[i].filename));
		json_object_set_new(o, "type", json_string(m[i].type));
		double kb = (double) m[i].bytes / 1024.0;
		const char *dims =
		        arena_printf(r->arena, "%lld × %lld", (long long) m[i].width, (long long) m[i].height);
		json_object_set_new(o, "size",
		                    json_string(kb < 1024 ? arena_printf(r->arena, "%s, %.0f KB", dims, kb < 1 ? 1 : kb)
		                                          : arena_printf(r->arena, "%s, %.1f MB", dims, kb / 1024.0)));
		json_object_set_new(o, "who", json_string(m[i].uploader[0] ? m[i].uploader : "a deleted account"));
		json_object_set_new(o, "when", json_string(admin_time(r->arena, m[i].created_at)));
		json_object_set_new(o, "added", json_boolean(added && !strcmp(added, m[i].hash)));
		json_array_append_new(rows, o);
	}
	json_object_set_new(ctx, "images", rows);
	json_object_set_new(ctx, "any", json_boolean(n > 0));
	if (page)
		json_object_set_new(ctx, "newer",
		                    json_string(page == 1 ? "/admin/media"
		                                          : arena_printf(r->arena, "/admin/media?page=%zu", page)));
	if (n > MEDIA_PAGE)
		json_object_set_new(ctx, "older",
		                    json_string(arena_printf(r->arena, "/admin/media?page=%zu", page + 2)));
	if (added && status == 200)
		json_object_set_new(
		        ctx, "notice",
		        json_string(http_query(r, "again")
		                            ? "That image was already in the library: nothing new was stored."
		                            : "The image was uploaded."));
	json_object_set_new(ctx, "file_error", file_error ? json_string(file_error) : json_null());
	json_object_set_new(ctx, "alt_error", alt_error ? json_string(alt_error) : json_null());
	json_object_set_new(ctx, "alt", json_string(alt ? alt : ""));
	json_object_set_new(ctx, "max_mb", json_integer(MEDIA_MAX_BYTES / (1024 * 1024)));
	admin_send(r, status, "admin-media", ctx);
}

void
h_admin_media(struct http_req *r)
{
	library(r, 200, NULL, NULL, NULL);
}

/* On a defer thread: libvips decodes and resizes, which takes a while. */
static void
upload_work(struct http_req *r, void *arg)
{
	struct upload *u = arg;
	u->rc = media_ingest(u->dir, u->data, u->len, &u->info, u->err, sizeof u->err);
}

static void
upload_done(struct http_req *r, void *arg)
{
	struct app *app = r->app;
	struct upload *u = arg;
	if (u->rc) {
		int status = u->rc == MH_ERR_UNSUPPORTED                          ? 415
		             : u->rc == MH_ERR_TOOBIG && u->len > MEDIA_MAX_BYTES ? 413
		             : u->rc == MH_ERR_IO                                 ? 500
		                                                                  : 422;
		library(r, status, u->err, NULL, u->alt);
		return;
	}
	struct web_ctx *c = web_ctx(r);
	struct media_row row = {
		.hash = u->info.hash,
		.type = media_type_label(u->info.type),
		.width = u->info.width,
		.height = u->info.height,
		.bytes = (int64_t) u->info.bytes,
		.url = media_url(r->arena, &u->info),
		.alt = u->alt,
		.filename = u->filename,
		.uploaded_by = c->member.id,
		.created_at = clock_now(),
	};
	bool added = false;
	if (store_media_add(app->store, &row, &added)) {
		log_error("cannot record an upload", "hash=%s error=\"%s\"", u->info.hash, store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	if (added)
		admin_audit(r, "media.upload", row.url, arena_printf(r->arena, "%s, %s", row.type, u->filename));
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, arena_printf(r->arena, "/admin/media?added=%s%s", u->info.hash, added ? "" : "&again=1"));
}

/* POST /admin/media (multipart/form-data): file and alt. */
void
h_admin_media_upload(struct http_req *r)
{
	if (http_form_malformed(r)) {
		library(r, 400, "The upload did not arrive as a form we can read. Please choose the file again.", NULL,
		        NULL);
		return;
	}
	const struct http_file *f = http_file(r, "file");
	const char *alt = http_form(r, "alt");
	const char *alt_error = NULL, *file_error = NULL;
	char *alt_clean = arena_strdup(r->arena, alt ? alt : "");
	/* Whitespace around the text is nobody's meaning. */
	size_t al = strlen(alt_clean);
	while (al && (alt_clean[al - 1] == ' ' || alt_clean[al - 1] == '\n' || alt_clean[al - 1] == '\r' ||
	              alt_clean[al - 1] == '\t'))
		alt_clean[--al] = '\0';
	while (*alt_clean == ' ' || *alt_clean == '\n' || *alt_clean == '\r' || *alt_clean == '\t')
		alt_clean++;
	if (!f || f->len == 0)
		file_error = "Choose an image file to upload (JPEG, PNG, WebP or GIF).";
	if (!alt_clean[0])
		alt_error = "Describe what the image shows, for readers who cannot see it.";
	else if (strlen(alt_clean) > MEDIA_ALT_MAX)
		alt_error = arena_printf(r->arena, "The description is longer than %d characters.", MEDIA_ALT_MAX);
	else if (strpbrk(alt_clean, "\r\n"))
		alt_error = "The description must be one line.";
	if (file_error || alt_error) {
		library(r, 422, file_error, alt_error, alt);
		return;
	}
	struct upload *u = arena_alloc(r->arena, sizeof *u);
	memset(u, 0, sizeof *u);
	u->dir = media_dir(r);
	u->data = f->data;
	u->len = f->len;
	u->alt = alt_clean;
	/* Kept for the library's reader only: never part of a path. */
	u->filename = f->filename[0] ? f->filename : "(no name)";
	if (strlen(u->filename) > 200)
		u->filename = arena_strndup(r->arena, u->filename, 200);
	http_defer(r, upload_work, upload_done, u);
}

/* GET /media/NAME: a variant, by its content-derived name. Only names of
 * that shape reach the file system, so nothing else in DATA can be read. */
void
h_media(struct http_req *r)
{
	const char *name = r->params[0];
	if (!media_variant_name_valid(name)) {
		app_not_found(r);
		return;
	}
	char *path = arena_concat(r->arena, media_dir(r), "/", name, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t) MEDIA_MAX_BYTES) {
		if (fd >= 0)
			close(fd);
		app_not_found(r);
		return;
	}
	/* The name is the content's hash: the same URL never changes. */
	const char *etag = arena_concat(r->arena, "\"", name, "\"", NULL);
	http_add_header(r, "Cache-Control", "public, max-age=31536000, immutable");
	http_add_header(r, "ETag", etag);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && strstr(inm, etag)) {
		close(fd);
		http_respond_static(r, 304, NULL, "", 0);
		return;
	}
	struct buf b;
	buf_init(&b, MEDIA_MAX_BYTES);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_release(&b);
			close(fd);
			log_error("cannot read an image", "file=%s", name);
			app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
			return;
		}
		if (n == 0)
			break;
		buf_add(&b, chunk, (size_t) n);
	}
	close(fd);
	http_respond(r, 200, "image/webp", &b);
	buf_release(&b);
}
