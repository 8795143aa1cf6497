/* nql.c: a recursive-descent parser for the NQL subset (nql.h) and its
 * evaluation against one article. */
#include "api/nql.h"

#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "core/banned.h"

struct parser {
	struct arena *a;
	const char *s;
	size_t pos, len;
	int depth;
	int nodes;
	char *err;
	size_t errlen;
	bool failed;
};

static void
fail(struct parser *p, const char *msg)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "%s at character %zu of the filter", msg, p->pos + 1);
	p->failed = true;
}

static char
peek(const struct parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : '\0';
}

static void
skip_spaces(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

static struct nql_node *
new_node(struct parser *p, enum nql_kind kind)
{
	if (++p->nodes > NQL_MAX_NODES) {
		fail(p, "The filter has too many conditions");
		return NULL;
	}
	struct nql_node *n = arena_zalloc(p->a, sizeof *n);
	n->kind = kind;
	return n;
}

static const struct {
	const char *name;
	enum nql_field field;
} fields[] = {
	{ "tag", NQL_TAG },
	{ "tags", NQL_TAG },
	{ "tags.slug", NQL_TAG },
	{ "author", NQL_AUTHOR },
	{ "authors", NQL_AUTHOR },
	{ "authors.slug", NQL_AUTHOR },
	{ "primary_tag", NQL_PRIMARY_TAG },
	{ "primary_tag.slug", NQL_PRIMARY_TAG },
	{ "primary_author", NQL_PRIMARY_AUTHOR },
	{ "primary_author.slug", NQL_PRIMARY_AUTHOR },
	{ "featured", NQL_FEATURED },
	{ "visibility", NQL_VISIBILITY },
	{ "id", NQL_ID },
	{ "slug", NQL_SLUG },
	{ "published_at", NQL_PUBLISHED_AT },
	{ "updated_at", NQL_UPDATED_AT },
};

static bool
bare_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '.' || c == ':';
}

/* One value: quoted (with \ escapes) or bare. */
static const char *
parse_value(struct parser *p)
{
	skip_spaces(p);
	char q = peek(p);
	char buf[NQL_MAX_VALUE + 1];
	size_t n = 0;
	if (q == '\'' || q == '"') {
		p->pos++;
		for (;;) {
			if (p->pos >= p->len) {
				fail(p, "A quoted value is not closed");
				return NULL;
			}
			char c = p->s[p->pos++];
			if (c == q)
				break;
			if (c == '\\') {
				if (p->pos >= p->len) {
					fail(p, "A quoted value is not closed");
					return NULL;
				}
				c = p->s[p->pos++];
			}
			if (n == NQL_MAX_VALUE) {
				fail(p, "A value is too long");
				return NULL;
			}
			buf[n++] = c;
		}
	} else {
		while (p->pos < p->len && bare_char(p->s[p->pos])) {
			if (n == NQL_MAX_VALUE) {
				fail(p, "A value is too long");
				return NULL;
			}
			buf[n++] = p->s[p->pos++];
		}
		if (n == 0) {
			fail(p, "Expected a value");
			return NULL;
		}
	}
	return arena_strndup(p->a, buf, n);
}

static bool
is_date_field(enum nql_field f)
{
	return f == NQL_PUBLISHED_AT || f == NQL_UPDATED_AT;
}

/* A date as Ghost's clients write it: 2026-01-01, 2026-01-01 10:00:00 or ISO 8601. */
static bool
parse_date(struct arena *a, const char *v, int64_t *out)
{
	char *copy = arena_strdup(a, v);
	if (strlen(copy) > 10 && copy[10] == ' ')
		copy[10] = 'T';
	if (strlen(copy) == 19)
		copy = arena_concat(a, copy, "Z", NULL);
	return time_parse_iso8601(copy, out);
}

