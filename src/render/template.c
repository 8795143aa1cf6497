/* template.c: the Mustache compiler and renderer.
 *
 * Compiling makes four passes over a template's source: tokenize (set
 * delimiter tags change how the rest is cut), pair each opener with its
 * closer, decide which tags stand alone on their line and trim the text
 * around them, then emit a flat op array. An opener's op records the
 * index just past its body, so rendering is a loop that recurses only
 * into bodies. Ops point by offset into a pool that holds the text, the
 * names and the indentation, so the source need not be kept.
 *
 * Indentation follows the spec's model of prepending a standalone
 * partial's indentation to each line of the partial. Ops that start a
 * source line carry F_BOL; when an indentation stack is active the
 * renderer writes it before them and after each inner newline of text.
 * Template inheritance adds the whitespace rules of mustache/spec PR #131
 * (see its specs/whitespace.md): a parent or block element may be
 * standalone as a pair, and a block's content loses its intrinsic
 * indentation where it is defined and gains the indentation of the place
 * where it is expanded. */
#include "render/template.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

/* Offsets are 32-bit; the pool holds at most about three times the source. */
#define MAX_SRC   ((size_t) 256 << 20)
#define MAX_DELIM 16

enum tok_type {
	TK_TEXT,
	TK_VAR,
	TK_RAW,
	TK_SECTION,
	TK_INVERTED,
	TK_CLOSE,
	TK_PARTIAL,
	TK_PARENT,
	TK_BLOCK,
	TK_COMMENT,
	TK_DELIM,
};

enum {
	TF_STD = 1,  /* alone on its line: the whole line is dropped */
	TF_PAIR = 2, /* parent or block element standalone as a pair */
	TF_EOL = 4,  /* block opener ends its line: indentation is the next line's */
	TF_ARG = 8,  /* block directly inside a parent: an argument */
	TF_NL = 16,  /* parent closer consumed the line end after it */
};

struct tok {
	uint8_t type;
	uint8_t flags;
	uint32_t start, end; /* text: what is left after trimming; tags: whole tag */
	uint32_t name, nlen;
	uint32_t line;
	uint32_t match;     /* opener <-> closer */
	uint32_t ind, nind; /* indentation, as a range of the source */
};

enum op_kind {
	OP_TEXT,
	OP_VAR,
	OP_RAW,
	OP_SECTION,
	OP_INVERTED,
	OP_PARTIAL,
	OP_PARENT,
	OP_BLOCK, /* a parameter: default content, replaceable by an argument */
	OP_ARG,   /* an argument, only ever in a parent's body */
	OP_BOL,   /* a line starting at a closing tag */
};

enum {
	F_BOL = 1,        /* starts a source line: write the indentation first */
	F_BOL_START = 2,  /* starts an argument: indent if its block site does */
	F_STANDALONE = 4, /* partial, parent, block: push op's indentation */
	F_LINE = 8,       /* block: its content starts on a line of its own */
};

struct op {
	uint8_t kind;
	uint8_t flags;
	uint32_t nparts; /* dotted name parts; 0 for "." */
	uint32_t name;   /* pool offset; dotted parts are NUL-separated */
	uint32_t hash;   /* partial, parent and block names */
	uint32_t text;   /* pool offset of text or indentation */
	uint32_t len;
	uint32_t end; /* index just past this op and its body */
};

struct tmpl {
	char *name;
	uint32_t hash;
	uint32_t nops;
	struct op *ops;
	char *pool;
};

struct tmpl_set {
	struct tmpl **slot; /* open addressing, linear probing */
	size_t cap;
	size_t count;
};

enum { BOL_NO, BOL_YES, BOL_START };

struct comp {
	const char *name;
	const char *src;
	uint32_t len;
	char *err;
	size_t errlen;
	struct tok *toks;
	uint32_t ntoks, tokcap;
	struct op *ops;
	uint32_t nops, opcap;
	struct buf pool;
	struct slice levels[TMPL_MAX_NEST]; /* intrinsic indentation to strip */
	unsigned nlevels;
	int bol;
};

static uint32_t
hash_name(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char) *s++) * 16777619u;
	return h;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_opener(int type)
{
	return type == TK_SECTION || type == TK_INVERTED || type == TK_PARENT || type == TK_BLOCK;
}

static char
sigil(int type)
{
	switch (type) {
	case TK_SECTION: return '#';
	case TK_INVERTED: return '^';
	case TK_PARENT: return '<';
	case TK_BLOCK: return '$';
	}
	return '?';
}

static mh_err __attribute__((format(printf, 3, 4))) parse_error(struct comp *c, uint32_t line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%u: %s", c->name, (unsigned) line, msg);
	return MH_ERR_PARSE;
}

