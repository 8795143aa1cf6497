/* pages.c: the reading site: front page, articles, listings, speakers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "paywall/access.h"
#include "web/reads.h"
#include "web/handlers.h"
#include "web/page.h"
#include "web/pagecache.h"
#include "paywall/reading.h"
#include "web/reader.h"
#include "core/banned.h"

#define MAX_PAGE 100000

static void
db_error(struct http_req *r, mh_err err)
{
	struct app *app = r->app;
	log_error("database error", "path=\"%s\" error=\"%s\" detail=\"%s\"", http_log_path(r), mh_strerror(err),
	          store_errmsg(app->store));
	app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
}

/* ?page=N: 1 when absent; 0 for anything that is not a page number. */
static long
page_number(struct http_req *r)
{
	const char *p = http_query(r, "page");
	long n;
	if (!p)
		return 1;
	if (!slice_to_long(slice_from(p), &n) || n < 1 || n > MAX_PAGE)
		return 0;
	return n;
}

/* Stories on the front page beside the lead, in the grid. */
#define FRONT_TOP 4
/* Most read this week: how many, over how many hours. */
#define MOST_READ       5
#define MOST_READ_HOURS (7 * 24)
/* Stories in each section's block on the front page. */
#define FRONT_SECTION 3

/* The first page of the front page: the newest featured story (or the
 * newest) as the lead, the
 * next ones in a grid, the rest under "Latest", then a block for each
 * configured section with its newest stories. Takes arr. */
static bool
front_page(struct http_req *r, json_t *ctx, json_t *arr)
{
	struct app *app = r->app;
	json_t *front = json_object();
	/* The lead: the newest story marked featured on this page, else the newest. */
	size_t lead = 0;
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (json_is_true(json_object_get(json_array_get(arr, i), "featured"))) {
			lead = i;
			break;
		}
	json_object_set(front, "lead", json_array_get(arr, lead));
	json_t *top = json_array(), *rest = json_array();
	for (size_t i = 0, k = 0; i < json_array_size(arr); i++) {
		if (i == lead)
			continue;
		json_array_append(++k <= FRONT_TOP ? top : rest, json_array_get(arr, i));
	}
	json_decref(arr);
	json_object_set_new(front, "top", top);
	json_object_set_new(front, "has_top", json_boolean(json_array_size(top) > 0));
	json_object_set_new(front, "latest", rest);
	json_object_set_new(front, "has_latest", json_boolean(json_array_size(rest) > 0));
	struct named_ref *secs;
	size_t n_secs = page_sections(r, &secs);
	json_t *blocks = json_array();
	int64_t now = clock_now();
	for (size_t i = 0; i < n_secs; i++) {
		struct article_filter f = { LIST_TAG, secs[i].slug, now, FRONT_SECTION, 0 };
		struct article *list;
		size_t n;
		mh_err err = store_article_list(app->store, r->arena, &f, &list, &n);
		if (err) {
			json_decref(blocks);
			json_decref(front);
			db_error(r, err);
			return false;
		}
		if (n == 0)
			continue; /* a section with no story yet has no block */
		json_t *b = json_object(), *stories = json_array();
		for (size_t j = 0; j < n; j++) {
			access_apply_auto_paywall(&list[j], app->cfg->auto_paywall_days, now);
			json_array_append_new(stories, page_article_json(r, &list[j]));
		}
		json_object_set_new(b, "name", json_string(secs[i].name));
		json_object_set_new(b, "id", json_string(arena_printf(r->arena, "section-%s", secs[i].slug)));
		json_object_set_new(b, "url", json_string(arena_printf(r->arena, "/tags/%s", secs[i].slug)));
		json_object_set_new(b, "articles", stories);
		json_array_append_new(blocks, b);
	}
	/* Most read this week: the last 7 days of hourly counts. */
	struct most_read *mr;
	size_t n_mr;
	mh_err err =
	        store_most_read(app->store, r->arena, reads_hour(now) - MOST_READ_HOURS, now, MOST_READ, &mr, &n_mr);
	if (err) {
		json_decref(blocks);
		json_decref(front);
		db_error(r, err);
		return false;
	}
	json_t *most = json_array();
	for (size_t i = 0; i < n_mr; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "title", json_string(mr[i].title));
		json_object_set_new(o, "url", json_string(arena_concat(r->arena, "/articles/", mr[i].slug, NULL)));
		json_object_set_new(o, "is_paid", json_boolean(mr[i].access == ACCESS_PAID));
		json_object_set_new(o, "is_members", json_boolean(mr[i].access == ACCESS_MEMBERS));
		json_object_set_new(o, "access_label",
		                    json_string(mr[i].access == ACCESS_PAID ? "Subscribers only" : "Members"));
		json_array_append_new(most, o);
	}
	json_object_set_new(front, "most_read", most);
	json_object_set_new(front, "has_most_read", json_boolean(n_mr > 0));
	json_object_set_new(front, "sections", blocks);
	json_object_set_new(front, "has_sections", json_boolean(json_array_size(blocks) > 0));
	json_object_set_new(front, "has_side", json_boolean(json_array_size(blocks) > 0 || n_mr > 0));
	json_object_set_new(ctx, "front", front);
	json_object_set_new(ctx, "articles", json_array());
	return true;
}

