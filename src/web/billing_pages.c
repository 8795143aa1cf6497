/* billing_pages.c: /subscribe, the test provider's checkout, and
 * /account/billing. The test checkout reads a card number and CVC from the
 * form and keeps neither: only brand, last four and expiry reach the store,
 * and no response or log line repeats them. */
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "auth/token.h"
#include "billing/billing.h"
#include "core/log.h"
#include "core/text.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "core/banned.h"

static void
failed(struct http_req *r)
{
	struct app *app = r->app;
	log_error("billing page failed", "path=\"%s\" detail=\"%s\"", http_log_path(r), store_errmsg(app->store));
	app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
}

static const char *
per_text(struct http_req *r, int months)
{
	if (months == 1)
		return "a month";
	if (months == 12)
		return "a year";
	return arena_printf(r->arena, "every %d months", months);
}

/* A return path after checkout: local ("/...", never "//" anywhere, so no
 * scheme or other host can sneak in), or "/" for anything else. */
static const char *
local_next(const char *next)
{
	const char *p = web_safe_next(next);
	return strstr(p, "//") ? "/" : p;
}

static void
private_page(struct http_req *r, int status, const char *template, const char *title, json_t *ctx)
{
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_object_set_new(ctx, "csrf", json_string(web_csrf(r)));
	(void) title;
	page_send(r, status, template, ctx, CACHE_PRIVATE);
}

/* prefix followed by path (with ?next=next unless that is "/"), URL-encoded:
 * how sign-up and sign-in come back to the plans, and the plans to the article. */
static const char *
with_next(struct http_req *r, const char *prefix, const char *path, const char *next)
{
	struct buf inner = BUF_INIT, b = BUF_INIT;
	buf_puts(&inner, path);
	if (strcmp(next, "/")) {
		buf_puts(&inner, "?next=");
		buf_add_urlenc(&inner, next, strlen(next));
	}
	buf_puts(&b, prefix);
	buf_add_urlenc(&b, inner.ptr, inner.len);
	const char *out = arena_strndup(r->arena, b.ptr, b.len);
	buf_release(&inner);
	buf_release(&b);
	return out;
}

static void
subscribe_page(struct http_req *r, int status, const char *error)
{
	struct app *app = r->app;
	struct plan *plans;
	size_t n;
	if (store_plan_list(app->store, r->arena, false, &plans, &n)) {
		failed(r);
		return;
	}
	json_t *ctx = page_context(r, "Subscribe", "Plans and prices.");
	json_t *list = json_array();
	const char *next = local_next(http_query(r, "next"));
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "code", json_string(plans[i].code));
		json_object_set_new(o, "name", json_string(plans[i].name));
		json_object_set_new(o, "price",
		                    json_string(billing_money(r->arena, plans[i].amount, plans[i].currency)));
		json_object_set_new(o, "per", json_string(per_text(r, plans[i].interval_months)));
		if (plans[i].trial_days == 1)
			json_object_set_new(o, "trial", json_string("Free for the first day."));
		else if (plans[i].trial_days)
			json_object_set_new(o, "trial",
			                    json_string(arena_printf(r->arena, "Free for the first %d days.",
			                                             plans[i].trial_days)));
		json_object_set_new(o, "next", json_string(next));
		json_array_append_new(list, o);
	}
	json_object_set_new(ctx, "plans", list);
	json_object_set_new(ctx, "signin_next", json_string(with_next(r, "/signin?next=", "/subscribe", next)));
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	private_page(r, status, "subscribe", "Subscribe", ctx);
}

void
h_subscribe_page(struct http_req *r)
{
	subscribe_page(r, 200, NULL);
}

static void billing_page(struct http_req *r, int status, const char *notice, const char *error);

/* {name: true} with every other name false: a template section on a name
 * that is missing would look it up in the context around it. */
static json_t *
one_of(const char *const *names, const char *name)
{
	json_t *o = json_object();
	for (size_t i = 0; names[i]; i++)
		json_object_set_new(o, names[i], json_boolean(!strcmp(names[i], name)));
	return o;
}

/* Sends the member to the provider's checkout for plan, or (plan NULL) to
 * replace the card: the test provider's page here, or Stripe's. */
static void
go_to_checkout(struct http_req *r, const struct plan *plan, const char *next)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	const char *url;
	char msg[256] = "";
	mh_err err = app->billing.provider->checkout(&app->billing, r->arena, &c->member, plan, next, clock_now(), &url,
	                                             msg, sizeof msg);
	if (err == MH_ERR_UNSUPPORTED) {
		/* The operator has not set the plan up with the provider: nothing a
		 * reader can retry, and no payment service was asked. */
		log_warn("plan cannot be bought", "plan=%s detail=\"%s\"", plan ? plan->code : "-", msg);
		subscribe_page(r, 503,
		               "This plan cannot be bought yet. Please choose another plan, or come back later.");
		return;
	}
	if (err) {
		log_error("checkout failed", "provider=%s detail=\"%s\"", app->billing.provider->name, msg);
		if (plan)
			subscribe_page(r, 502, "The payment service did not answer. Please try again in a moment.");
		else
			billing_page(r, 502, NULL, "provider_down");
		return;
	}
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, url);
}

