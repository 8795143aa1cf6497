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

/* Where the sources come from: memory (the demo) or files read one at a
 * time, so an import holds one file's text at once. */
struct import_feed {
	size_t count;
	/* Source i, and the size of the whole file when only its start was read. */
	mh_err (*get)(const struct import_feed *f, size_t i, struct import_source *out, size_t *size);
	void (*put)(const struct import_feed *f, size_t i, struct import_source *src);
	const char *(*name)(const struct import_feed *f, size_t i);
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

/* The slugs seen so far, for the check that no two files of one import
 * share one: a few dozen bytes an article, all that grows with the count. */
struct seen {
	char *slug;
	size_t index;
};

static int
cmp_by_slug(const void *x, const void *y)
{
	const struct seen *a = x, *b = y;
	int c = strcmp(a->slug, b->slug);
	return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* Reports every file whose slug an earlier file of this import already
 * uses; sorting keeps it n log n for imports of hundreds of thousands. */
static size_t
report_duplicates(const struct import_feed *f, struct seen *v, size_t m, FILE *errors)
{
	if (m)
		qsort(v, m, sizeof *v, cmp_by_slug);
	size_t dups = 0;
	for (size_t k = 1, first = 0; k < m; k++) {
		if (strcmp(v[first].slug, v[k].slug) != 0) {
			first = k;
			continue;
		}
		fprintf(errors, "%s:1: slug '%s' is also used by %s in this import\n", f->name(f, v[k].index),
		        v[k].slug, f->name(f, v[first].index));
		dups++;
	}
	return dups;
}

/* Articles parsed between two releases of the parse arena: what memory an
 * import holds beyond the slugs, whatever the number of files. */
#define IMPORT_BATCH 256

/* One pass: each file is read, parsed, rendered and written inside one
 * transaction, then dropped; a bad file stops the writing but not the
 * checking (every bad file is reported), and the transaction is rolled
 * back at the end, so the import is still all or nothing. */
static mh_err
import_feed(struct store *s, const struct import_feed *f, const struct import_opts *o, struct import_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	size_t n = f->count;
	struct arena *a = arena_new();
	struct arena *slugs = arena_new();
	struct seen *seen = xmallocarray(n ? n : 1, sizeof *seen);
	size_t nseen = 0;
	struct progress p = { o->progress, "importing", n, now_s(), 0 };
	mh_err rc = MH_OK;
	bool writing = true, in_txn = false;
	char err[512];

	if ((rc = store_begin(s)))
		goto db_fail;
	in_txn = true;
	for (size_t i = 0; i < n; i++) {
		struct import_source src;
		size_t size = 0;
		if ((rc = f->get(f, i, &src, &size))) {
			sum->rejected++;
			goto out; /* the reader said why */
		}
		struct article_input art;
		struct author_profile prof;
		bool profile = false;
		mh_err e;
		size_t max = o->parse.max_bytes;
		if (max && src.len > max) {
			/* Only the start was read: the message gives the whole file's size. */
			snprintf(err, sizeof err, "line 1: file is %zu bytes, over the limit of %zu (max-import-bytes)",
			         size > src.len ? size : src.len, max);
			e = MH_ERR_TOOBIG;
		} else if ((profile = article_source_is_author(src.data, src.len))) {
			e = author_parse(a, src.data, src.len, &prof, err, sizeof err);
		} else {
			e = article_parse(a, src.data, src.len, &o->parse, &art, err, sizeof err);
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
			fprintf(o->errors, "%s:%ld: %s\n", src.name, line, msg);
			sum->rejected++;
			writing = false;
		} else if (profile) {
			/* An author's profile: its own slugs, not an article's. */
			if (writing && (rc = store_author_put(s, &prof))) {
				fprintf(o->errors, "%s:1: cannot store the author's profile: %s\n", src.name,
				        store_errmsg(s));
				f->put(f, i, &src);
				memset(sum, 0, sizeof *sum);
				sum->rejected = 1;
				goto out;
			}
			if (writing)
				sum->authors++;
		} else {
			seen[nseen++] = (struct seen){ arena_strdup(slugs, art.slug), i };
			if (writing) {
				int64_t id;
				bool created;
				if ((rc = store_article_upsert(s, &art, &id, &created))) {
					fprintf(o->errors, "%s:1: cannot store article: %s\n", src.name,
					        store_errmsg(s));
					f->put(f, i, &src);
					memset(sum, 0, sizeof *sum);
					sum->rejected = 1;
					goto out;
				}
				if (created)
					sum->created++;
				else
					sum->updated++;
			}
		}
		f->put(f, i, &src);
		if ((i + 1) % IMPORT_BATCH == 0) {
			arena_free(a);
			a = arena_new();
		}
		progress_draw(&p, i + 1, false);
	}
	sum->rejected += report_duplicates(f, seen, nseen, o->errors);
	if (sum->rejected) {
		if (p.out)
			fputs("\r\x1b[K", p.out);
		rc = MH_ERR_INVALID;
		goto out;
	}
	in_txn = false;
	if ((rc = store_commit(s))) {
		store_rollback(s);
		goto db_fail;
	}
	progress_draw(&p, n, true);
	goto out;
db_fail:
	fprintf(o->errors, "import: database error: %s\n", store_errmsg(s));
	memset(sum, 0, sizeof *sum);
out:
	if (rc && in_txn)
		store_rollback(s);
	if (rc && rc != MH_ERR_INVALID && !sum->rejected)
		sum->rejected = 1;
	if (rc == MH_ERR_INVALID)
		sum->created = sum->updated = sum->authors = 0;
	free(seen);
	arena_free(slugs);
	arena_free(a);
	return rc;
}

struct sources_feed {
	struct import_feed f;
	const struct import_source *src;
};

static mh_err
sources_get(const struct import_feed *f, size_t i, struct import_source *out, size_t *size)
{
	const struct sources_feed *sf = (const struct sources_feed *) f;
	*out = sf->src[i];
	*size = out->len;
	return MH_OK;
}

static void
sources_put(const struct import_feed *f, size_t i, struct import_source *src)
{
	(void) f;
	(void) i;
	(void) src;
}

static const char *
sources_name(const struct import_feed *f, size_t i)
{
	return ((const struct sources_feed *) f)->src[i].name;
}

mh_err
import_sources(struct store *s, const struct import_source *src, size_t n, const struct import_opts *o,
               struct import_summary *sum)
{
	struct sources_feed sf = { { n, sources_get, sources_put, sources_name }, src };
	return import_feed(s, &sf.f, o, sum);
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

struct files_feed {
	struct import_feed f;
	char **paths;
	size_t max_bytes;
	FILE *errors;
};

static mh_err
files_get(const struct import_feed *f, size_t i, struct import_source *out, size_t *size)
{
	const struct files_feed *ff = (const struct files_feed *) f;
	return read_file(ff->paths[i], ff->max_bytes, out, size, ff->errors);
}

static void
files_put(const struct import_feed *f, size_t i, struct import_source *src)
{
	(void) f;
	(void) i;
	free((char *) src->data);
	src->data = NULL;
}

static const char *
files_name(const struct import_feed *f, size_t i)
{
	return ((const struct files_feed *) f)->paths[i];
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
	if (!rc) {
		/* Files are read one at a time as the import reaches them. */
		struct files_feed ff = {
			{ l.n, files_get, files_put, files_name }, l.v, o->parse.max_bytes, o->errors
		};
		rc = import_feed(s, &ff.f, o, sum);
	} else {
		sum->rejected = 1;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}
