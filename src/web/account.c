/* account.c: sign-up, sign-in by password and by mailed link, sign-out,
 * password reset, change of e-mail, the account page.
 *
 * Requests that name an e-mail answer the same whether or not an account
 * has it, and take as long: an unknown e-mail is verified against a dummy
 * hash, and links are only ever announced as "check your e-mail".
 *
 * Password hashes and checks (tens of milliseconds and megabytes each) run
 * on the server's password threads through http_defer(): a *_work function
 * there, then a *_done function back on the HTTP thread for the store and
 * the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fault.h"
#include "auth/accounts.h"
#include "auth/email.h"
#include "auth/password.h"
#include "auth/token.h"
#include "core/log.h"
#include "core/text.h"
#include "mail/mail.h"
#include "web/app.h"
#include "web/feeds.h"
#include "web/handlers.h"
#include "web/page.h"
#include "core/banned.h"

#define NAME_MAX_LEN 100

static void
db_failed(struct http_req *r)
{
	struct app *app = r->app;
	log_error("database error", "path=\"%s\" detail=\"%s\"", http_log_path(r), store_errmsg(app->store));
	app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
}

/* A page holding forms: private, never indexed, with the CSRF token. */
static void
form_page(struct http_req *r, int status, const char *template, const char *title, json_t *ctx_extra)
{
	json_t *ctx = page_context(r, title, NULL);
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_object_update(ctx, ctx_extra);
	json_decref(ctx_extra);
	json_object_set_new(ctx, "csrf", json_string(web_csrf(r)));
	page_send(r, status, template, ctx, CACHE_PRIVATE);
}

static void
message_page(struct http_req *r, int status, const char *heading, const char *message, const char *link_url,
             const char *link_text)
{
	json_t *x = json_object();
	json_object_set_new(x, "heading", json_string(heading));
	json_object_set_new(x, "message", json_string(message));
	if (link_url) {
		json_t *l = json_object();
		json_object_set_new(l, "url", json_string(link_url));
		json_object_set_new(l, "text", json_string(link_text));
		json_object_set_new(x, "link", l);
	}
	form_page(r, status, "message", heading, x);
}

/* Lower-cased, trimmed e-mail, or NULL when it cannot be one: the one rule
 * (auth/email.h) that the CLI and the importers use too. */
static const char *
clean_email(struct http_req *r, const char *raw)
{
	char *out = arena_alloc(r->arena, EMAIL_MAX + 1);
	return email_normalize(raw, out, EMAIL_MAX + 1) ? out : NULL;
}

static void
too_many(struct http_req *r, int64_t retry)
{
	http_add_header(r, "Retry-After", arena_printf(r->arena, "%lld", (long long) retry));
	app_error(r, 429,
	          arena_printf(r->arena, "Too many attempts. Please wait %lld minute%s and try again.",
	                       (long long) (retry + 59) / 60, retry > 60 ? "s" : ""));
}

bool
web_rate_ok(struct http_req *r, const char *kind, const char *email)
{
	struct app *app = r->app;
	const struct account_rules rules = web_account_rules(app);
	bool allowed = true;
	int64_t retry = 0;
	mh_err err = account_rate(app->store, r->arena, &rules, kind, web_client_ip(r), email, clock_now(), &allowed,
	                          &retry);
	if (err) {
		db_failed(r);
		return false;
	}
	if (!allowed) {
		too_many(r, retry);
		return false;
	}
	return true;
}

/* Stores a single-use link and queues its mail: false (logged) when the
 * store failed, and the caller answers with db_failed(), since nothing
 * will arrive. A store failure says nothing of whether an account exists:
 * it comes the same way for any address the store is asked about. */
