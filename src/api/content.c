/* content.c: the Content API's resources, read as an anonymous reader. */
#include "api/content.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "search/search.h"
#include "store/store.h"
#include "core/banned.h"

/* ---- Keys --------------------------------------------------------------------------------------- */

void
api_key_new(char out[API_KEY_CHARS + 1])
{
	unsigned char raw[API_KEY_CHARS / 2];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, API_KEY_CHARS + 1, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
}

bool
api_key_well_formed(const char *s)
{
	if (!s)
		return false;
	size_t n = 0;
	for (; s[n]; n++)
		if (n == API_KEY_CHARS || !((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == API_KEY_CHARS;
}

/* ---- Routes and parameters ---------------------------------------------------------------------- */

static const char *const resources[] = { "posts", "pages", "tags", "authors", "settings", "tiers", "people", NULL };

bool
api_route_parse(struct arena *a, const char *rest, struct api_route *out)
{
	memset(out, 0, sizeof *out);
	/* Up to three segments; a final slash is optional, an empty segment is not. */
	const char *seg[4];
	size_t len[4], n = 0;
	const char *s = rest;
	while (*s) {
		if (n == 3)
			return false;
		const char *end = strchr(s, '/');
		size_t l = end ? (size_t) (end - s) : strlen(s);
		if (l == 0 || l > 200)
			return false;
		seg[n] = s;
		len[n++] = l;
		s += l;
		if (*s == '/')
			s++;
	}
	if (n == 0)
		return false;
	for (const char *const *r = resources; *r; r++)
		if (strlen(*r) == len[0] && !memcmp(*r, seg[0], len[0]))
			out->resource = *r;
	if (!out->resource)
		return false;
	bool single = !strcmp(out->resource, "settings");
	if (n == 1)
		return true;
	if (single)
		return false;
	if (n == 2 && (!strcmp(out->resource, "posts") || !strcmp(out->resource, "pages"))) {
		out->by = "id";
		out->key = arena_strndup(a, seg[1], len[1]);
		return true;
	}
	if (n == 3 && len[1] == 4 && !memcmp(seg[1], "slug", 4)) {
		out->by = "slug";
		out->key = arena_strndup(a, seg[2], len[2]);
		return true;
	}
	if (n == 2 && strcmp(out->resource, "tiers")) {
		out->by = "id";
		out->key = arena_strndup(a, seg[1], len[1]);
		return true;
	}
	return false;
}

/* Splits s at commas into trimmed, non-empty words (at most max). */
static size_t
split_words(struct arena *a, const char *s, const char **out, size_t max, bool *too_many)
{
	size_t n = 0;
	*too_many = false;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *start = s;
		while (*s && *s != ',')
			s++;
		const char *end = s;
		while (end > start && end[-1] == ' ')
			end--;
		if (end == start)
			continue;
		if (n == max) {
			*too_many = true;
			return n;
		}
		out[n++] = arena_strndup(a, start, (size_t) (end - start));
	}
	return n;
}

static bool
parse_count(const char *s, size_t *out)
{
	if (!s[0] || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return false;
	*out = (size_t) strtoul(s, NULL, 10);
	return *out > 0;
}

mh_err
api_query_parse(struct arena *a, const struct api_params *p, struct api_query *q, char *err, size_t errlen)
{
	memset(q, 0, sizeof *q);
	q->limit = API_LIMIT_DEFAULT;
	q->page = 1;
	q->html = true;
	const char *all[] = { p->include, p->fields, p->formats, p->limit, p->page, p->order, p->filter, p->search };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		if (all[i] && strlen(all[i]) > API_PARAM_MAX) {
			snprintf(err, errlen, "A query parameter is longer than %d characters", API_PARAM_MAX);
			return MH_ERR_INVALID;
		}
	}
	const char *words[API_FIELDS_MAX];
	bool too_many;
	size_t n;
	if (p->include) {
		n = split_words(a, p->include, words, API_FIELDS_MAX, &too_many);
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(words[i], "tags"))
				q->inc_tags = true;
			else if (!strcmp(words[i], "authors"))
				q->inc_authors = true;
			else if (!strcmp(words[i], "count.posts"))
				q->inc_count = true;
			else {
				snprintf(err, errlen, "include takes tags, authors and count.posts, not '%.64s'",
				         words[i]);
				return MH_ERR_INVALID;
			}
		}
	}
	if (p->fields) {
		q->fields = arena_alloc(a, API_FIELDS_MAX * sizeof *q->fields);
		q->n_fields = split_words(a, p->fields, q->fields, API_FIELDS_MAX, &too_many);
		if (too_many) {
			snprintf(err, errlen, "fields names at most %d fields", API_FIELDS_MAX);
			return MH_ERR_INVALID;
		}
		if (q->n_fields == 0)
			q->fields = NULL;
	}
	if (p->formats) {
		n = split_words(a, p->formats, words, API_FIELDS_MAX, &too_many);
		q->html = false;
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(words[i], "html"))
				q->html = true;
			else if (!strcmp(words[i], "plaintext"))
				q->plaintext = true;
			else {
				snprintf(err, errlen, "formats takes html and plaintext, not '%.64s'", words[i]);
				return MH_ERR_INVALID;
			}
		}
	}
	if (p->limit) {
		if (!strcmp(p->limit, "all")) {
			q->limit_all = true;
			q->limit = API_LIMIT_MAX;
		} else if (!parse_count(p->limit, &q->limit)) {
			snprintf(err, errlen, "limit must be a whole number from 1, or all");
			return MH_ERR_INVALID;
		}
		if (q->limit > API_LIMIT_MAX)
			q->limit = API_LIMIT_MAX;
	}
	if (p->page && !parse_count(p->page, &q->page)) {
		snprintf(err, errlen, "page must be a whole number from 1");
		return MH_ERR_INVALID;
	}
	if (p->order) {
		const char *ord[API_ORDER_MAX];
		n = split_words(a, p->order, ord, API_ORDER_MAX, &too_many);
		if (too_many) {
			snprintf(err, errlen, "order takes at most %d fields", API_ORDER_MAX);
			return MH_ERR_INVALID;
		}
		static const struct {
			const char *name;
			enum api_order_field f;
		} names[] = { { "published_at", API_ORD_PUBLISHED_AT },
			      { "updated_at", API_ORD_UPDATED_AT },
			      { "created_at", API_ORD_PUBLISHED_AT },
			      { "title", API_ORD_TITLE },
			      { "slug", API_ORD_SLUG },
			      { "id", API_ORD_ID },
			      { "name", API_ORD_NAME } };
		for (size_t i = 0; i < n; i++) {
			char field[32], dir[8] = "";
			if (sscanf(ord[i], "%31s %7s", field, dir) < 1) {
				snprintf(err, errlen, "order looks like 'published_at desc'");
				return MH_ERR_INVALID;
			}
			int f = -1;
			for (size_t k = 0; k < sizeof names / sizeof *names; k++)
				if (!strcmp(names[k].name, field))
					f = (int) names[k].f;
			size_t used = strlen(field) + (dir[0] ? 1 + strlen(dir) : 0);
			bool desc = !strcasecmp(dir, "desc");
			if (f < 0 || (dir[0] && !desc && strcasecmp(dir, "asc")) || strlen(ord[i]) < used ||
			    strspn(ord[i] + strlen(field), " ") + strlen(field) + strlen(dir) != strlen(ord[i])) {
				snprintf(err, errlen,
				         "order takes published_at, updated_at, title, slug, id or name, each with asc "
				         "or desc");
				return MH_ERR_INVALID;
			}
			q->order[q->n_order].field = (enum api_order_field) f;
			q->order[q->n_order].desc = desc;
			q->n_order++;
		}
	}
	if (p->filter && p->filter[0]) {
		char msg[200];
		if (nql_parse(a, p->filter, &q->filter, msg, sizeof msg)) {
			snprintf(err, errlen, "Error parsing filter: %s", msg);
			return MH_ERR_INVALID;
		}
	}
	if (p->search && p->search[0]) {
		if (q->filter || q->n_order) {
			snprintf(err, errlen,
			         "search cannot be combined with filter or order: results come best first");
			return MH_ERR_INVALID;
		}
		q->search = p->search;
	}
	return MH_OK;
}

