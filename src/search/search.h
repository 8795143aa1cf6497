/* search.h: search that respects the paywall, without HTTP (docs/search.md).
 *
 * Two indexes: the public one (titles, deks, teasers) that every reader
 * searches, and the gated one, searched for an article only when the
 * reader's decision on it (paywall/reading.h, with no gift link and no
 * meter) is FULL by right. A result's rank and snippet come from an index
 * the reader may search, so a word found only behind the paywall finds
 * nothing, and shows in no snippet, count or order, for a reader without
 * access. The page, feed and API front doors all call search_query(). */
#ifndef MH_SEARCH_H
#define MH_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "paywall/access.h"
#include "paywall/reading.h"
#include "search/query.h"

struct store;
struct search_scope;

#define SEARCH_LIMIT_MAX   50
#define SEARCH_PAGE_MAX    1000
#define SEARCH_RESULTS_MAX 1000 /* results a query ranks and shows: the newest that match */

struct search_hit {
	int64_t article_id;
	const char *slug;
	const char *title;        /* plain */
	const char *title_html;   /* HTML-escaped, matches in <mark> */
	const char *dek_html;     /* likewise ("" when the article has none) */
	const char *snippet_html; /* likewise: a few words around the best match */
	double rank;              /* lower ranks first; public matches before gated-only ones */
	int64_t published_at;
	enum access_level access; /* after the auto-paywall */
	bool gated;               /* matched (and the snippet comes from) the gated part */
};

struct search_results {
	struct search_terms terms; /* what was searched: terms.text, terms.n (0: nothing to search) */
	size_t total;              /* results for this reader, on every page: at most SEARCH_RESULTS_MAX */
	bool more;                 /* more than total matched: "more than 1,000 results" */
	size_t page, pages, limit;
	struct search_hit *hits; /* this page's, best first */
	size_t n;
};

/* Searches q (a reader's text, any bytes, len of them) for viewer v, the
 * publication's rules, at now; page from 1, limit results a page (both
 * clamped into range). The results are the newest SEARCH_RESULTS_MAX that
 * match, in order (docs/search.md): the cost follows that cap, not the
 * number of matches. No words in q: MH_OK with terms.n 0 and no results.
 * Everything is allocated from a. */
mh_err search_query(struct store *s, struct arena *a, const char *q, size_t len, const struct viewer *v,
                    const struct reading_rules *rules, int64_t now, size_t page, size_t limit,
                    struct search_results *out);

/* The gated index is searched for art only when this holds: v's decision,
 * taken without a gift link or the meter, is FULL by right. *d gets it. */
bool search_gated_allowed(struct article *art, const struct viewer *v, const struct reading_rules *rules, int64_t now,
                          struct access_decision *d);

/* Which articles' gated index v may search, in the store's terms: the
 * decision above taken on an article of each access level. */
void search_scope_for(const struct viewer *v, const struct reading_rules *rules, int64_t now, struct search_scope *out);

/* Marked text (0x01 starts a match, 0x02 ends it) as escaped HTML with <mark>. */
const char *search_marked_html(struct arena *a, const char *marked);

#endif
