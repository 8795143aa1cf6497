/* article.h: one imported Markdown file, checked and rendered, ready for
 * store_article_upsert(). */
#ifndef MH_ARTICLE_H
#define MH_ARTICLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

struct article_parse_opts {
	int teaser_paragraphs;
	size_t max_bytes;
	int64_t now; /* published_at when the file gives none */
};

/* Parses src (the whole file). On bad input returns an error and writes
 * "line N: message" into err. Results are allocated from a. */
mh_err article_parse(struct arena *a, const char *src, size_t len, const struct article_parse_opts *opts,
                     struct article_input *out, char *err, size_t errlen);

/* Whether src is an author's profile rather than an article: its front
 * matter says "kind: author". */
bool article_source_is_author(const char *src, size_t len);
/* Parses an author's profile: front matter kind: author, name, slug
 * (optional: made from the name), photo and photo_alt; the body is the bio,
 * plain text. Errors as article_parse. */
mh_err author_parse(struct arena *a, const char *src, size_t len, struct author_profile *out, char *err, size_t errlen);

/* A summary for meta tags: text cut at a word under 200 bytes. */
const char *article_summary(struct arena *a, const char *text);

/* Writes an article back as Markdown with front matter (for export). */
struct buf;
void article_write_markdown(struct buf *b, const struct article_source *src);

#endif
