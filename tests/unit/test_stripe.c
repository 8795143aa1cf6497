/* test_stripe.c: the Stripe provider. Webhook signatures (a known answer,
 * several v1 values, the 300 s window, malformed and huge headers);
 * Checkout and Billing Portal sessions against a stub API on 127.0.0.1
 * (form fields, Idempotency-Key, auth, Stripe's error answers); and
 * events applied to a real store: once per id, in `created` order, and
 * left unrecorded when they name something unknown. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "billing/providers/stripe.h"
#include "core/buf.h"
#include "web/app.h"
#include "core/banned.h"

#define SECRET "whsec_test_secret"
#define NOW    1700000000

/* --- signatures -------------------------------------------------------- */

static const char body1[] = "{\"id\":\"evt_1\",\"object\":\"event\"}";
/* HMAC-SHA256 of "1700000000." + body1 under SECRET, computed with Python's hmac. */
#define SIG1 "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd"

static void
sign(const char *secret, long t, const char *body, char hex[65])
{
	char ts[32];
	snprintf(ts, sizeof ts, "%ld.", t);
	crypto_auth_hmacsha256_state st;
	unsigned char mac[32];
	crypto_auth_hmacsha256_init(&st, (const unsigned char *) secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, 65, mac, sizeof mac);
}

static mh_err
verify(const char *header, const char *body)
{
	return stripe_verify(SECRET, header, body, strlen(body), NOW, STRIPE_TOLERANCE);
}

static void
test_verify_valid(void **state)
{
	(void) state;
	assert_int_equal(verify("t=1700000000,v1=" SIG1, body1), MH_OK);
	/* Upper-case hex, spaces after commas and a v0 scheme are fine too. */
	assert_int_equal(
	        verify("t=1700000000, v0=abcd, v1=0C8670ED117751CC551A20E35839447075C42800EA3CF3E8A2FBDA99CD1E6EDD",
	               body1),
	        MH_OK);
	char hex[65], h[128];
	sign(SECRET, NOW, body1, hex);
	assert_string_equal(hex, SIG1);
	/* An empty body signs too. */
	sign(SECRET, NOW, "", hex);
	snprintf(h, sizeof h, "t=%d,v1=%s", NOW, hex);
	assert_int_equal(stripe_verify(SECRET, h, "", 0, NOW, 300), MH_OK);
}

static void
test_verify_wrong_secret_or_body(void **state)
{
	(void) state;
	assert_int_equal(stripe_verify("whsec_other", "t=1700000000,v1=" SIG1, body1, strlen(body1), NOW, 300),
	                 MH_ERR_DENIED);
	char changed[sizeof body1];
	memcpy(changed, body1, sizeof body1);
	changed[8] = '2'; /* evt_2 */
	assert_int_equal(verify("t=1700000000,v1=" SIG1, changed), MH_ERR_DENIED);
	/* One byte more, one byte less. */
	assert_int_equal(stripe_verify(SECRET, "t=1700000000,v1=" SIG1, body1, strlen(body1) - 1, NOW, 300),
	                 MH_ERR_DENIED);
	assert_int_equal(verify("t=1700000000,v1=" SIG1, "{\"id\":\"evt_1\",\"object\":\"event\"} "), MH_ERR_DENIED);
	/* The signature is over t too: another t with the same v1 fails. */
	assert_int_equal(verify("t=1700000001,v1=" SIG1, body1), MH_ERR_DENIED);
	/* No secret configured: nothing verifies. */
	assert_int_equal(stripe_verify("", "t=1700000000,v1=" SIG1, body1, strlen(body1), NOW, 300), MH_ERR_DENIED);
	assert_int_equal(stripe_verify(NULL, "t=1700000000,v1=" SIG1, body1, strlen(body1), NOW, 300), MH_ERR_DENIED);
}

static void
test_verify_second_v1_matches(void **state)
{
	(void) state;
	char old[65];
	sign("whsec_rolled_away", NOW, body1, old);
	char h[256];
	snprintf(h, sizeof h, "t=1700000000,v1=%s,v1=" SIG1, old);
	assert_int_equal(verify(h, body1), MH_OK);
	snprintf(h, sizeof h, "t=1700000000,v1=%s,v1=%s", old, old);
	assert_int_equal(verify(h, body1), MH_ERR_DENIED);
	/* A malformed v1 next to a good one does not spoil it. */
	assert_int_equal(verify("t=1700000000,v1=zz,v1=" SIG1, body1), MH_OK);
}

