/* test_mail.c: the MIME formatting (headers, CRLF, RFC 2047, quoted-
 * printable round trips), refusal of header injection, the theme's mail
 * templates, and the sender's passes: the file transport writes an .eml
 * and marks it sent; a failing SMTP server leaves the mail queued with a
 * retry in the future. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/buf.h"
#include "mail/mail.h"
#include "render/template.h"
#include "web/app.h"
#include "core/banned.h"

struct fixture {
	char dir[64];
	struct store *s;
	struct config cfg;
	struct arena *a;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/mh-mail-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char url[128], err[256];
	snprintf(url, sizeof url, "sqlite:%s/t.db", f->dir);
	int applied;
	if (store_open(url, &f->s, err, sizeof err) || store_migrate(f->s, &applied))
		return -1;
	config_init(&f->cfg);
	if (config_set(&f->cfg, "data", f->dir, err, sizeof err) ||
	    config_set(&f->cfg, "mail-from", "Harbor Vale Ledger <news@ledger.example>", err, sizeof err))
		return -1;
	f->a = arena_new();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	config_release(&f->cfg);
	arena_free(f->a);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	int rc = system(cmd);
	free(f);
	return rc;
}

static void
set(struct fixture *f, const char *key, const char *value)
{
	char err[256];
	assert_int_equal(config_set(&f->cfg, key, value, err, sizeof err), MH_OK);
}

static struct outbox_mail *
outbox(struct fixture *f, size_t *n)
{
	struct outbox_mail *m;
	assert_int_equal(store_outbox_list(f->s, f->a, &m, n), MH_OK);
	return m;
}

/* The value of header name (unfolded), or NULL; from the header block only. */
static char *
header(const char *msg, const char *name)
{
	const char *end = strstr(msg, "\r\n\r\n");
	size_t nl = strlen(name);
	for (const char *p = msg; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
		if (strncmp(p, name, nl) || p[nl] != ':')
			continue;
		struct buf v = BUF_INIT;
		const char *q = p + nl + 1;
		while (*q == ' ')
			q++;
		for (; q < end; q++) {
			if (q[0] == '\r' && q[1] == '\n') {
				if (q[2] != ' ' && q[2] != '\t')
					break;
				q++;
				continue;
			}
			buf_putc(&v, *q);
		}
		return buf_detach(&v, NULL);
	}
	return NULL;
}

/* Decodes quoted-printable; CRLF stays CRLF. */
static char *
qp_decode(const char *s, size_t n)
{
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=') {
			assert_true(i + 2 < n);
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			assert_true(strspn(hex, "0123456789ABCDEF") == 2);
			buf_putc(&out, (char) strtol(hex, NULL, 16));
			i += 2;
		} else {
			buf_putc(&out, s[i]);
		}
	}
	return buf_detach(&out, NULL);
}

/* The body of the part with this content type (still encoded), or NULL. */
static char *
part_body(const char *msg, const char *boundary, const char *type)
{
	char delim[128];
	snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	for (const char *p = strstr(msg, delim); p; p = strstr(p + 1, delim)) {
		const char *h = p + strlen(delim) + 2;
		const char *body = strstr(h, "\r\n\r\n");
		const char *next = strstr(h, delim);
		if (!body || !next)
			return NULL;
		char want[128];
		snprintf(want, sizeof want, "Content-Type: %s; charset=utf-8", type);
		if (strstr(h, want) && strstr(h, want) < body)
			return strndup(body + 4, (size_t) (next - body - 4));
	}
	return NULL;
}

/* No bare CR or LF, no line over max; a whole message also ends in CRLF. */
static void
check_lines(const char *msg, size_t len, size_t max, bool whole)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r'); /* no bare LF */
		if (msg[i] == '\r')
			assert_true(i + 1 < len && msg[i + 1] == '\n'); /* no bare CR */
		if (msg[i] == '\n')
			col = 0;
		else if (msg[i] != '\r' && ++col > max)
			fail_msg("line longer than %zu at byte %zu", max, i);
	}
	if (whole)
		assert_true(len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n');
}

