#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

#define KEY(n, t, f, d, h)                                                                                             \
	{                                                                                                              \
		n, t, offsetof(struct config, f), d, h                                                                 \
	}

const struct config_key config_keys[] = {
	KEY("config", CONFIG_STR, config_file, "", "ini file to read settings from"),
	KEY("data", CONFIG_STR, data, "./data", "data directory (database, outbox, secret key)"),
	KEY("db", CONFIG_STR, db, "", "database URL: sqlite:PATH (default sqlite:DATA/masthead.db) or postgres://..."),
	KEY("listen", CONFIG_STR, listen, "127.0.0.1:8080", "address and port to serve on"),
	KEY("public-url", CONFIG_STR, public_url, "", "the site's public base URL (default http://LISTEN)"),
	KEY("site-name", CONFIG_STR, site_name, "The Harbor Vale Ledger", "site name shown in every page header"),
	KEY("site-tagline", CONFIG_STR, site_tagline, "Independent news for Harbor Vale and the coast",
	    "one line under the site name"),
	KEY("theme", CONFIG_STR, theme, "", "theme folder with templates/ and static/ (default: the built-in theme)"),
	KEY("log-level", CONFIG_STR, log_level, "info", "debug, info, warn or error"),
	KEY("threads", CONFIG_LONG, threads, "0", "worker threads (0: one per core)"),
	KEY("max-connections", CONFIG_LONG, max_connections, "1024", "most simultaneous connections"),
	KEY("timeout", CONFIG_LONG, timeout, "30", "seconds an idle connection is kept"),
	KEY("max-body", CONFIG_LONG, max_body, "1048576", "largest request body in bytes (413 beyond)"),
	KEY("max-header", CONFIG_LONG, max_header, "16384", "memory for a request's headers in bytes (431 beyond)"),
	KEY("page-size", CONFIG_LONG, page_size, "20", "articles per listing page"),
	KEY("teaser-paragraphs", CONFIG_LONG, teaser_paragraphs, "2",
	    "teaser length in paragraphs when there is no paywall marker"),
	KEY("max-import-bytes", CONFIG_LONG, max_import_bytes, "1048576", "largest file import accepts"),
	KEY("access-log", CONFIG_BOOL, access_log, "true", "log every request in logfmt"),
	KEY("page-cache", CONFIG_BOOL, page_cache, "true",
	    "keep public pages for visitors without cookies in memory, until content changes or 60 s pass"),
	KEY("recheck-ms", CONFIG_LONG, recheck_ms, "1000",
	    "milliseconds between reads of the store's versions, which bring other processes' and nodes' changes (0: every request)"),
	KEY("smtp-url", CONFIG_STR, smtp_url, "",
	    "SMTP server for mail, e.g. smtp://user:pass@host:587 (STARTTLS) or smtps://...; empty writes .eml files under DATA/outbox/"),
	KEY("mail-from", CONFIG_STR, mail_from, "The Harbor Vale Ledger <no-reply@localhost>", "sender of every mail"),
	KEY("mail-retry-base", CONFIG_LONG, mail_retry_base, "30",
	    "seconds before a failed mail is retried; doubles each attempt, at most an hour"),
	KEY("session-days", CONFIG_LONG, session_days, "30", "days a session lasts without use (each use extends it)"),
	KEY("trusted-proxy", CONFIG_STR, trusted_proxy, "loopback",
	    "reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: loopback, none, or addresses and networks (10.0.0.5, 10.1.0.0/16)"),
	KEY("meter-articles", CONFIG_LONG, meter_articles, "0",
	    "metered mode: paid articles a month that anonymous readers and free members may read (0: off)"),
	KEY("auto-paywall-days", CONFIG_LONG, auto_paywall_days, "0",
	    "public articles become paid this many days after publication (0: off)"),
	KEY("gift-max-uses", CONFIG_LONG, gift_max_uses, "10", "readers one gift link opens an article for"),
	KEY("gift-days", CONFIG_LONG, gift_days, "30", "days a gift link works"),
	KEY("grace-days", CONFIG_LONG, grace_days, "7", "days a subscription whose payment failed keeps full access"),
	KEY("retry-days", CONFIG_STR, retry_days, "1,3,5",
	    "days after a failed renewal to retry the charge, comma-separated"),
	KEY("billing-interval", CONFIG_LONG, billing_interval, "60",
	    "seconds between billing runs in serve (0: no scheduler)"),
	KEY("billing-provider", CONFIG_STR, billing_provider, "test", "test (built in, test cards only) or stripe"),
	KEY("stripe-secret-key", CONFIG_STR, stripe_secret_key, "", "Stripe secret API key (sk_...)"),
	KEY("stripe-webhook-secret", CONFIG_STR, stripe_webhook_secret, "",
	    "Stripe webhook signing secret (whsec_...)"),
	KEY("stripe-api-base", CONFIG_STR, stripe_api_base, "https://api.stripe.com", "Stripe API address"),
	KEY("rate-limit", CONFIG_LONG, rate_limit, "30",
	    "sign-in, link and reset attempts per address per 10 minutes (a third of it per e-mail, at least 3)"),
	KEY("password-threads", CONFIG_LONG, password_threads, "1",
	    "threads that check and hash passwords, so sign-ins never hold up page requests (1 to 64)"),
	KEY("password-memory-mib", CONFIG_LONG, password_memory_mib, "19",
	    "memory of one password hash in MiB (argon2id, 2 passes; 19 to 4096); hashes move to it at the next sign-in"),
	KEY("secret", CONFIG_STR, secret, "",
	    "key for CSRF tokens and signed cookies, 32+ characters, the same on every node (default: DATA/secret.key, made on first start)"),
	KEY("port", CONFIG_LONG, port, "8080", "demo only: port on 127.0.0.1 (0 picks a free one)"),
	{ NULL, 0, 0, NULL, NULL },
};