/* ---- JSON helpers ------------------------------------------------------------------------------- */

json_t *
api_error(const char *type, const char *message, const char *context)
{
	unsigned char raw[16];
	char id[33];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	json_t *e = json_object();
	json_object_set_new(e, "message", json_string(message));
	json_object_set_new(e, "context", context ? json_string(context) : json_null());
	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "details", json_null());
	json_object_set_new(e, "property", json_null());
	json_object_set_new(e, "help", json_null());
	json_object_set_new(e, "code", json_null());
	json_object_set_new(e, "id", json_string(id));
	json_object_set_new(e, "ghostErrorCode", json_null());
	json_t *list = json_array();
	json_array_append_new(list, e);
	json_t *root = json_object();
	json_object_set_new(root, "errors", list);
	return root;
}

static json_t *
str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *
iso_time(int64_t t)
{
	char when[32];
	time_format_iso8601(t, when, sizeof when);
	/* Ghost writes milliseconds: 2026-11-20T09:00:00.000Z */
	size_t n = strlen(when);
	if (n == 20 && when[19] == 'Z') {
		char ms[32];
		snprintf(ms, sizeof ms, "%.19s.000Z", when);
		return json_string(ms);
	}
	return json_string(when);
}

/* A stable 24-hex id for a tag, author or speaker, from its kind and slug. */
static char *
derived_id(struct arena *a, const char *kind, const char *slug)
{
	unsigned char h[12];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *) kind, strlen(kind) + 1);
	crypto_generichash_update(&st, (const unsigned char *) slug, strlen(slug));
	crypto_generichash_final(&st, h, sizeof h);
	char *out = arena_alloc(a, 2 * sizeof h + 1);
	sodium_bin2hex(out, 2 * sizeof h + 1, h, sizeof h);
	return out;
}

/* A post's id: its number in 24 hex digits, the shape of Ghost's ids. */
static char *
post_id(struct arena *a, int64_t id)
{
	return arena_printf(a, "%024llx", (unsigned long long) id);
}

/* A post's uuid: keyed by the site secret, so it is stable for this site
 * and says nothing about another's; version 4's bits set. */