static void
test_format_headers(void **state)
{
	struct fixture *f = *state;
	const char *subject = "Café – ein sehr schöner Tag für lange Überschriften, die umbrochen werden müssen ✓";
	struct outbox_mail m = { .id = 7,
		                 .to = "reader@example.test",
		                 .subject = subject,
		                 .text = "Hello.\n",
		                 .html = "<p>Hello.</p>\n",
		                 .message_id = "<1.abc@ledger.example>",
		                 .created_at = 1795910400 };
	struct buf out = BUF_INIT;
	mail_format(&out, &f->cfg, &m);
	assert_int_equal(buf_error(&out), MH_OK);
	check_lines(out.ptr, out.len, 78, true);

	char *from = header(out.ptr, "From"), *to = header(out.ptr, "To"), *date = header(out.ptr, "Date");
	char *id = header(out.ptr, "Message-ID"), *ver = header(out.ptr, "MIME-Version");
	char *ct = header(out.ptr, "Content-Type"), *subj = header(out.ptr, "Subject");
	assert_string_equal(from, "Harbor Vale Ledger <news@ledger.example>");
	assert_string_equal(to, "reader@example.test");
	assert_string_equal(date, "Sun, 29 Nov 2026 00:00:00 +0000");
	assert_string_equal(id, "<1.abc@ledger.example>");
	assert_string_equal(ver, "1.0");
	assert_non_null(strstr(ct, "multipart/alternative; boundary=\""));

	/* The subject is encoded-words that decode back to the original. */
	struct buf dec = BUF_INIT;
	const char *p = subj;
	size_t words = 0;
	while ((p = strstr(p, "=?UTF-8?B?"))) {
		p += 10;
		const char *e = strstr(p, "?=");
		assert_non_null(e);
		unsigned char bin[128];
		size_t bl;
		assert_int_equal(sodium_base642bin(bin, sizeof bin, p, (size_t) (e - p), NULL, &bl, NULL,
		                                   sodium_base64_VARIANT_ORIGINAL),
		                 0);
		buf_add(&dec, bin, bl);
		p = e + 2;
		words++;
	}
	assert_true(words >= 2);
	assert_string_equal(dec.ptr, subject);
	buf_release(&dec);

	/* Both parts, the text one first. */
	char boundary[128];
	const char *b = strstr(ct, "boundary=\"") + 10;
	snprintf(boundary, sizeof boundary, "%.*s", (int) (strchr(b, '"') - b), b);
	char *text = part_body(out.ptr, boundary, "text/plain"), *html = part_body(out.ptr, boundary, "text/html");
	assert_non_null(text);
	assert_non_null(html);
	assert_string_equal(text, "Hello.\r\n");
	assert_string_equal(html, "<p>Hello.</p>\r\n");
	assert_true(strstr(out.ptr, "text/plain") < strstr(out.ptr, "text/html"));
	char close[160];
	snprintf(close, sizeof close, "\r\n--%s--\r\n", boundary);
	assert_non_null(strstr(out.ptr, close));
	free(from), free(to), free(date), free(id), free(ver), free(ct), free(subj), free(text), free(html);
	buf_release(&out);
}

static void
test_format_plain_subject_and_no_html(void **state)
{
	struct fixture *f = *state;
	struct outbox_mail m = { .id = 1,
		                 .to = "a@b.test",
		                 .subject = "Your sign-in link",
		                 .text = "x",
		                 .html = "",
		                 .message_id = "2.x@h",
		                 .created_at = 1 };
	struct buf out = BUF_INIT;
	mail_format(&out, &f->cfg, &m);
	char *subj = header(out.ptr, "Subject"), *id = header(out.ptr, "Message-ID");
	assert_string_equal(subj, "Your sign-in link");
	assert_string_equal(id, "<2.x@h>");
	assert_null(strstr(out.ptr, "text/html"));
	assert_non_null(strstr(out.ptr, "text/plain"));
	/* Something that looks like an encoded-word is encoded, so it is not decoded as one. */
	m.subject = "=?UTF-8?B?SGk=?=";
	buf_reset(&out);
	mail_format(&out, &f->cfg, &m);
	free(subj);
	subj = header(out.ptr, "Subject");
	assert_string_not_equal(subj, m.subject);
	assert_non_null(strstr(subj, "=?UTF-8?B?"));
	free(subj);
	free(id);
	buf_release(&out);
}

