/* admin_settings.c: /admin/settings (admins only): the site's settings,
 * plans and prices, and the Content API's keys. What is saved goes to the
 * store in one transaction and reaches every node (web/settings.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/content.h"
#include "auth/token.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/settings.h"
#include "core/banned.h"

#define PLANS_MAX     32
#define PLAN_NAME_MAX 80
#define PRICE_MAX     100000000 /* minor units: a million in the currency */
#define TRIAL_MAX     365
#define KEY_NAME_MAX  64

static const char *const groups[] = { "Site", "Paywall", "Billing", "Mail", "Staff security" };

/* The value a field shows: the one in force, never a secret's. */
static const char *
current_value(const struct config *c, const struct settings_field *f, char *num, size_t numlen)
{
	const struct config_key *k = config_find(f->key);
	const void *field = (const char *) c + k->offset;
	switch (k->type) {
	case CONFIG_STR: {
		const char *s = *(char *const *) field;
		return s ? s : "";
	}
	case CONFIG_LONG: snprintf(num, numlen, "%ld", *(const long *) field); return num;
	case CONFIG_BOOL: return *(const bool *) field ? "true" : "false";
	}
	return "";
}

/* What the form holds: per field, the value shown and the error. */
struct form_state {
	const char *value[32];
	const char *error[32];
	bool clear[32];
	struct plan plans[PLANS_MAX];
	const char *plan_price[PLANS_MAX], *plan_error[PLANS_MAX];
	size_t nplans;
	bool any_error;
};

static size_t
field_count(void)
{
	size_t n = 0;
	while (settings_fields[n].key)
		n++;
	return n;
}

static const char *
price_text(struct arena *a, int64_t amount)
{
	return arena_printf(a, "%lld.%02lld", (long long) (amount / 100), (long long) (amount % 100));
}

/* "8", "8.5", "8.00": minor units, or -1. */
static int64_t
parse_price(const char *s)
{
	if (!s || !*s || strlen(s) > 12)
		return -1;
	int64_t whole = 0, cents = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		whole = whole * 10 + (*p++ - '0');
	if (*p == '.') {
		p++;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 2) {
			cents = cents * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
		if (digits == 1)
			cents *= 10;
	}
	if (*p)
		return -1;
	int64_t v = whole * 100 + cents;
	return v > PRICE_MAX ? -1 : v;
}

