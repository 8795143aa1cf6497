/* fuzz_nql.c: the Content API's outside input: the filter (NQL), the other
 * query values and the path after the prefix. The input is split at the
 * first two newlines into a filter, a path and an order/limit/fields line.
 * Invariants: a parse either gives a tree or a non-empty message, never
 * both; a tree evaluates without crashing against an article, and its
 * clause count stays within NQL_MAX_NODES; a parsed route names one of the
 * resources. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/content.h"
#include "api/nql.h"
#include "fuzz.h"
#include "core/banned.h"

static size_t
count_nodes(const struct nql_node *n)
{
	if (n->kind == NQL_CLAUSE) {
		CHECK(n->n_values >= 1 && n->n_values <= NQL_MAX_VALUES);
		return 1;
	}
	return 1 + count_nodes(n->left) + count_nodes(n->right);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	char *filter = in, *path = "", *rest = "";
	char *nl = strchr(in, '\n');
	if (nl) {
		*nl = '\0';
		path = nl + 1;
		if ((nl = strchr(path, '\n'))) {
			*nl = '\0';
			rest = nl + 1;
		}
	}
	struct arena *a = arena_new();
	char err[200];
	struct nql_node *n = NULL;
	mh_err rc = nql_parse(a, filter, &n, err, sizeof err);
	if (rc == MH_OK) {
		CHECK(n != NULL);
		CHECK(count_nodes(n) <= NQL_MAX_NODES);
		struct named_ref tags[] = { { "harbor", "Harbor" }, { "city-hall", "City hall" } };
		struct named_ref authors[] = { { "ana-ruiz", "Ana Ruiz" } };
		struct article art = { 0 };
		art.id = 7;
		art.slug = "a-slug";
		art.title = "A title";
		art.access = ACCESS_PAID;
		art.published_at = 1767225600;
		art.updated_at = 1767225600;
		art.tags = tags;
		art.n_tags = 2;
		art.authors = authors;
		art.n_authors = 1;
		struct nql_subject s = { &art, "000000000000000000000007", false };
		(void) nql_match(n, &s);
		art.n_tags = 0;
		art.n_authors = 0;
		(void) nql_match(n, &s);
	} else {
		CHECK(n == NULL);
		CHECK(err[0] != '\0');
	}
	struct api_route rt;
	if (api_route_parse(a, path, &rt)) {
		CHECK(rt.resource != NULL);
		CHECK(!rt.by || (rt.key && rt.key[0] && !strchr(rt.key, '/')));
	}
	struct api_params p = { rest, rest, rest, rest, rest, rest, NULL, NULL };
	struct api_query q;
	if (api_query_parse(a, &p, &q, err, sizeof err) == MH_OK)
		CHECK(q.limit >= 1 && q.limit <= API_LIMIT_MAX && q.page >= 1 && q.n_order <= API_ORDER_MAX);
	char *text = api_html_to_text(a, rest);
	CHECK(strlen(text) <= strlen(rest));
	arena_free(a);
	free(in);
	return 0;
}
