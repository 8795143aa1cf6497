/* nql.h: the Content API's filter language, the subset of Ghost's NQL that
 * headless front-ends use (docs/api.md, "Filters").
 *
 *   filter  := or
 *   or      := and { ',' and }
 *   and     := term { '+' term }
 *   term    := '(' or ')' | FIELD ':' [ '-' ] rhs
 *   rhs     := '[' value { ',' value } ']' | [ '>' | '>=' | '<' | '<=' ] value
 *   value   := 'quoted, \' escapes' | "quoted" | bare [A-Za-z0-9_.:-]
 *
 * '+' binds tighter than ',', as in Ghost. The parser builds a tree in the
 * caller's arena; nql_match() evaluates it against one article. Outside
 * input: every limit below is checked, and any error is a message for the
 * client (answered 400). */
#ifndef MH_API_NQL_H
#define MH_API_NQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "model/content.h"

#define NQL_MAX_LEN    2048 /* bytes of filter text */
#define NQL_MAX_DEPTH  16   /* nested parentheses */
#define NQL_MAX_NODES  128  /* clauses and operators */
#define NQL_MAX_VALUES 100  /* values in one [a,b,...] */
#define NQL_MAX_VALUE  256  /* bytes of one value */

enum nql_field {
	NQL_TAG,            /* tag, tags, tags.slug: any of the article's tags */
	NQL_AUTHOR,         /* author, authors, authors.slug */
	NQL_PRIMARY_TAG,    /* primary_tag, primary_tag.slug: the first tag */
	NQL_PRIMARY_AUTHOR, /* primary_author, primary_author.slug */
	NQL_FEATURED,       /* true or false */
	NQL_VISIBILITY,     /* public, members, paid */
	NQL_ID,
	NQL_SLUG,
	NQL_PUBLISHED_AT,
	NQL_UPDATED_AT,
};

enum nql_op { NQL_EQ, NQL_NE, NQL_GT, NQL_GE, NQL_LT, NQL_LE, NQL_IN, NQL_NIN };

enum nql_kind { NQL_AND, NQL_OR, NQL_CLAUSE };

struct nql_node {
	enum nql_kind kind;
	struct nql_node *left, *right; /* AND, OR */
	enum nql_field field;          /* CLAUSE */
	enum nql_op op;
	const char **values; /* EQ, NE: one; IN, NIN: n_values */
	size_t n_values;
	int64_t time; /* GT, GE, LT, LE on a date */
};

/* Parses text; MH_ERR_INVALID with a message in err for anything it does not
 * accept (an unknown field, a bad date, a missing bracket, a limit passed). */
mh_err nql_parse(struct arena *a, const char *text, struct nql_node **out, char *err, size_t errlen);

/* What a clause is tested against: the article (tags and authors filled,
 * access as the reader sees it after the auto-paywall) and the values the
 * API gives it that the model does not hold. */
struct nql_subject {
	const struct article *article;
	const char *id; /* the post's id as the API shows it */
	bool featured;
};

bool nql_match(const struct nql_node *n, const struct nql_subject *s);

#endif
