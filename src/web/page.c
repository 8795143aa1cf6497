#include "media/media.h"
#include "web/page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "content/slug.h"
#include "render/template.h"
#include "web/pagecache.h"
#include "core/banned.h"

/* Page skeletons.
 *
 * Two signed-in readers of the same kind (see web_before: page, whether a
 * name is set, role; and for an article the access decision) get the same
 * page but for their name, e-mail and CSRF token. Such a page is rendered
 * once with a mark in place of each of those values, cut at the marks
 * into a skeleton, and kept in app->fragments; later readers of that kind
 * get the skeleton with their own values spliced in, HTML-escaped, without
 * the store or the template engine. The marks are random for each start
 * of the server, so no content can contain one. */

struct skel_head {
	uint32_t n_parts;
	uint32_t len; /* the rendered page, after the parts */
};

struct skel_part {
	uint32_t off, len;
	int32_t slot; /* -1: the page's own bytes */
};

const char *
page_slot(struct http_req *r, enum page_slot slot)
{
	struct app *app = r->app;
	return arena_printf(r->arena, "%s%d", app->slot_mark, (int) slot);
}

const char *
page_csrf(struct http_req *r)
{
	return web_ctx(r)->skel_key ? page_slot(r, SLOT_CSRF) : web_csrf(r);
}

const char *
page_skeleton_key(struct http_req *r, const char *variant)
{
	struct web_ctx *c = web_ctx(r);
	if (!c->skel_base)
		return NULL;
	return arena_concat(r->arena, c->skel_base, "|", variant, NULL);
}

/* Cuts a page rendered with marks into a skeleton. */
static void
skeleton_build(struct app *app, const char *html, size_t len, struct buf *out)
{
	struct buf parts = BUF_INIT;
	size_t mark_len = strlen(app->slot_mark), pos = 0, n = 0;
	const char *p = html, *end = html + len;
	while ((p = memmem(p, (size_t) (end - p), app->slot_mark, mark_len)) != NULL) {
		const char *digit = p + mark_len;
		if (digit >= end || *digit < '0' || *digit >= '0' + N_SLOTS) {
			p += mark_len;
			continue;
		}
		struct skel_part lit = { (uint32_t) pos, (uint32_t) (p - html - pos), -1 };
		struct skel_part slot = { 0, 0, *digit - '0' };
		buf_add(&parts, &lit, sizeof lit);
		buf_add(&parts, &slot, sizeof slot);
		n += 2;
		p = digit + 1;
		pos = (size_t) (p - html);
	}
	struct skel_part last = { (uint32_t) pos, (uint32_t) (len - pos), -1 };
	buf_add(&parts, &last, sizeof last);
	n++;
	struct skel_head h = { (uint32_t) n, (uint32_t) len };
	buf_add(out, &h, sizeof h);
	buf_add(out, parts.ptr, parts.len);
	buf_add(out, html, len);
	buf_release(&parts);
}

/* v as it goes into HTML: itself when nothing in it needs escaping. */
static struct slice
escaped(struct http_req *r, const char *v)
{
	size_t n = strlen(v);
	if (strcspn(v, "&<>\"'") == n)
		return (struct slice){ v, n };
	struct buf b = BUF_INIT;
	buf_add_html(&b, v, n);
	struct slice out = { arena_strndup(r->arena, b.ptr, b.len), b.len };
	buf_release(&b);
	return out;
}

