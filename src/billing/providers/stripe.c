/* stripe.c: the Stripe provider: Checkout and Billing Portal sessions over
 * libcurl, webhook signatures, and the events that move a subscription.
 *
 * Stripe is the source of truth for a Stripe subscription; masthead keeps
 * a copy for the paywall. Events can arrive twice, late or out of order,
 * so each one is applied at most once (its id is recorded in the same
 * transaction as its effect) and only when it is not older than the last
 * event the subscription reflects (provider_updated, the event's
 * `created`). An event that names something masthead does not know yet
 * leaves no trace, so Stripe's retry applies it later. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billing/providers/stripe.h"
#include "auth/token.h"
#include "store/store.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/slice.h"
#include "core/text.h"
#include "mail/mail.h"
#include "core/banned.h"

#define DAY          86400
#define HTTP_TIMEOUT 15L
#define MAX_ANSWER   ((size_t) 1 << 20)
#define MAX_KEY      255 /* Stripe's limit for an idempotency key */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- calling Stripe ---------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
collect(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	buf_add(b, p, n);
	return buf_error(b) ? 0 : n; /* short: curl stops reading an overlong answer */
}

/* No byte that could end a header line or smuggle another. */
static bool
header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Replaces every occurrence of secret in msg with "***", in place. */
static void
form_add(struct buf *f, const char *name, const char *value)
{
	if (f->len)
		buf_putc(f, '&');
	buf_add_urlenc(f, name, strlen(name));
	buf_putc(f, '=');
	buf_add_urlenc(f, value, strlen(value));
}

/* POSTs form to the API path; *out is the answer's JSON object (the
 * caller json_decref()s it). A Stripe error answer is MH_ERR_IO with its
 * message in err. */
static mh_err
stripe_post(const struct config *cfg, const char *path, const struct buf *form, const char *idempotency_key,
            json_t **out, char *err, size_t errlen)
{
	const char *key = cfg->stripe_secret_key, *base = cfg->stripe_api_base;
	*out = NULL;
	if (!key || !key[0] || !header_safe(key)) {
		seterr(err, errlen, "Stripe is not configured: stripe-secret-key is empty or malformed");
		return MH_ERR_INVALID;
	}
	if (!base || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0)) {
		seterr(err, errlen, "stripe-api-base must start with https:// (or http:// for a local stub)");
		return MH_ERR_INVALID;
	}
	if (!idempotency_key || !idempotency_key[0] || strlen(idempotency_key) > MAX_KEY ||
	    !header_safe(idempotency_key)) {
		seterr(err, errlen, "stripe: the idempotency key is empty, too long or has control characters");
		return MH_ERR_INVALID;
	}
	if (buf_error(form)) {
		seterr(err, errlen, "stripe: the request is too large");
		return buf_error(form);
	}
	pthread_once(&curl_once, curl_start);
	CURL *c = curl_easy_init();
	if (!c) {
		seterr(err, errlen, "stripe: libcurl cannot start");
		return MH_ERR_IO;
	}
	mh_err rc = MH_OK;
	struct buf url = BUF_INIT, auth = BUF_INIT, idem = BUF_INIT, answer;
	buf_init(&answer, MAX_ANSWER);
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	buf_add(&url, base, bl);
	buf_puts(&url, path);
	buf_printf(&auth, "Authorization: Bearer %s", key);
	buf_printf(&idem, "Idempotency-Key: %s", idempotency_key);
	struct curl_slist *h = NULL;
	const char *lines[] = { auth.ptr, idem.ptr, "Content-Type: application/x-www-form-urlencoded",
		                "Accept: application/json", "Expect:" };
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		struct curl_slist *next = curl_slist_append(h, lines[i]);
		if (!next) {
			seterr(err, errlen, "stripe: out of memory");
			rc = MH_ERR_IO;
			goto out;
		}
		h = next;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url.ptr);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long) CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form->ptr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) form->len);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "masthead");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		seterr(err, errlen, "stripe: %s",
		       buf_error(&answer) ? "the answer is too large"
		       : cerr[0]          ? cerr
		                          : curl_easy_strerror(cc));
		rc = MH_ERR_IO;
		goto out;
	}
	json_error_t je;
	json_t *j = json_loadb(answer.ptr, answer.len, 0, &je);
	json_t *e = json_object_get(j, "error");
	if (json_is_object(e)) {
		const char *msg = json_string_value(json_object_get(e, "message"));
		const char *type = json_string_value(json_object_get(e, "type"));
		seterr(err, errlen, "%s", msg && msg[0] ? msg : type ? type : "Stripe refused the request");
		json_decref(j);
		rc = MH_ERR_IO;
		goto out;
	}
	if (status < 200 || status > 299 || !json_is_object(j)) {
		seterr(err, errlen, "stripe: HTTP %ld%s", status,
		       json_is_object(j) ? "" : " with an answer that is not JSON");
		json_decref(j);
		rc = MH_ERR_IO;
		goto out;
	}
	*out = j;