static void
test_verify_time_window(void **state)
{
	(void) state;
	char hex[65], h[128];
	static const struct {
		long offset;
		mh_err want;
	} cases[] = { { -301, MH_ERR_DENIED }, { 301, MH_ERR_DENIED }, { -300, MH_OK }, { 300, MH_OK },
		      { -299, MH_OK },         { 299, MH_OK },         { 0, MH_OK },    { -100000, MH_ERR_DENIED } };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		long t = NOW + cases[i].offset;
		sign(SECRET, t, body1, hex);
		snprintf(h, sizeof h, "t=%ld,v1=%s", t, hex);
		assert_int_equal(verify(h, body1), cases[i].want);
	}
}

static void
test_verify_malformed_headers(void **state)
{
	(void) state;
	static const char *const bad[] = {
		"",
		"v1=" SIG1,                           /* no t */
		"t=1700000000",                       /* no v1 */
		"t=1700000000,v0=" SIG1,              /* only another scheme */
		"t=,v1=" SIG1,                        /* empty t */
		"t=-1700000000,v1=" SIG1,             /* negative t */
		"t=1700000000x,v1=" SIG1,             /* junk in t */
		"t=99999999999999999999999,v1=" SIG1, /* overflowing t */
		"t=1700000000,t=1700000000,v1=" SIG1, /* two t */
		"t=1700000000,v1=" SIG1 "00",         /* long v1 */
		"t=1700000000,v1=0c8670ed",           /* short v1 */
		"t=1700000000,v1=",                   /* empty v1 */
		",,,,=,=,t,v1,==,",                   /* garbage */
		"\x01\x02\xff\xfe",                   /* bytes */
		"t=1700000000;v1=" SIG1,              /* wrong separator */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(verify(bad[i], body1), MH_ERR_DENIED);
	assert_int_equal(stripe_verify(SECRET, NULL, body1, strlen(body1), NOW, 300), MH_ERR_DENIED);

	/* Nine v1 values: more than anyone sends, even when the last matches. */
	struct buf h = BUF_INIT;
	buf_puts(&h, "t=1700000000");
	for (int i = 0; i < 8; i++)
		buf_puts(&h, ",v1=" SIG1);
	assert_int_equal(verify(h.ptr, body1), MH_OK);
	buf_puts(&h, ",v1=" SIG1);
	assert_int_equal(verify(h.ptr, body1), MH_ERR_DENIED);
	buf_reset(&h);

	/* Huge: past 4096 bytes is refused before any parsing. */
	buf_puts(&h, "t=1700000000,v1=" SIG1 ",");
	while (h.len <= STRIPE_MAX_HEADER)
		buf_puts(&h, "v0=aaaaaaaa,");
	assert_int_equal(verify(h.ptr, body1), MH_ERR_DENIED);
	buf_reset(&h);
	for (int i = 0; i < 100000; i++)
		buf_putc(&h, ',');
	assert_int_equal(verify(h.ptr, body1), MH_ERR_DENIED);
	buf_release(&h);
}

/* --- the stub API ------------------------------------------------------ */

struct stub {
	int fd;
	unsigned port;
	int status;         /* what to answer */
	const char *answer; /* JSON */
	pthread_t thread;
	char req[32768]; /* what came: request line, headers, body */
	size_t len;
	const char *body;
};

static void *
stub_main(void *arg)
{
	struct stub *st = arg;
	struct pollfd p = { st->fd, POLLIN, 0 };
	if (poll(&p, 1, 10000) != 1)
		return NULL;
	int c = accept(st->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	size_t want = 0;
	for (;;) {
		ssize_t n = read(c, st->req + st->len, sizeof st->req - 1 - st->len);
		if (n <= 0)
			break;
		st->len += (size_t) n;
		st->req[st->len] = '\0';
		char *end = strstr(st->req, "\r\n\r\n");
		if (end && !want) {
			const char *cl = strcasestr(st->req, "\r\nContent-Length:");
			want = (size_t) (end + 4 - st->req) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (want && st->len >= want) {
			st->body = end + 4;
			break;
		}
	}
	char head[256];
	int hl = snprintf(head, sizeof head,
	                  "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	                  "Connection: close\r\n\r\n",
	                  st->status, strlen(st->answer));
	if (write(c, head, (size_t) hl) < 0 || write(c, st->answer, strlen(st->answer)) < 0)
		perror("stub write");
	close(c);
	return NULL;
}

static void
stub_start(struct stub *st, int status, const char *answer)
{
	memset(st, 0, sizeof *st);
	st->status = status;
	st->answer = answer;
	st->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(st->fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(st->fd, (struct sockaddr *) &a, sizeof a), 0);
	assert_int_equal(listen(st->fd, 4), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(st->fd, (struct sockaddr *) &a, &al), 0);
	st->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&st->thread, NULL, stub_main, st), 0);
}

static void
stub_stop(struct stub *st)
{
	pthread_join(st->thread, NULL);
	close(st->fd);
}

/* A header's value as sent, or NULL. */
static const char *
req_header(struct stub *st, const char *name, char *out, size_t n)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\r\n%s: ", name);
	const char *p = strcasestr(st->req, pat);
	if (!p || (st->body && p > st->body))
		return NULL;
	p += strlen(pat);
	size_t l = strcspn(p, "\r");
	snprintf(out, n, "%.*s", (int) l, p);
	return out;
}