/* The page from a skeleton, with this reader's values. */
static void
skeleton_send(struct http_req *r, int status, const char *blob, bool hit)
{
	struct web_ctx *c = web_ctx(r);
	struct skel_head h;
	memcpy(&h, blob, sizeof h);
	const char *parts = blob + sizeof h, *html = parts + h.n_parts * sizeof(struct skel_part);
	struct slice vals[N_SLOTS];
	vals[SLOT_NAME] = escaped(r, c->member.name);
	vals[SLOT_EMAIL] = escaped(r, c->member.email);
	vals[SLOT_CSRF] = escaped(r, web_csrf(r));
	size_t total = 0;
	for (uint32_t i = 0; i < h.n_parts; i++) {
		struct skel_part part;
		memcpy(&part, parts + i * sizeof part, sizeof part);
		total += part.slot < 0 ? part.len : vals[part.slot].len;
	}
	/* One allocation of the exact size. */
	struct buf b = BUF_INIT;
	buf_init(&b, total + 1);
	buf_grow(&b, total);
	for (uint32_t i = 0; i < h.n_parts; i++) {
		struct skel_part part;
		memcpy(&part, parts + i * sizeof part, sizeof part);
		if (part.slot < 0)
			buf_add(&b, html + part.off, part.len);
		else
			buf_add(&b, vals[part.slot].ptr, vals[part.slot].len);
	}
	/* No Vary: nothing may store it. Each header costs libmicrohttpd
	 * about a thousand instructions, a twentieth of this whole request. */
	http_add_header(r, "Cache-Control", "private, no-store");
	if (hit)
		r->cache = "skeleton"; /* in the access log rather than a header, for the same reason */
	http_respond(r, status, "text/html; charset=utf-8", &b);
}

bool
page_skeleton_serve(struct http_req *r, const char *key)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	if (!key)
		return false;
	struct vc_value *v = vcache_get(app->fragments, key, c->versions.content, PAGECACHE_TTL);
	if (!v)
		return false;
	skeleton_send(r, 200, v->data, true);
	vcache_unref(v);
	return true;
}

const char *
page_url(struct http_req *r, const char *path)
{
	struct app *app = r->app;
	return arena_printf(r->arena, "%s%s", app->cfg->public_url, path);
}

