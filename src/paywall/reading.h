/* reading.h: the one reading path. Every front door that shows an article's
 * text, or a quote from it (pages, gift links, speaker pages, and later the
 * Content API, feeds, search and newsletters), opens it here: the article,
 * the decision with its reason, and the gated part only when the decision is
 * FULL. No HTTP in here: the caller brings the viewer (paywall/access.h),
 * having read its cookies, and owns what it sends. */
#ifndef MH_READING_H
#define MH_READING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "paywall/access.h"

struct store;

struct reading {
	struct article *article;
	struct access_decision decision;
	const char *gated_html; /* the gated part: set only when decision.full (may be "") */
};

/* The rules a publication sets that bear on every decision. */
struct reading_rules {
	long auto_paywall_days; /* public articles turn paid after this many days; 0: never */
};

/* Decides for v on art as the publication's rules have it (the auto-paywall
 * first). Pure: for callers that hold the article already (a cached record). */
struct access_decision reading_decide(struct article *art, const struct viewer *v, const struct reading_rules *rules,
                                      int64_t now);

/* The gated part of art under decision d: into *gated when d is FULL, NULL
 * (and MH_OK) otherwise. The store refuses a decision that is not for art. */
mh_err reading_gated(struct store *s, struct arena *a, const struct article *art, const struct access_decision *d,
                     const char **gated);

/* Loads the article by slug, decides and, when FULL, reads the gated part.
 * MH_ERR_NOTFOUND for an unknown slug or one not yet published at now. */
mh_err reading_open(struct store *s, struct arena *a, const char *slug, const struct viewer *v,
                    const struct reading_rules *rules, int64_t now, struct reading *out);

/* A quote's text for v: the open text, or for a quote from a gated part the
 * text under its article's decision (NULL when that is a TEASER). *d gets
 * the decision (article_id 0 for an open quote). */
mh_err reading_quote(struct store *s, struct arena *a, struct quote *q, const struct viewer *v,
                     const struct reading_rules *rules, int64_t now, const char **text, struct access_decision *d);

/* Who may give a paid article away with a gift link: whoever reads it by
 * right (a subscriber, in grace, staff, comped), not by a gift or the meter. */
bool reading_may_gift(const struct article *art, const struct access_decision *d);

#endif
