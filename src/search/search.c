/* search.c: search that respects the paywall (search.h). */
#include "search/search.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store.h"
#include "core/banned.h"

bool
search_gated_allowed(struct article *art, const struct viewer *v, const struct reading_rules *rules, int64_t now,
                     struct access_decision *d)
{
	/* A gift link opens one article to read, and the meter a few: neither
	 * opens the gated index, which would tell of every article at once. */
	struct viewer by_right = *v;
	by_right.gift = false;
	by_right.meter_remaining = -1;
	by_right.meter_counted = false;
	*d = reading_decide(art, &by_right, rules, now);
	return d->full && d->reason != REASON_GIFT && d->reason != REASON_METERED;
}

void
search_scope_for(const struct viewer *v, const struct reading_rules *rules, int64_t now, struct search_scope *out)
{
	/* The decision depends on the article by its access level alone, once
	 * the auto-paywall has turned an old public article paid: probe each
	 * level with an article published now, which no auto-paywall touches. */
	struct access_decision d;
	struct article probe = { .published_at = now };
	memset(out, 0, sizeof *out);
	out->now = now;
	probe.access = ACCESS_PUBLIC;
	out->gated_public = search_gated_allowed(&probe, v, rules, now, &d);
	probe.access = ACCESS_MEMBERS;
	out->gated_members = search_gated_allowed(&probe, v, rules, now, &d);
	probe.access = ACCESS_PAID;
	out->gated_paid = search_gated_allowed(&probe, v, rules, now, &d);
	long days = rules ? rules->auto_paywall_days : 0;
	out->paywalled_before = days > 0 ? now - (int64_t) days * 86400 : INT64_MIN;
}

const char *
search_marked_html(struct arena *a, const char *marked)
{
	struct buf b = BUF_INIT;
	bool open = false;
	const char *p = marked ? marked : "";
	while (*p) {
		size_t run = strcspn(p, "\x01\x02");
		buf_add_html(&b, p, run);
		p += run;
		if (*p == '\x01' && !open) {
			buf_puts(&b, "<mark>");
			open = true;
		} else if (*p == '\x02' && open) {
			buf_puts(&b, "</mark>");
			open = false;
		}
		if (*p)
			p++;
	}
	if (open)
		buf_puts(&b, "</mark>");
	const char *out = arena_strndup(a, b.ptr, b.len);
	buf_release(&b);
	return out;
}

/* One matching article as this reader may see it. */
struct kept {
	struct search_row row;
	struct access_decision d;
	bool gated_ok;
};

/* Public matches by rank, then gated-only ones, newest first: a gated
 * match's place never depends on the gated index's statistics (bm25's
 * weights come from every gated text, including ones this reader may not
 * read). Ties: newest first, then the higher id. */
static int
kept_cmp(const void *x, const void *y)
{
	const struct kept *a = x, *b = y;
	if (a->row.in_public != b->row.in_public)
		return a->row.in_public ? -1 : 1;
	if (a->row.in_public && a->row.rank != b->row.rank)
		return a->row.rank < b->row.rank ? -1 : 1;
	if (a->row.published_at != b->row.published_at)
		return a->row.published_at > b->row.published_at ? -1 : 1;
	return a->row.article_id > b->row.article_id ? -1 : a->row.article_id < b->row.article_id;
}

mh_err
search_query(struct store *s, struct arena *a, const char *q, size_t len, const struct viewer *v,
             const struct reading_rules *rules, int64_t now, size_t page, size_t limit, struct search_results *out)
{
	memset(out, 0, sizeof *out);
	out->limit = limit < 1 ? 1 : limit > SEARCH_LIMIT_MAX ? SEARCH_LIMIT_MAX : limit;
	out->page = page < 1 ? 1 : page > SEARCH_PAGE_MAX ? SEARCH_PAGE_MAX : page;
	if (!search_terms_parse(q, len, &out->terms))
		return MH_OK;
	struct search_scope scope;
	search_scope_for(v, rules, now, &scope);
	scope.limit = SEARCH_RESULTS_MAX;
	struct search_row *rows;
	size_t n;
	mh_err err = store_search(s, a, out->terms.match, &scope, &rows, &n, &out->more);
	if (err)
		return err;
	struct kept *kept = arena_alloc(a, (n + 1) * sizeof *kept);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct article art = { .id = rows[i].article_id,
			               .access = rows[i].access,
			               .published_at = rows[i].published_at };
		struct kept *e = &kept[k];
		e->row = rows[i];
		/* Decided again here, whatever the store's scope said: a gated-only
		 * row counts only for a reader who may search that index, and a
		 * public one may show a snippet of the gated part only to them. */
		e->gated_ok = search_gated_allowed(&art, v, rules, now, &e->d);
		e->row.access = art.access; /* the auto-paywall applied */
		if (e->row.in_public || (e->row.in_gated && e->gated_ok))
			k++;
	}
	qsort(kept, k, sizeof *kept, kept_cmp);
	out->total = k;
	out->pages = (k + out->limit - 1) / out->limit;
	size_t first = (out->page - 1) * out->limit;
	if (first >= k)
		return MH_OK;
	size_t count = k - first < out->limit ? k - first : out->limit;
	out->hits = arena_alloc(a, count * sizeof *out->hits);
	for (size_t i = 0; i < count; i++) {
		struct kept *e = &kept[first + i];
		struct search_hit *h = &out->hits[i];
		struct search_excerpt ex;
		if ((err = store_search_excerpt(s, a, out->terms.any, e->row.article_id, &ex)))
			return err;
		const char *snippet = ex.snippet_marked;
		bool gated = false;
		/* The gated part speaks only when the public text has no match to show. */
		if (e->gated_ok && !strchr(snippet, '\x01')) {
			const char *g;
			if ((err = store_search_gated_snippet(s, a, out->terms.any, &e->d, &g)))
				return err;
			if (strchr(g, '\x01')) {
				snippet = g;
				gated = true;
			}
		}
		h->article_id = e->row.article_id;
		h->slug = ex.slug;
		h->title = ex.title;
		h->title_html = search_marked_html(a, ex.title_marked);
		h->dek_html = search_marked_html(a, ex.dek_marked);
		h->snippet_html = search_marked_html(a, snippet);
		h->rank = e->row.in_public ? e->row.rank : 0;
		h->published_at = e->row.published_at;
		h->access = e->row.access;
		h->gated = gated;
	}
	out->n = count;
	return MH_OK;
}
