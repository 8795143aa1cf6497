/* site.h: a whole publication moving in (masthead import-site).
 *
 * Each reader (ghost.c, wordpress.c, substack.c) turns its export into the
 * plain values below; site_run checks and converts them all, reports, and
 * (unless it is a dry run) writes everything in one transaction: articles
 * by slug, old addresses as redirects, members by e-mail (the one e-mail
 * rule, case-insensitive), comp, newsletter consent and Stripe customers
 * through the billing provider interface. See docs/import-site.md. */
#ifndef MH_SITE_H
#define MH_SITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "content/html.h"
#include "core/arena.h"
#include "core/config.h"
#include "store/store.h"

/* What an unpublished draft is stored at: a time no page ever reaches, so
 * nothing lists or serves it (9999-12-31T23:59:59Z). */
#define SITE_DRAFT_TIME INT64_C(253402300799)
/* How long an imported comp lasts: the old platforms' comps do not end. */
#define SITE_COMP_FOREVER SITE_DRAFT_TIME
#define SITE_MAX_PATHS    4

struct site_post {
	const char *where;     /* for messages: "post 'slug' (id 12)" */
	const char *source_id; /* the old platform's id */
	const char *slug, *title, *dek;
	const char *html;                              /* the body as HTML (NULL when md is given) */
	const char *md;                                /* or already Markdown */
	const char *image, *image_alt, *image_caption; /* feature image */
	int access;                                    /* enum access_level; -1: unmappable (why says) */
	const char *why;                               /* set: unmappable, with this reason */
	bool draft, page;
	int64_t published_at, updated_at;
	struct named_ref *authors, *tags;
	size_t n_authors, n_tags;
	const char *old_paths[SITE_MAX_PATHS];
	size_t n_old;
};

struct site_member {
	const char *where; /* "members.csv:12" */
	const char *email, *name;
	bool comped, newsletter, newsletter_known, paying;
	const char *stripe_customer; /* "" or NULL: none */
	int64_t created_at;
};

/* An old listing's address (a tag, an author) and the new one. */
struct site_redirect {
	const char *from, *to;
};

struct site_data {
	struct arena *a;
	const char *source; /* "ghost", "wordpress", "substack" */
	struct html_opts html;
	struct site_post *posts;
	size_t n_posts, cap_posts;
	struct site_member *members;
	size_t n_members, cap_members;
	struct site_redirect *redirects; /* besides the posts' own (old_paths) */
	size_t n_redirects, cap_redirects;
	char **issues; /* unmappable rows and items, with their reasons */
	size_t n_issues, cap_issues;
	int64_t default_time; /* for items without a date */
};

void site_data_init(struct site_data *d, const char *source);
void site_data_release(struct site_data *d);
struct site_post *site_post_new(struct site_data *d);
struct site_member *site_member_new(struct site_data *d);
void site_issue(struct site_data *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* from (an old path) answers 301 with kind ("tags", "authors") and the
 * slug masthead makes of name. Duplicates are fine. */
void site_redirect_named(struct site_data *d, const char *from, const char *kind, const char *name);

/* A named_ref list from names (slugs made from them); NULL names skipped. */
size_t site_names(struct site_data *d, const char *const *names, size_t n, struct named_ref **out);

struct site_opts {
	bool dry_run;
	int teaser_paragraphs;
	int64_t now;
	FILE *out;      /* the report */
	FILE *progress; /* a terminal for the progress line, or NULL */
	const struct config *cfg;
};

/* Checks, reports and (unless dry_run) writes d in one transaction. Returns
 * a cli exit code: 0 done, 1 the database failed (nothing written). */
int site_run(struct store *s, struct site_data *d, const struct site_opts *o);

/* Reads a whole file (at most max bytes) into *out (free it); a message on
 * stderr and false when it cannot. */
bool site_read_file(const char *path, size_t max, char **out, size_t *len);

/* The members' CSV files of Ghost and Substack (by their header). */
void site_members_csv(struct site_data *d, const char *name, const char *data, size_t len);

/* The readers. Each returns false (a message on stderr) when the export
 * cannot be read at all; items it cannot map go to site_issue. */
bool site_read_ghost(struct site_data *d, const char *path);
bool site_read_wordpress(struct site_data *d, const char *path, bool paywall_at_more, int access);
bool site_read_substack(struct site_data *d, const char *path);

#endif