static bool
check_value(struct parser *p, enum nql_field f, const char *v)
{
	if (f == NQL_FEATURED && strcmp(v, "true") && strcmp(v, "false")) {
		fail(p, "featured takes true or false");
		return false;
	}
	if (f == NQL_VISIBILITY && strcmp(v, "public") && strcmp(v, "members") && strcmp(v, "paid") &&
	    strcmp(v, "tiers") && strcmp(v, "none")) {
		fail(p, "visibility takes public, members or paid");
		return false;
	}
	int64_t t;
	if (is_date_field(f) && !parse_date(p->a, v, &t)) {
		fail(p, "A date must look like 2026-01-01 or 2026-01-01 10:00:00");
		return false;
	}
	return true;
}

static struct nql_node *parse_or(struct parser *p);

static struct nql_node *
parse_clause(struct parser *p)
{
	size_t start = p->pos;
	while (p->pos < p->len &&
	       ((p->s[p->pos] >= 'a' && p->s[p->pos] <= 'z') || p->s[p->pos] == '_' || p->s[p->pos] == '.'))
		p->pos++;
	size_t n = p->pos - start;
	if (n == 0) {
		fail(p, "Expected a field name");
		return NULL;
	}
	int field = -1;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strlen(fields[i].name) == n && !memcmp(fields[i].name, p->s + start, n))
			field = (int) fields[i].field;
	if (field < 0) {
		p->pos = start;
		fail(p, "Unknown field in the filter (see docs/api.md for the fields it takes)");
		return NULL;
	}
	skip_spaces(p);
	if (peek(p) != ':') {
		fail(p, "Expected ':' after the field name");
		return NULL;
	}
	p->pos++;
	skip_spaces(p);
	struct nql_node *c = new_node(p, NQL_CLAUSE);
	if (!c)
		return NULL;
	c->field = (enum nql_field) field;
	bool neg = false;
	if (peek(p) == '-') {
		neg = true;
		p->pos++;
		skip_spaces(p);
	}
	if (peek(p) == '[') {
		if (is_date_field(c->field)) {
			fail(p, "A date cannot be a list");
			return NULL;
		}
		p->pos++;
		c->op = neg ? NQL_NIN : NQL_IN;
		c->values = arena_alloc(p->a, NQL_MAX_VALUES * sizeof *c->values);
		for (;;) {
			if (c->n_values == NQL_MAX_VALUES) {
				fail(p, "A list holds too many values");
				return NULL;
			}
			const char *v = parse_value(p);
			if (!v || !check_value(p, c->field, v))
				return NULL;
			c->values[c->n_values++] = v;
			skip_spaces(p);
			if (peek(p) == ',') {
				p->pos++;
				continue;
			}
			if (peek(p) == ']') {
				p->pos++;
				break;
			}
			fail(p, "Expected ',' or ']' in a list");
			return NULL;
		}
		return c;
	}
	c->op = neg ? NQL_NE : NQL_EQ;
	if (peek(p) == '>' || peek(p) == '<') {
		bool gt = peek(p) == '>';
		p->pos++;
		bool eq = peek(p) == '=';
		if (eq)
			p->pos++;
		if (neg) {
			fail(p, "A comparison cannot be negated");
			return NULL;
		}
		if (!is_date_field(c->field)) {
			fail(p, "Only published_at and updated_at take > and <");
			return NULL;
		}
		c->op = gt ? (eq ? NQL_GE : NQL_GT) : (eq ? NQL_LE : NQL_LT);
	}
	const char *v = parse_value(p);
	if (!v || !check_value(p, c->field, v))
		return NULL;
	c->values = arena_alloc(p->a, sizeof *c->values);
	c->values[0] = v;
	c->n_values = 1;
	if (is_date_field(c->field))
		parse_date(p->a, v, &c->time);
	return c;
}

static struct nql_node *
parse_term(struct parser *p)
{
	skip_spaces(p);
	if (peek(p) == '(') {
		if (++p->depth > NQL_MAX_DEPTH) {
			fail(p, "The filter nests too deeply");
			return NULL;
		}
		p->pos++;
		struct nql_node *n = parse_or(p);
		if (!n)
			return NULL;
		skip_spaces(p);
		if (peek(p) != ')') {
			fail(p, "Expected ')'");
			return NULL;
		}
		p->pos++;
		p->depth--;
		return n;
	}
	return parse_clause(p);
}

