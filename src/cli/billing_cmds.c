/* billing_cmds.c: masthead billing and masthead plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "billing/billing.h"
#include "cli/cli.h"
#include "core/text.h"
#include "mail/mail.h"
#include "render/template.h"
#include "render/theme.h"
#include "core/banned.h"

/* A billing context for commands: the store, the theme's mail templates. */
struct cli_billing {
	struct billing b;
	struct theme theme;
};

static int
billing_open(struct config *cfg, struct store *s, struct cli_billing *cb)
{
	char err[512];
	memset(cb, 0, sizeof *cb);
	if (theme_load(&cb->theme, cfg->theme, err, sizeof err)) {
		fprintf(stderr, "masthead: %s\n", err);
		theme_release(&cb->theme);
		return EXIT_USAGE; /* a theme is a setting: a bad one is bad usage */
	}
	cb->b.store = s;
	cb->b.cfg = cfg;
	cb->b.templates = cb->theme.templates;
	cb->b.provider = billing_provider_named(cfg->billing_provider);
	return EXIT_OK;
}

int
cmd_billing(struct config *cfg, int argc, char **argv)
{
	const char *at = NULL;
	if (argc == 2 && !strncmp(argv[1], "--at=", 5))
		at = argv[1] + 5;
	else if (argc == 3 && !strcmp(argv[1], "--at"))
		at = argv[2];
	if (argc < 1 || strcmp(argv[0], "run") != 0 || (argc > 1 && !at)) {
		fprintf(stderr, "masthead billing: expected run [--at 2026-12-01T00:00:00Z]\n");
		return EXIT_USAGE;
	}
	int64_t now = clock_now();
	if (at && !time_parse_iso8601(at, &now)) {
		fprintf(stderr, "masthead billing: --at '%s' is not a time like 2026-12-01T00:00:00Z\n", at);
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct cli_billing cb;
	if ((code = billing_open(cfg, s, &cb))) {
		store_close(s);
		return code;
	}
	struct billing_stats st;
	mh_err err = billing_run(&cb.b, now, &st);
	if (err) {
		fprintf(stderr, "masthead billing: %s: %s\n", mh_strerror(err), store_errmsg(s));
		code = EXIT_FAIL;
	} else {
		char when[32];
		time_format_iso8601(now, when, sizeof when);
		printf("billing run at %s: %d renewed, %d failed, %d retried (%d recovered), %d unpaid, %d canceled, "
		       "%d trial notices, %d card notices, %d reconciled, %d expired rows removed\n",
		       when, st.renewed, st.failed, st.retried, st.recovered, st.unpaid, st.canceled, st.trial_notices,
		       st.card_notices, st.reconciled, st.expired_rows);
	}
	theme_release(&cb.theme);
	store_close(s);
	return code;
}

int
cmd_plan(struct config *cfg, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	bool ok = (!strcmp(sub, "list") && argc == 1) || (!strcmp(sub, "add") && (argc == 6 || argc == 7)) ||
	          (!strcmp(sub, "retire") && argc == 2) || (!strcmp(sub, "price") && argc == 3);
	if (!ok) {
		fprintf(stderr, "masthead plan: expected add CODE NAME AMOUNT CURRENCY MONTHS [TRIAL_DAYS], list, "
		                "retire CODE, or price CODE STRIPE_PRICE_ID\n");
		return EXIT_USAGE;
	}
	struct plan p = { 0 };
	if (!strcmp(sub, "add")) {
		long amount, months, trial = 0;
		if (!slice_to_long(slice_from(argv[3]), &amount) || !slice_to_long(slice_from(argv[5]), &months) ||
		    months < 1 || months > 36 || (argc == 7 && !slice_to_long(slice_from(argv[6]), &trial)) ||
		    trial > 365) {
			fprintf(stderr, "masthead plan: AMOUNT is in minor units (800 for 8.00), MONTHS 1 to 36, "
			                "TRIAL_DAYS 0 to 365\n");
			return EXIT_USAGE;
		}
		size_t cl = strlen(argv[4]);
		if (cl != 3 || strspn(argv[4], "abcdefghijklmnopqrstuvwxyz") != 3 || !argv[1][0] || !argv[2][0]) {
			fprintf(stderr, "masthead plan: CURRENCY is three lower-case letters (usd, eur, gbp)\n");
			return EXIT_USAGE;
		}
		p = (struct plan){ 0, argv[1], argv[2], amount, argv[4], (int) months, (int) trial, false, "" };
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct arena *a = arena_new();
	mh_err err = MH_OK;
	if (!strcmp(sub, "add")) {
		struct plan old;
		if (store_plan_get(s, a, 0, p.code, &old) == MH_OK)
			p.provider_price_id = old.provider_price_id;
		err = store_plan_upsert(s, &p, NULL);
	} else if (!strcmp(sub, "list")) {
		struct plan *list;
		size_t n;
		if (!(err = store_plan_list(s, a, true, &list, &n)))
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\t%s every %d month%s\t%s%s\t%s\n", list[i].code, list[i].name,
				       billing_money(a, list[i].amount, list[i].currency), list[i].interval_months,
				       list[i].interval_months == 1 ? "" : "s", list[i].retired ? "retired" : "offered",
				       list[i].trial_days ? arena_printf(a, ", %d-day trial", list[i].trial_days) : "",
				       list[i].provider_price_id && list[i].provider_price_id[0]
				               ? arena_printf(a, "Stripe price %s", list[i].provider_price_id)
				               : "no Stripe price");
	} else {
		if (!(err = store_plan_get(s, a, 0, argv[1], &p))) {
			if (!strcmp(sub, "retire"))
				p.retired = true;
			else
				p.provider_price_id = argv[2];
			err = store_plan_upsert(s, &p, NULL);
		}
	}
	if (err == MH_ERR_NOTFOUND) {
		fprintf(stderr, "masthead plan: no plan with code %s\n", argv[1]);
		code = EXIT_DATA;
	} else if (err) {
		fprintf(stderr, "masthead plan: %s\n", store_errmsg(s));
		code = EXIT_FAIL;
	} else if (strcmp(sub, "list")) {
		printf("plan %s: done\n", sub);
	}
	arena_free(a);
	store_close(s);
	return code;
}