const struct config_key *
config_find(const char *name)
{
	for (const struct config_key *k = config_keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

mh_err
config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
	const struct config_key *k = config_find(name);
	if (!k) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return MH_ERR_INVALID;
	}
	void *field = (char *) c + k->offset;
	switch (k->type) {
	case CONFIG_STR: {
		char **s = field;
		free(*s);
		*s = xstrdup(value);
		break;
	}
	case CONFIG_LONG: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < 0) {
			snprintf(err, errlen, "%s: '%s' is not a non-negative whole number", name, value);
			return MH_ERR_INVALID;
		}
		*(long *) field = v;
		break;
	}
	case CONFIG_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "1")) {
			*(bool *) field = true;
		} else if (!strcmp(value, "false") || !strcmp(value, "off") || !strcmp(value, "no") ||
		           !strcmp(value, "0")) {
			*(bool *) field = false;
		} else {
			snprintf(err, errlen, "%s: '%s' is not true or false", name, value);
			return MH_ERR_INVALID;
		}
		break;
	}
	return MH_OK;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	char err[256];
	for (const struct config_key *k = config_keys; k->name; k++)
		config_set(c, k->name, k->def, err, sizeof err);
}

void
config_release(struct config *c)
{
	for (const struct config_key *k = config_keys; k->name; k++) {
		if (k->type == CONFIG_STR) {
			char **s = (char **) ((char *) c + k->offset);
			free(*s);
			*s = NULL;
		}
	}
}

struct ini_ctx {
	struct config *c;
	char *err;
	size_t errlen;
	mh_err rc;
	const char *path;
};

static int
on_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	char msg[256];
	if (ctx->rc)
		return 0;
	if (strcmp(name, "config") == 0 || config_set(ctx->c, name, value, msg, sizeof msg) != MH_OK) {
		if (strcmp(name, "config") == 0)
			snprintf(msg, sizeof msg, "'config' cannot be set inside a config file");
		snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->path, msg);
		ctx->rc = MH_ERR_INVALID;
		return 0;
	}
	return 1;
}

mh_err
config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read config file: %s", path, strerror(errno));
		return MH_ERR_IO;
	}
	struct ini_ctx ctx = { c, err, errlen, MH_OK, path };
	int rc = ini_parse_file(f, on_ini_line, &ctx);
	fclose(f);
	if (ctx.rc)
		return ctx.rc;
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: malformed line", path, rc);
		return MH_ERR_PARSE;
	}
	return MH_OK;
}

mh_err
config_load_env(struct config *c, char *err, size_t errlen)
{
	for (const struct config_key *k = config_keys; k->name; k++) {
		char var[64] = "MASTHEAD_";
		size_t n = strlen(var);
		for (const char *p = k->name; *p && n < sizeof var - 1; p++)
			var[n++] = *p == '-' ? '_' : (char) toupper((unsigned char) *p);
		var[n] = '\0';
		const char *v = getenv(var);
		if (!v)
			continue;
		char msg[200];
		if (config_set(c, k->name, v, msg, sizeof msg) != MH_OK) {
			snprintf(err, errlen, "%s: %s", var, msg);
			return MH_ERR_INVALID;
		}
	}
	return MH_OK;
}

void
config_finish(struct config *c)
{
	if (!c->db[0]) {
		free(c->db);
		size_t n = strlen(c->data) + 32;
		c->db = xmalloc(n);
		snprintf(c->db, n, "sqlite:%s/masthead.db", c->data);
	}
	if (!c->public_url[0]) {
		c->public_url_derived = true;
		free(c->public_url);
		size_t n = strlen(c->listen) + 16;
		c->public_url = xmalloc(n);
		snprintf(c->public_url, n, "http://%s", c->listen);
	}
	/* No trailing slash: paths are appended to it. */
	size_t n = strlen(c->public_url);
	while (n > 0 && c->public_url[n - 1] == '/')
		c->public_url[--n] = '\0';
}