out:
	if (rc)
		text_scrub(err, errlen, key);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	sodium_memzero(auth.ptr, auth.len);
	buf_release(&auth);
	buf_release(&idem);
	buf_release(&url);
	buf_release(&answer);
	return rc;
}

/* The "url" of a session answer, copied to a. */
static mh_err
session_url(json_t *j, struct arena *a, const char **url, char *err, size_t errlen)
{
	const char *u = json_string_value(json_object_get(j, "url"));
	if (!u || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)) {
		seterr(err, errlen, "stripe: the session has no url");
		return MH_ERR_IO;
	}
	*url = arena_strdup(a, u);
	return MH_OK;
}

mh_err
stripe_checkout(const struct config *cfg, struct arena *a, const struct member *m, const struct plan *p,
                const char *customer, const char *success_url, const char *cancel_url, const char *idempotency_key,
                const char **url, char *err, size_t errlen)
{
	if (!p->provider_price_id || !p->provider_price_id[0]) {
		seterr(err, errlen, "plan %s has no Stripe price (masthead plan price %s PRICE_ID)", p->code, p->code);
		return MH_ERR_INVALID;
	}
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long) m->id);
	struct buf f = BUF_INIT;
	form_add(&f, "mode", "subscription");
	form_add(&f, "line_items[0][price]", p->provider_price_id);
	form_add(&f, "line_items[0][quantity]", "1");
	form_add(&f, "client_reference_id", id);
	if (customer && customer[0])
		form_add(&f, "customer", customer);
	else
		form_add(&f, "customer_email", m->email);
	form_add(&f, "success_url", success_url);
	form_add(&f, "cancel_url", cancel_url);
	/* checkout.session.completed reads the plan back from here; the
	 * subscription carries it too, for whoever looks in the dashboard. */
	form_add(&f, "metadata[plan]", p->code);
	form_add(&f, "metadata[member]", id);
	form_add(&f, "subscription_data[metadata][plan]", p->code);
	form_add(&f, "subscription_data[metadata][member]", id);
	if (p->trial_days > 0) {
		char days[16];
		snprintf(days, sizeof days, "%d", p->trial_days);
		form_add(&f, "subscription_data[trial_period_days]", days);
	}
	json_t *j;
	mh_err rc = stripe_post(cfg, "/v1/checkout/sessions", &f, idempotency_key, &j, err, errlen);
	buf_release(&f);
	if (rc)
		return rc;
	rc = session_url(j, a, url, err, errlen);
	json_decref(j);
	return rc;
}

mh_err
stripe_portal(const struct config *cfg, struct arena *a, const char *customer, const char *return_url,
              const char *idempotency_key, const char **url, char *err, size_t errlen)
{
	if (!customer || !customer[0]) {
		seterr(err, errlen, "stripe: no customer for the billing portal");
		return MH_ERR_INVALID;
	}
	struct buf f = BUF_INIT;
	form_add(&f, "customer", customer);
	form_add(&f, "return_url", return_url);
	json_t *j;
	mh_err rc = stripe_post(cfg, "/v1/billing_portal/sessions", &f, idempotency_key, &j, err, errlen);
	buf_release(&f);
	if (rc)
		return rc;
	rc = session_url(j, a, url, err, errlen);
	json_decref(j);
	return rc;
}

/* --- webhook signatures ------------------------------------------------ */

static bool
unhex(struct slice s, unsigned char *out, size_t n)
{
	if (s.len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s.ptr[2 * i]), lo = hex_digit(s.ptr[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char) (hi << 4 | lo);
	}
	return true;
}

