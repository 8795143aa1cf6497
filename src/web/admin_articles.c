/* admin_articles.c: the newsroom's articles (docs/newsroom.md, "Articles"):
 * the list, the editor, its actions (save, publish, schedule, unpublish,
 * archive, restore), autosave, previews as readers see them, revisions
 * with a diff, and private preview links. The rules live in
 * content/newsroom.h; this file turns forms into working copies and back. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/token.h"
#include "content/newsroom.h"
#include "content/slug.h"
#include "core/clock.h"
#include "core/linediff.h"
#include "core/log.h"
#include "core/text.h"
#include "paywall/access.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "web/reader.h"
#include "core/banned.h"

#define LIST_PAGE     25
#define REVISIONS_MAX 100
#define DIFF_CELLS                                                                                                     \
	(1u << 20) /* lines of one version times the other's (a 4 MiB table), past which the diff is not minimal */
#define PREVIEW_DAYS 7
#define TITLE_MAX    300
#define DEK_MAX      600
#define NAMES_MAX    600
#define IMAGE_MAX    1000
#define FILTER_MAX   200

static const char *const access_labels[][2] = {
	{ "public", "Public" },
	{ "members", "Members" },
	{ "paid", "Subscribers (paid)" },
};
static const char *const status_labels[NEWSROOM_STATUS_COUNT] = {
	[NEWSROOM_DRAFT] = "Draft",
	[NEWSROOM_SCHEDULED] = "Scheduled",
	[NEWSROOM_PUBLISHED] = "Published",
	[NEWSROOM_ARCHIVED] = "Archived",
};

static void
db_fail(struct http_req *r)
{
	app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
}

static const struct article_parse_opts *
parse_opts(struct http_req *r, struct article_parse_opts *o)
{
	struct app *app = r->app;
	o->teaser_paragraphs = (int) app->cfg->teaser_paragraphs;
	o->max_bytes = (size_t) app->cfg->max_import_bytes;
	o->now = clock_now();
	return o;
}

static const char *
actor(struct http_req *r)
{
	return web_ctx(r)->member.email;
}

/* A story's status as readers would put it: a published story whose time
 * is still to come (an import's) is scheduled. */
static enum newsroom_status
shown_status(const struct newsroom_article *n, int64_t now)
{
	if (n->status == NEWSROOM_PUBLISHED && n->publish_at > now)
		return NEWSROOM_SCHEDULED;
	return n->status;
}

/* Gives the published articles that have no working copy one, once per
 * content version (an import beside the server, the demo's seed). */
static mh_err
adopt(struct http_req *r)
{
	static _Atomic int64_t adopted = -1;
	struct app *app = r->app;
	struct store_versions v;
	mh_err err = store_versions(app->store, &v);
	if (err || v.content == atomic_load(&adopted))
		return err;
	if ((err = store_newsroom_adopt(app->store, clock_now())))
		return err;
	atomic_store(&adopted, v.content);
	return MH_OK;
}

static bool
story_id(struct http_req *r, int64_t *id)
{
	char *end;
	long long v = strtoll(r->params[0], &end, 10);
	if (*end || v <= 0 || r->params[0][0] == '0') {
		app_not_found(r);
		return false;
	}
	*id = v;
	return true;
}

static bool
load_story(struct http_req *r, int64_t id, struct newsroom_article *n)
{
	struct app *app = r->app;
	mh_err err = store_newsroom_get(app->store, r->arena, id, n);
	if (err == MH_ERR_NOTFOUND)
		app_not_found(r);
	else if (err)
		db_fail(r);
	return err == MH_OK;
}

/* ---- The list ---------------------------------------------------------------------------- */

static const char *
query_or_empty(struct http_req *r, const char *name)
{
	const char *v = http_query(r, name);
	return v ? v : "";
}

static json_t *
options_json(const char *const (*opts)[2], size_t n, const char *selected)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "value", json_string(opts[i][0]));
		json_object_set_new(o, "label", json_string(opts[i][1]));
		json_object_set_new(o, "selected", json_boolean(selected && !strcmp(selected, opts[i][0])));
		json_array_append_new(list, o);
	}
	return list;
}

