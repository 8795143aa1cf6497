#include "content/article.h"

#include <stdio.h>
#include <string.h>

#include "content/frontmatter.h"
#include "content/markdown.h"
#include "content/slug.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/banned.h"

#define TITLE_MAX   300
#define DEK_MAX     600
#define SUMMARY_MAX 200

static const char *const known_keys[] = {
	"title",
	"slug",
	"dek",
	"access",
	"authors",
	"tags",
	"published_at",
	"updated_at",
	"featured",
	"feature_image",
	"feature_image_alt",
	"feature_image_caption",
	"feature_image_credit",
	NULL,
};

/* One text value: a list is an error. */
static mh_err
text_of(const struct frontmatter *fm, const char *key, const char **out, char *err, size_t errlen)
{
	const struct fm_value *v = frontmatter_get(fm, key);
	*out = NULL;
	if (!v)
		return MH_OK;
	if (v->is_list || v->n_items != 1) {
		snprintf(err, errlen, "line %d: '%s' must be a single text, not a list", v->line, key);
		return MH_ERR_INVALID;
	}
	*out = v->items[0];
	return MH_OK;
}

/* A list of names (a single text is a list of one), with their slugs. */
static mh_err
names_of(struct arena *a, const struct frontmatter *fm, const char *key, struct named_ref **out, size_t *n, char *err,
         size_t errlen)
{
	const struct fm_value *v = frontmatter_get(fm, key);
	*n = 0;
	*out = NULL;
	if (!v)
		return MH_OK;
	struct named_ref *refs = arena_alloc(a, (v->n_items ? v->n_items : 1) * sizeof *refs);
	for (size_t i = 0; i < v->n_items; i++) {
		char slug[SLUG_MAX + 1];
		struct slice name = slice_trim(slice_from(v->items[i]));
		if (name.len == 0 || name.len > 120 || !slug_from(v->items[i], slug, sizeof slug)) {
			snprintf(err, errlen, "line %d: '%s' has an empty or unusable name '%s'", v->line, key,
			         v->items[i]);
			return MH_ERR_INVALID;
		}
		bool dup = false;
		for (size_t k = 0; k < *n; k++)
			dup |= strcmp(refs[k].slug, slug) == 0;
		if (dup)
			continue;
		refs[*n].slug = arena_strdup(a, slug);
		refs[*n].name = arena_strndup(a, name.ptr, name.len);
		(*n)++;
	}
	*out = refs;
	return MH_OK;
}

static mh_err
time_of(const struct frontmatter *fm, const char *key, int64_t def, int64_t *out, char *err, size_t errlen)
{
	const char *s;
	mh_err rc = text_of(fm, key, &s, err, errlen);
	if (rc)
		return rc;
	*out = def;
	if (s && !time_parse_iso8601(s, out)) {
		snprintf(err, errlen, "line %d: '%s' is not a date like 2026-11-20T09:00:00Z: '%s'",
		         frontmatter_get(fm, key)->line, key, s);
		return MH_ERR_INVALID;
	}
	return MH_OK;
}

/* The first sentence-sized piece of text, cut at a word under SUMMARY_MAX bytes. */
const char *
article_summary(struct arena *a, const char *text)
{
	size_t n = strlen(text);
	if (n <= SUMMARY_MAX)
		return text;
	size_t cut = SUMMARY_MAX;
	while (cut > 0 && text[cut] != ' ')
		cut--;
	if (cut == 0)
		for (cut = SUMMARY_MAX; cut > 0 && ((unsigned char) text[cut] & 0xc0) == 0x80; cut--)
			;
	return arena_printf(a, "%.*s\xe2\x80\xa6", (int) cut, text);
}

/* Control characters and Unicode line separators have no place in a title
 * or a name (and would not survive export). Returns the first offender's
 * description, or NULL. */
static const char *
bad_char(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "a control character";
		if (p[0] == 0xc2 && p[1] == 0x85)
			return "a next-line character (U+0085)";
		if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			return "a line or paragraph separator (U+2028, U+2029)";
	}
	return NULL;
}

