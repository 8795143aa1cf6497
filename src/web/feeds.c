/* feeds.c: what feed readers and search engines read: RSS feeds (the
 * site's, a tag's, an author's, and each member's private feed), the
 * sitemaps and robots.txt. See docs/feeds.md for the decisions.
 *
 * Every article goes through the one reading path: reading_decide() for
 * the feed's viewer (anonymous for the public feeds), and the gated part
 * only in a private feed, only under a FULL decision, via reading_gated().
 * Untrusted text is escaped with xml_escape() (core/xml.h), never put in
 * CDATA. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/htmltext.h"
#include "core/log.h"
#include "core/slice.h"
#include "core/text.h"
#include "core/xml.h"
#include "paywall/reading.h"
#include "render/template.h"
#include "web/feeds.h"
#include "web/handlers.h"
#include "web/page.h"
#include "web/pagecache.h"
#include "core/banned.h"

#define FEED_ITEMS    20           /* newest articles in a feed */
#define NEWS_WINDOW   (2L * 86400) /* the news sitemap: articles of the last two days */
#define NEWS_MAX      1000         /* the news extension's limit per file */
#define SITEMAP_MAX   50000        /* the sitemaps protocol's limit per file */
#define XML_MAX_BYTES (48u << 20)  /* a sitemap of 50,000 addresses fits well within */
#define ETAG_CHARS    20           /* "\"" + 'x' + 16 hex + "\"" and the NUL */
#define FEED_TYPE     "application/rss+xml; charset=utf-8"
#define XML_TYPE      "application/xml; charset=utf-8"
#define XML_HEAD      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* ---- The private feed's token ----------------------------------------------------------------- */

void
feed_token_derive(const unsigned char key[SECRET_BYTES], int64_t member_id, const char *nonce,
                  char out[TOKEN_CHARS + 1])
{
	static const char label[] = "masthead-feed|";
	char id[24];
	int n = snprintf(id, sizeof id, "%lld|", (long long) member_id);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, SECRET_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) label, sizeof label - 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) id, (size_t) n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) nonce, strlen(nonce));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, TOKEN_CHARS + 1, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(mac, sizeof mac);
}

bool
feed_token_param(const char *segment, char out[TOKEN_CHARS + 1])
{
	if (!segment)
		return false;
	size_t n = strnlen(segment, TOKEN_CHARS + 5);
	if (n != TOKEN_CHARS + 4 || memcmp(segment + TOKEN_CHARS, ".xml", 4) != 0)
		return false;
	memcpy(out, segment, TOKEN_CHARS);
	out[TOKEN_CHARS] = '\0';
	return token_well_formed(out);
}

/* ---- Sending: ETag and 304, the cache for public documents ------------------------------------ */

static void
db_error(struct http_req *r, mh_err err)
{
	struct app *app = r->app;
	log_error("database error", "path=\"%s\" error=\"%s\" detail=\"%s\"", http_log_path(r), mh_strerror(err),
	          store_errmsg(app->store));
	app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
}

/* A strong validator from the bytes themselves: equal bytes, equal tag. */
static void
etag_of(const char *body, size_t len, char out[ETAG_CHARS])
{
	unsigned char h[8];
	crypto_generichash(h, sizeof h, (const unsigned char *) body, len, NULL, 0);
	static const char digits[] = "0123456789abcdef";
	out[0] = '"';
	out[1] = 'x';
	for (size_t i = 0; i < sizeof h; i++) {
		out[2 + 2 * i] = digits[h[i] >> 4];
		out[3 + 2 * i] = digits[h[i] & 15];
	}
	out[18] = '"';
	out[19] = '\0';
}

/* Sends body (taken) with its ETag, or 304 when the reader holds it. */
static void
send_doc(struct http_req *r, const char *type, struct buf *body, const char *etag, const char *cache_control)
{
	http_add_header(r, "ETag", arena_strdup(r->arena, etag));
	http_add_header(r, "Cache-Control", cache_control);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
		buf_release(body);
		http_respond_static(r, 304, NULL, "", 0);
		return;
	}
	http_respond(r, 200, type, body);
}