static void
add_param(struct buf *b, const char *name, const char *value)
{
	if (!value || !value[0])
		return;
	buf_printf(b, "%c%s=", b->len ? '&' : '?', name);
	for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.')
			buf_putc(b, (char) *p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

void
h_admin_articles(struct http_req *r)
{
	struct app *app = r->app;
	const char *status = query_or_empty(r, "status"), *access = query_or_empty(r, "access");
	const char *tag = query_or_empty(r, "tag"), *author = query_or_empty(r, "author"), *q = query_or_empty(r, "q");
	const char *page_s = query_or_empty(r, "page");
	int64_t now = clock_now();
	struct newsroom_filter f = { -1, access, tag, author, q, now, LIST_PAGE, 0 };
	long page = 1;
	if (page_s[0]) {
		char *end;
		page = strtol(page_s, &end, 10);
		if (*end || page < 1 || page > 100000) {
			app_error(r, 400, "That page of the list does not exist.");
			return;
		}
	}
	if ((status[0] && (f.status = newsroom_status_parse(status)) < 0) ||
	    (access[0] && access_level_parse(access) < 0)) {
		app_error(r, 400, "That filter is not one the list knows.");
		return;
	}
	if (strlen(tag) > FILTER_MAX || strlen(author) > FILTER_MAX || strlen(q) > FILTER_MAX) {
		app_error(r, 400, "A filter is too long: keep it under 200 characters.");
		return;
	}
	f.offset = (size_t) (page - 1) * LIST_PAGE;
	struct newsroom_article *rows;
	size_t n, total;
	if (adopt(r) || store_newsroom_list(app->store, r->arena, &f, &rows, &n, &total)) {
		db_fail(r);
		return;
	}
	json_t *ctx = admin_context(r, "Articles", ADMIN_ARTICLES);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		enum newsroom_status st = shown_status(&rows[i], now);
		json_object_set_new(
		        o, "url", json_string(arena_printf(r->arena, "/admin/articles/%lld", (long long) rows[i].id)));
		json_object_set_new(o, "title", json_string(rows[i].title));
		json_object_set_new(o, "status", json_string(newsroom_status_name(st)));
		json_object_set_new(o, "status_label", json_string(status_labels[st]));
		json_object_set_new(o, "access", json_string(rows[i].access));
		json_object_set_new(o, "authors", json_string(rows[i].authors));
		json_object_set_new(o, "tags", json_string(rows[i].tags));
		json_object_set_new(o, "when", json_string(admin_time(r->arena, rows[i].publish_at)));
		json_object_set_new(o, "updated", json_string(admin_time(r->arena, rows[i].updated_at)));
		json_object_set_new(o, "live_url",
		                    st == NEWSROOM_PUBLISHED
		                            ? json_string(arena_printf(r->arena, "/articles/%s", rows[i].live_slug))
		                            : json_false());
		json_array_append_new(list, o);
	}
	json_object_set_new(ctx, "articles", list);
	json_object_set_new(ctx, "any", json_boolean(n > 0));
	json_object_set_new(ctx, "total", json_integer((json_int_t) total));
	json_object_set_new(ctx, "one", json_boolean(total == 1));
	const char *const statuses[][2] = { { "draft", "Draft" },
		                            { "scheduled", "Scheduled" },
		                            { "published", "Published" },
		                            { "archived", "Archived" } };
	json_object_set_new(ctx, "statuses", options_json(statuses, 4, status));
	json_object_set_new(ctx, "accesses", options_json(access_labels, 3, access));
	json_object_set_new(ctx, "tag", json_string(tag));
	json_object_set_new(ctx, "author", json_string(author));
	json_object_set_new(ctx, "q", json_string(q));
	json_object_set_new(ctx, "filtered", json_boolean(status[0] || access[0] || tag[0] || author[0] || q[0]));
	struct buf base = BUF_INIT;
	add_param(&base, "status", status);
	add_param(&base, "access", access);
	add_param(&base, "tag", tag);
	add_param(&base, "author", author);
	add_param(&base, "q", q);
	const char *sep = base.len ? "&" : "?";
	if (page > 1)
		json_object_set_new(ctx, "newer",
		                    json_string(arena_printf(r->arena, "/admin/articles%s%spage=%ld",
		                                             base.len ? base.ptr : "", sep, page - 1)));
	if (f.offset + n < total)
		json_object_set_new(ctx, "older",
		                    json_string(arena_printf(r->arena, "/admin/articles%s%spage=%ld",
		                                             base.len ? base.ptr : "", sep, page + 1)));
	json_object_set_new(ctx, "page_number", json_integer(page));
	buf_release(&base);
	admin_send(r, 200, "admin-articles", ctx);
}

/* ---- The editor -------------------------------------------------------------------------- */

/* What a form said is wrong, field by field. */
struct form_errors {
	json_t *fields; /* field name: message */
	const char *summary;
};

static void
form_error(struct form_errors *e, const char *field, const char *msg)
{
	if (!e->fields)
		e->fields = json_object();
	if (!json_object_get(e->fields, field))
		json_object_set_new(e->fields, field, json_string(msg));
	if (!e->summary)
		e->summary = msg;
}

static const char *
field(struct http_req *r, const char *name)
{
	const char *v = http_form(r, name);
	return v ? v : "";
}

/* "a ,b,, c" as "a, b, c". */
static const char *
names_normalized(struct arena *a, const char *s)
{
	struct buf b = BUF_INIT;
	const char *p = s;
	while (*p) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *x = p, *y = end;
		while (x < y && (*x == ' ' || *x == '\t'))
			x++;
		while (y > x && (y[-1] == ' ' || y[-1] == '\t'))
			y--;
		if (y > x) {
			if (b.len)
				buf_puts(&b, ", ");
			buf_add(&b, x, (size_t) (y - x));
		}
		p = *end ? end + 1 : end;
	}
	const char *out = arena_strndup(a, b.len ? b.ptr : "", b.len);
	buf_release(&b);
	return out;
}

/* "2026-12-09T10:30" (a datetime-local field, read as UTC), with optional
 * seconds and Z; "" is 0. False when malformed. */
static bool
parse_when(const char *s, int64_t *out)
{
	*out = 0;
	if (!s[0])
		return true;
	char iso[32];
	size_t len = strlen(s);
	if (len == 16)
		snprintf(iso, sizeof iso, "%s:00Z", s);
	else if (len == 19)
		snprintf(iso, sizeof iso, "%sZ", s);
	else if (len == 20 && s[19] == 'Z')
		snprintf(iso, sizeof iso, "%s", s);
	else
		return false;
	return time_parse_iso8601(iso, out);
}