mh_err
stripe_verify(const char *secret, const char *header, const char *body, size_t len, int64_t now, int64_t tolerance)
{
	if (!secret || !secret[0] || !header || (!body && len) || tolerance < 0)
		return MH_ERR_DENIED;
	size_t hl = strnlen(header, STRIPE_MAX_HEADER + 1);
	if (hl > STRIPE_MAX_HEADER)
		return MH_ERR_DENIED;
	unsigned char sigs[STRIPE_MAX_SIGNATURES][crypto_auth_hmacsha256_BYTES];
	size_t nsig = 0, nv1 = 0;
	struct slice rest = { header, hl }, item, name, ts = { NULL, 0 };
	long t = -1;
	while (rest.len) {
		slice_split(&rest, ',', &item);
		if (!slice_split(&item, '=', &name))
			continue; /* no "=": not a scheme=value pair */
		name = slice_trim(name);
		struct slice value = slice_trim(item);
		if (slice_eq_str(name, "t")) {
			if (ts.ptr || !slice_to_long(value, &t))
				return MH_ERR_DENIED; /* a second or a malformed timestamp */
			ts = value;
		} else if (slice_eq_str(name, "v1")) {
			if (++nv1 > STRIPE_MAX_SIGNATURES)
				return MH_ERR_DENIED;
			if (unhex(value, sigs[nsig], sizeof sigs[nsig]))
				nsig++;
		}
		/* v0 and other schemes are ignored, as Stripe's libraries do. */
	}
	if (!ts.ptr || !nsig)
		return MH_ERR_DENIED;
	if ((int64_t) t - now > tolerance || now - (int64_t) t > tolerance)
		return MH_ERR_DENIED;
	if (sodium_init() < 0)
		return MH_ERR_DENIED;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *) secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ts.ptr, ts.len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ".", 1);
	if (len)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *) body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	bool ok = false;
	for (size_t i = 0; i < nsig; i++)
		ok |= sodium_memcmp(mac, sigs[i], sizeof mac) == 0;
	sodium_memzero(&st, sizeof st);
	return ok ? MH_OK : MH_ERR_DENIED;
}

/* --- events ------------------------------------------------------------ */

struct event {
	struct billing *b;
	struct arena *a;
	json_t *obj; /* data.object */
	const char *id, *type;
	int64_t created, now;
	char *err;
	size_t errlen;
	/* the mail that goes with the change, queued in its transaction */
	const char *mail;
	int64_t mail_member, mail_plan, mail_date;
	const char *mail_amount;
	bool ignored;
};

/* A string field, or the id of an expanded object; NULL otherwise. */
static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_object(v))
		v = json_object_get(v, "id");
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An integer field; 0 when absent or null. */
static int64_t
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t) json_integer_value(v) : 0;
}

/* Follows "a.b.0.c" through objects and arrays; NULL when a step is missing. */
static json_t *
jpath(json_t *o, const char *path)
{
	while (o && *path) {
		char part[64];
		size_t n = strcspn(path, ".");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		path += n + (path[n] == '.');
		long idx;
		if (json_is_array(o) && slice_to_long((struct slice){ part, n }, &idx))
			o = json_array_get(o, (size_t) idx);
		else
			o = json_object_get(o, part);
	}
	return o;
}

/* Stripe's status names map 1:1 onto the model's; -1 for an unknown one. */
static int
known_status(const char *s)
{
	int st = s ? sub_status_parse(s) : -1;
	return st == SUB_NONE ? -1 : st;
}

static bool
is(const char *status, const char *name)
{
	return status && strcmp(status, name) == 0;
}

static int64_t
grace_until(const struct event *e)
{
	long days = e->b->cfg->grace_days > 0 ? e->b->cfg->grace_days : 7;
	return e->now + (int64_t) days * DAY;
}

static mh_err
ignore(struct event *e, const char *why)
{
	log_info("stripe event ignored", "id=%s type=%s reason=\"%s\"", e->id, e->type, why);
	e->ignored = true;
	return MH_OK;
}

static mh_err
invalid(struct event *e, const char *why)
{
	seterr(e->err, e->errlen, "%s: %s", e->type, why);
	return MH_ERR_INVALID;
}

static void
want_mail(struct event *e, const char *name, const struct subscription *sub, int64_t date, const char *amount)
{
	e->mail = name;
	e->mail_member = sub->member_id;
	e->mail_plan = sub->plan_id;
	e->mail_date = date;
	e->mail_amount = amount;
}

/* The local subscription of a Stripe subscription, or of its customer.
 * *other is set when the row tracks a different Stripe subscription. */
