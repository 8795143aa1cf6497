/* compose.c: tokens, the enqueue, and each version of a newsletter
 * message: rendered once per kind of reader with marks where the reader's
 * greeting and unsubscribe link go, then cut at the marks, so that each
 * recipient's message is the version's pieces with their values spliced in.
 *
 * A version's text comes from the reading path: the gated part is read
 * (reading_gated) only for a version whose decision is FULL, so a teaser
 * version holds none of it to leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/htmltext.h"
#include "core/log.h"
#include "newsletter/newsletter.h"
#include "newsletter/compose.h"
#include "paywall/reading.h"
#include "render/template.h"
#include "render/theme.h"
#include "mail/mail.h"
#include "core/text.h"
#include "core/banned.h"

#define TOKEN_LABEL   "newsletter-recipient"
#define ENQUEUE_BATCH 1000
#define PART_MAX      ((size_t) 4 << 20)

void
newsletter_token(const unsigned char key[SECRET_BYTES], int64_t recipient_id, char out[NL_TOKEN_MAX])
{
	char id[24], mac[TOKEN_MAC_CHARS + 1];
	int n = snprintf(id, sizeof id, "%lld", (long long) recipient_id);
	token_mac(key, TOKEN_LABEL, id, (size_t) n, mac);
	snprintf(out, NL_TOKEN_MAX, "%s-%s", id, mac);
}

bool
newsletter_token_parse(const unsigned char key[SECRET_BYTES], const char *token, size_t len, int64_t *id)
{
	size_t i = 0;
	int64_t v = 0;
	while (i < len && i < 18 && token[i] >= '0' && token[i] <= '9')
		v = v * 10 + (token[i++] - '0');
	if (i == 0 || token[0] == '0' || i >= len || token[i] != '-' || len - i - 1 != TOKEN_MAC_CHARS)
		return false;
	char mac[TOKEN_MAC_CHARS + 1], given[TOKEN_MAC_CHARS + 1];
	for (size_t k = 0; k < TOKEN_MAC_CHARS; k++) {
		char c = token[i + 1 + k];
		if (c >= 'A' && c <= 'F')
			c = (char) (c - 'A' + 'a'); /* a relay may have changed the case of the local part */
		given[k] = c;
	}
	given[TOKEN_MAC_CHARS] = '\0';
	token_mac(key, TOKEN_LABEL, token, i, mac);
	if (sodium_memcmp(mac, given, TOKEN_MAC_CHARS) != 0)
		return false;
	*id = v;
	return true;
}

/* ---- Enqueue ---------------------------------------------------------------------------------- */

static bool
level_listed(const char *levels, enum access_level level)
{
	const char *name = access_level_name(level);
	size_t n = strlen(name);
	for (const char *p = levels; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t) (e - p) : strlen(p);
		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && !memcmp(p, name, n))
			return true;
		p = e ? e + 1 : p + len;
		if (!e)
			break;
	}
	return false;
}

static void
audience_viewer(const struct nl_audience *m, struct viewer *v)
{
	memset(v, 0, sizeof *v);
	v->signed_in = true;
	v->member_id = m->member_id;
	v->role = m->role;
	v->comped_until = m->comped_until;
	v->meter_remaining = -1; /* a newsletter never spends the meter */
	if (m->has_sub) {
		v->status = m->status;
		v->grace_until = m->grace_until;
		v->period_end = m->period_end;
		v->cancel_at_period_end = m->cancel_at_period_end;
	}
}