static const char *
when_field(struct arena *a, int64_t t)
{
	if (t <= 0)
		return "";
	time_t tt = (time_t) t;
	struct tm tm;
	char out[32];
	if (!gmtime_r(&tt, &tm) || !strftime(out, sizeof out, "%Y-%m-%dT%H:%M", &tm))
		return "";
	return arena_strdup(a, out);
}

static bool
has_control(const char *s, bool newlines_ok)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if ((*p < 0x20 && !(newlines_ok && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f)
			return true;
	return false;
}

/* Reads the form into n (over what n held), checking every field. */
static void
read_form(struct http_req *r, struct newsroom_article *n, struct form_errors *e)
{
	struct app *app = r->app;
	n->title = field(r, "title");
	n->slug = field(r, "slug");
	n->dek = field(r, "dek");
	n->access = field(r, "access");
	n->authors = names_normalized(r->arena, field(r, "authors"));
	n->tags = names_normalized(r->arena, field(r, "tags"));
	n->featured = field(r, "featured")[0] != '\0';
	n->feature_image = field(r, "feature_image");
	n->feature_image_alt = field(r, "feature_image_alt");
	/* Browsers send CRLF; the store keeps LF. */
	const char *body = field(r, "body");
	char *lf = arena_alloc(r->arena, strlen(body) + 1), *o = lf;
	for (const char *p = body; *p; p++)
		if (*p != '\r')
			*o++ = *p;
	*o = '\0';
	n->body = lf;

	if (!n->title[strspn(n->title, " \t")])
		form_error(e, "title", "Give the article a title.");
	else if (strlen(n->title) > TITLE_MAX || has_control(n->title, false))
		form_error(e, "title", "Keep the title to one line under 300 characters.");
	if (!n->slug[0] && n->title[0]) {
		char slug[SLUG_MAX + 1];
		if (slug_from(n->title, slug, sizeof slug))
			n->slug = arena_strdup(r->arena, slug);
	}
	if (!n->slug[0] && n->title[0])
		form_error(e, "slug", "The title gives no address: write a slug (letters, digits and hyphens).");
	else if (n->slug[0] && (strlen(n->slug) > SLUG_MAX || !slug_valid(n->slug)))
		form_error(e, "slug",
		           "A slug is lower-case letters, digits and single hyphens, at most 80 characters.");
	if (strlen(n->dek) > DEK_MAX || has_control(n->dek, false))
		form_error(e, "dek", "Keep the summary to one line under 600 characters.");
	if (access_level_parse(n->access) < 0) {
		form_error(e, "access", "Choose who may read it: public, members or subscribers.");
		n->access = "paid";
	}
	if (strlen(n->authors) > NAMES_MAX || has_control(n->authors, false))
		form_error(e, "authors", "Keep the authors under 600 characters.");
	if (strlen(n->tags) > NAMES_MAX || has_control(n->tags, false))
		form_error(e, "tags", "Keep the tags under 600 characters.");
	const char *when = field(r, "publish_at");
	int64_t t;
	if (!parse_when(when, &t))
		form_error(e, "publish_at", "Write the time as YYYY-MM-DD HH:MM (UTC).");
	else if (t || !n->live_slug || !n->live_slug[0])
		n->publish_at = t;
	const char *img = n->feature_image;
	if (img[0] &&
	    (strlen(img) > IMAGE_MAX || has_control(img, false) || strchr(img, ' ') ||
	     !(!strncmp(img, "https://", 8) || !strncmp(img, "http://", 7) || (img[0] == '/' && img[1] != '/'))))
		form_error(e, "feature_image", "An image is an address: https://... or a path on this site (/...).");
	if (img[0] && !n->feature_image_alt[0])
		form_error(e, "feature_image_alt", "Describe the image for readers who cannot see it.");
	if (strlen(n->feature_image_alt) > DEK_MAX || has_control(n->feature_image_alt, false))
		form_error(e, "feature_image_alt", "Keep the description to one line under 600 characters.");
	if (app->cfg->max_import_bytes > 0 && strlen(n->body) > (size_t) app->cfg->max_import_bytes)
		form_error(e, "body", "The body is longer than this site accepts (max-import-bytes).");
	if (has_control(n->body, true))
		form_error(e, "body", "The body holds control characters; paste it as plain text.");
}

static void
editor_send(struct http_req *r, int status, const struct newsroom_article *n, const struct form_errors *e,
            const char *notice, const char *share_url)
{
	int64_t now = clock_now();
	bool saved = n->id > 0;
	json_t *ctx = admin_context(r, saved ? "Edit article" : "New article", ADMIN_ARTICLES);
	json_t *a = json_object();
	json_object_set_new(a, "title", json_string(n->title ? n->title : ""));
	json_object_set_new(a, "slug", json_string(n->slug ? n->slug : ""));
	json_object_set_new(a, "dek", json_string(n->dek ? n->dek : ""));
	json_object_set_new(a, "authors", json_string(n->authors ? n->authors : ""));
	json_object_set_new(a, "tags", json_string(n->tags ? n->tags : ""));
	json_object_set_new(a, "publish_at", json_string(when_field(r->arena, n->publish_at)));
	json_object_set_new(a, "featured", json_boolean(n->featured));
	json_object_set_new(a, "feature_image", json_string(n->feature_image ? n->feature_image : ""));
	json_object_set_new(a, "feature_image_alt", json_string(n->feature_image_alt ? n->feature_image_alt : ""));
	json_object_set_new(a, "body", json_string(n->body ? n->body : ""));
	enum newsroom_status st = shown_status(n, now);
	json_object_set_new(a, "status", json_string(newsroom_status_name(st)));
	json_object_set_new(a, "status_label", json_string(status_labels[st]));
	bool live = n->live_slug && n->live_slug[0];
	json_object_set_new(a, "live_url",
	                    live ? json_string(arena_printf(r->arena, "/articles/%s", n->live_slug)) : json_false());
	json_object_set_new(a, "unpublished_changes", json_boolean(live && n->updated_at > n->live_at));
	json_object_set_new(a, "when_label", json_string(admin_time(r->arena, n->publish_at)));
	json_object_set_new(ctx, "accesses", options_json(access_labels, 3, n->access ? n->access : "paid"));
	json_object_set_new(ctx, "article", a);
	json_object_set_new(ctx, "saved", json_boolean(saved));
	json_object_set_new(ctx, "action",
	                    json_string(saved ? arena_printf(r->arena, "/admin/articles/%lld", (long long) n->id)
	                                      : "/admin/articles/new"));
	if (saved) {
		const char *base = arena_printf(r->arena, "/admin/articles/%lld", (long long) n->id);
		json_object_set_new(ctx, "base", json_string(base));
		json_object_set_new(ctx, "updated", json_string(admin_time(r->arena, n->updated_at)));
		json_object_set_new(ctx, "updated_by", json_string(n->updated_by ? n->updated_by : ""));
		json_object_set_new(ctx, "base_updated",
		                    json_string(arena_printf(r->arena, "%lld", (long long) n->updated_at)));
	}
	/* The actions a story's status allows. */
	json_object_set_new(ctx, "can_schedule", json_boolean(!live && n->status != NEWSROOM_ARCHIVED));
	json_object_set_new(ctx, "can_publish", json_boolean(n->status != NEWSROOM_ARCHIVED));
	json_object_set_new(ctx, "publish_label", json_string(live ? "Update published article" : "Publish now"));
	json_object_set_new(ctx, "can_unpublish", json_boolean(saved && (live || n->status == NEWSROOM_SCHEDULED)));
	json_object_set_new(ctx, "unpublish_label",
	                    json_string(n->status == NEWSROOM_SCHEDULED && !live ? "Cancel schedule" : "Unpublish"));
	json_object_set_new(ctx, "can_archive", json_boolean(saved && n->status != NEWSROOM_ARCHIVED));
	json_object_set_new(ctx, "can_restore", json_boolean(saved && n->status == NEWSROOM_ARCHIVED));
	json_object_set_new(ctx, "errors", e && e->fields ? json_incref(e->fields) : json_object());
	json_object_set_new(ctx, "error_summary", e && e->summary ? json_string(e->summary) : json_false());
	json_object_set_new(ctx, "notice", notice ? json_string(notice) : json_false());
	json_object_set_new(ctx, "share_url", share_url ? json_string(share_url) : json_false());
	const struct static_file *js = theme_static(&((struct app *) r->app)->theme, "admin-articles.js");
	json_object_set_new(ctx, "script",
	                    json_string(js ? arena_printf(r->arena, "/static/admin-articles.js?v=%.8s", js->etag + 1)
	                                   : "/static/admin-articles.js"));
	if (e && e->fields)
		json_decref(e->fields);
	admin_send(r, status, "admin-article-edit", ctx);
}

void
h_admin_article_new(struct http_req *r)
{
	struct newsroom_article n;
	memset(&n, 0, sizeof n);
	n.access = "paid";
	n.authors = web_ctx(r)->member.name;
	editor_send(r, 200, &n, NULL, NULL, NULL);
}

void
h_admin_article_edit(struct http_req *r)
{
	int64_t id;
	struct newsroom_article n;
	if (!story_id(r, &id) || !load_story(r, id, &n))
		return;
	const char *done = http_query(r, "done");
	static const char *const notices[][2] = {
		{ "saved", "Draft saved." },
		{ "published", "Published: readers see it now." },
		{ "scheduled", "Scheduled: it goes live at its publish time." },
		{ "unpublished", "Unpublished: readers no longer see it anywhere." },
		{ "archived", "Archived: readers no longer see it anywhere." },
		{ "restored", "Restored from the archive as a draft." },
		{ "reverted", "The revision is back in the editor; publish to show it to readers." },
	};
	const char *notice = NULL;
	for (size_t i = 0; done && i < sizeof notices / sizeof *notices; i++)
		if (!strcmp(done, notices[i][0]))
			notice = notices[i][1];
	editor_send(r, 200, &n, NULL, notice, NULL);
}

static void
redirect_done(struct http_req *r, int64_t id, const char *done)
{
	http_redirect(r, 303, arena_printf(r->arena, "/admin/articles/%lld?done=%s", (long long) id, done));
}

/* Saves n (new or not) with a revision, in one transaction; MH_ERR_CONFLICT: slug taken. */
static mh_err
save_story(struct http_req *r, struct newsroom_article *n, const char *note)
{
	struct app *app = r->app;
	int64_t now = clock_now();
	n->updated_at = now;
	n->updated_by = actor(r);
	if (!n->id) {
		n->created_at = now;
		n->live_slug = "";
	}
	mh_err err = store_begin(app->store);
	if (err)
		return err;
	if ((err = store_newsroom_put(app->store, n, &n->id)) ||
	    (err = store_newsroom_revision_add(app->store, n->id, now, actor(r), note)) ||
	    (err = store_commit(app->store))) {
		store_rollback(app->store);
		return err;
	}
	return MH_OK;
}

/* Whether the form was loaded from the story as it stands: a form with a
 * base_updated older than the story's last save would overwrite someone
 * else's changes (another editor, another tab's autosave). */
static bool
form_is_current(struct http_req *r, const struct newsroom_article *n)
{
	const char *base = http_form(r, "base_updated");
	if (!base || !base[0] || !n->id)
		return true; /* a new story, or a client that does not say (it takes the risk) */
	char *end;
	long long v = strtoll(base, &end, 10);
	return !*end && v == n->updated_at;
}

/* The field the importer's message is about, to show it beside that field. */
static const char *
parse_error_field(const char *msg)
{
	static const char *const fields[][2] = {
		{ "'authors'", "authors" },
		{ "'tags'", "tags" },
		{ "feature_image_alt", "feature_image_alt" },
		{ "feature_image", "feature_image" },
		{ "slug", "slug" },
		{ "dek", "dek" },
	};
	if (!strncmp(msg, "Body", 4))
		return "body";
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strstr(msg, fields[i][0]))
			return fields[i][1];
	return "title";
}