/* Lists articles under a heading: the front page and tag and author pages. */
static void
send_listing(struct http_req *r, const char *template, enum list_kind kind, const char *slug, const char *kind_label,
             const char *heading, const char *description, const struct author_profile *profile)
{
	struct app *app = r->app;
	long page = page_number(r);
	if (!page) {
		app_error(r, 400, "The page number must be a whole number from 1.");
		return;
	}
	size_t per = app->cfg->page_size ? (size_t) app->cfg->page_size : 20;
	/* One more than a page tells whether there is an older page. */
	struct article_filter f = { kind, slug, clock_now(), per + 1, (size_t) (page - 1) * per };
	struct article *list;
	size_t n;
	mh_err err = store_article_list(app->store, r->arena, &f, &list, &n);
	if (err) {
		db_error(r, err);
		return;
	}
	if (n == 0 && page > 1) {
		app_not_found(r);
		return;
	}
	bool more = n > per;
	if (more)
		n = per;
	const char *title = page > 1 ? arena_printf(r->arena, "%s, page %ld", heading, page) : heading;
	json_t *ctx = page_context(r, title, description);
	if (kind != LIST_ALL) {
		/* This tag's or author's own feed, beside the site's. */
		json_t *feed = json_object();
		json_object_set_new(
		        feed, "title",
		        json_string(arena_printf(r->arena, "%s \xe2\x80\x94 %s", heading, app->cfg->site_name)));
		json_object_set_new(
		        feed, "url",
		        json_string(page_url(r, arena_printf(r->arena, "/%s/%s/feed.xml",
		                                             kind == LIST_TAG ? "tags" : "authors", slug))));
		json_array_append_new(json_object_get(json_object_get(ctx, "page"), "feeds"), feed);
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		access_apply_auto_paywall(&list[i], app->cfg->auto_paywall_days, f.before);
		json_array_append_new(arr, page_article_json(r, &list[i]));
	}
	if (kind == LIST_ALL && page == 1 && n > 0) {
		if (!front_page(r, ctx, arr)) {
			json_decref(ctx);
			return;
		}
	} else {
		json_object_set_new(ctx, "articles", arr);
	}
	json_object_set_new(ctx, "empty", json_boolean(n == 0));
	json_object_set_new(ctx, "heading", json_string(heading));
	json_object_set_new(ctx, "kind", json_string(kind_label));
	json_object_set_new(ctx, "description", json_string(description ? description : ""));
	if (profile && profile->photo[0]) {
		json_t *ph = json_object();
		json_object_set_new(ph, "src", json_string(profile->photo));
		json_object_set_new(ph, "alt", json_string(profile->photo_alt));
		json_object_set_new(ctx, "photo", ph);
	}
	json_t *pager = json_object();
	json_object_set_new(pager, "page", json_integer(page));
	json_object_set_new(pager, "has_prev", json_boolean(page > 1));
	json_object_set_new(pager, "has_next", json_boolean(more));
	const char *base = r->path;
	json_object_set_new(pager, "prev_url",
	                    json_string(page == 2 ? base : arena_printf(r->arena, "%s?page=%ld", base, page - 1)));
	json_object_set_new(pager, "next_url", json_string(arena_printf(r->arena, "%s?page=%ld", base, page + 1)));
	json_object_set_new(ctx, "pager", pager);
	page_send(r, 200, template, ctx, CACHE_PUBLIC);
}

