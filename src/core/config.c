#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	KEY("site-name", CONFIG_STR, site_name, "masthead", "site name shown in every page header and mail"),
	KEY("site-tagline", CONFIG_STR, site_tagline, "", "one line under the site name (default: none)"),
	KEY("sections", CONFIG_STR, sections, "",
	    "section tags in menu order, comma-separated names (e.g. \"City Hall, Port\")"),
	KEY("theme", CONFIG_STR, theme, "", "theme folder with templates/ and static/ (default: the built-in theme)"),
	KEY("log-level", CONFIG_STR, log_level, "info", "debug, info, warn or error"),
	KEY("threads", CONFIG_LONG, threads, "0", "worker threads (0: one per core)"),
	KEY("max-connections", CONFIG_LONG, max_connections, "1024", "most simultaneous connections"),
	KEY("timeout", CONFIG_LONG, timeout, "30", "seconds an idle connection is kept"),
	KEY("per-ip-connections", CONFIG_LONG, per_ip_connections, "128",
	    "connections one client address may hold at once (0: no limit; trusted proxies are not counted)"),
	KEY("header-timeout", CONFIG_LONG, header_timeout, "10",
	    "seconds a client has to send a request line and its headers, however it trickles them (0: no deadline)"),
	KEY("body-min-rate", CONFIG_LONG, body_min_rate, "4096",
	    "bytes a second a request body must average after header-timeout, or the connection is closed (0: no minimum)"),
	KEY("max-body", CONFIG_LONG, max_body, "1048576", "largest request body in bytes (413 beyond)"),
	KEY("max-header", CONFIG_LONG, max_header, "16384", "memory for a request's headers in bytes (431 beyond)"),
	KEY("page-size", CONFIG_LONG, page_size, "20", "articles per listing page"),
	KEY("teaser-paragraphs", CONFIG_LONG, teaser_paragraphs, "2",
	    "teaser length in paragraphs when there is no paywall marker"),
	KEY("max-import-bytes", CONFIG_LONG, max_import_bytes, "1048576", "largest file import accepts"),
	KEY("import-cache-mib", CONFIG_LONG, import_cache_mib, "64",
	    "database pages import keeps in memory, in MiB (1 to 4096; SQLite only)"),
	KEY("access-log", CONFIG_BOOL, access_log, "true", "log every request in logfmt"),
	KEY("access-log-file", CONFIG_STR, access_log_file, "",
	    "file the access log is appended to, reopened on SIGHUP (empty: standard error)"),
	KEY("page-cache", CONFIG_BOOL, page_cache, "true",
	    "keep public pages for visitors without cookies in memory, until content changes or 60 s pass"),
	KEY("recheck-ms", CONFIG_LONG, recheck_ms, "1000",
	    "milliseconds between reads of the store's versions, which bring other processes' and nodes' changes (0: every request)"),
	KEY("smtp-url", CONFIG_STR, smtp_url, "",
	    "SMTP server for mail, e.g. smtp://user:pass@host:587 (STARTTLS) or smtps://...; empty writes .eml files under DATA/outbox/"),
	KEY("mail-from", CONFIG_STR, mail_from, "",
	    "sender of every mail (default: SITE-NAME <no-reply@HOST>, HOST the public URL's host name, or localhost when that is an address or has no dot)"),
	KEY("mail-retry-base", CONFIG_LONG, mail_retry_base, "30",
	    "seconds before a failed mail is retried; doubles each attempt, at most an hour"),
	KEY("newsletter-connections", CONFIG_LONG, newsletter_connections, "4",
	    "SMTP connections a newsletter send uses at once (1 to 64)"),
	KEY("newsletter-rate", CONFIG_LONG, newsletter_rate, "0",
	    "most newsletter messages a second, over all connections (0: as fast as the server takes them)"),
	KEY("newsletter-give-up", CONFIG_LONG, newsletter_give_up, "3600",
	    "seconds a newsletter send keeps retrying an SMTP server it cannot reach before it stops (run it again to resume)"),
	KEY("dkim-selector", CONFIG_STR, dkim_selector, "",
	    "DKIM selector newsletters are signed with (empty: unsigned); masthead dkim keygen makes its key"),
	KEY("dkim-domain", CONFIG_STR, dkim_domain, "", "DKIM signing domain (d=; default: the sender's domain)"),
	KEY("dkim-key", CONFIG_STR, dkim_key, "", "DKIM private key, PEM (default: DATA/dkim/SELECTOR.pem)"),
	KEY("bounce-domain", CONFIG_STR, bounce_domain, "",
	    "domain of the bounce+TOKEN@ return path and unsubscribe+TOKEN@ address of newsletters (default: the sender's domain)"),
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
	KEY("reads-flush-seconds", CONFIG_LONG, reads_flush_seconds, "60",
	    "seconds between writes of article read counts, for Most read (0: not counted)"),
	KEY("publish-interval", CONFIG_LONG, publish_interval, "10",
	    "seconds between runs of the newsroom's publishing scheduler in serve (0: none)"),
	KEY("billing-provider", CONFIG_STR, billing_provider, "test", "test (built in, test cards only) or stripe"),
	KEY("stripe-secret-key", CONFIG_STR, stripe_secret_key, "", "Stripe secret API key (sk_...)"),
	KEY("stripe-webhook-secret", CONFIG_STR, stripe_webhook_secret, "",
	    "Stripe webhook signing secret (whsec_...)"),
	KEY("stripe-api-base", CONFIG_STR, stripe_api_base, "https://api.stripe.com", "Stripe API address"),
	KEY("rate-limit", CONFIG_LONG, rate_limit, "30",
	    "sign-in, link and reset attempts per address per 10 minutes (a third of it per e-mail, at least 3)"),
	KEY("db-pool", CONFIG_LONG, db_pool, "10",
	    "PostgreSQL: connections a node keeps open at most (1 to 1000); threads beyond wait their turn"),
	KEY("password-threads", CONFIG_LONG, password_threads, "1",
	    "threads that check and hash passwords, so sign-ins never hold up page requests (1 to 64)"),
	KEY("password-memory-mib", CONFIG_LONG, password_memory_mib, "19",
	    "memory of one password hash in MiB (argon2id, 2 passes; 19 to 4096); hashes move to it at the next sign-in"),
	KEY("secret", CONFIG_STR, secret, "",
	    "key for CSRF tokens and signed cookies, 32+ characters, the same on every node (default: DATA/secret.key, made on first start)"),
	KEY("metrics-allow", CONFIG_STR, metrics_allow, "loopback",
	    "addresses and CIDR networks that may read /metrics, comma-separated, loopback, or none"),
	KEY("metrics-token", CONFIG_STR, metrics_token, "",
	    "a bearer token that also opens /metrics from any address (empty: none)"),
	KEY("api-cors-origins", CONFIG_STR, api_cors_origins, "*",
	    "origins that may call the Content API from a browser: * (any), comma-separated origins, or empty (none)"),
	KEY("sitemap-urls", CONFIG_LONG, sitemap_urls, "10000",
	    "addresses per sitemap file; beyond it /sitemap.xml is an index of several (1 to 50000)"),
	KEY("staff-device-check", CONFIG_BOOL, staff_device_check, "true",
	    "an editor or admin signing in from a new device confirms it with a code sent by mail"),
	KEY("port", CONFIG_LONG, port, "8080", "demo only: port on 127.0.0.1 (0 picks a free one)"),
	KEY("no-migrate", CONFIG_BOOL, no_migrate, "false",
	    "serve only: apply no migrations, refuse to start on a database that lacks them (run masthead migrate first)"),
	{ NULL, 0, 0, NULL, NULL },
};
/* struct config's given has a bit for each key. */
_Static_assert(sizeof config_keys / sizeof *config_keys <= 8 * sizeof(unsigned long long) + 1,
               "more keys than bits in config.given");

