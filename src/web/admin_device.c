/* admin_device.c: an editor or admin signing in from a new device confirms
 * it with a code sent by mail (docs/newsroom.md, "Staff security").
 *
 * A device is a browser holding a device cookie for the member: their id,
 * an expiry and a MAC under the site secret that also covers the browser's
 * own id (web_browser_id), so a copied cookie holds nothing elsewhere.
 * A code is 8 digits, good for CODE_MINUTES, CODE_ATTEMPTS tries and one
 * use; the store keeps only a MAC of it, and the pending cookie names its
 * row, MAC'd the same way. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "mail/mail.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "core/banned.h"

#define DEVICE_COOKIE  "masthead_device"
#define PENDING_COOKIE "masthead_device_code"
#define DEVICE_DAYS    180
#define CODE_MINUTES   10
#define CODE_ATTEMPTS  5
#define CODE_DIGITS    8

/* "payload.mac", the MAC over payload and this browser's id. */
static const char *
signed_value(struct http_req *r, const char *label, const char *payload)
{
	struct app *app = r->app;
	const char *browser = web_browser_id(r, NULL);
	const char *msg = arena_concat(r->arena, payload, "|", browser, NULL);
	char mac[TOKEN_MAC_CHARS + 1];
	token_mac(app->secret, label, msg, strlen(msg), mac);
	return arena_concat(r->arena, payload, ".", mac, NULL);
}

/* The payload of a signed value, or NULL when its MAC does not hold here. */
static const char *
signed_payload(struct http_req *r, const char *label, const char *value)
{
	if (!value || strlen(value) > 128)
		return NULL;
	const char *dot = strrchr(value, '.');
	if (!dot)
		return NULL;
	const char *payload = arena_strndup(r->arena, value, (size_t) (dot - value));
	const char *want = signed_value(r, label, payload);
	if (strlen(want) != strlen(value) || sodium_memcmp(want, value, strlen(value)) != 0)
		return NULL;
	return payload;
}

static bool
device_known(struct http_req *r, int64_t member_id)
{
	const char *p = signed_payload(r, "device", http_cookie(r, DEVICE_COOKIE));
	long long id, until;
	char extra;
	if (!p || sscanf(p, "%lld.%lld%c", &id, &until, &extra) != 2)
		return false;
	return id == member_id && until > clock_now();
}

/* The code's MAC as the store keeps it: a leaked table does not give the
 * codes away without the site secret. */
static void
code_mac(struct http_req *r, int64_t member_id, const char *code, char out[TOKEN_MAC_CHARS + 1])
{
	struct app *app = r->app;
	const char *msg = arena_printf(r->arena, "%lld|%s", (long long) member_id, code);
	token_mac(app->secret, "device-code", msg, strlen(msg), out);
}

static void
record(struct http_req *r, const struct member *m, const char *action, const char *detail)
{
	struct app *app = r->app;
	struct audit_entry e = { 0, clock_now(), m->id, m->email, action, m->email, detail, web_client_ip(r) };
	if (store_audit_add(app->store, &e))
		log_error("cannot record an audit entry", "action=\"%s\" error=\"%s\"", action,
		          store_errmsg(app->store));
}

static void
device_page(struct http_req *r, int status, const char *next, const char *error)
{
	json_t *ctx = page_context(r, "Confirm this device", NULL);
	json_object_set_new(json_object_get(ctx, "page"), "noindex", json_true());
	json_object_set_new(ctx, "csrf", json_string(web_csrf(r)));
	json_object_set_new(ctx, "next", json_string(web_safe_next(next)));
	json_object_set_new(ctx, "minutes", json_integer(CODE_MINUTES));
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	page_send(r, status, "signin-device", ctx, CACHE_PRIVATE);
}

