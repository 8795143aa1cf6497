/* mail.c: queueing mail in the outbox and formatting it as RFC 5322 MIME.
 *
 * Everything that reaches a header is checked or encoded here: the
 * recipient and subject may not hold CR or LF (refused when queued, and
 * dropped again when formatting, should a row come from elsewhere); a
 * subject that is not short printable ASCII becomes RFC 2047 encoded-words.
 * Bodies are UTF-8 quoted-printable, so no line passes 76 characters and
 * the "=_" in the boundary can never occur inside a part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/buf.h"
#include "core/log.h"
#include "mail/mail.h"
#include "render/template.h"
#include "core/banned.h"

#define MAIL_TEXT_MAX   ((size_t) 4 << 20) /* a rendered mail body */
#define MAIL_TO_MAX     320
#define HEADER_SOFT_MAX 78 /* RFC 5322 2.1.1: SHOULD */
#define QP_LINE_MAX     76 /* RFC 2045 6.7 (5) */
#define EW_CHUNK        39 /* bytes per encoded-word: 52 base64 chars */

static bool
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* The domain of the From address, for Message-IDs; "localhost" when it
 * holds anything but letters, digits, dots and hyphens. */
void
mail_address_domain(const char *from, char *out, size_t n)
{
	from = from ? from : "";
	const char *lt = strrchr(from, '<');
	const char *start = lt ? lt + 1 : from;
	const char *end = lt ? strchr(start, '>') : from + strlen(from);
	if (!end)
		end = start + strlen(start);
	const char *at = NULL;
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	size_t len = at ? (size_t) (end - at - 1) : 0;
	bool ok = len > 0 && len < n;
	for (size_t i = 0; ok && i < len; i++) {
		char c = at[1 + i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
	}
	snprintf(out, n, "%.*s", ok ? (int) len : 9, ok ? at + 1 : "localhost");
}

mh_err
mail_queue(struct store *s, const struct config *cfg, const struct mail_msg *m)
{
	const char *subject = m->subject ? m->subject : "";
	if (!m->to || !m->to[0] || strlen(m->to) > MAIL_TO_MAX || has_crlf(m->to) || has_crlf(subject)) {
		log_warn("mail refused", "reason=\"%s\"",
		         "empty or overlong recipient, or CR/LF in recipient or subject");
		return MH_ERR_INVALID;
	}
	for (const char *p = m->to; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			return MH_ERR_INVALID;
	if (sodium_init() < 0)
		return MH_ERR_IO;
	unsigned char rnd[16];
	char hex[sizeof rnd * 2 + 1], domain[128], msgid[256];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	mail_address_domain(cfg->mail_from, domain, sizeof domain);
	int64_t now = clock_now();
	snprintf(msgid, sizeof msgid, "<%lld.%s@%s>", (long long) now, hex, domain);
	struct outbox_mail o = {
		.to = m->to,
		.subject = subject,
		.text = m->text ? m->text : "",
		.html = m->html ? m->html : "",
		.message_id = msgid,
		.created_at = now,
		.next_attempt_at = now,
	};
	return store_outbox_push(s, &o, NULL);
}

mh_err
mail_queue_template(struct store *s, const struct config *cfg, const struct tmpl_set *t, const char *name, json_t *ctx,
                    const char *to)
{
	char tn[128];
	snprintf(tn, sizeof tn, "mail-%s-text", name);
	if (!tmpl_set_has(t, tn))
		return MH_ERR_NOTFOUND;
	struct buf text, html, subject = BUF_INIT;
	buf_init(&text, MAIL_TEXT_MAX);
	buf_init(&html, MAIL_TEXT_MAX);
	mh_err rc = tmpl_render(t, tn, ctx, &text);
	if (rc)
		goto out;
	/* The first line is "Subject: ...": the rest is the body. */
	const char *p = text.ptr, *nl = strchr(p, '\n');
	const char *line_end = nl ? nl : p + text.len;
	if (strncmp(p, "Subject:", 8) != 0) {
		log_error("mail template has no Subject line", "template=%s", tn);
		rc = MH_ERR_PARSE;
		goto out;
	}
	const char *sb = p + 8;
	while (sb < line_end && (*sb == ' ' || *sb == '\t'))
		sb++;
	const char *se = line_end;
	while (se > sb && (se[-1] == '\r' || se[-1] == ' ' || se[-1] == '\t'))
		se--;
	buf_add(&subject, sb, (size_t) (se - sb));
	const char *body = nl ? nl + 1 : line_end;
	while (*body == '\n' || (body[0] == '\r' && body[1] == '\n'))
		body += *body == '\n' ? 1 : 2;
	snprintf(tn, sizeof tn, "mail-%s-html", name);
	if (tmpl_set_has(t, tn) && (rc = tmpl_render(t, tn, ctx, &html)))
		goto out;
	if ((rc = buf_error(&subject)))
		goto out;
	struct mail_msg m = { to, subject.ptr, body, html.ptr };
	rc = mail_queue(s, cfg, &m);
out:
	buf_release(&text);
	buf_release(&html);
	buf_release(&subject);
	return rc;
}

/* Copies header text, dropping CR, LF and other control bytes (tabs kept),
 * so nothing stored can start a header of its own. */
static void
put_header_text(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		if (c >= 0x20 || c == '\t')
			buf_putc(out, (char) c);
	}
}

static bool
needs_encoding(const char *s, size_t n, size_t used)
{
	if (used + n > HEADER_SOFT_MAX)
		return true;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f)
			return true;
	return n >= 2 && memmem(s, n, "=?", 2) != NULL;
}

