/* ghost.c: Ghost's JSON export (both shapes: {"db":[{meta, data}]} and a
 * bare {meta, data}) into site_data. A post's body is its html; when the
 * export has none (Ghost keeps only mobiledoc or lexical for some posts)
 * the mobiledoc or lexical document is rendered to HTML here, its paywall
 * card or node as Ghost's own <!--members-only--> marker, and converted
 * like any other body. */
#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "content/markdown.h"
#include "core/buf.h"
#include "core/text.h"
#include "importers/site.h"
#include "model/content.h"
#include "core/banned.h"

#define MAX_DOC_DEPTH 64
#define MAX_EXPORT    ((size_t) 1 << 30)

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Ids are strings in Ghost 1.x and later, numbers before. */
static const char *
jid(struct site_data *d, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		return arena_printf(d->a, "%lld", (long long) json_integer_value(v));
	return NULL;
}

static int64_t
jtime(json_t *o, const char *k)
{
	int64_t t = 0;
	const char *s = jstr(o, k);
	if (s && time_parse_iso8601(s, &t))
		return t;
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v)) /* milliseconds in some old exports */
		return (int64_t) (json_integer_value(v) / 1000);
	return 0;
}

static void
esc(struct buf *b, const char *s)
{
	if (s)
		buf_add_html(b, s, strlen(s));
}

/* ---- mobiledoc ------------------------------------------------------------------------------ */

static void
mobiledoc_card(struct buf *b, json_t *card)
{
	const char *name = json_string_value(json_array_get(card, 0));
	json_t *p = json_array_get(card, 1);
	if (!name)
		return;
	if (!strcmp(name, "paywall")) {
		buf_puts(b, "<!--members-only-->");
	} else if (!strcmp(name, "html")) {
		if (jstr(p, "html"))
			buf_puts(b, jstr(p, "html"));
	} else if (!strcmp(name, "markdown") || !strcmp(name, "card-markdown")) {
		const char *md = jstr(p, "markdown");
		if (md) {
			struct arena *a = arena_new();
			buf_puts(b, md_render_html(a, md, strlen(md)));
			arena_free(a);
		}
	} else if (!strcmp(name, "image")) {
		buf_puts(b, "<figure><img src=\"");
		esc(b, jstr(p, "src"));
		buf_puts(b, "\" alt=\"");
		esc(b, jstr(p, "alt"));
		buf_puts(b, "\">");
		if (jstr(p, "caption")) {
			buf_puts(b, "<figcaption>");
			buf_puts(b, jstr(p, "caption"));
			buf_puts(b, "</figcaption>");
		}
		buf_puts(b, "</figure>");
	} else if (!strcmp(name, "embed") || !strcmp(name, "bookmark")) {
		buf_puts(b, "<p><a href=\"");
		esc(b, jstr(p, "url"));
		buf_puts(b, "\">");
		const char *title = jstr(json_object_get(p, "metadata"), "title");
		esc(b, title ? title : jstr(p, "url"));
		buf_puts(b, "</a></p>");
	} else if (!strcmp(name, "code")) {
		buf_puts(b, "<pre><code>");
		esc(b, jstr(p, "code"));
		buf_puts(b, "</code></pre>");
	} else if (!strcmp(name, "hr")) {
		buf_puts(b, "<hr>");
	} else if (!strcmp(name, "callout")) {
		buf_puts(b, "<p>");
		buf_puts(b, jstr(p, "calloutText") ? jstr(p, "calloutText") : "");
		buf_puts(b, "</p>");
	}
}