static bool
send_link(struct http_req *r, const struct member *m, enum token_purpose purpose, const char *to, const char *new_email,
          const char *next, const char *password_hash, bool new_account)
{
	struct app *app = r->app;
	static const char *paths[] = { "/signin/link/", "/reset/", "/account/email/" };
	static const char *mails[] = { "signin", "reset", "email" };
	int minutes = account_link_minutes(purpose);
	char token[TOKEN_CHARS + 1];
	if (account_link_issue(app->store, m, purpose, new_email, next, password_hash, clock_now(), token)) {
		log_error("cannot store a link", "detail=\"%s\"", store_errmsg(app->store));
		return false;
	}
	json_t *ctx = json_object();
	json_t *site = json_object();
	json_object_set_new(site, "name", json_string(app->cfg->site_name));
	json_object_set_new(site, "url", json_string(app->cfg->public_url));
	json_object_set_new(ctx, "site", site);
	json_t *mem = json_object();
	/* The name of an account nobody has confirmed is whatever the sign-up
	 * form was given, maybe by someone else: the official mail does not
	 * repeat it (no attacker's text or links in a mail from the site). */
	json_object_set_new(mem, "name", json_string(m->email_verified ? m->name : ""));
	json_object_set_new(mem, "email", json_string(m->email));
	json_object_set_new(ctx, "member", mem);
	json_object_set_new(ctx, "link",
	                    json_string(arena_printf(r->arena, "%s%s%s", app->cfg->public_url, paths[purpose], token)));
	json_object_set_new(ctx, "expires_minutes", json_integer(minutes));
	json_object_set_new(ctx, "new_account", json_boolean(new_account));
	json_object_set_new(ctx, "new_email", json_string(new_email ? new_email : ""));
	bool queued = !mail_queue_template(app->store, app->cfg, app->theme.templates, mails[purpose], ctx, to);
	if (!queued)
		log_error("cannot queue mail", "kind=%s detail=\"%s\"", mails[purpose], store_errmsg(app->store));
	else if (app->mailer)
		mailer_wake(app->mailer);
	json_decref(ctx);
	return queued;
}

static json_t *
signin_ctx(const char *email, const char *next, const char *error, const char *notice)
{
	json_t *x = json_object();
	json_object_set_new(x, "email", json_string(email ? email : ""));
	json_object_set_new(x, "next", json_string(web_safe_next(next)));
	if (error)
		json_object_set_new(x, "error", json_string(error));
	if (notice)
		json_object_set_new(x, "notice", json_string(notice));
	return x;
}

void
h_signin_form(struct http_req *r)
{
	const char *next = web_safe_next(http_query(r, "next"));
	if (web_ctx(r)->signed_in) {
		http_redirect(r, 303, next);
		return;
	}
	form_page(r, 200, "signin", "Sign in", signin_ctx(NULL, next, NULL, NULL));
}

/* A password sign-in, from the handler through its password thread. */
struct signin {
	const char *raw, *password, *next;
	const char *email; /* normalized; NULL when raw is not one */
	bool slow;         /* SIGNIN_SLOW: checked after a delay */
	struct member m;
	bool found; /* an account with a password */
	bool ok;
	bool rehashed; /* new_hash holds the password at today's parameters */
	char new_hash[PASSWORD_HASH_MAX];
};

/* A fault build for tests makes sign-ins slow (password-delay-ms), to show
 * that a slow password check holds up nobody else. */
static void
test_delay(void)
{
	long ms = fault_value("password-delay-ms", 0);
	if (ms > 0)
		usleep((useconds_t) ms * 1000);
}

static void
signin_work(struct http_req *r, void *arg)
{
	struct signin *si = arg;
	test_delay();
	if (si->slow)
		usleep(ACCOUNT_SLOW_SIGNIN_MS * 1000);
	/* The same work for a miss as for a hit. */
	si->ok = password_verify(si->found ? si->m.password_hash : password_dummy(), si->password) && si->found;
	if (si->ok && password_needs_rehash(si->m.password_hash))
		si->rehashed = password_hash(si->password, si->new_hash) == MH_OK;
}

static void
signin_done(struct http_req *r, void *arg)
{
	struct app *app = r->app;
	struct signin *si = arg;
	if (!si->ok) {
		/* Failures are what the limits count. */
		if (account_signin_failed(app->store, r->arena, web_client_ip(r), si->email, clock_now()))
			log_error("cannot count a failed sign-in", "detail=\"%s\"", store_errmsg(app->store));
		form_page(r, 401, "signin", "Sign in",
		          signin_ctx(si->raw, si->next,
		                     "That e-mail and password do not match an account. Try again, or "
		                     "get a sign-in link by e-mail.",
		                     NULL));
		return;
	}
	if (si->rehashed)
		store_member_set_password(app->store, si->m.email, si->new_hash);
	if (web_device_gate(r, &si->m, si->next))
		return;
	if (web_sign_in(r, &si->m)) {
		db_failed(r);
		return;
	}
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, si->next);
}