void
h_subscribe(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	const char *next = local_next(http_form(r, "next"));
	if (!c->signed_in) {
		/* Sign up (or in) first, then come back to the plans, and from them to the article. */
		http_redirect(r, 303, with_next(r, "/signup?next=", "/subscribe", next));
		return;
	}
	const char *code = http_form(r, "plan");
	struct plan plan;
	mh_err err = code ? store_plan_get(app->store, r->arena, 0, code, &plan) : MH_ERR_NOTFOUND;
	if (err == MH_ERR_NOTFOUND || (!err && plan.retired)) {
		subscribe_page(r, 400, "Please choose one of the plans below.");
		return;
	}
	if (err) {
		failed(r);
		return;
	}
	go_to_checkout(r, &plan, next);
}

/* The checkout in the path, when it is open and this member's. */
static bool
checkout_of(struct http_req *r, struct checkout *co)
{
	struct app *app = r->app;
	if (!token_well_formed(r->params[0])) {
		app_not_found(r);
		return false;
	}
	char hash[TOKEN_HASH_CHARS + 1];
	token_hash(r->params[0], hash);
	mh_err err = billing_checkout_open(&app->billing, r->arena, hash, web_ctx(r)->member.id, clock_now(), co);
	if (err == MH_ERR_CONFLICT) {
		/* Paid already, by this member (a second click, a reload): where
		 * the first answer went. */
		const char *next = local_next(http_query(r, "next"));
		http_add_header(r, "Cache-Control", "private, no-store");
		http_redirect(r, 303, strcmp(next, "/") ? next : "/account/billing");
		return false;
	}
	if (err == MH_ERR_NOTFOUND) {
		app_error(r, 410, "This checkout has expired. Please start again from your account.");
		return false;
	}
	if (err) {
		failed(r);
		return false;
	}
	return true;
}

static void
checkout_page(struct http_req *r, int status, const struct checkout *co, const char *error)
{
	struct app *app = r->app;
	bool subscribe = strcmp(co->purpose, "subscribe") == 0;
	json_t *ctx = page_context(r, "Checkout", NULL);
	struct plan plan;
	if (subscribe && store_plan_get(app->store, r->arena, co->plan_id, NULL, &plan) == MH_OK) {
		json_object_set_new(ctx, "heading", json_string(arena_printf(r->arena, "Subscribe: %s", plan.name)));
		json_object_set_new(
		        ctx, "summary",
		        json_string(arena_printf(
		                r->arena, "%s %s%s.", billing_money(r->arena, plan.amount, plan.currency),
		                per_text(r, plan.interval_months),
		                plan.trial_days ? arena_printf(r->arena, ", after a %d-day free trial", plan.trial_days)
		                                : "")));
		json_object_set_new(ctx, "button", json_string("Subscribe"));
	} else {
		json_object_set_new(ctx, "heading", json_string("Update your card"));
		json_object_set_new(ctx, "summary",
		                    json_string("The new card becomes your default; anything owed is "
		                                "charged to it right away."));
		json_object_set_new(ctx, "button", json_string("Save card"));
	}
	const char *next = local_next(http_query(r, "next"));
	struct buf b = BUF_INIT;
	buf_printf(&b, "/checkout/%s?next=", r->params[0]);
	buf_add_urlenc(&b, next, strlen(next));
	json_object_set_new(ctx, "action", json_stringn(b.ptr, b.len));
	buf_release(&b);
	json_object_set_new(ctx, "cancel_url", json_string(subscribe ? "/subscribe" : "/account/billing"));
	const char *name = http_form(r, "name");
	json_object_set_new(ctx, "name", json_string(name ? name : web_ctx(r)->member.name));
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	/* The card form's URL carries a bearer token: no Referer with it. */
	http_add_header(r, "Referrer-Policy", "no-referrer");
	private_page(r, status, "checkout", "Checkout", ctx);
}

void
h_checkout_page(struct http_req *r)
{
	struct checkout co;
	if (checkout_of(r, &co))
		checkout_page(r, 200, &co, NULL);
}

/* What a checkout that went well did, for the billing page's notice: a
 * payment only when an invoice was paid by it (at this instant); a trial
 * that started; or a card saved with nothing owed. */
