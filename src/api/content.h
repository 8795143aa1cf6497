/* content.h: the Content API, compatible with Ghost's Content API (v5), with
 * no HTTP in it: the glue (web/api.c) checks the key and hands over the path
 * after the prefix and the query's values; this module parses them, reads
 * through the store and the one reading path as an anonymous reader, and
 * builds the JSON answer with Ghost's envelopes (docs/api.md). */
#ifndef MH_API_CONTENT_H
#define MH_API_CONTENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/nql.h"
#include "core/arena.h"
#include "core/err.h"
#include "paywall/reading.h"

#define API_LIMIT_DEFAULT 15
#define API_LIMIT_MAX     100   /* limit=all, and any larger limit, page by this many */
#define API_SCAN_BATCH    10000 /* articles read at a time by a filtered or reordered list */
#define API_PARAM_MAX     2048  /* bytes of one query value */
#define API_FIELDS_MAX    32
#define API_ORDER_MAX     4

/* The query's values as they came (NULL when absent). */
struct api_params {
	const char *include, *fields, *formats, *limit, *page, *order, *filter;
	const char *search; /* masthead's own: posts/?search=words (docs/api.md) */
};

enum api_order_field {
	API_ORD_PUBLISHED_AT,
	API_ORD_UPDATED_AT,
	API_ORD_TITLE,
	API_ORD_SLUG,
	API_ORD_ID,
	API_ORD_NAME
};

struct api_query {
	bool inc_tags, inc_authors, inc_count;
	const char **fields; /* NULL: every field */
	size_t n_fields;
	bool html, plaintext;
	size_t limit; /* 1..API_LIMIT_MAX */
	bool limit_all;
	size_t page; /* from 1 */
	struct {
		enum api_order_field field;
		bool desc;
	} order[API_ORDER_MAX];
	size_t n_order; /* 0: the resource's default */
	struct nql_node *filter;
	const char *search; /* NULL, or the words of ?search= (not empty) */
};

/* What the answers need of the site. */
struct api_site {
	struct store *store;
	const char *url; /* the public URL, no trailing slash */
	const char *title, *description;
	const unsigned char *secret; /* 32 bytes: derives the posts' uuids */
	struct reading_rules rules;
	int64_t now;
	size_t scan_batch; /* 0: API_SCAN_BATCH (tests set it small) */
};

/* Where a request goes: the resource, and for a read whether by id or slug. */
struct api_route {
	const char *resource; /* posts, pages, tags, authors, settings, tiers, people */
	const char *by;       /* NULL: browse; "id" or "slug" */
	const char *key;
};

/* Parses the path after the prefix ("posts/", "posts/slug/x/"). False when
 * it names nothing the API answers. */
bool api_route_parse(struct arena *a, const char *rest, struct api_route *out);

/* Parses the query's values; MH_ERR_INVALID with a message for the client. */
mh_err api_query_parse(struct arena *a, const struct api_params *p, struct api_query *q, char *err, size_t errlen);

/* The answer to one request: *status and a new JSON body (Ghost's envelope,
 * or its error envelope). */
json_t *api_answer(const struct api_site *site, struct arena *a, const struct api_route *rt, const struct api_params *p,
                   int *status);

/* Ghost's error envelope: {"errors":[{"message","context","type",...}]}. */
json_t *api_error(const char *type, const char *message, const char *context);

/* Content API keys: 26 lower-case hex characters, as Ghost's clients expect. */
#define API_KEY_CHARS 26
void api_key_new(char out[API_KEY_CHARS + 1]);
bool api_key_well_formed(const char *s);

/* Plain text from HTML (tags dropped, blocks on their own lines, the common
 * entities decoded), for plaintext and excerpt. */
char *api_html_to_text(struct arena *a, const char *html);

#endif