void
h_signin(struct http_req *r)
{
	struct app *app = r->app;
	struct signin *si = arena_alloc(r->arena, sizeof *si);
	memset(si, 0, sizeof *si);
	si->raw = http_form(r, "email");
	si->password = http_form(r, "password");
	si->next = web_safe_next(http_form(r, "next"));
	const char *email = clean_email(r, si->raw);
	si->email = email;
	const struct account_rules rules = web_account_rules(app);
	enum signin_gate gate;
	int64_t retry;
	if (account_signin_gate(app->store, r->arena, &rules, web_client_ip(r), email, clock_now(), &gate, &retry)) {
		db_failed(r);
		return;
	}
	if (gate == SIGNIN_CLOSED) {
		too_many(r, retry);
		return;
	}
	si->slow = gate == SIGNIN_SLOW;
	mh_err err = email ? store_member_by_email(app->store, r->arena, email, &si->m) : MH_ERR_NOTFOUND;
	if (err && err != MH_ERR_NOTFOUND) {
		db_failed(r);
		return;
	}
	/* An address nobody has confirmed signs in by no password (it may be
	 * whoever typed it into the sign-up form): a mailed link confirms it. */
	si->found = err == MH_OK && si->m.password_hash[0] && si->m.email_verified;
	if (!si->password || strlen(si->password) > PASSWORD_MAX) {
		signin_done(r, si);
		return;
	}
	http_defer(r, signin_work, signin_done, si);
}

static void
check_mail_page(struct http_req *r, const char *what)
{
	message_page(r, 200, "Check your e-mail",
	             arena_printf(r->arena,
	                          "If an account uses that address, we have sent it %s. The link works "
	                          "once and expires soon.",
	                          what),
	             "/", "Back to the front page");
}

void
h_link_request(struct http_req *r)
{
	struct app *app = r->app;
	const char *email = clean_email(r, http_form(r, "email"));
	const char *next = web_safe_next(http_form(r, "next"));
	if (!email) {
		form_page(r, 400, "signin", "Sign in",
		          signin_ctx(http_form(r, "email"), next, "Please enter a valid e-mail address.", NULL));
		return;
	}
	if (!web_rate_ok(r, "link", email))
		return;
	struct member m;
	mh_err err = store_member_by_email(app->store, r->arena, email, &m);
	if ((err && err != MH_ERR_NOTFOUND) ||
	    (!err && !send_link(r, &m, TOKEN_SIGNIN, m.email, NULL, next, NULL, false))) {
		db_failed(r);
		return;
	}
	check_mail_page(r, "a sign-in link");
}

static void
link_gone(struct http_req *r)
{
	message_page(r, 410, "This link has expired",
	             "Links work once and only for a short time. Ask for a new one and use it soon after it arrives.",
	             "/signin", "Get a new link");
}

/* True when the link in the path is live; otherwise answers. Spends nothing. */
static bool
token_live(struct http_req *r, enum token_purpose purpose)
{
	struct app *app = r->app;
	struct auth_token t;
	mh_err err = account_link_check(app->store, r->arena, r->params[0], purpose, clock_now(), &t);
	if (err == MH_ERR_NOTFOUND) {
		link_gone(r);
		return false;
	}
	if (err) {
		db_failed(r);
		return false;
	}
	return true;
}

/* GET of a mailed link: a button that POSTs, so a scanner that follows
 * links in mail does not spend it. */
