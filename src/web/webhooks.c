/* webhooks.c: POST /webhooks/stripe (being written). */
#include "web/app.h"
#include "web/handlers.h"

void
h_stripe_webhook(struct http_req *r)
{
	http_respond_text(r, 503, "Stripe webhooks are not enabled.");
}