static const char *
checkout_notice(struct http_req *r, int64_t member_id, bool subscribe, int64_t now)
{
	struct app *app = r->app;
	struct store *s = app->store;
	struct subscription sub;
	if (store_subscription_by_member(s, r->arena, member_id, &sub) != MH_OK)
		return "card";
	struct invoice *list;
	size_t n;
	if (store_invoice_list(s, r->arena, sub.id, &list, &n) == MH_OK)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(list[i].status, "paid") && list[i].paid_at == now)
				return "paid";
	if (subscribe && sub.status == SUB_TRIALING)
		return "trial";
	return "card";
}

void
h_checkout(struct http_req *r)
{
	struct app *app = r->app;
	struct checkout co;
	if (!checkout_of(r, &co))
		return;
	int64_t now = clock_now();
	struct test_card card;
	const char *error = NULL;
	if (test_card_read(http_form(r, "number"), http_form(r, "expiry"), http_form(r, "cvc"), http_form(r, "name"),
	                   now, &card, &error)) {
		checkout_page(r, 400, &co, error);
		return;
	}
	struct billing_outcome out;
	bool subscribe = strcmp(co.purpose, "subscribe") == 0;
	mh_err err = billing_checkout_pay(&app->billing, r->arena, &co, &card, now, &out);
	if (err == MH_ERR_CONFLICT) {
		/* Another request for this checkout (a second click) is paying. */
		checkout_page(r, 409, &co, "This payment is already under way. Please reload the page in a moment.");
		return;
	}
	if (err) {
		failed(r);
		return;
	}
	if (!out.ok) {
		/* 402: the card was refused; the member can try another one here. */
		checkout_page(r, 402, &co, out.message ? out.message : "The payment did not go through.");
		return;
	}
	const char *next = local_next(http_query(r, "next"));
	/* billing_subscribe says why nothing was done when there already is a subscription. */
	const char *notice = subscribe && out.message ? "subscribed" : checkout_notice(r, co.member_id, subscribe, now);
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, strcmp(next, "/") ? next : arena_printf(r->arena, "/account/billing?notice=%s", notice));
}