#define IMAGE_TEXT_MAX 600
#define IMAGE_SRC_MAX  2000

/* A feature image's address: http(s)://HOST/... or a path on this site;
 * no spaces or controls, nothing a browser would run. */
static bool
image_src_valid(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0 && (s[0] != '/' || s[1] == '/'))
		return false;
	for (; *s; s++)
		if ((unsigned char) *s <= ' ' || *s == '"' || *s == '<' || *s == '>' || *s == '\\' || *s == 0x7f)
			return false;
	return true;
}

/* The feature image's keys and featured: into out. */
static mh_err
image_of(const struct frontmatter *fm, struct article_input *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "feature_image", "feature_image_alt", "feature_image_caption",
		                            "feature_image_credit" };
	const char *v[4];
	mh_err rc;
	for (size_t i = 0; i < 4; i++) {
		if ((rc = text_of(fm, keys[i], &v[i], err, errlen)))
			return rc;
		size_t max = i == 0 ? IMAGE_SRC_MAX : IMAGE_TEXT_MAX;
		if (v[i] && strlen(v[i]) > max) {
			snprintf(err, errlen, "line %d: %s is longer than %zu bytes",
			         frontmatter_get(fm, keys[i])->line, keys[i], max);
			return MH_ERR_INVALID;
		}
	}
	if (v[0] && v[0][0]) {
		if (!image_src_valid(v[0])) {
			snprintf(err, errlen,
			         "line %d: feature_image must be an https:// or http:// address or a path "
			         "starting with /, without spaces",
			         frontmatter_get(fm, "feature_image")->line);
			return MH_ERR_INVALID;
		}
		if (!v[1] || !v[1][0]) {
			snprintf(err, errlen,
			         "line %d: feature_image needs feature_image_alt: a sentence saying what the "
			         "picture shows, for readers who cannot see it",
			         frontmatter_get(fm, "feature_image")->line);
			return MH_ERR_INVALID;
		}
	} else {
		for (size_t i = 1; i < 4; i++)
			if (v[i] && v[i][0]) {
				snprintf(err, errlen, "line %d: %s without feature_image",
				         frontmatter_get(fm, keys[i])->line, keys[i]);
				return MH_ERR_INVALID;
			}
	}
	out->image.src = v[0];
	out->image.alt = v[1];
	out->image.caption = v[2];
	out->image.credit = v[3];
	const char *f;
	if ((rc = text_of(fm, "featured", &f, err, errlen)))
		return rc;
	if (f && strcmp(f, "true") != 0 && strcmp(f, "false") != 0) {
		snprintf(err, errlen, "line %d: featured must be true or false, not '%s'",
		         frontmatter_get(fm, "featured")->line, f);
		return MH_ERR_INVALID;
	}
	out->featured = f && strcmp(f, "true") == 0;
	return MH_OK;
}

/* Reads the front matter of src: valid UTF-8, every value free of control
 * characters and NULs, every key one of keys (NULL-terminated); the message
 * for an unknown one names it as a `label` `where`, and lists `known`. */
static mh_err
front_matter_read(struct arena *a, const char *src, size_t len, const char *const *keys, const char *label,
                  const char *where, const char *known_list, struct frontmatter *fm, char *err, size_t errlen)
{
	int bad_line;
	if (!utf8_valid(src, len, &bad_line)) {
		snprintf(err, errlen, "line %d: invalid UTF-8", bad_line);
		return MH_ERR_INVALID;
	}
	mh_err rc = frontmatter_parse(a, src, len, fm, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < fm->n_values; i++) {
		const struct fm_value *v = &fm->values[i];
		for (size_t k = 0; k < v->n_items; k++) {
			const char *why = bad_char(v->items[k]);
			if (why || strlen(v->items[k]) != v->item_len[k]) {
				snprintf(err, errlen, "line %d: '%s' holds %s", v->line, v->key,
				         why ? why : "a NUL byte");
				return MH_ERR_INVALID;
			}
		}
		bool known = false;
		for (const char *const *k = keys; *k && !known; k++)
			known = strcmp(*k, v->key) == 0;
		if (!known) {
			snprintf(err, errlen, "line %d: unknown %s '%s'%s (known: %s)", v->line, label, v->key, where,
			         known_list);
			return MH_ERR_INVALID;
		}
	}
	return MH_OK;
}