static int
unhex1(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	                              : -1;
}

static void
urldecode(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (p[i] == '%' && i + 2 < n && unhex1(p[i + 1]) >= 0 && unhex1(p[i + 2]) >= 0) {
			out[o++] = (char) (unhex1(p[i + 1]) << 4 | unhex1(p[i + 2]));
			i += 2;
		} else {
			out[o++] = p[i] == '+' ? ' ' : p[i];
		}
	}
	out[o] = '\0';
}

/* A form field of the request body, decoded, or NULL. Every byte outside
 * the unreserved set must arrive percent-encoded. */
static const char *
field(struct stub *st, const char *name, char *out, size_t n)
{
	const char *p = st->body;
	assert_non_null(p);
	while (*p) {
		size_t l = strcspn(p, "&");
		const char *eq = memchr(p, '=', l);
		assert_non_null(eq);
		for (const char *q = p; q < p + l; q++)
			assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%=", *q));
		char k[128];
		urldecode(p, (size_t) (eq - p), k, sizeof k);
		if (strcmp(k, name) == 0) {
			urldecode(eq + 1, (size_t) (p + l - eq - 1), out, n);
			return out;
		}
		p += l + (p[l] == '&');
	}
	return NULL;
}

struct api {
	struct config cfg;
	struct arena *a;
	struct stub st;
};

static void
api_init(struct api *api, const char *key)
{
	char err[256], base[64];
	config_init(&api->cfg);
	snprintf(base, sizeof base, "http://127.0.0.1:%u/", api->st.port);
	assert_int_equal(config_set(&api->cfg, "stripe-api-base", base, err, sizeof err), MH_OK);
	assert_int_equal(config_set(&api->cfg, "stripe-secret-key", key, err, sizeof err), MH_OK);
	api->a = arena_new();
}

static void
api_release(struct api *api)
{
	config_release(&api->cfg);
	arena_free(api->a);
}

static const struct member riley = { 42, "riley+news@demo.test", "Riley Reader", "", ROLE_READER, 0, 0, true };
static const struct plan monthly = { 1, "monthly", "Monthly", 800, "usd", 1, 0, false, "price_1Monthly" };

static void
test_checkout_request(void **state)
{
	(void) state;
	struct api api;
	stub_start(&api.st, 200,
	           "{\"id\":\"cs_test_a1\",\"object\":\"checkout.session\",\"mode\":\"subscription\","
	           "\"url\":\"https://checkout.stripe.com/c/pay/cs_test_a1#fid\"}");
	api_init(&api, "sk_test_4eC39HqLyjWDarjtT1zdp7dc");
	const char *url = NULL;
	char err[256], v[512];
	mh_err rc = stripe_checkout(&api.cfg, api.a, &riley, &monthly, "",
	                            "https://news.example/articles/x?a=1&b=two words", "https://news.example/subscribe",
	                            "idem-key-1", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_OK);
	assert_string_equal(url, "https://checkout.stripe.com/c/pay/cs_test_a1#fid");
	assert_true(strncmp(api.st.req, "POST /v1/checkout/sessions HTTP/1.1\r\n", 37) == 0);
	assert_string_equal(req_header(&api.st, "Authorization", v, sizeof v),
	                    "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc");
	assert_string_equal(req_header(&api.st, "Idempotency-Key", v, sizeof v), "idem-key-1");
	assert_string_equal(req_header(&api.st, "Content-Type", v, sizeof v), "application/x-www-form-urlencoded");
	assert_null(req_header(&api.st, "Expect", v, sizeof v));
	assert_string_equal(field(&api.st, "mode", v, sizeof v), "subscription");
	assert_string_equal(field(&api.st, "line_items[0][price]", v, sizeof v), "price_1Monthly");
	assert_string_equal(field(&api.st, "line_items[0][quantity]", v, sizeof v), "1");
	assert_string_equal(field(&api.st, "client_reference_id", v, sizeof v), "42");
	assert_string_equal(field(&api.st, "customer_email", v, sizeof v), "riley+news@demo.test");
	assert_null(field(&api.st, "customer", v, sizeof v));
	assert_string_equal(field(&api.st, "success_url", v, sizeof v),
	                    "https://news.example/articles/x?a=1&b=two words");
	assert_string_equal(field(&api.st, "cancel_url", v, sizeof v), "https://news.example/subscribe");
	assert_string_equal(field(&api.st, "metadata[plan]", v, sizeof v), "monthly");
	assert_null(field(&api.st, "subscription_data[trial_period_days]", v, sizeof v));
	api_release(&api);

	/* A known customer is named instead of the e-mail; a trial is passed on. */
	struct plan trial = monthly;
	trial.trial_days = 14;
	stub_start(&api.st, 200, "{\"url\":\"https://checkout.stripe.com/c/pay/cs_test_b2\"}");
	api_init(&api, "sk_test_x");
	rc = stripe_checkout(&api.cfg, api.a, &riley, &trial, "cus_NffrFeUfNV2Hib", "https://n.example/",
	                     "https://n.example/subscribe", "idem-key-2", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_OK);
	assert_string_equal(field(&api.st, "customer", v, sizeof v), "cus_NffrFeUfNV2Hib");
	assert_null(field(&api.st, "customer_email", v, sizeof v));
	assert_string_equal(field(&api.st, "subscription_data[trial_period_days]", v, sizeof v), "14");
	assert_string_equal(req_header(&api.st, "Idempotency-Key", v, sizeof v), "idem-key-2");
	api_release(&api);
}