static char *
post_uuid(struct arena *a, const unsigned char *secret, int64_t id)
{
	unsigned char h[16];
	char msg[40];
	int n = snprintf(msg, sizeof msg, "post-uuid:%lld", (long long) id);
	crypto_generichash(h, sizeof h, (const unsigned char *) msg, (size_t) n, secret, 32);
	h[6] = (unsigned char) ((h[6] & 0x0f) | 0x40);
	h[8] = (unsigned char) ((h[8] & 0x3f) | 0x80);
	return arena_printf(a, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2],
	                    h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

char *
api_html_to_text(struct arena *a, const char *html)
{
	struct buf b = BUF_INIT;
	const char *s = html;
	while (*s) {
		if (*s == '<') {
			const char *end = strchr(s, '>');
			if (!end)
				break;
			/* A block's end, or a line break, starts a new line. */
			if (!strncmp(s, "</p", 3) || !strncmp(s, "<br", 3) || !strncmp(s, "</h", 3) ||
			    !strncmp(s, "</li", 4) || !strncmp(s, "</blockquote", 12)) {
				if (b.len && b.ptr[b.len - 1] != '\n')
					buf_putc(&b, '\n');
			}
			s = end + 1;
			continue;
		}
		if (*s == '&') {
			static const struct {
				const char *ent, *ch;
			} ents[] = { { "&amp;", "&" },  { "&lt;", "<" },
				     { "&gt;", ">" },   { "&quot;", "\"" },
				     { "&#39;", "'" },  { "&#x27;", "'" },
				     { "&nbsp;", " " }, { "&rsquo;", "\xe2\x80\x99" } };
			bool done = false;
			for (size_t i = 0; i < sizeof ents / sizeof *ents && !done; i++) {
				size_t l = strlen(ents[i].ent);
				if (!strncmp(s, ents[i].ent, l)) {
					buf_puts(&b, ents[i].ch);
					s += l;
					done = true;
				}
			}
			if (done)
				continue;
		}
		buf_putc(&b, *s++);
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == ' '))
		b.len--;
	char *out = arena_strndup(a, b.ptr, b.len);
	buf_release(&b);
	return out;
}

/* The first max bytes of text, cut at a UTF-8 character boundary. */
static char *
cut_utf8(struct arena *a, const char *text, size_t max)
{
	size_t n = strlen(text);
	if (n <= max)
		return arena_strdup(a, text);
	while (max > 0 && ((unsigned char) text[max] & 0xc0) == 0x80)
		max--;
	return arena_strndup(a, text, max);
}

static int
count_words(const char *s)
{
	int n = 0;
	bool in = false;
	for (; *s; s++) {
		bool space = *s == ' ' || *s == '\n' || *s == '\t';
		if (!space && !in)
			n++;
		in = !space;
	}
	return n;
}

/* Keeps only the fields the client asked for (fields=...). */
static void
keep_fields(json_t *obj, const struct api_query *q)
{
	if (!q->fields)
		return;
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(obj, tmp, key, v)
	{
		bool keep = false;
		for (size_t i = 0; i < q->n_fields && !keep; i++)
			keep = !strcmp(q->fields[i], key);
		if (!keep)
			json_object_del(obj, key);
	}
}

static json_t *
pagination(const struct api_query *q, size_t total)
{
	size_t pages = total ? (total + q->limit - 1) / q->limit : 1;
	json_t *p = json_object();
	json_object_set_new(p, "page", json_integer((json_int_t) q->page));
	json_object_set_new(p, "limit", json_integer((json_int_t) q->limit));
	json_object_set_new(p, "pages", json_integer((json_int_t) pages));
	json_object_set_new(p, "total", json_integer((json_int_t) total));
	json_object_set_new(p, "next", q->page < pages ? json_integer((json_int_t) q->page + 1) : json_null());
	json_object_set_new(p, "prev", q->page > 1 ? json_integer((json_int_t) q->page - 1) : json_null());
	json_t *meta = json_object();
	json_object_set_new(meta, "pagination", p);
	return meta;
}

static json_t *
envelope(const char *resource, json_t *list, json_t *meta)
{
	json_t *root = json_object();
	json_object_set_new(root, resource, list);
	if (meta)
		json_object_set_new(root, "meta", meta);
	return root;
}

/* ---- Tags and authors --------------------------------------------------------------------------- */

static json_t *
named_json(const struct api_site *site, struct arena *a, bool tag, const struct named_ref *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(derived_id(a, tag ? "tag" : "author", r->slug)));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "slug", json_string(r->slug));
	if (tag) {
		json_object_set_new(o, "description", json_null());
		json_object_set_new(o, "feature_image", json_null());
		json_object_set_new(o, "visibility", json_string("public"));
	} else {
		/* The author's profile, when the import gave one (docs/import.md). */
		struct author_profile p = { r->slug, r->name, "", "", "" };
		if (site->store && store_author_get(site->store, a, r->slug, &p) != MH_OK)
			p.bio = p.photo = "";
		json_object_set_new(o, "profile_image",
		                    !p.photo[0]         ? json_null()
		                    : p.photo[0] == '/' ? json_string(arena_printf(a, "%s%s", site->url, p.photo))
		                                        : json_string(p.photo));
		json_object_set_new(o, "cover_image", json_null());
		json_object_set_new(o, "bio", p.bio[0] ? json_string(p.bio) : json_null());
		json_object_set_new(o, "website", json_null());
		json_object_set_new(o, "location", json_null());
		json_object_set_new(o, "facebook", json_null());
		json_object_set_new(o, "twitter", json_null());
	}
	json_object_set_new(o, "meta_title", json_null());
	json_object_set_new(o, "meta_description", json_null());
	json_object_set_new(o, "url",
	                    json_string(arena_printf(a, "%s/%s/%s", site->url, tag ? "tags" : "authors", r->slug)));
	return o;
}