static void
story_post(struct http_req *r, struct newsroom_article *n)
{
	struct app *app = r->app;
	/* A form sent without its button (Enter in a field, a script) saves. */
	const char *action = field(r, "action")[0] ? field(r, "action") : "save";
	int64_t now = clock_now();
	struct form_errors e = { NULL, NULL };
	bool was_new = n->id == 0;

	/* Status changes: the fields are not read. */
	if (!strcmp(action, "unpublish") || !strcmp(action, "archive")) {
		if (was_new) {
			app_error(r, 400, "Save the article first.");
			return;
		}
		bool archive = action[0] == 'a';
		if (!archive && !(n->live_slug[0] || n->status == NEWSROOM_SCHEDULED)) {
			app_error(r, 409, "This article is not published or scheduled.");
			return;
		}
		if (newsroom_unpublish(app->store, n, archive ? NEWSROOM_ARCHIVED : NEWSROOM_DRAFT, now, actor(r))) {
			db_fail(r);
			return;
		}
		admin_audit(r, archive ? "article.archive" : "article.unpublish", n->slug, n->title);
		redirect_done(r, n->id, archive ? "archived" : "unpublished");
		return;
	}
	if (!strcmp(action, "restore")) {
		if (was_new || n->status != NEWSROOM_ARCHIVED) {
			app_error(r, 409, "Only an archived article can be restored.");
			return;
		}
		n->status = NEWSROOM_DRAFT;
		n->updated_at = now;
		n->updated_by = actor(r);
		if (store_newsroom_put(app->store, n, NULL)) {
			db_fail(r);
			return;
		}
		admin_audit(r, "article.restore", n->slug, n->title);
		redirect_done(r, n->id, "restored");
		return;
	}
	bool publish = !strcmp(action, "publish"), schedule = !strcmp(action, "schedule");
	if (!publish && !schedule && strcmp(action, "save") != 0) {
		app_error(r, 400, "That action is not one the editor knows.");
		return;
	}
	bool current = form_is_current(r, n);
	const char *other =
	        !current ? arena_printf(r->arena, "%s at %s", n->updated_by, admin_time(r->arena, n->updated_at))
	                 : NULL;
	read_form(r, n, &e);
	if (!current) {
		/* Sent back with its text and the story's version: saving again is a choice. */
		form_error(&e, "title",
		           arena_printf(r->arena,
		                        "Not saved: this article was changed since you opened it (by %s). Your text is "
		                        "below; save again to replace that version with it, or open the article again "
		                        "to see it.",
		                        other));
		editor_send(r, 409, n, &e, NULL, NULL);
		return;
	}
	bool live = !was_new && n->live_slug[0];
	if (schedule && !e.summary) {
		if (live)
			form_error(&e, "publish_at", "This article is live: unpublish it before scheduling it.");
		else if (n->publish_at <= now)
			form_error(&e, "publish_at", "To schedule, choose a publish time in the future (UTC).");
	}
	if ((publish || schedule) && n->status == NEWSROOM_ARCHIVED && !e.summary)
		form_error(&e, "title", "Restore the article from the archive first.");
	/* Publishing or scheduling checks the text as the importer will. */
	if ((publish || schedule) && !e.summary) {
		struct article_parse_opts o;
		struct article_input in;
		char err[512];
		struct newsroom_article probe = *n;
		if (publish && !live)
			probe.publish_at = now;
		if (newsroom_parse(r->arena, &probe, parse_opts(r, &o), now, &in, err, sizeof err))
			form_error(&e, parse_error_field(err), arena_strdup(r->arena, err));
	}
	if (e.summary) {
		editor_send(r, 422, n, &e, NULL, NULL);
		return;
	}
	if (publish && (!live || n->publish_at > now || !n->publish_at))
		n->publish_at = now;
	mh_err err;
	if (publish) {
		/* One transaction: the working copy, the article readers read, a revision. */
		struct article_parse_opts o;
		char msg[512];
		if ((err = newsroom_publish(app->store, r->arena, n, parse_opts(r, &o), now, actor(r), "published", msg,
		                            sizeof msg))) {
			if (err == MH_ERR_CONFLICT)
				form_error(&e, "slug", "Another article already uses this slug: choose another.");
			else
				form_error(&e, "title", arena_printf(r->arena, "Not published: %s.", msg));
			editor_send(r, err == MH_ERR_CONFLICT || err == MH_ERR_INVALID ? 422 : 500, n, &e, NULL, NULL);
			return;
		}
		admin_audit(r, "article.publish", n->slug, n->title);
		redirect_done(r, n->id, "published");
		return;
	}
	if (schedule)
		n->status = NEWSROOM_SCHEDULED;
	const char *note =
	        schedule ? arena_printf(r->arena, "scheduled for %s", admin_time(r->arena, n->publish_at)) : "saved";
	err = save_story(r, n, note);
	if (err == MH_ERR_CONFLICT) {
		form_error(&e, "slug", "Another article already uses this slug: choose another.");
		if (was_new)
			n->id = 0;
		editor_send(r, 422, n, &e, NULL, NULL);
		return;
	}
	if (err) {
		db_fail(r);
		return;
	}
	admin_audit(r, was_new ? "article.create" : "article.save", n->slug, n->title);
	if (schedule) {
		admin_audit(r, "article.schedule", n->slug, admin_time(r->arena, n->publish_at));
		redirect_done(r, n->id, "scheduled");
		return;
	}
	redirect_done(r, n->id, "saved");
}

