/* gifts.c: subscribers give one article to anyone holding a link, with a
 * use limit and an expiry; the giver can revoke it from the account page. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "auth/token.h"
#include "core/log.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "paywall/reading.h"
#include "web/reader.h"
#include "core/banned.h"

/* 409: a public or members article is shared by its address. */
static void
no_gift_needed(struct http_req *r, const struct article *a)
{
	struct app *app = r->app;
	const char *url = arena_printf(r->arena, "%s/articles/%s", app->cfg->public_url, a->slug);
	bool members = a->access == ACCESS_MEMBERS;
	json_t *ctx = page_context(r, "No gift needed", NULL);
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_object_set_new(ctx, "heading", json_string("No gift needed"));
	json_object_set_new(ctx, "message",
	                    json_string(members ? "This article is free to read with a free account: share its address."
	                                        : "This article is free to read: share its address."));
	json_object_set_new(ctx, "detail", json_string(url));
	json_object_set_new(ctx, "detail_url", json_string(url));
	page_send(r, 409, "message", ctx, CACHE_PRIVATE);
}

void
h_gift_create(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	int64_t now = clock_now();
	const struct reading_rules rules = { app->cfg->auto_paywall_days };
	struct reader rd;
	struct reading rg;
	mh_err err = reader_load(r, NULL, &rd);
	if (!err)
		err = reading_open(app->store, r->arena, r->params[0], &rd.v, &rules, now, &rg);
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return;
	}
	if (err) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	struct article *a = rg.article;
	struct access_decision d = rg.decision;
	/* An article anyone may read needs no gift: its address will do. */
	if (a->access != ACCESS_PAID) {
		no_gift_needed(r, a);
		return;
	}
	/* Only someone who reads it by right may give it: not a gift holder or a metered read. */
	if (!reading_may_gift(a, &d)) {
		app_error(r, 403, "Only subscribers can give this article.");
		return;
	}
	/* Counted per address and per giver, like sign-ins: a subscriber's
	 * account cannot mint gift links without end. */
	if (!web_rate_ok(r, "gift", c->member.email))
		return;
	char token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	token_new(token);
	token_hash(token, hash);
	long days = app->cfg->gift_days > 0 ? app->cfg->gift_days : 30;
	struct gift_link g = {
		0,   hash, c->member.id,       a->id, app->cfg->gift_max_uses > 0 ? (int) app->cfg->gift_max_uses : 10,
		0,   now,  now + days * 86400, 0,     NULL,
		NULL
	};
	if (store_gift_create(app->store, &g)) {
		log_error("cannot store a gift link", "detail=\"%s\"", store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	const char *url = arena_printf(r->arena, "%s/articles/%s?gift=%s", app->cfg->public_url, a->slug, token);
	json_t *ctx = page_context(r, "Your gift link", NULL);
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_object_set_new(ctx, "heading", json_string("Your gift link"));
	json_object_set_new(ctx, "message",
	                    json_string(arena_printf(r->arena,
	                                             "Anyone with this link can read \xe2\x80\x9c%s\xe2\x80\x9d "
	                                             "in full: up to %d %s, for %ld %s.",
	                                             a->title, g.max_uses, g.max_uses == 1 ? "person" : "people", days,
	                                             days == 1 ? "day" : "days")));
	json_object_set_new(ctx, "detail", json_string(url));
	json_object_set_new(ctx, "detail_url", json_string(url));
	json_t *link = json_object();
	json_object_set_new(link, "url", json_string("/account#gifts"));
	json_object_set_new(link, "text", json_string("Your gift links"));
	json_object_set_new(ctx, "link", link);
	/* The token is shown once, here; the store keeps only its hash. */
	page_send(r, 200, "message", ctx, CACHE_PRIVATE);
}

void
h_gift_revoke(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	long id;
	if (!slice_to_long(slice_from(r->params[0]), &id)) {
		app_not_found(r);
		return;
	}
	mh_err err = store_gift_revoke(app->store, id, c->member.id, clock_now());
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return;
	}
	if (err) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	http_redirect(r, 303, "/account?notice=gift#gifts");
}
