/* fuzz_html.c: other platforms' HTML bodies (import-site) through the
 * allow-list converter and then the Markdown renderer, as an import does.
 *
 * Invariants:
 * - the conversion never fails but for nesting (MH_ERR_TOOBIG);
 * - the HTML a reader gets holds no element outside the allow-list, no
 *   event handler attribute, and no link or image to javascript:,
 *   vbscript: or data: (text may still say those words);
 * - at most one marker line is written, and only when one was seen. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "content/html.h"
#include "content/markdown.h"
#include "fuzz.h"
#include "core/banned.h"

static const char *const allowed[] = { "p",  "h2", "h3",         "h4",     "h5",   "h6",     "ul",   "ol",
	                               "li", "a",  "img",        "em",     "strong", "code", "pre",    "br",
	                               "hr", "blockquote", "figure", "figcaption", "span", NULL };

static void
check_html(const char *h)
{
	for (const char *p = h; (p = strchr(p, '<')); p++) {
		/* An event handler attribute: " on...=\"" before the tag ends
		 * (quotes inside values are escaped, so a raw one is syntax). */
		const char *end = strchr(p, '>');
		for (const char *q = p; end && (q = strstr(q, " on")) && q < end; q++) {
			const char *r = q + 3;
			while (*r >= 'a' && *r <= 'z')
				r++;
			CHECK(!(r > q + 3 && r[0] == '=' && r[1] == '"'));
		}
		if (p[1] == '/')
			continue;
		size_t k = 0;
		while ((p[1 + k] >= 'a' && p[1 + k] <= 'z') || (p[1 + k] >= '0' && p[1 + k] <= '9'))
			k++;
		bool ok = false;
		for (const char *const *t = allowed; *t && !ok; t++)
			ok = strlen(*t) == k && !strncmp(*t, p + 1, k);
		CHECK(ok);
	}
	/* In attribute values: text may say "javascript:", but a raw quote
	 * before it only starts an attribute (text's quotes are escaped). */
	CHECK(!strcasestr(h, "=\"javascript:"));
	CHECK(!strcasestr(h, "=\"vbscript:"));
	CHECK(!strcasestr(h, "=\"data:"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	static const char *const markers[] = { "members-only", "more", NULL };
	struct html_opts o = { markers, true, "__GHOST_URL__", "https://old.example" };
	struct arena *a = arena_new();
	struct html_result r;
	mh_err rc = html_to_markdown(a, (const char *) data, size, &o, &r);
	CHECK(rc == MH_OK || rc == MH_ERR_TOOBIG);
	if (rc == MH_OK) {
		CHECK(r.has_marker == (r.markers > 0));
		const char *m = strstr(r.md, "<!-- paywall -->");
		CHECK(!m || !strstr(m + 1, "<!-- paywall -->"));
		struct md_article md;
		md_render_article(a, r.md, strlen(r.md), 2, &md);
		check_html(md.teaser_html);
		check_html(md.gated_html);
	}
	arena_free(a);
	return 0;
}
