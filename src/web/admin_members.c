/* admin_members.c: the newsroom's members (admins only; docs/newsroom.md
 * "Members"): search, a member's page with their subscription, invoices,
 * card and sessions, the actions on it (comp, role, sign-in link, delete),
 * and members as CSV out and in. Password hashes and tokens never reach a
 * page or a file. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/email.h"
#include "core/clock.h"
#include "core/csv.h"
#include "core/log.h"
#include "core/text.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "core/banned.h"

#define MEMBERS_PAGE      50
#define MEMBERS_QUERY_MAX 200
#define MEMBERS_PAGES_MAX 100000
#define MEMBER_NAME_MAX   100 /* as sign-up (account.c) */
#define IMPORT_ROWS_MAX   10000
#define IMPORT_BAD_SHOWN  100
#define UA_SHOWN          120

static const char *const csv_columns[] = { "email", "name", "role", "signed_up", "comped_until", "email_verified" };
#define NCOLUMNS (sizeof csv_columns / sizeof *csv_columns)

static void
oops(struct http_req *r)
{
	app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
}

/* The member named by the path's :id, or an answer (404) and false. */
static bool
path_member(struct http_req *r, struct member *m)
{
	struct app *app = r->app;
	const char *s = r->n_params ? r->params[0] : "";
	char *end;
	long long id = strtoll(s, &end, 10);
	if (!s[0] || *end || id <= 0 || s[0] == '+' || s[0] == ' ') {
		app_not_found(r);
		return false;
	}
	mh_err err = store_member_by_id(app->store, r->arena, id, m);
	if (err == MH_ERR_NOTFOUND) {
		app_not_found(r);
		return false;
	}
	if (err) {
		oops(r);
		return false;
	}
	return true;
}

static const char *
day_of(struct arena *a, int64_t t)
{
	char out[32];
	time_format_iso8601(t, out, sizeof out);
	out[10] = '\0';
	return arena_strdup(a, out);
}

/* ---- The list ---------------------------------------------------------------------------------- */

void
h_admin_members(struct http_req *r)
{
	struct app *app = r->app;
	const char *q = http_query(r, "q");
	const char *page_s = http_query(r, "page");
	if (!q)
		q = "";
	if (strlen(q) > MEMBERS_QUERY_MAX) {
		app_error(r, 400, "That search is too long: use at most 200 characters.");
		return;
	}
	long page = 1;
	if (page_s && page_s[0]) {
		char *end;
		page = strtol(page_s, &end, 10);
		if (*end || page < 1 || page > MEMBERS_PAGES_MAX) {
			app_error(r, 400, "That page of members does not exist.");
			return;
		}
	}
	struct slice qs = slice_trim(slice_from(q));
	const char *needle = arena_strndup(r->arena, qs.ptr, qs.len);
	struct member *list;
	size_t n;
	if (store_member_search(app->store, r->arena, needle, (size_t) (page - 1) * MEMBERS_PAGE, MEMBERS_PAGE + 1,
	                        &list, &n)) {
		oops(r);
		return;
	}
	json_t *ctx = admin_context(r, "Members", ADMIN_MEMBERS);
	json_t *rows = json_array();
	for (size_t i = 0; i < n && i < MEMBERS_PAGE; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "url",
		                    json_string(arena_printf(r->arena, "/admin/members/%lld", (long long) list[i].id)));
		json_object_set_new(o, "email", json_string(list[i].email));
		json_object_set_new(o, "name", json_string(list[i].name));
		json_object_set_new(o, "role", json_string(member_role_name(list[i].role)));
		json_object_set_new(o, "since", json_string(day_of(r->arena, list[i].created_at)));
		json_array_append_new(rows, o);
	}
	json_object_set_new(ctx, "q", json_string(needle));
	json_object_set_new(ctx, "members", rows);
	json_object_set_new(ctx, "any", json_boolean(n > 0));
	struct buf qenc = BUF_INIT;
	buf_add_urlenc(&qenc, needle, strlen(needle));
	const char *qarg = arena_strdup(r->arena, qenc.ptr);
	buf_release(&qenc);
	if (n > MEMBERS_PAGE)
		json_object_set_new(
		        ctx, "next",
		        json_string(arena_printf(r->arena, "/admin/members?q=%s&page=%ld", qarg, page + 1)));
	if (page > 1)
		json_object_set_new(
		        ctx, "prev",
		        json_string(arena_printf(r->arena, "/admin/members?q=%s&page=%ld", qarg, page - 1)));
	json_object_set_new(ctx, "page_no", json_integer(page));
	const char *done = http_query(r, "done");
	if (done && !strcmp(done, "deleted"))
		json_object_set_new(ctx, "notice", json_string("The member and their data were deleted."));
	else if (done && !strcmp(done, "imported"))
		json_object_set_new(ctx, "notice", json_string("The members were imported."));
	admin_send(r, 200, "admin-members", ctx);
}

