/* wordpress.c: a WordPress eXtended RSS export (WXR 1.0 to 1.2) into
 * site_data, read as a stream by libxml2's XML reader: no network, no
 * external entities, libxml2's own limits on depth and text size.
 *
 * Posts and pages become articles; attachments only lend their URL to the
 * posts whose _thumbnail_id names them; other types (menus, revisions,
 * blocks) are reported. The body is content:encoded, given paragraphs the
 * way WordPress's wpautop gives them when the editor wrote none. */
#include <libxml/xmlreader.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/text.h"
#include "importers/site.h"
#include "model/content.h"
#include "core/banned.h"

struct wp_item {
	struct buf title, link, content, excerpt, creator, post_id, date_gmt, name, status, type, attachment_url,
	        thumb_id;
	const char *cats[64];
	size_t n_cats;
};

struct attachment {
	const char *id, *url;
};

struct author {
	const char *login, *name;
};

static const char *
str(struct site_data *d, const struct buf *b)
{
	struct slice s = slice_trim(buf_slice(b));
	return arena_strndup(d->a, s.ptr, s.len);
}

/* "2025-11-04 14:00:00" (UTC) to Unix seconds; 0 for WordPress's zero date. */
static int64_t
wp_time(const char *s)
{
	if (!s || strlen(s) < 19 || !strncmp(s, "0000", 4))
		return 0;
	char iso[32];
	snprintf(iso, sizeof iso, "%.10sT%.8sZ", s, s + 11);
	int64_t t;
	return time_parse_iso8601(iso, &t) ? t : 0;
}

static bool
starts_block(const char *p)
{
	static const char *const tags[] = { "<h",     "<ul",    "<ol",  "<blockquote", "<div", "<figure",
		                            "<table", "<pre",   "<!--", "<p",          "<hr",  "<iframe",
		                            "<video", "<audio", "<dl",  "<section",    NULL };
	for (const char *const *t = tags; *t; t++)
		if (!strncasecmp(p, *t, strlen(*t)))
			return true;
	return false;
}

/* Paragraphs for content written without them: blank lines end a
 * paragraph, a single line break is a <br>, as wpautop does. */
static const char *
autop(struct site_data *d, const char *html)
{
	if (strcasestr(html, "<p>") || strcasestr(html, "<p "))
		return html;
	struct buf b = BUF_INIT;
	const char *p = html;
	while (*p) {
		while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *end = strstr(p, "\n\n"), *crlf = strstr(p, "\r\n\r\n");
		if (crlf && (!end || crlf < end))
			end = crlf;
		size_t n = end ? (size_t) (end - p) : strlen(p);
		bool block = starts_block(p), br = !block || !strncasecmp(p, "<blockquote", 11);
		if (!block)
			buf_puts(&b, "<p>");
		for (size_t i = 0; i < n; i++) {
			if (br && p[i] == '\n' && i + 1 < n)
				buf_puts(&b, "<br>\n");
			else
				buf_putc(&b, p[i]);
		}
		if (!block)
			buf_puts(&b, "</p>");
		buf_putc(&b, '\n');
		p += n;
	}
	const char *out = arena_strndup(d->a, b.ptr, b.len);
	buf_release(&b);
	return out;
}

/* The path (and query) of an absolute or relative URL. */
static const char *
url_path(struct site_data *d, const char *u)
{
	const char *p = strstr(u, "://");
	if (p) {
		p = strchr(p + 3, '/');
		if (!p)
			return "/";
	} else {
		p = u;
	}
	if (p[0] != '/' || p[1] == '/')
		return NULL;
	const char *hash = strchr(p, '#');
	return arena_strndup(d->a, p, hash ? (size_t) (hash - p) : strlen(p));
}

static void
item_reset(struct wp_item *it)
{
	struct buf *bufs[] = {
		&it->title,    &it->link, &it->content, &it->excerpt, &it->creator,        &it->post_id,
		&it->date_gmt, &it->name, &it->status,  &it->type,    &it->attachment_url, &it->thumb_id
	};
	for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
		buf_reset(bufs[i]);
	it->n_cats = 0;
}

static void
item_release(struct wp_item *it)
{
	struct buf *bufs[] = {
		&it->title,    &it->link, &it->content, &it->excerpt, &it->creator,        &it->post_id,
		&it->date_gmt, &it->name, &it->status,  &it->type,    &it->attachment_url, &it->thumb_id
	};
	for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
		buf_release(bufs[i]);
}

/* The text inside the element the reader is on. */
static void
read_text(xmlTextReaderPtr r, struct buf *b)
{
	xmlChar *s = xmlTextReaderReadString(r);
	if (s) {
		buf_puts(b, (const char *) s);
		xmlFree(s);
	}
}

