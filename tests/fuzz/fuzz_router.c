/* fuzz_router.c: the route table (web/routes.c) matched against any path
 * and method (http_route_match), as the dispatcher does for every request.
 *
 * Byte 0 picks the method; the rest is the decoded path. Invariants:
 * - a match accepts the method (GET also HEAD) and at most HTTP_MAX_PARAMS
 *   captures; a ':' capture is non-empty and holds no '/'; the pattern with
 *   its captures put back is the path;
 * - no match: no captures, and the allowed methods (for 405) are only those
 *   of routes whose pattern matched the path. */
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/http.h"
#include "fuzz.h"
#include "core/banned.h"

extern const struct route app_routes[];

static const enum http_method methods[] = { HTTP_GET,    HTTP_HEAD,    HTTP_POST, HTTP_PUT,
	                                    HTTP_DELETE, HTTP_OPTIONS, HTTP_PATCH };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	struct arena *a = arena_new();
	char *path = arena_strndup(a, (const char *) data + 1, size - 1);
	struct http_req r;
	memset(&r, 0, sizeof r);
	r.arena = a;
	r.path = path;
	r.method = methods[data[0] % (sizeof methods / sizeof methods[0])];
	unsigned allowed = 0;
	const struct route *rt = http_route_match(app_routes, &r, &allowed);
	if (!rt) {
		CHECK(r.n_params == 0);
		CHECK(!(allowed & r.method));
		goto out;
	}
	unsigned m = rt->methods | ((rt->methods & HTTP_GET) ? HTTP_HEAD : 0);
	CHECK(m & r.method);
	CHECK(r.n_params <= HTTP_MAX_PARAMS);
	/* Put the captures back into the pattern: the path again. */
	struct buf b = BUF_INIT;
	size_t k = 0;
	for (const char *p = rt->pattern; *p;) {
		if (*p == '*') {
			CHECK(k < r.n_params && r.params[k][0]);
			buf_puts(&b, r.params[k++]);
			break;
		}
		if (*p == ':') {
			CHECK(k < r.n_params);
			CHECK(r.params[k][0] && !strchr(r.params[k], '/'));
			buf_puts(&b, r.params[k++]);
			while (*p && *p != '/')
				p++;
			continue;
		}
		buf_putc(&b, *p++);
	}
	CHECK(k == r.n_params);
	CHECK(b.len == strlen(path) && !memcmp(b.ptr, path, b.len));
	buf_release(&b);
out:
	arena_free(a);
	return 0;
}