mh_err
newsletter_enqueue(struct store *s, const struct config *cfg, const char *article_slug, const char *newsletter_slug,
                   struct nl_send_result *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct arena *a = arena_new();
	struct newsletter nl;
	struct article *art;
	int64_t now = clock_now();
	mh_err rc = store_newsletter_get(s, a, newsletter_slug, &nl);
	if (rc == MH_ERR_NOTFOUND) {
		if (newsletter_slug)
			snprintf(err, errlen, "no newsletter '%s'", newsletter_slug);
		else
			snprintf(err, errlen, "this site has no newsletter yet (masthead newsletter add SLUG NAME)");
		goto out;
	}
	if (rc)
		goto db;
	rc = store_article_by_slug(s, a, article_slug, &art);
	if (rc == MH_ERR_NOTFOUND || (!rc && art->published_at > now)) {
		snprintf(err, errlen, "no published article '%s'", article_slug);
		rc = MH_ERR_NOTFOUND;
		goto out;
	}
	if (rc)
		goto db;
	rc = store_newsletter_send_create(s, nl.id, art->id, now, &out->send_id);
	struct nl_send send = { 0 };
	if (rc == MH_ERR_CONFLICT) {
		if ((rc = store_newsletter_send_get(s, a, nl.id, art->id, &send)))
			goto db;
		if (send.finished_at) {
			char when[32];
			time_format_iso8601(send.finished_at, when, sizeof when);
			snprintf(err, errlen, "'%s' went out by newsletter '%s' already (finished %s)", article_slug,
			         nl.slug, when);
			rc = MH_ERR_CONFLICT;
			goto out;
		}
		out->resumed = true;
	} else if (rc) {
		goto db;
	}
	if (!send.enqueued_at) {
		const struct reading_rules rules = { cfg->auto_paywall_days };
		int64_t after = 0;
		for (;;) {
			struct arena *b = arena_new();
			struct nl_audience *m;
			size_t n;
			if ((rc = store_newsletter_audience(s, b, nl.id, after, ENQUEUE_BATCH, &m, &n))) {
				arena_free(b);
				goto db;
			}
			struct nl_recipient *r = arena_zalloc(b, (n ? n : 1) * sizeof *r);
			for (size_t i = 0; i < n; i++) {
				struct viewer v;
				audience_viewer(&m[i], &v);
				struct access_decision d = reading_decide(art, &v, &rules, now);
				r[i].member_id = m[i].member_id;
				r[i].email = m[i].email;
				r[i].name = m[i].name;
				r[i].reason = access_reason_name(d.reason);
				r[i].full = d.full && level_listed(nl.full_levels, art->access);
				after = m[i].member_id;
			}
			rc = n ? store_newsletter_enqueue(s, out->send_id, r, n) : MH_OK;
			arena_free(b);
			if (rc)
				goto db;
			out->queued += n;
			if (n < ENQUEUE_BATCH)
				break;
		}
		if ((rc = store_newsletter_send_mark(s, out->send_id, clock_now(), 0)))
			goto db;
	}
	rc = store_newsletter_counts(s, out->send_id, &out->counts);
	if (rc)
		goto db;
	goto out;
db:
	snprintf(err, errlen, "%s", store_errmsg(s));
out:
	arena_free(a);
	return rc;
}

/* ---- Versions --------------------------------------------------------------------------------- */

/* Block ends become blank lines; then the words, as the search index reads them. */
static void
html_to_text(struct buf *out, const char *html)
{
	static const char *const ends[] = { "</p>",          "</li>",  "</h1>", "</h2>",  "</h3>",  "</h4>",
		                            "</blockquote>", "</pre>", "<br>",  "<br />", "<hr />", "</figcaption>" };
	const char *p = html;
	struct buf chunk = BUF_INIT;
	while (p && *p) {
		const char *best = NULL;
		size_t blen = 0;
		for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
			const char *q = strstr(p, ends[i]);
			if (q && (!best || q < best)) {
				best = q;
				blen = strlen(ends[i]);
			}
		}
		size_t n = best ? (size_t) (best - p) + blen : strlen(p);
		buf_reset(&chunk);
		buf_add(&chunk, p, n);
		buf_putc(&chunk, '\0');
		size_t before = out->len;
		htmltext_append(out, chunk.ptr);
		/* Trim what htmltext left at either end, then end the paragraph. */
		size_t start = before;
		while (start < out->len && out->ptr[start] == ' ')
			start++;
		if (start > before) {
			memmove(out->ptr + before, out->ptr + start, out->len - start);
			out->len -= start - before;
		}
		while (out->len > before && out->ptr[out->len - 1] == ' ')
			out->len--;
		if (out->len > before)
			buf_puts(out, "\n\n");
		p += n;
	}
	buf_release(&chunk);
}

static void
cut(struct nl_version *v, int which, const char *text, size_t len, const struct nl_marks *mk)
{
	struct nl_piece *pieces = xcalloc(2 * NL_SLOTS_MAX + 1, sizeof *pieces);
	size_t np = 0;
	const char *p = text, *end = text + len;
	while (p < end && np < 2 * NL_SLOTS_MAX) {
		const char *best = NULL;
		int slot = -1;
		for (int k = 0; k < NL_SLOT_COUNT; k++) {
			const char *q = memmem(p, (size_t) (end - p), mk->mark[k], strlen(mk->mark[k]));
			if (q && (!best || q < best)) {
				best = q;
				slot = k;
			}
		}
		if (!best)
			break;
		pieces[np++] = (struct nl_piece){ xstrndup(p, (size_t) (best - p)), (size_t) (best - p), slot };
		p = best + strlen(mk->mark[slot]);
	}
	pieces[np++] = (struct nl_piece){ xstrndup(p, (size_t) (end - p)), (size_t) (end - p), -1 };
	v->pieces[which] = pieces;
	v->npieces[which] = np;
}