static void
test_quoted_printable(void **state)
{
	struct fixture *f = *state;
	struct buf text = BUF_INIT;
	/* A long UTF-8 line with '=' signs, trailing spaces, a tab before the
	 * end, a leading dot, "From ", a bare CR and the boundary's prefix. */
	for (int i = 0; i < 20; i++)
		buf_puts(&text, "Ærøskøbing = fine ✓ ");
	buf_puts(&text, "  \n.dot line\nFrom here\ntab\t\nbare\rcr\n--=_mh_ not a boundary\nlast   ");
	struct outbox_mail m = { .id = 1,
		                 .to = "a@b.test",
		                 .subject = "s",
		                 .text = text.ptr,
		                 .html = text.ptr,
		                 .message_id = "<x@y>",
		                 .created_at = 1 };
	struct buf out = BUF_INIT;
	mail_format(&out, &f->cfg, &m);
	check_lines(out.ptr, out.len, 998, true);

	char *ct = header(out.ptr, "Content-Type");
	char boundary[128];
	const char *b = strstr(ct, "boundary=\"") + 10;
	snprintf(boundary, sizeof boundary, "%.*s", (int) (strchr(b, '"') - b), b);
	char *qp = part_body(out.ptr, boundary, "text/plain");
	assert_non_null(qp);
	/* Boundaries: two openers and a closer, nothing inside the parts. */
	size_t count = 0;
	for (const char *p = out.ptr; (p = strstr(p, boundary)); p++)
		count++;
	assert_int_equal(count, 4); /* the header's, two openers, the closer */
	assert_null(strstr(qp, boundary));

	/* Every encoded line fits in 76; no line ends in a space or tab. */
	check_lines(qp, strlen(qp), 76, false);
	for (const char *p = strstr(qp, "\r\n"); p; p = strstr(p + 1, "\r\n"))
		assert_true(p[-1] != ' ' && p[-1] != '\t');
	assert_non_null(strstr(qp, "=3D"));
	assert_non_null(strstr(qp, "=20\r\n"));
	assert_non_null(strstr(qp, "=09\r\n"));
	assert_non_null(strstr(qp, "=0D"));
	assert_non_null(strstr(qp, "\r\n=2Edot"));
	assert_non_null(strstr(qp, "\r\n=46rom here"));
	assert_true(qp[strlen(qp) - 1] != ' ');

	/* It decodes back to the text, LF as CRLF and the bare CR kept. */
	struct buf want = BUF_INIT;
	for (const char *p = text.ptr; *p; p++) {
		if (*p == '\n')
			buf_putc(&want, '\r');
		buf_putc(&want, *p);
	}
	char *got = qp_decode(qp, strlen(qp));
	assert_string_equal(got, want.ptr);
	free(got);
	free(qp);
	free(ct);
	buf_release(&want);
	buf_release(&text);
	buf_release(&out);
}

