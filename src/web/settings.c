/* settings.c: the newsroom's settings over the operator's (settings.h). */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "mail/mail.h"
#include "web/app.h"
#include "web/settings.h"
#include "core/banned.h"

const struct settings_field settings_fields[] = {
	{ "site-name", "Site", "Site name", "Shown in every page header and mail.", SETTING_TEXT, 1, 120, NULL },
	{ "site-tagline", "Site", "Tagline", "One line under the site name; may be empty.", SETTING_TEXT, 0, 200,
	  NULL },
	{ "public-url", "Site", "Public address", "How readers reach the site, e.g. https://news.example.",
	  SETTING_TEXT, 0, 300, NULL },
	{ "sections", "Site", "Sections", "Tags in the front page's menu, in order, separated by commas.", SETTING_TEXT,
	  0, 500, NULL },
	{ "teaser-paragraphs", "Paywall", "Teaser length",
	  "Paragraphs of a gated article shown before the paywall when it has no paywall marker.", SETTING_NUMBER, 1,
	  20, NULL },
	{ "meter-articles", "Paywall", "Free paid articles a month",
	  "Metered mode: paid articles a reader without a subscription may open each month (0: off).", SETTING_NUMBER,
	  0, 100, NULL },
	{ "auto-paywall-days", "Paywall", "Paywall after days",
	  "Public articles become paid this many days after publication (0: never).", SETTING_NUMBER, 0, 3650, NULL },
	{ "grace-days", "Billing", "Grace period in days",
	  "How long a subscription whose payment failed keeps full access.", SETTING_NUMBER, 0, 60, NULL },
	{ "billing-provider", "Billing", "Payment provider", "test takes only test cards; stripe takes real payments.",
	  SETTING_CHOICE, 0, 0, "test|stripe" },
	{ "stripe-secret-key", "Billing", "Stripe secret key", "Starts with sk_.", SETTING_SECRET, 0, 200, NULL },
	{ "stripe-webhook-secret", "Billing", "Stripe webhook signing secret", "Starts with whsec_.", SETTING_SECRET, 0,
	  200, NULL },
	{ "mail-from", "Mail", "Sender", "e.g. The Ledger <news@ledger.example>; empty: derived from the site name.",
	  SETTING_TEXT, 0, 200, NULL },
	{ "smtp-url", "Mail", "SMTP server",
	  "smtp://user:password@host:587 or smtps://...; empty writes mail as files into the outbox folder.",
	  SETTING_SECRET, 0, 500, NULL },
	{ "staff-device-check", "Staff security", "Confirm new devices",
	  "Editors and admins signing in from a new device confirm it with a code sent by mail.", SETTING_BOOL, 0, 0,
	  NULL },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};

struct app_settings {
	pthread_mutex_t lock;  /* one rebuild at a time */
	int64_t version;       /* atomic: the settings' version the snapshot was built from */
	int64_t content_seen;  /* atomic: the content version last looked at */
	struct config **snaps; /* every snapshot made, freed at settings_stop */
	size_t n, cap;
	unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
};

static const struct settings_field *
field_named(const char *key)
{
	for (const struct settings_field *f = settings_fields; f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

const char *
settings_seal_secret(struct arena *a, const struct app *app, const char *name, const char *plain)
{
	size_t n = strlen(plain);
	size_t total = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + n + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned char *box = arena_alloc(a, total);
	randombytes_buf(box, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	unsigned long long clen;
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen,
	                                           (const unsigned char *) plain, n, (const unsigned char *) name,
	                                           strlen(name), NULL, box, app->settings->key);
	char *hex = arena_alloc(a, total * 2 + 1);
	sodium_bin2hex(hex, total * 2 + 1, box, total);
	return hex;
}

const char *
settings_open_secret(struct arena *a, const struct app *app, const char *name, const char *sealed)
{
	size_t hl = strlen(sealed);
	size_t min = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (hl % 2 || hl / 2 < min)
		return NULL;
	size_t total = hl / 2, got;
	unsigned char *box = arena_alloc(a, total);
	if (sodium_hex2bin(box, total, sealed, hl, NULL, &got, NULL) || got != total)
		return NULL;
	char *plain = arena_alloc(a, total - min + 1);
	unsigned long long plen;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            (unsigned char *) plain, &plen, NULL, box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	            total - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, (const unsigned char *) name, strlen(name),
	            box, app->settings->key))
		return NULL;
	plain[plen] = '\0';
	if (strlen(plain) != plen) /* a NUL inside: not ours */
		return NULL;
	return plain;
}