/* ---- Posts -------------------------------------------------------------------------------------- */

/* Calls fn on every article published at now, newest first, read
 * site->scan_batch (API_SCAN_BATCH) at a time, each decided for an
 * anonymous reader (which applies the auto-paywall to its access) and with
 * the id the API shows. A batch's memory goes with it: what fn keeps, it
 * copies. fn returns false to stop. Filters are evaluated here, in memory,
 * the same on every engine, over every post: a cost that follows the
 * number of posts, paid by filtered and reordered lists only. */
typedef bool (*post_fn)(const struct article *art, const char *id, void *arg);

static mh_err
each_post(const struct api_site *site, post_fn fn, void *arg)
{
	const size_t batch = site->scan_batch ? site->scan_batch : API_SCAN_BATCH;
	const struct viewer anon = { .meter_remaining = -1 };
	for (size_t from = 0;; from += batch) {
		struct arena *tmp = arena_new();
		struct article *list;
		size_t n;
		struct article_filter f = { LIST_ALL, NULL, site->now, batch, from };
		mh_err err = store_article_list(site->store, tmp, &f, &list, &n);
		bool go = !err;
		for (size_t i = 0; go && i < n; i++) {
			(void) reading_decide(&list[i], &anon, &site->rules, site->now);
			go = fn(&list[i], post_id(tmp, list[i].id), arg);
		}
		arena_free(tmp);
		if (err || !go || n < batch)
			return err;
	}
}

static int
cmp_str(const char *x, const char *y)
{
	return strcmp(x ? x : "", y ? y : "");
}

static int
cmp_posts(const void *pa, const void *pb, void *arg)
{
	const struct api_query *q = arg;
	const struct article *x = pa, *y = pb;
	for (size_t i = 0; i < q->n_order; i++) {
		int c = 0;
		switch (q->order[i].field) {
		case API_ORD_PUBLISHED_AT:
			c = (x->published_at > y->published_at) - (x->published_at < y->published_at);
			break;
		case API_ORD_UPDATED_AT: c = (x->updated_at > y->updated_at) - (x->updated_at < y->updated_at); break;
		case API_ORD_TITLE:
		case API_ORD_NAME: c = cmp_str(x->title, y->title); break;
		case API_ORD_SLUG: c = cmp_str(x->slug, y->slug); break;
		case API_ORD_ID: c = (x->id > y->id) - (x->id < y->id); break;
		}
		if (c)
			return q->order[i].desc ? -c : c;
	}
	/* Newest first, then by id: a total order, so pages never overlap. */
	if (x->published_at != y->published_at)
		return x->published_at > y->published_at ? -1 : 1;
	return (x->id < y->id) - (x->id > y->id);
}

/* One post as Ghost shapes it, its text as an anonymous reader gets it:
 * the teaser, and the rest only when that reader's decision is FULL (a
 * public article); never the gated part of a members or paid article. */
static mh_err
post_json(const struct api_site *site, struct arena *a, const struct article *listed, const struct api_query *q,
          json_t **out)
{
	struct article *art;
	mh_err err = store_article_by_slug(site->store, a, listed->slug, &art);
	if (err)
		return err;
	const struct viewer anon = { .meter_remaining = -1 };
	struct access_decision d = reading_decide(art, &anon, &site->rules, site->now);
	const char *gated = NULL;
	if ((err = reading_gated(site->store, a, art, &d, &gated)))
		return err;
	const char *html = gated && gated[0] ? arena_concat(a, art->teaser_html, "\n", gated, NULL) : art->teaser_html;
	const char *text = api_html_to_text(a, html);
	json_t *o = json_object();
	const char *id = post_id(a, art->id);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "uuid", json_string(post_uuid(a, site->secret, art->id)));
	json_object_set_new(o, "title", json_string(art->title));
	json_object_set_new(o, "slug", json_string(art->slug));
	if (q->html)
		json_object_set_new(o, "html", json_string(html));
	if (q->plaintext)
		json_object_set_new(o, "plaintext", json_string(text));
	json_object_set_new(o, "comment_id", json_string(id));
	/* The feature image as Ghost gives it: an absolute URL, with its alt text and caption. */
	const char *img = art->image.src;
	json_object_set_new(o, "feature_image",
	                    !img || !img[0] ? json_null()
	                    : img[0] == '/' ? json_string(arena_printf(a, "%s%s", site->url, img))
	                                    : json_string(img));
	json_object_set_new(o, "feature_image_alt", img && img[0] ? str_or_null(art->image.alt) : json_null());
	json_object_set_new(o, "feature_image_caption", img && img[0] ? str_or_null(art->image.caption) : json_null());
	json_object_set_new(o, "featured", json_boolean(art->featured));
	json_object_set_new(o, "visibility", json_string(access_level_name(art->access)));
	json_object_set_new(o, "created_at", iso_time(art->published_at));
	json_object_set_new(o, "updated_at", iso_time(art->updated_at));
	json_object_set_new(o, "published_at", iso_time(art->published_at));
	json_object_set_new(o, "custom_excerpt", str_or_null(art->dek));
	json_object_set_new(o, "canonical_url", json_null());
	json_object_set_new(o, "url", json_string(arena_printf(a, "%s/articles/%s", site->url, art->slug)));
	json_object_set_new(o, "excerpt", json_string(cut_utf8(a, art->dek && art->dek[0] ? art->dek : text, 500)));
	int words = count_words(text);
	json_object_set_new(o, "reading_time", json_integer(words ? (words + 274) / 275 : 0));
	json_object_set_new(o, "access", json_boolean(d.full));
	json_object_set_new(o, "meta_title", json_null());
	json_object_set_new(o, "meta_description", json_null());
	if (q->inc_tags) {
		json_t *tags = json_array();
		for (size_t i = 0; i < art->n_tags; i++)
			json_array_append_new(tags, named_json(site, a, true, &art->tags[i]));
		json_object_set_new(o, "primary_tag",
		                    art->n_tags ? named_json(site, a, true, &art->tags[0]) : json_null());
		json_object_set_new(o, "tags", tags);
	}
	if (q->inc_authors) {
		json_t *authors = json_array();
		for (size_t i = 0; i < art->n_authors; i++)
			json_array_append_new(authors, named_json(site, a, false, &art->authors[i]));
		json_object_set_new(o, "primary_author",
		                    art->n_authors ? named_json(site, a, false, &art->authors[0]) : json_null());
		json_object_set_new(o, "authors", authors);
	}
	keep_fields(o, q);
	*out = o;
	return MH_OK;
}