static bool
parse_count(const char *s, long min, long max, long *out)
{
	if (!s || !*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return false;
	long v = strtol(s, NULL, 10);
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void
render(struct http_req *r, int status, struct form_state *fs, const char *notice, const char *error)
{
	struct app *app = r->app;
	const struct config *cfg = app->cfg;
	json_t *ctx = admin_context(r, "Settings", ADMIN_SETTINGS);
	if (notice)
		json_object_set_new(ctx, "notice", json_string(notice));
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	json_t *gs = json_array();
	for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
		json_t *fields = json_array();
		for (size_t i = 0; settings_fields[i].key; i++) {
			const struct settings_field *f = &settings_fields[i];
			if (strcmp(f->group, groups[g]))
				continue;
			json_t *o = json_object();
			char num[32];
			bool fixed = config_fixed(app->base, f->key);
			/* A secret's state is the one in force, whatever the form held. */
			const char *v = fs && fs->value[i] && !fixed && f->kind != SETTING_SECRET
			                        ? fs->value[i]
			                        : current_value(cfg, f, num, sizeof num);
			json_object_set_new(o, "key", json_string(f->key));
			json_object_set_new(o, "label", json_string(f->label));
			json_object_set_new(o, "help", json_string(f->help));
			json_object_set_new(o, "fixed", json_boolean(fixed));
			json_object_set_new(o, "text", json_boolean(f->kind == SETTING_TEXT));
			json_object_set_new(o, "number", json_boolean(f->kind == SETTING_NUMBER));
			json_object_set_new(o, "bool", json_boolean(f->kind == SETTING_BOOL));
			json_object_set_new(o, "choice", json_boolean(f->kind == SETTING_CHOICE));
			json_object_set_new(o, "secret", json_boolean(f->kind == SETTING_SECRET));
			json_object_set_new(o, "min", json_integer(f->min));
			json_object_set_new(o, "max", json_integer(f->max));
			if (f->kind == SETTING_SECRET)
				json_object_set_new(o, "is_set", json_boolean(v[0] != '\0'));
			else
				json_object_set_new(o, "value", json_string(v));
			json_object_set_new(o, "checked", json_boolean(!strcmp(v, "true")));
			if (f->kind == SETTING_CHOICE) {
				json_t *opts = json_array();
				const char *p = f->choices;
				while (*p) {
					size_t n = strcspn(p, "|");
					const char *c = arena_strndup(r->arena, p, n);
					json_t *oo = json_object();
					json_object_set_new(oo, "name", json_string(c));
					json_object_set_new(oo, "selected", json_boolean(!strcmp(c, v)));
					json_array_append_new(opts, oo);
					p += n + (p[n] == '|');
				}
				json_object_set_new(o, "options", opts);
			}
			if (fs && fs->error[i]) {
				json_object_set_new(o, "error", json_string(fs->error[i]));
			}
			json_array_append_new(fields, o);
		}
		json_t *go = json_object();
		json_object_set_new(go, "name", json_string(groups[g]));
		json_object_set_new(go, "fields", fields);
		json_array_append_new(gs, go);
	}
	json_object_set_new(ctx, "groups", gs);

	json_t *plans = json_array();
	struct plan *list = NULL;
	size_t n = 0;
	if (fs) {
		list = fs->plans;
		n = fs->nplans;
	} else if (store_plan_list(app->store, r->arena, true, &list, &n)) {
		json_decref(ctx);
		json_decref(plans);
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	for (size_t i = 0; i < n && i < PLANS_MAX; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(list[i].id));
		json_object_set_new(o, "code", json_string(list[i].code));
		json_object_set_new(o, "name", json_string(list[i].name));
		json_object_set_new(o, "price",
		                    json_string(fs && fs->plan_price[i] ? fs->plan_price[i]
		                                                        : price_text(r->arena, list[i].amount)));
		json_object_set_new(o, "currency", json_string(list[i].currency));
		json_object_set_new(o, "months", json_integer(list[i].interval_months));
		json_object_set_new(o, "trial", json_integer(list[i].trial_days));
		json_object_set_new(o, "offered", json_boolean(!list[i].retired));
		if (fs && fs->plan_error[i])
			json_object_set_new(o, "error", json_string(fs->plan_error[i]));
		json_array_append_new(plans, o);
	}
	json_object_set_new(ctx, "plans", plans);
	json_object_set_new(ctx, "any_plans", json_boolean(n > 0));
	admin_send(r, status, "admin-settings", ctx);
}

void
h_admin_settings(struct http_req *r)
{
	const char *notice = http_query(r, "notice");
	render(r, 200, NULL,
	       notice && !strcmp(notice, "saved") ? "Settings saved. Every node uses them within a second." : NULL,
	       NULL);
}

/* Checks one posted field into fs; the value it stores into *out ("" for
 * an unchanged secret). */
static void
check_field(struct http_req *r, struct form_state *fs, size_t i, struct config *scratch)
{
	const struct settings_field *f = &settings_fields[i];
	const char *v = http_form(r, f->key);
	if (f->kind == SETTING_BOOL)
		v = v ? "true" : "false";
	if (!v)
		v = "";
	fs->value[i] = v;
	char err[256];
	if (f->kind == SETTING_TEXT || f->kind == SETTING_SECRET) {
		size_t len = strlen(v);
		if (f->kind == SETTING_TEXT && (long) len < f->min) {
			fs->error[i] = arena_printf(r->arena, "%s cannot be empty.", f->label);
		} else if ((long) len > f->max) {
			fs->error[i] = arena_printf(r->arena, "%s is longer than %ld characters.", f->label, f->max);
		} else {
			for (const unsigned char *p = (const unsigned char *) v; *p; p++)
				if (*p < ' ' || *p == 0x7f) {
					fs->error[i] = arena_printf(r->arena, "%s must be one line.", f->label);
					break;
				}
		}
		if (f->kind == SETTING_SECRET) {
			fs->clear[i] = http_form(r, arena_concat(r->arena, f->key, "-clear", NULL)) != NULL;
			if (!v[0])
				return; /* kept as it is, or cleared */
		}
	} else if (f->kind == SETTING_NUMBER) {
		long n;
		if (!parse_count(v, f->min, f->max, &n))
			fs->error[i] = arena_printf(r->arena, "Enter a whole number from %ld to %ld.", f->min, f->max);
	} else if (f->kind == SETTING_CHOICE) {
		bool ok = false;
		const char *p = f->choices;
		while (*p) {
			size_t n = strcspn(p, "|");
			ok |= strlen(v) == n && !strncmp(p, v, n);
			p += n + (p[n] == '|');
		}
		if (!ok)
			fs->error[i] = arena_printf(r->arena, "Choose one of the listed options.");
	}
	if (!fs->error[i] && config_set(scratch, f->key, v, err, sizeof err)) {
		if (!strcmp(f->key, "public-url"))
			fs->error[i] = "Enter an address starting with http:// or https://, e.g. https://news.example.";
		else if (!strcmp(f->key, "smtp-url"))
			fs->error[i] = "Enter an address starting with smtp:// or smtps://, or leave it empty.";
		else
			fs->error[i] = arena_printf(r->arena, "%s is not valid.", f->label);
	}
	if (fs->error[i])
		fs->any_error = true;
}

void
h_admin_settings_save(struct http_req *r)
{
	struct app *app = r->app;
	const struct config *cfg = app->cfg;
	struct form_state *fs = arena_zalloc(r->arena, sizeof *fs);
	size_t nf = field_count();
	if (nf > sizeof fs->value / sizeof *fs->value) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	struct config scratch;
	config_copy(&scratch, cfg);
	for (size_t i = 0; i < nf; i++)
		if (!config_fixed(app->base, settings_fields[i].key))
			check_field(r, fs, i, &scratch);
	config_release(&scratch);

	/* Plans: every plan on the form, changed or not, is written back. */
	struct plan *list;
	size_t n;
	if (store_plan_list(app->store, r->arena, true, &list, &n)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	fs->nplans = n < PLANS_MAX ? n : PLANS_MAX;
	for (size_t i = 0; i < fs->nplans; i++) {
		struct plan *p = &fs->plans[i];
		*p = list[i];
		const char *pre = arena_printf(r->arena, "plan-%lld-", (long long) p->id);
		const char *name = http_form(r, arena_concat(r->arena, pre, "name", NULL));
		const char *price = http_form(r, arena_concat(r->arena, pre, "price", NULL));
		const char *trial = http_form(r, arena_concat(r->arena, pre, "trial", NULL));
		bool offered = http_form(r, arena_concat(r->arena, pre, "offered", NULL)) != NULL;
		if (!name && !price && !trial)
			continue; /* not on the form it came from (a plan made since): left alone */
		name = name ? name : "";
		fs->plan_price[i] = price ? price : "";
		p->name = name;
		p->retired = !offered;
		int64_t amount = parse_price(price);
		long t;
		size_t nl = strlen(name);
		bool name_ok = nl > 0 && nl <= PLAN_NAME_MAX && !strpbrk(name, "\r\n\t");
		if (!name_ok)
			fs->plan_error[i] = "Give the plan a name of up to 80 characters.";
		else if (amount < 0)
			fs->plan_error[i] = "Enter a price such as 8.00 (at most 1000000.00).";
		else if (amount != list[i].amount && list[i].provider_price_id && list[i].provider_price_id[0])
			fs->plan_error[i] =
			        "This plan's price is kept at the payment provider (Stripe): change it there.";
		else if (!parse_count(trial ? trial : "", 0, TRIAL_MAX, &t))
			fs->plan_error[i] = "Enter a trial length from 0 to 365 days.";
		else {
			p->amount = amount;
			p->trial_days = (int) t;
		}
		if (fs->plan_error[i])
			fs->any_error = true;
	}
	/* Stripe needs its keys: those entered now or kept. */
	const struct settings_field *f = settings_fields;
	size_t prov = 0, sk = 0, wh = 0;
	for (size_t i = 0; i < nf; i++) {
		if (!strcmp(f[i].key, "billing-provider"))
			prov = i;
		if (!strcmp(f[i].key, "stripe-secret-key"))
			sk = i;
		if (!strcmp(f[i].key, "stripe-webhook-secret"))
			wh = i;
	}
	if (!fs->error[prov] && fs->value[prov] && !strcmp(fs->value[prov], "stripe")) {
		bool has_sk = fs->value[sk] && fs->value[sk][0] ? true : (!fs->clear[sk] && cfg->stripe_secret_key[0]);
		bool has_wh =
		        fs->value[wh] && fs->value[wh][0] ? true : (!fs->clear[wh] && cfg->stripe_webhook_secret[0]);
		if (!has_sk || !has_wh) {
			fs->error[prov] =
			        "Stripe needs its secret key and its webhook signing secret: enter them below.";
			fs->any_error = true;
		}
	}
	if (fs->any_error) {
		render(r, 422, fs, NULL, "Some settings need attention: nothing was saved. See the messages below.");
		return;
	}

	/* Rows for every setting the newsroom may set; the audit names the changed ones. */
	struct setting *put = arena_alloc(r->arena, nf * sizeof *put);
	const char **del = arena_alloc(r->arena, nf * sizeof *del);
	size_t np = 0, nd = 0;
	struct buf changed = BUF_INIT;
	for (size_t i = 0; i < nf; i++) {
		if (config_fixed(app->base, f[i].key) || !fs->value[i])
			continue;
		char num[32];
		const char *was = current_value(cfg, &f[i], num, sizeof num);
		if (f[i].kind == SETTING_SECRET) {
			if (fs->value[i][0]) {
				put[np++] = (struct setting){
					f[i].key, settings_seal_secret(r->arena, app, f[i].key, fs->value[i]), true
				};
			} else if (fs->clear[i]) {
				del[nd++] = f[i].key;
			} else {
				continue;
			}
			buf_printf(&changed, "%s%s", changed.len ? ", " : "", f[i].key);
			continue;
		}
		/* A text the operator's config gives already, or one derived from
		 * others (the sender from the name, the address from the listener),
		 * is not pinned by a save that leaves it as shown: its row goes, and
		 * it follows them. */
		char bnum[32];
		bool derived = (!strcmp(f[i].key, "mail-from") && cfg->mail_from_derived) ||
		               (!strcmp(f[i].key, "public-url") && cfg->public_url_derived);
		if ((f[i].kind == SETTING_TEXT &&
		     !strcmp(fs->value[i], current_value(app->base, &f[i], bnum, sizeof bnum))) ||
		    (derived && !strcmp(fs->value[i], was)) || (!strcmp(f[i].key, "public-url") && !fs->value[i][0]))
			del[nd++] = f[i].key;
		else
			put[np++] = (struct setting){ f[i].key, fs->value[i], false };
		if (strcmp(was, fs->value[i]))
			buf_printf(&changed, "%s%s", changed.len ? ", " : "", f[i].key);
	}
	for (size_t i = 0; i < fs->nplans; i++) {
		if (list[i].amount != fs->plans[i].amount || list[i].trial_days != fs->plans[i].trial_days ||
		    list[i].retired != fs->plans[i].retired || strcmp(list[i].name, fs->plans[i].name))
			buf_printf(&changed, "%splan %s", changed.len ? ", " : "", fs->plans[i].code);
	}
	mh_err err = store_settings_save(app->store, put, np, del, nd, fs->plans, fs->nplans, clock_now());
	if (err) {
		buf_release(&changed);
		log_error("cannot save the settings", "error=\"%s\"", store_errmsg(app->store));
		render(r, 500, fs, NULL, "The settings could not be saved: nothing was changed. Please try again.");
		return;
	}
	admin_audit(r, "settings.update", "settings", changed.len ? changed.ptr : "no change");
	buf_release(&changed);
	if (settings_reload(app))
		log_error("cannot read the settings", "error=\"%s\"", store_errmsg(app->store));
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/admin/settings?notice=saved");
}

/* ---- Content API keys ---------------------------------------------------------------------- */

static void
keys_page(struct http_req *r, int status, const char *new_key, const char *new_name, const char *error,
          const char *name_value, const char *notice)
{
	struct app *app = r->app;
	struct api_key *list;
	size_t n;
	if (store_api_key_list(app->store, r->arena, &list, &n)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	json_t *ctx = admin_context(r, "Content API keys", ADMIN_SETTINGS);
	json_t *keys = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(list[i].name));
		json_object_set_new(o, "made", json_string(admin_time(r->arena, list[i].created_at)));
		json_object_set_new(o, "revoked", json_string(admin_time(r->arena, list[i].revoked_at)));
		json_object_set_new(o, "active", json_boolean(list[i].revoked_at == 0));
		json_array_append_new(keys, o);
	}
	json_object_set_new(ctx, "keys", keys);
	json_object_set_new(ctx, "any", json_boolean(n > 0));
	if (new_key) {
		json_object_set_new(ctx, "new_key", json_string(new_key));
		json_object_set_new(ctx, "new_name", json_string(new_name));
	}
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	if (notice)
		json_object_set_new(ctx, "notice", json_string(notice));
	json_object_set_new(ctx, "name_value", json_string(name_value ? name_value : ""));
	admin_send(r, status, "admin-settings-keys", ctx);
}

void
h_admin_keys(struct http_req *r)
{
	const char *notice = http_query(r, "notice");
	keys_page(r, 200, NULL, NULL, NULL, NULL, notice && !strcmp(notice, "revoked") ? "The key was revoked." : NULL);
}

static bool
key_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KEY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
			return false;
	return true;
}

