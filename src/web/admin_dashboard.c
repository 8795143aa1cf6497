/* admin_dashboard.c: the publisher's dashboard at /admin (admins only,
 * docs/newsroom.md "Dashboard"): this month's figures, the payments that
 * failed and wait on a card, and twelve months of subscribers and monthly
 * recurring revenue drawn as SVG on the server, each chart with its table. */
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "core/banned.h"

#define DASH_MONTHS  12
#define DASH_FAILING 50

/* The chart's geometry, in SVG user units (the picture scales to its box). */
#define CHART_W      560
#define CHART_H      220
#define CHART_LEFT   64
#define CHART_TOP    16
#define CHART_BOTTOM 32
#define CHART_SLOT   ((CHART_W - CHART_LEFT) / DASH_MONTHS)
#define CHART_BAR    (CHART_SLOT * 2 / 3)

/* The first instant (UTC) of the month `back` months before t's. */
static int64_t
month_start(int64_t t, int back)
{
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	int m = tm.tm_year * 12 + tm.tm_mon - back;
	struct tm s = { 0 };
	s.tm_year = m / 12;
	s.tm_mon = m % 12;
	s.tm_mday = 1;
	return (int64_t) timegm(&s);
}

static const char *
month_label(struct arena *a, int64_t start, const char *fmt)
{
	time_t tt = (time_t) start;
	struct tm tm;
	char out[32];
	gmtime_r(&tt, &tm);
	strftime(out, sizeof out, fmt, &tm);
	return arena_strdup(a, out);
}

/* A bar chart of values, one a month: its bars, axis labels and table rows. */
static json_t *
chart(struct arena *a, const char *id, const char *title, const char *desc, const int64_t *values,
      const int64_t *starts, const char *(*show)(struct arena *, int64_t, const void *), const void *arg)
{
	int64_t max = 1;
	for (int i = 0; i < DASH_MONTHS; i++)
		if (values[i] > max)
			max = values[i];
	const int plot = CHART_H - CHART_TOP - CHART_BOTTOM;
	json_t *c = json_object(), *bars = json_array();
	for (int i = 0; i < DASH_MONTHS; i++) {
		int h = (int) (values[i] * plot / max);
		if (values[i] > 0 && h < 2)
			h = 2;
		json_t *b = json_object();
		int x = CHART_LEFT + i * CHART_SLOT + (CHART_SLOT - CHART_BAR) / 2;
		json_object_set_new(b, "x", json_integer(x));
		json_object_set_new(b, "y", json_integer(CHART_TOP + plot - h));
		json_object_set_new(b, "h", json_integer(h));
		json_object_set_new(b, "w", json_integer(CHART_BAR));
		json_object_set_new(b, "label_x", json_integer(x + CHART_BAR / 2));
		json_object_set_new(b, "short", json_string(month_label(a, starts[i], "%b")));
		json_object_set_new(b, "month", json_string(month_label(a, starts[i], "%B %Y")));
		json_object_set_new(b, "value", json_string(show(a, values[i], arg)));
		json_array_append_new(bars, b);
	}
	json_object_set_new(c, "id", json_string(id));
	json_object_set_new(c, "title", json_string(title));
	json_object_set_new(c, "desc", json_string(desc));
	json_object_set_new(c, "bars", bars);
	json_object_set_new(c, "width", json_integer(CHART_W));
	json_object_set_new(c, "height", json_integer(CHART_H));
	json_object_set_new(c, "axis_x", json_integer(CHART_LEFT - 6));
	json_object_set_new(c, "axis_y", json_integer(CHART_H - CHART_BOTTOM));
	json_object_set_new(c, "axis_end", json_integer(CHART_W));
	json_object_set_new(c, "top_y", json_integer(CHART_TOP + 4));
	json_object_set_new(c, "label_y", json_integer(CHART_H - CHART_BOTTOM + 18));
	json_object_set_new(c, "max", json_string(show(a, max, arg)));
	return c;
}

static const char *
show_count(struct arena *a, int64_t v, const void *arg)
{
	(void) arg;
	return arena_printf(a, "%lld", (long long) v);
}

static const char *
show_money(struct arena *a, int64_t v, const void *currency)
{
	return billing_money(a, v, currency);
}

static void
figure(json_t *list, const char *label, const char *value, const char *note)
{
	json_t *o = json_object();
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "value", json_string(value));
	if (note)
		json_object_set_new(o, "note", json_string(note));
	json_array_append_new(list, o);
}

