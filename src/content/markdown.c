#include "content/markdown.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>

#include "content/slug.h"
#include "core/buf.h"
#include "core/slice.h"
#include "core/banned.h"

#define MD_OPTS    (CMARK_OPT_SMART)
#define MAX_QUOTES 256

static bool
is_marker(cmark_node *n)
{
	if (cmark_node_get_type(n) != CMARK_NODE_HTML_BLOCK)
		return false;
	return slice_eq_str(slice_trim(slice_from(cmark_node_get_literal(n))), "<!-- paywall -->");
}

/* The 1-based line at which the gated part starts, 0 for none; *marker is
 * set when a paywall marker line decided it, *second to the line of a
 * second marker (0: none), which the caller refuses. */
static int
split_line(cmark_node *doc, int teaser_paragraphs, bool *marker, int *second)
{
	int first = 0;
	*marker = false;
	*second = 0;
	for (cmark_node *n = cmark_node_first_child(doc); n && !*second; n = cmark_node_next(n)) {
		if (!is_marker(n))
			continue;
		if (first)
			*second = cmark_node_get_start_line(n);
		else
			first = cmark_node_get_start_line(n);
	}
	if (first) {
		*marker = true;
		return first;
	}
	int paragraphs = 0;
	for (cmark_node *n = cmark_node_first_child(doc); n; n = cmark_node_next(n)) {
		if (paragraphs >= teaser_paragraphs)
			return cmark_node_get_start_line(n);
		if (cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH)
			paragraphs++;
	}
	return 0;
}

/* Where the line after the one at i starts. Lines end as cmark ends them:
 * at "\n", "\r\n" or a lone "\r" (a mismatch would move the cut). */
static size_t
next_line(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '\n' && s[i] != '\r')
		i++;
	if (i < len && s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
		i++;
	return i < len ? i + 1 : len;
}

/* Byte offset of the start of 1-based line `line`. */
static size_t
line_offset(const char *s, size_t len, int line)
{
	size_t i = 0;
	for (int l = 1; l < line && i < len; l++)
		i = next_line(s, len, i);
	return i;
}

/* Drops blank lines before the first text and white space after the last,
 * keeping the first line's indentation (an indented code block stays one). */
static struct slice
trim_part(struct slice p)
{
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < p.len && (p.ptr[j] == ' ' || p.ptr[j] == '\t'))
			j++;
		if (j < p.len && (p.ptr[j] == '\n' || p.ptr[j] == '\r')) {
			i = next_line(p.ptr, p.len, j);
			continue;
		}
		if (j == p.len)
			i = p.len;
		break;
	}
	struct slice out = { p.ptr + i, p.len - i };
	while (out.len && strchr(" \t\r\n", out.ptr[out.len - 1]))
		out.len--;
	return out;
}

/* Appends the plain text of an inline subtree. */
static void
inline_text(cmark_node *n, struct buf *b)
{
	for (; n; n = cmark_node_next(n)) {
		cmark_node_type t = cmark_node_get_type(n);
		if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE)
			buf_puts(b, cmark_node_get_literal(n));
		else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK)
			buf_putc(b, ' ');
		else
			inline_text(cmark_node_first_child(n), b);
	}
}

struct qctx {
	struct arena *a;
	bool gated;
	struct quote_input *quotes;
	size_t n;
};