void
h_front(struct http_req *r)
{
	struct app *app = r->app;
	/* WordPress's own addresses of a post and a page: /?p=ID, /?page_id=ID. */
	static const char *const wp[] = { "p", "page_id" };
	for (size_t i = 0; i < 2; i++) {
		const char *id = http_query(r, wp[i]);
		if (id && strlen(id) <= 20 && app_redirect_old(r, arena_concat(r->arena, "/?", wp[i], "=", id, NULL)))
			return;
	}
	if (page_skeleton_or_capture(r, "list"))
		return;
	send_listing(r, "index", LIST_ALL, NULL, "", "Latest", app->cfg->site_tagline, NULL);
}

static void
h_named_list(struct http_req *r, enum list_kind kind)
{
	struct app *app = r->app;
	if (page_skeleton_or_capture(r, "list"))
		return;
	struct named_ref ref;
	mh_err err = store_named_by_slug(app->store, r->arena, kind, r->params[0], &ref);
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return;
	}
	if (err) {
		db_error(r, err);
		return;
	}
	const char *label = kind == LIST_TAG ? "Tag" : "Author";
	const char *desc = kind == LIST_TAG ? arena_printf(r->arena, "Articles tagged %s.", ref.name)
	                                    : arena_printf(r->arena, "Articles by %s.", ref.name);
	if (kind == LIST_TAG) {
		/* A tag that is a section goes by the section's name. */
		struct named_ref *secs;
		size_t n_secs = page_sections(r, &secs);
		for (size_t i = 0; i < n_secs; i++)
			if (strcmp(secs[i].slug, ref.slug) == 0) {
				label = "Section";
				ref.name = secs[i].name;
				desc = arena_printf(r->arena, "The latest from %s.", ref.name);
				break;
			}
	}
	/* An author with a profile: the bio heads the page and describes it. */
	struct author_profile prof = { ref.slug, ref.name, "", "", "" };
	if (kind == LIST_AUTHOR && (err = store_author_get(app->store, r->arena, ref.slug, &prof)) &&
	    err != MH_ERR_NOTFOUND) {
		db_error(r, err);
		return;
	}
	if (prof.bio[0])
		desc = prof.bio;
	send_listing(r, "list", kind, ref.slug, label, ref.name, desc, kind == LIST_AUTHOR ? &prof : NULL);
}

void
h_tag(struct http_req *r)
{
	h_named_list(r, LIST_TAG);
}

void
h_author(struct http_req *r)
{
	h_named_list(r, LIST_AUTHOR);
}

/* schema.org NewsArticle; gated articles name their paywalled part. */
static char *
article_jsonld(struct http_req *r, const struct article *a, json_t *art)
{
	struct app *app = r->app;
	json_t *ld = json_object();
	json_object_set_new(ld, "@context", json_string("https://schema.org"));
	json_object_set_new(ld, "@type", json_string("NewsArticle"));
	json_object_set_new(ld, "headline", json_string(a->title));
	json_object_set_new(ld, "description", json_string(a->summary));
	json_object_set(ld, "datePublished", json_object_get(art, "published_iso"));
	json_object_set(ld, "dateModified", json_object_get(art, "updated_iso"));
	json_object_set_new(ld, "mainEntityOfPage", json_string(page_url(r, r->path)));
	json_t *authors = json_array();
	for (size_t i = 0; i < a->n_authors; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "@type", json_string("Person"));
		json_object_set_new(p, "name", json_string(a->authors[i].name));
		json_object_set_new(
		        p, "url", json_string(page_url(r, arena_printf(r->arena, "/authors/%s", a->authors[i].slug))));
		json_array_append_new(authors, p);
	}
	json_object_set_new(ld, "author", authors);
	json_t *pub = json_object();
	json_object_set_new(pub, "@type", json_string("Organization"));
	json_object_set_new(pub, "name", json_string(app->cfg->site_name));
	json_object_set_new(pub, "url", json_string(app->cfg->public_url));
	json_object_set_new(ld, "publisher", pub);
	json_object_set_new(ld, "isAccessibleForFree", json_boolean(a->access == ACCESS_PUBLIC));
	if (a->access != ACCESS_PUBLIC) {
		json_t *part = json_object();
		json_object_set_new(part, "@type", json_string("WebPageElement"));
		json_object_set_new(part, "isAccessibleForFree", json_false());
		json_object_set_new(part, "cssSelector", json_string(".gated-body"));
		json_object_set_new(ld, "hasPart", part);
	}
	/* JSON_ESCAPE_SLASH keeps "</script>" from closing the element early. */
	char *s = json_dumps(ld, JSON_COMPACT | JSON_ESCAPE_SLASH);
	json_decref(ld);
	char *out = arena_strdup(r->arena, s ? s : "{}");
	free(s);
	return out;
}