/* RFC 2047 B encoded-words of at most EW_CHUNK bytes each, cut between
 * UTF-8 characters, one per folded line. Control bytes are dropped first. */
static void
put_encoded_words(struct buf *out, const char *s, size_t n)
{
	struct buf clean = BUF_INIT;
	put_header_text(&clean, s, n);
	size_t i = 0;
	bool first = true;
	while (i < clean.len) {
		size_t len = clean.len - i < EW_CHUNK ? clean.len - i : EW_CHUNK;
		/* Never split a character: back off over continuation bytes. */
		while (len > 1 && i + len < clean.len && ((unsigned char) clean.ptr[i + len] & 0xC0) == 0x80)
			len--;
		char b64[sodium_base64_ENCODED_LEN(EW_CHUNK, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, (const unsigned char *) clean.ptr + i, len,
		                  sodium_base64_VARIANT_ORIGINAL);
		buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
		first = false;
		i += len;
	}
	buf_release(&clean);
}

/* One unstructured header (Subject): plain when short printable ASCII. */
void
mail_put_unstructured(struct buf *out, const char *name, const char *value)
{
	size_t n = strlen(value), used = strlen(name) + 2;
	buf_printf(out, "%s: ", name);
	if (needs_encoding(value, n, used))
		put_encoded_words(out, value, n);
	else
		buf_add(out, value, n);
	buf_puts(out, "\r\n");
}

/* From: the display name is encoded when it is not ASCII; the address is
 * the operator's setting and is copied as it is (control bytes dropped). */
void
mail_put_from(struct buf *out, const char *from)
{
	const char *lt = strrchr(from, '<');
	buf_puts(out, "From: ");
	if (lt && lt > from) {
		const char *e = lt;
		while (e > from && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		size_t dn = (size_t) (e - from);
		bool ascii = true;
		for (size_t i = 0; i < dn; i++)
			ascii = ascii && (unsigned char) from[i] < 0x7f;
		const char *sp = strpbrk(from, "()[]:;@\\,.\"");
		if (ascii && from[0] != '"' && sp && sp < e) {
			/* A display name with specials must be a quoted-string. */
			buf_putc(out, '"');
			for (size_t i = 0; i < dn; i++) {
				if (from[i] == '"' || from[i] == '\\')
					buf_putc(out, '\\');
				put_header_text(out, from + i, 1);
			}
			buf_putc(out, '"');
		} else if (ascii)
			put_header_text(out, from, dn);
		else
			put_encoded_words(out, from, dn);
		buf_putc(out, ' ');
		put_header_text(out, lt, strlen(lt));
	} else {
		put_header_text(out, from, strlen(from));
	}
	buf_puts(out, "\r\n");
}

/* RFC 5322 3.3 date-time in UTC, without the locale's names. */
void
mail_put_date(struct buf *out, int64_t t)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday % 7], tm.tm_mday,
	           months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool
line_break_at(const char *s, size_t n, size_t i, size_t *len)
{
	if (s[i] == '\n') {
		*len = 1;
		return true;
	}
	if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
		*len = 2;
		return true;
	}
	return false;
}