static mh_err
find_sub(struct event *e, const char *sub_id, const char *customer, struct subscription *out, bool *other)
{
	struct store *s = e->b->store;
	mh_err rc = store_subscription_by_provider(s, e->a, sub_id ? sub_id : "", customer ? customer : "", out);
	if (rc == MH_ERR_NOTFOUND)
		seterr(e->err, e->errlen, "no subscription for %s (customer %s) yet", sub_id ? sub_id : "-",
		       customer ? customer : "-");
	else if (rc)
		seterr(e->err, e->errlen, "store: %s", store_errmsg(s));
	else
		*other = out->provider_id && out->provider_id[0] && sub_id && strcmp(out->provider_id, sub_id) != 0;
	return rc;
}

/* The plan whose Stripe price is price_id (0 when none is). */
static mh_err
plan_for_price(struct event *e, const char *price_id, int64_t *plan_id)
{
	struct store *s = e->b->store;
	struct plan *plans;
	size_t n;
	*plan_id = 0;
	if (!price_id || !price_id[0])
		return MH_OK;
	mh_err rc = store_plan_list(s, e->a, true, &plans, &n);
	for (size_t i = 0; !rc && i < n; i++)
		if (plans[i].provider_price_id && strcmp(plans[i].provider_price_id, price_id) == 0) {
			*plan_id = plans[i].id;
			break;
		}
	return rc;
}

/* metadata.plan, or the first plan on offer (any plan when none is). */
static mh_err
checkout_plan(struct event *e, const char *code, struct plan *out)
{
	struct store *s = e->b->store;
	mh_err rc = code && code[0] ? store_plan_get(s, e->a, 0, code, out) : MH_ERR_NOTFOUND;
	if (rc != MH_ERR_NOTFOUND)
		return rc;
	struct plan *plans;
	size_t n = 0;
	if ((rc = store_plan_list(s, e->a, false, &plans, &n)) ||
	    (!n && (rc = store_plan_list(s, e->a, true, &plans, &n))))
		return rc;
	if (!n) {
		seterr(e->err, e->errlen, "there is no plan to attach the subscription to");
		return MH_ERR_NOTFOUND;
	}
	*out = plans[0];
	return MH_OK;
}

static mh_err
save(struct event *e, struct subscription *sub)
{
	struct store *s = e->b->store;
	sub->updated_at = e->now;
	mh_err rc = store_subscription_save(s, sub);
	if (rc)
		seterr(e->err, e->errlen, "store: %s", store_errmsg(s));
	return rc;
}

/* checkout.session.completed: links the member to the Stripe customer and
 * subscription. The status stays incomplete until Stripe says more,
 * unless the session was paid. provider_updated is left alone: the
 * subscription's own events, even older ones, still apply after this. */
static mh_err
on_checkout_completed(struct event *e)
{
	struct store *s = e->b->store;
	json_t *o = e->obj;
	const char *mode = jstr(o, "mode"), *ref = jstr(o, "client_reference_id");
	const char *sub_id = jstr(o, "subscription"), *customer = jstr(o, "customer");
	long member_id;
	if (mode && strcmp(mode, "subscription") != 0)
		return ignore(e, "not a subscription checkout");
	if (!ref || !slice_to_long(slice_from(ref), &member_id) || member_id <= 0)
		return ignore(e, "no masthead member in client_reference_id");
	if (!sub_id || !sub_id[0])
		return invalid(e, "a subscription checkout without a subscription");
	struct member m;
	mh_err rc = store_member_by_id(s, e->a, member_id, &m);
	if (rc == MH_ERR_NOTFOUND)
		seterr(e->err, e->errlen, "member %ld is unknown", member_id);
	if (rc)
		return rc;
	struct plan plan;
	if ((rc = checkout_plan(e, jstr(json_object_get(o, "metadata"), "plan"), &plan)))
		return rc;
	bool paid = is(jstr(o, "payment_status"), "paid");
	struct subscription sub;
	rc = store_subscription_by_member(s, e->a, member_id, &sub);
	if (rc && rc != MH_ERR_NOTFOUND)
		return rc;
	if (rc == MH_ERR_NOTFOUND) {
		memset(&sub, 0, sizeof sub);
		sub.member_id = member_id;
		sub.created_at = e->now;
	}
	bool same = !rc && is(sub.provider, "stripe") && is(sub.provider_id, sub_id);
	if (same && sub.provider_updated) {
		/* Stripe's subscription events came first: they know better. */
		if (paid && sub.status == SUB_INCOMPLETE)
			sub.status = SUB_ACTIVE;
	} else {
		if (!rc && !same && sub_status_live(sub.status))
			log_warn("stripe checkout replaces a live subscription", "member=%ld old=\"%s\" new=%s",
			         member_id, sub.provider_id, sub_id);
		sub.status = paid ? SUB_ACTIVE : SUB_INCOMPLETE;
		sub.plan_id = plan.id;
		sub.period_start = e->created;
		sub.period_end = time_add_months(e->created, plan.interval_months > 0 ? plan.interval_months : 1);
		sub.trial_end = sub.grace_until = sub.canceled_at = 0;
		sub.cancel_at_period_end = sub.trial_reminded = false;
		sub.provider_updated = 0;
	}
	sub.provider = "stripe";
	sub.provider_id = sub_id;
	if (customer && customer[0])
		sub.provider_customer = customer;
	else if (!same)
		sub.provider_customer = "";
	return save(e, &sub);
}

