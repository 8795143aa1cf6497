/* html.c: HTML bodies from other platforms into stored Markdown (html.h).
 *
 * The tree gumbo builds is walked once. Blocks are rendered into buffers
 * and nested by prefixing their lines ("> " for quotes, the list marker's
 * width for list items), which is how CommonMark nests them; inline runs
 * collapse white space as a browser would and escape every character that
 * Markdown or HTML could read as markup. */
#include "content/html.h"

#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/slice.h"
#include "core/banned.h"

#define MAX_REC (HTML_MAX_DEPTH + 32)

struct conv {
	struct arena *a;
	const struct html_opts *o;
	struct html_result *r;
	bool marker_pending;   /* a marker seen inside a block: written after the top-level block */
	const GumboNode *skip; /* a blockquote's citation, written by the quote itself */
};

/* An inline run being built: white space collapses to one space, and the
 * characters that mean something at the start of a line are escaped there. */
struct inl {
	struct buf b;
	bool space, line_start, in_link, no_breaks;
};

static void render_inline(struct conv *c, const GumboNode *n, struct inl *in, int rec);
static void render_blocks(struct conv *c, const GumboNode *parent, struct buf *out, int depth, int rec, bool in_item);

static const char *
attr(const GumboNode *n, const char *name)
{
	if (n->type != GUMBO_NODE_ELEMENT)
		return NULL;
	GumboAttribute *at = gumbo_get_attribute(&n->v.element.attributes, name);
	return at ? at->value : NULL;
}

static bool
has_class(const GumboNode *n, const char *word)
{
	const char *cl = attr(n, "class");
	size_t k = strlen(word);
	for (const char *p = cl; p && (p = strstr(p, word)); p += k)
		if ((p == cl || p[-1] == ' ') && (p[k] == '\0' || p[k] == ' '))
			return true;
	return false;
}

static GumboTag
tag_of(const GumboNode *n)
{
	return n->type == GUMBO_NODE_ELEMENT ? n->v.element.tag : GUMBO_TAG_UNKNOWN;
}

/* Elements dropped with everything inside them. */
static bool
dropped_tag(GumboTag t)
{
	switch (t) {
	case GUMBO_TAG_SCRIPT:
	case GUMBO_TAG_STYLE:
	case GUMBO_TAG_TEMPLATE:
	case GUMBO_TAG_NOSCRIPT:
	case GUMBO_TAG_FORM:
	case GUMBO_TAG_INPUT:
	case GUMBO_TAG_BUTTON:
	case GUMBO_TAG_SELECT:
	case GUMBO_TAG_TEXTAREA:
	case GUMBO_TAG_SVG:
	case GUMBO_TAG_MATH:
	case GUMBO_TAG_OBJECT:
	case GUMBO_TAG_EMBED:
	case GUMBO_TAG_APPLET:
	case GUMBO_TAG_CANVAS:
	case GUMBO_TAG_HEAD:
	case GUMBO_TAG_TITLE:
	case GUMBO_TAG_META:
	case GUMBO_TAG_LINK:
	case GUMBO_TAG_BASE:
	case GUMBO_TAG_FRAME:
	case GUMBO_TAG_FRAMESET:
	case GUMBO_TAG_NOFRAMES:
	case GUMBO_TAG_NOEMBED:
	case GUMBO_TAG_PARAM:
	case GUMBO_TAG_MAP:
	case GUMBO_TAG_AREA:
	case GUMBO_TAG_SOURCE:
	case GUMBO_TAG_TRACK:
	case GUMBO_TAG_MENU:
	case GUMBO_TAG_OPTION:
	case GUMBO_TAG_DATALIST: return true;
	default: return false;
	}
}

