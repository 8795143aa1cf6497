/* admin_dashboard.c: the publisher's dashboard at /admin (admins only). */
#include <string.h>

#include "web/admin.h"
#include "web/app.h"
#include "web/handlers.h"
#include "core/banned.h"

static const char *
status_label(const char *status)
{
	static const struct {
		const char *status, *label;
	} labels[] = {
		{ "active", "Active" }, { "trialing", "In a free trial" }, { "past_due", "Payment failed, retrying" },
		{ "unpaid", "Unpaid" }, { "canceled", "Canceled" },        { "incomplete", "Checkout not finished" },
	};
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (!strcmp(labels[i].status, status))
			return labels[i].label;
	return status;
}

void
h_admin_dashboard(struct http_req *r)
{
	struct app *app = r->app;
	struct site_stats st;
	if (store_site_stats(app->store, r->arena, &st)) {
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	json_t *ctx = admin_context(r, "Dashboard", ADMIN_DASHBOARD);
	json_t *subs = json_array(), *mrr = json_array();
	for (size_t i = 0; i < st.n_subs; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "label", json_string(status_label(st.subs[i].key)));
		json_object_set_new(o, "count", json_integer((json_int_t) st.subs[i].value));
		json_array_append_new(subs, o);
	}
	for (size_t i = 0; i < st.n_mrr; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "currency", json_string(st.mrr[i].key));
		json_object_set_new(o, "amount", json_string(arena_printf(r->arena, "%.2f", st.mrr[i].value / 100.0)));
		json_array_append_new(mrr, o);
	}
	json_object_set_new(ctx, "subs", subs);
	json_object_set_new(ctx, "mrr", mrr);
	json_object_set_new(ctx, "outbox", json_integer(st.outbox_queued));
	admin_send(r, 200, "admin-dashboard", ctx);
}