mh_err
article_parse(struct arena *a, const char *src, size_t len, const struct article_parse_opts *opts,
              struct article_input *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (opts->max_bytes && len > opts->max_bytes) {
		snprintf(err, errlen, "line 1: file is %zu bytes, over the limit of %zu", len, opts->max_bytes);
		return MH_ERR_TOOBIG;
	}
	struct frontmatter fm;
	mh_err rc = front_matter_read(a, src, len, known_keys, "front matter key", "",
	                              "title, slug, dek, access, authors, tags, published_at, updated_at, featured, "
	                              "feature_image, feature_image_alt, feature_image_caption, feature_image_credit",
	                              &fm, err, errlen);
	if (rc)
		return rc;
	const char *title, *slug, *dek, *access;
	if ((rc = text_of(&fm, "title", &title, err, errlen)) || (rc = text_of(&fm, "slug", &slug, err, errlen)) ||
	    (rc = text_of(&fm, "dek", &dek, err, errlen)) || (rc = text_of(&fm, "access", &access, err, errlen)))
		return rc;
	struct slice t = slice_trim(slice_from(title));
	if (t.len == 0) {
		snprintf(err, errlen, "line 1: front matter has no title");
		return MH_ERR_INVALID;
	}
	if (t.len > TITLE_MAX) {
		snprintf(err, errlen, "line %d: title is longer than %d bytes", frontmatter_get(&fm, "title")->line,
		         TITLE_MAX);
		return MH_ERR_INVALID;
	}
	out->title = arena_strndup(a, t.ptr, t.len);
	if (slug) {
		if (!slug_valid(slug)) {
			snprintf(err, errlen,
			         "line %d: slug '%s' must be lower-case letters, digits and single "
			         "hyphens, at most %d long",
			         frontmatter_get(&fm, "slug")->line, slug, SLUG_MAX);
			return MH_ERR_INVALID;
		}
		out->slug = slug;
	} else {
		char derived[SLUG_MAX + 1];
		if (!slug_from(out->title, derived, sizeof derived)) {
			snprintf(err, errlen, "line %d: no slug can be made from the title; give one with 'slug:'",
			         frontmatter_get(&fm, "title")->line);
			return MH_ERR_INVALID;
		}
		out->slug = arena_strdup(a, derived);
	}
	struct slice d = slice_trim(slice_from(dek));
	if (d.len > DEK_MAX) {
		snprintf(err, errlen, "line %d: dek is longer than %d bytes", frontmatter_get(&fm, "dek")->line,
		         DEK_MAX);
		return MH_ERR_INVALID;
	}
	out->dek = arena_strndup(a, d.ptr ? d.ptr : "", d.len);
	out->access = ACCESS_PUBLIC;
	if (access) {
		int level = access_level_parse(access);
		if (level < 0) {
			snprintf(err, errlen, "line %d: access must be public, members or paid, not '%s'",
			         frontmatter_get(&fm, "access")->line, access);
			return MH_ERR_INVALID;
		}
		out->access = (enum access_level) level;
	}
	if ((rc = names_of(a, &fm, "authors", &out->authors, &out->n_authors, err, errlen)) ||
	    (rc = names_of(a, &fm, "tags", &out->tags, &out->n_tags, err, errlen)) ||
	    (rc = time_of(&fm, "published_at", opts->now, &out->published_at, err, errlen)) ||
	    (rc = time_of(&fm, "updated_at", out->published_at, &out->updated_at, err, errlen)) ||
	    (rc = image_of(&fm, out, err, errlen)))
		return rc;

	struct md_article md;
	md_render_article(a, fm.body, fm.body_len, opts->teaser_paragraphs, &md);
	if (md.second_marker_line) {
		/* Everything after a second marker would be gated twice over, or
		 * silently dropped: ask the writer which one they meant. */
		snprintf(err, errlen, "line %d: a second <!-- paywall --> line (the first is on line %d); keep one",
		         fm.body_line + md.second_marker_line - 1, fm.body_line + md.marker_line - 1);
		return MH_ERR_INVALID;
	}
	out->teaser_md = md.teaser_md;
	out->teaser_html = md.teaser_html;
	out->gated_md = md.gated_md;
	out->gated_html = md.gated_html;
	out->has_marker = md.has_marker;
	out->quotes = md.quotes;
	out->n_quotes = md.n_quotes;
	out->summary = article_summary(a, out->dek[0] ? out->dek : md.first_paragraph);
	return MH_OK;
}