static bool
block_tag(GumboTag t)
{
	switch (t) {
	case GUMBO_TAG_P:
	case GUMBO_TAG_H1:
	case GUMBO_TAG_H2:
	case GUMBO_TAG_H3:
	case GUMBO_TAG_H4:
	case GUMBO_TAG_H5:
	case GUMBO_TAG_H6:
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
	case GUMBO_TAG_LI:
	case GUMBO_TAG_DL:
	case GUMBO_TAG_DT:
	case GUMBO_TAG_DD:
	case GUMBO_TAG_BLOCKQUOTE:
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_FIGURE:
	case GUMBO_TAG_FIGCAPTION:
	case GUMBO_TAG_HR:
	case GUMBO_TAG_DIV:
	case GUMBO_TAG_SECTION:
	case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_HEADER:
	case GUMBO_TAG_FOOTER:
	case GUMBO_TAG_MAIN:
	case GUMBO_TAG_ASIDE:
	case GUMBO_TAG_NAV:
	case GUMBO_TAG_ADDRESS:
	case GUMBO_TAG_DETAILS:
	case GUMBO_TAG_SUMMARY:
	case GUMBO_TAG_CENTER:
	case GUMBO_TAG_TABLE:
	case GUMBO_TAG_CAPTION:
	case GUMBO_TAG_THEAD:
	case GUMBO_TAG_TBODY:
	case GUMBO_TAG_TFOOT:
	case GUMBO_TAG_TR:
	case GUMBO_TAG_TD:
	case GUMBO_TAG_TH:
	case GUMBO_TAG_IFRAME:
	case GUMBO_TAG_VIDEO:
	case GUMBO_TAG_AUDIO:
	case GUMBO_TAG_BODY:
	case GUMBO_TAG_HTML:
	case GUMBO_TAG_HGROUP:
	case GUMBO_TAG_FIELDSET: return true;
	default: return false;
	}
}

bool
html_url_allowed(const char *url, bool image)
{
	if (!url || !url[0] || strlen(url) > 2048)
		return false;
	for (const unsigned char *p = (const unsigned char *) url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false; /* browsers drop tabs and newlines: "java\tscript:" */
	if (!strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7))
		return true;
	if (!image && !strncasecmp(url, "mailto:", 7))
		return true;
	/* A path on this site, never "//host" or "/\host" (another site). */
	if (url[0] == '/')
		return url[1] != '/' && url[1] != '\\';
	return !image && url[0] == '#';
}

/* The URL with the configured prefix replaced; NULL when refused. */
static const char *
fix_url(struct conv *c, const char *raw, bool image)
{
	if (!raw)
		return NULL;
	struct slice s = slice_trim(slice_from(raw));
	const char *u = arena_strndup(c->a, s.ptr, s.len);
	const char *from = c->o->url_from;
	if (from && from[0] && !strncmp(u, from, strlen(from))) {
		const char *to = image && c->o->img_to ? c->o->img_to : "";
		u = arena_concat(c->a, to, u + strlen(from), NULL);
		if (!u[0])
			u = "/";
	}
	return html_url_allowed(u, image) ? u : NULL;
}

/* A link destination inside <...>: what would end it or escape is encoded. */
static void
put_dest(struct buf *b, const char *u)
{
	buf_putc(b, '<');
	for (; *u; u++) {
		if (*u == '<')
			buf_puts(b, "%3C");
		else if (*u == '>')
			buf_puts(b, "%3E");
		else if (*u == '\\')
			buf_puts(b, "%5C");
		else
			buf_putc(b, *u);
	}
	buf_putc(b, '>');
}

static void
inl_init(struct inl *in)
{
	in->b = (struct buf) BUF_INIT;
	in->space = false;
	in->line_start = true;
	in->in_link = in->no_breaks = false;
}

/* Before something that is not white space: the pending space, if any. */
static void
inl_prepare(struct inl *in)
{
	if (in->space && in->b.len && !in->line_start)
		buf_putc(&in->b, ' ');
	in->space = false;
}

/* Text, white space collapsed and markup characters escaped. */
static void
inl_text(struct inl *in, const char *t)
{
	for (const char *p = t; *p; p++) {
		unsigned char ch = (unsigned char) *p;
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
			in->space = true;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f)
			continue;
		inl_prepare(in);
		if (in->line_start) {
			if (strchr("#-+=~", ch))
				buf_putc(&in->b, '\\');
			if (ch >= '0' && ch <= '9') {
				const char *q = p;
				while (*q >= '0' && *q <= '9')
					q++;
				if (*q == '.' || *q == ')') {
					buf_add(&in->b, p, (size_t) (q - p));
					buf_putc(&in->b, '\\');
					p = q;
					ch = (unsigned char) *p;
				}
			}
		}
		if (strchr("\\`*_[]<>&!|", ch))
			buf_putc(&in->b, '\\');
		buf_putc(&in->b, (char) ch);
		in->line_start = false;
	}
}