/* Builds a public document into out; MH_ERR_NOTFOUND answers 404. */
typedef mh_err (*doc_builder)(struct http_req *r, const void *arg, struct buf *out);

#define PUBLIC_CACHE "public, max-age=60"

struct hit {
	struct http_req *r;
	bool done;
};

/* A kept document is its ETag (ETAG_CHARS bytes, NUL included), then its
 * bytes, with one prepared response queued again on every hit. */
static void
serve_kept(struct vc_value *v, void *arg)
{
	struct hit *h = arg;
	if (!v->attached || v->len < ETAG_CHARS)
		return;
	const char *inm = http_header(h->r, "If-None-Match");
	if (inm && (strstr(inm, v->data) || strcmp(inm, "*") == 0)) {
		http_add_header(h->r, "ETag", arena_strdup(h->r->arena, v->data));
		http_add_header(h->r, "Cache-Control", PUBLIC_CACHE);
		http_respond_static(h->r, 304, NULL, "", 0);
	} else {
		http_respond_shared(h->r, 200, v->attached, v->len - ETAG_CHARS);
	}
	h->r->cache = "hit";
	h->done = true;
}

static void
release_kept(void *arg)
{
	vcache_unref(arg);
}

static void
drop_kept(void *resp)
{
	http_shared_drop(resp);
}

static void
keep(struct app *app, const char *key, int64_t version, const char *type, const char *etag, const struct buf *b)
{
	struct buf kept = BUF_INIT;
	buf_add(&kept, etag, ETAG_CHARS);
	buf_add(&kept, b->ptr, b->len);
	if (buf_error(&kept)) {
		buf_release(&kept);
		return;
	}
	const struct http_header headers[] = {
		{ "ETag", etag },
		{ "Cache-Control", PUBLIC_CACHE },
		{ "X-Cache", "hit" },
	};
	struct vc_value *v = vcache_value_new(kept.ptr, kept.len);
	buf_release(&kept);
	/* The response holds a reference of its own, dropped when libmicrohttpd
	 * destroys it (as the page cache does, web/pagecache.c). */
	v->refs++;
	v->attached = http_shared_new(type, v->data + ETAG_CHARS, v->len - ETAG_CHARS, headers,
	                              sizeof headers / sizeof *headers, release_kept, v);
	if (v->attached)
		v->detach = drop_kept;
	else
		v->refs--;
	vcache_put_value(app->fragments, key, version, v);
}

/* A public document (the same for everyone): from the versioned cache
 * while the content version holds (60 seconds at most, for scheduled
 * articles and the auto-paywall), else built and kept. */
static void
serve_public(struct http_req *r, const char *type, doc_builder build, const void *arg)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	const char *key = NULL;
	if (app->fragments && web_request_versions(r)) {
		key = arena_concat(r->arena, "X|", r->path, NULL);
		struct hit h = { r, false };
		vcache_visit(app->fragments, key, c->versions.content, PAGECACHE_TTL, serve_kept, &h);
		if (h.done)
			return;
	}
	struct buf b = BUF_INIT;
	buf_init(&b, XML_MAX_BYTES);
	mh_err err = build(r, arg, &b);
	if (err == MH_ERR_NOTFOUND) {
		buf_release(&b);
		app_not_found(r);
		return;
	}
	if (!err)
		err = buf_error(&b);
	if (err) {
		buf_release(&b);
		db_error(r, err);
		return;
	}
	char etag[ETAG_CHARS];
	etag_of(b.ptr, b.len, etag);
	if (key)
		keep(app, key, c->versions.content, type, etag, &b);
	send_doc(r, type, &b, etag, PUBLIC_CACHE);
}

/* ---- RSS -------------------------------------------------------------------------------------- */

struct feed_spec {
	enum list_kind kind;
	const char *slug;        /* the tag or author */
	const char *title;       /* the channel's */
	const char *description; /* the channel's */
	const char *link_path;   /* the page the feed follows */
	const char *self_path;   /* the feed's own address; NULL: not named (the private feed) */
	const struct viewer *v;
	bool full_text; /* a private feed: the gated part under a FULL decision */
};