void
nl_marks_init(struct nl_marks *mk)
{
	unsigned char rnd[8];
	char hex[17];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	for (int k = 0; k < NL_SLOT_COUNT; k++)
		snprintf(mk->mark[k], sizeof mk->mark[k], "MHSLOT%d%s", k, hex);
}

mh_err
nl_version_render(struct store *s, const struct config *cfg, const struct theme *theme, const struct newsletter *nl,
                  struct article *art, const char *reason, bool full, const struct nl_marks *mk, struct nl_version *v,
                  char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	v->reason = xstrdup(reason);
	v->full = full;
	struct arena *a = arena_new();
	int r = access_reason_parse(reason);
	const char *gated = NULL;
	mh_err rc = MH_OK;
	if (full && r >= 0) {
		/* The decision this version stands for; the store checks it is FULL for this article. */
		struct access_decision d = { art->id, true, (enum access_reason) r };
		if ((rc = reading_gated(s, a, art, &d, &gated))) {
			snprintf(err, errlen, "cannot read the article: %s", store_errmsg(s));
			goto out;
		}
	}
	const char *base = cfg->public_url;
	json_t *ctx = json_object();
	json_t *site = json_object();
	json_object_set_new(site, "name", json_string(cfg->site_name));
	json_object_set_new(site, "url", json_string(base));
	json_object_set_new(ctx, "site", site);
	json_object_set_new(ctx, "newsletter", json_string(nl->name[0] ? nl->name : cfg->site_name));
	json_t *ja = json_object();
	json_object_set_new(ja, "title", json_string(art->title));
	json_object_set_new(ja, "dek", json_string(art->dek ? art->dek : ""));
	json_object_set_new(ja, "url", json_string(arena_printf(a, "%s/articles/%s", base, art->slug)));
	json_object_set_new(ja, "teaser_html", json_string(art->teaser_html ? art->teaser_html : ""));
	struct buf t = BUF_INIT;
	html_to_text(&t, art->teaser_html ? art->teaser_html : "");
	buf_putc(&t, '\0');
	json_object_set_new(ja, "teaser_text", json_string(t.ptr ? t.ptr : ""));
	if (gated) {
		buf_reset(&t);
		html_to_text(&t, gated);
		buf_putc(&t, '\0');
		json_object_set_new(ja, "gated_html", json_string(gated));
		json_object_set_new(ja, "gated_text", json_string(t.ptr ? t.ptr : ""));
	}
	buf_release(&t);
	json_object_set_new(ctx, "article", ja);
	json_object_set_new(ctx, "full", json_boolean(gated != NULL));
	bool cut_short = !gated && art->has_gated;
	json_object_set_new(ctx, "cut_short", json_boolean(cut_short));
	if (cut_short) {
		const char *why = "read_on_site";
		if (r == REASON_NO_PLAN || r == REASON_ANONYMOUS)
			why = "offer_subscribe";
		else if (r == REASON_PAYMENT_FAILED)
			why = "update_card";
		else if (r == REASON_LAPSED)
			why = "resubscribe";
		json_object_set_new(ctx, why, json_true());
	}
	json_object_set_new(ctx, "subscribe_url", json_string(arena_printf(a, "%s/subscribe", base)));
	json_object_set_new(ctx, "billing_url", json_string(arena_printf(a, "%s/account/billing", base)));
	json_object_set_new(ctx, "account_url", json_string(arena_printf(a, "%s/account", base)));
	json_object_set_new(ctx, "archive_url",
	                    json_string(arena_printf(a, "%s/newsletters/%s/%s", base, nl->slug, art->slug)));
	json_object_set_new(ctx, "greeting", json_string(mk->mark[NL_SLOT_GREETING]));
	json_object_set_new(ctx, "unsubscribe_url", json_string(mk->mark[NL_SLOT_UNSUBSCRIBE]));
	struct buf html, text;
	buf_init(&html, PART_MAX);
	buf_init(&text, PART_MAX);
	if ((rc = tmpl_render(theme->templates, "mail-newsletter-html", ctx, &html)) ||
	    (rc = tmpl_render(theme->templates, "mail-newsletter-text", ctx, &text)) || (rc = buf_error(&html)) ||
	    (rc = buf_error(&text)))
		snprintf(err, errlen, "cannot render the newsletter templates (mail-newsletter-html, -text)");
	else {
		cut(v, NL_PART_HTML, html.ptr, html.len, mk);
		cut(v, NL_PART_TEXT, text.ptr, text.len, mk);
		v->subject = xstrdup(art->title);
	}
	json_decref(ctx);
	buf_release(&html);
	buf_release(&text);
out:
	arena_free(a);
	if (rc)
		nl_version_release(v); /* nothing of a version that failed is kept */
	return rc;
}