static void
inl_break(struct inl *in)
{
	if (in->no_breaks || !in->b.len || in->line_start) {
		in->space = true;
		return;
	}
	buf_puts(&in->b, "\\\n");
	in->space = false;
	in->line_start = true;
}

/* The run's text with outer white space (and trailing hard breaks) trimmed. */
static struct slice
inl_trimmed(struct inl *in)
{
	struct slice s = buf_slice(&in->b);
	for (;;) {
		while (s.len && strchr(" \n", s.ptr[s.len - 1]))
			s.len--;
		if (s.len >= 1 && s.ptr[s.len - 1] == '\\' && in->b.ptr[s.len] == '\n') {
			s.len--;
			continue;
		}
		break;
	}
	return s;
}

static void
block_add(struct buf *out, const char *md, size_t n, bool tight)
{
	if (!n)
		return;
	if (out->len)
		buf_puts(out, tight ? "\n" : "\n\n");
	buf_add(out, md, n);
}

/* Every line of md with prefix (first line first_prefix); blank lines get
 * the prefix without trailing spaces. */
static void
prefix_lines(struct buf *out, const char *md, size_t n, const char *first_prefix, const char *prefix)
{
	size_t i = 0;
	bool first = true;
	while (i <= n) {
		size_t j = i;
		while (j < n && md[j] != '\n')
			j++;
		const char *p = first ? first_prefix : prefix;
		if (j == i) {
			size_t k = strlen(p);
			while (k && p[k - 1] == ' ')
				k--;
			buf_add(out, p, k);
		} else {
			buf_puts(out, p);
			buf_add(out, md + i, j - i);
		}
		first = false;
		if (j >= n)
			break;
		buf_putc(out, '\n');
		i = j + 1;
	}
}

static void
children_inline(struct conv *c, const GumboNode *n, struct inl *in, int rec)
{
	if (n->type != GUMBO_NODE_ELEMENT)
		return;
	const GumboVector *ch = &n->v.element.children;
	for (unsigned i = 0; i < ch->length; i++)
		render_inline(c, ch->data[i], in, rec + 1);
}

/* Plain text of a subtree, as one line (for code and citations). */
static void
plain_text(const GumboNode *n, struct buf *b, int rec)
{
	if (rec > MAX_REC)
		return;
	if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
		buf_puts(b, n->v.text.text);
		return;
	}
	if (n->type != GUMBO_NODE_ELEMENT || dropped_tag(tag_of(n)))
		return;
	if (tag_of(n) == GUMBO_TAG_BR) {
		buf_putc(b, '\n');
		return;
	}
	const GumboVector *ch = &n->v.element.children;
	for (unsigned i = 0; i < ch->length; i++)
		plain_text(ch->data[i], b, rec + 1);
}

/* Wraps the inline rendering of n's children in delimiters. */
static void
wrap(struct conv *c, const GumboNode *n, struct inl *in, const char *delim, int rec)
{
	struct inl sub;
	inl_init(&sub);
	sub.in_link = in->in_link;
	sub.no_breaks = in->no_breaks;
	children_inline(c, n, &sub, rec);
	struct slice s = inl_trimmed(&sub);
	bool lead = sub.b.len && sub.b.ptr[0] == ' ';
	if (s.len) {
		if (lead)
			in->space = true;
		inl_prepare(in);
		buf_puts(&in->b, delim);
		buf_add(&in->b, s.ptr, s.len);
		buf_puts(&in->b, delim);
		in->line_start = false;
		if (sub.space || (sub.b.len > s.len && sub.b.ptr[sub.b.len - 1] == ' '))
			in->space = true;
	}
	buf_release(&sub.b);
}