static void
confirm_page(struct http_req *r, enum token_purpose purpose, const char *heading, const char *message,
             const char *button)
{
	if (!token_live(r, purpose))
		return;
	json_t *x = json_object();
	json_object_set_new(x, "heading", json_string(heading));
	json_object_set_new(x, "message", json_string(message));
	json_object_set_new(x, "action", json_string(r->path));
	json_object_set_new(x, "button", json_string(button));
	/* The token is in the URL: keep it out of Referer headers. */
	http_add_header(r, "Referrer-Policy", "no-referrer");
	form_page(r, 200, purpose == TOKEN_RESET ? "reset-password" : "confirm", heading, x);
}

/* Spends a mailed link: the token's row, or NULL after answering. */
static struct auth_token *
spend(struct http_req *r, enum token_purpose purpose, struct member *m)
{
	struct app *app = r->app;
	struct auth_token *t = arena_alloc(r->arena, sizeof *t);
	mh_err err = account_link_spend(app->store, r->arena, r->params[0], purpose, clock_now(), t, m);
	if (err == MH_ERR_NOTFOUND) {
		link_gone(r);
		return NULL;
	}
	if (err) {
		db_failed(r);
		return NULL;
	}
	return t;
}

void
h_link_page(struct http_req *r)
{
	confirm_page(r, TOKEN_SIGNIN, "Sign in", "Press the button to finish signing in on this device.", "Sign in");
}

static void
finish_sign_in(struct http_req *r, struct member *m, const char *next)
{
	if (web_device_gate(r, m, next))
		return;
	if (web_sign_in(r, m)) {
		db_failed(r);
		return;
	}
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, web_safe_next(next));
}

void
h_link_use(struct http_req *r)
{
	struct member m;
	struct auth_token *t = spend(r, TOKEN_SIGNIN, &m);
	if (!t)
		return;
	finish_sign_in(r, &m, t->next);
}

static json_t *
signup_ctx(const char *name, const char *email, const char *next, const char *error)
{
	json_t *x = json_object();
	json_object_set_new(x, "name", json_string(name ? name : ""));
	json_object_set_new(x, "email", json_string(email ? email : ""));
	json_object_set_new(x, "next", json_string(web_safe_next(next)));
	if (error)
		json_object_set_new(x, "error", json_string(error));
	return x;
}

void
h_signup_form(struct http_req *r)
{
	form_page(r, 200, "signup", "Create an account", signup_ctx(NULL, NULL, http_query(r, "next"), NULL));
}

struct signup {
	const char *email, *name, *password, *next;
	mh_err err;
	char hash[PASSWORD_HASH_MAX]; /* "" for an account without a password */
};

static void
signup_work(struct http_req *r, void *arg)
{
	struct signup *su = arg;
	su->err = password_hash(su->password, su->hash);
}

static void
signup_done(struct http_req *r, void *arg)
{
	struct app *app = r->app;
	struct signup *su = arg;
	if (su->err) {
		db_failed(r);
		return;
	}
	/* No password until the address is confirmed: the one chosen here waits
	 * with the link, and the account gets it when that link is used. */
	struct member m = { 0, su->email, su->name, "", ROLE_READER, clock_now(), 0, false };
	mh_err err = store_member_create(app->store, &m, &m.id);
	bool created = err == MH_OK;
	if (err == MH_ERR_CONFLICT)
		err = store_member_by_email(app->store, r->arena, su->email, &m);
	if (err) {
		db_failed(r);
		return;
	}
	/* A confirmed account's password is not changed by a sign-up form. */
	if (!send_link(r, &m, TOKEN_SIGNIN, m.email, NULL, su->next, m.email_verified ? NULL : su->hash, created)) {
		db_failed(r);
		return;
	}
	check_mail_page(r, "a link to finish signing up");
}

/* A new account is confirmed through a mailed link like any sign-in, so
 * the answer never tells whether an address already has an account. */