/* ---- A member's page ----------------------------------------------------------------------------- */

struct member_form {
	const char *comp_until, *comp_error;
	const char *role_error;
	const char *notice;
};

static void
member_page(struct http_req *r, int status, const struct member *m, const struct member_form *f)
{
	struct app *app = r->app;
	struct arena *a = r->arena;
	int64_t now = clock_now();
	json_t *ctx = admin_context(r, m->name[0] ? m->name : m->email, ADMIN_MEMBERS);
	json_t *o = json_object();
	const char *base = arena_printf(a, "/admin/members/%lld", (long long) m->id);
	json_object_set_new(o, "url", json_string(base));
	json_object_set_new(o, "email", json_string(m->email));
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "role", json_string(member_role_name(m->role)));
	json_object_set_new(o, "since", json_string(admin_time(a, m->created_at)));
	json_object_set_new(o, "verified", json_boolean(m->email_verified));
	json_object_set_new(o, "has_password", json_boolean(m->password_hash && m->password_hash[0]));
	if (m->comped_until > now)
		json_object_set_new(o, "comped_until", json_string(admin_time(a, m->comped_until)));
	json_t *roles = json_array();
	for (int i = ROLE_READER; i <= ROLE_ADMIN; i++) {
		json_t *ro = json_object();
		json_object_set_new(ro, "value", json_string(member_role_name((enum member_role) i)));
		json_object_set_new(ro, "selected", json_boolean(m->role == (enum member_role) i));
		json_array_append_new(roles, ro);
	}
	json_object_set_new(o, "roles", roles);
	json_object_set_new(ctx, "member", o);
	json_object_set_new(ctx, "self", json_boolean(web_ctx(r)->member.id == m->id));

	struct subscription sub;
	mh_err err = store_subscription_by_member(app->store, a, m->id, &sub);
	if (err && err != MH_ERR_NOTFOUND) {
		json_decref(ctx);
		oops(r);
		return;
	}
	if (!err) {
		json_t *so = json_object();
		struct plan plan;
		json_object_set_new(so, "status", json_string(sub_status_name(sub.status)));
		json_object_set_new(so, "plan",
		                    json_string(store_plan_get(app->store, a, sub.plan_id, NULL, &plan)
		                                        ? "(a plan no longer on offer)"
		                                        : plan.name));
		json_object_set_new(so, "period_end", json_string(admin_time(a, sub.period_end)));
		json_object_set_new(so, "since", json_string(admin_time(a, sub.created_at)));
		json_object_set_new(so, "cancel_at_period_end", json_boolean(sub.cancel_at_period_end));
		json_object_set_new(so, "provider", json_string(sub.provider));
		if (sub.status == SUB_PAST_DUE && sub.grace_until)
			json_object_set_new(so, "grace_until", json_string(admin_time(a, sub.grace_until)));
		if (sub.trial_end > now)
			json_object_set_new(so, "trial_end", json_string(admin_time(a, sub.trial_end)));
		json_object_set_new(ctx, "subscription", so);
		struct invoice *inv;
		size_t ni;
		if (store_invoice_list(app->store, a, sub.id, &inv, &ni) == MH_OK) {
			json_t *rows = json_array();
			for (size_t i = 0; i < ni; i++) {
				json_t *io = json_object();
				json_object_set_new(io, "created", json_string(admin_time(a, inv[i].created_at)));
				json_object_set_new(
				        io, "period",
				        json_string(arena_printf(a, "%s to %s", day_of(a, inv[i].period_start),
				                                 day_of(a, inv[i].period_end))));
				json_object_set_new(io, "amount",
				                    json_string(billing_money(a, inv[i].amount, inv[i].currency)));
				json_object_set_new(io, "status", json_string(inv[i].status));
				json_object_set_new(io, "attempts", json_integer(inv[i].attempts));
				json_array_append_new(rows, io);
			}
			json_object_set_new(ctx, "invoices", rows);
			json_object_set_new(ctx, "any_invoices", json_boolean(ni > 0));
		}
	}
	struct payment_method pm;
	if (store_payment_method_default(app->store, a, m->id, &pm) == MH_OK) {
		json_t *co = json_object();
		json_object_set_new(co, "brand", json_string(pm.brand));
		json_object_set_new(co, "last4", json_string(pm.last4));
		json_object_set_new(co, "expiry", json_string(arena_printf(a, "%02d/%d", pm.exp_month, pm.exp_year)));
		time_t tt = (time_t) now;
		struct tm tm;
		gmtime_r(&tt, &tm);
		/* A card marked 12/26 works through the end of December 2026. */
		json_object_set_new(
		        co, "expired",
		        json_boolean(pm.exp_year * 12 + pm.exp_month - 1 < (tm.tm_year + 1900) * 12 + tm.tm_mon));
		json_object_set_new(ctx, "card", co);
	}
	struct session *sess;
	size_t ns;
	if (store_session_list(app->store, a, m->id, now, &sess, &ns) == MH_OK) {
		json_t *rows = json_array();
		for (size_t i = 0; i < ns; i++) {
			json_t *so = json_object();
			json_object_set_new(so, "signed_in", json_string(admin_time(a, sess[i].created_at)));
			json_object_set_new(so, "last_seen", json_string(admin_time(a, sess[i].last_seen_at)));
			json_object_set_new(so, "expires", json_string(admin_time(a, sess[i].expires_at)));
			json_object_set_new(so, "ip", json_string(sess[i].ip));
			const char *ua = sess[i].user_agent ? sess[i].user_agent : "";
			json_object_set_new(
			        so, "browser",
			        json_string(strlen(ua) > UA_SHOWN ? arena_printf(a, "%.*s…", UA_SHOWN, ua) : ua));
			json_array_append_new(rows, so);
		}
		json_object_set_new(ctx, "sessions", rows);
		json_object_set_new(ctx, "any_sessions", json_boolean(ns > 0));
	}
	json_object_set_new(ctx, "comp_until", json_string(f && f->comp_until ? f->comp_until : ""));
	if (f && f->comp_error)
		json_object_set_new(ctx, "comp_error", json_string(f->comp_error));
	if (f && f->role_error)
		json_object_set_new(ctx, "role_error", json_string(f->role_error));
	if (f && f->notice)
		json_object_set_new(ctx, "notice", json_string(f->notice));
	json_object_set_new(ctx, "min_day", json_string(day_of(a, now + 86400)));
	admin_send(r, status, "admin-member", ctx);
}