static void
code_span(const GumboNode *n, struct inl *in)
{
	struct buf raw = BUF_INIT, t = BUF_INIT;
	plain_text(n, &raw, 0);
	size_t run = 0, longest = 0;
	bool space = false;
	for (size_t i = 0; i < raw.len; i++) {
		char ch = raw.ptr[i];
		if (strchr(" \t\r\n\f", ch)) {
			space = t.len > 0;
			continue;
		}
		if ((unsigned char) ch < 0x20)
			continue;
		if (space)
			buf_putc(&t, ' ');
		space = false;
		buf_putc(&t, ch);
		run = ch == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	if (t.len) {
		char fence[64];
		size_t k = longest + 1 < sizeof fence ? longest + 1 : sizeof fence - 1;
		memset(fence, '`', k);
		fence[k] = '\0';
		bool pad = t.ptr[0] == '`' || t.ptr[t.len - 1] == '`';
		inl_prepare(in);
		buf_puts(&in->b, fence);
		if (pad)
			buf_putc(&in->b, ' ');
		buf_add(&in->b, t.ptr, t.len);
		if (pad)
			buf_putc(&in->b, ' ');
		buf_puts(&in->b, fence);
		in->line_start = false;
	}
	buf_release(&raw);
	buf_release(&t);
}

static void
image(struct conv *c, const GumboNode *n, struct inl *in)
{
	const char *src = fix_url(c, attr(n, "src"), true);
	if (!src) {
		c->r->dropped++;
		return;
	}
	struct inl alt;
	inl_init(&alt);
	alt.line_start = false;
	alt.no_breaks = true;
	inl_text(&alt, attr(n, "alt") ? attr(n, "alt") : "");
	inl_prepare(in);
	buf_puts(&in->b, "![");
	struct slice s = inl_trimmed(&alt);
	buf_add(&in->b, s.ptr, s.len);
	buf_puts(&in->b, "](");
	put_dest(&in->b, src);
	buf_putc(&in->b, ')');
	in->line_start = false;
	buf_release(&alt.b);
}

static void
link(struct conv *c, const GumboNode *n, struct inl *in, int rec)
{
	const char *href = in->in_link ? NULL : fix_url(c, attr(n, "href"), false);
	if (!href) {
		if (!in->in_link && attr(n, "href"))
			c->r->dropped++;
		children_inline(c, n, in, rec);
		return;
	}
	struct inl sub;
	inl_init(&sub);
	sub.in_link = true;
	sub.no_breaks = true;
	children_inline(c, n, &sub, rec);
	struct slice s = inl_trimmed(&sub);
	if (sub.b.len && sub.b.ptr[0] == ' ')
		in->space = true;
	inl_prepare(in);
	buf_putc(&in->b, '[');
	if (s.len) {
		buf_add(&in->b, s.ptr, s.len);
	} else {
		struct inl u;
		inl_init(&u);
		u.line_start = false;
		inl_text(&u, href);
		buf_add(&in->b, u.b.ptr, u.b.len);
		buf_release(&u.b);
	}
	buf_puts(&in->b, "](");
	put_dest(&in->b, href);
	buf_putc(&in->b, ')');
	in->line_start = false;
	if (sub.space)
		in->space = true;
	buf_release(&sub.b);
}

static bool
is_marker_comment(struct conv *c, const GumboNode *n)
{
	if (n->type != GUMBO_NODE_COMMENT || !c->o->marker_comments)
		return false;
	struct slice t = slice_trim(slice_from(n->v.text.text));
	for (const char *const *m = c->o->marker_comments; *m; m++)
		if (slice_eq_str(t, *m))
			return true;
	return false;
}

static bool
is_marker_div(struct conv *c, const GumboNode *n)
{
	return c->o->marker_divs && tag_of(n) == GUMBO_TAG_DIV &&
	       (has_class(n, "paywall-jump") ||
	        (attr(n, "data-component-name") && !strcmp(attr(n, "data-component-name"), "PaywallToDOM")));
}

static void
render_inline(struct conv *c, const GumboNode *n, struct inl *in, int rec)
{
	if (rec > MAX_REC || n == c->skip)
		return;
	switch (n->type) {
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
	case GUMBO_NODE_CDATA: inl_text(in, n->v.text.text); return;
	case GUMBO_NODE_COMMENT:
		if (is_marker_comment(c, n)) {
			c->r->markers++;
			c->marker_pending = true;
		}
		return;
	case GUMBO_NODE_ELEMENT: break;
	default: return;
	}
	GumboTag t = tag_of(n);
	if (dropped_tag(t)) {
		c->r->dropped++;
		return;
	}
	if (is_marker_div(c, n)) {
		c->r->markers++;
		c->marker_pending = true;
		return;
	}
	switch (t) {
	case GUMBO_TAG_EM:
	case GUMBO_TAG_I:
	case GUMBO_TAG_CITE:
	case GUMBO_TAG_DFN:
	case GUMBO_TAG_VAR: wrap(c, n, in, "*", rec); return;
	case GUMBO_TAG_STRONG:
	case GUMBO_TAG_B: wrap(c, n, in, "**", rec); return;
	case GUMBO_TAG_CODE:
	case GUMBO_TAG_KBD:
	case GUMBO_TAG_SAMP:
	case GUMBO_TAG_TT: code_span(n, in); return;
	case GUMBO_TAG_BR: inl_break(in); return;
	case GUMBO_TAG_IMG: image(c, n, in); return;
	case GUMBO_TAG_A: link(c, n, in, rec); return;
	case GUMBO_TAG_IFRAME:
	case GUMBO_TAG_VIDEO:
	case GUMBO_TAG_AUDIO:
		c->r->dropped++; /* an embed inside a line of text: nothing to link it to */
		return;
	default: break;
	}
	if (block_tag(t))
		in->space = true;
	children_inline(c, n, in, rec);
	if (block_tag(t))
		in->space = true;
}

static void
flush_para(struct inl *in, struct buf *out)
{
	struct slice s = inl_trimmed(in);
	block_add(out, s.ptr, s.len, false);
	buf_release(&in->b);
	inl_init(in);
}

/* A block of inline content (a paragraph, a heading's text). */
static void
inline_block(struct conv *c, const GumboNode *n, struct buf *out, const char *prefix, bool no_breaks, int rec)
{
	struct inl in;
	inl_init(&in);
	in.no_breaks = no_breaks;
	children_inline(c, n, &in, rec);
	struct slice s = inl_trimmed(&in);
	if (s.len) {
		struct buf b = BUF_INIT;
		buf_puts(&b, prefix);
		buf_add(&b, s.ptr, s.len);
		if (prefix[0] == '*')
			buf_puts(&b, prefix);
		block_add(out, b.ptr, b.len, false);
		buf_release(&b);
	}
	buf_release(&in.b);
}

static void
link_block(struct conv *c, struct buf *out, const char *label, const char *raw)
{
	const char *u = fix_url(c, raw, false);
	if (!u || u[0] == '/' || u[0] == '#' || !strncasecmp(u, "mailto:", 7)) {
		c->r->dropped++;
		return;
	}
	struct buf b = BUF_INIT;
	buf_putc(&b, '[');
	struct inl t;
	inl_init(&t);
	t.line_start = false;
	inl_text(&t, label);
	buf_add(&b, t.b.ptr, t.b.len);
	buf_release(&t.b);
	buf_puts(&b, "](");
	put_dest(&b, u);
	buf_putc(&b, ')');
	block_add(out, b.ptr, b.len, false);
	buf_release(&b);
}

/* The first allowed src of an element or of its <source> children. */
static const char *
media_src(const GumboNode *n)
{
	if (attr(n, "src"))
		return attr(n, "src");
	const GumboVector *ch = &n->v.element.children;
	for (unsigned i = 0; i < ch->length; i++)
		if (tag_of(ch->data[i]) == GUMBO_TAG_SOURCE && attr(ch->data[i], "src"))
			return attr(ch->data[i], "src");
	return NULL;
}

/* The last link inside n (a social embed's own address). */
static const char *
last_href(const GumboNode *n, int rec)
{
	if (n->type != GUMBO_NODE_ELEMENT || rec > MAX_REC)
		return NULL;
	const char *found = tag_of(n) == GUMBO_TAG_A ? attr(n, "href") : NULL;
	const GumboVector *ch = &n->v.element.children;
	for (unsigned i = 0; i < ch->length; i++) {
		const char *h = last_href(ch->data[i], rec + 1);
		if (h)
			found = h;
	}
	return found;
}

static const GumboNode *
find_cite(const GumboNode *n, int rec)
{
	if (n->type != GUMBO_NODE_ELEMENT || rec > MAX_REC)
		return NULL;
	if (tag_of(n) == GUMBO_TAG_CITE)
		return n;
	if (tag_of(n) == GUMBO_TAG_BLOCKQUOTE && rec > 0)
		return NULL;
	const GumboVector *ch = &n->v.element.children;
	for (unsigned i = ch->length; i-- > 0;) {
		const GumboNode *f = find_cite(ch->data[i], rec + 1);
		if (f)
			return f;
	}
	return NULL;
}

static void
blockquote(struct conv *c, const GumboNode *n, struct buf *out, int depth, int rec)
{
	if (has_class(n, "twitter-tweet") || has_class(n, "instagram-media") || has_class(n, "tiktok-embed")) {
		link_block(c, out, "View the embedded post", last_href(n, 0));
		return;
	}
	/* The citation: the quote's child block that holds a <cite> (or the
	 * <cite> itself when that block is all the quote has). */
	const GumboNode *cite = find_cite(n, 0), *cite_block = NULL;
	if (cite) {
		cite_block = cite;
		while (cite_block->parent && cite_block->parent != n)
			cite_block = cite_block->parent;
		if (n->v.element.children.length <= 1 || cite_block->parent != n)
			cite_block = cite;
	}
	const GumboNode *saved = c->skip;
	c->skip = cite_block;
	struct buf inner = BUF_INIT;
	render_blocks(c, n, &inner, depth + 1, rec + 1, false);
	c->skip = saved;
	if (cite_block) {
		struct buf raw = BUF_INIT;
		plain_text(cite_block, &raw, 0);
		struct inl t;
		inl_init(&t);
		t.no_breaks = true;
		struct slice s = slice_trim(buf_slice(&raw));
		static const char *dashes[] = { "\xe2\x80\x94", "\xe2\x80\x93", "--", "-" };
		for (size_t i = 0; i < 4; i++)
			if (slice_starts_with(s, dashes[i])) {
				s.ptr += strlen(dashes[i]);
				s.len -= strlen(dashes[i]);
				break;
			}
		char *name = arena_strndup(c->a, s.ptr, s.len);
		inl_text(&t, name);
		struct slice nm = inl_trimmed(&t);
		if (nm.len && inner.len) {
			buf_puts(&inner, "\n\n\xe2\x80\x94 ");
			buf_add(&inner, nm.ptr, nm.len);
		}
		buf_release(&t.b);
		buf_release(&raw);
	}
	if (inner.len) {
		struct buf b = BUF_INIT;
		prefix_lines(&b, inner.ptr, inner.len, "> ", "> ");
		block_add(out, b.ptr, b.len, false);
		buf_release(&b);
	}
	buf_release(&inner);
}

static void
list(struct conv *c, const GumboNode *n, struct buf *out, int depth, int rec, bool in_item)
{
	bool ordered = tag_of(n) == GUMBO_TAG_OL;
	long num = 1;
	if (ordered && attr(n, "start")) {
		char *end;
		long v = strtol(attr(n, "start"), &end, 10);
		if (end != attr(n, "start") && v >= 0 && v < 100000000)
			num = v;
	}
	long first = num;
	const GumboVector *ch = &n->v.element.children;
	struct buf joined = BUF_INIT, *all = &joined;
	bool tight = true;
	for (unsigned i = 0; i < ch->length; i++) {
		const GumboNode *li = ch->data[i];
		if (li->type != GUMBO_NODE_ELEMENT || dropped_tag(tag_of(li)))
			continue;
		struct buf item = BUF_INIT;
		if (tag_of(li) == GUMBO_TAG_LI) {
			render_blocks(c, li, &item, depth + 1, rec + 1, true);
		} else {
			/* A stray element in a list: an item of its own. */
			struct buf tmp = BUF_INIT;
			struct inl in;
			inl_init(&in);
			render_inline(c, li, &in, rec + 1);
			flush_para(&in, &tmp);
			buf_add(&item, tmp.ptr, tmp.len);
			buf_release(&tmp);
		}
		if (!item.len) {
			buf_release(&item);
			continue;
		}
		if (strstr(item.ptr, "\n\n"))
			tight = false;
		char marker[32];
		if (ordered)
			snprintf(marker, sizeof marker, "%ld. ", num++);
		else
			snprintf(marker, sizeof marker, "- ");
		char indent[33];
		size_t w = strlen(marker);
		memset(indent, ' ', w);
		indent[w] = '\0';
		struct buf one = BUF_INIT;
		prefix_lines(&one, item.ptr, item.len, marker, indent);
		if (all->len)
			buf_puts(all, "\x01"); /* a separator, decided once tightness is known */
		buf_add(all, one.ptr, one.len);
		buf_release(&one);
		buf_release(&item);
	}
	struct buf fin = BUF_INIT;
	for (size_t i = 0; i < all->len; i++) {
		if (all->ptr[i] == '\x01')
			buf_puts(&fin, tight ? "\n" : "\n\n");
		else
			buf_putc(&fin, all->ptr[i]);
	}
	/* In a list item, a list right after the item's text stays tight. */
	bool join_tight = in_item && out->len && (!ordered || first == 1) && !strstr(out->ptr, "\n\n");
	block_add(out, fin.ptr, fin.len, join_tight);
	buf_release(&fin);
	buf_release(all);
}

static void
code_block(const GumboNode *n, struct buf *out)
{
	struct buf raw = BUF_INIT;
	plain_text(n, &raw, 0);
	struct slice s = buf_slice(&raw);
	while (s.len && (s.ptr[s.len - 1] == '\n' || s.ptr[s.len - 1] == ' '))
		s.len--;
	while (s.len && s.ptr[0] == '\n')
		s.ptr++, s.len--;
	if (s.len) {
		size_t run = 0, longest = 0;
		for (size_t i = 0; i < s.len; i++) {
			run = s.ptr[i] == '`' ? run + 1 : 0;
			if (run > longest)
				longest = run;
		}
		size_t k = longest >= 3 ? longest + 1 : 3;
		if (k > 60)
			k = 60;
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < k; i++)
			buf_putc(&b, '`');
		buf_putc(&b, '\n');
		for (size_t i = 0; i < s.len; i++)
			if ((unsigned char) s.ptr[i] >= 0x20 || s.ptr[i] == '\n' || s.ptr[i] == '\t')
				buf_putc(&b, s.ptr[i]);
		buf_putc(&b, '\n');
		for (size_t i = 0; i < k; i++)
			buf_putc(&b, '`');
		block_add(out, b.ptr, b.len, false);
		buf_release(&b);
	}
	buf_release(&raw);
}

