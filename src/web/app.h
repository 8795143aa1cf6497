/* app.h: what every handler shares: settings, the store, the theme. */
#ifndef MH_APP_H
#define MH_APP_H

#include <jansson.h>
#include <pthread.h>

#include "auth/accounts.h"
#include "billing/billing.h"
#include "http/proxy.h"
#include "paywall/access.h"

#include "core/config.h"
#include "http/http.h"
#include "render/theme.h"
#include "core/epochs.h"
#include "store/store.h"

struct tmpl_set;

struct mailer;
struct reads;
struct vcache;

/* The store's versions as this process last read them (see app_versions). */
struct app_versions {
	pthread_mutex_t lock;
	int64_t content, members; /* atomics */
	uint64_t writes_seen;     /* store_writes() when they were read */
	int64_t read_ms;          /* monotonic time of that read; 0: never */
	int64_t changes_cursor;   /* the last member change applied (under lock) */
	int pushed;               /* atomic: the store's listener is connected, polls are a fallback */
	uint64_t flushes;         /* atomic: how many times the listener (re)connected */
};

struct app {
	/* The settings in force: the operator's (base) with the newsroom's over
	 * them (web/settings.h). An immutable snapshot, swapped whole when the
	 * settings change; a reader may hold the old one (retired snapshots
	 * live until the server stops). */
	const struct config *_Atomic cfg;
	struct store *store;
	struct theme theme;
	struct mailer *mailer;           /* may be NULL: mail then waits in the outbox */
	unsigned char secret[32];        /* CSRF tokens, signed cookies */
	struct proxy_list proxies;       /* peers that may name the client (trusted-proxy) */
	struct proxy_list metrics_allow; /* who may read /metrics (web/metrics.h) */
	struct billing billing;
	struct vcache *pages;     /* rendered pages for visitors without cookies; NULL: off */
	struct vcache *fragments; /* page skeletons and article records for signed-in readers; NULL: off */
	struct vcache *sessions;  /* sessions with their member and subscription */
	struct app_versions versions;
	struct epochs *members_changed;  /* members whose cached sessions are stale (store_member_changes) */
	struct store_listener *listener; /* changes pushed by the store (PostgreSQL), or NULL */
	struct reads *reads;             /* article reads for Most read (web/reads.h), or NULL */
	/* Random text a page skeleton carries where a reader's own values go;
	 * slot N is the mark followed by the digit N (see page.c). */
	char slot_mark[24];
	/* The operator's settings (flags, environment, file), which win over the
	 * newsroom's; NULL: no settings from the store (app->cfg is all). */
	const struct config *base;
	struct app_settings *settings; /* web/settings.c */
};

/* The settings the account rules (auth/accounts.h) read. */
static inline struct account_rules
web_account_rules(const struct app *app)
{
	return (struct account_rules){ app->cfg->session_days, app->cfg->rate_limit };
}

/* The content version and the member changes: read from the store at most
 * once a second (so another node's change shows within a second), and at
 * once after any write this process committed. Each member change read
 * marks that member's cached sessions stale (app->members_changed). */
mh_err app_versions(struct app *app, struct store_versions *out);
/* Starts the store's listener where the engine pushes changes (PostgreSQL):
 * they then reach this node as they commit, the polls above become a
 * fallback (every PUSHED_POLL_FACTOR x --recheck-ms), and each
 * (re)connection of the listener forgets everything cached. MH_OK and no
 * listener on SQLite. */
mh_err app_listen(struct app *app);
/* The HTTP layer's idle hook: the thread's store connection goes back to the pool. */
void app_idle(void *app);

/* Per request: who is asking. Allocated from the request's arena. */
struct web_ctx {
	bool signed_in;
	struct member member;
	struct session session;
	const char *csrf;       /* the token for this visitor's forms, once asked for */
	const char *browser_id; /* web_browser_id(), once asked for */
	const char *cache_key;  /* set when the answer may go to the page cache */
	/* Signed in, on a cacheable page: the kind of reader ("path|has name|role|entitled"),
	 * which with the handler's own variant names a page skeleton. */
	const char *skel_base;
	const char *skel_key; /* rendering a skeleton under this key: contexts get the slot marks */
	struct store_versions versions;
	bool have_versions;
	/* The member's subscription, as the access decision reads it. */
	bool has_sub;
	struct viewer sub;
	/* Signed in and reads paid articles in full (subscribed, comped, staff):
	 * the header offers no Subscribe button. */
	bool entitled;
};

/* The before-handler hook: resolves the session, enforces the route's flags. */
bool web_before(struct http_req *r, const struct route *rt);
struct web_ctx *web_ctx(struct http_req *r);
/* The CSRF token for forms on this page; sets the CSRF cookie when missing. */
const char *web_csrf(struct http_req *r);
/* This browser's own random id: its CSRF cookie, set when missing (fresh
 * true then). Signed cookies that must not work in another browser are
 * signed under a key derived from it. */
const char *web_browser_id(struct http_req *r, bool *fresh);
/* Sets a cookie (HttpOnly, SameSite=Lax, Path=/, Secure behind https); max_age 0 clears it. */
void web_set_cookie(struct http_req *r, const char *name, const char *value, long max_age);
/* Signs the member in: a new session, its cookie. */
mh_err web_sign_in(struct http_req *r, const struct member *m);
/* Counts an attempt of kind against the client's address and, when given,
 * the e-mail (auth/accounts.h account_rate); answers 429 and returns false
 * over the limit. */
bool web_rate_ok(struct http_req *r, const char *kind, const char *email);
/* The client's address, from X-Forwarded-For when the proxy is trusted. */
const char *web_client_ip(struct http_req *r);
/* next= as a local path ("/..."), or "/" for anything else (no open redirects). */
const char *web_safe_next(const char *next);

/* The route table and the handlers' fallbacks, for http_server_start. */
extern const struct route app_routes[];
#define SESSION_COOKIE "masthead_session"
#define CSRF_COOKIE    "masthead_csrf"

/* The session cookie's member, and the store's versions for this request
 * (session.c); web_before (dispatch.c) calls them. */
void web_resolve_session(struct http_req *r);
bool web_request_versions(struct http_req *r);
void app_not_found(struct http_req *r);
/* 301 to where an imported site's old_path lives now; false when it has no redirect. */
bool app_redirect_old(struct http_req *r, const char *old_path);
void app_method_not_allowed(struct http_req *r);
void app_error(struct http_req *r, int status, const char *message);

#endif