void
h_admin_member(struct http_req *r)
{
	struct member m;
	if (!path_member(r, &m))
		return;
	static const struct {
		const char *key, *text;
	} notices[] = {
		{ "comp", "Complimentary access saved." },
		{ "uncomp", "Complimentary access ended." },
		{ "role", "Role changed." },
		{ "link", "A sign-in link is on its way to the member." },
	};
	struct member_form f = { 0 };
	const char *done = http_query(r, "done");
	for (size_t i = 0; done && i < sizeof notices / sizeof *notices; i++)
		if (!strcmp(done, notices[i].key))
			f.notice = notices[i].text;
	member_page(r, 200, &m, &f);
}

static void
back_to(struct http_req *r, const struct member *m, const char *done)
{
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, arena_printf(r->arena, "/admin/members/%lld?done=%s", (long long) m->id, done));
}

/* POST /admin/members/:id/comp: until= a day (YYYY-MM-DD, through its
 * end, UTC), or empty to end complimentary access. */
void
h_admin_member_comp(struct http_req *r)
{
	struct app *app = r->app;
	struct member m;
	if (!path_member(r, &m))
		return;
	const char *raw = http_form(r, "until");
	struct slice v = slice_trim(slice_from(raw ? raw : ""));
	const char *until_s = arena_strndup(r->arena, v.ptr, v.len > 32 ? 32 : v.len);
	int64_t until = 0, now = clock_now();
	if (v.len) {
		int64_t day;
		if (v.len != 10 || !time_parse_iso8601(until_s, &day)) {
			member_page(
			        r, 422, &m,
			        &(struct member_form){ .comp_until = until_s,
			                               .comp_error = "Give a date as YYYY-MM-DD, e.g. 2027-03-31." });
			return;
		}
		until = day + 86400; /* through the end of that day */
		if (until <= now) {
			member_page(r, 422, &m,
			            &(struct member_form){ .comp_until = until_s,
			                                   .comp_error = "Choose a day after today." });
			return;
		}
	}
	if (store_member_set_comped(app->store, m.id, until)) {
		oops(r);
		return;
	}
	admin_audit(r, "member.comp", m.email, until ? arena_printf(r->arena, "until %s", until_s) : "ended");
	back_to(r, &m, until ? "comp" : "uncomp");
}