static void
emit_marker(struct conv *c, struct buf *out)
{
	c->marker_pending = false;
	if (c->r->has_marker)
		return;
	c->r->has_marker = true;
	block_add(out, "<!-- paywall -->", 16, false);
}

static void
render_block(struct conv *c, const GumboNode *n, struct buf *out, int depth, int rec, bool in_item)
{
	GumboTag t = tag_of(n);
	switch (t) {
	case GUMBO_TAG_P:
	case GUMBO_TAG_ADDRESS:
	case GUMBO_TAG_SUMMARY:
	case GUMBO_TAG_DT:
	case GUMBO_TAG_CAPTION: inline_block(c, n, out, "", false, rec); return;
	case GUMBO_TAG_H1:
	case GUMBO_TAG_H2: inline_block(c, n, out, "## ", true, rec); return;
	case GUMBO_TAG_H3: inline_block(c, n, out, "### ", true, rec); return;
	case GUMBO_TAG_H4: inline_block(c, n, out, "#### ", true, rec); return;
	case GUMBO_TAG_H5: inline_block(c, n, out, "##### ", true, rec); return;
	case GUMBO_TAG_H6: inline_block(c, n, out, "###### ", true, rec); return;
	case GUMBO_TAG_FIGCAPTION: inline_block(c, n, out, "*", true, rec); return;
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL: list(c, n, out, depth, rec, in_item); return;
	case GUMBO_TAG_BLOCKQUOTE: blockquote(c, n, out, depth, rec); return;
	case GUMBO_TAG_PRE: code_block(n, out); return;
	case GUMBO_TAG_HR: block_add(out, "* * *", 5, false); return;
	case GUMBO_TAG_IFRAME: link_block(c, out, "Embedded content", attr(n, "src")); return;
	case GUMBO_TAG_VIDEO: link_block(c, out, "Video", media_src(n)); return;
	case GUMBO_TAG_AUDIO: link_block(c, out, "Audio", media_src(n)); return;
	default:
		/* div, section, table, li outside a list...: their content, as blocks. */
		render_blocks(c, n, out, depth, rec + 1, in_item);
		return;
	}
}

