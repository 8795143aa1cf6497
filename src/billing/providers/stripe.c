/* stripe.c: placeholder until the Stripe provider lands. */
#include "billing/providers/stripe.h"

mh_err
stripe_checkout(const struct config *cfg, struct arena *a, const struct member *m, const struct plan *p,
                const char *customer, const char *success_url, const char *cancel_url, const char *idempotency_key,
                const char **url, char *err, size_t errlen)
{
	return MH_ERR_UNSUPPORTED;
}

mh_err
stripe_portal(const struct config *cfg, struct arena *a, const char *customer, const char *return_url,
              const char *idempotency_key, const char **url, char *err, size_t errlen)
{
	return MH_ERR_UNSUPPORTED;
}

mh_err
stripe_verify(const char *secret, const char *header, const char *body, size_t len, int64_t now, int64_t tolerance)
{
	return MH_ERR_DENIED;
}

mh_err
stripe_apply_event(struct billing *b, struct arena *a, const char *body, size_t len, int64_t now, char *err,
                   size_t errlen)
{
	return MH_ERR_UNSUPPORTED;
}