/* POST /admin/members/:id/role: role= reader, editor or admin. */
void
h_admin_member_role(struct http_req *r)
{
	struct app *app = r->app;
	struct member m;
	if (!path_member(r, &m))
		return;
	const char *v = http_form(r, "role");
	int role = member_role_parse(v);
	if (role < 0) {
		member_page(r, 422, &m, &(struct member_form){ .role_error = "Choose reader, editor or admin." });
		return;
	}
	if (web_ctx(r)->member.id == m.id) {
		member_page(
		        r, 422, &m,
		        &(struct member_form){ .role_error = "You cannot change your own role: ask another admin." });
		return;
	}
	if (m.role != (enum member_role) role) {
		if (store_member_set_role(app->store, m.email, (enum member_role) role)) {
			oops(r);
			return;
		}
		admin_audit(r, "member.role", m.email, member_role_name((enum member_role) role));
	}
	back_to(r, &m, "role");
}

/* POST /admin/members/:id/link: mails the member a sign-in link, as the
 * sign-in page does. */
void
h_admin_member_link(struct http_req *r)
{
	struct member m;
	if (!path_member(r, &m))
		return;
	web_mail_signin_link(r, &m);
	admin_audit(r, "member.signin_link", m.email, "");
	back_to(r, &m, "link");
}

/* ---- Deleting a member ----------------------------------------------------------------------------- */

static void
delete_page(struct http_req *r, int status, const struct member *m, const char *typed, const char *error)
{
	json_t *ctx = admin_context(r, "Delete a member", ADMIN_MEMBERS);
	json_t *o = json_object();
	json_object_set_new(o, "url", json_string(arena_printf(r->arena, "/admin/members/%lld", (long long) m->id)));
	json_object_set_new(o, "email", json_string(m->email));
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(ctx, "member", o);
	json_object_set_new(ctx, "typed", json_string(typed ? typed : ""));
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	admin_send(r, status, "admin-member-delete", ctx);
}

void
h_admin_member_delete_page(struct http_req *r)
{
	struct member m;
	if (!path_member(r, &m))
		return;
	delete_page(r, 200, &m, NULL, NULL);
}

/* POST /admin/members/:id/delete: confirm= the member's e-mail, typed.
 * The subscription ends at the provider first (billing_end_now), then the
 * member and their data go in one transaction. */