/* What the access decision needs of an article, kept by slug so that a
 * signed-in reader's page from a skeleton costs no store call. */
struct article_meta {
	int64_t id;
	int access;
	int64_t published_at, updated_at;
};

static bool
meta_get(struct http_req *r, const char *slug, struct article *a)
{
	struct app *app = r->app;
	struct vc_value *v = vcache_get(app->fragments, arena_concat(r->arena, "M|", slug, NULL),
	                                web_ctx(r)->versions.content, PAGECACHE_TTL);
	if (!v)
		return false;
	struct article_meta m;
	memcpy(&m, v->data, sizeof m);
	vcache_unref(v);
	memset(a, 0, sizeof *a);
	a->id = m.id;
	a->slug = slug;
	a->access = (enum access_level) m.access;
	a->published_at = m.published_at;
	a->updated_at = m.updated_at;
	return true;
}

static void
meta_put(struct http_req *r, const struct article *a)
{
	struct app *app = r->app;
	struct article_meta m = { a->id, (int) a->access, a->published_at, a->updated_at };
	vcache_put(app->fragments, arena_concat(r->arena, "M|", a->slug, NULL), web_ctx(r)->versions.content, &m,
	           sizeof m);
}

static bool
article_load(struct http_req *r, const char *slug, int64_t now, struct article **out)
{
	struct app *app = r->app;
	mh_err err = store_article_by_slug(app->store, r->arena, slug, out);
	if (err == MH_ERR_NOTFOUND || (!err && (*out)->published_at > now)) {
		app_not_found(r);
		return false;
	}
	if (err) {
		db_error(r, err);
		return false;
	}
	return true; /* the auto-paywall is applied by reading_decide() */
}

/* Words in HTML text: runs of non-space characters outside tags. */
static size_t
html_words(const char *html)
{
	size_t n = 0;
	bool in_tag = false, in_word = false;
	for (const char *p = html ? html : ""; *p; p++) {
		if (*p == '<') {
			in_tag = true;
			in_word = false;
		} else if (*p == '>') {
			in_tag = false;
		} else if (!in_tag) {
			bool space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
			if (!space && !in_word)
				n++;
			in_word = !space;
		}
	}
	return n;
}

/* Minutes to read, at 230 words a minute, at least one. */
#define WORDS_PER_MINUTE 230

/* Stories at the end of an article: the newest others sharing its first tag. */
#define RELATED_MAX 3

static mh_err
related_json(struct http_req *r, const struct article *a, int64_t now, json_t **out)
{
	struct app *app = r->app;
	*out = json_array();
	if (a->n_tags == 0)
		return MH_OK;
	struct article_filter f = { LIST_TAG, a->tags[0].slug, now, RELATED_MAX + 1, 0 };
	struct article *list;
	size_t n;
	mh_err err = store_article_list(app->store, r->arena, &f, &list, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && json_array_size(*out) < RELATED_MAX; i++) {
		if (list[i].id == a->id)
			continue;
		access_apply_auto_paywall(&list[i], app->cfg->auto_paywall_days, now);
		json_array_append_new(*out, page_article_json(r, &list[i]));
	}
	return MH_OK;
}

/* What an article page depends on besides the reader's kind. */
static const char *
article_variant(struct http_req *r, const struct article *a, const struct access_decision *d)
{
	char *v = arena_alloc(r->arena, 12);
	memcpy(v, "article|", 8);
	v[8] = d->full ? 'F' : 'T';
	v[9] = (char) ('a' + (int) d->reason);
	v[10] = (char) ('a' + (int) a->access);
	v[11] = '\0';
	return v;
}

/* The article's authors with their profiles (bio, photo), for the byline
 * and the notes at the end; *bios says whether any has a bio. */
static mh_err
byline_json(struct http_req *r, const struct article *a, json_t **out, bool *bios)
{
	struct app *app = r->app;
	*out = json_array();
	*bios = false;
	for (size_t i = 0; i < a->n_authors; i++) {
		struct author_profile p = { a->authors[i].slug, a->authors[i].name, "", "", "" };
		mh_err err = store_author_get(app->store, r->arena, a->authors[i].slug, &p);
		if (err && err != MH_ERR_NOTFOUND)
			return err;
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(p.name));
		json_object_set_new(o, "url", json_string(arena_concat(r->arena, "/authors/", p.slug, NULL)));
		json_object_set_new(o, "bio", json_string(p.bio));
		json_object_set_new(o, "photo", json_string(p.photo));
		json_object_set_new(o, "photo_alt", json_string(p.photo_alt));
		json_array_append_new(*out, o);
		*bios |= p.bio[0] != '\0';
	}
	return MH_OK;
}

