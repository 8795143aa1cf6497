/* substack.c: a Substack export, the zip Substack mails or the folder it
 * unpacks to: posts.csv (post_id "<id>.<slug>", post_date, is_published,
 * type, audience, title, subtitle...), posts/<id>.<slug>.html, and the
 * subscribers' CSV (email_list*.csv). The zip is read through libzip, each
 * member at most MAX_ENTRY bytes however small it is packed. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/text.h"
#include "importers/site.h"
#include "model/content.h"
#include "core/banned.h"

#define MAX_ENTRY ((size_t) 64 << 20)

struct source {
	zip_t *zip;      /* or */
	const char *dir; /* a folder */
};

/* The bytes of name inside the export (free them); false when absent. */
static bool
source_get(const struct source *src, const char *name, char **out, size_t *len)
{
	if (src->zip) {
		zip_int64_t i = zip_name_locate(src->zip, name, 0);
		zip_stat_t st;
		if (i < 0 || zip_stat_index(src->zip, (zip_uint64_t) i, 0, &st) != 0)
			return false;
		if (!(st.valid & ZIP_STAT_SIZE) || st.size > MAX_ENTRY) {
			fprintf(stderr, "%s: larger than %zu bytes\n", name, MAX_ENTRY);
			return false;
		}
		zip_file_t *f = zip_fopen_index(src->zip, (zip_uint64_t) i, 0);
		if (!f)
			return false;
		char *b = malloc(st.size + 1);
		if (!b)
			abort();
		zip_int64_t got = zip_fread(f, b, st.size);
		zip_fclose(f);
		if (got < 0 || (zip_uint64_t) got != st.size) {
			free(b);
			fprintf(stderr, "%s: cannot be unpacked\n", name);
			return false;
		}
		b[st.size] = '\0';
		*out = b;
		*len = st.size;
		return true;
	}
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", src->dir, name);
	struct stat st;
	bool ok = stat(p.ptr, &st) == 0 && S_ISREG(st.st_mode) && site_read_file(p.ptr, MAX_ENTRY, out, len);
	buf_release(&p);
	return ok;
}

/* The names at the top of the export that start with prefix and end in .csv. */
static size_t
source_csvs(struct site_data *d, const struct source *src, const char *prefix, const char **out, size_t max)
{
	size_t n = 0;
	if (src->zip) {
		zip_int64_t count = zip_get_num_entries(src->zip, 0);
		for (zip_int64_t i = 0; i < count && n < max; i++) {
			const char *name = zip_get_name(src->zip, (zip_uint64_t) i, 0);
			size_t len = name ? strlen(name) : 0;
			if (len > 4 && !strncmp(name, prefix, strlen(prefix)) && !strchr(name, '/') &&
			    !strcasecmp(name + len - 4, ".csv"))
				out[n++] = arena_strdup(d->a, name);
		}
		return n;
	}
	DIR *dir = opendir(src->dir);
	struct dirent *e;
	while (dir && (e = readdir(dir)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len > 4 && !strncmp(e->d_name, prefix, strlen(prefix)) && !strcasecmp(e->d_name + len - 4, ".csv"))
			out[n++] = arena_strdup(d->a, e->d_name);
	}
	if (dir)
		closedir(dir);
	return n;
}

static int
col(char **head, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(head[i], name))
			return (int) i;
	return -1;
}

static const char *
fld(char **f, size_t n, int c)
{
	return c >= 0 && (size_t) c < n ? f[c] : "";
}

static void
read_posts(struct site_data *d, const struct source *src, const char *data, size_t len)
{
	struct csv c;
	csv_init(&c, data, len);
	char **head, **f;
	size_t nh, n;
	int line, rc;
	if (csv_next(&c, d->a, &head, &nh, &line) != 1) {
		site_issue(d, "posts.csv: no header line");
		return;
	}
	int c_id = col(head, nh, "post_id"), c_date = col(head, nh, "post_date"), c_pub = col(head, nh, "is_published"),
	    c_type = col(head, nh, "type"), c_aud = col(head, nh, "audience"), c_title = col(head, nh, "title"),
	    c_sub = col(head, nh, "subtitle");
	if (c_id < 0 || c_title < 0) {
		site_issue(d, "posts.csv: the header lacks post_id or title; no post read");
		return;
	}
	while ((rc = csv_next(&c, d->a, &f, &n, &line)) != 0) {
		if (rc < 0 || n != nh) {
			site_issue(d, "posts.csv:%d: malformed row; skipped", line);
			continue;
		}
		const char *id = fld(f, n, c_id), *type = fld(f, n, c_type);
		if (!strcmp(type, "thread")) {
			site_issue(d, "posts.csv:%d: post %s is a discussion thread; not imported", line, id);
			continue;
		}
		struct site_post *p = site_post_new(d);
		p->source_id = id;
		const char *dot = strchr(id, '.');
		p->slug = dot ? dot + 1 : NULL;
		p->where = arena_printf(d->a, "posts.csv:%d (post %s)", line, id);
		p->title = fld(f, n, c_title);
		p->dek = fld(f, n, c_sub);
		int64_t t = 0;
		p->published_at = time_parse_iso8601(fld(f, n, c_date), &t) ? t : 0;
		p->draft = c_pub >= 0 && strcasecmp(fld(f, n, c_pub), "true") != 0;
		const char *aud = fld(f, n, c_aud);
		p->access = !strcmp(aud, "only_paid")   ? ACCESS_PAID
		            : !strcmp(aud, "only_free") ? ACCESS_MEMBERS
		                                        : ACCESS_PUBLIC;
		char *html;
		size_t hlen;
		const char *file = arena_concat(d->a, "posts/", id, ".html", NULL);
		if (source_get(src, file, &html, &hlen)) {
			p->html = arena_strndup(d->a, html, hlen);
			free(html);
		} else {
			p->why = arena_printf(d->a, "its body %s is not in the export", file);
		}
		if (p->slug)
			p->old_paths[p->n_old++] = arena_concat(d->a, "/p/", p->slug, NULL);
	}
}

bool
site_read_substack(struct site_data *d, const char *path)
{
	struct source src = { 0 };
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		src.dir = path;
	} else {
		int err = 0;
		src.zip = zip_open(path, ZIP_RDONLY, &err);
		if (!src.zip) {
			zip_error_t ze;
			zip_error_init_with_code(&ze, err);
			fprintf(stderr, "%s: not a zip file: %s\n", path, zip_error_strerror(&ze));
			zip_error_fini(&ze);
			return false;
		}
	}
	char *data;
	size_t len;
	bool ok = source_get(&src, "posts.csv", &data, &len);
	if (!ok) {
		fprintf(stderr, "%s: not a Substack export: no posts.csv at its top\n", path);
	} else {
		read_posts(d, &src, data, len);
		free(data);
		const char *lists[8];
		size_t n = source_csvs(d, &src, "email_list", lists, 8);
		n += source_csvs(d, &src, "subscribers", lists + n, 8 - n);
		for (size_t i = 0; i < n; i++) {
			if (source_get(&src, lists[i], &data, &len)) {
				site_members_csv(d, lists[i], data, len);
				free(data);
			}
		}
	}
	if (src.zip)
		zip_discard(src.zip);
	return ok;
}
