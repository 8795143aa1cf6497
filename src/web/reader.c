/* reader.c: subscription, gift link and meter for the access decision.
 * The gift and meter rules are in paywall/; this side owns the cookies and
 * the store calls. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "auth/token.h"
#include "core/log.h"
#include "web/app.h"
#include "web/reader.h"
#include "core/banned.h"

#define GIFT_COOKIE      "masthead_gift"
#define METER_COOKIE     "masthead_meter"
#define METER_COOKIE_AGE (40L * 86400)

/* The key a browser's gift cookie is signed under: the site secret's, bound
 * to this browser's id (web_browser_id), so that a gift cookie copied into
 * another browser, or made by hand, holds nothing there. A browser without
 * an id holds no gifts yet (*fresh): it gets one with its first. */
static void
gift_key(struct http_req *r, unsigned char key[SECRET_BYTES], bool *fresh)
{
	struct app *app = r->app;
	const char *browser = web_browser_id(r, fresh);
	crypto_generichash_state st;
	crypto_generichash_init(&st, app->secret, SECRET_BYTES, SECRET_BYTES);
	crypto_generichash_update(&st, (const unsigned char *) "gift-browser:", 13);
	crypto_generichash_update(&st, (const unsigned char *) browser, strlen(browser));
	crypto_generichash_final(&st, key, SECRET_BYTES);
}

/* Looks try t up for article a; a use is spent, and the gift cookie
 * written, when gift_judge() says so. */
static enum gift_outcome
gift_open(struct http_req *r, const struct article *a, const struct gift_try *t, struct gift_jar *jar,
          const unsigned char key[SECRET_BYTES])
{
	struct app *app = r->app;
	if (t->malformed)
		return GIFT_UNKNOWN;
	char hash[TOKEN_HASH_CHARS + 1];
	token_hash(t->token, hash);
	struct gift_link g;
	int64_t now = clock_now();
	mh_err err = store_gift_get(app->store, r->arena, hash, &g);
	if (err) {
		if (err != MH_ERR_NOTFOUND)
			log_error("gift lookup failed", "detail=\"%s\"", store_errmsg(app->store));
		return GIFT_UNKNOWN;
	}
	bool spend;
	enum gift_outcome got = gift_judge(&g, a->id, t->held, now, &spend);
	if (!spend)
		return got;
	err = store_gift_use(app->store, g.id, now);
	if (err == MH_ERR_NOTFOUND)
		return GIFT_USED_UP;
	if (err) {
		log_error("cannot count a gift link's use", "detail=\"%s\"", store_errmsg(app->store));
		return GIFT_UNKNOWN;
	}
	gift_keep(jar, a->id, g.expires_at, t->token);
	struct buf b = BUF_INIT;
	long max_age;
	if (gift_cookie_format(jar, key, now, &b, &max_age))
		web_set_cookie(r, GIFT_COOKIE, arena_strndup(r->arena, b.ptr, b.len), max_age);
	buf_release(&b);
	return GIFT_OK;
}

/* A gift link in ?gift= (counted once per browser), or one this browser
 * already holds for the article (not counted again). */
static void
gift_check(struct http_req *r, const struct article *a, struct reader *rd)
{
	const char *cookie = http_cookie(r, GIFT_COOKIE), *given = http_query(r, "gift");
	if (!cookie && !given)
		return; /* most readers: no gift held or given, nothing to read */
	struct gift_jar *jar = arena_alloc(r->arena, sizeof *jar);
	unsigned char *key = arena_alloc(r->arena, SECRET_BYTES);
	bool fresh;
	gift_key(r, key, &fresh);
	gift_cookie_parse(fresh ? NULL : cookie, key, clock_now(), jar);
	struct gift_plan *plan = arena_alloc(r->arena, sizeof *plan);
	gift_plan_for(plan, jar, a->id, given);
	enum gift_outcome got = GIFT_NONE;
	for (size_t i = 0; i < plan->n && got != GIFT_OK; i++)
		got = gift_settle(plan, &plan->tries[i], got, gift_open(r, a, &plan->tries[i], jar, key));
	if (plan->n)
		rd->personal = true;
	rd->gift = got;
	rd->v.gift = got == GIFT_OK;
	rd->gift_refused = got > GIFT_OK;
}

mh_err
reader_load(struct http_req *r, const struct article *a, struct reader *rd)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	memset(rd, 0, sizeof *rd);
	rd->v.meter_remaining = -1;
	if (c->signed_in) {
		rd->personal = true;
		rd->v.signed_in = true;
		rd->v.member_id = c->member.id;
		rd->v.role = c->member.role;
		rd->v.comped_until = c->member.comped_until;
		/* Read with the session (see resolve_session). */
		if (c->has_sub) {
			rd->v.status = c->sub.status;
			rd->v.grace_until = c->sub.grace_until;
			rd->v.period_end = c->sub.period_end;
			rd->v.cancel_at_period_end = c->sub.cancel_at_period_end;
			rd->v.renewal_grace = app->cfg->grace_days * 86400;
		}
	}
	if (!a || a->access != ACCESS_PAID)
		return MH_OK;
	gift_check(r, a, rd);
	if (!(rd->meter_limit = meter_limit(app->cfg->meter_articles)))
		return MH_OK;
	/* Metered mode: every paid article page is personal from here on. */
	rd->personal = true;
	int64_t now = clock_now();
	bool counted = false;
	if (c->signed_in) {
		char month[8];
		meter_month(now, month);
		mh_err err = store_meter_get(app->store, c->member.id, month, a->id, &rd->meter_used, &counted);
		if (err)
			return err;
	} else {
		rd->meter_jar = arena_alloc(r->arena, sizeof *rd->meter_jar);
		meter_cookie_parse(http_cookie(r, METER_COOKIE), app->secret, now, rd->meter_jar);
		rd->meter_used = (int) rd->meter_jar->n;
		counted = meter_jar_holds(rd->meter_jar, a->id);
	}
	meter_view(&rd->v, rd->meter_limit, rd->meter_used, counted);
	return MH_OK;
}