static void
test_portal_request(void **state)
{
	(void) state;
	struct api api;
	stub_start(&api.st, 200,
	           "{\"id\":\"bps_1\",\"object\":\"billing_portal.session\","
	           "\"url\":\"https://billing.stripe.com/p/session/test_YWNjdF8x\"}");
	api_init(&api, "sk_test_portal");
	const char *url = NULL;
	char err[256], v[512];
	mh_err rc = stripe_portal(&api.cfg, api.a, "cus_NffrFeUfNV2Hib", "https://news.example/account/billing",
	                          "portal-key", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_OK);
	assert_string_equal(url, "https://billing.stripe.com/p/session/test_YWNjdF8x");
	assert_true(strncmp(api.st.req, "POST /v1/billing_portal/sessions HTTP/1.1\r\n", 43) == 0);
	assert_string_equal(req_header(&api.st, "Authorization", v, sizeof v), "Bearer sk_test_portal");
	assert_string_equal(req_header(&api.st, "Idempotency-Key", v, sizeof v), "portal-key");
	assert_string_equal(field(&api.st, "customer", v, sizeof v), "cus_NffrFeUfNV2Hib");
	assert_string_equal(field(&api.st, "return_url", v, sizeof v), "https://news.example/account/billing");
	api_release(&api);

	/* No customer: refused before any call. */
	api_init(&api, "sk_test_portal");
	assert_int_equal(stripe_portal(&api.cfg, api.a, "", "https://n.example/", "k", &url, err, sizeof err),
	                 MH_ERR_INVALID);
	api_release(&api);
}

