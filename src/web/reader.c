/* reader.c: subscription, gift link and meter for the access decision. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "auth/token.h"
#include "core/log.h"
#include "web/app.h"
#include "web/reader.h"
#include "core/banned.h"

#define GIFT_COOKIE     "masthead_gift"
#define METER_COOKIE    "masthead_meter"
#define METER_MAX       100
#define GIFT_MAX        16 /* gift links a browser keeps; the oldest goes first */
#define GIFT_COOKIE_MAX 2048

static void
month_of(int64_t now, char out[8], char compact[8])
{
	time_t t = (time_t) now;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 8, "%Y-%m", &tm);
	strftime(compact, 8, "%Y%m", &tm);
}

/* A cookie's MAC, under a label per cookie so that one cannot pass for another. */
static void
cookie_mac(const unsigned char key[32], const char *label, const char *payload, size_t n, char out[33])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) label, strlen(label));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) payload, n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 33, mac, 16);
}

/* Reads "YYYYMM.id-id-id.mac": the ids when signed and of this month. */
static void
meter_cookie_read(struct http_req *r, struct reader *rd, const char *month)
{
	struct app *app = r->app;
	const char *c = http_cookie(r, METER_COOKIE);
	rd->meter_ids = arena_alloc(r->arena, METER_MAX * sizeof(int64_t));
	rd->meter_n = 0;
	if (!c || strlen(c) > 2048)
		return;
	const char *dot = strrchr(c, '.');
	if (!dot || strlen(dot + 1) != 32)
		return;
	char want[33];
	cookie_mac(app->secret, "meter:", c, (size_t) (dot - c), want);
	if (sodium_memcmp(want, dot + 1, 32) != 0 || strncmp(c, month, 6) != 0 || c[6] != '.')
		return;
	struct slice ids = { c + 7, (size_t) (dot - c - 7) }, one;
	while (ids.len && rd->meter_n < METER_MAX) {
		slice_split(&ids, '-', &one);
		long id;
		if (slice_to_long(one, &id))
			rd->meter_ids[rd->meter_n++] = id;
	}
}

static void
meter_cookie_write(struct http_req *r, const struct reader *rd, const char *month)
{
	struct app *app = r->app;
	struct buf b = BUF_INIT;
	buf_puts(&b, month);
	buf_putc(&b, '.');
	for (size_t i = 0; i < rd->meter_n; i++)
		buf_printf(&b, "%s%lld", i ? "-" : "", (long long) rd->meter_ids[i]);
	char mac[33];
	cookie_mac(app->secret, "meter:", b.ptr, b.len, mac);
	buf_putc(&b, '.');
	buf_puts(&b, mac);
	web_set_cookie(r, METER_COOKIE, arena_strndup(r->arena, b.ptr, b.len), 40L * 86400);
	buf_release(&b);
}

/* The gift cookie: the gift links this browser has opened, so that reading
 * one again spends no use. Signed, as it vouches that a use was counted:
 * "<article id>.<expires>.<token>" entries joined by '~', oldest first,
 * then '~' and the MAC. Tokens are base64url, so neither '.' nor '~'
 * occurs in one. */
struct gift_held {
	int64_t article_id, expires_at;
	const char *token;
};

struct gift_jar {
	struct gift_held held[GIFT_MAX];
	size_t n;
};

static void
gift_cookie_read(struct http_req *r, struct gift_jar *jar, int64_t now)
{
	struct app *app = r->app;
	const char *c = http_cookie(r, GIFT_COOKIE);
	jar->n = 0;
	if (!c || strlen(c) > GIFT_COOKIE_MAX)
		return;
	const char *sep = strrchr(c, '~');
	if (!sep || strlen(sep + 1) != 32)
		return;
	char want[33];
	cookie_mac(app->secret, "gift:", c, (size_t) (sep - c), want);
	if (sodium_memcmp(want, sep + 1, 32) != 0)
		return;
	struct slice rest = { c, (size_t) (sep - c) }, one, id, exp;
	while (rest.len && jar->n < GIFT_MAX) {
		slice_split(&rest, '~', &one);
		long article, until;
		if (!slice_split(&one, '.', &id) || !slice_split(&one, '.', &exp) || !slice_to_long(id, &article) ||
		    !slice_to_long(exp, &until) || one.len != TOKEN_CHARS || until <= now)
			continue;
		const char *token = arena_strndup(r->arena, one.ptr, one.len);
		if (!token_well_formed(token))
			continue;
		jar->held[jar->n++] = (struct gift_held){ article, until, token };
	}
}