#define BIO_MAX 600

bool
article_source_is_author(const char *src, size_t len)
{
	/* The front matter's lines, up to the closing "---": one of them is
	 * "kind: author". Cheap enough to run before every article's parse. */
	if (len < 4 || memcmp(src, "---", 3) != 0)
		return false;
	const char *p = memchr(src, '\n', len), *end = src + len;
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		size_t n = (size_t) ((eol ? eol : end) - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 3 && memcmp(p, "---", 3) == 0)
			return false;
		if (n >= 5 && memcmp(p, "kind:", 5) == 0) {
			struct slice v = slice_trim((struct slice){ p + 5, n - 5 });
			return v.len == 6 && memcmp(v.ptr, "author", 6) == 0;
		}
		p = eol;
	}
	return false;
}

mh_err
author_parse(struct arena *a, const char *src, size_t len, struct author_profile *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "name", "slug", "photo", "photo_alt", NULL };
	memset(out, 0, sizeof *out);
	struct frontmatter fm;
	mh_err rc = front_matter_read(a, src, len, keys, "key", " in an author's profile",
	                              "kind, name, slug, photo, photo_alt", &fm, err, errlen);
	if (rc)
		return rc;
	const char *name, *slug, *photo, *alt;
	if ((rc = text_of(&fm, "name", &name, err, errlen)) || (rc = text_of(&fm, "slug", &slug, err, errlen)) ||
	    (rc = text_of(&fm, "photo", &photo, err, errlen)) || (rc = text_of(&fm, "photo_alt", &alt, err, errlen)))
		return rc;
	struct slice nm = slice_trim(slice_from(name));
	if (nm.len == 0 || nm.len > TITLE_MAX) {
		snprintf(err, errlen, "line 1: an author's profile needs a name of 1 to %d bytes", TITLE_MAX);
		return MH_ERR_INVALID;
	}
	out->name = arena_strndup(a, nm.ptr, nm.len);
	char derived[SLUG_MAX + 1];
	if (slug && !slug_valid(slug)) {
		snprintf(err, errlen, "line %d: slug '%s' must be lower-case letters, digits and single hyphens",
		         frontmatter_get(&fm, "slug")->line, slug);
		return MH_ERR_INVALID;
	}
	if (!slug && !slug_from(out->name, derived, sizeof derived)) {
		snprintf(err, errlen, "line 1: no slug can be made from the name; give one with 'slug:'");
		return MH_ERR_INVALID;
	}
	out->slug = slug ? slug : arena_strdup(a, derived);
	out->photo = photo ? photo : "";
	out->photo_alt = alt ? alt : "";
	if (out->photo[0] && (strlen(out->photo) > IMAGE_SRC_MAX || !image_src_valid(out->photo))) {
		snprintf(err, errlen, "line %d: photo must be an https:// or http:// address or a path starting with /",
		         frontmatter_get(&fm, "photo")->line);
		return MH_ERR_INVALID;
	}
	if (out->photo[0] && (!out->photo_alt[0] || strlen(out->photo_alt) > IMAGE_TEXT_MAX)) {
		snprintf(err, errlen,
		         "line %d: photo needs photo_alt: a few words saying what it shows (at most %d bytes)",
		         frontmatter_get(&fm, "photo")->line, IMAGE_TEXT_MAX);
		return MH_ERR_INVALID;
	}
	if (!out->photo[0] && out->photo_alt[0]) {
		snprintf(err, errlen, "line %d: photo_alt without photo", frontmatter_get(&fm, "photo_alt")->line);
		return MH_ERR_INVALID;
	}
	/* The body is the bio: plain text, its lines joined by single spaces. */
	struct buf b = BUF_INIT;
	struct slice rest = slice_trim((struct slice){ fm.body, fm.body_len });
	bool space = false;
	for (size_t i = 0; i < rest.len; i++) {
		char c = rest.ptr[i];
		if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
			space = true;
			continue;
		}
		if ((unsigned char) c < 0x20 || c == 0x7f) {
			buf_release(&b);
			snprintf(err, errlen, "line %d: the bio holds a control character", fm.body_line);
			return MH_ERR_INVALID;
		}
		if (space && b.len)
			buf_putc(&b, ' ');
		space = false;
		buf_putc(&b, c);
	}
	if (b.len > BIO_MAX) {
		buf_release(&b);
		snprintf(err, errlen, "line %d: the bio is longer than %d bytes; keep it to a short paragraph",
		         fm.body_line, BIO_MAX);
		return MH_ERR_INVALID;
	}
	out->bio = arena_strndup(a, b.ptr ? b.ptr : "", b.len);
	buf_release(&b);
	return MH_OK;
}