void
h_article(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct article meta, *a;
	int64_t now = clock_now();
	const struct reading_rules rules = { app->cfg->auto_paywall_days };
	mh_err err;
	bool lean = c->skel_base && meta_get(r, r->params[0], &meta);
	if (lean) {
		a = &meta;
		if (a->published_at > now) {
			app_not_found(r);
			return;
		}
	} else {
		if (!article_load(r, r->params[0], now, &a))
			return;
		if (c->skel_base)
			meta_put(r, a);
	}
	struct reader rd;
	if ((err = reader_load(r, a, &rd))) {
		db_error(r, err);
		return;
	}
	/* The one reading path (paywall/reading.h): the decision now, the gated
	 * part below, only if this page is not served from a skeleton. */
	struct access_decision d = reading_decide(a, &rd.v, &rules, now);
	reader_after(r, a, &rd, &d);
	/* A signed-in reader's page is shaped by the decision alone, unless a
	 * gift link was refused, the meter counts or the paywall shows the card. */
	if (!rd.gift_refused && !rd.meter_limit && d.reason != REASON_PAYMENT_FAILED &&
	    page_skeleton_or_capture(r, article_variant(r, a, &d)))
		return;
	if (lean && !article_load(r, r->params[0], now, &a))
		return;
	if (lean)
		d = reading_decide(a, &rd.v, &rules, now); /* the same decision, on the full record */

	json_t *related;
	if ((err = related_json(r, a, now, &related))) {
		json_decref(related);
		db_error(r, err);
		return;
	}
	json_t *ctx = page_context(r, a->title, a->summary);
	json_object_set_new(ctx, "related", related);
	json_object_set_new(ctx, "has_related", json_boolean(json_array_size(related) > 0));
	json_t *page = json_object_get(ctx, "page");
	json_object_set_new(page, "og_type", json_string("article"));
	json_t *art = page_article_json(r, a);
	json_t *byline;
	bool bios;
	if ((err = byline_json(r, a, &byline, &bios))) {
		json_decref(byline);
		json_decref(art);
		json_decref(ctx);
		db_error(r, err);
		return;
	}
	json_object_set_new(art, "authors", byline);
	json_object_set_new(art, "has_bios", json_boolean(bios));
	json_object_set_new(art, "one_author", json_boolean(a->n_authors == 1));
	json_object_set_new(art, "teaser_html", json_string(a->teaser_html));
	json_object_set_new(art, "full", json_boolean(d.full));
	if (d.full) {
		const char *gated;
		if ((err = reading_gated(app->store, r->arena, a, &d, &gated))) {
			json_decref(ctx);
			json_decref(art);
			db_error(r, err);
			return;
		}
		json_object_set_new(art, "body_html", json_string(gated));
		/* Only for a reader of the whole story: a teaser's length says nothing. */
		size_t words = html_words(a->teaser_html) + html_words(gated);
		json_object_set_new(art, "reading_minutes",
		                    json_integer((json_int_t) ((words + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE)));
		json_object_set_new(ctx, "paywall", json_false());
	} else {
		json_object_set_new(ctx, "paywall", reader_paywall_json(r, a, &rd, &d));
	}
	/* Subscribers may give this article to someone else. */
	if (reading_may_gift(a, &d)) {
		json_t *g = json_object();
		json_object_set_new(g, "action", json_string(arena_printf(r->arena, "/articles/%s/gift", a->slug)));
		json_object_set_new(ctx, "gift", g);
		json_object_set_new(ctx, "csrf", json_string(page_csrf(r)));
	}
	json_object_set_new(ctx, "banner", reader_banner_json(r, a, &d));
	json_object_set_new(ctx, "meter", reader_meter_json(r, a, &rd, &d));
	json_object_set_new(ctx, "jsonld", json_string(article_jsonld(r, a, art)));
	json_object_set_new(ctx, "article", art);
	/* Anything that depends on the reader is private; the rest may be cached. */
	bool personal = rd.personal || (d.full && a->access != ACCESS_PUBLIC);
	page_send(r, 200, "article", ctx, !personal ? CACHE_PUBLIC : c->skel_key ? CACHE_SHARED : CACHE_PRIVATE);
}

void
h_person(struct http_req *r)
{
	struct app *app = r->app;
	struct speaker sp;
	mh_err err = store_speaker_by_slug(app->store, r->arena, r->params[0], &sp);
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return;
	}
	/* Which quotes open depends on the reader's kind alone (signed in,
	 * entitled): a signed-in reader gets the page from the kind's skeleton,
	 * without reading every quote and deciding each again. */
	if (!err && page_skeleton_or_capture(r, "person"))
		return;
	struct quote *quotes = NULL;
	size_t n = 0;
	if (err || (err = store_speaker_quotes(app->store, r->arena, sp.id, &quotes, &n))) {
		db_error(r, err);
		return;
	}
	struct reader rd;
	if ((err = reader_load(r, NULL, &rd))) {
		db_error(r, err);
		return;
	}
	int64_t now = clock_now();
	const struct reading_rules rules = { app->cfg->auto_paywall_days };
	bool personal = rd.personal;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct quote *q = &quotes[i];
		json_t *o = json_object();
		const char *text;
		struct access_decision d;
		if ((err = reading_quote(app->store, r->arena, q, &rd.v, &rules, now, &text, &d))) {
			json_decref(o);
			json_decref(list);
			db_error(r, err);
			return;
		}
		if (q->gated && d.full && q->article.access != ACCESS_PUBLIC)
			personal = true;
		if (text) {
			json_object_set_new(o, "text_html", json_string(text));
			/* Quotes are kept as their own blockquote; wrap only what is not. */
			json_object_set_new(o, "wrap", json_boolean(strncmp(text, "<blockquote", 11) != 0));
		}
		json_object_set_new(o, "locked", json_boolean(text == NULL));
		/* A locked quote from a members article needs only a free account. */
		json_object_set_new(o, "members_only", json_boolean(q->article.access == ACCESS_MEMBERS));
		json_object_set_new(o, "article", page_article_json(r, &q->article));
		json_array_append_new(list, o);
	}
	const char *desc = arena_printf(r->arena, "What %s said, across our reporting.", sp.name);
	json_t *ctx = page_context(r, sp.name, desc);
	json_t *person = json_object();
	json_object_set_new(person, "name", json_string(sp.name));
	json_object_set_new(person, "role", json_string(sp.role));
	json_object_set_new(person, "slug", json_string(sp.slug));
	json_object_set_new(ctx, "person", person);
	json_object_set_new(ctx, "signup_url", json_string(arena_printf(r->arena, "/signup?next=/people/%s", sp.slug)));
	json_object_set_new(ctx, "quotes", list);
	json_object_set_new(ctx, "empty", json_boolean(n == 0));
	page_send(r, 200, "person", ctx,
	          !personal                              ? CACHE_PUBLIC
	          : web_ctx(r)->skel_key && !rd.personal ? CACHE_SHARED
	                                                 : CACHE_PRIVATE);
}