static void
el(struct buf *b, const char *name, const char *text)
{
	buf_printf(b, "<%s>", name);
	xml_escape_str(b, text);
	buf_printf(b, "</%s>\n", name);
}

static void
el_url(struct http_req *r, struct buf *b, const char *name, const char *path)
{
	el(b, name, page_url(r, path));
}

/* The line that ends an item cut short, in the theme's words
 * (feed-note.mustache): why, in a private feed, and who the rest is for,
 * in a public one. Into *html; false when the theme cannot render it. */
static bool
feed_note(struct http_req *r, const struct feed_spec *fs, const struct article *a, const struct access_decision *d,
          const char *url, const char **html)
{
	struct app *app = r->app;
	json_t *ctx = json_object();
	json_object_set_new(ctx, "url", json_string(url));
	json_object_set_new(ctx, "title", json_string(a->title ? a->title : ""));
	json_object_set_new(ctx, "billing_url", json_string(page_url(r, "/account/billing")));
	json_object_set_new(ctx, "subscribe_url", json_string(page_url(r, "/subscribe")));
	json_object_set_new(ctx, "private", json_boolean(fs->full_text));
	json_object_set_new(ctx, "payment_problem", json_boolean(d->reason == REASON_PAYMENT_FAILED));
	json_object_set_new(ctx, "resubscribe", json_boolean(d->reason == REASON_LAPSED));
	json_object_set_new(ctx, "member", json_boolean(d->reason == REASON_NO_PLAN));
	json_object_set_new(ctx, "whole", json_boolean(d->full));
	json_object_set_new(ctx, "members_article", json_boolean(!d->full && a->access == ACCESS_MEMBERS));
	json_object_set_new(ctx, "subscribers_article", json_boolean(!d->full && a->access != ACCESS_MEMBERS));
	struct buf b = BUF_INIT;
	mh_err err = tmpl_render(app->theme.templates, "feed-note", ctx, &b);
	json_decref(ctx);
	if (err || buf_error(&b)) {
		log_error("cannot render the feed note", "error=\"%s\"", mh_strerror(err ? err : MH_ERR_TOOBIG));
		buf_release(&b);
		return false;
	}
	/* Trimmed: the template's own line breaks are not the item's. */
	size_t start = 0, end = b.len;
	while (start < end && (b.ptr[start] == '\n' || b.ptr[start] == ' '))
		start++;
	while (end > start && (b.ptr[end - 1] == '\n' || b.ptr[end - 1] == ' '))
		end--;
	*html = arena_strndup(r->arena, b.ptr + start, end - start);
	buf_release(&b);
	return true;
}

/* The note as plain text, for the channel's description. */
static const char *
note_text(struct http_req *r, const char *html)
{
	struct buf b = BUF_INIT;
	htmltext_append(&b, html);
	const char *text = arena_strndup(r->arena, b.ptr ? b.ptr : "", b.len);
	buf_release(&b);
	return text;
}

/* One <item>: the teaser, and the gated part when the feed is private and
 * the decision FULL. *why gets the reason line when a private feed cut
 * the article short. */