void
h_admin_member_delete(struct http_req *r)
{
	struct app *app = r->app;
	struct member m;
	if (!path_member(r, &m))
		return;
	const char *raw = http_form(r, "confirm");
	char typed[EMAIL_MAX + 1];
	if (!raw || !email_normalize(raw, typed, sizeof typed) || strcmp(typed, m.email)) {
		delete_page(r, 422, &m, raw && strlen(raw) <= EMAIL_MAX ? raw : "",
		            "Type the member's e-mail address exactly to confirm.");
		return;
	}
	if (web_ctx(r)->member.id == m.id) {
		delete_page(r, 422, &m, typed, "You cannot delete your own account here.");
		return;
	}
	mh_err err = billing_end_now(&app->billing, m.id, clock_now());
	if (err == MH_ERR_UNSUPPORTED) {
		delete_page(r, 409, &m, typed,
		            "This member pays through Stripe: cancel their subscription in Stripe's dashboard first, "
		            "then delete the member.");
		return;
	}
	if (!err)
		err = store_member_delete(app->store, m.id);
	if (err == MH_OK)
		admin_audit(r, "member.delete", m.email, "with their data");
	else if (err != MH_ERR_NOTFOUND) { /* NOTFOUND: deleted meanwhile, as asked */
		oops(r);
		return;
	}
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/admin/members?done=deleted");
}

/* ---- CSV out --------------------------------------------------------------------------------------- */

/* One field per RFC 4180, with a cell a spreadsheet would read as a
 * formula (= + - @) prefixed by a single quote. */
static void
csv_field(struct buf *b, const char *v)
{
	bool guard = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@';
	bool quote = guard || strpbrk(v, ",\"\r\n") != NULL || v[0] == ' ' || (v[0] && v[strlen(v) - 1] == ' ');
	if (!quote) {
		buf_puts(b, v);
		return;
	}
	buf_putc(b, '"');
	if (guard)
		buf_putc(b, '\'');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			buf_putc(b, '"');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

void
h_admin_members_csv(struct http_req *r)
{
	struct app *app = r->app;
	struct member *list;
	size_t n;
	if (store_member_list(app->store, r->arena, &list, &n)) {
		oops(r);
		return;
	}
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_puts(&b, csv_columns[i]);
	}
	buf_puts(&b, "\r\n");
	for (size_t i = 0; i < n; i++) {
		char t[32], c[32] = "";
		time_format_iso8601(list[i].created_at, t, sizeof t);
		if (list[i].comped_until)
			time_format_iso8601(list[i].comped_until, c, sizeof c);
		csv_field(&b, list[i].email);
		buf_putc(&b, ',');
		csv_field(&b, list[i].name);
		buf_printf(&b, ",%s,%s,%s,%s\r\n", member_role_name(list[i].role), t, c,
		           list[i].email_verified ? "yes" : "no");
	}
	if (b.err) {
		buf_release(&b);
		oops(r);
		return;
	}
	admin_audit(r, "members.export", "", arena_printf(r->arena, "%zu members", n));
	http_add_header(r, "Cache-Control", "private, no-store");
	http_add_header(r, "Content-Disposition", "attachment; filename=\"members.csv\"");
	http_respond(r, 200, "text/csv; charset=utf-8; header=present", &b);
}

/* ---- CSV in ---------------------------------------------------------------------------------------- */

static void
import_page(struct http_req *r, int status, const char *text, json_t *bad, const char *error)
{
	json_t *ctx = admin_context(r, "Import members", ADMIN_MEMBERS);
	json_object_set_new(ctx, "csv", json_string(text ? text : ""));
	if (bad) {
		json_object_set_new(ctx, "bad", bad);
		json_object_set_new(ctx, "any_bad", json_boolean(json_array_size(bad) > 0));
	}
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	json_t *cols = json_array();
	for (size_t i = 0; i < NCOLUMNS; i++)
		json_array_append_new(cols, json_string(csv_columns[i]));
	json_object_set_new(ctx, "columns", cols);
	admin_send(r, status, "admin-members-import", ctx);
}