static void
test_stripe_errors(void **state)
{
	(void) state;
	struct api api;
	const char *url = NULL;
	char err[256];
	stub_start(&api.st, 400,
	           "{\"error\":{\"code\":\"resource_missing\",\"message\":\"No such price: 'price_1Monthly'\","
	           "\"param\":\"line_items[0][price]\",\"type\":\"invalid_request_error\"}}");
	api_init(&api, "sk_test_abc");
	mh_err rc = stripe_checkout(&api.cfg, api.a, &riley, &monthly, NULL, "https://n.example/",
	                            "https://n.example/subscribe", "k1", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_ERR_IO);
	assert_string_equal(err, "No such price: 'price_1Monthly'");
	api_release(&api);

	/* Stripe's message never carries the secret key out. */
	stub_start(&api.st, 401,
	           "{\"error\":{\"message\":\"Invalid API Key provided: sk_test_SECRETKEY\","
	           "\"type\":\"invalid_request_error\"}}");
	api_init(&api, "sk_test_SECRETKEY");
	rc = stripe_portal(&api.cfg, api.a, "cus_1", "https://n.example/", "k2", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_ERR_IO);
	assert_null(strstr(err, "SECRETKEY"));
	assert_non_null(strstr(err, "Invalid API Key provided: ***"));
	api_release(&api);

	/* Not JSON, or no url: an error too. */
	stub_start(&api.st, 502, "<html>bad gateway</html>");
	api_init(&api, "sk_test_abc");
	rc = stripe_portal(&api.cfg, api.a, "cus_1", "https://n.example/", "k3", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_ERR_IO);
	assert_non_null(strstr(err, "502"));
	api_release(&api);
	stub_start(&api.st, 200, "{\"id\":\"bps_1\"}");
	api_init(&api, "sk_test_abc");
	rc = stripe_portal(&api.cfg, api.a, "cus_1", "https://n.example/", "k4", &url, err, sizeof err);
	stub_stop(&api.st);
	assert_int_equal(rc, MH_ERR_IO);
	api_release(&api);

	/* Nobody listening: an error, quickly. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &sl), 0);
	api.st.port = ntohs(sa.sin_port);
	close(fd);
	api_init(&api, "sk_test_abc");
	rc = stripe_portal(&api.cfg, api.a, "cus_1", "https://n.example/", "k5", &url, err, sizeof err);
	assert_int_equal(rc, MH_ERR_IO);
	assert_non_null(strstr(err, "stripe: "));
	api_release(&api);

	/* No secret key, no price, a key with a line break: refused before any call. */
	config_init(&api.cfg);
	api.a = arena_new();
	assert_int_equal(stripe_portal(&api.cfg, api.a, "cus_1", "https://n.example/", "k", &url, err, sizeof err),
	                 MH_ERR_INVALID);
	assert_non_null(strstr(err, "stripe-secret-key"));
	assert_int_equal(config_set(&api.cfg, "stripe-secret-key", "sk_test_abc", err, sizeof err), MH_OK);
	struct plan noprice = monthly;
	noprice.provider_price_id = "";
	assert_int_equal(stripe_checkout(&api.cfg, api.a, &riley, &noprice, NULL, "https://n.example/",
	                                 "https://n.example/", "k", &url, err, sizeof err),
	                 MH_ERR_INVALID);
	/* The fix it names is a command that exists. */
	assert_non_null(strstr(err, "masthead plan price monthly PRICE_ID"));
	assert_int_equal(
	        stripe_portal(&api.cfg, api.a, "cus_1", "https://n.example/", "k\r\nX-Evil: 1", &url, err, sizeof err),
	        MH_ERR_INVALID);
	api_release(&api);
}

/* --- events ------------------------------------------------------------ */

struct fixture {
	char dir[64];
	struct store *s;
	struct config cfg;
	struct arena *a;
	struct theme th;
	struct billing b;
	int64_t member, other, plan, yearly;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/mh-stripe-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char url[128], err[256];
	snprintf(url, sizeof url, "sqlite:%s/t.db", f->dir);
	int applied;
	if (store_open(url, &f->s, err, sizeof err) || store_migrate(f->s, &applied))
		return -1;
	config_init(&f->cfg);
	if (config_set(&f->cfg, "data", f->dir, err, sizeof err) || theme_load(&f->th, NULL, err, sizeof err))
		return -1;
	struct member m = { 0, "riley@demo.test", "Riley Reader", "", ROLE_READER, NOW, 0, true };
	struct member o = { 0, "other@demo.test", "Olive Other", "", ROLE_READER, NOW, 0, true };
	struct plan p = { 0, "monthly", "Monthly", 800, "usd", 1, 0, false, "price_1Monthly" };
	struct plan y = { 0, "yearly", "Yearly", 8000, "usd", 12, 0, false, "price_1Yearly" };
	if (store_member_create(f->s, &m, &f->member) || store_member_create(f->s, &o, &f->other) ||
	    store_plan_upsert(f->s, &p, &f->plan) || store_plan_upsert(f->s, &y, &f->yearly))
		return -1;
	f->a = arena_new();
	f->b = (struct billing){ f->s, &f->cfg, f->th.templates, NULL, &billing_stripe_provider };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	config_release(&f->cfg);
	theme_release(&f->th);
	arena_free(f->a);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	int rc = system(cmd);
	free(f);
	return rc;
}

static mh_err
apply(struct fixture *f, const char *json)
{
	char err[256];
	mh_err rc = stripe_apply_event(&f->b, f->a, json, strlen(json), NOW, err, sizeof err);
	if (rc != MH_OK)
		assert_true(err[0]); /* every failure says why */
	return rc;
}