static json_t *
not_found(int *status, const char *what)
{
	*status = 404;
	return api_error("NotFoundError", "Resource not found", what);
}

static json_t *
bad_request(int *status, const char *message)
{
	*status = 400;
	return api_error("BadRequestError", message, NULL);
}

static json_t *
server_error(int *status)
{
	*status = 500;
	return api_error("InternalServerError", "The server could not answer. Try again later.", NULL);
}

/* A page of every published post, newest first: what most browses ask for,
 * read a page at a time rather than through each_post. */
static json_t *
posts_page(const struct api_site *site, struct arena *a, const struct api_query *q, int *status)
{
	size_t total, n = 0;
	struct article *list = NULL;
	if (store_article_count(site->store, site->now, &total))
		return server_error(status);
	size_t from = (q->page - 1) * q->limit;
	if (from < total) {
		size_t want = total - from < q->limit ? total - from : q->limit;
		struct article_filter f = { LIST_ALL, NULL, site->now, want, from };
		if (store_article_list(site->store, a, &f, &list, &n))
			return server_error(status);
	}
	json_t *posts = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *post;
		if (post_json(site, a, &list[i], q, &post)) {
			json_decref(posts);
			return server_error(status);
		}
		json_array_append_new(posts, post);
	}
	*status = 200;
	return envelope("posts", posts, pagination(q, total));
}

/* posts/?search=words: the reading path's search (search/search.h) for an
 * anonymous reader, so only the public index and the gated index of open
 * articles are searched; best first, at most SEARCH_LIMIT_MAX a page and
 * SEARCH_RESULTS_MAX in all. meta.search says what was searched and whether
 * more matched than the results hold. */
static json_t *
posts_search(const struct api_site *site, struct arena *a, const struct api_query *q, int *status)
{
	struct api_query sq = *q;
	if (sq.limit > SEARCH_LIMIT_MAX)
		sq.limit = SEARCH_LIMIT_MAX;
	struct search_results res = { 0 };
	const struct viewer anon = { .meter_remaining = -1 };
	/* Past the last page there is nothing to rank: the count still is. */
	size_t page = sq.page > SEARCH_PAGE_MAX ? 1 : sq.page;
	if (search_query(site->store, a, q->search, strlen(q->search), &anon, &site->rules, site->now, page, sq.limit,
	                 &res))
		return server_error(status);
	json_t *list = json_array();
	for (size_t i = 0; page == sq.page && i < res.n; i++) {
		struct article listed = { .id = res.hits[i].article_id, .slug = res.hits[i].slug };
		json_t *post;
		if (post_json(site, a, &listed, &sq, &post)) {
			json_decref(list);
			return server_error(status);
		}
		json_array_append_new(list, post);
	}
	json_t *meta = pagination(&sq, res.total);
	json_t *about = json_object();
	json_object_set_new(about, "terms", json_string(res.terms.text));
	json_object_set_new(about, "more", json_boolean(res.more));
	json_object_set_new(meta, "search", about);
	*status = 200;
	return envelope("posts", list, meta);
}

/* The posts a read or a filtered list asks for, kept in the request's arena. */
struct post_match {
	const struct api_route *rt;
	const struct api_query *q;
	struct arena *a;
	struct article *list;
	size_t n, cap;
};