static struct nql_node *
parse_and(struct parser *p)
{
	struct nql_node *left = parse_term(p);
	for (;;) {
		if (!left)
			return NULL;
		skip_spaces(p);
		if (peek(p) != '+')
			return left;
		p->pos++;
		struct nql_node *right = parse_term(p), *n;
		if (!right || !(n = new_node(p, NQL_AND)))
			return NULL;
		n->left = left;
		n->right = right;
		left = n;
	}
}

static struct nql_node *
parse_or(struct parser *p)
{
	struct nql_node *left = parse_and(p);
	for (;;) {
		if (!left)
			return NULL;
		skip_spaces(p);
		if (peek(p) != ',')
			return left;
		p->pos++;
		struct nql_node *right = parse_and(p), *n;
		if (!right || !(n = new_node(p, NQL_OR)))
			return NULL;
		n->left = left;
		n->right = right;
		left = n;
	}
}

mh_err
nql_parse(struct arena *a, const char *text, struct nql_node **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	size_t len = strlen(text);
	if (len > NQL_MAX_LEN) {
		snprintf(err, errlen, "The filter is longer than %d characters", NQL_MAX_LEN);
		return MH_ERR_INVALID;
	}
	struct parser p = { a, text, 0, len, 0, 0, err, errlen, false };
	struct nql_node *n = parse_or(&p);
	skip_spaces(&p);
	if (n && p.pos != p.len)
		fail(&p, "Unexpected character");
	if (p.failed || !n) {
		if (!p.failed)
			fail(&p, "The filter is empty");
		return MH_ERR_INVALID;
	}
	*out = n;
	return MH_OK;
}

static bool
in_refs(const struct named_ref *refs, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(refs[i].slug, v))
			return true;
	return false;
}

/* Whether the subject's field equals one value. */
static bool
equals(const struct nql_node *c, const struct nql_subject *s, const char *v)
{
	const struct article *a = s->article;
	switch (c->field) {
	case NQL_TAG: return in_refs(a->tags, a->n_tags, v);
	case NQL_AUTHOR: return in_refs(a->authors, a->n_authors, v);
	case NQL_PRIMARY_TAG: return a->n_tags > 0 && !strcmp(a->tags[0].slug, v);
	case NQL_PRIMARY_AUTHOR: return a->n_authors > 0 && !strcmp(a->authors[0].slug, v);
	case NQL_FEATURED: return s->featured == !strcmp(v, "true");
	case NQL_VISIBILITY: return !strcmp(access_level_name(a->access), v);
	case NQL_ID: return s->id && !strcmp(s->id, v);
	case NQL_SLUG: return !strcmp(a->slug, v);
	case NQL_PUBLISHED_AT: return c->time == a->published_at; /* parsed once, in parse_clause */
	case NQL_UPDATED_AT: return c->time == a->updated_at;
	}
	return false;
}

bool
nql_match(const struct nql_node *n, const struct nql_subject *s)
{
	switch (n->kind) {
	case NQL_AND: return nql_match(n->left, s) && nql_match(n->right, s);
	case NQL_OR: return nql_match(n->left, s) || nql_match(n->right, s);
	case NQL_CLAUSE: break;
	}
	int64_t t = n->field == NQL_PUBLISHED_AT ? s->article->published_at : s->article->updated_at;
	switch (n->op) {
	case NQL_GT: return t > n->time;
	case NQL_GE: return t >= n->time;
	case NQL_LT: return t < n->time;
	case NQL_LE: return t <= n->time;
	case NQL_EQ: return equals(n, s, n->values[0]);
	case NQL_NE: return !equals(n, s, n->values[0]);
	case NQL_IN:
	case NQL_NIN: {
		bool any = false;
		for (size_t i = 0; i < n->n_values && !any; i++)
			any = equals(n, s, n->values[i]);
		return n->op == NQL_IN ? any : !any;
	}
	}
	return false;
}
