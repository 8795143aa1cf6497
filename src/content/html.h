/* html.h: an article body from another platform's HTML to the Markdown
 * masthead stores, through gumbo (the HTML5 parsing algorithm, so broken
 * markup is repaired the way a browser repairs it) and an allow-list.
 *
 * Kept: headings, paragraphs, line breaks, lists (nested), links (http,
 * https, mailto and same-site paths), emphasis, code, images with alt
 * text, figures with captions, blockquotes, rules. A blockquote ending in a
 * citation (<cite>, or a last line starting with an em dash) becomes
 * "> — Name, Role", which markdown.c turns into a structured quote.
 * Embeds (iframe, video, audio, Twitter blocks) become links. script,
 * style, forms, svg, objects and their content are dropped; any other
 * element is unwrapped (its text kept, never its markup). Text is escaped
 * so that nothing in it can turn into Markdown or HTML. */
#ifndef MH_HTML_H
#define MH_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

/* Deeper nesting than this (counted on the raw text, before parsing) is
 * refused rather than parsed: gumbo recurses over the tree. */
#define HTML_MAX_DEPTH 400

struct html_opts {
	/* Comment texts (trimmed) that mark the paywall point, NULL-terminated:
	 * "members-only" for Ghost, "more" for WordPress. NULL: none. */
	const char *const *marker_comments;
	bool marker_divs; /* Substack's <div class="paywall-jump"> marks it too */
	/* A prefix of links and image sources replaced by another:
	 * "__GHOST_URL__" by "" for links (same-site paths) and by img_to for
	 * images (NULL: ""). NULL: nothing replaced. */
	const char *url_from, *img_to;
};

struct html_result {
	const char *md;  /* from the arena; the marker line as "<!-- paywall -->" */
	int markers;     /* paywall points seen (only the first is kept) */
	size_t dropped;  /* elements dropped with their content, or links and images refused */
	bool has_marker; /* markers > 0 and the marker line was written */
};

/* Converts html[0..len). MH_ERR_TOOBIG when it nests deeper than
 * HTML_MAX_DEPTH (nothing converted). */
mh_err html_to_markdown(struct arena *a, const char *html, size_t len, const struct html_opts *o,
                        struct html_result *out);

/* Whether a link target is one masthead keeps: http:, https:, mailto:, or
 * a path on this site ("/x", "#x"); nothing with control characters. */
bool html_url_allowed(const char *url, bool image);

#endif