static mh_err applyf(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static mh_err
applyf(struct fixture *f, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	mh_err rc = apply(f, b.ptr);
	buf_release(&b);
	return rc;
}

static struct subscription
sub_of(struct fixture *f, int64_t member)
{
	struct subscription sub;
	assert_int_equal(store_subscription_by_member(f->s, f->a, member, &sub), MH_OK);
	return sub;
}

static mh_err
checkout(struct fixture *f, const char *evt, int64_t member, const char *sub, const char *cus, const char *paid,
         int64_t created)
{
	return applyf(
	        f,
	        "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"checkout.session.completed\",\"created\":%lld,"
	        "\"data\":{\"object\":{\"id\":\"cs_test_1\",\"object\":\"checkout.session\",\"mode\":\"subscription\","
	        "\"client_reference_id\":\"%lld\",\"customer\":\"%s\",\"subscription\":\"%s\","
	        "\"payment_status\":\"%s\",\"metadata\":{\"plan\":\"monthly\"}}}}",
	        evt, (long long) created, (long long) member, cus, sub, paid);
}

static mh_err
sub_event(struct fixture *f, const char *evt, const char *type, const char *sub, const char *cus, const char *status,
          int64_t created, int64_t start, int64_t end, const char *price)
{
	return applyf(f,
	              "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"%s\",\"created\":%lld,"
	              "\"data\":{\"object\":{\"id\":\"%s\",\"object\":\"subscription\",\"customer\":\"%s\","
	              "\"status\":\"%s\",\"current_period_start\":%lld,\"current_period_end\":%lld,"
	              "\"cancel_at_period_end\":false,\"canceled_at\":null,\"trial_end\":null,"
	              "\"items\":{\"object\":\"list\",\"data\":[{\"id\":\"si_1\",\"price\":{\"id\":\"%s\"}}]}}}}",
	              evt, type, (long long) created, sub, cus, status, (long long) start, (long long) end, price);
}

static mh_err
invoice_event(struct fixture *f, const char *evt, const char *type, const char *sub, const char *cus, int64_t created,
              int64_t end)
{
	return applyf(f,
	              "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"%s\",\"created\":%lld,"
	              "\"data\":{\"object\":{\"id\":\"in_1\",\"object\":\"invoice\",\"customer\":\"%s\","
	              "\"subscription\":\"%s\",\"billing_reason\":\"subscription_cycle\",\"currency\":\"usd\","
	              "\"amount_due\":800,\"amount_paid\":%d,"
	              "\"lines\":{\"data\":[{\"period\":{\"start\":%lld,\"end\":%lld}}]}}}}",
	              evt, type, (long long) created, cus, sub, strcmp(type, "invoice.paid") == 0 ? 800 : 0,
	              (long long) (end - 30 * 86400), (long long) end);
}

static size_t
outbox_count(struct fixture *f, const char *subject_part)
{
	struct outbox_mail *m;
	size_t n, hits = 0;
	assert_int_equal(store_outbox_list(f->s, f->a, &m, &n), MH_OK);
	for (size_t i = 0; i < n; i++)
		hits += strstr(m[i].subject, subject_part) != NULL;
	return hits;
}

static void
test_events_lifecycle(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(checkout(f, "evt_1", f->member, "sub_1", "cus_1", "unpaid", NOW - 100), MH_OK);
	struct subscription s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "incomplete");
	assert_string_equal(s.provider, "stripe");
	assert_string_equal(s.provider_id, "sub_1");
	assert_string_equal(s.provider_customer, "cus_1");
	assert_int_equal(s.plan_id, f->plan);
	assert_int_equal(s.provider_updated, 0);

	/* Active, on the yearly price now. */
	assert_int_equal(sub_event(f, "evt_2", "customer.subscription.updated", "sub_1", "cus_1", "active", NOW - 50,
	                           NOW - 60, NOW + 86400 * 30, "price_1Yearly"),
	                 MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "active");
	assert_int_equal(s.period_start, NOW - 60);
	assert_int_equal(s.period_end, NOW + 86400 * 30);
	assert_int_equal(s.provider_updated, NOW - 50);
	assert_int_equal(s.plan_id, f->yearly);

	/* The same id again, whatever it says: nothing changes. */
	assert_int_equal(sub_event(f, "evt_2", "customer.subscription.updated", "sub_1", "cus_1", "unpaid", NOW - 10,
	                           NOW, NOW, "price_1Monthly"),
	                 MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "active");
	assert_int_equal(s.plan_id, f->yearly);

	/* An older event arriving late does not move it backwards. */
	assert_int_equal(sub_event(f, "evt_0", "customer.subscription.updated", "sub_1", "cus_1", "past_due", NOW - 70,
	                           NOW - 60, NOW + 100, "price_1Monthly"),
	                 MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "active");
	assert_int_equal(s.grace_until, 0);

	/* A failed renewal: past_due with grace, and one mail. */
	assert_int_equal(invoice_event(f, "evt_3", "invoice.payment_failed", "sub_1", "cus_1", NOW - 40, NOW), MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "past_due");
	assert_int_equal(s.grace_until, NOW + 7 * 86400);
	assert_int_equal(outbox_count(f, "did not go through"), 1);
	assert_int_equal(invoice_event(f, "evt_3", "invoice.payment_failed", "sub_1", "cus_1", NOW - 40, NOW), MH_OK);
	assert_int_equal(outbox_count(f, "did not go through"), 1);
	/* Stripe's own past_due update keeps the grace already given. */
	assert_int_equal(sub_event(f, "evt_4", "customer.subscription.updated", "sub_1", "cus_1", "past_due", NOW - 39,
	                           NOW - 60, NOW + 86400 * 30, "price_1Yearly"),
	                 MH_OK);
	assert_int_equal(sub_of(f, f->member).grace_until, NOW + 7 * 86400);

	/* Paid: active, no grace, the invoice's period, a receipt. */
	assert_int_equal(invoice_event(f, "evt_5", "invoice.paid", "sub_1", "cus_1", NOW - 30, NOW + 86400 * 60),
	                 MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "active");
	assert_int_equal(s.grace_until, 0);
	assert_int_equal(s.period_end, NOW + 86400 * 60);
	assert_int_equal(outbox_count(f, "receipt"), 1);

	/* Deleted: canceled, and access ends now rather than at period end. */
	assert_int_equal(applyf(f,
	                        "{\"id\":\"evt_6\",\"type\":\"customer.subscription.deleted\",\"created\":%d,"
	                        "\"data\":{\"object\":{\"id\":\"sub_1\",\"customer\":\"cus_1\",\"status\":\"canceled\","
	                        "\"canceled_at\":%d,\"ended_at\":%d}}}",
	                        NOW - 20, NOW - 20, NOW - 20),
	                 MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "canceled");
	assert_int_equal(s.canceled_at, NOW - 20);
	assert_int_equal(s.period_end, NOW - 20);
	/* A late invoice.paid does not bring it back. */
	assert_int_equal(invoice_event(f, "evt_7", "invoice.paid", "sub_1", "cus_1", NOW - 10, NOW + 86400 * 90),
	                 MH_OK);
	assert_string_equal(sub_status_name(sub_of(f, f->member).status), "canceled");
}

