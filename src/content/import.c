#include "content/import.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/banned.h"

struct progress {
	FILE *out;
	const char *what;
	size_t total;
	double start, last;
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
progress_draw(struct progress *p, size_t done, bool final)
{
	if (!p->out)
		return;
	double t = now_s();
	if (!final && t - p->last < 0.1)
		return;
	p->last = t;
	double rate = t > p->start ? (double) done / (t - p->start) : 0;
	fprintf(p->out, "\r%s %zu/%zu files (%.0f/s)\x1b[K%s", p->what, done, p->total, rate, final ? "\n" : "");
	fflush(p->out);
}

static const struct article_input *sort_arts;

/* By slug, then by position in the import, so the first user of a slug comes first. */
static int
cmp_by_slug(const void *x, const void *y)
{
	size_t a = *(const size_t *) x, b = *(const size_t *) y;
	int c = strcmp(sort_arts[a].slug, sort_arts[b].slug);
	return c ? c : (a > b) - (a < b);
}

/* Reports every file whose slug an earlier file of this import already
 * uses; sorting keeps it n log n for imports of hundreds of thousands. */
static size_t
report_duplicates(const struct import_source *src, const struct article_input *arts, size_t n, FILE *errors)
{
	size_t *order = xmallocarray(n ? n : 1, sizeof *order), m = 0, dups = 0;
	for (size_t i = 0; i < n; i++)
		if (arts[i].slug)
			order[m++] = i;
	sort_arts = arts; /* qsort has no context argument; import runs on one thread */
	qsort(order, m, sizeof *order, cmp_by_slug);
	for (size_t k = 1, first = 0; k < m; k++) {
		if (strcmp(arts[order[first]].slug, arts[order[k]].slug) != 0) {
			first = k;
			continue;
		}
		fprintf(errors, "%s:1: slug '%s' is also used by %s in this import\n", src[order[k]].name,
		        arts[order[k]].slug, src[order[first]].name);
		dups++;
	}
	free(order);
	return dups;
}

/* sizes[i], when given, is the size of the whole file src[i] holds the start of. */
static mh_err
import_checked(struct store *s, const struct import_source *src, const size_t *sizes, size_t n,
               const struct import_opts *o, struct import_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	struct arena *a = arena_new();
	struct article_input *arts = xcalloc(n ? n : 1, sizeof *arts);
	struct progress p = { o->progress, "checking", n, now_s(), 0 };
	mh_err rc = MH_OK;
	char err[512];

	for (size_t i = 0; i < n; i++) {
		mh_err e;
		size_t max = o->parse.max_bytes;
		if (max && src[i].len > max) {
			/* Only the start was read: the message gives the whole file's size. */
			size_t size = sizes && sizes[i] > src[i].len ? sizes[i] : src[i].len;
			snprintf(err, sizeof err, "line 1: file is %zu bytes, over the limit of %zu (max-import-bytes)",
			         size, max);
			e = MH_ERR_TOOBIG;
		} else {
			e = article_parse(a, src[i].data, src[i].len, &o->parse, &arts[i], err, sizeof err);
		}
		if (e) {
			if (p.out)
				fputs("\r\x1b[K", p.out);
			/* err begins "line N: ..."; report it as path:N: ... */
			const char *msg = err;
			long line = 1;
			if (strncmp(err, "line ", 5) == 0) {
				line = strtol(err + 5, (char **) &msg, 10);
				if (*msg == ':')
					msg += 2;
			}
			fprintf(o->errors, "%s:%ld: %s\n", src[i].name, line, msg);
			sum->rejected++;
			arts[i].slug = NULL;
			continue;
		}
		progress_draw(&p, i + 1, false);
	}
	sum->rejected += report_duplicates(src, arts, n, o->errors);
	if (sum->rejected) {
		if (p.out)
			fputs("\r\x1b[K", p.out);
		rc = MH_ERR_INVALID;
		goto out;
	}
	progress_draw(&p, n, true);

	p = (struct progress){ o->progress, "writing", n, now_s(), 0 };
	if ((rc = store_begin(s)))
		goto db_fail;
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		bool created;
		if ((rc = store_article_upsert(s, &arts[i], &id, &created))) {
			fprintf(o->errors, "%s:1: cannot store article: %s\n", src[i].name, store_errmsg(s));
			store_rollback(s);
			memset(sum, 0, sizeof *sum);
			sum->rejected = 1;
			goto out;
		}
		if (created)
			sum->created++;
		else
			sum->updated++;
		progress_draw(&p, i + 1, false);
	}
	if ((rc = store_commit(s))) {
		store_rollback(s);
		memset(sum, 0, sizeof *sum);
		goto db_fail;
	}
	progress_draw(&p, n, true);
	goto out;
db_fail:
	fprintf(o->errors, "import: database error: %s\n", store_errmsg(s));
out:
	free(arts);
	arena_free(a);
	return rc;
}

