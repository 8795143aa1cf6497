/* newsletter_cmd.c: masthead newsletter send | status | add | bounce, and
 * masthead dkim keygen. Thin: newsletter/ does the work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/token.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/text.h"
#include "newsletter/newsletter.h"
#include "render/theme.h"
#include "store/store.h"
#include "core/banned.h"

#define INBOUND_MAX ((size_t) 4 << 20)

/* "--name=value" or "--name value" among args; removes it. */
static const char *
take_flag(int *argc, char **argv, const char *name, bool *bad)
{
	size_t n = strlen(name);
	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
			continue;
		const char *v = NULL;
		int used = 1;
		if (a[2 + n] == '=')
			v = a + 3 + n;
		else if (a[2 + n] == '\0' && i + 1 < *argc) {
			v = argv[i + 1];
			used = 2;
		} else if (a[2 + n] == '\0') {
			*bad = true;
			return NULL;
		} else
			continue;
		memmove(argv + i, argv + i + used, (size_t) (*argc - i - used) * sizeof *argv);
		*argc -= used;
		return v;
	}
	return NULL;
}

static void
print_counts(const struct nl_counts *c)
{
	printf("recipients %lld  sent %lld  failed %lld  bounced %lld  unconfirmed %lld  queued %lld  unsubscribed "
	       "%lld\n",
	       (long long) c->recipients, (long long) c->state[NL_SENT], (long long) c->state[NL_FAILED],
	       (long long) c->state[NL_BOUNCED], (long long) c->state[NL_UNCONFIRMED],
	       (long long) (c->state[NL_QUEUED] + c->state[NL_CLAIMED]), (long long) c->unsubscribed);
}

static int
nl_send(struct config *cfg, struct store *s, const char *slug, const char *newsletter)
{
	char err[512];
	struct nl_send_result res;
	mh_err rc = newsletter_enqueue(s, cfg, slug, newsletter, &res, err, sizeof err);
	if (rc) {
		fprintf(stderr, "masthead newsletter: %s\n", err);
		return rc == MH_ERR_NOTFOUND ? EXIT_DATA : EXIT_FAIL;
	}
	if (res.resumed)
		printf("resuming send %lld: %lld recipients, %lld left\n", (long long) res.send_id,
		       (long long) res.counts.recipients, (long long) res.counts.state[NL_QUEUED]);
	else
		printf("send %lld: %zu recipients queued\n", (long long) res.send_id, res.queued);
	fflush(stdout);
	struct theme theme = { 0 };
	unsigned char key[SECRET_BYTES];
	if (theme_load(&theme, cfg->theme, err, sizeof err) || secret_load(cfg, s, key, err, sizeof err)) {
		fprintf(stderr, "masthead newsletter: %s\n", err);
		theme_release(&theme);
		return EXIT_FAIL;
	}
	rc = newsletter_deliver(s, cfg, &theme, key, res.send_id, &res, err, sizeof err);
	theme_release(&theme);
	if (rc) {
		fprintf(stderr, "masthead newsletter: %s (what is left goes out when the same command runs again)\n",
		        err);
		return rc == MH_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
	}
	printf("send %lld done, %zu version%s: ", (long long) res.send_id, res.versions, res.versions == 1 ? "" : "s");
	print_counts(&res.counts);
	return EXIT_OK;
}