const struct config_key *
config_find(const char *name)
{
	for (const struct config_key *k = config_keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* ADDR:PORT as the server reads it: an IPv4 address, localhost or [IPv6],
 * and a port from 0 to 65535. */
static bool
listen_valid(const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || strtol(colon + 1, NULL, 10) > 65535)
		return false;
	char host[INET6_ADDRSTRLEN + 2];
	size_t hl = (size_t) (colon - v);
	if (hl >= sizeof host)
		return false;
	memcpy(host, v, hl);
	host[hl] = '\0';
	unsigned char addr[sizeof(struct in6_addr)];
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, addr) == 1;
	}
	return strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1;
}

/* http:// or https://, a host, and no spaces or control characters. */
static bool
web_url_valid(const char *v)
{
	size_t skip = strncmp(v, "https://", 8) == 0 ? 8 : strncmp(v, "http://", 7) == 0 ? 7 : 0;
	if (!skip || !v[skip] || v[skip] == '/' || v[skip] == ':')
		return false;
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static bool
has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return true;
	return false;
}

/* "1,3,5": whole numbers of days from 1 to 365. */
static bool
days_valid(const char *v)
{
	do {
		char *end;
		errno = 0;
		long d = strtol(v, &end, 10);
		if (end == v || errno || d < 1 || d > 365 || (*end && *end != ',') || *v == '+' || *v == ' ')
			return false;
		v = *end ? end + 1 : end;
	} while (*v);
	return true;
}

/* A value that has the right type but cannot work: the message, without the
 * value when it may hold a secret; NULL when it is fine. */