static void
yaml_quoted(struct buf *b, const char *s)
{
	/* Double-quoted YAML is JSON-compatible for the characters we emit. */
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void
yaml_list(struct buf *b, const char *key, const struct named_ref *refs, size_t n, bool use_slug)
{
	buf_printf(b, "%s: [", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ", ");
		yaml_quoted(b, use_slug ? refs[i].slug : refs[i].name);
	}
	buf_puts(b, "]\n");
}

void
article_write_markdown(struct buf *b, const struct article_source *src)
{
	const struct article *a = &src->a;
	char when[32];
	buf_puts(b, "---\ntitle: ");
	yaml_quoted(b, a->title);
	buf_printf(b, "\nslug: %s\n", a->slug);
	if (a->dek[0]) {
		buf_puts(b, "dek: ");
		yaml_quoted(b, a->dek);
		buf_putc(b, '\n');
	}
	buf_printf(b, "access: %s\n", access_level_name(a->access));
	yaml_list(b, "authors", a->authors, a->n_authors, false);
	yaml_list(b, "tags", a->tags, a->n_tags, false);
	time_format_iso8601(a->published_at, when, sizeof when);
	buf_printf(b, "published_at: %s\n", when);
	if (a->featured)
		buf_puts(b, "featured: true\n");
	const char *const image[][2] = { { "feature_image", a->image.src },
		                         { "feature_image_alt", a->image.alt },
		                         { "feature_image_caption", a->image.caption },
		                         { "feature_image_credit", a->image.credit } };
	for (size_t i = 0; a->image.src && a->image.src[0] && i < 4; i++) {
		if (!image[i][1] || !image[i][1][0])
			continue;
		buf_printf(b, "%s: ", image[i][0]);
		yaml_quoted(b, image[i][1]);
		buf_putc(b, '\n');
	}
	if (a->updated_at != a->published_at) {
		time_format_iso8601(a->updated_at, when, sizeof when);
		buf_printf(b, "updated_at: %s\n", when);
	}
	buf_puts(b, "---\n");
	buf_puts(b, src->teaser_md);
	buf_putc(b, '\n');
	if (src->gated_md[0] || src->has_marker) {
		/* Always mark the split so a re-import keeps the same teaser. */
		buf_puts(b, "\n<!-- paywall -->\n\n");
		buf_puts(b, src->gated_md);
		buf_putc(b, '\n');
	}
}