void
h_admin_article_create(struct http_req *r)
{
	struct newsroom_article n;
	memset(&n, 0, sizeof n);
	n.live_slug = "";
	story_post(r, &n);
}

void
h_admin_article_update(struct http_req *r)
{
	int64_t id;
	struct newsroom_article n;
	if (!story_id(r, &id) || !load_story(r, id, &n))
		return;
	story_post(r, &n);
}

static void
json_reply(struct http_req *r, int status, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	struct buf b = BUF_INIT;
	buf_puts(&b, text ? text : "{}");
	free(text);
	http_add_header(r, "Cache-Control", "private, no-store");
	http_respond(r, status, "application/json; charset=utf-8", &b);
}

/* POST /admin/articles/:id/autosave: the fields only, no revision, no
 * status change, nothing readers read (the content version stays). */
void
h_admin_article_autosave(struct http_req *r)
{
	struct app *app = r->app;
	int64_t id;
	struct newsroom_article n;
	if (!story_id(r, &id) || !load_story(r, id, &n))
		return;
	struct form_errors e = { NULL, NULL };
	if (!form_is_current(r, &n)) {
		json_t *o = json_object();
		json_object_set_new(
		        o, "error",
		        json_string(arena_printf(r->arena, "this article was changed elsewhere (by %s at %s)",
		                                 n.updated_by, admin_time(r->arena, n.updated_at))));
		json_reply(r, 409, o);
		return;
	}
	read_form(r, &n, &e);
	if (e.summary) {
		json_t *o = json_object();
		json_object_set_new(o, "error", json_string(e.summary));
		json_decref(e.fields);
		json_reply(r, 422, o);
		return;
	}
	int64_t now = clock_now();
	n.updated_at = now;
	n.updated_by = actor(r);
	mh_err err = store_newsroom_put(app->store, &n, NULL);
	if (err) {
		json_t *o = json_object();
		json_object_set_new(o, "error",
		                    json_string(err == MH_ERR_CONFLICT ? "Another article already uses this slug."
		                                                       : "Not saved: please try again in a moment."));
		json_reply(r, err == MH_ERR_CONFLICT ? 422 : 500, o);
		return;
	}
	admin_audit(r, "article.autosave", n.slug, n.title);
	json_t *o = json_object();
	json_object_set_new(o, "saved_at", json_string(admin_time(r->arena, now)));
	json_object_set_new(o, "base_updated", json_string(arena_printf(r->arena, "%lld", (long long) now)));
	json_reply(r, 200, o);
}