/* Turns an attributed blockquote into a figure; returns true when it was one. */
static bool
attribute(struct qctx *q, cmark_node *bq)
{
	cmark_node *para = cmark_node_last_child(bq);
	if (!para || cmark_node_get_type(para) != CMARK_NODE_PARAGRAPH || q->n == MAX_QUOTES)
		return false;
	/* The citation is the paragraph's last line: what follows its last break. */
	cmark_node *from = cmark_node_first_child(para), *brk = NULL;
	for (cmark_node *n = from; n; n = cmark_node_next(n)) {
		cmark_node_type t = cmark_node_get_type(n);
		if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK)
			brk = n;
	}
	if (brk)
		from = cmark_node_next(brk);
	struct buf line = BUF_INIT;
	inline_text(from, &line);
	struct slice s = slice_trim(buf_slice(&line));
	/* An em dash, an en dash (what --  becomes with smart punctuation) or --. */
	static const char *dashes[] = { "\xe2\x80\x94", "\xe2\x80\x93", "--" };
	bool cited = false;
	for (size_t i = 0; i < 3 && !cited; i++) {
		if (slice_starts_with(s, dashes[i])) {
			s.ptr += strlen(dashes[i]);
			s.len -= strlen(dashes[i]);
			cited = true;
		}
	}
	struct slice name, role = slice_trim(s);
	slice_split(&role, ',', &name);
	name = slice_trim(name);
	role = slice_trim(role);
	char slug[SLUG_MAX + 1];
	char *name_z = arena_strndup(q->a, name.ptr, name.len);
	if (!cited || name.len == 0 || name.len > 120 || role.len > 300 || !slug_from(name_z, slug, sizeof slug) ||
	    (!brk && para == cmark_node_first_child(bq))) {
		buf_release(&line);
		return false;
	}
	struct quote_input *qi = &q->quotes[q->n++];
	qi->speaker_name = name_z;
	qi->speaker_slug = arena_strdup(q->a, slug);
	qi->role = arena_strndup(q->a, role.ptr, role.len);
	qi->gated = q->gated;
	buf_release(&line);

	/* Drop the citation line (or its whole paragraph). */
	if (brk) {
		cmark_node *n = brk;
		while (n) {
			cmark_node *next = cmark_node_next(n);
			cmark_node_free(n);
			n = next;
		}
	} else {
		cmark_node_free(para);
	}
	char *inner = cmark_render_html(bq, MD_OPTS);
	qi->text_html = arena_strdup(q->a, inner);
	free(inner);

	struct buf enter = BUF_INIT, exit = BUF_INIT;
	buf_puts(&enter, "<figure class=\"quote\">\n<blockquote>");
	buf_puts(&exit, "</blockquote>\n<figcaption>\xe2\x80\x94 <a href=\"/people/");
	buf_puts(&exit, qi->speaker_slug);
	buf_puts(&exit, "\">");
	buf_add_html(&exit, qi->speaker_name, strlen(qi->speaker_name));
	buf_puts(&exit, "</a>");
	if (qi->role[0]) {
		buf_puts(&exit, ", <span class=\"role\">");
		buf_add_html(&exit, qi->role, strlen(qi->role));
		buf_puts(&exit, "</span>");
	}
	buf_puts(&exit, "</figcaption>\n</figure>");
	cmark_node *fig = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
	cmark_node_set_on_enter(fig, enter.ptr);
	cmark_node_set_on_exit(fig, exit.ptr);
	buf_release(&enter);
	buf_release(&exit);
	cmark_node *child;
	while ((child = cmark_node_first_child(bq)))
		cmark_node_append_child(fig, child);
	cmark_node_replace(bq, fig);
	cmark_node_free(bq);
	return true;
}

static const char *
render_part(struct qctx *q, const char *md, size_t len, const char **first_para)
{
	cmark_node *doc = cmark_parse_document(md, len, MD_OPTS);
	/* Collect first: attribute() rewrites the tree under the iterator. */
	cmark_node *found[MAX_QUOTES];
	size_t nfound = 0;
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_BLOCK_QUOTE && nfound < MAX_QUOTES)
			found[nfound++] = n;
	}
	cmark_iter_free(it);
	/* Inner quotes first, so an outer one never frees a node still listed. */
	for (size_t i = nfound; i-- > 0;)
		attribute(q, found[i]);
	if (first_para && !*first_para) {
		for (cmark_node *n = cmark_node_first_child(doc); n; n = cmark_node_next(n)) {
			if (cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH) {
				struct buf b = BUF_INIT;
				inline_text(cmark_node_first_child(n), &b);
				*first_para = arena_strndup(q->a, b.ptr, b.len);
				buf_release(&b);
				break;
			}
		}
	}
	char *html = cmark_render_html(doc, MD_OPTS);
	const char *out = arena_strdup(q->a, html);
	free(html);
	cmark_node_free(doc);
	return out;
}

void
md_render_article(struct arena *a, const char *md, size_t len, int teaser_paragraphs, struct md_article *out)
{
	memset(out, 0, sizeof *out);
	cmark_node *doc = cmark_parse_document(md, len, MD_OPTS);
	int line = split_line(doc, teaser_paragraphs, &out->has_marker, &out->second_marker_line);
	cmark_node_free(doc);
	out->marker_line = out->has_marker ? line : 0;

	size_t cut = line ? line_offset(md, len, line) : len;
	size_t gated_from = cut;
	if (out->has_marker) {
		/* The marker line itself belongs to neither part. */
		gated_from = next_line(md, len, cut);
	}
	struct slice teaser = trim_part((struct slice){ md, cut });
	struct slice gated = trim_part((struct slice){ md + gated_from, len - gated_from });
	out->teaser_md = arena_strndup(a, teaser.ptr, teaser.len);
	out->gated_md = arena_strndup(a, gated.ptr, gated.len);

	struct qctx q = { a, false, arena_alloc(a, MAX_QUOTES * sizeof(struct quote_input)), 0 };
	out->teaser_html = render_part(&q, teaser.ptr, teaser.len, &out->first_paragraph);
	q.gated = true;
	out->gated_html = gated.len ? render_part(&q, gated.ptr, gated.len, NULL) : "";
	out->quotes = q.quotes;
	out->n_quotes = q.n;
	if (!out->first_paragraph)
		out->first_paragraph = "";
}

const char *
md_render_html(struct arena *a, const char *md, size_t len)
{
	char *html = cmark_markdown_to_html(md, len, MD_OPTS);
	const char *out = arena_strdup(a, html);
	free(html);
	return out;
}
