/* fuzz_article.c: article_parse on a whole imported Markdown file (front
 * matter, cmark Markdown, quote attribution, teaser split).
 *
 * Invariants on success: slugs (article, authors, tags, speakers) are
 * slug_valid and unique per list; the title is trimmed and non-empty; the
 * HTML is valid UTF-8; no more quotes than the renderer keeps. Then the
 * article goes out through article_write_markdown (what `export` writes)
 * and back in through article_parse: the export must import again to the
 * same article. The teaser must never hold a paywall marker of its own.
 *
 * The same input also goes to the author-profile parser (an import file
 * with "kind: author"): on success its slug is slug_valid, its name trimmed
 * and non-empty, its bio at most 600 bytes of valid UTF-8 with no line
 * breaks, a photo always with its alt text.
 *
 * tests/fuzz/regressions/article/ keeps the inputs that found bugs here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/article.h"
#include "content/frontmatter.h"
#include "content/markdown.h"
#include "content/slug.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/text.h"
#include "fuzz.h"
#include "core/banned.h"

static const struct article_parse_opts opts = { .teaser_paragraphs = 2, .max_bytes = 1 << 20, .now = 1795165200 };

/* What slice_trim() strips. */
static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
check_text(const char *s)
{
	CHECK(s != NULL);
	CHECK(utf8_valid(s, strlen(s), NULL));
}

static void
check_refs(const struct named_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(slug_valid(refs[i].slug));
		CHECK(refs[i].name[0] != '\0');
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(refs[i].slug, refs[k].slug) != 0);
	}
}

/* The teaser on its own holds no top-level paywall marker: if it did, the
 * split went past the marker and gated text is in the teaser. */
static void
check_teaser_has_no_marker(struct arena *a, const struct article_input *in)
{
	struct md_article m;
	md_render_article(a, in->teaser_md, strlen(in->teaser_md), 1 << 30, &m);
	CHECK(!m.has_marker);
}

static void
check_article(const struct article_input *in)
{
	CHECK(slug_valid(in->slug));
	size_t tl = strlen(in->title);
	CHECK(tl > 0 && !is_space(in->title[0]) && !is_space(in->title[tl - 1]));
	CHECK(in->access == ACCESS_PUBLIC || in->access == ACCESS_MEMBERS || in->access == ACCESS_PAID);
	check_text(in->teaser_html);
	check_text(in->gated_html);
	check_text(in->teaser_md);
	check_text(in->gated_md);
	check_text(in->summary);
	CHECK(in->dek != NULL);
	check_refs(in->authors, in->n_authors);
	check_refs(in->tags, in->n_tags);
	CHECK(in->n_quotes <= 256);
	for (size_t i = 0; i < in->n_quotes; i++) {
		const struct quote_input *q = &in->quotes[i];
		CHECK(slug_valid(q->speaker_slug));
		check_text(q->speaker_name);
		check_text(q->role);
		check_text(q->text_html);
	}
}

static int
same_refs(const struct named_ref *a, size_t na, const struct named_ref *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].slug, b[i].slug) != 0 || strcmp(a[i].name, b[i].name) != 0)
			return 0;
	return 1;
}

/* What the store would hand export for this article. */
static void
to_source(const struct article_input *in, struct article_source *src)
{
	memset(src, 0, sizeof *src);
	src->a.slug = in->slug;
	src->a.title = in->title;
	src->a.dek = in->dek;
	src->a.summary = in->summary;
	src->a.access = in->access;
	src->a.published_at = in->published_at;
	src->a.updated_at = in->updated_at;
	src->a.teaser_html = in->teaser_html;
	src->a.has_gated = in->gated_md[0] != '\0';
	src->a.authors = in->authors;
	src->a.n_authors = in->n_authors;
	src->a.tags = in->tags;
	src->a.n_tags = in->n_tags;
	src->teaser_md = in->teaser_md;
	src->gated_md = in->gated_md;
	src->has_marker = in->has_marker;
}

static void
check_round_trip(struct arena *a, const struct article_input *in)
{
	struct article_source src;
	struct buf md = BUF_INIT;
	struct article_input again;
	char err[512] = "";

	to_source(in, &src);
	article_write_markdown(&md, &src);
	CHECK(buf_error(&md) == MH_OK);
	mh_err rc = article_parse(a, md.ptr, md.len, &opts, &again, err, sizeof err);
	if (rc != MH_OK) {
		fprintf(stderr, "export does not import again: %s\n--- export:\n%s\n---\n", err, md.ptr);
		abort();
	}
	CHECK(strcmp(again.slug, in->slug) == 0);
	CHECK(strcmp(again.title, in->title) == 0);
	CHECK(strcmp(again.dek, in->dek) == 0);
	CHECK(again.access == in->access);
	CHECK(again.published_at == in->published_at);
	CHECK(again.updated_at == in->updated_at);
	CHECK(same_refs(again.authors, again.n_authors, in->authors, in->n_authors));
	CHECK(same_refs(again.tags, again.n_tags, in->tags, in->n_tags));
	CHECK(strcmp(again.teaser_md, in->teaser_md) == 0);
	CHECK(strcmp(again.gated_md, in->gated_md) == 0);
	CHECK(strcmp(again.teaser_html, in->teaser_html) == 0);
	CHECK(strcmp(again.gated_html, in->gated_html) == 0);
	CHECK(again.n_quotes == in->n_quotes);
	buf_release(&md);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct article_input in;
	char err[512];

	memset(err, 'x', sizeof err);
	mh_err rc = article_parse(a, (const char *) data, size, &opts, &in, err, sizeof err);
	if (rc == MH_OK) {
		check_article(&in);
		check_teaser_has_no_marker(a, &in);
		check_round_trip(a, &in);
	} else {
		CHECK(memchr(err, '\0', sizeof err) != NULL);
		CHECK(strncmp(err, "line ", 5) == 0);
	}
	/* The import tells the two apart by this check; either parser must
	 * take any input without harm. */
	(void) article_source_is_author((const char *) data, size);
	struct author_profile p;
	memset(err, 'x', sizeof err);
	if (author_parse(a, (const char *) data, size, &p, err, sizeof err) == MH_OK) {
		CHECK(slug_valid(p.slug));
		check_text(p.name);
		CHECK(p.name[0] && !is_space(p.name[0]) && !is_space(p.name[strlen(p.name) - 1]));
		check_text(p.bio);
		CHECK(strlen(p.bio) <= 600 && !strpbrk(p.bio, "\r\n"));
		CHECK(!p.photo[0] || p.photo_alt[0]);
	} else {
		CHECK(memchr(err, '\0', sizeof err) != NULL);
		CHECK(strncmp(err, "line ", 5) == 0);
	}
	arena_free(a);
	return 0;
}
