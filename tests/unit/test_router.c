/* Route matching: captures, 405 methods, no partial matches. */
#include "unit.h"

#include <string.h>

#include "http/http.h"

static void
h(struct http_req *r)
{
	(void) r;
}

static const struct route routes[] = {
	{ HTTP_GET, "/", h, 0 },       { HTTP_GET, "/articles/:slug", h, 0 }, { HTTP_POST, "/signin", h, 0 },
	{ HTTP_GET, "/signin", h, 0 }, { HTTP_GET, "/static/*", h, 0 },       { HTTP_POST, "/webhooks/stripe", h, 0 },
	{ 0, NULL, NULL, 0 },
};

static const struct route *
run(const char *path, enum http_method m, unsigned *allowed, struct http_req *r)
{
	memset(r, 0, sizeof *r);
	r->arena = arena_new();
	r->path = path;
	r->method = m;
	return http_route_match(routes, r, allowed);
}

static void
test_matching(void **state)
{
	(void) state;
	struct http_req r;
	unsigned allowed;
	const struct route *rt = run("/articles/port-news", HTTP_GET, &allowed, &r);
	assert_ptr_equal(rt, &routes[1]);
	assert_string_equal(r.params[0], "port-news");
	arena_free(r.arena);

	rt = run("/articles/port-news", HTTP_HEAD, &allowed, &r);
	assert_ptr_equal(rt, &routes[1]);
	arena_free(r.arena);

	assert_null(run("/articles/", HTTP_GET, &allowed, &r));
	assert_int_equal(allowed, 0);
	arena_free(r.arena);
	assert_null(run("/articles/a/b", HTTP_GET, &allowed, &r));
	arena_free(r.arena);
	assert_null(run("/articlesx", HTTP_GET, &allowed, &r));
	arena_free(r.arena);

	rt = run("/static/css/style.css", HTTP_GET, &allowed, &r);
	assert_ptr_equal(rt, &routes[4]);
	assert_string_equal(r.params[0], "css/style.css");
	arena_free(r.arena);

	rt = run("/signin", HTTP_POST, &allowed, &r);
	assert_ptr_equal(rt, &routes[2]);
	arena_free(r.arena);

	assert_null(run("/webhooks/stripe", HTTP_GET, &allowed, &r));
	assert_int_equal(allowed, HTTP_POST);
	arena_free(r.arena);

	assert_null(run("/", HTTP_DELETE, &allowed, &r));
	assert_int_equal(allowed, HTTP_GET | HTTP_HEAD);
	arena_free(r.arena);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