void
h_admin_members_import_page(struct http_req *r)
{
	import_page(r, 200, NULL, NULL, NULL);
}

/* A cell as exported: the formula guard's quote taken off again. */
static const char *
unguard(const char *v)
{
	if (v[0] == '\'' && (v[1] == '=' || v[1] == '+' || v[1] == '-' || v[1] == '@'))
		return v + 1;
	return v;
}

static void
bad_row(struct arena *a, json_t *bad, int line, const char *fmt, const char *arg)
{
	if (json_array_size(bad) > IMPORT_BAD_SHOWN)
		return;
	json_t *o = json_object();
	json_object_set_new(o, "line", json_integer(line));
	json_object_set_new(o, "message", json_string(arena_printf(a, fmt, arg)));
	json_array_append_new(bad, o);
}

static bool
yes_no(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false", "0", "" };
	for (size_t i = 0; i < 3; i++)
		if (!strcasecmp(v, yes[i]))
			return *out = true;
	for (size_t i = 0; i < 4; i++)
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return true;
		}
	return false;
}

/* POST /admin/members/import: csv= the file's text (the page's textarea,
 * which a little script can fill from a chosen file). Every row is checked
 * before any is written; then all are created in one transaction. */
void
h_admin_members_import(struct http_req *r)
{
	struct app *app = r->app;
	struct arena *a = r->arena;
	const char *text = http_form(r, "csv");
	if (!text || !text[0]) {
		import_page(r, 422, "", NULL, "Paste the CSV file's contents, or choose the file.");
		return;
	}
	int64_t now = clock_now();
	struct csv c;
	csv_init(&c, text, strlen(text));
	char **f;
	size_t nf;
	int line;
	int rc = csv_next(&c, a, &f, &nf, &line);
	int col[NCOLUMNS];
	for (size_t i = 0; i < NCOLUMNS; i++)
		col[i] = -1;
	json_t *bad = json_array();
	if (rc != 1) {
		import_page(r, 422, text, NULL, "The first line must name the columns, e.g. email,name.");
		json_decref(bad);
		return;
	}
	size_t header_n = nf;
	for (size_t i = 0; i < nf; i++) {
		struct slice h = slice_trim(slice_from(f[i]));
		size_t k = 0;
		while (k < NCOLUMNS && !(strlen(csv_columns[k]) == h.len && !strncasecmp(csv_columns[k], h.ptr, h.len)))
			k++;
		if (k == NCOLUMNS)
			bad_row(a, bad, line, "unknown column \"%s\"",
			        arena_strndup(a, h.ptr, h.len > 40 ? 40 : h.len));
		else if (col[k] >= 0)
			bad_row(a, bad, line, "the column %s comes twice", csv_columns[k]);
		else
			col[k] = (int) i;
	}
	if (col[0] < 0)
		bad_row(a, bad, line, "%s", "there is no email column");
	if (json_array_size(bad)) {
		import_page(r, 422, text, bad, NULL);
		return;
	}
	size_t cap = 64, n = 0;
	struct member *ms = arena_alloc(a, cap * sizeof *ms);
	int *lines = arena_alloc(a, cap * sizeof *lines);
	size_t bad_count = 0;
	while ((rc = csv_next(&c, a, &f, &nf, &line)) != 0) {
		if (rc < 0) {
			bad_row(a, bad, line, "%s", "a quote is left open or the row is malformed");
			bad_count++;
			continue;
		}
		if (nf == 1 && !f[0][0])
			continue; /* a blank line */
		if (n + bad_count >= IMPORT_ROWS_MAX) {
			import_page(r, 413, text, NULL, "A file may hold at most 10,000 members: split it.");
			json_decref(bad);
			return;
		}
		size_t before = json_array_size(bad);
		if (nf != header_n) {
			bad_row(a, bad, line, "%s",
			        arena_printf(a, "has %zu field%s, the header %zu", nf, nf == 1 ? "" : "s", header_n));
			bad_count++;
			continue;
		}
		struct member m = { 0 };
		char email[EMAIL_MAX + 1];
		const char *raw = unguard(f[col[0]]);
		if (!email_normalize(raw, email, sizeof email))
			bad_row(a, bad, line, "\"%s\" is not an e-mail address",
			        arena_strndup(a, raw, strlen(raw) > 60 ? 60 : strlen(raw)));
		m.email = arena_strdup(a, email);
		m.name = col[1] >= 0 ? unguard(f[col[1]]) : "";
		struct slice nm = slice_trim(slice_from(m.name));
		m.name = arena_strndup(a, nm.ptr, nm.len);
		bool ctl = false;
		for (const char *p = m.name; *p; p++)
			ctl |= (unsigned char) *p < 0x20 || *p == 0x7f;
		if (nm.len > MEMBER_NAME_MAX || ctl)
			bad_row(a, bad, line, "%s",
			        "the name is longer than 100 characters or holds control characters");
		m.role = ROLE_READER;
		if (col[2] >= 0 && f[col[2]][0]) {
			int role = member_role_parse(f[col[2]]);
			if (role < 0)
				bad_row(a, bad, line, "%s", "the role must be reader, editor or admin");
			else
				m.role = (enum member_role) role;
		}
		m.created_at = now;
		if (col[3] >= 0 && f[col[3]][0] && !time_parse_iso8601(f[col[3]], &m.created_at))
			bad_row(a, bad, line, "%s", "signed_up is not a date (2026-11-20T09:00:00Z)");
		if (col[4] >= 0 && f[col[4]][0] && !time_parse_iso8601(f[col[4]], &m.comped_until))
			bad_row(a, bad, line, "%s", "comped_until is not a date (2026-11-20T09:00:00Z)");
		if (col[5] >= 0 && !yes_no(f[col[5]], &m.email_verified))
			bad_row(a, bad, line, "%s", "email_verified must be yes or no");
		m.password_hash = "";
		if (json_array_size(bad) == before && email[0]) {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(ms[i].email, m.email)) {
					bad_row(a, bad, line, "%s",
					        arena_printf(a, "%s is on line %d already", m.email, lines[i]));
					break;
				}
		}
		if (json_array_size(bad) == before && email[0]) {
			struct member old;
			mh_err err = store_member_by_email(app->store, a, m.email, &old);
			if (err == MH_OK)
				bad_row(a, bad, line, "%s is a member already", m.email);
			else if (err != MH_ERR_NOTFOUND) {
				json_decref(bad);
				oops(r);
				return;
			}
		}
		if (json_array_size(bad) != before) {
			bad_count++;
			continue;
		}
		if (n == cap) {
			struct member *more = arena_alloc(a, 2 * cap * sizeof *ms);
			int *morel = arena_alloc(a, 2 * cap * sizeof *lines);
			memcpy(more, ms, cap * sizeof *ms);
			memcpy(morel, lines, cap * sizeof *lines);
			ms = more, lines = morel, cap *= 2;
		}
		lines[n] = line;
		ms[n++] = m;
	}
	if (bad_count) {
		import_page(r, 422, text, bad,
		            arena_printf(a, "Nothing was imported: %zu row%s need%s fixing.", bad_count,
		                         bad_count == 1 ? "" : "s", bad_count == 1 ? "s" : ""));
		return;
	}
	if (!n) {
		json_decref(bad);
		import_page(r, 422, text, NULL, "The file holds no members below its header.");
		return;
	}
	size_t at = 0;
	mh_err err = store_member_import(app->store, ms, n, &at);
	if (err == MH_ERR_CONFLICT) {
		/* Someone signed up with that address since the check. */
		bad_row(a, bad, lines[at], "%s is a member already", ms[at].email);
		import_page(r, 422, text, bad, "Nothing was imported: 1 row needs fixing.");
		return;
	}
	json_decref(bad);
	if (err) {
		oops(r);
		return;
	}
	admin_audit(r, "members.import", "", arena_printf(a, "%zu members", n));
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/admin/members?done=imported");
}