static int
nl_status(struct store *s, const char *slug)
{
	struct arena *a = arena_new();
	struct nl_send *sends;
	size_t n;
	int code = EXIT_OK, shown = 0;
	if (store_newsletter_sends(s, a, &sends, &n)) {
		fprintf(stderr, "masthead newsletter: %s\n", store_errmsg(s));
		arena_free(a);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		if (slug && strcmp(slug, sends[i].article_slug) != 0)
			continue;
		struct nl_counts c;
		if (store_newsletter_counts(s, sends[i].id, &c)) {
			fprintf(stderr, "masthead newsletter: %s\n", store_errmsg(s));
			code = EXIT_FAIL;
			break;
		}
		char started[32], finished[32] = "not finished";
		time_format_iso8601(sends[i].created_at, started, sizeof started);
		if (sends[i].finished_at)
			time_format_iso8601(sends[i].finished_at, finished, sizeof finished);
		printf("send %lld  %s  newsletter %s  started %s  %s%s\n", (long long) sends[i].id,
		       sends[i].article_slug, sends[i].newsletter_slug, started,
		       sends[i].finished_at ? "finished " : "", finished);
		printf("  ");
		print_counts(&c);
		shown++;
	}
	if (!shown && slug && code == EXIT_OK) {
		fprintf(stderr, "masthead newsletter: '%s' has not been sent\n", slug);
		code = EXIT_DATA;
	} else if (!shown && code == EXIT_OK) {
		printf("no sends yet\n");
	}
	arena_free(a);
	return code;
}

static int
nl_bounce(struct config *cfg, struct store *s)
{
	struct buf in;
	buf_init(&in, INBOUND_MAX);
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&in, chunk, got);
	if (buf_error(&in)) {
		fprintf(stderr, "masthead newsletter: the message on stdin is larger than %zu bytes\n", INBOUND_MAX);
		buf_release(&in);
		return EXIT_DATA;
	}
	struct nl_inbound ib;
	nl_inbound_parse(in.ptr, in.len, &ib);
	buf_release(&in);
	unsigned char key[SECRET_BYTES];
	char err[512];
	int64_t rid;
	if (ib.kind == NL_INBOUND_NONE || !ib.token[0]) {
		/* Not ours to handle; exit 0 so the mail server does not bounce the bounce. */
		printf("ignored: no newsletter token in the message\n");
		return EXIT_OK;
	}
	if (secret_load(cfg, s, key, err, sizeof err)) {
		fprintf(stderr, "masthead newsletter: %s\n", err);
		return EXIT_FAIL;
	}
	if (!newsletter_token_parse(key, ib.token, strlen(ib.token), &rid)) {
		printf("ignored: the token is not one this site made\n");
		return EXIT_OK;
	}
	mh_err rc;
	const char *what;
	if (ib.kind == NL_INBOUND_UNSUBSCRIBE) {
		rc = store_newsletter_unsubscribe(s, rid, clock_now());
		what = "unsubscribed";
	} else {
		rc = store_newsletter_bounce(s, rid, ib.hard, ib.kind == NL_INBOUND_COMPLAINT ? "complaint" : "bounce",
		                             ib.detail, clock_now());
		what = ib.kind == NL_INBOUND_COMPLAINT ? "complaint: address suppressed"
		       : ib.hard                       ? "hard bounce: address suppressed"
		                                       : "soft bounce: recorded";
	}
	if (rc == MH_ERR_NOTFOUND) {
		printf("ignored: recipient %lld is gone\n", (long long) rid);
		return EXIT_OK;
	}
	if (rc) {
		fprintf(stderr, "masthead newsletter: %s\n", store_errmsg(s));
		return EXIT_FAIL;
	}
	printf("recipient %lld: %s%s%s\n", (long long) rid, what, ib.detail[0] ? " (" : "", ib.detail);
	if (ib.detail[0])
		printf(")\n");
	return EXIT_OK;
}

