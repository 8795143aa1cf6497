/* bounce.c: what a message that came back to the newsletter addresses is.
 *
 * The operator's mail server hands masthead (masthead newsletter bounce,
 * reading the message on stdin) whatever arrives for bounce+TOKEN@ (the
 * VERP return path of every newsletter message: delivery status
 * notifications, RFC 3464) and unsubscribe+TOKEN@ (the mailto of
 * List-Unsubscribe). Feedback reports (RFC 5965) that quote a newsletter
 * message are complaints. The token says which recipient row it is about;
 * only its MAC makes it count (newsletter_token_parse), so nothing here
 * is trusted but as a pointer. Outside input: every scan is bounded. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "newsletter/newsletter.h"
#include "core/banned.h"

#define SCAN_MAX ((size_t) 1 << 20)

static bool
token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
}

/* The token after prefix ("bounce+") in [p, end), up to '@' (or, when
 * !at, any character a token does not hold); true when found. */
static bool
find_token_to(const char *p, const char *end, const char *prefix, bool at, char out[NL_TOKEN_MAX])
{
	size_t pl = strlen(prefix);
	while (p < end && (size_t) (end - p) > pl) {
		const char *q = memmem(p, (size_t) (end - p), prefix, pl);
		if (!q)
			return false;
		const char *t = q + pl, *e = t;
		while (e < end && token_char(*e) && e - t < NL_TOKEN_MAX - 1)
			e++;
		if (e > t && (at ? e < end && *e == '@' : e == end || !token_char(*e))) {
			memcpy(out, t, (size_t) (e - t));
			out[e - t] = '\0';
			return true;
		}
		p = q + 1;
	}
	return false;
}

static bool
find_token(const char *p, const char *end, const char *prefix, char out[NL_TOKEN_MAX])
{
	return find_token_to(p, end, prefix, true, out);
}

/* The value of the first "Name:" at the start of a line in [p, end), one line. */
static bool
field(const char *p, const char *end, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	for (const char *line = p; line < end;) {
		const char *eol = memchr(line, '\n', (size_t) (end - line));
		const char *le = eol ? eol : end;
		if ((size_t) (le - line) > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			size_t n = 0;
			for (; v < le && n + 1 < outlen; v++)
				if ((unsigned char) *v >= 0x20 && *v != '"' && *v != '\\')
					out[n++] = *v;
			out[n] = '\0';
			return true;
		}
		line = eol ? eol + 1 : end;
	}
	return false;
}

void
nl_inbound_parse(const char *msg, size_t len, struct nl_inbound *out)
{
	memset(out, 0, sizeof *out);
	if (!msg)
		return;
	const char *end = msg + (len > SCAN_MAX ? SCAN_MAX : len);
	/* The top-level header: where the mail server says whom it came for. */
	const char *hend = memmem(msg, (size_t) (end - msg), "\n\n", 2);
	const char *hend2 = memmem(msg, (size_t) (end - msg), "\r\n\r\n", 4);
	if (!hend || (hend2 && hend2 < hend))
		hend = hend2;
	if (!hend)
		hend = end;
	if (find_token(msg, hend, "unsubscribe+", out->token)) {
		out->kind = NL_INBOUND_UNSUBSCRIBE;
		return;
	}
	char ctype[256] = "";
	field(msg, hend, "Content-Type", ctype, sizeof ctype);
	bool feedback = strcasestr(ctype, "feedback-report") != NULL;
	if (!find_token(msg, hend, "bounce+", out->token) && !find_token(msg, end, "bounce+", out->token)) {
		/* A complaint may quote only the List-Unsubscribe URL. */
		if (!feedback || !find_token_to(msg, end, "/unsubscribe/", false, out->token))
			return;
	}
	if (feedback) {
		out->kind = NL_INBOUND_COMPLAINT;
		out->hard = true;
		snprintf(out->detail, sizeof out->detail, "a feedback report (complaint)");
		return;
	}
	out->kind = NL_INBOUND_BOUNCE;
	char status[64] = "", action[64] = "", diag[sizeof out->detail] = "";
	/* The per-recipient fields of the delivery-status part come after the top-level header. */
	field(hend, end, "Status", status, sizeof status);
	field(hend, end, "Action", action, sizeof action);
	field(hend, end, "Diagnostic-Code", diag, sizeof diag);
	size_t sl = strspn(status, "0123456789.");
	status[sl < sizeof out->status ? sl : sizeof out->status - 1] = '\0';
	snprintf(out->status, sizeof out->status, "%.15s", status);
	out->hard = status[0] == '5' || (!status[0] && !strncasecmp(action, "failed", 6));
	if (status[0] == '4' || !strncasecmp(action, "delayed", 7))
		out->hard = false;
	snprintf(out->detail, sizeof out->detail, "%.15s%s%.180s", status[0] ? status : "no status", diag[0] ? " " : "",
	         diag);
}