static void
test_events_unknown_are_retried(void **state)
{
	struct fixture *f = *state;
	/* Before the checkout is known: NOTFOUND, and the id stays unrecorded. */
	assert_int_equal(sub_event(f, "evt_a", "customer.subscription.created", "sub_9", "cus_9", "active", NOW - 90,
	                           NOW - 90, NOW + 86400 * 30, "price_1Monthly"),
	                 MH_ERR_NOTFOUND);
	assert_int_equal(invoice_event(f, "evt_b", "invoice.paid", "sub_9", "cus_9", NOW - 89, NOW + 86400 * 30),
	                 MH_ERR_NOTFOUND);
	assert_int_equal(checkout(f, "evt_c", 999999, "sub_9", "cus_9", "paid", NOW - 80), MH_ERR_NOTFOUND);
	struct subscription s;
	assert_int_equal(store_subscription_by_member(f->s, f->a, f->member, &s), MH_ERR_NOTFOUND);

	assert_int_equal(checkout(f, "evt_d", f->member, "sub_9", "cus_9", "paid", NOW - 80), MH_OK);
	assert_string_equal(sub_status_name(sub_of(f, f->member).status), "active");
	/* The retries apply now, older than the checkout or not. */
	assert_int_equal(sub_event(f, "evt_a", "customer.subscription.created", "sub_9", "cus_9", "trialing", NOW - 90,
	                           NOW - 90, NOW + 86400 * 30, "price_1Monthly"),
	                 MH_OK);
	s = sub_of(f, f->member);
	assert_string_equal(sub_status_name(s.status), "trialing");
	assert_int_equal(s.period_end, NOW + 86400 * 30);
	/* The checkout again (another delivery) does not undo what Stripe said since. */
	assert_int_equal(checkout(f, "evt_d2", f->member, "sub_9", "cus_9", "unpaid", NOW - 80), MH_OK);
	assert_string_equal(sub_status_name(sub_of(f, f->member).status), "trialing");
}

static void
test_events_other_subscription(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(checkout(f, "evt_1", f->other, "sub_new", "cus_o", "paid", NOW - 50), MH_OK);
	/* The customer's old subscription ending does not cancel the new one. */
	assert_int_equal(
	        applyf(f,
	               "{\"id\":\"evt_2\",\"type\":\"customer.subscription.deleted\",\"created\":%d,"
	               "\"data\":{\"object\":{\"id\":\"sub_old\",\"customer\":\"cus_o\",\"status\":\"canceled\"}}}",
	               NOW - 40),
	        MH_OK);
	assert_string_equal(sub_status_name(sub_of(f, f->other).status), "active");
	assert_int_equal(sub_event(f, "evt_3", "customer.subscription.updated", "sub_old", "cus_o", "past_due",
	                           NOW - 30, NOW - 30, NOW, "price_1Monthly"),
	                 MH_OK);
	assert_string_equal(sub_status_name(sub_of(f, f->other).status), "active");
	assert_string_equal(sub_of(f, f->other).provider_id, "sub_new");
	/* Once it has ended, a new subscription of the customer takes its place. */
	assert_int_equal(
	        applyf(f,
	               "{\"id\":\"evt_4\",\"type\":\"customer.subscription.deleted\",\"created\":%d,"
	               "\"data\":{\"object\":{\"id\":\"sub_new\",\"customer\":\"cus_o\",\"status\":\"canceled\"}}}",
	               NOW - 20),
	        MH_OK);
	assert_int_equal(sub_event(f, "evt_5", "customer.subscription.created", "sub_next", "cus_o", "active", NOW - 10,
	                           NOW - 10, NOW + 86400 * 30, "price_1Monthly"),
	                 MH_OK);
	struct subscription s = sub_of(f, f->other);
	assert_string_equal(sub_status_name(s.status), "active");
	assert_string_equal(s.provider_id, "sub_next");
}