/* Keeps g (newest last), forgetting the oldest past GIFT_MAX, and sets the cookie. */
static void
gift_cookie_keep(struct http_req *r, struct gift_jar *jar, struct gift_held g, int64_t now)
{
	struct app *app = r->app;
	size_t k = 0;
	for (size_t i = 0; i < jar->n; i++)
		if (strcmp(jar->held[i].token, g.token) != 0)
			jar->held[k++] = jar->held[i];
	jar->n = k;
	if (jar->n == GIFT_MAX) {
		memmove(jar->held, jar->held + 1, (GIFT_MAX - 1) * sizeof *jar->held);
		jar->n--;
	}
	jar->held[jar->n++] = g;
	struct buf b = BUF_INIT;
	int64_t last = now;
	for (size_t i = 0; i < jar->n; i++) {
		buf_printf(&b, "%s%lld.%lld.%s", i ? "~" : "", (long long) jar->held[i].article_id,
		           (long long) jar->held[i].expires_at, jar->held[i].token);
		if (jar->held[i].expires_at > last)
			last = jar->held[i].expires_at;
	}
	char mac[33];
	cookie_mac(app->secret, "gift:", b.ptr, b.len, mac);
	buf_putc(&b, '~');
	buf_puts(&b, mac);
	if (!buf_error(&b) && last > now)
		web_set_cookie(r, GIFT_COOKIE, arena_strndup(r->arena, b.ptr, b.len), (long) (last - now));
	buf_release(&b);
}

/* Whether token opens article a; a use is spent unless this browser holds it. */
static enum reader_gift
gift_try(struct http_req *r, const struct article *a, const char *token, bool held, struct gift_jar *jar)
{
	struct app *app = r->app;
	char hash[TOKEN_HASH_CHARS + 1];
	token_hash(token, hash);
	struct gift_link g;
	int64_t now = clock_now();
	mh_err err = store_gift_get(app->store, r->arena, hash, &g);
	if (err) {
		if (err != MH_ERR_NOTFOUND)
			log_error("gift lookup failed", "detail=\"%s\"", store_errmsg(app->store));
		return GIFT_UNKNOWN;
	}
	if (g.article_id != a->id)
		return GIFT_UNKNOWN;
	if (g.revoked_at)
		return GIFT_REVOKED;
	if (g.expires_at <= now)
		return GIFT_EXPIRED;
	if (held)
		return GIFT_OK;
	err = store_gift_use(app->store, g.id, now);
	if (err == MH_ERR_NOTFOUND)
		return GIFT_USED_UP;
	if (err) {
		log_error("cannot count a gift link's use", "detail=\"%s\"", store_errmsg(app->store));
		return GIFT_UNKNOWN;
	}
	gift_cookie_keep(r, jar, (struct gift_held){ a->id, g.expires_at, token }, now);
	return GIFT_OK;
}

/* A gift link in ?gift= (counted once per browser), or one this browser
 * already holds for the article (not counted again). */
static void
gift_check(struct http_req *r, const struct article *a, struct reader *rd)
{
	const char *given = http_query(r, "gift");
	struct gift_jar jar;
	gift_cookie_read(r, &jar, clock_now());
	enum reader_gift got = GIFT_NONE;
	if (given) {
		rd->personal = true;
		bool held = false;
		for (size_t i = 0; i < jar.n && !held; i++)
			held = jar.held[i].article_id == a->id && strcmp(jar.held[i].token, given) == 0;
		got = token_well_formed(given) ? gift_try(r, a, given, held, &jar) : GIFT_UNKNOWN;
	}
	/* Else any other gift held for it, newest first; a refused ?gift= says why it was. */
	for (size_t i = jar.n; i-- > 0 && got != GIFT_OK;) {
		if (jar.held[i].article_id != a->id || (given && strcmp(jar.held[i].token, given) == 0))
			continue;
		rd->personal = true;
		enum reader_gift held = gift_try(r, a, jar.held[i].token, true, &jar);
		if (held == GIFT_OK || !given)
			got = held;
	}
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
		}
	}
	if (!a || a->access != ACCESS_PAID)
		return MH_OK;
	gift_check(r, a, rd);
	if (app->cfg->meter_articles <= 0)
		return MH_OK;
	/* Metered mode: every paid article page is personal from here on. */
	rd->personal = true;
	rd->meter_limit = (int) (app->cfg->meter_articles < METER_MAX ? app->cfg->meter_articles : METER_MAX);
	char month[8], compact[8];
	month_of(clock_now(), month, compact);
	if (c->signed_in) {
		bool has = false;
		mh_err err = store_meter_get(app->store, c->member.id, month, a->id, &rd->meter_used, &has);
		if (err)
			return err;
		rd->v.meter_counted = has;
	} else {
		meter_cookie_read(r, rd, compact);
		rd->meter_used = (int) rd->meter_n;
		for (size_t i = 0; i < rd->meter_n; i++)
			rd->v.meter_counted |= rd->meter_ids[i] == a->id;
	}
	rd->v.meter_remaining = rd->meter_limit > rd->meter_used ? rd->meter_limit - rd->meter_used : 0;
	return MH_OK;
}

