/* webhooks.c: POST /webhooks/stripe.
 *
 * The body is read raw (ROUTE_RAW_BODY, no CSRF: Stripe signs instead) and
 * verified before it is parsed. The answer tells Stripe what to do next:
 * 200 done (applied, replayed or ignored), 503 try again later (the event
 * names something masthead does not know yet, or webhooks are not set up),
 * 400 do not bother (bad signature, malformed event). */
#include <stdint.h>
#include <time.h>

#include "core/clock.h"
#include "billing/providers/stripe.h"
#include "core/log.h"
#include "web/app.h"
#include "web/handlers.h"
#include "core/banned.h"

void
h_stripe_webhook(struct http_req *r)
{
	struct app *app = r->app;
	const char *secret = app->cfg->stripe_webhook_secret;
	if (!secret || !secret[0]) {
		http_respond_text(r, 503, "Stripe webhooks are not configured");
		return;
	}
	if (r->body_too_big || r->body.len > STRIPE_MAX_EVENT) {
		http_respond_text(r, 400, "The event is too large.");
		return;
	}
	const char *sig = http_header(r, "Stripe-Signature");
	if (!sig || !sig[0]) {
		http_respond_text(r, 400, "Missing Stripe-Signature header.");
		return;
	}
	int64_t now = clock_now();
	if (stripe_verify(secret, sig, r->body.ptr, r->body.len, now, STRIPE_TOLERANCE)) {
		log_warn("stripe webhook refused", "reason=\"bad or stale signature\" ip=%s", http_client_addr(r));
		http_respond_text(r, 400, "Bad or stale Stripe-Signature.");
		return;
	}
	/* Stripe's events, whatever provider the site charges with now: a site
	 * moving between providers still hears from the old one. */
	struct billing b = { app->store, app->cfg, app->theme.templates, app->mailer, &billing_stripe_provider };
	char err[256];
	mh_err rc = b.provider->apply_event(&b, r->arena, r->body.ptr, r->body.len, now, err, sizeof err);
	switch (rc) {
	case MH_OK: http_respond_text(r, 200, "ok"); break;
	case MH_ERR_NOTFOUND:
		log_warn("stripe event deferred", "detail=\"%s\"", err);
		http_respond_text(r, 503, "Not known here yet; please retry.");
		break;
	case MH_ERR_INVALID:
		log_warn("stripe event refused", "detail=\"%s\"", err);
		http_respond_text(r, 400, "Malformed event.");
		break;
	default:
		log_error("stripe event failed", "error=\"%s\" detail=\"%s\"", mh_strerror(rc), err);
		http_respond_text(r, 500, "Something went wrong on our side.");
		break;
	}
}