static void
finish_item(struct site_data *d, struct wp_item *it, int access, struct attachment **atts, size_t *n_atts)
{
	const char *type = str(d, &it->type);
	if (!strcmp(type, "attachment")) {
		*atts = realloc(*atts, (*n_atts + 1) * sizeof **atts);
		if (!*atts)
			abort();
		(*atts)[*n_atts].id = str(d, &it->post_id);
		(*atts)[(*n_atts)++].url = str(d, &it->attachment_url);
		return;
	}
	const char *id = str(d, &it->post_id);
	if (strcmp(type, "post") && strcmp(type, "page")) {
		if (strcmp(type, "revision") && strcmp(type, "nav_menu_item"))
			site_issue(d, "item %s: post type '%s' is not imported", id, type);
		return;
	}
	struct site_post *p = site_post_new(d);
	p->source_id = id;
	p->page = !strcmp(type, "page");
	p->title = str(d, &it->title);
	const char *name = str(d, &it->name);
	p->slug = name[0] ? name : NULL;
	p->where = arena_printf(d->a, "%s '%s' (id %s)", type, name, id);
	const char *status = str(d, &it->status);
	p->draft = strcmp(status, "publish") != 0 && strcmp(status, "future") != 0;
	p->published_at = wp_time(str(d, &it->date_gmt));
	p->access = p->page ? ACCESS_PUBLIC : access; /* --access is for posts: an About page stays open */
	p->html = autop(d, str(d, &it->content));
	const char *excerpt = str(d, &it->excerpt);
	p->dek = excerpt[0] ? excerpt : NULL;
	const char *tags[64];
	size_t nt = 0;
	for (size_t i = 0; i < it->n_cats; i++)
		if (strcmp(it->cats[i], "Uncategorized"))
			tags[nt++] = it->cats[i];
	p->n_tags = site_names(d, tags, nt, &p->tags);
	const char *creator = str(d, &it->creator);
	if (creator[0])
		p->n_authors = site_names(d, &creator, 1, &p->authors);
	const char *link = str(d, &it->link);
	const char *path = link[0] ? url_path(d, link) : NULL;
	if (path)
		p->old_paths[p->n_old++] = path;
	if (id[0])
		p->old_paths[p->n_old++] = arena_concat(d->a, p->page ? "/?page_id=" : "/?p=", id, NULL);
}