void
h_admin_key_add(struct http_req *r)
{
	struct app *app = r->app;
	const char *name = http_form(r, "name");
	if (!name || !key_name_ok(name)) {
		keys_page(r, 422, NULL, NULL,
		          "Name the key with 1 to 64 printable characters (letters, digits, spaces, punctuation).",
		          name, NULL);
		return;
	}
	char key[API_KEY_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	api_key_new(key);
	token_hash(key, hash);
	struct api_key k = { 0, name, hash, clock_now(), 0 };
	mh_err err = store_api_key_create(app->store, &k, NULL);
	if (err == MH_ERR_CONFLICT) {
		keys_page(r, 422, NULL, NULL, "A key with that name exists already (revoked keys keep their name).",
		          name, NULL);
		return;
	}
	if (err) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	admin_audit(r, "key.add", name, "");
	/* Shown this once: the store keeps only its hash. */
	http_add_header(r, "Cache-Control", "private, no-store");
	keys_page(r, 200, arena_strdup(r->arena, key), name, NULL, NULL, NULL);
}

void
h_admin_key_revoke(struct http_req *r)
{
	struct app *app = r->app;
	const char *name = http_form(r, "name");
	if (!name || !key_name_ok(name)) {
		keys_page(r, 422, NULL, NULL, "That key does not exist.", NULL, NULL);
		return;
	}
	mh_err err = store_api_key_revoke(app->store, name, clock_now());
	if (err == MH_ERR_NOTFOUND) {
		keys_page(r, 404, NULL, NULL, "No key in use has that name; it may have been revoked already.", NULL,
		          NULL);
		return;
	}
	if (err) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	admin_audit(r, "key.revoke", name, "");
	http_add_header(r, "Cache-Control", "private, no-store");
	http_redirect(r, 303, "/admin/settings/keys?notice=revoked");
}