static bool
keep_post(const struct article *art, const char *id, void *arg)
{
	struct post_match *m = arg;
	const struct api_route *rt = m->rt;
	if (rt->by && !strcmp(rt->by, "id") && strcmp(id, rt->key))
		return true;
	if (rt->by && !strcmp(rt->by, "slug") && strcmp(art->slug, rt->key))
		return true;
	struct nql_subject subj = { art, id, art->featured };
	if (!rt->by && m->q->filter && !nql_match(m->q->filter, &subj))
		return true;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct article *more = arena_alloc(m->a, cap * sizeof *more);
		if (m->n)
			memcpy(more, m->list, m->n * sizeof *more);
		m->list = more;
		m->cap = cap;
	}
	/* What the order and post_json read: the rest is read again by slug. */
	m->list[m->n++] = (struct article){ .id = art->id,
		                            .slug = arena_strdup(m->a, art->slug),
		                            .title = arena_strdup(m->a, art->title ? art->title : ""),
		                            .access = art->access,
		                            .published_at = art->published_at,
		                            .updated_at = art->updated_at };
	return !rt->by; /* a read stops at its post */
}

static json_t *
posts_answer(const struct api_site *site, struct arena *a, const struct api_route *rt, const struct api_query *q,
             int *status)
{
	if (rt->by && !strcmp(rt->by, "slug")) {
		struct article *art;
		mh_err err = store_article_by_slug(site->store, a, rt->key, &art);
		if (err == MH_ERR_NOTFOUND || (!err && art->published_at > site->now))
			return not_found(status, "Post not found.");
		json_t *post;
		if (err || post_json(site, a, art, q, &post))
			return server_error(status);
		json_t *list = json_array();
		json_array_append_new(list, post);
		*status = 200;
		return envelope("posts", list, NULL);
	}
	if (!rt->by && q->search)
		return posts_search(site, a, q, status);
	if (!rt->by && !q->filter &&
	    (q->n_order == 0 || (q->n_order == 1 && q->order[0].field == API_ORD_PUBLISHED_AT && q->order[0].desc)))
		return posts_page(site, a, q, status);
	struct post_match m = { rt, q, a, NULL, 0, 0 };
	if (each_post(site, keep_post, &m))
		return server_error(status);
	struct article *match = m.list;
	size_t n = m.n;
	if (rt->by) {
		if (n == 0)
			return not_found(status, "Post not found.");
		json_t *post;
		if (post_json(site, a, &match[0], q, &post))
			return server_error(status);
		json_t *list = json_array();
		json_array_append_new(list, post);
		*status = 200;
		return envelope("posts", list, NULL);
	}
	if (n > 1) /* qsort_r takes no NULL list, even empty */
		qsort_r(match, n, sizeof *match, cmp_posts, (void *) q);
	/* An article published while the batches were read shifts them by one:
	 * one post may come twice, and its copies sort side by side. */
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || match[w - 1].id != match[i].id)
			match[w++] = match[i];
	n = w;
	json_t *list = json_array();
	size_t from = (q->page - 1) * q->limit;
	for (size_t i = from; i < n && i < from + q->limit; i++) {
		json_t *post;
		if (post_json(site, a, &match[i], q, &post)) {
			json_decref(list);
			return server_error(status);
		}
		json_array_append_new(list, post);
	}
	*status = 200;
	return envelope("posts", list, pagination(q, n));
}

/* A tag or an author with the number of posts that carry it. */
struct named_count {
	struct named_ref ref;
	size_t posts;
};

static int
cmp_named(const void *pa, const void *pb, void *arg)
{
	const struct api_query *q = arg;
	const struct named_count *x = pa, *y = pb;
	for (size_t i = 0; i < q->n_order; i++) {
		int c = 0;
		if (q->order[i].field == API_ORD_SLUG || q->order[i].field == API_ORD_ID)
			c = cmp_str(x->ref.slug, y->ref.slug);
		else
			c = cmp_str(x->ref.name, y->ref.name);
		if (c)
			return q->order[i].desc ? -c : c;
	}
	int c = cmp_str(x->ref.name, y->ref.name);
	return c ? c : cmp_str(x->ref.slug, y->ref.slug);
}

/* Only id, slug and visibility can filter tags, authors and people. */
static bool
filter_fits_named(const struct nql_node *n)
{
	if (n->kind != NQL_CLAUSE)
		return filter_fits_named(n->left) && filter_fits_named(n->right);
	return n->field == NQL_ID || n->field == NQL_SLUG || n->field == NQL_VISIBILITY;
}

static bool
named_matches(const struct nql_node *filter, const char *slug, const char *id)
{
	if (!filter)
		return true;
	struct article fake = { 0 };
	fake.slug = slug;
	fake.access = ACCESS_PUBLIC;
	struct nql_subject subj = { &fake, id, false };
	return nql_match(filter, &subj);
}

/* Every tag or author of a published post, with its count: kept in the
 * request's arena. */
struct named_tally {
	struct arena *a;
	bool tag;
	struct named_count *all;
	size_t n, cap;
};

static bool
tally_named(const struct article *art, const char *id, void *arg)
{
	(void) id;
	struct named_tally *t = arg;
	const struct named_ref *refs = t->tag ? art->tags : art->authors;
	size_t nr = t->tag ? art->n_tags : art->n_authors;
	for (size_t k = 0; k < nr; k++) {
		size_t j = 0;
		while (j < t->n && strcmp(t->all[j].ref.slug, refs[k].slug))
			j++;
		if (j == t->n) {
			if (t->n == t->cap) {
				size_t cap = t->cap ? 2 * t->cap : 16;
				struct named_count *more = arena_alloc(t->a, cap * sizeof *more);
				if (t->n)
					memcpy(more, t->all, t->n * sizeof *more);
				t->all = more;
				t->cap = cap;
			}
			t->all[j].ref = refs[k];
			t->all[j].ref.slug = arena_strdup(t->a, refs[k].slug);
			t->all[j].ref.name = arena_strdup(t->a, refs[k].name ? refs[k].name : "");
			t->all[j].posts = 0;
			t->n++;
		}
		t->all[j].posts++;
	}
	return true;
}