bool
site_read_wordpress(struct site_data *d, const char *path, bool paywall_at_more, int access)
{
	(void) paywall_at_more; /* the marker comment is set in d->html by the caller */
	xmlTextReaderPtr r = xmlReaderForFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
	if (!r) {
		fprintf(stderr, "%s: cannot read\n", path);
		return false;
	}
	struct wp_item it;
	memset(&it, 0, sizeof it);
	struct buf *bufs[] = { &it.title,    &it.link, &it.content, &it.excerpt, &it.creator,        &it.post_id,
		               &it.date_gmt, &it.name, &it.status,  &it.type,    &it.attachment_url, &it.thumb_id };
	for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
		*bufs[i] = (struct buf) BUF_INIT;
	struct attachment *atts = NULL;
	size_t n_atts = 0, cap_thumbs = 0;
	const char **thumbs = NULL;
	struct author *authors = NULL;
	size_t n_authors = 0;
	bool in_item = false, is_rss = false, wxr = false;
	int item_depth = 0, rc;
	char meta_key[64] = "";
	struct buf a_login = BUF_INIT, a_name = BUF_INIT;
	while ((rc = xmlTextReaderRead(r)) == 1) {
		int type = xmlTextReaderNodeType(r);
		const char *name = (const char *) xmlTextReaderConstName(r);
		int depth = xmlTextReaderDepth(r);
		if (!name)
			continue;
		if (type == XML_READER_TYPE_END_ELEMENT) {
			if (in_item && depth == item_depth && !strcmp(name, "item")) {
				in_item = false;
				size_t before = d->n_posts;
				finish_item(d, &it, access, &atts, &n_atts);
				if (d->n_posts > before) {
					/* The feature image, resolved once every attachment is read. */
					if (cap_thumbs < d->n_posts) {
						cap_thumbs = 2 * d->n_posts;
						thumbs = realloc(thumbs, cap_thumbs * sizeof *thumbs);
						if (!thumbs)
							abort();
					}
					thumbs[before] = it.thumb_id.len ? str(d, &it.thumb_id) : NULL;
				}
			} else if (!strcmp(name, "wp:author")) {
				authors = realloc(authors, (n_authors + 1) * sizeof *authors);
				if (!authors)
					abort();
				authors[n_authors].login = str(d, &a_login);
				authors[n_authors++].name = str(d, &a_name);
			}
			continue;
		}
		if (type != XML_READER_TYPE_ELEMENT)
			continue;
		if (depth == 0) {
			is_rss = !strcmp(name, "rss");
			continue;
		}
		if (!strcmp(name, "wp:wxr_version"))
			wxr = true;
		if (!strcmp(name, "wp:author")) {
			buf_reset(&a_login);
			buf_reset(&a_name);
		} else if (!strcmp(name, "wp:author_login")) {
			read_text(r, &a_login);
		} else if (!strcmp(name, "wp:author_display_name")) {
			read_text(r, &a_name);
		}
		if (!strcmp(name, "item")) {
			in_item = true;
			item_depth = depth;
			item_reset(&it);
			meta_key[0] = '\0';
			continue;
		}
		if (!in_item)
			continue;
		if (depth == item_depth + 1) {
			static const struct {
				const char *name;
				size_t off;
			} fields[] = {
				{ "title", offsetof(struct wp_item, title) },
				{ "link", offsetof(struct wp_item, link) },
				{ "content:encoded", offsetof(struct wp_item, content) },
				{ "excerpt:encoded", offsetof(struct wp_item, excerpt) },
				{ "dc:creator", offsetof(struct wp_item, creator) },
				{ "wp:post_id", offsetof(struct wp_item, post_id) },
				{ "wp:post_date_gmt", offsetof(struct wp_item, date_gmt) },
				{ "wp:post_name", offsetof(struct wp_item, name) },
				{ "wp:status", offsetof(struct wp_item, status) },
				{ "wp:post_type", offsetof(struct wp_item, type) },
				{ "wp:attachment_url", offsetof(struct wp_item, attachment_url) },
			};
			for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
				if (!strcmp(name, fields[i].name))
					read_text(r, (struct buf *) ((char *) &it + fields[i].off));
			if (!strcmp(name, "category") && it.n_cats < 64) {
				xmlChar *dom = xmlTextReaderGetAttribute(r, (const xmlChar *) "domain");
				if (dom && (!strcmp((char *) dom, "category") || !strcmp((char *) dom, "post_tag"))) {
					struct buf t = BUF_INIT;
					read_text(r, &t);
					it.cats[it.n_cats++] = str(d, &t);
					buf_release(&t);
					/* The old archive: /category/NICENAME/ or /tag/NICENAME/. */
					xmlChar *nice = xmlTextReaderGetAttribute(r, (const xmlChar *) "nicename");
					if (nice && nice[0] && strcmp(it.cats[it.n_cats - 1], "Uncategorized"))
						site_redirect_named(d,
						                    arena_concat(d->a,
						                                 !strcmp((char *) dom, "category")
						                                         ? "/category/"
						                                         : "/tag/",
						                                 (char *) nice, "/", NULL),
						                    "tags", it.cats[it.n_cats - 1]);
					xmlFree(nice);
				}
				xmlFree(dom);
			}
		} else if (!strcmp(name, "wp:meta_key")) {
			struct buf t = BUF_INIT;
			read_text(r, &t);
			snprintf(meta_key, sizeof meta_key, "%s", str(d, &t));
			buf_release(&t);
		} else if (!strcmp(name, "wp:meta_value") && !strcmp(meta_key, "_thumbnail_id")) {
			buf_reset(&it.thumb_id);
			read_text(r, &it.thumb_id);
		}
	}
	bool ok = rc == 0 && is_rss;
	if (rc != 0) {
		const xmlError *e = xmlGetLastError();
		fprintf(stderr, "%s:%d: not well-formed XML: %s", path, e ? e->line : 0,
		        e && e->message ? e->message : "parse error\n");
	} else if (!is_rss || !wxr) {
		fprintf(stderr, "%s: not a WordPress export (an <rss> with <wp:wxr_version>)\n", path);
		ok = false;
	}
	/* Display names for dc:creator logins, and feature images. */
	for (size_t i = 0; ok && i < d->n_posts; i++) {
		struct site_post *p = &d->posts[i];
		for (size_t k = 0; k < p->n_authors; k++)
			for (size_t j = 0; j < n_authors; j++)
				if (!strcmp(authors[j].login, p->authors[k].name) && authors[j].name[0])
					site_names(d, &authors[j].name, 1, &p->authors);
		if (thumbs && thumbs[i])
			for (size_t j = 0; j < n_atts; j++)
				if (!strcmp(atts[j].id, thumbs[i]))
					p->image = atts[j].url;
	}
	item_release(&it);
	buf_release(&a_login);
	buf_release(&a_name);
	free(atts);
	free(thumbs);
	free(authors);
	xmlFreeTextReader(r);
	return ok;
}