/* ---- Previews ---------------------------------------------------------------------------- */

/* Renders the working copy with the readers' article template, as an
 * anonymous reader or a subscriber would get it. */
static void
preview_send(struct http_req *r, const struct newsroom_article *n, bool anonymous, const char *switch_base)
{
	int64_t now = clock_now();
	struct article_parse_opts o;
	struct article_input in;
	char err[512];
	struct newsroom_article probe = *n;
	if (!probe.publish_at || !(probe.live_slug && probe.live_slug[0]))
		probe.publish_at = probe.publish_at > now ? probe.publish_at : now;
	if (newsroom_parse(r->arena, &probe, parse_opts(r, &o), now, &in, err, sizeof err)) {
		app_error(r, 422, arena_printf(r->arena, "This article cannot be shown yet: %s.", err));
		return;
	}
	struct article a;
	memset(&a, 0, sizeof a);
	a.slug = in.slug;
	a.title = in.title;
	a.dek = in.dek ? in.dek : "";
	a.summary = in.summary;
	a.access = in.access;
	a.published_at = in.published_at;
	a.updated_at = in.updated_at;
	a.teaser_html = in.teaser_html;
	a.has_gated = in.gated_html && in.gated_html[0];
	a.featured = in.featured;
	a.image = in.image;
	a.authors = in.authors;
	a.n_authors = in.n_authors;
	a.tags = in.tags;
	a.n_tags = in.n_tags;

	struct reader rd;
	memset(&rd, 0, sizeof rd);
	rd.v.meter_remaining = -1;
	if (!anonymous) {
		rd.v.signed_in = true;
		rd.v.role = ROLE_READER;
		rd.v.status = SUB_ACTIVE;
		rd.v.period_end = now + 30 * 86400;
	}
	struct access_decision d = access_decide(&a, &rd.v, now);
	json_t *ctx = page_context(r, a.title, a.summary);
	json_t *page = json_object_get(ctx, "page");
	json_object_set_new(page, "noindex", json_true());
	json_t *art = page_article_json(r, &a);
	json_object_set_new(art, "teaser_html", json_string(a.teaser_html));
	json_object_set_new(art, "full", json_boolean(d.full));
	if (d.full) {
		json_object_set_new(art, "body_html", json_string(in.gated_html ? in.gated_html : ""));
		json_object_set_new(ctx, "paywall", json_false());
	} else {
		json_object_set_new(ctx, "paywall", reader_paywall_json(r, &a, &rd, &d));
	}
	json_object_set_new(ctx, "article", art);
	json_t *pv = json_object();
	json_object_set_new(pv, "anonymous", json_boolean(anonymous));
	json_object_set_new(pv, "subscriber_url", json_string(arena_printf(r->arena, "%s?as=subscriber", switch_base)));
	json_object_set_new(pv, "anonymous_url", json_string(arena_printf(r->arena, "%s?as=anonymous", switch_base)));
	json_object_set_new(pv, "edit_url",
	                    n->id && web_ctx(r)->member.role >= ROLE_EDITOR && web_ctx(r)->signed_in
	                            ? json_string(arena_printf(r->arena, "/admin/articles/%lld", (long long) n->id))
	                            : json_false());
	json_object_set_new(ctx, "preview", pv);
	page_send(r, 200, "article", ctx, CACHE_PRIVATE);
}