/* customer.subscription.created and .updated: Stripe's view, as it is. */
static mh_err
on_subscription(struct event *e)
{
	json_t *o = e->obj;
	const char *sub_id = jstr(o, "id"), *customer = jstr(o, "customer");
	int known = known_status(jstr(o, "status"));
	if (!sub_id || !sub_id[0])
		return invalid(e, "a subscription without an id");
	if (known < 0)
		return invalid(e, "an unknown subscription status");
	enum sub_status status = (enum sub_status) known;
	struct subscription sub;
	bool other = false;
	mh_err rc = find_sub(e, sub_id, customer, &sub, &other);
	if (rc)
		return rc;
	if (other) {
		/* Another subscription of the same customer: it takes over only
		 * from one that ended, and never an ended one from a live one. */
		if (!sub_status_ended(sub.status) || sub_status_ended(status))
			return ignore(e, "the member's subscription is another one");
		sub.provider_updated = 0;
		sub.trial_reminded = false;
	}
	if (e->created < sub.provider_updated)
		return ignore(e, "older than the subscription's last change");
	enum sub_status was = sub.status;
	sub.status = status;
	if (status == SUB_PAST_DUE)
		sub.grace_until = was == SUB_PAST_DUE && sub.grace_until ? sub.grace_until : grace_until(e);
	else
		sub.grace_until = 0;
	/* Before API version 2025-03-31 the period is on the subscription, since then on its items. */
	json_t *item = jpath(o, "items.data.0");
	int64_t start = jint(o, "current_period_start"), end = jint(o, "current_period_end");
	if (!start)
		start = jint(item, "current_period_start");
	if (!end)
		end = jint(item, "current_period_end");
	if (start)
		sub.period_start = start;
	if (end)
		sub.period_end = end;
	sub.cancel_at_period_end = json_is_true(json_object_get(o, "cancel_at_period_end"));
	sub.trial_end = jint(o, "trial_end");
	sub.canceled_at = jint(o, "canceled_at");
	if (status == SUB_CANCELED) {
		int64_t at = jint(o, "ended_at") ? jint(o, "ended_at") : e->created;
		if (sub.period_end > at)
			sub.period_end = at;
		if (!sub.canceled_at)
			sub.canceled_at = at;
	}
	int64_t plan_id;
	if ((rc = plan_for_price(e, jstr(item, "price"), &plan_id)))
		return rc;
	if (plan_id)
		sub.plan_id = plan_id;
	sub.provider = "stripe";
	sub.provider_id = sub_id;
	if (customer && customer[0])
		sub.provider_customer = customer;
	sub.provider_updated = e->created;
	return save(e, &sub);
}

/* customer.subscription.deleted: it ended; access ends with it. */
static mh_err
on_subscription_deleted(struct event *e)
{
	json_t *o = e->obj;
	const char *sub_id = jstr(o, "id"), *customer = jstr(o, "customer");
	if (!sub_id || !sub_id[0])
		return invalid(e, "a subscription without an id");
	struct subscription sub;
	bool other = false;
	mh_err rc = find_sub(e, sub_id, customer, &sub, &other);
	if (rc)
		return rc;
	if (other)
		return ignore(e, "the member's subscription is another one");
	if (e->created < sub.provider_updated)
		return ignore(e, "older than the subscription's last change");
	int64_t at = jint(o, "ended_at") ? jint(o, "ended_at") : e->created;
	sub.status = SUB_CANCELED;
	sub.canceled_at = jint(o, "canceled_at") ? jint(o, "canceled_at") : at;
	if (sub.period_end > at)
		sub.period_end = at;
	sub.cancel_at_period_end = false;
	sub.grace_until = 0;
	sub.provider_updated = e->created;
	return save(e, &sub);
}

/* The subscription an invoice is for: a field before API version
 * 2025-03-31, under parent.subscription_details since. */