static void
test_injection_refused(void **state)
{
	struct fixture *f = *state;
	const struct mail_msg bad[] = {
		{ "a@b.test", "Hi\r\nBcc: victim@example.test", "x", "" },
		{ "a@b.test", "Hi\nBcc: victim@example.test", "x", "" },
		{ "a@b.test", "Hi\r", "x", "" },
		{ "a@b.test\r\nBcc: victim@example.test", "Hi", "x", "" },
		{ "a@b.test\n", "Hi", "x", "" },
		{ "", "Hi", "x", "" },
		{ NULL, "Hi", "x", "" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(mail_queue(f->s, &f->cfg, &bad[i]), MH_ERR_INVALID);
	size_t n;
	outbox(f, &n);
	assert_int_equal(n, 0);

	/* Formatting drops CR and LF even from a row that never went through mail_queue. */
	struct outbox_mail m = { .id = 1,
		                 .to = "a@b.test\r\nBcc: v@x",
		                 .subject = "s\r\nBcc: v@x",
		                 .text = "",
		                 .html = "",
		                 .message_id = "<x@y>\r\nBcc: v@x",
		                 .created_at = 1 };
	struct buf out = BUF_INIT;
	mail_format(&out, &f->cfg, &m);
	assert_null(strstr(out.ptr, "\r\nBcc:"));
	buf_release(&out);
}

static void
test_file_transport(void **state)
{
	struct fixture *f = *state;
	struct mail_msg msg = { "reader@example.test", "Your link", "Open https://x.test/a?b=1\n", "<p>x</p>" };
	assert_int_equal(mail_queue(f->s, &f->cfg, &msg), MH_OK);
	size_t n, sent = 9, failed = 9;
	struct outbox_mail *m = outbox(f, &n);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].sent_at, 0);
	assert_true(m[0].message_id[0] == '<' && strstr(m[0].message_id, "@ledger.example>"));

	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(sent, 1);
	assert_int_equal(failed, 0);
	m = outbox(f, &n);
	assert_int_equal(n, 1);
	assert_true(m[0].sent_at > 0);
	assert_int_equal(m[0].attempts, 1);
	assert_string_equal(m[0].last_error, "");

	char path[256];
	snprintf(path, sizeof path, "%s/outbox/%lld-%lld.eml", f->dir, (long long) m[0].created_at,
	         (long long) m[0].id);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char data[8192];
	size_t len = fread(data, 1, sizeof data - 1, fp);
	fclose(fp);
	data[len] = '\0';
	assert_true(strncmp(data, "From: ", 6) == 0);
	assert_non_null(strstr(data, "\r\nTo: reader@example.test\r\n"));
	assert_non_null(strstr(data, "https://x.test/a?b=3D1"));

	/* Nothing is due any more. */
	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(sent + failed, 0);
}

static void
test_smtp_failure_stays_queued(void **state)
{
	struct fixture *f = *state;
	set(f, "smtp-url", "smtp://user:hunter2secret@127.0.0.1:1");
	struct mail_msg msg = { "reader@example.test", "Your link", "x\n", "" };
	assert_int_equal(mail_queue(f->s, &f->cfg, &msg), MH_OK);
	size_t n, sent, failed;
	int64_t before = (int64_t) time(NULL);
	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 1);
	struct outbox_mail *m = outbox(f, &n);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].sent_at, 0);
	assert_int_equal(m[0].attempts, 1);
	assert_true(m[0].last_error[0]);
	assert_null(strstr(m[0].last_error, "hunter2secret"));
	assert_true(m[0].next_attempt_at >= before + 30 - 1);
	assert_true(m[0].next_attempt_at > (int64_t) time(NULL));
	/* Not due yet: the next pass leaves it alone. */
	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(sent + failed, 0);
	outbox(f, &n);
	assert_int_equal(n, 1);
}

static void
test_retry_base_zero_does_not_loop(void **state)
{
	struct fixture *f = *state;
	set(f, "smtp-url", "smtp://127.0.0.1:1");
	set(f, "mail-retry-base", "0");
	struct mail_msg msg = { "reader@example.test", "s", "x", "" };
	assert_int_equal(mail_queue(f->s, &f->cfg, &msg), MH_OK);
	size_t n, sent, failed;
	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(failed, 1);
	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(failed, 1);
	struct outbox_mail *m = outbox(f, &n);
	assert_int_equal(m[0].attempts, 2);
	assert_int_equal(m[0].sent_at, 0);
	/* Back to files: it goes out. */
	set(f, "smtp-url", "");
	assert_int_equal(mailer_run_once(f->s, &f->cfg, &sent, &failed), MH_OK);
	assert_int_equal(sent, 1);
	m = outbox(f, &n);
	assert_true(m[0].sent_at > 0);
	assert_int_equal(m[0].attempts, 3);
}