static const char *
value_problem(const char *name, const char *v, long n, char *buf, size_t buflen)
{
	if (!strcmp(name, "listen") && !listen_valid(v))
		snprintf(buf, buflen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:8080, [::1]:8080)", v);
	else if ((!strcmp(name, "public-url") && v[0]) || !strcmp(name, "stripe-api-base")) {
		if (web_url_valid(v))
			return NULL;
		snprintf(buf, buflen, "'%s' is not an http:// or https:// address", v);
	} else if (!strcmp(name, "smtp-url") && v[0] && strncasecmp(v, "smtp://", 7) && strncasecmp(v, "smtps://", 8))
		snprintf(buf, buflen, "must start with smtp:// or smtps:// (or be empty for .eml files)");
	else if (!strcmp(name, "billing-provider") && strcmp(v, "test") && strcmp(v, "stripe"))
		snprintf(buf, buflen, "'%s' is not test or stripe", v);
	else if (!strcmp(name, "retry-days") && !days_valid(v))
		snprintf(buf, buflen, "'%s' is not a list of days such as 1,3,5 (each 1 to 365)", v);
	else if (!strcmp(name, "secret") && v[0] && strlen(v) < 32)
		snprintf(buf, buflen, "must be at least 32 characters");
	else if (!strcmp(name, "mail-from") && has_control(v))
		snprintf(buf, buflen, "must be one line without control characters");
	else if (!strcmp(name, "threads") && n > 1024)
		snprintf(buf, buflen, "%ld is more than 1024", n);
	else if ((!strcmp(name, "max-connections") || !strcmp(name, "max-import-bytes")) && n < 1)
		snprintf(buf, buflen, "must be at least 1");
	else if (!strcmp(name, "import-cache-mib") && (n < 1 || n > 4096))
		snprintf(buf, buflen, "must be from 1 to 4096");
	else if (!strcmp(name, "sitemap-urls") && (n < 1 || n > 50000))
		snprintf(buf, buflen, "must be from 1 to 50000 (the sitemaps protocol's limit)");
	else
		return NULL;
	return buf;
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
	char why[160];
	switch (k->type) {
	case CONFIG_STR: {
		if (value_problem(k->name, value, 0, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", name, why);
			return MH_ERR_INVALID;
		}
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
		if (value_problem(k->name, value, v, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", name, why);
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
	c->given |= 1ull << (k - config_keys);
	/* A value set now is no longer one config_finish derived. */
	if (k->offset == offsetof(struct config, public_url))
		c->public_url_derived = false;
	if (k->offset == offsetof(struct config, mail_from))
		c->mail_from_derived = false;
	return MH_OK;
}

bool
config_fixed(const struct config *c, const char *name)
{
	const struct config_key *k = config_find(name);
	return k && config_given(c, name) && !(c->soft & (1ull << (k - config_keys)));
}

bool
config_given(const struct config *c, const char *name)
{
	const struct config_key *k = config_find(name);
	return k && (c->given & (1ull << (k - config_keys)));
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	char err[256];
	for (const struct config_key *k = config_keys; k->name; k++)
		config_set(c, k->name, k->def, err, sizeof err);
	c->given = 0; /* defaults are not the operator's choice */
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

/* The host of an http(s) URL when it is a name mail could come from (letters,
 * digits, hyphens, at least one dot, not all digits); else "localhost". */
static void
mail_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	size_t len = strcspn(h, ":/?#");
	bool ok = len > 0 && len < n && memchr(h, '.', len) && h[0] != '[';
	bool letter = false;
	for (size_t i = 0; ok && i < len; i++) {
		ok = isalnum((unsigned char) h[i]) || h[i] == '.' || h[i] == '-';
		letter = letter || isalpha((unsigned char) h[i]);
	}
	snprintf(out, n, "%.*s", ok && letter ? (int) len : 9, ok && letter ? h : "localhost");
}

/* "SITE NAME <no-reply@HOST>", the name without what would break the header. */
static char *
derive_mail_from(const char *site_name, const char *public_url)
{
	char host[256];
	mail_host(public_url, host, sizeof host);
	size_t n = strlen(site_name) + strlen(host) + 16;
	char *out = xmalloc(n), *p = out;
	for (const unsigned char *s = (const unsigned char *) site_name; *s; s++)
		if (*s >= ' ' && *s != 0x7f && *s != '<' && *s != '>' && *s != '"')
			*p++ = (char) *s;
	while (p > out && p[-1] == ' ')
		p--;
	snprintf(p, n - (size_t) (p - out), "%sno-reply@%s%s", p > out ? " <" : "", host, p > out ? ">" : "");
	return out;
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
	if (!c->mail_from[0] || c->mail_from_derived) {
		c->mail_from_derived = true;
		free(c->mail_from);
		c->mail_from = derive_mail_from(c->site_name, c->public_url);
	}
}

void
config_copy(struct config *to, const struct config *from)
{
	memcpy(to, from, sizeof *to);
	for (const struct config_key *k = config_keys; k->name; k++) {
		if (k->type == CONFIG_STR) {
			char **s = (char **) ((char *) to + k->offset);
			if (*s)
				*s = xstrdup(*s);
		}
	}
}