void
h_signup(struct http_req *r)
{
	const char *raw_name = http_form(r, "name"), *raw_email = http_form(r, "email");
	const char *password = http_form(r, "password");
	const char *next = web_safe_next(http_form(r, "next"));
	const char *email = clean_email(r, raw_email);
	struct slice name = slice_trim(slice_from(raw_name));
	const char *error = NULL;
	if (!email)
		error = "Please enter a valid e-mail address.";
	else if (name.len == 0 || name.len > NAME_MAX_LEN)
		error = "Please enter your name (at most 100 characters).";
	else if (password && password[0] && (strlen(password) < PASSWORD_MIN || strlen(password) > PASSWORD_MAX))
		error = "A password needs at least 8 characters. Or leave it empty and sign in with e-mailed links.";
	if (error) {
		form_page(r, 400, "signup", "Create an account", signup_ctx(raw_name, raw_email, next, error));
		return;
	}
	if (!web_rate_ok(r, "signup", email))
		return;
	struct signup *su = arena_alloc(r->arena, sizeof *su);
	memset(su, 0, sizeof *su);
	su->email = email;
	su->name = arena_strndup(r->arena, name.ptr, name.len);
	su->password = password;
	su->next = next;
	if (password && password[0])
		http_defer(r, signup_work, signup_done, su);
	else
		signup_done(r, su);
}

void
h_signout(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	if (c->signed_in)
		store_session_delete(app->store, c->session.token_hash);
	web_set_cookie(r, "masthead_session", "", 0);
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/");
}

void
h_reset_form(struct http_req *r)
{
	json_t *x = json_object();
	json_object_set_new(x, "email", json_string(""));
	form_page(r, 200, "reset", "Reset your password", x);
}

void
h_reset_request(struct http_req *r)
{
	struct app *app = r->app;
	const char *email = clean_email(r, http_form(r, "email"));
	if (!email) {
		json_t *x = json_object();
		json_object_set_new(x, "email", json_string(http_form(r, "email") ? http_form(r, "email") : ""));
		json_object_set_new(x, "error", json_string("Please enter a valid e-mail address."));
		form_page(r, 400, "reset", "Reset your password", x);
		return;
	}
	if (!web_rate_ok(r, "reset", email))
		return;
	struct member m;
	mh_err err = store_member_by_email(app->store, r->arena, email, &m);
	if ((err && err != MH_ERR_NOTFOUND) ||
	    (!err && !send_link(r, &m, TOKEN_RESET, m.email, NULL, "/account", NULL, false))) {
		db_failed(r);
		return;
	}
	check_mail_page(r, "a link to choose a new password");
}

void
h_reset_page(struct http_req *r)
{
	confirm_page(r, TOKEN_RESET, "Choose a new password", "", "Save password");
}

/* The new password from password and password2, or NULL after answering. */
static const char *
new_password(struct http_req *r, const char *template, json_t *extra)
{
	const char *p1 = http_form(r, "password"), *p2 = http_form(r, "password2");
	const char *error = NULL;
	if (!p1 || strlen(p1) < PASSWORD_MIN || strlen(p1) > PASSWORD_MAX)
		error = "The password needs at least 8 characters.";
	else if (!p2 || strcmp(p1, p2) != 0)
		error = "The two passwords are not the same.";
	if (!error) {
		json_decref(extra);
		return p1;
	}
	json_object_set_new(extra, "error", json_string(error));
	form_page(r, 400, template, "Choose a new password", extra);
	return NULL;
}

/* A new password being hashed (reset, change). */
struct new_hash {
	const char *password;
	mh_err err;
	char hash[PASSWORD_HASH_MAX];
};

static void
new_hash_work(struct http_req *r, void *arg)
{
	struct new_hash *nh = arg;
	nh->err = password_hash(nh->password, nh->hash);
}

static void
reset_done(struct http_req *r, void *arg)
{
	struct app *app = r->app;
	struct new_hash *nh = arg;
	struct member m;
	if (nh->err) {
		db_failed(r);
		return;
	}
	/* Spent only now, so a reset that never finishes leaves the link usable. */
	mh_err err = account_password_reset(app->store, r->arena, r->params[0], nh->hash, clock_now(), &m);
	if (err == MH_ERR_NOTFOUND) {
		link_gone(r);
		return;
	}
	if (err) {
		db_failed(r);
		return;
	}
	/* Whoever knew the old password is signed out everywhere; this device signs in. */
	web_ctx(r)->signed_in = false;
	finish_sign_in(r, &m, "/account?notice=password");
}