static const char *
invoice_subscription(json_t *o)
{
	const char *id = jstr(o, "subscription");
	return id ? id : jstr(jpath(o, "parent.subscription_details"), "subscription");
}

static const char *
invoice_money(struct event *e, json_t *o, const char *field)
{
	const char *currency = jstr(o, "currency");
	return billing_money(e->a, jint(o, field), currency ? currency : "usd");
}

/* invoice.paid: the subscription is paid up. A receipt goes out even when
 * a newer event already moved the subscription on. */
static mh_err
on_invoice_paid(struct event *e)
{
	json_t *o = e->obj;
	const char *sub_id = invoice_subscription(o), *customer = jstr(o, "customer");
	if (!sub_id || !sub_id[0])
		return ignore(e, "not a subscription's invoice");
	struct subscription sub;
	bool other = false;
	mh_err rc = find_sub(e, sub_id, customer, &sub, &other);
	if (rc)
		return rc;
	if (other)
		return ignore(e, "the member's subscription is another one");
	int64_t paid = jint(o, "amount_paid");
	if (paid > 0) {
		int64_t at = jint(json_object_get(o, "status_transitions"), "paid_at");
		want_mail(e, "receipt", &sub, at ? at : e->created, invoice_money(e, o, "amount_paid"));
	}
	if (e->created < sub.provider_updated)
		return ignore(e, "older than the subscription's last change");
	if (sub_status_ended(sub.status))
		return ignore(e, "the subscription has ended");
	/* A trial's invoice for nothing leaves it trialing. */
	if (sub.status != SUB_TRIALING || paid > 0) {
		sub.status = SUB_ACTIVE;
		sub.grace_until = 0;
	}
	json_t *period = jpath(o, "lines.data.0.period");
	if (jint(period, "start"))
		sub.period_start = jint(period, "start");
	if (jint(period, "end"))
		sub.period_end = jint(period, "end");
	sub.provider_updated = e->created;
	return save(e, &sub);
}

/* invoice.payment_failed: past_due, with the grace period. The first
 * payment failing is Checkout's business: that subscription is not live. */
static mh_err
on_invoice_failed(struct event *e)
{
	json_t *o = e->obj;
	const char *sub_id = invoice_subscription(o), *customer = jstr(o, "customer");
	if (!sub_id || !sub_id[0])
		return ignore(e, "not a subscription's invoice");
	struct subscription sub;
	bool other = false;
	mh_err rc = find_sub(e, sub_id, customer, &sub, &other);
	if (rc)
		return rc;
	if (other)
		return ignore(e, "the member's subscription is another one");
	if (e->created < sub.provider_updated)
		return ignore(e, "older than the subscription's last change");
	if (!sub_status_live(sub.status))
		return ignore(e, "the subscription is not live");
	if (sub.status != SUB_PAST_DUE || !sub.grace_until)
		sub.grace_until = grace_until(e);
	sub.status = SUB_PAST_DUE;
	sub.provider_updated = e->created;
	want_mail(e, "payment-failed", &sub, e->created, invoice_money(e, o, "amount_due"));
	return save(e, &sub);
}

/* customer.subscription.trial_will_end: one reminder, Stripe's or the
 * scheduler's, whichever comes first. */
static mh_err
on_trial_will_end(struct event *e)
{
	json_t *o = e->obj;
	const char *sub_id = jstr(o, "id"), *customer = jstr(o, "customer");
	if (!sub_id || !sub_id[0])
		return invalid(e, "a subscription without an id");
	struct subscription sub;
	bool other = false;
	mh_err rc = find_sub(e, sub_id, customer, &sub, &other);
	if (rc)
		return rc;
	if (other || sub_status_ended(sub.status))
		return ignore(e, "not the member's live subscription");
	if (sub.trial_reminded)
		return ignore(e, "the member was reminded already");
	sub.trial_reminded = true;
	int64_t end = jint(o, "trial_end") ? jint(o, "trial_end") : sub.trial_end;
	want_mail(e, "trial-ending", &sub, end, NULL);
	return save(e, &sub);
}

static const struct {
	const char *type;
	mh_err (*apply)(struct event *e);
} handlers[] = {
	{ "checkout.session.completed", on_checkout_completed },
	{ "customer.subscription.created", on_subscription },
	{ "customer.subscription.updated", on_subscription },
	{ "customer.subscription.deleted", on_subscription_deleted },
	{ "customer.subscription.trial_will_end", on_trial_will_end },
	{ "invoice.paid", on_invoice_paid },
	{ "invoice.payment_failed", on_invoice_failed },
};