static json_t *
named_answer(const struct api_site *site, struct arena *a, const struct api_route *rt, const struct api_query *q,
             bool tag, int *status)
{
	if (!rt->by && q->filter && !filter_fits_named(q->filter))
		return bad_request(status,
		                   "Error parsing filter: tags and authors filter on id, slug and visibility only");
	struct named_tally t = { a, tag, NULL, 0, 0 };
	if (each_post(site, tally_named, &t))
		return server_error(status);
	struct named_count *all = t.all;
	size_t n = t.n;
	struct named_count *match = arena_alloc(a, (n ? n : 1) * sizeof *match);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = derived_id(a, tag ? "tag" : "author", all[i].ref.slug);
		if (rt->by && strcmp(!strcmp(rt->by, "slug") ? all[i].ref.slug : id, rt->key))
			continue;
		if (!rt->by && !named_matches(q->filter, all[i].ref.slug, id))
			continue;
		match[m++] = all[i];
	}
	const char *resource = tag ? "tags" : "authors";
	if (rt->by && m == 0)
		return not_found(status, tag ? "Tag not found." : "Author not found.");
	if (m > 1)
		qsort_r(match, m, sizeof *match, cmp_named, (void *) q);
	json_t *list = json_array();
	size_t from = rt->by ? 0 : (q->page - 1) * q->limit, to = rt->by ? 1 : from + q->limit;
	for (size_t i = from; i < m && i < to; i++) {
		json_t *o = named_json(site, a, tag, &match[i].ref);
		if (q->inc_count) {
			json_t *count = json_object();
			json_object_set_new(count, "posts", json_integer((json_int_t) match[i].posts));
			json_object_set_new(o, "count", count);
		}
		keep_fields(o, q);
		json_array_append_new(list, o);
	}
	*status = 200;
	return envelope(resource, list, rt->by ? NULL : pagination(q, m));
}

static json_t *
settings_answer(const struct api_site *site, struct arena *a, int *status)
{
	json_t *s = json_object();
	json_object_set_new(s, "title", json_string(site->title));
	json_object_set_new(s, "description", json_string(site->description ? site->description : ""));
	json_object_set_new(s, "logo", json_null());
	json_object_set_new(s, "icon", json_null());
	json_object_set_new(s, "accent_color", json_null());
	json_object_set_new(s, "cover_image", json_null());
	json_object_set_new(s, "facebook", json_null());
	json_object_set_new(s, "twitter", json_null());
	json_object_set_new(s, "lang", json_string("en"));
	json_object_set_new(s, "locale", json_string("en"));
	json_object_set_new(s, "timezone", json_string("Etc/UTC"));
	json_object_set_new(s, "codeinjection_head", json_null());
	json_object_set_new(s, "codeinjection_foot", json_null());
	json_object_set_new(s, "navigation", json_array());
	json_object_set_new(s, "secondary_navigation", json_array());
	json_object_set_new(s, "meta_title", json_null());
	json_object_set_new(s, "meta_description", json_null());
	json_object_set_new(s, "og_image", json_null());
	json_object_set_new(s, "twitter_image", json_null());
	json_object_set_new(s, "members_support_address", json_null());
	json_object_set_new(s, "url", json_string(arena_concat(a, site->url, "/", NULL)));
	*status = 200;
	json_t *root = json_object();
	json_object_set_new(root, "settings", s);
	json_object_set_new(root, "meta", json_object());
	return root;
}

/* Tiers: the free tier, then each plan on offer as a paid tier (Ghost's
 * tier holds a monthly and a yearly price; a plan has one interval). */
static json_t *
tier_json(struct arena *a, const char *id, const char *name, const char *slug, const char *type, const struct plan *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "slug", json_string(slug));
	json_object_set_new(o, "description", json_null());
	json_object_set_new(o, "active", json_true());
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "welcome_page_url", json_null());
	json_object_set_new(o, "visibility", json_string("public"));
	json_object_set_new(o, "trial_days", json_integer(p ? p->trial_days : 0));
	json_object_set_new(o, "monthly_price",
	                    p && p->interval_months == 1 ? json_integer((json_int_t) p->amount) : json_null());
	json_object_set_new(o, "yearly_price",
	                    p && p->interval_months == 12 ? json_integer((json_int_t) p->amount) : json_null());
	if (p) {
		char cur[8];
		snprintf(cur, sizeof cur, "%.3s", p->currency);
		for (char *c = cur; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char) (*c - 'a' + 'A');
		json_object_set_new(o, "currency", json_string(cur));
		json_object_set_new(o, "interval_months", json_integer(p->interval_months));
	} else {
		json_object_set_new(o, "currency", json_null());
	}
	json_object_set_new(o, "benefits", json_array());
	(void) a;
	return o;
}