bool
web_device_gate(struct http_req *r, const struct member *m, const char *next)
{
	struct app *app = r->app;
	const struct config *cfg = app->cfg;
	if (m->role < ROLE_EDITOR || !cfg->staff_device_check || device_known(r, m->id))
		return false;
	char code[CODE_DIGITS + 1], mac[TOKEN_MAC_CHARS + 1];
	snprintf(code, sizeof code, "%08u", (unsigned) randombytes_uniform(100000000u));
	code_mac(r, m->id, code, mac);
	int64_t now = clock_now(), id = 0;
	mh_err err = store_device_code_add(app->store, m->id, mac, now, now + CODE_MINUTES * 60, &id);
	if (!err) {
		const char *text = arena_printf(
		        r->arena,
		        "Someone, probably you, is signing in to the newsroom of %s from a device it has not seen "
		        "before.\n\nYour code: %s\n\nIt works once, for %d minutes. If this was not you, do not "
		        "share the code; change your password.\n\nFrom the address %s.\n",
		        cfg->site_name, code, CODE_MINUTES, web_client_ip(r));
		struct mail_msg msg = { m->email, arena_printf(r->arena, "Your sign-in code for %s", cfg->site_name),
			                text, "" };
		err = mail_queue(app->store, cfg, &msg);
	}
	sodium_memzero(code, sizeof code);
	if (err) {
		log_error("cannot send a device code", "error=\"%s\"", store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return true;
	}
	if (app->mailer)
		mailer_wake(app->mailer);
	record(r, m, "device.code_sent", "");
	web_set_cookie(r, PENDING_COOKIE,
	               signed_value(r, "device-pending", arena_printf(r->arena, "%lld", (long long) id)),
	               CODE_MINUTES * 60);
	http_add_header(r, "Cache-Control", "private, no-store");
	const char *safe = web_safe_next(next);
	struct buf b = BUF_INIT;
	buf_puts(&b, "/signin/device?next=");
	buf_add_urlenc(&b, safe, strlen(safe));
	http_redirect(r, 303, arena_strndup(r->arena, b.ptr, b.len));
	buf_release(&b);
	return true;
}

/* The pending code's row id, or 0. */
static int64_t
pending_id(struct http_req *r)
{
	const char *p = signed_payload(r, "device-pending", http_cookie(r, PENDING_COOKIE));
	long long id;
	char extra;
	if (!p || sscanf(p, "%lld%c", &id, &extra) != 1 || id <= 0)
		return 0;
	return id;
}

void
h_device_form(struct http_req *r)
{
	if (!pending_id(r)) {
		http_add_header(r, "Cache-Control", "private, no-store");
		http_redirect(r, 303, "/signin");
		return;
	}
	device_page(r, 200, http_query(r, "next"), NULL);
}

void
h_device_confirm(struct http_req *r)
{
	struct app *app = r->app;
	const char *next = http_form(r, "next");
	int64_t id = pending_id(r);
	struct device_code dc;
	struct member m;
	mh_err err = id ? store_device_code_get(app->store, r->arena, id, &dc) : MH_ERR_NOTFOUND;
	if (!err)
		err = store_member_by_id(app->store, r->arena, dc.member_id, &m);
	if (err == MH_ERR_NOTFOUND) {
		device_page(r, 400, next, "This code has expired. Sign in again to get a new one.");
		return;
	}
	if (err) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	/* Each try counts before the comparison; past the limit, expired or
	 * spent, no code opens it. */
	err = store_device_code_try(app->store, id, CODE_ATTEMPTS, clock_now());
	if (err == MH_ERR_NOTFOUND) {
		record(r, &m, "device.refused", "expired, spent or too many attempts");
		device_page(r, 429, next,
		            "This code can no longer be used (it expired or was tried too many times). Sign in "
		            "again to get a new one.");
		return;
	}
	if (err) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	const char *code = http_form(r, "code");
	char digits[CODE_DIGITS + 1] = "";
	size_t nd = 0;
	for (const char *p = code ? code : ""; *p && nd <= CODE_DIGITS && p - code < 64; p++)
		if (*p >= '0' && *p <= '9') {
			if (nd < CODE_DIGITS)
				digits[nd] = *p;
			nd++;
		} else if (*p != ' ' && *p != '-') {
			nd = CODE_DIGITS + 1;
		}
	char mac[TOKEN_MAC_CHARS + 1];
	bool ok = nd == CODE_DIGITS;
	if (ok) {
		digits[CODE_DIGITS] = '\0';
		code_mac(r, m.id, digits, mac);
		ok = strlen(dc.code_hash) == TOKEN_MAC_CHARS && sodium_memcmp(mac, dc.code_hash, TOKEN_MAC_CHARS) == 0;
	}
	if (!ok) {
		record(r, &m, "device.wrong_code",
		       arena_printf(r->arena, "attempt %d of %d", dc.attempts + 1, CODE_ATTEMPTS));
		device_page(r, 422, next, "That code is not right. Check the latest mail and try again.");
		return;
	}
	err = store_device_code_use(app->store, id);
	if (err == MH_ERR_NOTFOUND) {
		device_page(r, 400, next, "This code was used already. Sign in again to get a new one.");
		return;
	}
	if (err || web_sign_in(r, &m)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	int64_t until = clock_now() + DEVICE_DAYS * 86400L;
	web_set_cookie(
	        r, DEVICE_COOKIE,
	        signed_value(r, "device", arena_printf(r->arena, "%lld.%lld", (long long) m.id, (long long) until)),
	        DEVICE_DAYS * 86400L);
	web_set_cookie(r, PENDING_COOKIE, "", 0);
	record(r, &m, "device.confirmed", http_header(r, "User-Agent") ? http_header(r, "User-Agent") : "");
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, web_safe_next(next));
}
