/* site.c: what every import-site reader shares: the checks, the report and
 * the one transaction (site.h). */
#include "importers/site.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/email.h"
#include "billing/billing.h"
#include "content/article.h"
#include "content/markdown.h"
#include "content/slug.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/fault.h"
#include "core/text.h"
#include "core/banned.h"

#define TITLE_MAX 300
#define DEK_MAX   600
#define NAME_MAX  120

void
site_data_init(struct site_data *d, const char *source)
{
	memset(d, 0, sizeof *d);
	d->a = arena_new();
	d->source = source;
}

void
site_data_release(struct site_data *d)
{
	free(d->posts);
	free(d->members);
	free(d->redirects);
	for (size_t i = 0; i < d->n_issues; i++)
		free(d->issues[i]);
	free(d->issues);
	arena_free(d->a);
}

struct site_post *
site_post_new(struct site_data *d)
{
	if (d->n_posts == d->cap_posts)
		d->posts = xrealloc(d->posts, (d->cap_posts = d->cap_posts ? 2 * d->cap_posts : 64) * sizeof *d->posts);
	struct site_post *p = &d->posts[d->n_posts++];
	memset(p, 0, sizeof *p);
	return p;
}

struct site_member *
site_member_new(struct site_data *d)
{
	if (d->n_members == d->cap_members)
		d->members = xrealloc(d->members, (d->cap_members = d->cap_members ? 2 * d->cap_members : 256) *
		                                          sizeof *d->members);
	struct site_member *m = &d->members[d->n_members++];
	memset(m, 0, sizeof *m);
	return m;
}

/* The old platform's newsletter choice, applied to this site's newsletters:
 * a member who declined is taken off every one (the sign-up trigger put
 * them on those that subscribe new members); one who agreed is put on
 * those. */
static mh_err
site_apply_consent(struct store *s, struct arena *a, int64_t member_id, bool yes, int64_t now)
{
	struct newsletter *nl = NULL;
	size_t n = 0;
	mh_err rc = store_newsletter_list(s, a, 0, &nl, &n);
	for (size_t i = 0; rc == MH_OK && i < n; i++)
		if (!yes || nl[i].subscribe_on_signup)
			rc = store_newsletter_subscribe(s, nl[i].id, member_id, yes, now);
	return rc;
}

void
site_issue(struct site_data *d, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (d->n_issues == d->cap_issues)
		d->issues = xrealloc(d->issues,
		                     (d->cap_issues = d->cap_issues ? 2 * d->cap_issues : 16) * sizeof *d->issues);
	d->issues[d->n_issues++] = buf_detach(&b, NULL);
}

void
site_redirect_named(struct site_data *d, const char *from, const char *kind, const char *name)
{
	char slug[SLUG_MAX + 1];
	if (!from || from[0] != '/' || from[1] == '/' || !name || !slug_from(name, slug, sizeof slug))
		return;
	if (d->n_redirects == d->cap_redirects)
		d->redirects =
		        xrealloc(d->redirects, (d->cap_redirects = d->cap_redirects ? 2 * d->cap_redirects : 64) *
		                                       sizeof *d->redirects);
	d->redirects[d->n_redirects].from = from;
	d->redirects[d->n_redirects++].to = arena_concat(d->a, "/", kind, "/", slug, NULL);
}

static int
cmp_redirect(const void *x, const void *y)
{
	return strcmp(((const struct site_redirect *) x)->from, ((const struct site_redirect *) y)->from);
}

size_t
site_names(struct site_data *d, const char *const *names, size_t n, struct named_ref **out)
{
	struct named_ref *refs = arena_alloc(d->a, (n ? n : 1) * sizeof *refs);
	size_t k = 0;
	for (size_t i = 0; i < n && k < 64; i++) {
		if (!names[i])
			continue;
		struct slice nm = slice_trim(slice_from(names[i]));
		char slug[SLUG_MAX + 1];
		char *z = arena_strndup(d->a, nm.ptr, nm.len);
		if (!nm.len || nm.len > NAME_MAX || !slug_from(z, slug, sizeof slug))
			continue;
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(refs[j].slug, slug);
		if (dup)
			continue;
		refs[k].slug = arena_strdup(d->a, slug);
		refs[k].name = z;
		k++;
	}
	*out = refs;
	return k;
}