void
h_reset_use(struct http_req *r)
{
	json_t *x = json_object();
	json_object_set_new(x, "action", json_string(r->path));
	const char *password = new_password(r, "reset-password", x);
	if (!password)
		return;
	/* A dead link is answered before any hashing. */
	if (!token_live(r, TOKEN_RESET))
		return;
	struct new_hash *nh = arena_alloc(r->arena, sizeof *nh);
	memset(nh, 0, sizeof *nh);
	nh->password = password;
	http_defer(r, new_hash_work, reset_done, nh);
}

static void
account_page(struct http_req *r, int status, const char *notice, const char *error)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct session *list;
	size_t n;
	int64_t now = clock_now();
	if (store_session_list(app->store, r->arena, c->member.id, now, &list, &n)) {
		db_failed(r);
		return;
	}
	json_t *x = json_object();
	json_t *mem = json_object();
	json_object_set_new(mem, "name", json_string(c->member.name));
	json_object_set_new(mem, "email", json_string(c->member.email));
	json_object_set_new(mem, "role", json_string(member_role_name(c->member.role)));
	json_object_set_new(mem, "email_verified", json_boolean(c->member.email_verified));
	json_object_set_new(x, "member", mem);
	json_object_set_new(x, "has_password", json_boolean(c->member.password_hash[0] != '\0'));
	json_t *sessions = json_array();
	for (size_t i = 0; i < n; i++) {
		char created[48], seen[48];
		time_format_human(list[i].created_at, created, sizeof created);
		time_format_human(list[i].last_seen_at, seen, sizeof seen);
		json_t *o = json_object();
		json_object_set_new(o, "created_human", json_string(created));
		json_object_set_new(o, "last_seen_human", json_string(seen));
		json_object_set_new(o, "user_agent",
		                    json_string(list[i].user_agent[0] ? list[i].user_agent : "Unknown"));
		json_object_set_new(o, "ip", json_string(list[i].ip));
		json_object_set_new(o, "current", json_boolean(strcmp(list[i].token_hash, c->session.token_hash) == 0));
		json_array_append_new(sessions, o);
	}
	json_object_set_new(x, "sessions", sessions);
	struct gift_link *gifts;
	size_t ng;
	if (store_gift_list(app->store, r->arena, c->member.id, &gifts, &ng)) {
		json_decref(x);
		db_failed(r);
		return;
	}
	json_t *gl = json_array();
	for (size_t i = 0; i < ng; i++) {
		char until[48];
		time_format_human(gifts[i].expires_at, until, sizeof until);
		json_t *o = json_object();
		json_object_set_new(o, "title", json_string(gifts[i].article_title));
		json_object_set_new(o, "url",
		                    json_string(arena_printf(r->arena, "/articles/%s", gifts[i].article_slug)));
		json_object_set_new(o, "uses", json_integer(gifts[i].uses));
		json_object_set_new(o, "max_uses", json_integer(gifts[i].max_uses));
		json_object_set_new(o, "times", json_string(gifts[i].max_uses == 1 ? "time" : "times"));
		json_object_set_new(o, "expires_human", json_string(until));
		bool live = !gifts[i].revoked_at && gifts[i].expires_at > now && gifts[i].uses < gifts[i].max_uses;
		json_object_set_new(o, "live", json_boolean(live));
		/* A link opened as often as it allows still works for those who opened it. */
		json_object_set_new(o, "revocable", json_boolean(!gifts[i].revoked_at && gifts[i].expires_at > now));
		json_object_set_new(o, "revoked", json_boolean(gifts[i].revoked_at != 0));
		json_object_set_new(
		        o, "revoke_action",
		        json_string(arena_printf(r->arena, "/account/gifts/%lld/revoke", (long long) gifts[i].id)));
		json_array_append_new(gl, o);
	}
	json_object_set_new(x, "gifts", gl);
	json_object_set_new(x, "has_gifts", json_boolean(ng > 0));
	json_object_set_new(x, "feed", feed_account_json(r));
	json_t *nls = newsletters_account_json(r);
	json_object_set_new(x, "has_newsletters", json_boolean(json_array_size(nls) > 0));
	json_object_set_new(x, "newsletters", nls);
	if (notice)
		json_object_set_new(x, "notice", json_string(notice));
	if (error)
		json_object_set_new(x, "error", json_string(error));
	form_page(r, status, "account", "Your account", x);
}