/* Names in messages are cut short: they come from untrusted source. */
static int
shown(uint32_t n)
{
	return n > 40 ? 40 : (int) n;
}

static uint32_t
count_nl(const char *p, size_t n)
{
	uint32_t lines = 0;
	const char *e = p + n;
	while ((p = memchr(p, '\n', (size_t) (e - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

static void
push_tok(struct comp *c, const struct tok *t)
{
	if (c->ntoks == c->tokcap) {
		c->tokcap = c->tokcap ? c->tokcap * 2 : 64;
		c->toks = xrealloc(c->toks, (size_t) c->tokcap * sizeof *c->toks);
	}
	c->toks[c->ntoks++] = *t;
}

/* Checks a tag name: no whitespace, and for names looked up in the
 * context either "." or dot-separated parts that are not empty. */
static mh_err
check_name(struct comp *c, const struct tok *t, bool dotted)
{
	const char *s = c->src + t->name;

	if (t->nlen == 0)
		return parse_error(c, t->line, "empty tag name");
	for (uint32_t i = 0; i < t->nlen; i++) {
		if (is_ws(s[i]) || s[i] == '\0')
			return parse_error(c, t->line, "invalid tag name '%.*s'", shown(t->nlen), s);
	}
	if (!dotted || (t->nlen == 1 && s[0] == '.'))
		return MH_OK;
	for (uint32_t i = 0; i < t->nlen; i++) {
		if (s[i] == '.' && (i == 0 || i + 1 == t->nlen || s[i + 1] == '.'))
			return parse_error(c, t->line, "empty part in dotted name '%.*s'", shown(t->nlen), s);
	}
	return MH_OK;
}

static bool
valid_delim(struct slice d)
{
	if (d.len == 0 || d.len > MAX_DELIM)
		return false;
	for (size_t i = 0; i < d.len; i++) {
		if (is_ws(d.ptr[i]) || d.ptr[i] == '=' || d.ptr[i] == '\0')
			return false;
	}
	return true;
}

/* Parses the inside of {{=<% %>=}} (without the equals signs). */
static mh_err
set_delims(struct comp *c, uint32_t line, struct slice in, char *otag, size_t *olen, char *ctag, size_t *clen)
{
	size_t i = 0;

	in = slice_trim(in);
	while (i < in.len && !is_ws(in.ptr[i]))
		i++;
	struct slice o = { in.ptr, i };
	struct slice cl = slice_trim((struct slice){ in.ptr + i, in.len - i });
	if (!valid_delim(o) || !valid_delim(cl))
		return parse_error(c, line, "invalid set-delimiter tag");
	memcpy(otag, o.ptr, o.len);
	*olen = o.len;
	memcpy(ctag, cl.ptr, cl.len);
	*clen = cl.len;
	return MH_OK;
}

static mh_err
tokenize(struct comp *c)
{
	char otag[MAX_DELIM] = "{{", ctag[MAX_DELIM + 1] = "}}";
	char triple[MAX_DELIM + 1];
	size_t olen = 2, clen = 2;
	const char *src = c->src;
	uint32_t pos = 0, line = 1;
	mh_err e;

	while (pos < c->len) {
		const char *o = memmem(src + pos, c->len - pos, otag, olen);
		uint32_t start = o ? (uint32_t) (o - src) : c->len;
		struct tok t = { 0 };

		if (start > pos) {
			t = (struct tok){ .type = TK_TEXT, .start = pos, .end = start, .line = line };
			push_tok(c, &t);
			line += count_nl(src + pos, start - pos);
		}
		if (!o)
			break;

		uint32_t p = start + (uint32_t) olen, cend, end;
		const char *cl;
		char kind = p < c->len ? src[p] : '\0';
		if (kind == '{') {
			/* {{{name}}}: the closer is "}" and the current closing delimiter */
			triple[0] = '}';
			memcpy(triple + 1, ctag, clen);
			cl = memmem(src + p + 1, c->len - p - 1, triple, clen + 1);
			cend = cl ? (uint32_t) (cl - src) : 0;
			end = cend + (uint32_t) clen + 1;
			p++;
		} else {
			cl = memmem(src + p, c->len - p, ctag, clen);
			cend = cl ? (uint32_t) (cl - src) : 0;
			end = cend + (uint32_t) clen;
		}
		if (!cl)
			return parse_error(c, line, "unclosed tag: no '%s%s' after '%.*s'", kind == '{' ? "}" : "",
			                   ctag, (int) olen, otag);

		t = (struct tok){ .start = start, .end = end, .line = line };
		switch (kind) {
		case '{': t.type = TK_RAW; break;
		case '&':
			t.type = TK_RAW;
			p++;
			break;
		case '#':
			t.type = TK_SECTION;
			p++;
			break;
		case '^':
			t.type = TK_INVERTED;
			p++;
			break;
		case '/':
			t.type = TK_CLOSE;
			p++;
			break;
		case '>':
			t.type = TK_PARTIAL;
			p++;
			break;
		case '<':
			t.type = TK_PARENT;
			p++;
			break;
		case '$':
			t.type = TK_BLOCK;
			p++;
			break;
		case '!': t.type = TK_COMMENT; break;
		case '=': t.type = TK_DELIM; break;
		default: t.type = TK_VAR; break;
		}
		if (t.type == TK_DELIM) {
			if (cend - p < 2 || src[cend - 1] != '=')
				return parse_error(c, line, "invalid set-delimiter tag");
			e = set_delims(c, line, (struct slice){ src + p + 1, cend - p - 2 }, otag, &olen, ctag, &clen);
			if (e)
				return e;
			ctag[clen] = '\0';
		} else if (t.type != TK_COMMENT) {
			struct slice n = slice_trim((struct slice){ src + p, cend - p });
			t.name = (uint32_t) (n.ptr - src);
			t.nlen = (uint32_t) n.len;
			e = check_name(c, &t,
			               t.type == TK_VAR || t.type == TK_RAW || t.type == TK_SECTION ||
			                       t.type == TK_INVERTED);
			if (e)
				return e;
		}
		push_tok(c, &t);
		line += count_nl(src + start, end - start);
		pos = end;
	}
	return MH_OK;
}

static mh_err
match_tokens(struct comp *c)
{
	uint32_t stack[TMPL_MAX_NEST];
	unsigned depth = 0;

	for (uint32_t k = 0; k < c->ntoks; k++) {
		struct tok *t = &c->toks[k];
		if (is_opener(t->type)) {
			if (depth == TMPL_MAX_NEST)
				return parse_error(c, t->line, "sections nested deeper than %d", TMPL_MAX_NEST);
			if (t->type == TK_BLOCK && depth && c->toks[stack[depth - 1]].type == TK_PARENT)
				t->flags |= TF_ARG;
			stack[depth++] = k;
		} else if (t->type == TK_CLOSE) {
			const char *name = c->src + t->name;
			if (!depth)
				return parse_error(c, t->line, "closing tag '%.*s' without an opening tag",
				                   shown(t->nlen), name);
			struct tok *o = &c->toks[stack[--depth]];
			if (o->nlen != t->nlen || memcmp(c->src + o->name, name, t->nlen) != 0)
				return parse_error(c, t->line, "closing tag '%.*s' does not match '%c%.*s' on line %u",
				                   shown(t->nlen), name, sigil(o->type), shown(o->nlen),
				                   c->src + o->name, (unsigned) o->line);
			o->match = k;
			t->match = stack[depth];
		}
	}
	if (depth) {
		const struct tok *o = &c->toks[stack[depth - 1]];
		return parse_error(c, o->line, "'%c%.*s' is never closed", sigil(o->type), shown(o->nlen),
		                   c->src + o->name);
	}
	return MH_OK;
}

/* Whether only spaces and tabs precede pos on its line; *ls gets the
 * line's start. Tags are never whitespace, so the raw source answers. */
static bool
left_clear(const struct comp *c, uint32_t pos, uint32_t *ls)
{
	while (pos > 0 && (c->src[pos - 1] == ' ' || c->src[pos - 1] == '\t'))
		pos--;
	*ls = pos;
	return pos == 0 || c->src[pos - 1] == '\n';
}

/* Whether only spaces and tabs follow pos up to a line end or the end;
 * *after gets the position past that line end. */
static bool
right_clear(const struct comp *c, uint32_t pos, uint32_t *after)
{
	while (pos < c->len && (c->src[pos] == ' ' || c->src[pos] == '\t'))
		pos++;
	if (pos < c->len && c->src[pos] == '\r' && pos + 1 < c->len && c->src[pos + 1] == '\n')
		pos++;
	if (pos < c->len && c->src[pos] != '\n')
		return false;
	*after = pos < c->len ? pos + 1 : pos;
	return true;
}

static uint32_t
ws_run(const struct comp *c, uint32_t pos)
{
	uint32_t p = pos;
	while (p < c->len && (c->src[p] == ' ' || c->src[p] == '\t'))
		p++;
	return p - pos;
}

/* Drops the whitespace before tag k back to its line start ls. */
static void
trim_before(struct comp *c, uint32_t k, uint32_t ls)
{
	if (k == 0 || c->toks[k - 1].type != TK_TEXT)
		return;
	struct tok *t = &c->toks[k - 1];
	if (ls < t->end)
		t->end = ls > t->start ? ls : t->start;
}

/* Drops the whitespace and line end after tag k, up to after. */
static void
trim_after(struct comp *c, uint32_t k, uint32_t after)
{
	if (k + 1 >= c->ntoks || c->toks[k + 1].type != TK_TEXT)
		return;
	struct tok *t = &c->toks[k + 1];
	t->start = after < t->end ? after : t->end;
}

static void
find_standalone(struct comp *c)
{
	for (uint32_t k = 0; k < c->ntoks; k++) {
		struct tok *t = &c->toks[k];
		uint32_t ls, after, dummy;

		switch (t->type) {
		case TK_TEXT:
		case TK_VAR:
		case TK_RAW: continue;
		case TK_PARENT: {
			/* What lies inside a parent other than blocks is ignored, so
			 * only its opener's left and its closer's right count. */
			bool lc = left_clear(c, t->start, &ls);
			bool pair = lc && right_clear(c, c->toks[t->match].end, &dummy);
			if (lc && (pair || right_clear(c, t->end, &dummy)))
				trim_before(c, k, ls);
			if (pair) {
				t->flags |= TF_PAIR;
				t->ind = ls;
				t->nind = t->start - ls;
			}
			continue;
		}
		case TK_CLOSE: {
			const struct tok *o = &c->toks[t->match];
			if (o->type == TK_PARENT) {
				if (right_clear(c, t->end, &after) &&
				    ((o->flags & TF_PAIR) || left_clear(c, t->start, &ls))) {
					trim_after(c, k, after);
					t->flags |= TF_NL;
				}
				continue;
			}
			if (o->flags & TF_ARG) {
				/* An argument ends like a file: its last line keeps its
				 * line end, and what follows is ignored. */
				if (left_clear(c, t->start, &ls))
					trim_before(c, k, ls);
				continue;
			}
			break;
		}
		case TK_BLOCK: {
			bool rc = right_clear(c, t->end, &after);
			if (t->flags & TF_ARG) {
				if (rc) {
					trim_after(c, k, after);
					t->flags |= TF_EOL;
					t->ind = after;
					t->nind = ws_run(c, after);
				}
				continue;
			}
			bool lc = left_clear(c, t->start, &ls);
			if (lc && right_clear(c, c->toks[t->match].end, &dummy)) {
				t->flags |= TF_PAIR;
				if (rc) {
					t->flags |= TF_EOL;
					t->ind = after;
					t->nind = ws_run(c, after);
				} else {
					trim_before(c, k, ls);
					t->ind = ls;
					t->nind = t->start - ls;
				}
			}
			break;
		}
		default: break;
		}
		if (left_clear(c, t->start, &ls) && right_clear(c, t->end, &after)) {
			t->flags |= TF_STD;
			trim_before(c, k, ls);
			trim_after(c, k, after);
			if (t->type == TK_PARTIAL) {
				t->ind = ls;
				t->nind = t->start - ls;
			}
		}
	}
}

static uint32_t
emit(struct comp *c, int kind, int flags)
{
	if (c->nops == c->opcap) {
		c->opcap = c->opcap ? c->opcap * 2 : 32;
		c->ops = xrealloc(c->ops, (size_t) c->opcap * sizeof *c->ops);
	}
	uint32_t i = c->nops++;
	c->ops[i] = (struct op){ .kind = (uint8_t) kind, .flags = (uint8_t) flags, .end = i + 1 };
	return i;
}

static int
bol_flag(const struct comp *c)
{
	return c->bol == BOL_YES ? F_BOL : c->bol == BOL_START ? F_BOL_START : 0;
}

/* Skips, at a line start, the intrinsic indentation of each enclosing block. */
static uint32_t
strip_levels(const struct comp *c, uint32_t p, uint32_t end)
{
	for (unsigned i = 0; i < c->nlevels; i++) {
		struct slice l = c->levels[i];
		if (l.len && end - p >= l.len && memcmp(c->src + p, l.ptr, l.len) == 0)
			p += (uint32_t) l.len;
	}
	return p;
}

static struct slice
stripped(const struct comp *c, uint32_t off, uint32_t n)
{
	uint32_t p = strip_levels(c, off, off + n);
	return (struct slice){ c->src + p, off + n - p };
}

static void
set_indent(struct comp *c, uint32_t i, struct slice s)
{
	c->ops[i].text = (uint32_t) c->pool.len;
	c->ops[i].len = (uint32_t) s.len;
	buf_add_slice(&c->pool, s);
}

static void
set_name(struct comp *c, uint32_t i, const struct tok *t, bool dotted)
{
	const char *s = c->src + t->name;
	struct op *op = &c->ops[i];

	op->name = (uint32_t) c->pool.len;
	if (dotted && t->nlen == 1 && s[0] == '.') {
		op->nparts = 0;
		return;
	}
	if (dotted) {
		uint32_t start = 0;
		op->nparts = 0;
		for (uint32_t j = 0; j <= t->nlen; j++) {
			if (j == t->nlen || s[j] == '.') {
				buf_add(&c->pool, s + start, j - start);
				buf_putc(&c->pool, '\0');
				op->nparts++;
				start = j + 1;
			}
		}
		return;
	}
	buf_add(&c->pool, s, t->nlen);
	buf_putc(&c->pool, '\0');
	op->hash = c->pool.err ? 0 : hash_name(c->pool.ptr + op->name);
}

static void
gen_text(struct comp *c, uint32_t s, uint32_t e)
{
	size_t off = c->pool.len;

	while (s < e) {
		if (c->nlevels && (s == 0 || c->src[s - 1] == '\n'))
			s = strip_levels(c, s, e);
		const char *nl = memchr(c->src + s, '\n', e - s);
		uint32_t q = nl ? (uint32_t) (nl - c->src) + 1 : e;
		buf_add(&c->pool, c->src + s, q - s);
		s = q;
	}
	if (c->pool.len == off)
		return;
	uint32_t i = emit(c, OP_TEXT, bol_flag(c));
	c->ops[i].text = (uint32_t) off;
	c->ops[i].len = (uint32_t) (c->pool.len - off);
	c->bol = c->pool.ptr[c->pool.len - 1] == '\n' ? BOL_YES : BOL_NO;
}

/* A body ends at a closer: a line starting there is still indented. */
static void
close_body(struct comp *c, const struct tok *close)
{
	if (close->flags & TF_STD) {
		c->bol = BOL_YES;
		return;
	}
	if (c->bol != BOL_NO)
		emit(c, OP_BOL, bol_flag(c));
	c->bol = BOL_NO;
}

static void gen_range(struct comp *c, uint32_t k, uint32_t end);

static void
gen_arg(struct comp *c, uint32_t k)
{
	const struct tok *t = &c->toks[k];
	uint32_t i = emit(c, OP_ARG, 0);
	int bol = c->bol;

	set_name(c, i, t, false);
	c->levels[c->nlevels++] = (t->flags & TF_EOL) ? stripped(c, t->ind, t->nind) : (struct slice){ "", 0 };
	c->bol = BOL_START;
	gen_range(c, k + 1, t->match);
	c->nlevels--;
	c->bol = bol;
	c->ops[i].end = c->nops;
}

static void
gen_parent(struct comp *c, uint32_t k)
{
	const struct tok *t = &c->toks[k];
	bool pair = t->flags & TF_PAIR;
	uint32_t i = emit(c, OP_PARENT, pair ? F_STANDALONE : bol_flag(c));

	set_name(c, i, t, false);
	if (pair)
		set_indent(c, i, stripped(c, t->ind, t->nind));
	for (uint32_t m = k + 1; m < t->match;) {
		const struct tok *u = &c->toks[m];
		if (u->type == TK_BLOCK && (u->flags & TF_ARG))
			gen_arg(c, m);
		m = is_opener(u->type) ? u->match + 1 : m + 1;
	}
	c->ops[i].end = c->nops;
	c->bol = (c->toks[t->match].flags & TF_NL) ? BOL_YES : BOL_NO;
}

static void
gen_block(struct comp *c, uint32_t k)
{
	const struct tok *t = &c->toks[k];
	bool pair = t->flags & TF_PAIR;
	bool line = pair || (t->flags & TF_STD);
	int flags = (line ? F_LINE : bol_flag(c)) | (pair ? F_STANDALONE : 0);
	uint32_t i = emit(c, OP_BLOCK, flags);
	struct slice d = { "", 0 };

	set_name(c, i, t, false);
	if (pair) {
		struct slice ind = stripped(c, t->ind, t->nind);
		set_indent(c, i, ind);
		if (t->flags & TF_EOL)
			d = ind;
	}
	c->levels[c->nlevels++] = d;
	c->bol = line ? BOL_YES : BOL_NO;
	gen_range(c, k + 1, t->match);
	close_body(c, &c->toks[t->match]);
	c->nlevels--;
	c->ops[i].end = c->nops;
}

static void
gen_range(struct comp *c, uint32_t k, uint32_t end)
{
	while (k < end) {
		const struct tok *t = &c->toks[k];
		bool std = t->flags & TF_STD;
		uint32_t i;

		switch (t->type) {
		case TK_TEXT: gen_text(c, t->start, t->end); break;
		case TK_VAR:
		case TK_RAW:
			i = emit(c, t->type == TK_VAR ? OP_VAR : OP_RAW, bol_flag(c));
			set_name(c, i, t, true);
			c->bol = BOL_NO;
			break;
		case TK_COMMENT:
		case TK_DELIM:
			if (std)
				c->bol = BOL_YES;
			break;
		case TK_SECTION:
		case TK_INVERTED:
			i = emit(c, t->type == TK_SECTION ? OP_SECTION : OP_INVERTED, std ? 0 : bol_flag(c));
			set_name(c, i, t, true);
			c->bol = std ? BOL_YES : BOL_NO;
			gen_range(c, k + 1, t->match);
			close_body(c, &c->toks[t->match]);
			c->ops[i].end = c->nops;
			k = t->match;
			break;
		case TK_PARTIAL:
			i = emit(c, OP_PARTIAL, std ? F_STANDALONE : bol_flag(c));
			set_name(c, i, t, false);
			if (std)
				set_indent(c, i, stripped(c, t->ind, t->nind));
			c->bol = std ? BOL_YES : BOL_NO;
			break;
		case TK_PARENT:
			gen_parent(c, k);
			k = t->match;
			break;
		case TK_BLOCK:
			gen_block(c, k);
			k = t->match;
			break;
		default: break;
		}
		k++;
	}
}

static void
tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->ops);
	free(t->pool);
	free(t);
}

static mh_err
compile(struct comp *c, struct tmpl **out)
{
	mh_err e;

	if ((e = tokenize(c)) != MH_OK || (e = match_tokens(c)) != MH_OK)
		return e;
	find_standalone(c);
	c->bol = BOL_YES;
	gen_range(c, 0, c->ntoks);
	if (buf_error(&c->pool))
		return parse_error(c, 1, "template too large");

	struct tmpl *t = xcalloc(1, sizeof *t);
	t->name = xstrdup(c->name);
	t->hash = hash_name(t->name);
	t->nops = c->nops;
	t->ops = c->ops;
	c->ops = NULL;
	t->pool = buf_detach(&c->pool, NULL);
	*out = t;
	return MH_OK;
}

struct tmpl_set *
tmpl_set_new(void)
{
	struct tmpl_set *set = xcalloc(1, sizeof *set);
	set->cap = 16;
	set->slot = xcalloc(set->cap, sizeof *set->slot);
	return set;
}

void
tmpl_set_free(struct tmpl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->cap; i++)
		tmpl_free(set->slot[i]);
	free(set->slot);
	free(set);
}

static size_t
set_slot(const struct tmpl_set *set, const char *name, uint32_t h)
{
	size_t mask = set->cap - 1, i = h & mask;
	while (set->slot[i] && (set->slot[i]->hash != h || strcmp(set->slot[i]->name, name) != 0))
		i = (i + 1) & mask;
	return i;
}

static const struct tmpl *
set_get(const struct tmpl_set *set, const char *name, uint32_t h)
{
	return set->slot[set_slot(set, name, h)];
}

static void
set_put(struct tmpl_set *set, struct tmpl *t)
{
	size_t i = set_slot(set, t->name, t->hash);

	if (set->slot[i]) {
		tmpl_free(set->slot[i]);
		set->slot[i] = t;
		return;
	}
	if ((set->count + 1) * 2 > set->cap) {
		struct tmpl **old = set->slot;
		size_t oldcap = set->cap;
		set->cap *= 2;
		set->slot = xcalloc(set->cap, sizeof *set->slot);
		for (size_t j = 0; j < oldcap; j++) {
			if (old[j])
				set->slot[set_slot(set, old[j]->name, old[j]->hash)] = old[j];
		}
		free(old);
		i = set_slot(set, t->name, t->hash);
	}
	set->slot[i] = t;
	set->count++;
}

mh_err
tmpl_set_add(struct tmpl_set *set, const char *name, const char *src, size_t len, char *err, size_t errlen)
{
	struct comp *c = NULL;
	struct tmpl *t = NULL;
	mh_err e;

	if (err && errlen)
		err[0] = '\0';
	if (!set || !name || (!src && len)) {
		e = MH_ERR_INVALID;
		goto out;
	}
	if (len > MAX_SRC) {
		if (err && errlen)
			snprintf(err, errlen, "%s:1: template too large", name);
		e = MH_ERR_TOOBIG;
		goto out;
	}
	/* The compiler's level stack is a few kilobytes: keep it off the stack. */
	c = xcalloc(1, sizeof *c);
	c->name = name;
	c->src = src ? src : "";
	c->len = (uint32_t) len;
	c->err = err;
	c->errlen = errlen;
	buf_init(&c->pool, (size_t) UINT32_MAX);
	e = compile(c, &t);
	if (e == MH_OK)
		set_put(set, t);
out:
	if (c) {
		free(c->toks);
		free(c->ops);
		buf_release(&c->pool);
		free(c);
	}
	return e;
}

bool
tmpl_set_has(const struct tmpl_set *set, const char *name)
{
	return set && name && set_get(set, name, hash_name(name)) != NULL;
}

/* Rendering. Everything lives in this struct, on the caller's stack. */

struct frame {
	const struct tmpl *t; /* template holding the parent op */
	uint32_t op;          /* the parent op, whose body holds the arguments */
	int prev;             /* enclosing frame whose arguments are visible */
};

struct render {
	const struct tmpl_set *set;
	struct buf *out;
	mh_err err;
	unsigned depth, tdepth;
	long steps; /* ops left to run */
	unsigned nctx;
	unsigned nind, base; /* indentation in force: ind[base..nind) */
	int head;            /* innermost visible parent frame, or -1 */
	unsigned nframes;
	bool start_ok; /* the block site being expanded starts a line */
	json_t *ctx[TMPL_MAX_NEST + 1];
	struct slice ind[TMPL_MAX_NEST];
	struct frame frames[TMPL_MAX_DEPTH];
};

static void render_range(struct render *st, const struct tmpl *t, uint32_t i, uint32_t end);

/* Nesting bounds the stack but not the work: sections nested in a
 * template, or a partial recursing over the same list, multiply it. */
static bool
running(const struct render *st)
{
	return st->steps >= 0 && !buf_error(st->out);
}

/* Nesting is bounded so a recursive partial ends instead of the stack. */
static bool
enter(struct render *st, bool tmpl)
{
	if (st->depth >= TMPL_MAX_NEST || (tmpl && st->tdepth >= TMPL_MAX_DEPTH)) {
		st->err = MH_ERR_TOOBIG;
		return false;
	}
	st->depth++;
	st->tdepth += tmpl;
	return true;
}

static void
leave(struct render *st, bool tmpl)
{
	st->depth--;
	st->tdepth -= tmpl;
}

static json_t *
lookup(const struct render *st, const struct tmpl *t, const struct op *op)
{
	const char *part = t->pool + op->name;
	json_t *v = NULL;

	if (op->nparts == 0)
		return st->nctx ? st->ctx[st->nctx - 1] : NULL;
	for (unsigned i = st->nctx; i-- > 0;) {
		if (json_is_object(st->ctx[i]) && (v = json_object_get(st->ctx[i], part)) != NULL)
			break;
	}
	/* Later parts resolve only within the first one's value. */
	for (uint32_t n = 1; v && n < op->nparts; n++) {
		part += strlen(part) + 1;
		v = json_is_object(v) ? json_object_get(v, part) : NULL;
	}
	return v;
}

static bool
truthy(const json_t *v)
{
	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE: return false;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	default: return true;
	}
}

static void
put_indent(struct render *st)
{
	for (unsigned i = st->base; i < st->nind; i++)
		buf_add_slice(st->out, st->ind[i]);
}

static void
put_text(struct render *st, const char *p, size_t n)
{
	const char *e = p + n, *nl;

	if (st->nind == st->base) {
		buf_add(st->out, p, n);
		return;
	}
	while ((nl = memchr(p, '\n', (size_t) (e - p))) != NULL && nl + 1 < e) {
		buf_add(st->out, p, (size_t) (nl + 1 - p));
		put_indent(st);
		p = nl + 1;
	}
	buf_add(st->out, p, (size_t) (e - p));
}

/* The shortest form that reads back as the same double: 1.21, not
 * 1.2099999999999999. */
static void
put_real(struct buf *out, double d)
{
	char tmp[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_puts(out, tmp);
}

static void
put_value(struct render *st, const json_t *v, bool escape)
{
	char tmp[32];

	if (!v)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (escape)
			buf_add_html(st->out, json_string_value(v), json_string_length(v));
		else
			buf_add(st->out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		buf_puts(st->out, tmp);
		break;
	case JSON_REAL: put_real(st->out, json_real_value(v)); break;
	case JSON_TRUE: buf_puts(st->out, "true"); break;
	case JSON_FALSE: buf_puts(st->out, "false"); break;
	default: break;
	}
}

static void
render_section(struct render *st, const struct tmpl *t, uint32_t i)
{
	const struct op *op = &t->ops[i];
	json_t *v = lookup(st, t, op);
	bool yes = truthy(v);

	if ((op->kind == OP_SECTION) != yes || !enter(st, false))
		return;
	if (op->kind == OP_INVERTED) {
		render_range(st, t, i + 1, op->end);
	} else if (json_is_array(v)) {
		size_t n = json_array_size(v);
		for (size_t k = 0; k < n && running(st); k++) {
			st->ctx[st->nctx++] = json_array_get(v, k);
			render_range(st, t, i + 1, op->end);
			st->nctx--;
		}
	} else {
		st->ctx[st->nctx++] = v;
		render_range(st, t, i + 1, op->end);
		st->nctx--;
	}
	leave(st, false);
}

/* Partials and parents: a standalone tag indents the whole template; an
 * inline one renders it without any indentation, as if its source had
 * been pasted in place. */
static void
render_template(struct render *st, const struct tmpl *t, const struct op *op, const struct tmpl *inc)
{
	unsigned nind = st->nind, base = st->base;

	if (op->flags & F_STANDALONE)
		st->ind[st->nind++] = (struct slice){ t->pool + op->text, op->len };
	else
		st->base = st->nind;
	render_range(st, inc, 0, inc->nops);
	st->nind = nind;
	st->base = base;
}

static void
render_partial(struct render *st, const struct tmpl *t, uint32_t i)
{
	const struct op *op = &t->ops[i];
	const struct tmpl *inc = set_get(st->set, t->pool + op->name, op->hash);

	if (!inc || !enter(st, true))
		return;
	render_template(st, t, op, inc);
	leave(st, true);
}

static void
render_parent(struct render *st, const struct tmpl *t, uint32_t i)
{
	const struct op *op = &t->ops[i];
	const struct tmpl *inc = set_get(st->set, t->pool + op->name, op->hash);

	if (!inc || !enter(st, true))
		return;
	st->frames[st->nframes] = (struct frame){ t, i, st->head };
	st->head = (int) st->nframes++;
	render_template(st, t, op, inc);
	st->nframes--;
	st->head = st->frames[st->nframes].prev;
	leave(st, true);
}

/* Expands a block with the argument the outermost parent call passes for
 * it (the spec gives top-level templates precedence), or its default. */
static void
render_block(struct render *st, const struct tmpl *t, uint32_t i)
{
	const struct op *op = &t->ops[i];
	const char *name = t->pool + op->name;
	const struct tmpl *at = NULL;
	uint32_t ai = 0;
	int af = -1;

	for (int f = st->head; f >= 0; f = st->frames[f].prev) {
		const struct tmpl *ft = st->frames[f].t;
		uint32_t p = st->frames[f].op;
		for (uint32_t k = p + 1; k < ft->ops[p].end; k = ft->ops[k].end) {
			const struct op *a = &ft->ops[k];
			if (a->hash == op->hash && strcmp(ft->pool + a->name, name) == 0) {
				at = ft;
				ai = k;
				af = f;
				break;
			}
		}
	}
	if (!enter(st, false))
		return;
	unsigned nind = st->nind;
	if (op->flags & F_STANDALONE)
		st->ind[st->nind++] = (struct slice){ t->pool + op->text, op->len };
	if (at) {
		/* The argument sees only the frames outside the one passing it,
		 * so a block inside it of the same name cannot recurse. */
		int head = st->head;
		bool ok = st->start_ok;
		st->head = st->frames[af].prev;
		st->start_ok = op->flags & F_LINE;
		render_range(st, at, ai + 1, at->ops[ai].end);
		st->head = head;
		st->start_ok = ok;
	} else {
		render_range(st, t, i + 1, op->end);
	}
	st->nind = nind;
	leave(st, false);
}

static void
render_range(struct render *st, const struct tmpl *t, uint32_t i, uint32_t end)
{
	while (i < end && running(st)) {
		const struct op *op = &t->ops[i];

		if (--st->steps < 0)
			break;
		if ((op->flags & F_BOL) || ((op->flags & F_BOL_START) && st->start_ok))
			put_indent(st);
		switch (op->kind) {
		case OP_TEXT: put_text(st, t->pool + op->text, op->len); break;
		case OP_VAR:
		case OP_RAW: put_value(st, lookup(st, t, op), op->kind == OP_VAR); break;
		case OP_SECTION:
		case OP_INVERTED: render_section(st, t, i); break;
		case OP_PARTIAL: render_partial(st, t, i); break;
		case OP_PARENT: render_parent(st, t, i); break;
		case OP_BLOCK: render_block(st, t, i); break;
		default: break;
		}
		i = op->end;
	}
}

mh_err
tmpl_render(const struct tmpl_set *set, const char *name, json_t *ctx, struct buf *out)
{
	const struct tmpl *t;
	struct render st;

	if (!set || !name || !(t = set_get(set, name, hash_name(name))))
		return MH_ERR_NOTFOUND;
	st.set = set;
	st.out = out;
	st.err = MH_OK;
	st.depth = st.tdepth = 0;
	st.steps = TMPL_MAX_STEPS;
	st.nind = st.base = 0;
	st.head = -1;
	st.nframes = 0;
	st.start_ok = false;
	st.nctx = 0;
	if (ctx)
		st.ctx[st.nctx++] = ctx;
	render_range(&st, t, 0, t->nops);
	if (st.steps < 0)
		st.err = MH_ERR_TOOBIG;
	return buf_error(out) ? buf_error(out) : st.err;
}
