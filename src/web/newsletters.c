/* newsletters.c: the newsletter's front doors on the site: unsubscribe by
 * the link in every message (GET shows a button; POST, RFC 8058's
 * one-click, unsubscribes: the token is the authority, so no cookie, no
 * sign-in, no CSRF token and no redirect), the account page's choices, and
 * the web archive of what went out. */
#include <string.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/log.h"
#include "newsletter/newsletter.h"
#include "store/store.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "core/banned.h"

static void
unsub_message(struct http_req *r, int status, const char *heading, const char *message, bool form)
{
	json_t *ctx = page_context(r, heading, NULL);
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_object_set_new(ctx, "heading", json_string(heading));
	json_object_set_new(ctx, "message", json_string(message));
	if (form)
		json_object_set_new(ctx, "unsubscribe_form", json_true());
	page_send(r, status, "unsubscribe", ctx, CACHE_PRIVATE);
}

/* The recipient a token names; false (and the answer sent) when none. */
static bool
recipient_of(struct http_req *r, struct nl_recipient *out, struct newsletter *nl)
{
	struct app *app = r->app;
	const char *tok = r->params[0];
	int64_t id;
	/* The token is a credential: it goes into no log line. */
	r->path = "/unsubscribe/TOKEN";
	mh_err err = MH_ERR_NOTFOUND;
	if (newsletter_token_parse(app->secret, tok, strlen(tok), &id))
		err = store_newsletter_recipient(app->store, r->arena, id, out);
	struct newsletter *list;
	size_t n;
	if (!err && !(err = store_newsletter_list(app->store, r->arena, 0, &list, &n))) {
		err = MH_ERR_NOTFOUND;
		for (size_t i = 0; i < n; i++)
			if (list[i].id == out->newsletter_id) {
				*nl = list[i];
				err = MH_OK;
			}
	}
	if (err == MH_ERR_NOTFOUND) {
		unsub_message(r, 404, "This link does not work",
		              "The unsubscribe link is not complete or not from this site. Copy the whole address "
		              "from the mail, or choose what you receive on your account page.",
		              false);
		return false;
	}
	if (err) {
		log_error("database error", "path=/unsubscribe detail=\"%s\"", store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return false;
	}
	return true;
}

static const char *
nl_name(struct http_req *r, const struct newsletter *nl)
{
	struct app *app = r->app;
	return nl->name[0] ? nl->name : app->cfg->site_name;
}

void
h_unsubscribe_page(struct http_req *r)
{
	struct nl_recipient rc;
	struct newsletter nl;
	if (!recipient_of(r, &rc, &nl))
		return;
	/* A GET changes nothing: mail scanners open links. */
	unsub_message(r, 200, arena_printf(r->arena, "Unsubscribe from %s?", nl_name(r, &nl)),
	              arena_printf(r->arena, "%s will no longer get %s.", rc.email, nl_name(r, &nl)), true);
}

void
h_unsubscribe(struct http_req *r)
{
	struct app *app = r->app;
	struct nl_recipient rc;
	struct newsletter nl;
	if (!recipient_of(r, &rc, &nl))
		return;
	if (store_newsletter_unsubscribe(app->store, rc.id, clock_now())) {
		log_error("database error", "path=/unsubscribe detail=\"%s\"", store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	log_info("newsletter unsubscribe", "newsletter=%s recipient=%lld", nl.slug, (long long) rc.id);
	unsub_message(r, 200, "You are unsubscribed",
	              arena_printf(r->arena, "%s will no longer get %s. You can subscribe again on your account page.",
	                           rc.email, nl_name(r, &nl)),
	              false);
}

json_t *
newsletters_account_json(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct newsletter *list;
	size_t n;
	json_t *arr = json_array();
	if (store_newsletter_list(app->store, r->arena, c->member.id, &list, &n))
		return arr;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "field", json_string(arena_printf(r->arena, "nl-%lld", (long long) list[i].id)));
		json_object_set_new(o, "name", json_string(nl_name(r, &list[i])));
		json_object_set_new(o, "subscribed", json_boolean(list[i].subscribed));
		json_array_append_new(arr, o);
	}
	return arr;
}

void
h_account_newsletters(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct newsletter *list;
	size_t n;
	mh_err err = store_newsletter_list(app->store, r->arena, c->member.id, &list, &n);
	for (size_t i = 0; !err && i < n; i++) {
		const char *v = http_form(r, arena_printf(r->arena, "nl-%lld", (long long) list[i].id));
		bool on = v && v[0];
		if (on != list[i].subscribed)
			err = store_newsletter_subscribe(app->store, list[i].id, c->member.id, on, clock_now());
	}
	if (err) {
		log_error("database error", "path=/account/newsletters detail=\"%s\"", store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	http_redirect(r, 303, "/account?notice=newsletters#newsletters");
}

/* /newsletters/{newsletter}/{article}: what went out, on the site, through
 * the article's own page and so the same reading path and paywall. */
void
h_newsletter_archive(struct http_req *r)
{
	struct app *app = r->app;
	struct arena *a = r->arena;
	struct newsletter nl;
	struct article *art;
	struct nl_send send;
	mh_err err = store_newsletter_get(app->store, a, r->params[0], &nl);
	if (!err)
		err = store_article_by_slug(app->store, a, r->params[1], &art);
	if (!err)
		err = store_newsletter_send_get(app->store, a, nl.id, art->id, &send);
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return;
	}
	if (err) {
		log_error("database error", "path=/newsletters detail=\"%s\"", store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	r->params[0] = r->params[1];
	h_article(r);
}