static bool
preview_as_anonymous(struct http_req *r, bool *anonymous)
{
	const char *as = http_query(r, "as");
	if (!as || !strcmp(as, "subscriber")) {
		*anonymous = false;
		return true;
	}
	if (!strcmp(as, "anonymous")) {
		*anonymous = true;
		return true;
	}
	app_error(r, 400, "Preview as a subscriber or as an anonymous reader.");
	return false;
}

void
h_admin_article_preview(struct http_req *r)
{
	int64_t id;
	struct newsroom_article n;
	bool anonymous;
	if (!preview_as_anonymous(r, &anonymous) || !story_id(r, &id) || !load_story(r, id, &n))
		return;
	preview_send(r, &n, anonymous, arena_printf(r->arena, "/admin/articles/%lld/preview", (long long) id));
}

/* POST /admin/articles/:id/share: a private preview link for PREVIEW_DAYS. */
void
h_admin_article_share(struct http_req *r)
{
	struct app *app = r->app;
	int64_t id;
	struct newsroom_article n;
	if (!story_id(r, &id) || !load_story(r, id, &n))
		return;
	char tok[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	token_new(tok);
	token_hash(tok, hash);
	int64_t now = clock_now(), until = now + PREVIEW_DAYS * 86400;
	if (store_newsroom_preview_add(app->store, hash, id, until, now)) {
		db_fail(r);
		return;
	}
	admin_audit(r, "article.share", n.slug, arena_printf(r->arena, "until %s", admin_time(r->arena, until)));
	const char *url = page_url(r, arena_printf(r->arena, "/preview/%s", tok));
	editor_send(
	        r, 200, &n, NULL,
	        arena_printf(r->arena, "Private preview link made; it works until %s.", admin_time(r->arena, until)),
	        url);
}

/* GET /preview/:token: the link is the authority, no account needed. */
void
h_preview_link(struct http_req *r)
{
	struct app *app = r->app;
	bool anonymous;
	if (!preview_as_anonymous(r, &anonymous))
		return;
	http_add_header(r, "Referrer-Policy", "no-referrer");
	if (!token_well_formed(r->params[0])) {
		app_error(r, 404, "This preview link does not work: it may be mistyped or expired.");
		return;
	}
	char hash[TOKEN_HASH_CHARS + 1];
	token_hash(r->params[0], hash);
	int64_t id;
	struct newsroom_article n;
	mh_err err = store_newsroom_preview_get(app->store, hash, clock_now(), &id);
	if (err == MH_ERR_NOTFOUND) {
		app_error(r, 404, "This preview link does not work: it may be mistyped or expired.");
		return;
	}
	if (err) {
		db_fail(r);
		return;
	}
	if (!load_story(r, id, &n))
		return;
	preview_send(r, &n, anonymous, arena_printf(r->arena, "/preview/%s", r->params[0]));
}

/* ---- Revisions --------------------------------------------------------------------------- */

static const char *
story_text(struct http_req *r, const struct newsroom_article *n)
{
	struct buf b = BUF_INIT;
	newsroom_source(&b, n, n->publish_at);
	const char *s = arena_strndup(r->arena, b.len ? b.ptr : "", b.len);
	buf_release(&b);
	return s;
}

static bool
rev_id(struct http_req *r, int64_t *rev)
{
	char *end;
	long long v = strtoll(r->params[1], &end, 10);
	if (*end || v <= 0) {
		app_not_found(r);
		return false;
	}
	*rev = v;
	return true;
}

/* The story and revision named by :id and :rev, or the answer already
 * sent (404 for either unknown, 500 for the store) and false. */
static bool
load_revision(struct http_req *r, int64_t *id, int64_t *rev, struct newsroom_article *n, struct newsroom_revision *rv)
{
	struct app *app = r->app;
	if (!story_id(r, id) || !rev_id(r, rev) || !load_story(r, *id, n))
		return false;
	mh_err err = store_newsroom_revision_get(app->store, r->arena, *id, *rev, rv);
	if (err == MH_ERR_NOTFOUND)
		app_not_found(r);
	else if (err)
		db_fail(r);
	return err == MH_OK;
}

void
h_admin_article_revisions(struct http_req *r)
{
	struct app *app = r->app;
	int64_t id;
	struct newsroom_article n;
	if (!story_id(r, &id) || !load_story(r, id, &n))
		return;
	struct newsroom_revision *revs;
	size_t count;
	if (store_newsroom_revisions(app->store, r->arena, id, REVISIONS_MAX, &revs, &count)) {
		db_fail(r);
		return;
	}
	json_t *ctx = admin_context(r, "Revisions", ADMIN_ARTICLES);
	json_object_set_new(ctx, "story_title", json_string(n.title));
	json_object_set_new(ctx, "edit_url",
	                    json_string(arena_printf(r->arena, "/admin/articles/%lld", (long long) id)));
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "url",
		                    json_string(arena_printf(r->arena, "/admin/articles/%lld/revisions/%lld",
		                                             (long long) id, (long long) revs[i].id)));
		json_object_set_new(o, "number", json_integer((json_int_t) revs[i].id));
		json_object_set_new(o, "when", json_string(admin_time(r->arena, revs[i].at)));
		json_object_set_new(o, "who", json_string(revs[i].actor));
		json_object_set_new(o, "note", json_string(revs[i].note));
		json_object_set_new(o, "title", json_string(revs[i].art.title));
		json_array_append_new(list, o);
	}
	json_object_set_new(ctx, "revisions", list);
	json_object_set_new(ctx, "any", json_boolean(count > 0));
	admin_send(r, 200, "admin-article-revisions", ctx);
}