void
h_account(struct http_req *r)
{
	static const struct {
		const char *key, *text;
	} notices[] = {
		{ "password", "Your password is saved." },
		{ "email", "Your e-mail address is changed." },
		{ "name", "Your name is saved." },
		{ "gift", "The gift link no longer works." },
		{ "feed", "Your private feed address is below. Any address it had before no longer works." },
		{ "feed_revoked", "Your private feed is switched off. Its address no longer works." },
		{ "newsletters", "Your newsletter choices are saved." },
	};
	const char *which = http_query(r, "notice");
	const char *notice = NULL;
	for (size_t i = 0; which && i < sizeof notices / sizeof *notices; i++)
		if (strcmp(which, notices[i].key) == 0)
			notice = notices[i].text;
	account_page(r, 200, notice, NULL);
}

void
h_account_name(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct slice name = slice_trim(slice_from(http_form(r, "name")));
	if (name.len == 0 || name.len > NAME_MAX_LEN) {
		account_page(r, 400, NULL, "Please enter your name (at most 100 characters).");
		return;
	}
	if (store_member_update(app->store, c->member.id, arena_strndup(r->arena, name.ptr, name.len), NULL, -1)) {
		db_failed(r);
		return;
	}
	http_redirect(r, 303, "/account?notice=name");
}

struct change_password {
	const char *old_hash; /* "" when the account has no password yet */
	const char *current;
	bool current_ok, new_ok;
	struct new_hash nh;
};

static void
change_password_work(struct http_req *r, void *arg)
{
	struct change_password *cp = arg;
	cp->current_ok = !cp->old_hash[0] || (cp->current && password_verify(cp->old_hash, cp->current));
	if (cp->current_ok && cp->new_ok)
		new_hash_work(r, &cp->nh);
}

static void
change_password_done(struct http_req *r, void *arg)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct change_password *cp = arg;
	if (!cp->current_ok) {
		account_page(r, 400, NULL, "Your current password is not right.");
		return;
	}
	if (!cp->new_ok) {
		account_page(r, 400, NULL, "The new password needs at least 8 characters, typed the same twice.");
		return;
	}
	if (cp->nh.err || store_member_set_password(app->store, c->member.email, cp->nh.hash) ||
	    store_session_delete_member(app->store, c->member.id, c->session.token_hash)) {
		db_failed(r);
		return;
	}
	http_redirect(r, 303, "/account?notice=password");
}

void
h_account_password(struct http_req *r)
{
	struct web_ctx *c = web_ctx(r);
	struct change_password *cp = arena_alloc(r->arena, sizeof *cp);
	memset(cp, 0, sizeof *cp);
	cp->old_hash = c->member.password_hash;
	cp->current = http_form(r, "current_password");
	const char *p1 = http_form(r, "password"), *p2 = http_form(r, "password2");
	cp->new_ok = p1 && strlen(p1) >= PASSWORD_MIN && strlen(p1) <= PASSWORD_MAX && p2 && strcmp(p1, p2) == 0;
	cp->nh.password = p1;
	/* Checks of the current password are limited like sign-ins. */
	if (cp->old_hash[0] && !web_rate_ok(r, "current-password", c->member.email))
		return;
	/* Nothing to verify or hash: answer at once. */
	bool slow = cp->old_hash[0] ? cp->current != NULL : cp->new_ok;
	if (slow)
		http_defer(r, change_password_work, change_password_done, cp);
	else
		change_password_done(r, cp);
}

/* A change of e-mail: the current password first (when the account has
 * one), checked on a password thread. */
struct email_request {
	const char *email;
	const char *old_hash, *current;
	bool current_ok;
};

static void
email_request_work(struct http_req *r, void *arg)
{
	struct email_request *er = arg;
	er->current_ok = er->current && password_verify(er->old_hash, er->current);
}