static void
test_events_malformed_and_unhandled(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"{}",
		"{\"id\":\"evt_x\",\"type\":\"invoice.paid\",\"created\":1}",
		"{\"id\":\"evt_x\",\"type\":\"invoice.paid\",\"created\":\"1\",\"data\":{\"object\":{}}}",
		"{\"id\":7,\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{}}}",
		"{\"id\":\"evt_x\",\"id\":\"evt_y\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{}}}",
		"{\"id\":\"evt_x\",\"type\":\"customer.subscription.updated\",\"created\":1,"
		"\"data\":{\"object\":{\"id\":\"sub_1\",\"status\":\"sleeping\"}}}",
		"{\"id\":\"evt_x\",\"type\":\"checkout.session.completed\",\"created\":1,"
		"\"data\":{\"object\":{\"mode\":\"subscription\",\"client_reference_id\":\"1\"}}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(apply(f, bad[i]), MH_ERR_INVALID);
	/* Deep nesting is refused by the parser, not by the stack. */
	struct buf deep = BUF_INIT;
	for (int i = 0; i < 100000; i++)
		buf_putc(&deep, '[');
	assert_int_equal(apply(f, deep.ptr), MH_ERR_INVALID);
	buf_release(&deep);

	/* An unhandled type is recorded and ignored; so is a checkout not from masthead. */
	const char *other = "{\"id\":\"evt_u\",\"type\":\"customer.created\",\"created\":1700000000,"
	                    "\"data\":{\"object\":{\"id\":\"cus_1\"}}}";
	assert_int_equal(apply(f, other), MH_OK);
	assert_int_equal(apply(f, other), MH_OK);
	assert_int_equal(store_billing_event_record(f->s, "stripe", "evt_u", "customer.created", 1, NOW),
	                 MH_ERR_CONFLICT);
	assert_int_equal(apply(f, "{\"id\":\"evt_p\",\"type\":\"checkout.session.completed\",\"created\":1700000000,"
	                          "\"data\":{\"object\":{\"mode\":\"payment\",\"client_reference_id\":\"1\"}}}"),
	                 MH_OK);
	assert_int_equal(apply(f, "{\"id\":\"evt_q\",\"type\":\"checkout.session.completed\",\"created\":1700000000,"
	                          "\"data\":{\"object\":{\"mode\":\"subscription\",\"subscription\":\"sub_z\"}}}"),
	                 MH_OK);
}

/* The provider is chosen in one place, and each one fills the table it needs. */
static void
test_provider_named(void **state)
{
	assert_ptr_equal(billing_provider_named("stripe"), &billing_stripe_provider);
	assert_ptr_equal(billing_provider_named("test"), &billing_test_provider);
	assert_ptr_equal(billing_provider_named(""), &billing_test_provider);
	assert_null(billing_provider_named("paypal"));
	/* Stripe charges on its own and sends events; the test provider charges and sends none. */
	assert_null(billing_stripe_provider.charge);
	assert_non_null(billing_stripe_provider.apply_event);
	assert_non_null(billing_stripe_provider.checkout);
	assert_non_null(billing_test_provider.charge);
	assert_null(billing_test_provider.apply_event);
	assert_non_null(billing_test_provider.checkout);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provider_named),
		cmocka_unit_test(test_verify_valid),
		cmocka_unit_test(test_verify_wrong_secret_or_body),
		cmocka_unit_test(test_verify_second_v1_matches),
		cmocka_unit_test(test_verify_time_window),
		cmocka_unit_test(test_verify_malformed_headers),
		cmocka_unit_test(test_checkout_request),
		cmocka_unit_test(test_portal_request),
		cmocka_unit_test(test_stripe_errors),
		cmocka_unit_test_setup_teardown(test_events_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_unknown_are_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_other_subscription, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_malformed_and_unhandled, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