void
h_admin_article_revision(struct http_req *r)
{
	int64_t id, rev;
	struct newsroom_article n;
	struct newsroom_revision rv;
	if (!load_revision(r, &id, &rev, &n, &rv))
		return;
	struct linediff_line *lines;
	size_t count;
	linediff(r->arena, story_text(r, &rv.art), story_text(r, &n), DIFF_CELLS, &lines, &count);
	json_t *ctx = admin_context(r, "Revision", ADMIN_ARTICLES);
	json_object_set_new(ctx, "story_title", json_string(n.title));
	json_object_set_new(ctx, "number", json_integer((json_int_t) rev));
	json_object_set_new(ctx, "when", json_string(admin_time(r->arena, rv.at)));
	json_object_set_new(ctx, "who", json_string(rv.actor));
	json_object_set_new(ctx, "note", json_string(rv.note));
	const char *base = arena_printf(r->arena, "/admin/articles/%lld", (long long) id);
	json_object_set_new(ctx, "edit_url", json_string(base));
	json_object_set_new(ctx, "revisions_url", json_string(arena_printf(r->arena, "%s/revisions", base)));
	json_object_set_new(ctx, "restore_url",
	                    json_string(arena_printf(r->arena, "%s/revisions/%lld/restore", base, (long long) rev)));
	json_t *list = json_array();
	size_t added = 0, removed = 0;
	for (size_t i = 0; i < count; i++) {
		json_t *o = json_object();
		static const char *const kind[] = {
			[LINEDIFF_SAME] = "same", [LINEDIFF_DEL] = "del", [LINEDIFF_ADD] = "add"
		};
		static const char *const sign[] = { [LINEDIFF_SAME] = " ", [LINEDIFF_DEL] = "-", [LINEDIFF_ADD] = "+" };
		json_object_set_new(o, "kind", json_string(kind[lines[i].op]));
		json_object_set_new(o, "sign", json_string(sign[lines[i].op]));
		json_object_set_new(o, "del", json_boolean(lines[i].op == LINEDIFF_DEL));
		json_object_set_new(o, "add", json_boolean(lines[i].op == LINEDIFF_ADD));
		json_object_set_new(o, "text", json_string(lines[i].text));
		added += lines[i].op == LINEDIFF_ADD;
		removed += lines[i].op == LINEDIFF_DEL;
		json_array_append_new(list, o);
	}
	json_object_set_new(ctx, "lines", list);
	json_object_set_new(ctx, "added", json_integer((json_int_t) added));
	json_object_set_new(ctx, "removed", json_integer((json_int_t) removed));
	json_object_set_new(ctx, "same", json_boolean(!added && !removed));
	admin_send(r, 200, "admin-article-revision", ctx);
}

/* POST .../revisions/:rev/restore: the revision's fields become the working
 * copy (a revision of its own), status unchanged: readers see it once published. */
void
h_admin_article_revision_restore(struct http_req *r)
{
	int64_t id, rev;
	struct newsroom_article n;
	struct newsroom_revision rv;
	if (!load_revision(r, &id, &rev, &n, &rv))
		return;
	n.slug = rv.art.slug;
	n.title = rv.art.title;
	n.dek = rv.art.dek;
	n.access = rv.art.access;
	n.authors = rv.art.authors;
	n.tags = rv.art.tags;
	if (!n.live_slug[0])
		n.publish_at = rv.art.publish_at;
	n.featured = rv.art.featured;
	n.feature_image = rv.art.feature_image;
	n.feature_image_alt = rv.art.feature_image_alt;
	n.body = rv.art.body;
	mh_err err = save_story(r, &n, arena_printf(r->arena, "restored revision %lld", (long long) rev));
	if (err == MH_ERR_CONFLICT) {
		app_error(r, 409, "Another article now uses that revision's slug: change it there or here first.");
		return;
	}
	if (err) {
		db_fail(r);
		return;
	}
	admin_audit(r, "article.revert", n.slug, arena_printf(r->arena, "revision %lld", (long long) rev));
	redirect_done(r, id, "reverted");
}