void
nl_version_release(struct nl_version *v)
{
	for (int w = 0; w < 2; w++) {
		for (size_t i = 0; i < v->npieces[w]; i++)
			free(v->pieces[w][i].text);
		free(v->pieces[w]);
	}
	free(v->reason);
	free(v->subject);
	memset(v, 0, sizeof *v);
}

void
nl_version_splice(const struct nl_version *v, int which, const char *const values[NL_SLOT_COUNT], bool html,
                  struct buf *out)
{
	for (size_t i = 0; i < v->npieces[which]; i++) {
		const struct nl_piece *p = &v->pieces[which][i];
		buf_add(out, p->text, p->len);
		if (p->slot >= 0) {
			const char *val = values[p->slot] ? values[p->slot] : "";
			if (html)
				buf_add_html(out, val, strlen(val));
			else
				buf_puts(out, val);
		}
	}
}

/* ---- One recipient's message ------------------------------------------------------------------ */

static void
put_header_line(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, "%s: ", name);
	for (const char *p = value; *p; p++)
		if ((unsigned char) *p >= 0x20 || *p == '\t')
			buf_putc(out, *p);
	buf_puts(out, "\r\n");
}

mh_err
nl_message_build(const struct nl_envelope *env, const struct nl_version *v, const struct nl_recipient *r,
                 const char *token, int64_t now, struct buf *out, struct buf *scratch)
{
	char url[512], greeting[400], tmp[700];
	snprintf(url, sizeof url, "%s/unsubscribe/%s", env->public_url, token);
	if (r->name && r->name[0])
		snprintf(greeting, sizeof greeting, "Hello %s,", r->name);
	else
		snprintf(greeting, sizeof greeting, "Hello,");
	const char *values[NL_SLOT_COUNT] = { [NL_SLOT_GREETING] = greeting, [NL_SLOT_UNSUBSCRIBE] = url };

	size_t start = out->len;
	mail_put_from(out, env->from);
	if (env->reply_to && env->reply_to[0])
		put_header_line(out, "Reply-To", env->reply_to);
	put_header_line(out, "To", r->email);
	mail_put_unstructured(out, "Subject", v->subject);
	mail_put_date(out, now);
	snprintf(tmp, sizeof tmp, "<nl.%lld.%s@%s>", (long long) r->id, env->idtag, env->domain);
	put_header_line(out, "Message-ID", tmp);
	put_header_line(out, "List-Id", env->list_id);
	snprintf(tmp, sizeof tmp, "<%s>, <mailto:unsubscribe+%s@%s?subject=unsubscribe>", url, token, env->domain);
	put_header_line(out, "List-Unsubscribe", tmp);
	put_header_line(out, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
	buf_printf(out,
	           "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
	           "This is a message in MIME format.\r\n",
	           env->boundary);
	static const char *const types[2] = { [NL_PART_TEXT] = "text/plain", [NL_PART_HTML] = "text/html" };
	static const int order[2] = { NL_PART_TEXT, NL_PART_HTML };
	for (int i = 0; i < 2; i++) {
		int w = order[i];
		buf_reset(scratch);
		nl_version_splice(v, w, values, w == NL_PART_HTML, scratch);
		buf_printf(out,
		           "\r\n--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: "
		           "quoted-printable\r\n\r\n",
		           env->boundary, types[w]);
		mail_qp_encode(out, scratch->ptr ? scratch->ptr : "", scratch->len);
	}
	buf_printf(out, "\r\n--%s--\r\n", env->boundary);
	mh_err rc = buf_error(out);
	if (rc || !env->dkim)
		return rc;
	/* The signature goes first: signed over everything after it. */
	buf_reset(scratch);
	if ((rc = nl_dkim_sign(env->dkim, out->ptr + start, out->len - start, scratch)))
		return rc;
	if (!buf_grow(out, scratch->len))
		return MH_ERR_NOMEM;
	memmove(out->ptr + start + scratch->len, out->ptr + start, out->len - start);
	memcpy(out->ptr + start, scratch->ptr, scratch->len);
	out->len += scratch->len;
	return MH_OK;
}