size_t
page_sections(struct http_req *r, struct named_ref **out)
{
	struct app *app = r->app;
	const char *list = app->cfg->sections ? app->cfg->sections : "";
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	struct named_ref *refs = arena_alloc(r->arena, cap * sizeof *refs);
	size_t n = 0;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		size_t end = len;
		while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		char slug[SLUG_MAX + 1];
		const char *name = arena_strndup(r->arena, p, end);
		if (end && slug_from(name, slug, sizeof slug)) {
			refs[n].name = name;
			refs[n].slug = arena_strdup(r->arena, slug);
			n++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*out = refs;
	return n;
}

json_t *
page_context(struct http_req *r, const char *title, const char *description)
{
	struct app *app = r->app;
	json_t *ctx = json_object();
	json_t *site = json_object();
	json_object_set_new(site, "name", json_string(app->cfg->site_name));
	json_object_set_new(site, "tagline", json_string(app->cfg->site_tagline));
	json_object_set_new(site, "url", json_string(app->cfg->public_url));
	json_object_set_new(ctx, "site", site);
	struct web_ctx *c = web_ctx(r);
	if (c->signed_in) {
		json_t *v = json_object();
		const char *name = c->member.name;
		if (c->skel_key && name[0])
			name = page_slot(r, SLOT_NAME);
		json_object_set_new(v, "name", json_string(name));
		json_object_set_new(v, "email", json_string(c->skel_key ? page_slot(r, SLOT_EMAIL) : c->member.email));
		json_object_set_new(v, "role", json_string(member_role_name(c->member.role)));
		json_object_set_new(ctx, "viewer", v);
		/* The header's sign-out form needs it. */
		json_object_set_new(ctx, "csrf", json_string(page_csrf(r)));
	} else {
		json_object_set_new(ctx, "viewer", json_false());
		json_object_set_new(ctx, "csrf", json_string(c->csrf ? c->csrf : ""));
	}

	json_t *page = json_object();
	const char *full_title = title && title[0] && strcmp(title, app->cfg->site_name) != 0
	                                 ? arena_printf(r->arena, "%s \xe2\x80\x94 %s", title, app->cfg->site_name)
	                                 : app->cfg->site_name;
	json_object_set_new(page, "title", json_string(full_title));
	json_object_set_new(page, "description", json_string(description ? description : app->cfg->site_tagline));
	json_object_set_new(page, "canonical", json_string(page_url(r, r->path)));
	json_object_set_new(page, "og_type", json_string("website"));
	json_object_set_new(page, "og_image", json_string(""));
	json_object_set_new(page, "noindex", json_false());
	/* Feed readers find the site's feed from any page (web/feeds.c). */
	json_t *feeds = json_array(), *feed = json_object();
	json_object_set_new(feed, "title", json_string(app->cfg->site_name));
	json_object_set_new(feed, "url", json_string(page_url(r, "/feed.xml")));
	json_array_append_new(feeds, feed);
	json_object_set_new(page, "feeds", feeds);
	json_object_set_new(ctx, "page", page);

	time_t now = (time_t) clock_now();
	struct tm tm;
	gmtime_r(&now, &tm);
	json_object_set_new(ctx, "year", json_integer(tm.tm_year + 1900));
	/* Sign in from any page comes back to it (the account pages excepted). */
	const char *signin = "/signin";
	if (strncmp(r->path, "/signin", 7) && strncmp(r->path, "/signup", 7) && strncmp(r->path, "/reset", 6) &&
	    strcmp(r->path, "/")) {
		struct buf b = BUF_INIT;
		buf_puts(&b, "/signin?next=");
		buf_add_urlenc(&b, r->path, strlen(r->path));
		signin = arena_strndup(r->arena, b.ptr, b.len);
		buf_release(&b);
	}
	json_object_set_new(ctx, "signin_url", json_string(signin));
	/* The header: sections, and Subscribe for anyone who does not read
	 * paid articles already (the skeleton key holds that, dispatch.c). */
	json_object_set_new(ctx, "show_subscribe", json_boolean(!c->entitled));
	struct named_ref *secs;
	size_t n_secs = page_sections(r, &secs);
	json_t *sections = json_array();
	for (size_t i = 0; i < n_secs; i++) {
		json_t *o = json_object();
		const char *url = arena_printf(r->arena, "/tags/%s", secs[i].slug);
		json_object_set_new(o, "name", json_string(secs[i].name));
		json_object_set_new(o, "slug", json_string(secs[i].slug));
		json_object_set_new(o, "url", json_string(url));
		json_object_set_new(o, "current", json_boolean(strcmp(r->path, url) == 0));
		json_array_append_new(sections, o);
	}
	json_object_set_new(ctx, "sections", sections);
	json_object_set_new(ctx, "has_sections", json_boolean(n_secs > 0));
	json_object_set_new(ctx, "static_css", json_string(app->theme.css_url));
	json_object_set_new(ctx, "static_favicon", json_string(app->theme.favicon_url));
	return ctx;
}

static json_t *
refs_json(struct http_req *r, const struct named_ref *refs, size_t n, const char *prefix)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(refs[i].name));
		json_object_set_new(o, "slug", json_string(refs[i].slug));
		json_object_set_new(o, "url", json_string(arena_printf(r->arena, "%s%s", prefix, refs[i].slug)));
		json_array_append_new(list, o);
	}
	return list;
}

