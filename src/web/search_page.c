/* search_page.c: /search?q= for readers, over search/search.h. Any q is
 * answered with a page (no 400): no words in it shows the form alone. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "search/search.h"
#include "web/handlers.h"
#include "web/page.h"
#include "web/reader.h"
#include "core/banned.h"

#define SEARCH_PER_PAGE 10

static const char *
search_url(struct http_req *r, const char *text, size_t page)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "/search?q=");
	buf_add_urlenc(&b, text, strlen(text));
	if (page > 1)
		buf_printf(&b, "&page=%zu", page);
	const char *url = arena_strndup(r->arena, b.ptr, b.len);
	buf_release(&b);
	return url;
}

/* ?page=N: 1 for anything that is not a page number. */
static size_t
search_page_number(struct http_req *r)
{
	const char *p = http_query(r, "page");
	long n;
	if (!p || !slice_to_long(slice_from(p), &n) || n < 1 || n > SEARCH_PAGE_MAX)
		return 1;
	return (size_t) n;
}

void
h_search(struct http_req *r)
{
	struct app *app = r->app;
	const char *q = http_query(r, "q");
	size_t qlen = q ? strlen(q) : 0;
	struct reader rd;
	mh_err err = reader_load(r, NULL, &rd);
	struct search_results res;
	const struct reading_rules rules = { app->cfg->auto_paywall_days };
	int64_t now = clock_now();
	if (!err)
		err = search_query(app->store, r->arena, q, qlen, &rd.v, &rules, now, search_page_number(r),
		                   SEARCH_PER_PAGE, &res);
	if (err) {
		log_error("search failed", "error=\"%s\" detail=\"%s\"", mh_strerror(err), store_errmsg(app->store));
		app_error(r, 500, "Search is not working right now. Please try again in a moment.");
		return;
	}
	bool asked = res.terms.n > 0;
	if (asked && res.total > 0 && res.page > res.pages) {
		app_not_found(r);
		return;
	}
	const char *title = asked ? arena_printf(r->arena, "Search: %s", res.terms.text) : "Search";
	json_t *ctx = page_context(r, title, "Search the articles.");
	json_t *page = json_object_get(ctx, "page");
	json_object_set_new(page, "noindex", json_true());
	json_object_set_new(page, "canonical", json_string(page_url(r, "/search")));

	json_t *s = json_object();
	json_object_set_new(s, "text", json_string(res.terms.text));
	json_object_set_new(s, "asked", json_boolean(asked));
	json_object_set_new(s, "total", json_integer((json_int_t) res.total));
	/* Past the cap the count is a floor: "More than 1,000 results". */
	const char *label =
	        res.more ? arena_printf(r->arena, "More than %zu,%03zu results", (size_t) SEARCH_RESULTS_MAX / 1000,
	                                (size_t) SEARCH_RESULTS_MAX % 1000)
	        : res.total == 1 ? "1 result"
	                         : arena_printf(r->arena, "%zu results", res.total);
	json_object_set_new(s, "total_label", json_string(label));
	json_object_set_new(s, "more", json_boolean(res.more));
	json_object_set_new(s, "none", json_boolean(asked && res.total == 0));
	json_t *list = json_array();
	for (size_t i = 0; i < res.n; i++) {
		const struct search_hit *h = &res.hits[i];
		char iso[32], human[48];
		time_format_iso8601(h->published_at, iso, sizeof iso);
		time_format_human(h->published_at, human, sizeof human);
		json_t *o = json_object();
		json_object_set_new(o, "url", json_string(arena_printf(r->arena, "/articles/%s", h->slug)));
		json_object_set_new(o, "title_html", json_string(h->title_html));
		json_object_set_new(o, "dek_html", json_string(h->dek_html));
		json_object_set_new(o, "snippet_html", json_string(h->snippet_html));
		json_object_set_new(o, "published_iso", json_string(iso));
		json_object_set_new(o, "published_human", json_string(human));
		json_object_set_new(o, "is_paid", json_boolean(h->access == ACCESS_PAID));
		json_object_set_new(o, "is_members", json_boolean(h->access == ACCESS_MEMBERS));
		json_object_set_new(o, "gated", json_boolean(h->gated));
		json_array_append_new(list, o);
	}
	json_object_set_new(s, "results", list);
	json_object_set_new(s, "has_results", json_boolean(res.n > 0));
	json_object_set_new(s, "first", json_integer((json_int_t) ((res.page - 1) * res.limit + 1)));
	json_object_set_new(s, "last", json_integer((json_int_t) ((res.page - 1) * res.limit + res.n)));
	if (res.pages > 1) {
		json_t *pager = json_object();
		json_object_set_new(pager, "page", json_integer((json_int_t) res.page));
		json_object_set_new(pager, "pages", json_integer((json_int_t) res.pages));
		json_object_set_new(pager, "has_prev", json_boolean(res.page > 1));
		json_object_set_new(pager, "has_next", json_boolean(res.page < res.pages));
		json_object_set_new(pager, "prev_url", json_string(search_url(r, res.terms.text, res.page - 1)));
		json_object_set_new(pager, "next_url", json_string(search_url(r, res.terms.text, res.page + 1)));
		json_object_set_new(s, "pager", pager);
	}
	json_object_set_new(ctx, "search", s);
	/* What a signed-in reader finds depends on the reader. */
	page_send(r, 200, "search", ctx, rd.personal ? CACHE_PRIVATE : CACHE_PUBLIC);
}