mh_err
import_sources(struct store *s, const struct import_source *src, size_t n, const struct import_opts *o,
               struct import_summary *sum)
{
	return import_checked(s, src, NULL, n, o, sum);
}

struct pathlist {
	char **v;
	size_t n, cap;
};

static void
pathlist_add(struct pathlist *l, const char *p)
{
	if (l->n == l->cap)
		l->v = xrealloc(l->v, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->v);
	l->v[l->n++] = xstrdup(p);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static mh_err
collect(const char *path, struct pathlist *l, FILE *errors, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(errno));
		return MH_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		pathlist_add(l, path);
		return MH_OK;
	}
	if (depth > 16) {
		fprintf(errors, "%s: folders nest too deep\n", path);
		return MH_ERR_INVALID;
	}
	DIR *d = opendir(path);
	if (!d) {
		fprintf(errors, "%s: cannot read folder: %s\n", path, strerror(errno));
		return MH_ERR_IO;
	}
	struct pathlist here = { 0 };
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		struct buf full = BUF_INIT;
		buf_printf(&full, "%s/%s", path, e->d_name);
		struct stat est;
		if (stat(full.ptr, &est) == 0 &&
		    (S_ISDIR(est.st_mode) || (len > 3 && !strcmp(e->d_name + len - 3, ".md"))))
			pathlist_add(&here, full.ptr);
		buf_release(&full);
	}
	closedir(d);
	if (here.n)
		qsort(here.v, here.n, sizeof *here.v, cmp_str); /* qsort(NULL, 0) is undefined */
	mh_err rc = MH_OK;
	for (size_t i = 0; i < here.n; i++) {
		if (!rc)
			rc = collect(here.v[i], l, errors, depth + 1);
		free(here.v[i]);
	}
	free(here.v);
	return rc;
}

/* Reads at most max + 1 bytes of path into out; *size is the whole file's. */
static mh_err
read_file(const char *path, size_t max, struct import_source *out, size_t *size, FILE *errors)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(errno));
		return MH_ERR_IO;
	}
	size_t keep = max ? max + 1 : BUF_DEFAULT_MAX; /* one byte over the limit says it is too big */
	struct stat st;
	bool sized = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	struct buf b = BUF_INIT;
	buf_init(&b, keep);
	char chunk[65536];
	size_t got, total = 0;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && !buf_error(&b)) {
		total += got;
		buf_add(&b, chunk, got < keep - b.len ? got : keep - b.len);
		if (b.len == keep && sized)
			break; /* too big, and its size is known without reading the rest */
	}
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(errno));
		buf_release(&b);
		return MH_ERR_IO;
	}
	out->name = path;
	*size = sized && (size_t) st.st_size > total ? (size_t) st.st_size : total;
	out->data = buf_detach(&b, &out->len);
	return MH_OK;
}

mh_err
import_paths(struct store *s, char *const *paths, size_t n, const struct import_opts *o, struct import_summary *sum)
{
	struct pathlist l = { 0 };
	mh_err rc = MH_OK;
	memset(sum, 0, sizeof *sum);
	for (size_t i = 0; i < n && !rc; i++) {
		size_t before = l.n;
		struct stat st;
		rc = collect(paths[i], &l, o->errors, 0);
		if (!rc && l.n == before && stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			/* Most likely the wrong folder: saying nothing would look like success. */
			fprintf(o->errors, "%s: no .md files in this folder or below it; nothing was imported\n",
			        paths[i]);
			rc = MH_ERR_NOTFOUND;
		}
	}
	struct import_source *src = xcalloc(l.n ? l.n : 1, sizeof *src);
	size_t *sizes = xcalloc(l.n ? l.n : 1, sizeof *sizes);
	size_t nread = 0;
	for (size_t i = 0; i < l.n && !rc; i++, nread++)
		rc = read_file(l.v[i], o->parse.max_bytes, &src[i], &sizes[i], o->errors);
	if (!rc)
		rc = import_checked(s, src, sizes, l.n, o, sum);
	else
		sum->rejected = 1;
	for (size_t i = 0; i < nread; i++)
		free((char *) src[i].data);
	free(src);
	free(sizes);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}