static void
mobiledoc_markers(struct buf *b, json_t *markers, json_t *markups, json_t *atoms)
{
	const char *open[32];
	size_t n_open = 0;
	size_t i;
	json_t *m;
	json_array_foreach(markers, i, m)
	{
		json_t *opens = json_array_get(m, 1);
		size_t k;
		json_t *idx;
		json_array_foreach(opens, k, idx)
		{
			json_t *mk = json_array_get(markups, (size_t) json_integer_value(idx));
			const char *tag = json_string_value(json_array_get(mk, 0));
			if (!tag || n_open == 32)
				continue;
			static const char *const ok[] = { "a", "b",   "strong", "em", "i", "code",
				                          "s", "sub", "sup",    "u",  NULL };
			const char *known = NULL;
			for (const char *const *t = ok; *t && !known; t++)
				if (!strcmp(*t, tag))
					known = *t;
			if (!known)
				known = "span";
			open[n_open++] = known;
			buf_printf(b, "<%s", known);
			json_t *attrs = json_array_get(mk, 1);
			for (size_t j = 0; j + 1 < json_array_size(attrs); j += 2) {
				const char *an = json_string_value(json_array_get(attrs, j));
				const char *av = json_string_value(json_array_get(attrs, j + 1));
				if (an && av && !strcmp(an, "href")) {
					buf_puts(b, " href=\"");
					esc(b, av);
					buf_putc(b, '"');
				}
			}
			buf_putc(b, '>');
		}
		if (json_integer_value(json_array_get(m, 0)) == 1) {
			json_t *atom = json_array_get(atoms, (size_t) json_integer_value(json_array_get(m, 3)));
			esc(b, json_string_value(json_array_get(atom, 1)));
		} else {
			esc(b, json_string_value(json_array_get(m, 3)));
		}
		json_int_t close = json_integer_value(json_array_get(m, 2));
		for (; close > 0 && n_open > 0; close--)
			buf_printf(b, "</%s>", open[--n_open]);
	}
	while (n_open > 0)
		buf_printf(b, "</%s>", open[--n_open]);
}

static bool
mobiledoc_html(const char *text, struct buf *b)
{
	json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return false;
	}
	json_t *markups = json_object_get(doc, "markups"), *atoms = json_object_get(doc, "atoms"),
	       *cards = json_object_get(doc, "cards");
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "sections"), i, s)
	{
		json_int_t type = json_integer_value(json_array_get(s, 0));
		const char *tag = json_string_value(json_array_get(s, 1));
		if (type == 1 && tag) {
			static const char *const ok[] = { "p",  "h1", "h2",         "h3",    "h4",
				                          "h5", "h6", "blockquote", "aside", NULL };
			const char *t = "p";
			for (const char *const *k = ok; *k; k++)
				if (!strcasecmp(*k, tag))
					t = *k;
			if (!strcmp(t, "aside"))
				t = "blockquote";
			buf_printf(b, "<%s>", t);
			mobiledoc_markers(b, json_array_get(s, 2), markups, atoms);
			buf_printf(b, "</%s>", t);
		} else if (type == 2 && tag) {
			buf_puts(b, "<img src=\"");
			esc(b, tag);
			buf_puts(b, "\">");
		} else if (type == 3 && tag) {
			const char *t = !strcasecmp(tag, "ol") ? "ol" : "ul";
			buf_printf(b, "<%s>", t);
			size_t k;
			json_t *item;
			json_array_foreach(json_array_get(s, 2), k, item)
			{
				buf_puts(b, "<li>");
				mobiledoc_markers(b, item, markups, atoms);
				buf_puts(b, "</li>");
			}
			buf_printf(b, "</%s>", t);
		} else if (type == 10) {
			mobiledoc_card(b, json_array_get(cards, (size_t) json_integer_value(json_array_get(s, 1))));
		}
	}
	json_decref(doc);
	return true;
}

/* ---- lexical -------------------------------------------------------------------------------- */

static void lexical_nodes(struct buf *b, json_t *children, int depth);