static void
test_queue_template(void **state)
{
	struct fixture *f = *state;
	struct tmpl_set *t = tmpl_set_new();
	const char *text = "Subject: Hello {{{name}}} \r\n\nBody for {{{name}}} & co\n";
	const char *html = "<p>Body for {{name}}</p>";
	assert_int_equal(tmpl_set_add(t, "mail-x-text", text, strlen(text), NULL, 0), MH_OK);
	assert_int_equal(tmpl_set_add(t, "mail-x-html", html, strlen(html), NULL, 0), MH_OK);
	assert_int_equal(tmpl_set_add(t, "mail-nosubj-text", "Hi\n", 3, NULL, 0), MH_OK);
	assert_int_equal(tmpl_set_add(t, "mail-crlf-text", "Subject: {{{s}}}\nx", 18, NULL, 0), MH_OK);
	json_t *ctx = json_pack("{s:s, s:s}", "name", "Ann <A&B>", "s", "a\rb");
	assert_int_equal(mail_queue_template(f->s, &f->cfg, t, "x", ctx, "ann@example.test"), MH_OK);
	assert_int_equal(mail_queue_template(f->s, &f->cfg, t, "missing", ctx, "ann@example.test"), MH_ERR_NOTFOUND);
	assert_int_equal(mail_queue_template(f->s, &f->cfg, t, "nosubj", ctx, "ann@example.test"), MH_ERR_PARSE);
	assert_int_equal(mail_queue_template(f->s, &f->cfg, t, "crlf", ctx, "ann@example.test"), MH_ERR_INVALID);
	size_t n;
	struct outbox_mail *m = outbox(f, &n);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].to, "ann@example.test");
	assert_string_equal(m[0].subject, "Hello Ann <A&B>");
	assert_string_equal(m[0].text, "Body for Ann <A&B> & co\n");
	assert_string_equal(m[0].html, "<p>Body for Ann &lt;A&amp;B&gt;</p>");
	json_decref(ctx);
	tmpl_set_free(t);
}

/* The default theme's mail templates render with the context the web code gives them. */
static void
test_theme_templates(void **state)
{
	struct fixture *f = *state;
	struct theme th;
	char err[256];
	assert_int_equal(theme_load(&th, NULL, err, sizeof err), MH_OK);
	static const char *names[] = { "signin", "signin", "reset", "email" };
	static const char *subjects[] = { "Your sign-in link for Ledger & Co", "Confirm your e-mail for Ledger & Co",
		                          "Reset your password for Ledger & Co",
		                          "Confirm your new e-mail address for Ledger & Co" };
	for (size_t i = 0; i < 4; i++) {
		json_t *ctx =
		        json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:i, s:b, s:s}", "site", "name", "Ledger & Co",
		                  "url", "https://ledger.example", "member", "name", "Ann", "email", "ann@example.test",
		                  "link", "https://ledger.example/signin/link/TOKEN?a=1&b=2", "expires_minutes", 15,
		                  "new_account", i == 1, "new_email", "new@example.test");
		assert_int_equal(mail_queue_template(f->s, &f->cfg, th.templates, names[i], ctx, "ann@example.test"),
		                 MH_OK);
		json_decref(ctx);
	}
	size_t n;
	struct outbox_mail *m = outbox(f, &n);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(m[i].subject, subjects[i]);
		assert_true(strncmp(m[i].text, "Hello Ann,", 10) == 0);
		assert_non_null(strstr(m[i].text, "https://ledger.example/signin/link/TOKEN?a=1&b=2\n"));
		assert_non_null(strstr(m[i].text, "15 minutes"));
		assert_non_null(strstr(m[i].html, "href=\"https://ledger.example/signin/link/TOKEN?a=1&amp;b=2\""));
		assert_null(strstr(m[i].text, "&amp;"));
	}
	assert_non_null(strstr(m[1].text, "Welcome"));
	assert_null(strstr(m[0].text, "Welcome"));
	assert_non_null(strstr(m[3].text, "new@example.test"));
	theme_release(&th);
}

static void
test_thread_sends_after_wake(void **state)
{
	struct fixture *f = *state;
	struct mailer *mr;
	assert_int_equal(mailer_start(f->s, &f->cfg, &mr), MH_OK);
	struct mail_msg msg = { "reader@example.test", "s", "x", "" };
	assert_int_equal(mail_queue(f->s, &f->cfg, &msg), MH_OK);
	mailer_wake(mr);
	struct outbox_mail *m = NULL;
	size_t n = 0;
	for (int i = 0; i < 300; i++) {
		m = outbox(f, &n);
		if (n == 1 && m[0].sent_at)
			break;
		usleep(10000);
	}
	assert_int_equal(n, 1);
	assert_true(m[0].sent_at > 0);
	mailer_stop(mr);
	mailer_stop(NULL);
	mailer_wake(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_plain_subject_and_no_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoted_printable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_transport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_failure_stays_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_base_zero_does_not_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_theme_templates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_sends_after_wake, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