void
h_admin_dashboard(struct http_req *r)
{
	struct app *app = r->app;
	struct arena *a = r->arena;
	int64_t now = clock_now();
	int64_t starts[DASH_MONTHS + 1];
	for (int i = 0; i <= DASH_MONTHS; i++)
		starts[i] = month_start(now, DASH_MONTHS - 1 - i);
	struct dash_counts dc;
	struct paying_at cur[SITE_STATS_MAX];
	size_t ncur = 0;
	struct failing_invoice *fail = NULL;
	size_t nfail = 0;
	if (store_dash_counts(app->store, a, starts[DASH_MONTHS - 1], now, &dc) ||
	    store_paying_at(app->store, a, now, cur, &ncur) ||
	    store_invoices_failing(app->store, a, DASH_FAILING, &fail, &nfail)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	/* The charts follow the currency most subscribers pay in. */
	const char *currency = ncur ? cur[0].currency : "usd";
	int64_t subs[DASH_MONTHS], mrr[DASH_MONTHS];
	for (int i = 0; i < DASH_MONTHS; i++) {
		/* A past month as it ended; this month as it is now. */
		int64_t at = i == DASH_MONTHS - 1 ? now : starts[i + 1] - 1;
		struct paying_at p[SITE_STATS_MAX];
		size_t np = 0;
		if (store_paying_at(app->store, a, at, p, &np)) {
			app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
			return;
		}
		subs[i] = mrr[i] = 0;
		for (size_t k = 0; k < np; k++) {
			subs[i] += p[k].subscribers;
			if (!strcmp(p[k].currency, currency))
				mrr[i] += p[k].mrr;
		}
	}
	json_t *ctx = admin_context(r, "Dashboard", ADMIN_DASHBOARD);
	json_t *figs = json_array();
	int64_t paying = 0;
	for (size_t i = 0; i < ncur; i++)
		paying += cur[i].subscribers;
	figure(figs, "Members", show_count(a, dc.members, NULL), NULL);
	figure(figs, "Paying subscribers", show_count(a, paying, NULL), NULL);
	if (!ncur)
		figure(figs, "Monthly recurring revenue", billing_money(a, 0, currency), NULL);
	for (size_t i = 0; i < ncur; i++)
		figure(figs, "Monthly recurring revenue", billing_money(a, cur[i].mrr, cur[i].currency), NULL);
	figure(figs, "New this month", show_count(a, dc.started, NULL), "first payment this month");
	figure(figs, "Churned this month", show_count(a, dc.churned, NULL), "canceled or unpaid this month");
	figure(figs, "In a free trial", show_count(a, dc.trials, NULL), NULL);
	figure(figs, "Failed payments waiting", show_count(a, (int64_t) nfail, NULL), NULL);
	if (!dc.n_recovered)
		figure(figs, "Recovered by card updates", billing_money(a, 0, currency), "this month");
	for (size_t i = 0; i < dc.n_recovered; i++)
		figure(figs, "Recovered by card updates",
		       billing_money(a, (int64_t) dc.recovered[i].value, dc.recovered[i].key), "this month");
	json_object_set_new(ctx, "figures", figs);
	json_object_set_new(ctx, "month", json_string(month_label(a, starts[DASH_MONTHS - 1], "%B %Y")));

	json_t *rows = json_array();
	for (size_t i = 0; i < nfail; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "member_url",
		                    json_string(arena_printf(a, "/admin/members/%lld", (long long) fail[i].member_id)));
		json_object_set_new(o, "email", json_string(fail[i].email));
		json_object_set_new(o, "name", json_string(fail[i].name));
		json_object_set_new(o, "amount", json_string(billing_money(a, fail[i].amount, fail[i].currency)));
		json_object_set_new(o, "attempts", json_integer(fail[i].attempts));
		json_object_set_new(o, "status", json_string(fail[i].status));
		json_object_set_new(o, "next",
		                    json_string(fail[i].next_attempt_at ? admin_time(a, fail[i].next_attempt_at)
		                                                        : "no more retries"));
		json_array_append_new(rows, o);
	}
	json_object_set_new(ctx, "failing", rows);
	json_object_set_new(ctx, "any_failing", json_boolean(nfail > 0));

	json_t *charts = json_array();
	const char *first = month_label(a, starts[0], "%B %Y"),
	           *last = month_label(a, starts[DASH_MONTHS - 1], "%B %Y");
	json_array_append_new(charts,
	                      chart(a, "chart-subs", "Paying subscribers by month",
	                            arena_printf(a,
	                                         "Paying subscribers at the end of each month from %s to %s (this "
	                                         "month: today), from paid invoices.",
	                                         first, last),
	                            subs, starts, show_count, NULL));
	json_array_append_new(charts,
	                      chart(a, "chart-mrr", "Monthly recurring revenue by month",
	                            arena_printf(a,
	                                         "Monthly recurring revenue in %s at the end of each month from %s to "
	                                         "%s (this month: today), from paid invoices.",
	                                         currency, first, last),
	                            mrr, starts, show_money, currency));
	json_object_set_new(ctx, "charts", charts);
	admin_send(r, 200, "admin-dashboard", ctx);
}