static void
lexical_node(struct buf *b, json_t *n, int depth)
{
	const char *type = jstr(n, "type");
	if (!type || depth > MAX_DOC_DEPTH)
		return;
	if (!strncmp(type, "extended-", 9))
		type += 9;
	json_t *kids = json_object_get(n, "children");
	if (!strcmp(type, "text")) {
		json_int_t f = json_integer_value(json_object_get(n, "format"));
		if (f & 1)
			buf_puts(b, "<strong>");
		if (f & 2)
			buf_puts(b, "<em>");
		if (f & 16)
			buf_puts(b, "<code>");
		esc(b, jstr(n, "text"));
		if (f & 16)
			buf_puts(b, "</code>");
		if (f & 2)
			buf_puts(b, "</em>");
		if (f & 1)
			buf_puts(b, "</strong>");
	} else if (!strcmp(type, "linebreak")) {
		buf_puts(b, "<br>");
	} else if (!strcmp(type, "link") || !strcmp(type, "autolink")) {
		buf_puts(b, "<a href=\"");
		esc(b, jstr(n, "url"));
		buf_puts(b, "\">");
		lexical_nodes(b, kids, depth + 1);
		buf_puts(b, "</a>");
	} else if (!strcmp(type, "paragraph")) {
		buf_puts(b, "<p>");
		lexical_nodes(b, kids, depth + 1);
		buf_puts(b, "</p>");
	} else if (!strcmp(type, "heading")) {
		const char *tag = jstr(n, "tag");
		int level = tag && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' && !tag[2] ? tag[1] - '0' : 2;
		buf_printf(b, "<h%d>", level);
		lexical_nodes(b, kids, depth + 1);
		buf_printf(b, "</h%d>", level);
	} else if (!strcmp(type, "quote") || !strcmp(type, "aside")) {
		buf_puts(b, "<blockquote>");
		lexical_nodes(b, kids, depth + 1);
		buf_puts(b, "</blockquote>");
	} else if (!strcmp(type, "list")) {
		const char *t = jstr(n, "listType") && !strcmp(jstr(n, "listType"), "number") ? "ol" : "ul";
		buf_printf(b, "<%s>", t);
		lexical_nodes(b, kids, depth + 1);
		buf_printf(b, "</%s>", t);
	} else if (!strcmp(type, "listitem")) {
		buf_puts(b, "<li>");
		lexical_nodes(b, kids, depth + 1);
		buf_puts(b, "</li>");
	} else if (!strcmp(type, "paywall")) {
		buf_puts(b, "<!--members-only-->");
	} else if (!strcmp(type, "horizontalrule")) {
		buf_puts(b, "<hr>");
	} else if (!strcmp(type, "image")) {
		buf_puts(b, "<figure><img src=\"");
		esc(b, jstr(n, "src"));
		buf_puts(b, "\" alt=\"");
		esc(b, jstr(n, "altText") ? jstr(n, "altText") : jstr(n, "alt"));
		buf_puts(b, "\">");
		if (jstr(n, "caption")) {
			buf_puts(b, "<figcaption>");
			buf_puts(b, jstr(n, "caption"));
			buf_puts(b, "</figcaption>");
		}
		buf_puts(b, "</figure>");
	} else if (!strcmp(type, "html")) {
		if (jstr(n, "html"))
			buf_puts(b, jstr(n, "html"));
	} else if (!strcmp(type, "markdown")) {
		const char *md = jstr(n, "markdown");
		if (md) {
			struct arena *a = arena_new();
			buf_puts(b, md_render_html(a, md, strlen(md)));
			arena_free(a);
		}
	} else if (!strcmp(type, "embed") || !strcmp(type, "bookmark") || !strcmp(type, "video") ||
	           !strcmp(type, "audio")) {
		const char *u = jstr(n, "url") ? jstr(n, "url") : jstr(n, "src");
		buf_puts(b, "<p><a href=\"");
		esc(b, u);
		buf_puts(b, "\">");
		esc(b, jstr(n, "title") ? jstr(n, "title") : u);
		buf_puts(b, "</a></p>");
	} else if (!strcmp(type, "codeblock")) {
		buf_puts(b, "<pre><code>");
		esc(b, jstr(n, "code"));
		buf_puts(b, "</code></pre>");
	} else {
		lexical_nodes(b, kids, depth + 1);
	}
}

static void
lexical_nodes(struct buf *b, json_t *children, int depth)
{
	size_t i;
	json_t *n;
	json_array_foreach(children, i, n) lexical_node(b, n, depth);
}

static bool
lexical_html(const char *text, struct buf *b)
{
	json_t *doc = json_loads(text, 0, NULL);
	json_t *root = json_object_get(doc, "root");
	if (!json_is_object(root)) {
		json_decref(doc);
		return false;
	}
	lexical_nodes(b, json_object_get(root, "children"), 0);
	json_decref(doc);
	return true;
}

/* ---- the export ------------------------------------------------------------------------------ */

struct link {
	const char *key; /* post id, or the row's own id for tables by id */
	const char *val; /* tag or author id, or the name */
	const char *slug;
	double order;
	json_t *row;
};