bool
site_read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		return false;
	}
	struct buf b = BUF_INIT;
	buf_init(&b, max);
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && !buf_error(&b))
		buf_add(&b, chunk, got);
	bool failed = ferror(f);
	fclose(f);
	if (failed || buf_error(&b)) {
		if (failed)
			fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		else
			fprintf(stderr, "%s: larger than %zu bytes\n", path, max);
		buf_release(&b);
		return false;
	}
	*out = buf_detach(&b, len);
	return true;
}

/* ---- Members' CSV files ---------------------------------------------------------------------- */

/* The column of the first of names (in their order) the header has. */
static int
column(char **head, size_t n, const char *const *names)
{
	for (const char *const *k = names; *k; k++)
		for (size_t i = 0; i < n; i++) {
			struct slice h = slice_trim(slice_from(head[i]));
			if (h.len == strlen(*k) && !strncasecmp(h.ptr, *k, h.len))
				return (int) i;
		}
	return -1;
}

static const char *
field(char **f, size_t n, int col)
{
	return col >= 0 && (size_t) col < n ? f[col] : "";
}

static bool
truthy(const char *v)
{
	return !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
}

void
site_members_csv(struct site_data *d, const char *name, const char *data, size_t len)
{
	struct csv c;
	csv_init(&c, data, len);
	char **head, **f;
	size_t nh, n;
	int line;
	int rc = csv_next(&c, d->a, &head, &nh, &line);
	if (rc != 1) {
		site_issue(d, "%s: no header line", name);
		return;
	}
	static const char *const k_email[] = { "email", "e-mail", "email_address", NULL };
	static const char *const k_name[] = { "name", "full_name", NULL };
	static const char *const k_sub[] = { "subscribed_to_emails", "subscribed", NULL };
	static const char *const k_disabled[] = { "email_disabled", NULL };
	static const char *const k_comp[] = { "complimentary_plan", "comp", NULL };
	static const char *const k_stripe[] = { "stripe_customer_id", NULL };
	static const char *const k_created[] = { "created_at", "subscription_created_at", "created", NULL };
	static const char *const k_deleted[] = { "deleted_at", NULL };
	static const char *const k_tiers[] = { "tiers", NULL };
	static const char *const k_plan[] = { "plan", "type", "active_subscription", NULL };
	int ce = column(head, nh, k_email), cn = column(head, nh, k_name), cs = column(head, nh, k_sub),
	    cd = column(head, nh, k_disabled), cc = column(head, nh, k_comp), cst = column(head, nh, k_stripe),
	    ccr = column(head, nh, k_created), cdel = column(head, nh, k_deleted), ct = column(head, nh, k_tiers),
	    cp = column(head, nh, k_plan);
	if (ce < 0) {
		site_issue(d, "%s:%d: no email column in the header; no member read", name, line);
		return;
	}
	while ((rc = csv_next(&c, d->a, &f, &n, &line)) != 0) {
		if (rc < 0) {
			site_issue(d, "%s:%d: malformed row (a quote left open or text after one); skipped", name,
			           line);
			continue;
		}
		if (n != nh) {
			site_issue(d, "%s:%d: %zu fields where the header has %zu; skipped", name, line, n, nh);
			continue;
		}
		if (cdel >= 0 && field(f, n, cdel)[0]) {
			site_issue(d, "%s:%d: deleted on the old site (deleted_at); skipped", name, line);
			continue;
		}
		struct site_member *m = site_member_new(d);
		m->where = arena_printf(d->a, "%s:%d", name, line);
		m->email = field(f, n, ce);
		m->name = field(f, n, cn);
		if (cs >= 0) {
			m->newsletter = truthy(field(f, n, cs));
			m->newsletter_known = true;
		} else if (cd >= 0) {
			m->newsletter = !truthy(field(f, n, cd));
			m->newsletter_known = true;
		}
		const char *plan = field(f, n, cp);
		m->comped = truthy(field(f, n, cc)) || !strcasecmp(plan, "comp");
		m->stripe_customer = field(f, n, cst);
		/* Ghost lists a paying member's tiers; Substack names the plan. */
		m->paying = !m->comped && ((ct >= 0 && field(f, n, ct)[0] && m->stripe_customer[0]) ||
		                           (cp >= 0 && plan[0] && strcasecmp(plan, "free") &&
		                            strcasecmp(plan, "false") && strcasecmp(plan, "comp")));
		int64_t t = 0;
		const char *cr = field(f, n, ccr);
		m->created_at = cr[0] && time_parse_iso8601(cr, &t) ? t : d->default_time;
	}
}

