/* markdown.h: an article body from Markdown to stored HTML, through cmark
 * (never with its unsafe option: raw HTML is dropped).
 *
 * The body splits into a teaser and a gated part: at a line holding only
 * <!-- paywall -->, or else after the first teaser_paragraphs paragraphs.
 * Blockquotes whose last line starts with an em dash (or --) name their
 * speaker: they render as <figure class="quote"> with a citation and are
 * returned as quotes. Everything is allocated from the arena given. */
#ifndef MH_MARKDOWN_H
#define MH_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "store/store.h"

struct md_article {
	const char *teaser_md, *gated_md;
	const char *teaser_html, *gated_html;
	const char *first_paragraph; /* plain text, for summaries */
	bool has_marker;
	int marker_line;        /* 1-based line of md holding the marker, 0: none */
	int second_marker_line; /* a second marker's line (an error for importers), 0: none */
	struct quote_input *quotes;
	size_t n_quotes;
};

void md_render_article(struct arena *a, const char *md, size_t len, int teaser_paragraphs, struct md_article *out);
/* Renders one Markdown fragment (no split, no quotes) to HTML. */
const char *md_render_html(struct arena *a, const char *md, size_t len);

#endif