static int
cmp_link(const void *x, const void *y)
{
	const struct link *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* Rows of table as links from key_field to val_field, sorted by key. */
static struct link *
links(struct site_data *d, json_t *data, const char *table, const char *key_field, const char *val_field,
      const char *slug_field, size_t *n)
{
	json_t *rows = json_object_get(data, table);
	struct link *l = calloc(json_array_size(rows) + 1, sizeof *l);
	if (!l)
		abort();
	*n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *k = jid(d, r, key_field), *v = val_field ? jid(d, r, val_field) : NULL;
		if (!k)
			continue;
		l[*n].key = k;
		l[*n].val = v;
		l[*n].slug = slug_field ? jstr(r, slug_field) : NULL;
		l[*n].order = json_number_value(json_object_get(r, "sort_order"));
		l[*n].row = r;
		(*n)++;
	}
	if (*n)
		qsort(l, *n, sizeof *l, cmp_link);
	return l;
}

/* The first link with key (they are sorted), or NULL. */
static const struct link *
find(const struct link *l, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(l[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(l[lo].key, key) ? &l[lo] : NULL;
}

static int
access_of(const char *visibility)
{
	if (!visibility || !strcmp(visibility, "public"))
		return ACCESS_PUBLIC;
	if (!strcmp(visibility, "members"))
		return ACCESS_MEMBERS;
	/* "tiers": some paid tiers; masthead has one paid level. */
	if (!strcmp(visibility, "paid") || !strcmp(visibility, "tiers"))
		return ACCESS_PAID;
	return -1;
}

/* The names a post links to through a join table (posts_tags, posts_authors). */
static size_t
joined(struct site_data *d, const char *post_id, const struct link *join, size_t n_join, const struct link *names,
       size_t n_names, bool skip_internal, struct named_ref **out)
{
	const char *list[64];
	size_t k = 0;
	for (const struct link *j = find(join, n_join, post_id);
	     j && j < join + n_join && !strcmp(j->key, post_id) && k < 64; j++) {
		const struct link *nm = j->val ? find(names, n_names, j->val) : NULL;
		if (!nm || !nm->val)
			continue;
		if (skip_internal && nm->val[0] == '#')
			continue; /* Ghost's internal tags: not for readers */
		list[k++] = nm->val;
	}
	return site_names(d, list, k, out);
}

bool
site_read_ghost(struct site_data *d, const char *path)
{
	/* Parsed from the file as it is read: the text is never held whole. */
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return false;
	}
	if ((size_t) st.st_size > MAX_EXPORT) {
		fprintf(stderr, "%s: larger than %zu bytes\n", path, MAX_EXPORT);
		fclose(f);
		return false;
	}
	json_error_t jerr;
	json_t *root = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!root) {
		fprintf(stderr, "%s:%d: not JSON: %s\n", path, jerr.line, jerr.text);
		return false;
	}
	json_t *db = json_object_get(root, "db");
	json_t *top = json_is_array(db) ? json_array_get(db, 0) : root;
	json_t *data = json_object_get(top, "data");
	if (!json_is_object(data) || !json_is_array(json_object_get(data, "posts"))) {
		fprintf(stderr,
		        "%s: not a Ghost export: no data.posts (neither {\"db\":[{\"data\":...}]} nor {\"data\":...})\n",
		        path);
		json_decref(root);
		return false;
	}
	size_t n_tags, n_users, n_pt, n_pa, n_meta;
	struct link *tags = links(d, data, "tags", "id", "name", "slug", &n_tags);
	struct link *users = links(d, data, "users", "id", "name", "slug", &n_users);
	struct link *pt = links(d, data, "posts_tags", "post_id", "tag_id", NULL, &n_pt);
	struct link *pa = links(d, data, "posts_authors", "post_id", "author_id", NULL, &n_pa);
	struct link *meta = links(d, data, "posts_meta", "post_id", NULL, NULL, &n_meta);
	/* The old listings: /tag/SLUG/ and /author/SLUG/. */
	for (size_t k = 0; k < n_tags; k++)
		if (tags[k].slug && tags[k].val && tags[k].val[0] != '#')
			site_redirect_named(d, arena_concat(d->a, "/tag/", tags[k].slug, "/", NULL), "tags",
			                    tags[k].val);
	for (size_t k = 0; k < n_users; k++)
		if (users[k].slug && users[k].val)
			site_redirect_named(d, arena_concat(d->a, "/author/", users[k].slug, "/", NULL), "authors",
			                    users[k].val);
	if (!json_object_get(data, "users"))
		site_issue(d, "%s: the export has no users table: posts get the default author (Staff)", path);
	if (!json_object_get(data, "tags"))
		site_issue(d, "%s: the export has no tags table: posts are imported without tags", path);

	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(data, "posts"), i, p)
	{
		struct site_post *sp = site_post_new(d);
		const char *id = jid(d, p, "id");
		sp->source_id = id ? id : arena_printf(d->a, "#%zu", i);
		sp->slug = jstr(p, "slug") ? arena_strdup(d->a, jstr(p, "slug")) : NULL;
		sp->where = arena_printf(d->a, "post '%s' (id %s)", sp->slug ? sp->slug : "", sp->source_id);
		sp->title = jstr(p, "title") ? arena_strdup(d->a, jstr(p, "title")) : NULL;
		sp->dek = jstr(p, "custom_excerpt") ? arena_strdup(d->a, jstr(p, "custom_excerpt")) : NULL;
		const char *type = jstr(p, "type");
		sp->page = (type && !strcmp(type, "page")) || json_is_true(json_object_get(p, "page"));
		const char *status = jstr(p, "status");
		sp->draft = !status || strcmp(status, "published") != 0;
		sp->published_at = jtime(p, "published_at");
		sp->updated_at = jtime(p, "updated_at");
		if (!sp->published_at)
			sp->published_at = jtime(p, "created_at");
		sp->access = access_of(jstr(p, "visibility"));
		if (sp->access < 0)
			sp->why = arena_printf(d->a, "visibility '%s' has no masthead access level",
			                       jstr(p, "visibility"));
		if (jstr(p, "feature_image"))
			sp->image = arena_strdup(d->a, jstr(p, "feature_image"));
		/* posts_meta holds the feature image's alt and caption in Ghost 4 and later. */
		const struct link *m = id ? find(meta, n_meta, id) : NULL;
		json_t *mrow = m ? m->row : NULL;
		if (mrow) {
			if (jstr(mrow, "feature_image_alt"))
				sp->image_alt = arena_strdup(d->a, jstr(mrow, "feature_image_alt"));
			if (jstr(mrow, "feature_image_caption"))
				sp->image_caption = arena_strdup(d->a, jstr(mrow, "feature_image_caption"));
		}
		const char *html = jstr(p, "html");
		if (html && html[0]) {
			sp->html = arena_strdup(d->a, html);
		} else {
			struct buf b = BUF_INIT;
			bool ok = false;
			if (jstr(p, "lexical"))
				ok = lexical_html(jstr(p, "lexical"), &b);
			if (!ok && jstr(p, "mobiledoc"))
				ok = mobiledoc_html(jstr(p, "mobiledoc"), &b);
			if (!ok && !sp->why && (jstr(p, "lexical") || jstr(p, "mobiledoc")))
				sp->why = "its mobiledoc or lexical document is not valid JSON";
			sp->html = arena_strndup(d->a, b.ptr, b.len);
			buf_release(&b);
		}
		if (id) {
			sp->n_tags = joined(d, id, pt, n_pt, tags, n_tags, true, &sp->tags);
			sp->n_authors = joined(d, id, pa, n_pa, users, n_users, false, &sp->authors);
			if (!sp->n_authors && jid(d, p, "author_id")) {
				const struct link *u = find(users, n_users, jid(d, p, "author_id"));
				if (u && u->val)
					sp->n_authors = site_names(d, &u->val, 1, &sp->authors);
			}
		}
		if (sp->slug) {
			sp->old_paths[sp->n_old++] = arena_concat(d->a, "/", sp->slug, "/", NULL);
			sp->old_paths[sp->n_old++] = arena_concat(d->a, "/", sp->slug, NULL);
		}
	}
	/* site_names copied the names into d->a: nothing points into the JSON now. */
	free(tags);
	free(users);
	free(pt);
	free(pa);
	free(meta);
	json_decref(root);
	return true;
}