/* Queues the event's mail inside its transaction: it goes out once, with
 * the change. No template by that name: no mail. */
static mh_err
queue_mail(struct event *e, bool *queued)
{
	struct billing *b = e->b;
	struct store *s = b->store;
	*queued = false;
	if (!e->mail || !b->templates)
		return MH_OK;
	struct member m;
	mh_err rc = store_member_by_id(s, e->a, e->mail_member, &m);
	if (rc)
		return rc == MH_ERR_NOTFOUND ? MH_OK : rc;
	json_t *ctx = json_object();
	json_t *site = json_object();
	json_object_set_new(site, "name", json_string(b->cfg->site_name));
	json_object_set_new(site, "url", json_string(b->cfg->public_url));
	json_object_set_new(ctx, "site", site);
	json_t *mem = json_object();
	json_object_set_new(mem, "name", json_string(m.name));
	json_object_set_new(mem, "email", json_string(m.email));
	json_object_set_new(ctx, "member", mem);
	json_object_set_new(ctx, "billing_url",
	                    json_string(arena_printf(e->a, "%s/account/billing", b->cfg->public_url)));
	char human[48];
	time_format_human(e->mail_date, human, sizeof human);
	json_object_set_new(ctx, "date", json_string(human));
	struct plan plan;
	if (e->mail_plan && store_plan_get(s, e->a, e->mail_plan, NULL, &plan) == MH_OK)
		json_object_set_new(ctx, "plan", json_string(plan.name));
	if (e->mail_amount)
		json_object_set_new(ctx, "amount", json_string(e->mail_amount));
	rc = mail_queue_template(s, b->cfg, b->templates, e->mail, ctx, m.email);
	json_decref(ctx);
	if (rc == MH_OK)
		*queued = true;
	else if (rc == MH_ERR_DB)
		return rc; /* the transaction is in doubt: let Stripe retry it all */
	else if (rc != MH_ERR_NOTFOUND)
		log_warn("stripe mail not queued", "id=%s mail=%s error=\"%s\"", e->id, e->mail, mh_strerror(rc));
	return MH_OK;
}

mh_err
stripe_apply_event(struct billing *b, struct arena *a, const char *body, size_t len, int64_t now, char *err,
                   size_t errlen)
{
	seterr(err, errlen, "%s", "");
	json_error_t je;
	json_t *ev = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (!ev) {
		seterr(err, errlen, "not JSON: %s", body ? je.text : "no body");
		return MH_ERR_INVALID;
	}
	struct event e = { .b = b, .a = a, .now = now, .err = err, .errlen = errlen };
	e.obj = jpath(ev, "data.object");
	e.id = jstr(ev, "id");
	e.type = jstr(ev, "type");
	json_t *created = json_object_get(ev, "created");
	mh_err rc;
	if (!json_is_object(ev) || !e.id || !e.id[0] || strlen(e.id) > 255 || !e.type || !e.type[0] ||
	    !json_is_integer(created) || json_integer_value(created) <= 0 || !json_is_object(e.obj)) {
		seterr(err, errlen, "not a Stripe event: id, type, created and data.object are required");
		rc = MH_ERR_INVALID;
		goto out;
	}
	e.created = (int64_t) json_integer_value(created);
	mh_err (*apply)(struct event *) = NULL;
	for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++)
		if (strcmp(handlers[i].type, e.type) == 0)
			apply = handlers[i].apply;

	struct store *s = b->store;
	bool queued = false;
	/* A subscription changed by someone else between the handler's read and
	 * its write (a billing run, a cancellation) fails the write: the whole
	 * event is undone and applied again over the new row. */
	for (int tries = 0;; tries++) {
		if ((rc = store_begin(s))) {
			seterr(err, errlen, "store: %s", store_errmsg(s));
			goto out;
		}
		rc = store_billing_event_record(s, "stripe", e.id, e.type, e.created, now);
		if (rc == MH_ERR_CONFLICT) {
			store_rollback(s);
			log_info("stripe event replayed", "id=%s type=%s", e.id, e.type);
			rc = MH_OK;
			goto out;
		}
		queued = false;
		if (rc)
			seterr(err, errlen, "store: %s", store_errmsg(s));
		else if (!apply)
			log_info("stripe event not handled", "id=%s type=%s", e.id, e.type);
		else if (!(rc = apply(&e)))
			rc = queue_mail(&e, &queued);
		if (!rc && (rc = store_commit(s)))
			seterr(err, errlen, "store: %s", store_errmsg(s));
		if (!rc)
			break;
		store_rollback(s);
		if (rc != MH_ERR_CONFLICT || tries == 7)
			goto out;
		e.ignored = false;
		e.mail = NULL;
	}
	if (queued && b->mailer)
		mailer_wake(b->mailer);
	if (apply && !e.ignored)
		log_info("stripe event applied", "id=%s type=%s", e.id, e.type);