void
h_static(struct http_req *r)
{
	struct app *app = r->app;
	const struct static_file *f = strstr(r->params[0], "..") ? NULL : theme_static(&app->theme, r->params[0]);
	if (!f) {
		app_not_found(r);
		return;
	}
	http_add_header(r, "ETag", f->etag);
	http_add_header(r, "Cache-Control",
	                http_query(r, "v") ? "public, max-age=31536000, immutable" : "public, max-age=300");
	const char *inm = http_header(r, "If-None-Match");
	if (inm && (strstr(inm, f->etag) || strcmp(inm, "*") == 0)) {
		http_respond_static(r, 304, NULL, "", 0);
		return;
	}
	http_respond_static(r, 200, f->content_type, f->data, f->len);
}

void
h_healthz(struct http_req *r)
{
	struct app *app = r->app;
	mh_err err = store_ping(app->store);
	http_add_header(r, "Cache-Control", "no-store");
	if (err) {
		log_error("health check failed", "error=\"%s\"", store_errmsg(app->store));
		static const char bad[] = "{\"status\":\"error\",\"database\":\"unreachable\"}\n";
		http_respond_static(r, 503, "application/json", bad, sizeof bad - 1);
		return;
	}
	static const char ok[] = "{\"status\":\"ok\",\"database\":\"ok\"}\n";
	http_respond_static(r, 200, "application/json", ok, sizeof ok - 1);
}