static void
render_blocks(struct conv *c, const GumboNode *parent, struct buf *out, int depth, int rec, bool in_item)
{
	if (rec > MAX_REC || parent->type != GUMBO_NODE_ELEMENT)
		return;
	struct inl in;
	inl_init(&in);
	const GumboVector *ch = &parent->v.element.children;
	for (unsigned i = 0; i < ch->length; i++) {
		const GumboNode *n = ch->data[i];
		if (n == c->skip)
			continue;
		if (n->type == GUMBO_NODE_COMMENT) {
			if (is_marker_comment(c, n)) {
				c->r->markers++;
				flush_para(&in, out);
				if (depth == 0)
					emit_marker(c, out);
				else
					c->marker_pending = true;
			}
			continue;
		}
		if (n->type == GUMBO_NODE_ELEMENT && is_marker_div(c, n)) {
			c->r->markers++;
			flush_para(&in, out);
			if (depth == 0)
				emit_marker(c, out);
			else
				c->marker_pending = true;
			continue;
		}
		if (n->type == GUMBO_NODE_ELEMENT && dropped_tag(tag_of(n))) {
			c->r->dropped++;
			continue;
		}
		if (n->type != GUMBO_NODE_ELEMENT || !block_tag(tag_of(n))) {
			render_inline(c, n, &in, rec + 1);
			continue;
		}
		flush_para(&in, out);
		if (depth == 0 && c->marker_pending)
			emit_marker(c, out);
		render_block(c, n, out, depth, rec, in_item);
		if (depth == 0 && c->marker_pending)
			emit_marker(c, out);
	}
	flush_para(&in, out);
	if (depth == 0 && c->marker_pending)
		emit_marker(c, out);
	buf_release(&in.b);
}

