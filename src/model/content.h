/* content.h: articles, their authors, tags and quotes, as every front door sees
 * them. Types only: what reads or changes them lives in content/ and store/. */
#ifndef MH_MODEL_CONTENT_H
#define MH_MODEL_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum access_level { ACCESS_PUBLIC = 0, ACCESS_MEMBERS = 1, ACCESS_PAID = 2 };
const char *access_level_name(enum access_level a);
/* Returns -1 when s names no level. */
int access_level_parse(const char *s);

struct named_ref {
	const char *slug;
	const char *name;
};

/* A story's feature image; src "" for none. */
struct article_image {
	const char *src; /* https://..., http://... or a path on this site */
	const char *alt, *caption, *credit;
};

struct article {
	int64_t id;
	const char *slug;
	const char *title;
	const char *dek;
	const char *summary; /* plain text for meta tags: dek or the first teaser paragraph */
	enum access_level access;
	int64_t published_at;
	int64_t updated_at;
	const char *teaser_html; /* NULL in listings */
	bool has_gated;          /* there is a gated part after the teaser */
	bool featured;           /* the editors' pick: the front page's lead */
	struct article_image image;
	struct named_ref *authors;
	size_t n_authors;
	struct named_ref *tags;
	size_t n_tags;
};

/* What import hands the store: all of one article, gated part included. */
struct quote_input {
	const char *speaker_slug;
	const char *speaker_name;
	const char *role;
	const char *text_html;
	bool gated;
};

struct article_input {
	const char *slug, *title, *dek, *summary;
	enum access_level access;
	int64_t published_at, updated_at;
	const char *teaser_md, *teaser_html;
	const char *gated_md, *gated_html;
	bool has_marker; /* the source split at <!-- paywall --> */
	bool featured;
	struct article_image image; /* fields may be NULL: none */
	struct named_ref *authors;
	size_t n_authors;
	struct named_ref *tags;
	size_t n_tags;
	struct quote_input *quotes;
	size_t n_quotes;
};

/* For export: the sources, gated part included. Operator-only path. */
struct article_source {
	struct article a;
	const char *teaser_md;
	const char *gated_md;
	bool has_marker;
};

enum list_kind { LIST_ALL, LIST_TAG, LIST_AUTHOR };

struct article_filter {
	enum list_kind kind;
	const char *slug; /* the tag or author */
	int64_t before;   /* only published_at <= before (0: no bound) */
	size_t limit;
	size_t offset;
};

struct speaker {
	int64_t id;
	const char *slug;
	const char *name;
	const char *role;
};

struct quote {
	int64_t id;
	int64_t article_id;
	const char *text_html; /* NULL when the quote sits in a gated part */
	const char *role;
	bool gated;
	struct article article; /* title, slug, access, published_at only */
};

/* An author's profile (an import file with "kind: author"). */
struct author_profile {
	const char *slug, *name;
	const char *bio;               /* plain text, a short paragraph; "" for none */
	const char *photo, *photo_alt; /* "" for none */
};

/* An old site's address and where it now lives (import-site). */
struct redirect {
	const char *old_path, *new_path, *source;
	int64_t created_at;
};

#endif
