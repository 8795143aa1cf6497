/* mail_cmd.c: masthead mail test EMAIL | list | flush. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/text.h"
#include "mail/mail.h"
#include "auth/email.h"
#include "store/store.h"
#include "core/banned.h"

/* Prints s on one line: tabs and line breaks become spaces. */
static void
put_field(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char) *s < 0x20 ? ' ' : *s);
}

static int
mail_list(struct store *s, struct arena *a)
{
	struct outbox_mail *m;
	size_t n;
	if (store_outbox_list(s, a, &m, &n)) {
		fprintf(stderr, "masthead mail: %s\n", store_errmsg(s));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%lld\t", (long long) m[i].id);
		put_field(m[i].to);
		putchar('\t');
		put_field(m[i].subject);
		char when[32];
		time_format_iso8601(m[i].sent_at ? m[i].sent_at : m[i].next_attempt_at, when, sizeof when);
		printf("\t%s %s\tattempts=%d\t", m[i].sent_at ? "sent" : "queued", when, m[i].attempts);
		put_field(m[i].last_error[0] ? m[i].last_error : "-");
		putchar('\n');
	}
	return EXIT_OK;
}

static int
mail_test(struct store *s, struct config *cfg, struct arena *a, const char *to)
{
	struct buf text = BUF_INIT, html = BUF_INIT, subject = BUF_INIT;
	buf_printf(&subject, "Test mail from %s", cfg->site_name);
	buf_printf(&text,
	           "This is a test message from %s (%s).\n\nIf you can read it, mail from the site reaches its "
	           "readers.\n",
	           cfg->site_name, cfg->public_url);
	buf_puts(&html, "<p style=\"font-family:sans-serif\">This is a test message from ");
	buf_add_html(&html, cfg->site_name, strlen(cfg->site_name));
	buf_puts(&html, " (");
	buf_add_html(&html, cfg->public_url, strlen(cfg->public_url));
	buf_puts(&html, ").</p>\n<p style=\"font-family:sans-serif\">If you can read it, mail from the site reaches "
	                "its readers.</p>\n");
	struct mail_msg msg = { to, subject.ptr, text.ptr, html.ptr };
	mh_err rc = mail_queue(s, cfg, &msg);
	buf_release(&text);
	buf_release(&html);
	buf_release(&subject);
	if (rc) {
		fprintf(stderr, "masthead mail: cannot queue the mail: %s\n",
		        rc == MH_ERR_INVALID ? "bad address" : store_errmsg(s));
		return EXIT_FAIL;
	}
	size_t sent, failed;
	if (mailer_run_once(s, cfg, &sent, &failed)) {
		fprintf(stderr, "masthead mail: %s\n", store_errmsg(s));
		return EXIT_FAIL;
	}
	/* Ours is the newest mail to that address; another sender may have sent it. */
	struct outbox_mail *m, *mine = NULL;
	size_t n;
	if (store_outbox_list(s, a, &m, &n)) {
		fprintf(stderr, "masthead mail: %s\n", store_errmsg(s));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].to, to) && (!mine || m[i].id > mine->id))
			mine = &m[i];
	if (mine && mine->sent_at) {
		printf("sent\n");
		return EXIT_OK;
	}
	fprintf(stderr, "masthead mail: not sent, it stays queued: %s\n",
	        mine && mine->last_error[0] ? mine->last_error : "not attempted yet");
	return EXIT_FAIL;
}

int
cmd_mail(struct config *cfg, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	bool ok_args = (!strcmp(sub, "test") && argc == 2) || (!strcmp(sub, "list") && argc == 1) ||
	               (!strcmp(sub, "flush") && argc == 1);
	if (!ok_args) {
		fprintf(stderr, "masthead mail: expected test EMAIL, list, or flush\n");
		return EXIT_USAGE;
	}
	char to[EMAIL_MAX + 1];
	if (!strcmp(sub, "test") && !email_normalize(argv[1], to, sizeof to)) {
		fprintf(stderr, "masthead mail: '%s' is not an e-mail address\n", argv[1]);
		return EXIT_USAGE;
	}
	/* A TLS write to a server that hung up must fail, not kill the process
	 * (libcurl leaves signals alone: the sender runs it with NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct arena *a = arena_new();
	if (!strcmp(sub, "list")) {
		code = mail_list(s, a);
	} else if (!strcmp(sub, "test")) {
		code = mail_test(s, cfg, a, to);
	} else {
		size_t sent, failed;
		if (mailer_run_once(s, cfg, &sent, &failed)) {
			fprintf(stderr, "masthead mail: %s\n", store_errmsg(s));
			code = EXIT_FAIL;
		} else {
			printf("flush: %zu sent, %zu failed\n", sent, failed);
			code = failed ? EXIT_FAIL : EXIT_OK;
		}
	}
	arena_free(a);
	store_close(s);
	return code;
}