static void
billing_page(struct http_req *r, int status, const char *notice, const char *error)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct store *s = app->store;
	int64_t now = clock_now();
	json_t *ctx = page_context(r, "Subscription and billing", NULL);
	struct subscription sub;
	mh_err err = store_subscription_by_member(s, r->arena, c->member.id, &sub);
	if (err && err != MH_ERR_NOTFOUND) {
		json_decref(ctx);
		failed(r);
		return;
	}
	json_t *invoices = json_array();
	if (!err) {
		struct plan plan;
		json_t *o = json_object();
		if (store_plan_get(s, r->arena, sub.plan_id, NULL, &plan) == MH_OK) {
			json_object_set_new(o, "plan", json_string(plan.name));
			json_object_set_new(o, "price",
			                    json_string(billing_money(r->arena, plan.amount, plan.currency)));
			json_object_set_new(o, "per", json_string(per_text(r, plan.interval_months)));
			json_object_set_new(o, "amount",
			                    json_string(billing_money(r->arena, plan.amount, plan.currency)));
		}
		json_object_set_new(o, "status", json_string(sub_status_name(sub.status)));
		/* The words for each status are the theme's (billing.mustache). */
		static const char *const statuses[] = { "active",   "trialing",   "past_due",           "unpaid",
			                                "canceled", "incomplete", "incomplete_expired", "paused",
			                                NULL };
		json_object_set_new(o, "status_is", one_of(statuses, sub_status_name(sub.status)));
		char when[48];
		bool live = sub_status_live(sub.status);
		/* A failed payment: the card comes first, as saving one pays what is owed. */
		bool owing = sub.status == SUB_PAST_DUE || sub.status == SUB_UNPAID;
		struct invoice open;
		bool has_open = store_invoice_open(s, r->arena, sub.id, &open) == MH_OK;
		/* Owing past the period's end: the overdue invoice, not a "next charge" in the past. */
		bool overdue = owing && sub.period_end <= now;
		time_format_human(sub.period_end, when, sizeof when);
		if (live && !sub.cancel_at_period_end && !overdue)
			json_object_set_new(o, "next_charge", json_string(when));
		if (live && sub.cancel_at_period_end && !overdue)
			json_object_set_new(o, "ends", json_string(when));
		if (overdue) {
			json_object_set_new(o, "overdue_since", json_string(when));
			if (has_open)
				json_object_set_new(o, "amount",
				                    json_string(billing_money(r->arena, open.amount, open.currency)));
			if (has_open && open.next_attempt_at > now) {
				char retry[48];
				time_format_human(open.next_attempt_at, retry, sizeof retry);
				json_object_set_new(o, "next_retry", json_string(retry));
			}
		}
		json_object_set_new(ctx, "pay_first", json_boolean(owing));
		json_object_set_new(o, "can_cancel", json_boolean(live && !sub.cancel_at_period_end));
		json_object_set_new(o, "can_resume",
		                    json_boolean(live && sub.cancel_at_period_end && sub.period_end > now));
		json_object_set_new(o, "resubscribe", json_boolean(!live));
		struct charge fail;
		if (has_open && store_invoice_failure(s, r->arena, open.id, &fail) == MH_OK)
			json_object_set_new(
			        o, "problem",
			        json_string(arena_printf(r->arena,
			                                 "Your last payment of %s did not go through: "
			                                 "%s Please update your card.",
			                                 billing_money(r->arena, open.amount, open.currency),
			                                 fail.failure_message)));
		json_object_set_new(ctx, "sub", o);
		struct invoice *list;
		size_t n;
		if (store_invoice_list(s, r->arena, sub.id, &list, &n) == MH_OK) {
			for (size_t i = 0; i < n; i++) {
				char d1[48], d2[48], d3[48];
				time_format_human(list[i].created_at, d1, sizeof d1);
				time_format_human(list[i].period_start, d2, sizeof d2);
				time_format_human(list[i].period_end, d3, sizeof d3);
				json_t *iv = json_object();
				json_object_set_new(iv, "date", json_string(d1));
				json_object_set_new(iv, "period",
				                    json_string(arena_printf(r->arena, "%s to %s", d2, d3)));
				json_object_set_new(
				        iv, "amount",
				        json_string(billing_money(r->arena, list[i].amount, list[i].currency)));
				json_object_set_new(iv, "status", json_string(list[i].status));
				json_array_append_new(invoices, iv);
			}
		}
	}
	json_object_set_new(ctx, "has_invoices", json_boolean(json_array_size(invoices) > 0));
	json_object_set_new(ctx, "invoices", invoices);
	struct payment_method pm;
	if (store_payment_method_default(s, r->arena, c->member.id, &pm) == MH_OK) {
		json_t *card = json_object();
		json_object_set_new(card, "brand", json_string(pm.brand));
		json_object_set_new(card, "last4", json_string(pm.last4));
		json_object_set_new(card, "exp_month", json_string(arena_printf(r->arena, "%02d", pm.exp_month)));
		json_object_set_new(card, "exp_year", json_integer(pm.exp_year));
		time_t t = (time_t) now;
		struct tm tm;
		gmtime_r(&t, &tm);
		json_object_set_new(
		        card, "expired",
		        json_boolean(pm.exp_year * 12 + pm.exp_month - 1 < (tm.tm_year + 1900) * 12 + tm.tm_mon));
		json_object_set_new(ctx, "card", card);
	}
	json_object_set_new(ctx, "next", json_string(local_next(http_query(r, "next"))));
	/* Notices and errors go by name; their words are the theme's. */
	static const char *const notices[] = { "paid", "card", "trial", "subscribed", "canceled", "resumed", NULL };
	static const char *const errors[] = { "provider_down", "nothing_to_change", "unknown_action", NULL };
	if (notice)
		json_object_set_new(ctx, "notice", one_of(notices, notice));
	if (error)
		json_object_set_new(ctx, "error", one_of(errors, error));
	private_page(r, status, "billing", "Subscription and billing", ctx);
}

void
h_billing_page(struct http_req *r)
{
	static const char *const known[] = { "paid", "card", "trial", "subscribed", "canceled", "resumed" };
	const char *n = http_query(r, "notice");
	const char *notice = NULL;
	for (size_t i = 0; n && i < sizeof known / sizeof *known; i++)
		if (!strcmp(n, known[i]))
			notice = known[i];
	billing_page(r, 200, notice, NULL);
}

void
h_billing(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	const char *action = http_form(r, "action");
	const char *next = local_next(http_form(r, "next"));
	int64_t now = clock_now();
	if (action && !strcmp(action, "card")) {
		go_to_checkout(r, NULL, next);
		return;
	}
	if (action && (!strcmp(action, "cancel") || !strcmp(action, "resume"))) {
		bool cancel = !strcmp(action, "cancel");
		mh_err err = billing_cancel(&app->billing, c->member.id, cancel, now);
		if (err == MH_ERR_NOTFOUND) {
			billing_page(r, 409, NULL, "nothing_to_change");
			return;
		}
		if (err) {
			failed(r);
			return;
		}
		http_redirect(r, 303, cancel ? "/account/billing?notice=canceled" : "/account/billing?notice=resumed");
		return;
	}
	billing_page(r, 400, NULL, "unknown_action");
}