static mh_err
feed_item(struct http_req *r, const struct feed_spec *fs, struct article *a, int64_t now, struct buf *b,
          const char **why)
{
	struct app *app = r->app;
	const struct reading_rules rules = { app->cfg->auto_paywall_days };
	struct access_decision d = reading_decide(a, fs->v, &rules, now);
	const char *gated = NULL;
	if (fs->full_text && d.full) {
		mh_err err = reading_gated(app->store, r->arena, a, &d, &gated);
		if (err)
			return err;
	}
	const char *path = arena_printf(r->arena, "/articles/%s", a->slug);
	const char *url = page_url(r, path);
	char date[48];
	buf_puts(b, "<item>\n");
	el(b, "title", a->title);
	el(b, "link", url);
	buf_puts(b, "<guid isPermaLink=\"true\">");
	xml_escape_str(b, url);
	buf_puts(b, "</guid>\n");
	time_format_http(a->published_at, date, sizeof date);
	el(b, "pubDate", date);
	if (a->n_authors) {
		struct buf names = BUF_INIT;
		for (size_t i = 0; i < a->n_authors; i++)
			buf_printf(&names, "%s%s", i ? ", " : "", a->authors[i].name);
		buf_putc(&names, '\0');
		el(b, "dc:creator", buf_error(&names) ? "" : names.ptr);
		buf_release(&names);
	}
	for (size_t i = 0; i < a->n_tags; i++)
		el(b, "category", a->tags[i].name);
	el(b, "description", a->summary);
	/* The body as HTML, escaped as text: the teaser, then the rest or a
	 * line saying where it is. */
	struct buf html = BUF_INIT;
	buf_puts(&html, a->teaser_html ? a->teaser_html : "");
	if (gated) {
		buf_puts(&html, gated);
	} else if (a->has_gated) {
		const char *note;
		if (!feed_note(r, fs, a, &d, url, &note)) {
			buf_release(&html);
			return MH_ERR_INVALID;
		}
		buf_puts(&html, note);
		if (fs->full_text && !d.full)
			*why = note_text(r, note);
	}
	mh_err err = buf_error(&html);
	if (!err) {
		buf_puts(b, "<content:encoded>");
		xml_escape(b, html.ptr ? html.ptr : "", html.len);
		buf_puts(b, "</content:encoded>\n");
	}
	buf_release(&html);
	buf_puts(b, "</item>\n");
	return err;
}