json_t *
page_article_json(struct http_req *r, const struct article *a)
{
	char iso[32], human[48];
	json_t *o = json_object();
	json_object_set_new(o, "slug", json_string(a->slug));
	json_object_set_new(o, "url", json_string(arena_printf(r->arena, "/articles/%s", a->slug)));
	json_object_set_new(o, "title", json_string(a->title));
	json_object_set_new(o, "dek", json_string(a->dek));
	json_object_set_new(o, "access", json_string(access_level_name(a->access)));
	json_object_set_new(o, "is_public", json_boolean(a->access == ACCESS_PUBLIC));
	json_object_set_new(o, "is_members", json_boolean(a->access == ACCESS_MEMBERS));
	json_object_set_new(o, "is_paid", json_boolean(a->access == ACCESS_PAID));
	json_object_set_new(o, "access_label",
	                    json_string(a->access == ACCESS_PAID      ? "Subscribers only"
	                                : a->access == ACCESS_MEMBERS ? "Members"
	                                                              : ""));
	time_format_iso8601(a->published_at, iso, sizeof iso);
	time_format_human(a->published_at, human, sizeof human);
	json_object_set_new(o, "published_iso", json_string(iso));
	json_object_set_new(o, "published_human", json_string(human));
	time_format_iso8601(a->updated_at, iso, sizeof iso);
	time_format_human(a->updated_at, human, sizeof human);
	json_object_set_new(o, "updated_iso", json_string(iso));
	json_object_set_new(o, "updated_human", json_string(human));
	json_object_set_new(o, "was_updated", json_boolean(a->updated_at > a->published_at + 3600));
	json_object_set_new(o, "featured", json_boolean(a->featured));
	if (a->image.src && a->image.src[0]) {
		/* Shown in a 16:9 frame (the theme crops to it), so the width and
		 * height set here hold the space whatever the file's own size. */
		json_t *img = json_object();
		json_object_set_new(img, "src", json_string(a->image.src));
		json_object_set_new(img, "alt", json_string(a->image.alt ? a->image.alt : ""));
		json_object_set_new(img, "caption", json_string(a->image.caption ? a->image.caption : ""));
		json_object_set_new(img, "credit", json_string(a->image.credit ? a->image.credit : ""));
		/* An upload's variants (media.h), for srcset; none for an SVG
		 * or another site's picture. */
		const char *srcset = media_srcset(r->arena, a->image.src);
		if (srcset)
			json_object_set_new(img, "srcset", json_string(srcset));
		json_object_set_new(img, "width", json_integer(1600));
		json_object_set_new(img, "height", json_integer(900));
		json_object_set_new(o, "image", img);
	} else {
		json_object_set_new(o, "image", json_false());
	}
	json_object_set_new(o, "authors", refs_json(r, a->authors, a->n_authors, "/authors/"));
	json_object_set_new(o, "tags", refs_json(r, a->tags, a->n_tags, "/tags/"));
	return o;
}

void
page_send(struct http_req *r, int status, const char *name, json_t *ctx, enum cache_policy cache)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct buf b = BUF_INIT;
	buf_init(&b, 8u << 20);
	mh_err err = tmpl_render(app->theme.templates, name, ctx, &b);
	json_decref(ctx);
	if (err || buf_error(&b)) {
		log_error("cannot render page", "template=%s error=\"%s\"", name,
		          mh_strerror(err ? err : MH_ERR_TOOBIG));
		buf_release(&b);
		http_respond_text(r, 500, "Something went wrong on our side.");
		return;
	}
	if (c->skel_key) {
		/* Rendered with marks: kept as a skeleton when it is the page itself
		 * (not an error), and always sent with this reader's values. */
		struct buf skel = BUF_INIT;
		skeleton_build(app, b.ptr, b.len, &skel);
		buf_release(&b);
		if (status == 200 && cache != CACHE_PRIVATE && !buf_error(&skel))
			vcache_put(app->fragments, c->skel_key, c->versions.content, skel.ptr, skel.len);
		if (buf_error(&skel))
			http_respond_text(r, 500, "Something went wrong on our side.");
		else
			skeleton_send(r, status, skel.ptr, false);
		buf_release(&skel);
		return;
	}
	/* A page that sets a cookie is never shared. */
	bool cookie = http_header(r, "Cookie") != NULL || web_ctx(r)->csrf != NULL;
	if (cache == CACHE_PUBLIC && !cookie) {
		http_add_header(r, "Cache-Control", status == 200 ? "public, max-age=60" : "public, max-age=10");
		/* A shared cache must not answer a reader with a cookie from it. */
		http_add_header(r, "Vary", "Cookie");
	} else {
		http_add_header(r, "Cache-Control", "private, no-store");
	}
	/* What a CDN could keep, the page cache keeps: public, cookie-free, and setting none. */
	bool sets_cookie = false;
	for (size_t i = 0; i < r->n_headers; i++)
		sets_cookie |= strcmp(r->headers[i].name, "Set-Cookie") == 0;
	if (c->cache_key && app->pages && cache == CACHE_PUBLIC && !cookie && status == 200 && !sets_cookie &&
	    !buf_error(&b))
		pagecache_put_page(app->pages, c->cache_key, c->versions.content, b.ptr, b.len);
	http_respond(r, status, "text/html; charset=utf-8", &b);
}

bool
page_skeleton_or_capture(struct http_req *r, const char *variant)
{
	const char *key = page_skeleton_key(r, variant);
	if (!key)
		return false;
	if (page_skeleton_serve(r, key))
		return true;
	web_ctx(r)->skel_key = key;
	return false;
}