/* ---- Checking and writing -------------------------------------------------------------------- */

struct counts {
	size_t posts, pages, drafts, created, updated, skipped, dup_posts, redirects;
	size_t members, m_created, m_updated, m_skipped, dup_members, comped, consent, stripe, stripe_skipped;
	size_t tags, authors;
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

struct progress {
	FILE *out;
	double last;
};

static void
progress(struct progress *p, const char *what, size_t done, size_t total)
{
	if (!p->out)
		return;
	double t = now_s();
	if (done != total && t - p->last < 0.1)
		return;
	p->last = t;
	fprintf(p->out, "\r%s %zu/%zu\x1b[K", what, done, total);
	if (done == total)
		fputs("\r\x1b[K", p->out);
	fflush(p->out);
}

static const char *const *sort_keys;

static int
cmp_key(const void *x, const void *y)
{
	size_t a = *(const size_t *) x, b = *(const size_t *) y;
	int c = strcmp(sort_keys[a], sort_keys[b]);
	return c ? c : (a > b) - (a < b);
}

/* Marks dup[i] for every key that an earlier index holds too (NULL keys skipped). */
static void
find_dups(const char **keys, size_t n, size_t *first_of)
{
	size_t *order = xmallocarray(n ? n : 1, sizeof *order), m = 0;
	for (size_t i = 0; i < n; i++) {
		first_of[i] = i;
		if (keys[i])
			order[m++] = i;
	}
	sort_keys = keys; /* qsort has no context argument; imports run on one thread */
	if (m)
		qsort(order, m, sizeof *order, cmp_key);
	for (size_t k = 1, first = 0; k < m; k++) {
		if (strcmp(keys[order[first]], keys[order[k]]) != 0)
			first = k;
		else
			first_of[order[k]] = order[first];
	}
	free(order);
}

static size_t
count_distinct(const char **keys, size_t n)
{
	size_t *first = xmallocarray(n ? n : 1, sizeof *first), c = 0;
	find_dups(keys, n, first);
	for (size_t i = 0; i < n; i++)
		c += keys[i] && first[i] == i;
	free(first);
	return c;
}

/* Control characters and line separators become spaces (titles, names). */
static char *
one_line(struct arena *a, const char *s)
{
	struct slice t = slice_trim(slice_from(s ? s : ""));
	char *o = arena_strndup(a, t.ptr, t.len);
	for (unsigned char *p = (unsigned char *) o; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return o;
}

/* The Markdown of a post: its feature image first, then its body. NULL
 * with *why when it cannot be converted. */
static const char *
post_markdown(struct arena *a, const struct site_data *d, const struct site_post *p, bool *marker, const char **why)
{
	struct buf b = BUF_INIT;
	*marker = false;
	if (p->image && p->image[0]) {
		struct buf fig = BUF_INIT;
		buf_puts(&fig, "<figure><img src=\"");
		buf_add_html(&fig, p->image, strlen(p->image));
		buf_puts(&fig, "\" alt=\"");
		buf_add_html(&fig, p->image_alt ? p->image_alt : "", p->image_alt ? strlen(p->image_alt) : 0);
		buf_puts(&fig, "\">");
		if (p->image_caption && p->image_caption[0]) {
			buf_puts(&fig, "<figcaption>");
			buf_puts(&fig, p->image_caption); /* HTML in Ghost: converted like the body */
			buf_puts(&fig, "</figcaption>");
		}
		buf_puts(&fig, "</figure>");
		struct html_result r;
		struct html_opts o = d->html;
		o.marker_comments = NULL;
		o.marker_divs = false;
		if (html_to_markdown(a, fig.ptr, fig.len, &o, &r) == MH_OK && r.md[0]) {
			buf_puts(&b, r.md);
			buf_puts(&b, "\n\n");
		}
		buf_release(&fig);
	}
	if (p->html) {
		struct html_result r;
		mh_err rc = html_to_markdown(a, p->html, strlen(p->html), &d->html, &r);
		if (rc == MH_ERR_TOOBIG) {
			*why = "its HTML nests deeper than 400 elements";
			buf_release(&b);
			return NULL;
		}
		buf_puts(&b, r.md);
		*marker = r.has_marker;
	} else if (p->md) {
		buf_puts(&b, p->md);
	}
	if (buf_error(&b)) {
		*why = "its body is too large";
		buf_release(&b);
		return NULL;
	}
	const char *md = arena_strndup(a, b.ptr, b.len);
	buf_release(&b);
	return md;
}

static void
report_list(FILE *out, const char *title, char **items, size_t n)
{
	if (!n)
		return;
	fprintf(out, "%s:\n", title);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %s\n", items[i]);
}

int
site_run(struct store *s, struct site_data *d, const struct site_opts *o)
{
	struct counts c = { 0 };
	struct progress pr = { o->progress, 0 };
	FILE *out = o->out;
	int code = 0;
	bool in_txn = false;
	struct billing bill = { s, o->cfg, NULL, NULL, &billing_stripe_provider };

	/* Slugs first: a later post with a slug an earlier one has is reported. */
	const char **slugs = xcalloc(d->n_posts ? d->n_posts : 1, sizeof *slugs);
	size_t *first = xcalloc(d->n_posts ? d->n_posts : 1, sizeof *first);
	for (size_t i = 0; i < d->n_posts; i++) {
		struct site_post *p = &d->posts[i];
		if (p->why)
			continue;
		char slug[SLUG_MAX + 1];
		if (p->slug && slug_valid(p->slug))
			slugs[i] = p->slug;
		else if ((p->slug && p->slug[0] && slug_from(p->slug, slug, sizeof slug)) ||
		         (p->title && slug_from(p->title, slug, sizeof slug)))
			slugs[i] = p->slug = arena_strdup(d->a, slug);
		else
			p->why = "no slug can be made from its slug or title";
	}
	find_dups(slugs, d->n_posts, first);

	if (!o->dry_run) {
		if (store_begin(s)) {
			fprintf(stderr, "import-site: database error: %s\n", store_errmsg(s));
			code = 1;
			goto out;
		}
		in_txn = true;
	}

	const char **tag_keys = xcalloc(1, sizeof *tag_keys), **author_keys = xcalloc(1, sizeof *author_keys);
	size_t n_tag_keys = 0, n_author_keys = 0;
	for (size_t i = 0; i < d->n_posts; i++) {
		struct site_post *p = &d->posts[i];
		progress(&pr, "posts", i + 1, d->n_posts);
		if (!p->why && first[i] != i) {
			site_issue(d, "%s: slug '%s' is also used by %s; skipped", p->where, p->slug,
			           d->posts[first[i]].where);
			c.dup_posts++;
			continue;
		}
		const char *title = one_line(d->a, p->title);
		if (!p->why && !title[0])
			p->why = "it has no title";
		if (!p->why && strlen(title) > TITLE_MAX)
			p->why = "its title is longer than 300 bytes";
		if (!p->why && !utf8_valid(title, strlen(title), NULL))
			p->why = "its title is not valid UTF-8";
		if (p->why) {
			site_issue(d, "%s: %s; skipped", p->where, p->why);
			c.skipped++;
			continue;
		}
		struct arena *a = arena_new();
		bool marker;
		const char *why = NULL;
		const char *md = post_markdown(a, d, p, &marker, &why);
		if (!md) {
			site_issue(d, "%s: %s; skipped", p->where, why);
			c.skipped++;
			arena_free(a);
			continue;
		}
		struct md_article m;
		md_render_article(a, md, strlen(md), o->teaser_paragraphs, &m);
		struct article_input in = { 0 };
		in.slug = p->slug;
		in.title = title;
		const char *dek = one_line(a, p->dek);
		if (strlen(dek) > DEK_MAX) {
			size_t cut = DEK_MAX;
			while (cut && ((unsigned char) dek[cut] & 0xc0) == 0x80)
				cut--;
			dek = arena_strndup(a, dek, cut);
		}
		in.dek = dek;
		in.summary = article_summary(a, dek[0] ? dek : m.first_paragraph);
		in.access = (enum access_level) p->access;
		in.published_at = p->draft ? SITE_DRAFT_TIME : p->published_at ? p->published_at : d->default_time;
		in.updated_at = p->updated_at && !p->draft ? p->updated_at : in.published_at;
		in.teaser_md = m.teaser_md;
		in.teaser_html = m.teaser_html;
		in.gated_md = m.gated_md;
		in.gated_html = m.gated_html;
		in.has_marker = m.has_marker;
		in.quotes = m.quotes;
		in.n_quotes = m.n_quotes;
		in.authors = p->authors;
		in.n_authors = p->n_authors;
		in.tags = p->tags;
		in.n_tags = p->n_tags;
		if (!in.n_authors) {
			static struct named_ref staff = { "staff", "Staff" };
			in.authors = &staff;
			in.n_authors = 1;
		}
		tag_keys = xrealloc(tag_keys, (n_tag_keys + in.n_tags + 1) * sizeof *tag_keys);
		for (size_t k = 0; k < in.n_tags; k++)
			tag_keys[n_tag_keys++] = in.tags[k].slug;
		author_keys = xrealloc(author_keys, (n_author_keys + in.n_authors + 1) * sizeof *author_keys);
		for (size_t k = 0; k < in.n_authors; k++)
			author_keys[n_author_keys++] = in.authors[k].slug;
		if (p->draft)
			c.drafts++;
		else if (p->page)
			c.pages++;
		else
			c.posts++;
		if (o->dry_run) {
			struct article *existing;
			if (store_article_by_slug(s, a, p->slug, &existing) == MH_OK)
				c.updated++;
			else
				c.created++;
		} else {
			int64_t id;
			bool created;
			if (store_article_upsert(s, &in, &id, &created)) {
				fprintf(stderr, "import-site: %s: cannot store the article: %s\n", p->where,
				        store_errmsg(s));
				arena_free(a);
				code = 1;
				goto out_keys;
			}
			if (created)
				c.created++;
			else
				c.updated++;
			/* A fault build's kill -9 in the middle of the transaction (tests). */
			if (fault_value("import-site-kill-after", 0) == (long) (c.created + c.updated))
				kill(getpid(), SIGKILL);
		}
		if (!p->draft) {
			const char *to = arena_concat(a, "/articles/", p->slug, NULL);
			for (size_t k = 0; k < p->n_old; k++) {
				if (!p->old_paths[k] || p->old_paths[k][0] != '/' || !strcmp(p->old_paths[k], to) ||
				    strlen(p->old_paths[k]) > 1024)
					continue;
				c.redirects++;
				if (!o->dry_run && store_redirect_put(s, p->old_paths[k], to, d->source, o->now)) {
					fprintf(stderr, "import-site: %s: cannot store a redirect: %s\n", p->where,
					        store_errmsg(s));
					arena_free(a);
					code = 1;
					goto out_keys;
				}
			}
		}
		arena_free(a);
	}
	/* Listings' old addresses, once each. */
	if (d->n_redirects)
		qsort(d->redirects, d->n_redirects, sizeof *d->redirects, cmp_redirect);
	for (size_t i = 0; i < d->n_redirects; i++) {
		if (i && !strcmp(d->redirects[i].from, d->redirects[i - 1].from))
			continue;
		c.redirects++;
		if (!o->dry_run && store_redirect_put(s, d->redirects[i].from, d->redirects[i].to, d->source, o->now)) {
			fprintf(stderr, "import-site: cannot store a redirect: %s\n", store_errmsg(s));
			code = 1;
			goto out_keys;
		}
	}
	c.tags = count_distinct(tag_keys, n_tag_keys);
	c.authors = count_distinct(author_keys, n_author_keys);

	/* Members: the one e-mail rule, then one member an address. */
	const char **emails = xcalloc(d->n_members ? d->n_members : 1, sizeof *emails);
	size_t *mfirst = xcalloc(d->n_members ? d->n_members : 1, sizeof *mfirst);
	for (size_t i = 0; i < d->n_members; i++) {
		char e[EMAIL_MAX + 1];
		if (email_normalize(d->members[i].email, e, sizeof e))
			emails[i] = arena_strdup(d->a, e);
		else
			site_issue(d, "%s: '%s' fails the e-mail rule; skipped", d->members[i].where,
			           one_line(d->a, d->members[i].email));
	}
	find_dups(emails, d->n_members, mfirst);
	for (size_t i = 0; i < d->n_members; i++) {
		struct site_member *sm = &d->members[i];
		progress(&pr, "members", i + 1, d->n_members);
		if (!emails[i]) {
			c.m_skipped++;
			continue;
		}
		if (mfirst[i] != i) {
			site_issue(d, "%s: %s is the same address as %s; the first is kept", sm->where, emails[i],
			           d->members[mfirst[i]].where);
			c.dup_members++;
			continue;
		}
		c.members++;
		struct arena *a = arena_new();
		struct member m;
		mh_err rc = store_member_by_email(s, a, emails[i], &m);
		const char *name = one_line(a, sm->name);
		if (strlen(name) > NAME_MAX)
			name = "";
		bool stripe = sm->stripe_customer && sm->stripe_customer[0];
		if (rc == MH_ERR_NOTFOUND) {
			c.m_created++;
			if (!o->dry_run) {
				struct member nm = { 0,  emails[i],   name,
					             "", ROLE_READER, sm->created_at ? sm->created_at : o->now,
					             0,  true };
				if ((rc = store_member_create(s, &nm, &m.id)) == MH_OK)
					rc = store_member_update(s, m.id, NULL, NULL, 1);
				m.comped_until = 0;
			} else {
				rc = MH_OK;
			}
		} else if (rc == MH_OK) {
			c.m_updated++;
			if (!o->dry_run && name[0] && strcmp(name, m.name))
				rc = store_member_update(s, m.id, name, NULL, -1);
		}
		if (!rc && sm->comped) {
			c.comped++;
			if (!o->dry_run)
				rc = store_member_set_comped(s, m.id, SITE_COMP_FOREVER);
		} else if (!rc && !o->dry_run && m.comped_until == SITE_COMP_FOREVER) {
			rc = store_member_set_comped(s, m.id, 0); /* the old site took the comp back */
		}
		if (!rc && sm->newsletter_known) {
			c.consent += sm->newsletter;
			if (!o->dry_run)
				rc = store_consent_put(s, m.id, sm->newsletter, d->source, o->now);
			if (!rc && !o->dry_run)
				rc = site_apply_consent(s, a, m.id, sm->newsletter, o->now);
		}
		if (!rc && sm->paying && !stripe)
			site_issue(d,
			           "%s: a paying subscriber without a Stripe customer id: imported as a member; "
			           "link their subscription by hand",
			           sm->where);
		if (!rc && stripe) {
			char msg[256] = "";
			mh_err ar = MH_OK;
			if (!o->dry_run)
				ar = bill.provider->attach_customer(&bill, a, m.id, sm->stripe_customer, sm->paying,
				                                    o->now, msg, sizeof msg);
			if (ar == MH_OK) {
				c.stripe++;
			} else if (ar == MH_ERR_CONFLICT || ar == MH_ERR_NOTFOUND) {
				site_issue(d, "%s: Stripe customer %s not attached: %s", sm->where, sm->stripe_customer,
				           msg);
				c.stripe_skipped++;
			} else {
				rc = ar;
			}
		}
		arena_free(a);
		if (rc) {
			fprintf(stderr, "import-site: %s: cannot store the member: %s\n", sm->where, store_errmsg(s));
			code = 1;
			break;
		}
	}
	free(emails);
	free(mfirst);
	if (code)
		goto out_keys;

	if (in_txn) {
		if (store_commit(s)) {
			fprintf(stderr, "import-site: database error: %s\n", store_errmsg(s));
			code = 1;
			goto out_keys;
		}
		in_txn = false;
	}
	fprintf(out, "import-site %s: %s\n", d->source,
	        o->dry_run ? "dry run, nothing written" : "done, written in one transaction");
	fprintf(out, "  articles: %zu %s, %zu %s (posts %zu, pages %zu, drafts %zu)\n", c.created,
	        o->dry_run ? "to create" : "created", c.updated, o->dry_run ? "to update" : "updated", c.posts, c.pages,
	        c.drafts);
	fprintf(out, "  skipped: %zu unmappable, %zu duplicate slugs\n", c.skipped, c.dup_posts);
	fprintf(out, "  tags: %zu, authors: %zu, redirects: %zu\n", c.tags, c.authors, c.redirects);
	fprintf(out, "  members: %zu %s, %zu %s; comped %zu, newsletter consent %zu, Stripe customers %zu\n",
	        c.m_created, o->dry_run ? "to create" : "created", c.m_updated, o->dry_run ? "to update" : "updated",
	        c.comped, c.consent, c.stripe);
	fprintf(out, "  members skipped: %zu failing the e-mail rule, %zu duplicate addresses\n", c.m_skipped,
	        c.dup_members);
	report_list(out, "not imported, or imported with a note", d->issues, d->n_issues);
out_keys:
	free(tag_keys);
	free(author_keys);
out:
	if (in_txn)
		store_rollback(s);
	free(slugs);
	free(first);
	return code;
}
