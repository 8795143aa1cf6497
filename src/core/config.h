/* config.h: settings from flags, MASTHEAD_* environment variables and an
 * ini file. Flags win, then the environment, then the file, then defaults.
 *
 * Every key is listed once in config_keys[]; the same name is the file key,
 * the flag (--name) and, upper-cased with '-' as '_', the variable
 * (MASTHEAD_NAME). */
#ifndef MH_CONFIG_H
#define MH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct config {
	char *data;       /* data dir */
	char *db;         /* database URL: sqlite:PATH or postgres://... */
	char *listen;     /* ADDR:PORT */
	char *public_url; /* how readers reach the site */
	char *site_name;
	char *site_tagline;
	char *sections; /* section tags in menu order, comma-separated names */
	char *theme;    /* theme dir; empty: the built-in default theme */
	char *log_level;
	long threads; /* 0: one per core */
	long max_connections;
	long timeout;            /* seconds of idle before a connection is closed */
	long per_ip_connections; /* connections one address may hold; 0: no limit */
	long header_timeout;     /* seconds for a request line and headers, all told; 0: none */
	long body_min_rate;      /* bytes a second a request body must average; 0: none */
	long max_body;           /* bytes */
	long max_header;         /* bytes */
	long page_size;
	long teaser_paragraphs;
	long max_import_bytes;
	long import_cache_mib; /* SQLite page cache of an import's connection */
	bool access_log;
	char *access_log_file; /* empty: stderr */
	bool page_cache;       /* keep pages for visitors without cookies in memory */
	bool no_migrate;       /* serve: migrate nothing (another node or `masthead migrate` does) */
	long recheck_ms;       /* between reads of the store's versions */
	/* members and mail */
	char *smtp_url; /* empty: .eml files under DATA/outbox/ */
	char *mail_from;
	long mail_retry_base; /* seconds before the first retry; doubles each time */
	/* newsletters (docs/newsletters.md) */
	long newsletter_connections; /* SMTP connections a send uses */
	long newsletter_rate;        /* messages a second at most; 0: no limit */
	long newsletter_give_up;     /* seconds without a reachable SMTP server before a send stops */
	char *dkim_key;              /* PEM private key; empty: DATA/dkim/SELECTOR.pem */
	char *dkim_selector;         /* empty: newsletters go out unsigned */
	char *dkim_domain;           /* empty: the sender's domain */
	char *bounce_domain;         /* VERP and unsubscribe mail: bounce+TOKEN@HERE; empty: the sender's domain */
	long session_days;
	char *trusted_proxy;      /* peers whose X-Forwarded-For and -Proto count (http/proxy.h) */
	long rate_limit;          /* sign-in, link and reset attempts per address per 10 minutes */
	long db_pool;             /* PostgreSQL connections this process keeps at most */
	long password_threads;    /* threads that hash and verify passwords, off the HTTP threads */
	long password_memory_mib; /* argon2id memory of new hashes */
	long meter_articles;      /* metered mode: free paid articles a month; 0: off */
	long auto_paywall_days;   /* public articles become paid after this many days; 0: off */
	long gift_max_uses;
	long gift_days;
	long grace_days;          /* past_due keeps access this long */
	char *retry_days;         /* "1,3,5": days after the first failure to retry */
	long billing_interval;    /* seconds between scheduler runs in serve */
	long reads_flush_seconds; /* seconds between writes of read counts (web/reads.h); 0: off */
	char *billing_provider;   /* test | stripe */
	long publish_interval;    /* seconds between the newsroom's publishing runs in serve */
	char *stripe_secret_key;
	char *stripe_webhook_secret;
	char *stripe_api_base; /* https://api.stripe.com; tests point it at a stub */
	char *secret;          /* HMAC key for CSRF tokens and signed cookies; empty: DATA/secret.key */
	/* The Content API's CORS: "*", "https://a.example,https://b.example" or "". */
	char *api_cors_origins;
	char *metrics_allow;     /* who may read /metrics: addresses and networks (http/proxy.h) */
	char *metrics_token;     /* or a request with this bearer token; empty: none */
	long sitemap_urls;       /* addresses per sitemap file (web/feeds.c) */
	bool staff_device_check; /* editors and admins confirm a new device by a mailed code */
	/* demo only */
	long port;
	bool public_url_derived; /* public_url came from listen, not from the operator */
	bool mail_from_derived;  /* mail_from came from site_name and public_url */
	/* set when --config names a file */
	char *config_file;
	unsigned long long given; /* bit i: config_keys[i] was set by the operator */
	/* bit i: set by the command itself as its own default (masthead demo's
	 * paper), which the newsroom's settings may override (web/settings.h) */
	unsigned long long soft;
};

enum config_type { CONFIG_STR, CONFIG_LONG, CONFIG_BOOL };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	const char *help;
};

extern const struct config_key config_keys[];

/* Fills c with defaults. config_release() frees the strings. */
void config_init(struct config *c);
void config_release(struct config *c);

/* Sets one key from text; on a bad value writes a message into err. */
mh_err config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen);
const struct config_key *config_find(const char *name);

/* Loads an ini file (sections are ignored: keys are global). */
mh_err config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* Applies every MASTHEAD_* variable that names a key. */
mh_err config_load_env(struct config *c, char *err, size_t errlen);
/* True when name was set by a flag, a variable or a file, not by default. */
bool config_given(const struct config *c, const char *name);
/* Given by the operator, not as a command's own default (soft): the
 * newsroom's settings cannot override it. */
bool config_fixed(const struct config *c, const char *name);
/* Fills in values derived from others: db from data, public_url from listen,
 * mail_from from site_name and public_url's host. Run it again after
 * changing one of those: what it derived it derives again. */
void config_finish(struct config *c);
/* A deep copy of from into to (to is overwritten, not released): every
 * key's value, the given bits and what config_finish derived. */
void config_copy(struct config *to, const struct config *from);

#endif