static mh_err
build_feed(struct http_req *r, const void *arg, struct buf *b)
{
	const struct feed_spec *fs = arg;
	struct app *app = r->app;
	int64_t now = clock_now();
	struct article_filter f = { fs->kind, fs->slug, now, FEED_ITEMS, 0 };
	struct article *list;
	size_t n;
	mh_err err = store_article_list(app->store, r->arena, &f, &list, &n);
	if (err)
		return err;
	struct buf items = BUF_INIT;
	buf_init(&items, XML_MAX_BYTES);
	const char *why = NULL;
	int64_t newest = 0;
	for (size_t i = 0; i < n && !err; i++) {
		/* The listing has no teaser: the article's own record has. */
		struct article *a;
		err = store_article_by_slug(app->store, r->arena, list[i].slug, &a);
		if (err == MH_ERR_NOTFOUND) {
			err = MH_OK; /* deleted meanwhile */
			continue;
		}
		if (!err && a->published_at <= now) {
			if (a->updated_at > newest)
				newest = a->updated_at;
			err = feed_item(r, fs, a, now, &items, &why);
		}
	}
	if (!err)
		err = buf_error(&items);
	if (err) {
		buf_release(&items);
		return err;
	}
	buf_puts(b, XML_HEAD);
	buf_puts(b, "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" "
	            "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
	            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n");
	el(b, "title", fs->title);
	el_url(r, b, "link", fs->link_path);
	el(b, "description", why ? arena_printf(r->arena, "%s %s", fs->description, why) : fs->description);
	el(b, "language", "en");
	if (newest) {
		char date[48];
		time_format_http(newest, date, sizeof date);
		el(b, "lastBuildDate", date);
	}
	if (fs->self_path) {
		buf_puts(b, "<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
		xml_escape_str(b, page_url(r, fs->self_path));
		buf_puts(b, "\"/>\n");
	}
	buf_add(b, items.ptr, items.len);
	buf_release(&items);
	buf_puts(b, "</channel>\n</rss>\n");
	return MH_OK;
}

static const struct viewer *
anonymous(void)
{
	static const struct viewer v = { .meter_remaining = -1 };
	return &v;
}

void
h_feed(struct http_req *r)
{
	struct app *app = r->app;
	struct feed_spec fs = { LIST_ALL,
		                NULL,
		                app->cfg->site_name,
		                app->cfg->site_tagline[0] ? app->cfg->site_tagline : app->cfg->site_name,
		                "/",
		                "/feed.xml",
		                anonymous(),
		                false };
	serve_public(r, FEED_TYPE, build_feed, &fs);
}

static mh_err
build_named_feed(struct http_req *r, const void *arg, struct buf *b)
{
	struct app *app = r->app;
	enum list_kind kind = *(const enum list_kind *) arg;
	struct named_ref ref;
	mh_err err = store_named_by_slug(app->store, r->arena, kind, r->params[0], &ref);
	if (err)
		return err;
	bool tag = kind == LIST_TAG;
	const char *base = arena_printf(r->arena, "/%s/%s", tag ? "tags" : "authors", ref.slug);
	struct feed_spec fs = {
		kind,
		ref.slug,
		arena_printf(r->arena, "%s \xe2\x80\x94 %s", ref.name, app->cfg->site_name),
		tag ? arena_printf(r->arena, "Articles tagged %s.", ref.name)
		    : arena_printf(r->arena, "Articles by %s.", ref.name),
		base,
		arena_concat(r->arena, base, "/feed.xml", NULL),
		anonymous(),
		false,
	};
	return build_feed(r, &fs, b);
}

void
h_tag_feed(struct http_req *r)
{
	static const enum list_kind kind = LIST_TAG;
	serve_public(r, FEED_TYPE, build_named_feed, &kind);
}

void
h_author_feed(struct http_req *r)
{
	static const enum list_kind kind = LIST_AUTHOR;
	serve_public(r, FEED_TYPE, build_named_feed, &kind);
}

/* The viewer a member's private feed reads as: the member and the
 * subscription, as a signed-in request has them (web/session.c), with no
 * gift and no meter. */
static mh_err
member_viewer(struct http_req *r, int64_t member_id, struct viewer *v)
{
	struct app *app = r->app;
	struct member m;
	mh_err err = store_member_by_id(app->store, r->arena, member_id, &m);
	if (err)
		return err;
	memset(v, 0, sizeof *v);
	v->signed_in = true;
	v->member_id = m.id;
	v->role = m.role;
	v->comped_until = m.comped_until;
	v->meter_remaining = -1;
	struct subscription sub;
	err = store_subscription_by_member(app->store, r->arena, m.id, &sub);
	if (err == MH_ERR_NOTFOUND)
		return MH_OK;
	if (err)
		return err;
	v->status = sub.status;
	v->grace_until = sub.grace_until;
	v->period_end = sub.period_end;
	v->cancel_at_period_end = sub.cancel_at_period_end;
	v->renewal_grace = app->cfg->grace_days * 86400;
	return MH_OK;
}

void
h_private_feed(struct http_req *r)
{
	struct app *app = r->app;
	char token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	/* Feed readers send no cookie: the token is the credential, so it
	 * goes into no log line and no page (the access log writes r->path). */
	bool shaped = feed_token_param(r->params[0], token);
	r->path = "/feed/TOKEN.xml";
	if (!shaped) {
		app_not_found(r);
		return;
	}
	token_hash(token, hash);
	sodium_memzero(token, sizeof token);
	struct feed_token ft;
	mh_err err = store_feed_token_find(app->store, r->arena, hash, &ft);
	if (!err && (strlen(ft.token_hash) != TOKEN_HASH_CHARS || sodium_memcmp(ft.token_hash, hash, TOKEN_HASH_CHARS)))
		err = MH_ERR_NOTFOUND;
	struct viewer v;
	if (!err)
		err = member_viewer(r, ft.member_id, &v);
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return;
	}
	if (err) {
		db_error(r, err);
		return;
	}
	struct feed_spec fs = { LIST_ALL,
		                NULL,
		                arena_printf(r->arena, "%s (your private feed)", app->cfg->site_name),
		                "Every article in full while your subscription is active. Keep this address to "
		                "yourself.",
		                "/",
		                NULL,
		                &v,
		                true };
	struct buf b = BUF_INIT;
	buf_init(&b, XML_MAX_BYTES);
	err = build_feed(r, &fs, &b);
	if (!err)
		err = buf_error(&b);
	if (err) {
		buf_release(&b);
		db_error(r, err);
		return;
	}
	char etag[ETAG_CHARS];
	etag_of(b.ptr, b.len, etag);
	/* Nothing shared may keep it, nor the address leave in a Referer. */
	http_add_header(r, "X-Robots-Tag", "noindex");
	http_add_header(r, "Referrer-Policy", "no-referrer");
	send_doc(r, FEED_TYPE, &b, etag, "private, no-cache");
}

/* ---- The account page's part ------------------------------------------------------------------ */

json_t *
feed_account_json(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct feed_token ft;
	mh_err err = store_feed_token_by_member(app->store, r->arena, c->member.id, &ft);
	if (err) {
		if (err != MH_ERR_NOTFOUND)
			log_error("cannot read a feed token", "detail=\"%s\"", store_errmsg(app->store));
		return json_false();
	}
	char token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	feed_token_derive(app->secret, ft.member_id, ft.nonce, token);
	token_hash(token, hash);
	json_t *o = json_object();
	char made[48];
	time_format_human(ft.created_at, made, sizeof made);
	json_object_set_new(o, "created_human", json_string(made));
	/* The server's secret changed since: the address no longer works. */
	bool works = strlen(ft.token_hash) == TOKEN_HASH_CHARS && !sodium_memcmp(ft.token_hash, hash, TOKEN_HASH_CHARS);
	json_object_set_new(o, "works", json_boolean(works));
	if (works)
		json_object_set_new(o, "url", json_string(page_url(r, arena_printf(r->arena, "/feed/%s.xml", token))));
	sodium_memzero(token, sizeof token);
	return o;
}

void
h_feed_token_renew(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	unsigned char raw[16];
	char nonce[2 * sizeof raw + 1], token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(nonce, sizeof nonce, raw, sizeof raw);
	feed_token_derive(app->secret, c->member.id, nonce, token);
	token_hash(token, hash);
	sodium_memzero(token, sizeof token);
	struct feed_token ft = { c->member.id, hash, nonce, clock_now() };
	mh_err err = store_feed_token_save(app->store, &ft);
	if (err) {
		db_error(r, err);
		return;
	}
	http_redirect(r, 303, "/account?notice=feed#feed");
}

void
h_feed_token_revoke(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	mh_err err = store_feed_token_delete(app->store, c->member.id);
	if (err && err != MH_ERR_NOTFOUND) {
		db_error(r, err);
		return;
	}
	http_redirect(r, 303, "/account?notice=feed_revoked#feed");
}

/* ---- Sitemaps --------------------------------------------------------------------------------- */

struct sitemap {
	struct sitemap_entry *e;
	size_t n;     /* entries; the addresses are the front page and these */
	size_t per;   /* addresses per file */
	size_t files; /* at least 1 */
};

static mh_err
sitemap_load(struct http_req *r, struct sitemap *sm)
{
	struct app *app = r->app;
	mh_err err = store_sitemap_list(app->store, r->arena, clock_now(), &sm->e, &sm->n);
	if (err)
		return err;
	long per = app->cfg->sitemap_urls;
	sm->per = per >= 1 && per <= SITEMAP_MAX ? (size_t) per : 10000;
	sm->files = (sm->n + 1 + sm->per - 1) / sm->per;
	return MH_OK;
}

static const char *
entry_path(struct http_req *r, const struct sitemap_entry *e)
{
	const char *dir = e->kind == 't' ? "tags" : e->kind == 'u' ? "authors" : e->kind == 'p' ? "people" : "articles";
	return arena_printf(r->arena, "/%s/%s", dir, e->slug);
}

/* The addresses [from, to) of the whole list (0: the front page). */
static void
urlset(struct http_req *r, const struct sitemap *sm, size_t from, size_t to, struct buf *b)
{
	buf_puts(b, XML_HEAD "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	for (size_t i = from; i < to; i++) {
		buf_puts(b, "<url>\n");
		if (i == 0) {
			el_url(r, b, "loc", "/");
		} else {
			const struct sitemap_entry *e = &sm->e[i - 1];
			el_url(r, b, "loc", entry_path(r, e));
			if (e->kind == 'a') {
				char iso[32];
				time_format_iso8601(e->updated_at > e->published_at ? e->updated_at : e->published_at,
				                    iso, sizeof iso);
				el(b, "lastmod", iso);
			}
		}
		buf_puts(b, "</url>\n");
	}
	buf_puts(b, "</urlset>\n");
}

static mh_err
build_sitemap(struct http_req *r, const void *arg, struct buf *b)
{
	struct sitemap sm;
	mh_err err = sitemap_load(r, &sm);
	if (err)
		return err;
	if (sm.files == 1) {
		urlset(r, &sm, 0, sm.n + 1, b);
		return MH_OK;
	}
	/* Too many for one file: an index of the files, and the news sitemap. */
	buf_puts(b, XML_HEAD "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	for (size_t i = 1; i <= sm.files; i++) {
		buf_puts(b, "<sitemap>");
		el_url(r, b, "loc", arena_printf(r->arena, "/sitemaps/%zu.xml", i));
		buf_puts(b, "</sitemap>\n");
	}
	buf_puts(b, "<sitemap>");
	el_url(r, b, "loc", "/news-sitemap.xml");
	buf_puts(b, "</sitemap>\n</sitemapindex>\n");
	return MH_OK;
}

static mh_err
build_sitemap_file(struct http_req *r, const void *arg, struct buf *b)
{
	const char *seg = r->params[0];
	size_t len = strlen(seg);
	long k;
	if (len < 5 || len > 10 || strcmp(seg + len - 4, ".xml") != 0 || seg[0] == '0' ||
	    !slice_to_long((struct slice){ seg, len - 4 }, &k) || k < 1)
		return MH_ERR_NOTFOUND;
	struct sitemap sm;
	mh_err err = sitemap_load(r, &sm);
	if (err)
		return err;
	if ((size_t) k > sm.files)
		return MH_ERR_NOTFOUND;
	size_t from = ((size_t) k - 1) * sm.per, to = from + sm.per;
	urlset(r, &sm, from, to < sm.n + 1 ? to : sm.n + 1, b);
	return MH_OK;
}

static mh_err
build_news_sitemap(struct http_req *r, const void *arg, struct buf *b)
{
	struct app *app = r->app;
	int64_t now = clock_now();
	struct sitemap sm;
	mh_err err = sitemap_load(r, &sm);
	if (err)
		return err;
	buf_puts(b, XML_HEAD "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
	                     "xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n");
	/* Articles come first, newest first. */
	for (size_t i = 0, shown = 0; i < sm.n && shown < NEWS_MAX; i++) {
		const struct sitemap_entry *e = &sm.e[i];
		if (e->kind != 'a' || e->published_at < now - NEWS_WINDOW || e->published_at > now)
			continue;
		char iso[32];
		time_format_iso8601(e->published_at, iso, sizeof iso);
		buf_puts(b, "<url>\n");
		el_url(r, b, "loc", entry_path(r, e));
		buf_puts(b, "<news:news>\n<news:publication>\n");
		el(b, "news:name", app->cfg->site_name);
		el(b, "news:language", "en");
		buf_puts(b, "</news:publication>\n");
		el(b, "news:publication_date", iso);
		el(b, "news:title", e->title);
		buf_puts(b, "</news:news>\n</url>\n");
		shown++;
	}
	buf_puts(b, "</urlset>\n");
	return MH_OK;
}

void
h_sitemap(struct http_req *r)
{
	serve_public(r, XML_TYPE, build_sitemap, NULL);
}

void
h_sitemap_file(struct http_req *r)
{
	serve_public(r, XML_TYPE, build_sitemap_file, NULL);
}

void
h_news_sitemap(struct http_req *r)
{
	serve_public(r, XML_TYPE, build_news_sitemap, NULL);
}

void
h_robots(struct http_req *r)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "User-agent: *\nAllow: /\nDisallow: /account\nDisallow: /admin\nDisallow: /signin\n"
	             "Disallow: /checkout\nDisallow: /feed/\n\n");
	buf_printf(&b, "Sitemap: %s\nSitemap: %s\n", page_url(r, "/sitemap.xml"), page_url(r, "/news-sitemap.xml"));
	http_add_header(r, "Cache-Control", "public, max-age=3600");
	http_respond(r, 200, "text/plain; charset=utf-8", &b);
}