/* RFC 2045 quoted-printable. LF and CRLF become CRLF; a bare CR is
 * encoded; space and tab before a line end are encoded; so are a '.' or
 * "From " at the start of a line, which some relays would otherwise
 * mangle. Soft breaks keep every line within 76 characters. */
void
mail_qp_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0, brk;
	for (size_t i = 0; i < n; i++) {
		if (line_break_at(s, n, i, &brk)) {
			buf_puts(out, "\r\n");
			col = 0;
			i += brk - 1;
			continue;
		}
		unsigned char c = (unsigned char) s[i];
		bool at_eol = i + 1 == n || line_break_at(s, n, i + 1, &brk);
		bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
		size_t w = plain ? 1 : 3;
		/* The last character of a line may use the column the '=' of a soft break would. */
		if (col + w > (at_eol ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		if (col == 0 && (c == '.' || (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) == 0)))
			plain = false;
		if (plain) {
			buf_putc(out, (char) c);
			col++;
		} else {
			char e[3] = { '=', hex[c >> 4], hex[c & 15] };
			buf_add(out, e, 3);
			col += 3;
		}
	}
}

static void
put_part(struct buf *out, const char *boundary, const char *type, const struct buf *body)
{
	buf_printf(out,
	           "\r\n--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
	           boundary, type);
	buf_add(out, body->ptr, body->len);
}

void
mail_format(struct buf *out, const struct config *cfg, const struct outbox_mail *m)
{
	struct buf text = BUF_INIT, html = BUF_INIT;
	if (sodium_init() < 0)
		abort(); /* no randomness for the boundary: nothing sensible is left to do */
	const char *html_src = m->html ? m->html : "";
	mail_qp_encode(&text, m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	mail_qp_encode(&html, html_src, strlen(html_src));
	/* "=_" cannot occur in quoted-printable; the check is cheap insurance. */
	char boundary[64];
	do {
		unsigned char rnd[12];
		char hex[sizeof rnd * 2 + 1];
		randombytes_buf(rnd, sizeof rnd);
		sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
		snprintf(boundary, sizeof boundary, "=_mh_%s", hex);
	} while (memmem(text.ptr, text.len, boundary, strlen(boundary)) ||
	         memmem(html.ptr, html.len, boundary, strlen(boundary)));

	mail_put_from(out, cfg->mail_from ? cfg->mail_from : "");
	buf_puts(out, "To: ");
	put_header_text(out, m->to ? m->to : "", m->to ? strlen(m->to) : 0);
	buf_puts(out, "\r\n");
	mail_put_unstructured(out, "Subject", m->subject ? m->subject : "");
	mail_put_date(out, m->created_at ? m->created_at : clock_now());
	const char *id = m->message_id ? m->message_id : "";
	buf_puts(out, "Message-ID: ");
	if (id[0] != '<')
		buf_putc(out, '<');
	put_header_text(out, id, strlen(id));
	if (id[0] != '<')
		buf_putc(out, '>');
	buf_puts(out, "\r\n");
	buf_printf(out,
	           "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
	           "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
	           "This is a message in MIME format.\r\n",
	           boundary);
	put_part(out, boundary, "text/plain", &text);
	if (html_src[0])
		put_part(out, boundary, "text/html", &html);
	buf_printf(out, "\r\n--%s--\r\n", boundary);
	buf_release(&text);
	buf_release(&html);
}