void
reader_after(struct http_req *r, const struct article *a, struct reader *rd, const struct access_decision *d)
{
	struct app *app = r->app;
	if (d->reason != REASON_METERED || rd->v.meter_counted)
		return;
	char month[8], compact[8];
	int64_t now = clock_now();
	month_of(now, month, compact);
	rd->meter_used++;
	if (web_ctx(r)->signed_in) {
		if (store_meter_add(app->store, web_ctx(r)->member.id, month, a->id, now))
			log_error("cannot count a metered read", "detail=\"%s\"", store_errmsg(app->store));
		return;
	}
	if (rd->meter_n < METER_MAX)
		rd->meter_ids[rd->meter_n++] = a->id;
	meter_cookie_write(r, rd, compact);
}

/* Why a gift link did not open the article, for its holder. */
static const char *const gift_refusals[] = {
	[GIFT_NONE] = "",
	[GIFT_OK] = "",
	[GIFT_UNKNOWN] = "This gift link does not work: it may be mistyped or incomplete.",
	[GIFT_EXPIRED] = "This gift link has expired.",
	[GIFT_USED_UP] = "This gift link has reached its limit: as many people as it allows have opened it.",
	[GIFT_REVOKED] = "The person who gave you this article has withdrawn the gift link.",
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
	const char *headline = members ? "This article is free for members" : "This article is for subscribers";
	const char *message = "";
	switch (d->reason) {
	case REASON_ANONYMOUS:
		message = members ? "Create a free account to keep reading, or sign in if you have one."
		                  : "Subscribe to read the whole story and everything else we publish.";
		break;
	case REASON_NO_PLAN:
		message = "Your account does not include a subscription yet. Subscribe to read the whole story.";
		break;
	case REASON_PAYMENT_FAILED:
		headline = "Your payment did not go through";
		message = "Please make sure the card on file is up to date. Once it is, we retry the payment right "
		          "away and the article opens.";
		break;
	case REASON_LAPSED:
		headline = "Your subscription has ended";
		message = "Resubscribe to keep reading.";
		break;
	default: break;
	}
	if (rd->gift_refused)
		message = arena_printf(r->arena, "%s %s", gift_refusals[rd->gift], message);
	else if (rd->meter_limit && (d->reason == REASON_ANONYMOUS || d->reason == REASON_NO_PLAN) && !members)
		message = arena_printf(r->arena, "You have read your %d free articles this month. %s", rd->meter_limit,
		                       message);
	json_object_set_new(p, "headline", json_string(headline));
	json_object_set_new(p, "message", json_string(message));
	json_object_set_new(p, "anonymous", json_boolean(d->reason == REASON_ANONYMOUS));
	json_object_set_new(p, "member", json_boolean(d->reason == REASON_NO_PLAN));
	json_object_set_new(p, "payment_problem", json_boolean(d->reason == REASON_PAYMENT_FAILED));
	json_object_set_new(p, "resubscribe", json_boolean(d->reason == REASON_LAPSED));
	json_object_set_new(p, "signin_url", json_string(signin));
	json_object_set_new(p, "signin_prompt",
	                    json_string(members ? "Already have an account?" : "Already a subscriber?"));
	/* Signing up or subscribing comes back to the article. */
	json_object_set_new(
	        p, "subscribe_url",
	        json_string(arena_printf(r->arena, "%s?next=%s", sign_up ? "/signup" : "/subscribe", here)));
	json_object_set_new(p, "subscribe_text", json_string(sign_up ? "Create a free account" : "Subscribe"));
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
	json_t *b = json_object();
	json_object_set_new(b, "message",
	                    json_string("Your last payment did not go through. Please make sure the "
	                                "card on file is up to date to keep your subscription."));
	json_object_set_new(b, "url",
	                    json_string(arena_printf(r->arena, "/account/billing?next=/articles/%s", a->slug)));
	json_object_set_new(b, "link_text", json_string("Update your card"));
	return b;
}

json_t *
reader_meter_json(struct http_req *r, const struct article *a, const struct reader *rd, const struct access_decision *d)
{
	if (d->reason != REASON_METERED)
		return json_false();
	int left = rd->meter_limit - rd->meter_used;
	if (left < 0)
		left = 0;
	json_t *m = json_object();
	json_object_set_new(m, "remaining", json_integer(left));
	json_object_set_new(
	        m, "message",
	        json_string(arena_printf(r->arena, "%d free article%s left this month.", left, left == 1 ? "" : "s")));
	json_object_set_new(m, "subscribe_url",
	                    json_string(arena_printf(r->arena, "/subscribe?next=/articles/%s", a->slug)));
	return m;
}