/* An upper bound of the element nesting of raw HTML: elements that close
 * themselves (void ones, and p, li, td... which the next one closes) do not
 * count, closing tags count down. */
static int
nesting_bound(const char *s, size_t n)
{
	static const char *const flat[] = { "br",  "img",   "hr",    "input",  "meta",  "link",   "area",   "base",
		                            "col", "embed", "param", "source", "track", "wbr",    "p",      "li",
		                            "dt",  "dd",    "tr",    "td",     "th",    "option", "keygen", NULL };
	int depth = 0, max = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '<')
			continue;
		if (i + 3 < n && !memcmp(s + i, "<!--", 4)) {
			const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
			if (!e)
				break;
			i = (size_t) (e - s) + 2;
			continue;
		}
		if (s[i + 1] == '/') {
			if (depth > 0)
				depth--;
			continue;
		}
		size_t j = i + 1, k = 0;
		char name[16];
		while (j < n && k < sizeof name - 1 &&
		       ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9')))
			name[k++] = (char) (s[j++] | 0x20);
		name[k] = '\0';
		if (!k)
			continue;
		bool is_flat = false;
		for (const char *const *f = flat; *f && !is_flat; f++)
			is_flat = !strcmp(*f, name);
		if (!is_flat && ++depth > max)
			max = depth;
	}
	return max;
}

mh_err
html_to_markdown(struct arena *a, const char *html, size_t len, const struct html_opts *o, struct html_result *out)
{
	static const struct html_opts none = { 0 };
	memset(out, 0, sizeof *out);
	out->md = "";
	if (!o)
		o = &none;
	if (nesting_bound(html, len) > HTML_MAX_DEPTH)
		return MH_ERR_TOOBIG;
	GumboOutput *g = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);
	struct conv c = { a, o, out, false, NULL };
	struct buf md = BUF_INIT;
	/* html > head, body: the body holds the document. */
	const GumboVector *top = &g->root->v.element.children;
	for (unsigned i = 0; i < top->length; i++)
		if (tag_of(top->data[i]) == GUMBO_TAG_BODY)
			render_blocks(&c, top->data[i], &md, 0, 0, false);
	gumbo_destroy_output(&kGumboDefaultOptions, g);
	mh_err rc = buf_error(&md);
	if (!rc)
		out->md = arena_strndup(a, md.ptr, md.len);
	buf_release(&md);
	return rc;
}