out:
	json_decref(ev);
	return rc;
}

/* Stripe's checkout: a Checkout Session for a plan, the billing portal for
 * the card. Card numbers never reach masthead. */
static mh_err
stripe_provider_checkout(struct billing *b, struct arena *a, const struct member *m, const struct plan *plan,
                         const char *next, int64_t now, const char **url, char *msg, size_t msglen)
{
	const struct config *cfg = b->cfg;
	struct subscription sub;
	const char *customer = "";
	if (store_subscription_by_member(b->store, a, m->id, &sub) == MH_OK)
		customer = sub.provider_customer;
	char key[TOKEN_CHARS + 1];
	token_new(key);
	(void) now;
	if (plan) {
		if (!plan->provider_price_id || !plan->provider_price_id[0]) {
			snprintf(msg, msglen, "plan %s has no Stripe price: masthead plan price %s PRICE_ID",
			         plan->code, plan->code);
			return MH_ERR_UNSUPPORTED;
		}
		const char *ok = arena_printf(a, "%s%s", cfg->public_url, next);
		const char *back = arena_printf(a, "%s/subscribe", cfg->public_url);
		return stripe_checkout(cfg, a, m, plan, customer, ok, back, key, url, msg, msglen);
	}
	if (!customer || !customer[0]) {
		snprintf(msg, msglen, "member %lld has no Stripe customer", (long long) m->id);
		return MH_ERR_NOTFOUND;
	}
	const char *back = arena_printf(a, "%s%s", cfg->public_url, strcmp(next, "/") ? next : "/account/billing");
	return stripe_portal(cfg, a, customer, back, key, url, msg, msglen);
}

/* A Stripe customer from the site a member moved in from (import-site).
 * Until Stripe says more, a paying member's row is active for a month and
 * provider_updated stays 0, so any event about the customer (Stripe sends
 * customer.subscription.updated at the next renewal at the latest) sets
 * the real state. */
static mh_err
stripe_attach_customer(struct billing *b, struct arena *a, int64_t member_id, const char *customer, bool paying,
                       int64_t now, char *msg, size_t msglen)
{
	struct store *s = b->store;
	struct subscription sub;
	mh_err rc = store_subscription_by_member(s, a, member_id, &sub);
	if (rc && rc != MH_ERR_NOTFOUND)
		return rc;
	if (!rc) {
		if (is(sub.provider, "stripe") && is(sub.provider_customer, customer))
			return MH_OK; /* attached before: Stripe's events may have moved it on since */
		if (sub_status_live(sub.status)) {
			snprintf(msg, msglen, "the member already has a live %s subscription", sub.provider);
			return MH_ERR_CONFLICT;
		}
	} else {
		memset(&sub, 0, sizeof sub);
		sub.member_id = member_id;
		sub.created_at = now;
	}
	struct plan *plans;
	size_t n = 0;
	if ((rc = store_plan_list(s, a, false, &plans, &n)) || (!n && (rc = store_plan_list(s, a, true, &plans, &n))))
		return rc;
	if (!n) {
		snprintf(msg, msglen, "there is no plan yet (masthead plan add)");
		return MH_ERR_NOTFOUND;
	}
	if (!sub.plan_id)
		sub.plan_id = plans[0].id;
	sub.status = paying ? SUB_ACTIVE : SUB_CANCELED;
	sub.period_start = now;
	sub.period_end = paying ? time_add_months(now, 1) : now;
	sub.canceled_at = paying ? 0 : now;
	sub.trial_end = sub.grace_until = 0;
	sub.cancel_at_period_end = sub.trial_reminded = false;
	sub.provider = "stripe";
	sub.provider_id = "";
	sub.provider_customer = customer;
	sub.provider_updated = 0;
	sub.updated_at = now;
	return store_subscription_save(s, &sub);
}

const struct billing_provider billing_stripe_provider = { "stripe", stripe_provider_checkout, NULL, stripe_apply_event,
	                                                  stripe_attach_customer };