static void
email_request_done(struct http_req *r, void *arg)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	struct email_request *er = arg;
	if (!er->current_ok) {
		account_page(r, 400, NULL, "Your current password is not right.");
		return;
	}
	struct member other;
	mh_err err = store_member_by_email(app->store, r->arena, er->email, &other);
	/* An address in use gets no mail, and the answer does not say so. */
	if ((err && err != MH_ERR_NOTFOUND) ||
	    (err == MH_ERR_NOTFOUND &&
	     !send_link(r, &c->member, TOKEN_EMAIL, er->email, er->email, "/account?notice=email", NULL, false))) {
		db_failed(r);
		return;
	}
	account_page(r, 200,
	             arena_printf(r->arena,
	                          "We sent a confirmation link to %s. Your address changes when you "
	                          "use it.",
	                          er->email),
	             NULL);
}

void
h_email_request(struct http_req *r)
{
	struct web_ctx *c = web_ctx(r);
	const char *email = clean_email(r, http_form(r, "new_email"));
	if (!email) {
		account_page(r, 400, NULL, "Please enter a valid e-mail address.");
		return;
	}
	if (!web_rate_ok(r, "email", email))
		return;
	struct email_request *er = arena_alloc(r->arena, sizeof *er);
	memset(er, 0, sizeof *er);
	er->email = email;
	er->old_hash = c->member.password_hash;
	er->current = http_form(r, "current_password");
	if (!er->old_hash[0]) {
		/* A link-only account: the session and the mailed link vouch. */
		er->current_ok = true;
		email_request_done(r, er);
		return;
	}
	/* Checks of the current password are limited like sign-ins. */
	if (!web_rate_ok(r, "current-password", c->member.email))
		return;
	if (!er->current || strlen(er->current) > PASSWORD_MAX) {
		email_request_done(r, er);
		return;
	}
	http_defer(r, email_request_work, email_request_done, er);
}

/* The address an account had is told that it changed, so that a change
 * made by someone else holding a session does not go unnoticed. */
static void
tell_old_address(struct http_req *r, const struct member *m, const char *old_email)
{
	struct app *app = r->app;
	json_t *ctx = json_object();
	json_t *site = json_object();
	json_object_set_new(site, "name", json_string(app->cfg->site_name));
	json_object_set_new(site, "url", json_string(app->cfg->public_url));
	json_object_set_new(ctx, "site", site);
	json_t *mem = json_object();
	json_object_set_new(mem, "name", json_string(m->name));
	json_object_set_new(ctx, "member", mem);
	json_object_set_new(ctx, "new_email", json_string(m->email));
	if (mail_queue_template(app->store, app->cfg, app->theme.templates, "email-changed", ctx, old_email))
		log_error("cannot queue a mail", "template=email-changed detail=\"%s\"", store_errmsg(app->store));
	json_decref(ctx);
}

void
h_email_page(struct http_req *r)
{
	confirm_page(r, TOKEN_EMAIL, "Confirm your new e-mail address",
	             "Press the button to use this address for your account from now on.", "Confirm address");
}

void
h_email_use(struct http_req *r)
{
	struct app *app = r->app;
	struct member m;
	const char *old_email = NULL;
	mh_err err = account_email_change(app->store, r->arena, r->params[0], clock_now(), &m, &old_email);
	if (err == MH_ERR_NOTFOUND) {
		link_gone(r);
		return;
	}
	if (err == MH_ERR_CONFLICT) {
		message_page(r, 409, "That address is taken",
		             "Another account started using this address in the meantime. Your address is unchanged.",
		             "/account", "Back to your account");
		return;
	}
	if (err) {
		db_failed(r);
		return;
	}
	tell_old_address(r, &m, old_email);
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/account?notice=email");
}

void
h_revoke_all(struct http_req *r)
{
	struct app *app = r->app;
	struct web_ctx *c = web_ctx(r);
	if (store_session_delete_member(app->store, c->member.id, NULL)) {
		db_failed(r);
		return;
	}
	web_set_cookie(r, "masthead_session", "", 0);
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/signin");
}

void
web_mail_signin_link(struct http_req *r, const struct member *m)
{
	send_link(r, m, TOKEN_SIGNIN, m->email, NULL, "/", NULL, false);
}