static json_t *
tiers_answer(const struct api_site *site, struct arena *a, const struct api_query *q, int *status)
{
	struct plan *plans;
	size_t n;
	if (store_plan_list(site->store, a, false, &plans, &n))
		return server_error(status);
	json_t *all = json_array();
	json_array_append_new(all, tier_json(a, derived_id(a, "tier", "free"), "Free", "free", "free", NULL));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(all, tier_json(a, derived_id(a, "tier", plans[i].code), plans[i].name,
		                                     plans[i].code, "paid", &plans[i]));
	size_t total = json_array_size(all), from = (q->page - 1) * q->limit;
	json_t *list = json_array();
	for (size_t i = from; i < total && i < from + q->limit; i++) {
		json_t *o = json_array_get(all, i);
		keep_fields(o, q);
		json_array_append(list, o);
	}
	json_decref(all);
	*status = 200;
	return envelope("tiers", list, pagination(q, total));
}

/* A speaker and their quotes: a quote from a gated part has its text only
 * when an anonymous reader's decision on its article is FULL. */
static mh_err
person_json(const struct api_site *site, struct arena *a, const struct speaker *sp, const struct api_query *q,
            json_t **out)
{
	struct quote *quotes;
	size_t n;
	mh_err err = store_speaker_quotes(site->store, a, sp->id, &quotes, &n);
	if (err)
		return err;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(derived_id(a, "person", sp->slug)));
	json_object_set_new(o, "name", json_string(sp->name));
	json_object_set_new(o, "slug", json_string(sp->slug));
	json_object_set_new(o, "role", str_or_null(sp->role));
	json_object_set_new(o, "url", json_string(arena_printf(a, "%s/people/%s", site->url, sp->slug)));
	json_t *list = json_array();
	const struct viewer anon = { .meter_remaining = -1 };
	for (size_t i = 0; i < n; i++) {
		const char *text;
		struct access_decision d;
		if ((err = reading_quote(site->store, a, &quotes[i], &anon, &site->rules, site->now, &text, &d))) {
			json_decref(o);
			json_decref(list);
			return err;
		}
		json_t *qo = json_object();
		json_object_set_new(qo, "html", text ? json_string(text) : json_null());
		json_object_set_new(qo, "role", str_or_null(quotes[i].role));
		json_object_set_new(qo, "gated", json_boolean(quotes[i].gated));
		json_object_set_new(qo, "access", json_boolean(text != NULL));
		json_t *post = json_object();
		json_object_set_new(post, "id", json_string(post_id(a, quotes[i].article.id)));
		json_object_set_new(post, "title", json_string(quotes[i].article.title));
		json_object_set_new(post, "slug", json_string(quotes[i].article.slug));
		json_object_set_new(post, "url",
		                    json_string(arena_printf(a, "%s/articles/%s", site->url, quotes[i].article.slug)));
		json_object_set_new(qo, "post", post);
		json_array_append_new(list, qo);
	}
	json_object_set_new(o, "quotes", list);
	keep_fields(o, q);
	*out = o;
	return MH_OK;
}

static json_t *
people_answer(const struct api_site *site, struct arena *a, const struct api_route *rt, const struct api_query *q,
              int *status)
{
	if (!rt->by && q->filter && !filter_fits_named(q->filter))
		return bad_request(status, "Error parsing filter: people filter on id, slug and visibility only");
	struct speaker *all;
	size_t n;
	if (store_speaker_list(site->store, a, site->now, &all, &n))
		return server_error(status);
	struct speaker *match = arena_alloc(a, (n ? n : 1) * sizeof *match);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = derived_id(a, "person", all[i].slug);
		if (rt->by && strcmp(!strcmp(rt->by, "slug") ? all[i].slug : id, rt->key))
			continue;
		if (!rt->by && !named_matches(q->filter, all[i].slug, id))
			continue;
		match[m++] = all[i];
	}
	if (rt->by && m == 0)
		return not_found(status, "Person not found.");
	json_t *list = json_array();
	size_t from = rt->by ? 0 : (q->page - 1) * q->limit, to = rt->by ? 1 : from + q->limit;
	for (size_t i = from; i < m && i < to; i++) {
		json_t *o;
		if (person_json(site, a, &match[i], q, &o)) {
			json_decref(list);
			return server_error(status);
		}
		json_array_append_new(list, o);
	}
	*status = 200;
	return envelope("people", list, rt->by ? NULL : pagination(q, m));
}

json_t *
api_answer(const struct api_site *site, struct arena *a, const struct api_route *rt, const struct api_params *p,
           int *status)
{
	struct api_query q;
	char err[300];
	if (api_query_parse(a, p, &q, err, sizeof err))
		return bad_request(status, err);
	if (!strcmp(rt->resource, "posts"))
		return posts_answer(site, a, rt, &q, status);
	if (!strcmp(rt->resource, "pages")) {
		/* masthead has articles only: no pages to list, none to read. */
		if (rt->by)
			return not_found(status, "Page not found.");
		*status = 200;
		return envelope("pages", json_array(), pagination(&q, 0));
	}
	if (!strcmp(rt->resource, "tags"))
		return named_answer(site, a, rt, &q, true, status);
	if (!strcmp(rt->resource, "authors"))
		return named_answer(site, a, rt, &q, false, status);
	if (!strcmp(rt->resource, "settings"))
		return settings_answer(site, a, status);
	if (!strcmp(rt->resource, "tiers"))
		return tiers_answer(site, a, &q, status);
	return people_answer(site, a, rt, &q, status);
}