/* The operator's settings with the store's rows over them; a row the
 * operator's value wins over, or that no longer reads, is skipped. */
static struct config *
build(const struct app *app, struct arena *a, const struct setting *rows, size_t n)
{
	struct config *c = xmalloc(sizeof *c);
	config_copy(c, app->base);
	for (size_t i = 0; i < n; i++) {
		if (!field_named(rows[i].name) || config_fixed(app->base, rows[i].name))
			continue;
		const char *v =
		        rows[i].secret ? settings_open_secret(a, app, rows[i].name, rows[i].value) : rows[i].value;
		char err[256];
		if (!v)
			log_error("a stored secret setting cannot be read (was --secret changed?); enter it again",
			          "setting=%s", rows[i].name);
		else if (config_set(c, rows[i].name, v, err, sizeof err))
			log_error("a stored setting is not valid; it is ignored", "setting=%s", rows[i].name);
	}
	config_finish(c);
	return c;
}

/* Under s->lock. */
static mh_err
rebuild(struct app *app)
{
	struct app_settings *s = app->settings;
	struct arena *a = arena_new();
	struct setting *rows;
	size_t n;
	int64_t version;
	mh_err err = store_settings_get(app->store, a, &rows, &n, &version);
	if (err) {
		arena_free(a);
		return err;
	}
	struct config *c = build(app, a, rows, n);
	arena_free(a);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->snaps = xrealloc(s->snaps, s->cap * sizeof *s->snaps);
	}
	s->snaps[s->n++] = c;
	/* The billing code and the mail sender read their own pointers. */
	const struct billing_provider *p = billing_provider_named(c->billing_provider);
	if (p)
		app->billing.provider = p;
	app->billing.cfg = c;
	mailer_set_config(app->mailer, c);
	app->cfg = c;
	__atomic_store_n(&s->version, version, __ATOMIC_RELEASE);
	return MH_OK;
}

mh_err
settings_start(struct app *app)
{
	struct app_settings *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	/* Secrets are sealed under a key of their own, derived from the site
	 * secret, so that nothing else signed with it opens them. */
	crypto_generichash(s->key, sizeof s->key, (const unsigned char *) "masthead settings secrets", 25, app->secret,
	                   SECRET_BYTES);
	app->settings = s;
	pthread_mutex_lock(&s->lock);
	mh_err err = rebuild(app);
	pthread_mutex_unlock(&s->lock);
	return err;
}

mh_err
settings_reload(struct app *app)
{
	struct app_settings *s = app->settings;
	if (!s)
		return MH_OK;
	pthread_mutex_lock(&s->lock);
	mh_err err = rebuild(app);
	pthread_mutex_unlock(&s->lock);
	return err;
}

void
settings_follow(struct app *app, int64_t content_version)
{
	struct app_settings *s = app->settings;
	if (!s || __atomic_load_n(&s->content_seen, __ATOMIC_ACQUIRE) == content_version)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->content_seen != content_version) {
		int64_t v;
		mh_err err = store_settings_version(app->store, &v);
		if (!err && v != __atomic_load_n(&s->version, __ATOMIC_ACQUIRE)) {
			err = rebuild(app);
			if (!err)
				log_info("settings reloaded", "version=%lld", (long long) v);
		}
		if (err)
			log_error("cannot read the settings", "error=\"%s\"", store_errmsg(app->store));
		else
			__atomic_store_n(&s->content_seen, content_version, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
}

void
settings_stop(struct app *app)
{
	struct app_settings *s = app->settings;
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		config_release(s->snaps[i]);
		free(s->snaps[i]);
	}
	free(s->snaps);
	pthread_mutex_destroy(&s->lock);
	sodium_memzero(s->key, sizeof s->key);
	free(s);
	app->settings = NULL;
}