int
cmd_newsletter(struct config *cfg, int argc, char **argv)
{
	bool bad = false;
	const char *which = take_flag(&argc, argv, "newsletter", &bad);
	if (bad || argc < 1) {
		fprintf(stderr,
		        "masthead newsletter: expected send SLUG [--newsletter NAME] | status [SLUG] | add SLUG "
		        "NAME | bounce < MESSAGE\n");
		return EXIT_USAGE;
	}
	const char *sub = argv[0];
	bool ok = (!strcmp(sub, "send") && argc == 2) || (!strcmp(sub, "status") && argc <= 2) ||
	          (!strcmp(sub, "add") && argc == 3) || (!strcmp(sub, "bounce") && argc == 1);
	if (!ok) {
		fprintf(stderr,
		        "masthead newsletter: expected send SLUG [--newsletter NAME] | status [SLUG] | add SLUG "
		        "NAME | bounce < MESSAGE\n");
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	if (!strcmp(sub, "send")) {
		code = nl_send(cfg, s, argv[1], which);
	} else if (!strcmp(sub, "status")) {
		code = nl_status(s, argc == 2 ? argv[1] : NULL);
	} else if (!strcmp(sub, "bounce")) {
		code = nl_bounce(cfg, s);
	} else {
		struct newsletter nl = { 0, argv[1], argv[2], "", "", "", true, false };
		bool slug_ok = argv[1][0] != '\0';
		for (const char *p = argv[1]; *p; p++)
			slug_ok = slug_ok && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
		if (!slug_ok) {
			fprintf(stderr, "masthead newsletter: a newsletter's slug holds a-z, 0-9 and '-', not '%s'\n",
			        argv[1]);
			code = EXIT_USAGE;
		} else if (store_newsletter_save(s, &nl, NULL)) {
			fprintf(stderr, "masthead newsletter: %s\n", store_errmsg(s));
			code = EXIT_FAIL;
		} else {
			printf("newsletter %s saved; members who sign up from now on are subscribed\n", argv[1]);
		}
	}
	store_close(s);
	return code;
}

int
cmd_dkim(struct config *cfg, int argc, char **argv)
{
	bool bad = false;
	const char *selector = take_flag(&argc, argv, "selector", &bad);
	const char *domain = take_flag(&argc, argv, "domain", &bad);
	const char *bits_s = take_flag(&argc, argv, "bits", &bad);
	if (bad || argc != 1 || strcmp(argv[0], "keygen") != 0 || !selector || !domain) {
		fprintf(stderr, "masthead dkim: expected keygen --selector S --domain D [--bits 2048]\n");
		return EXIT_USAGE;
	}
	char *end = NULL;
	long bits = bits_s ? strtol(bits_s, &end, 10) : 2048;
	if ((bits_s && (*end || end == bits_s)) || bits < 1024 || bits > 4096) {
		fprintf(stderr, "masthead dkim: --bits must be 1024 to 4096\n");
		return EXIT_USAGE;
	}
	for (const char *p = selector; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.') ||
		    !selector[0]) {
			fprintf(stderr, "masthead dkim: --selector holds letters, digits, '-' and '.', not '%s'\n",
			        selector);
			return EXIT_USAGE;
		}
	struct buf path = BUF_INIT, txt = BUF_INIT;
	if (cfg->dkim_key[0])
		buf_puts(&path, cfg->dkim_key);
	else {
		buf_printf(&path, "%s", cfg->data);
		mkdir(path.ptr, 0750);
		buf_puts(&path, "/dkim");
		if (mkdir(path.ptr, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "masthead dkim: cannot create %s: %s\n", path.ptr, strerror(errno));
			buf_release(&path);
			return EXIT_FAIL;
		}
		buf_printf(&path, "/%s.pem", selector);
	}
	char err[512];
	int code = EXIT_OK;
	if (nl_dkim_keygen(path.ptr, (int) bits, &txt, err, sizeof err)) {
		fprintf(stderr, "masthead dkim: %s\n", err);
		code = EXIT_FAIL;
	} else {
		fprintf(stderr, "private key written to %s (mode 0600); publish this TXT record:\n", path.ptr);
		/* A TXT record's strings hold 255 bytes at most: several, which resolvers join. */
		printf("%s._domainkey.%s. IN TXT (", selector, domain);
		for (size_t i = 0; i < txt.len; i += 250)
			printf(" \"%.*s\"", (int) (txt.len - i < 250 ? txt.len - i : 250), txt.ptr + i);
		printf(" )\n");
		fprintf(stderr, "then send with dkim-selector=%s dkim-domain=%s\n", selector, domain);
	}
	buf_release(&path);
	buf_release(&txt);
	return code;
}