void
reader_after(struct http_req *r, const struct article *a, struct reader *rd, const struct access_decision *d)
{
	struct app *app = r->app;
	if (!meter_counts(&rd->v, d))
		return;
	int64_t now = clock_now();
	rd->meter_used++;
	if (web_ctx(r)->signed_in) {
		char month[8];
		meter_month(now, month);
		if (store_meter_add(app->store, web_ctx(r)->member.id, month, a->id, now))
			log_error("cannot count a metered read", "detail=\"%s\"", store_errmsg(app->store));
		return;
	}
	if (!rd->meter_jar)
		return;
	meter_jar_add(rd->meter_jar, a->id);
	struct buf b = BUF_INIT;
	if (meter_cookie_format(rd->meter_jar, app->secret, now, &b) == MH_OK)
		web_set_cookie(r, METER_COOKIE, arena_strndup(r->arena, b.ptr, b.len), METER_COOKIE_AGE);
	buf_release(&b);
}

/* Why a gift link did not open the article, for its holder. */
/* What the paywall says when a gift link was refused, by outcome: the
 * words are the theme's (article.mustache). */
static const char *const gift_refusals[] = {
	[GIFT_NONE] = NULL,         [GIFT_OK] = NULL,           [GIFT_UNKNOWN] = "unknown",
	[GIFT_EXPIRED] = "expired", [GIFT_USED_UP] = "used_up", [GIFT_REVOKED] = "revoked",
};

json_t *
reader_paywall_json(struct http_req *r, const struct article *a, const struct reader *rd,
                    const struct access_decision *d)
{
	struct app *app = r->app;
	json_t *p = json_object();
	const char *here = arena_printf(r->arena, "/articles/%s", a->slug);
	const char *signin = arena_printf(r->arena, "/signin?next=%s", here);
	bool members = a->access == ACCESS_MEMBERS;
	/* A members article asks for a free account, not a subscription. */
	bool sign_up = members && d->reason == REASON_ANONYMOUS;
	json_object_set_new(p, "members_article", json_boolean(members));
	json_t *refused = json_false();
	if (rd->gift_refused && gift_refusals[rd->gift]) {
		/* Every name set, so a missing one is not looked up around it. */
		refused = json_object();
		for (size_t i = 0; i < sizeof gift_refusals / sizeof *gift_refusals; i++)
			if (gift_refusals[i])
				json_object_set_new(refused, gift_refusals[i], json_boolean(i == (size_t) rd->gift));
	}
	json_object_set_new(p, "gift_refused", refused);
	bool meter = !rd->gift_refused && rd->meter_limit &&
	             (d->reason == REASON_ANONYMOUS || d->reason == REASON_NO_PLAN) && !members;
	json_object_set_new(p, "meter_note", meter ? json_integer(rd->meter_limit) : json_false());
	json_object_set_new(p, "anonymous", json_boolean(d->reason == REASON_ANONYMOUS));
	json_object_set_new(p, "member", json_boolean(d->reason == REASON_NO_PLAN));
	json_object_set_new(p, "payment_problem", json_boolean(d->reason == REASON_PAYMENT_FAILED));
	json_object_set_new(p, "resubscribe", json_boolean(d->reason == REASON_LAPSED));
	json_object_set_new(p, "signin_url", json_string(signin));
	/* Signing up or subscribing comes back to the article. */
	json_object_set_new(
	        p, "subscribe_url",
	        json_string(arena_printf(r->arena, "%s?next=%s", sign_up ? "/signup" : "/subscribe", here)));
	/* One click to the card form, which returns here once the new card
	 * has paid what is owed. */
	json_object_set_new(p, "card_action", json_string("/account/billing"));
	json_object_set_new(p, "next", json_string(here));
	struct payment_method pm;
	if (d->reason == REASON_PAYMENT_FAILED &&
	    store_payment_method_default(app->store, r->arena, rd->v.member_id, &pm) == MH_OK) {
		json_t *card = json_object();
		json_object_set_new(card, "brand", json_string(pm.brand));
		json_object_set_new(card, "last4", json_string(pm.last4));
		json_object_set_new(card, "exp_month", json_string(arena_printf(r->arena, "%02d", pm.exp_month)));
		json_object_set_new(card, "exp_year", json_integer(pm.exp_year));
		json_object_set_new(p, "card", card);
	} else {
		json_object_set_new(p, "card", json_false());
	}
	return p;
}

json_t *
reader_banner_json(struct http_req *r, const struct article *a, const struct access_decision *d)
{
	if (d->reason != REASON_GRACE)
		return json_false();
	/* The words are the theme's (article.mustache). */
	json_t *b = json_object();
	json_object_set_new(b, "url",
	                    json_string(arena_printf(r->arena, "/account/billing?next=/articles/%s", a->slug)));
	return b;
}

json_t *
reader_meter_json(struct http_req *r, const struct article *a, const struct reader *rd, const struct access_decision *d)
{
	if (d->reason != REASON_METERED)
		return json_false();
	int left = meter_left(rd->meter_limit, rd->meter_used);
	json_t *m = json_object();
	json_object_set_new(m, "remaining", json_integer(left));
	json_object_set_new(m, "one", json_boolean(left == 1));
	json_object_set_new(m, "subscribe_url",
	                    json_string(arena_printf(r->arena, "/subscribe?next=/articles/%s", a->slug)));
	return m;
}
