/* directory.c: the reading site's indexes of names: /tags, /authors and
 * /people, each name with how many published articles it has, linking to
 * its own page. Cached like the listings: they change with the content. */
#include "core/clock.h"
#include "core/log.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/page.h"
#include "core/banned.h"

static const struct {
	const char *title, *intro, *base, *one, *many;
} kinds[] = {
	[DIR_TAGS] = { "Topics", "Every topic we have written about, with how many articles each has.", "/tags/",
	               "article", "articles" },
	[DIR_AUTHORS] = { "Authors", "The people who write for us.", "/authors/", "article", "articles" },
	[DIR_PEOPLE] = { "People", "Everyone quoted in our reporting, with the articles that quote them.", "/people/",
	                 "article quotes them", "articles quote them" },
};

static void
directory(struct http_req *r, enum directory_kind kind)
{
	struct app *app = r->app;
	if (page_skeleton_or_capture(r, "directory"))
		return;
	struct directory_entry *e;
	size_t n;
	mh_err err = store_directory(app->store, r->arena, kind, clock_now(), &e, &n);
	if (err) {
		log_error("database error", "path=\"%s\" error=\"%s\" detail=\"%s\"", http_log_path(r),
		          mh_strerror(err), store_errmsg(app->store));
		app_error(r, 500, "Something went wrong on our side. Please try again in a moment.");
		return;
	}
	json_t *ctx = page_context(r, kinds[kind].title, kinds[kind].intro);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(e[i].name));
		json_object_set_new(o, "url", json_string(arena_concat(r->arena, kinds[kind].base, e[i].slug, NULL)));
		json_object_set_new(o, "detail", json_string(e[i].detail));
		json_object_set_new(o, "count",
		                    json_string(arena_printf(r->arena, "%lld %s", (long long) e[i].count,
		                                             e[i].count == 1 ? kinds[kind].one : kinds[kind].many)));
		json_array_append_new(list, o);
	}
	json_object_set_new(ctx, "heading", json_string(kinds[kind].title));
	json_object_set_new(ctx, "intro", json_string(kinds[kind].intro));
	json_object_set_new(ctx, "entries", list);
	json_object_set_new(ctx, "empty", json_boolean(n == 0));
	page_send(r, 200, "directory", ctx, CACHE_PUBLIC);
}

void
h_tags_index(struct http_req *r)
{
	directory(r, DIR_TAGS);
}

void
h_authors_index(struct http_req *r)
{
	directory(r, DIR_AUTHORS);
}

void
h_people_index(struct http_req *r)
{
	directory(r, DIR_PEOPLE);
}
