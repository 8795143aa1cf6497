/* test_newsletter.c: recipient tokens, the returned-mail parser and the
 * splicing of a version (newsletter/). */
#include "unit.h"

#include <string.h>

#include "newsletter/compose.h"
#include "newsletter/newsletter.h"

static const unsigned char key[SECRET_BYTES] = "0123456789abcdef0123456789abcdef";

static void
test_token_round_trip_and_tampering(void **state)
{
	(void) state;
	char tok[NL_TOKEN_MAX];
	int64_t id = 0;
	newsletter_token(key, 4242, tok);
	assert_true(newsletter_token_parse(key, tok, strlen(tok), &id));
	assert_int_equal(id, 4242);
	/* A relay that upper-cases the local part changes nothing. */
	char upper[NL_TOKEN_MAX];
	for (size_t i = 0; i <= strlen(tok); i++)
		upper[i] = (char) (tok[i] >= 'a' && tok[i] <= 'f' ? tok[i] - 32 : tok[i]);
	assert_true(newsletter_token_parse(key, upper, strlen(upper), &id));
	/* Another id under the same MAC, a changed MAC, another key, odd shapes. */
	char forged[NL_TOKEN_MAX];
	snprintf(forged, sizeof forged, "4243%s", strchr(tok, '-'));
	assert_false(newsletter_token_parse(key, forged, strlen(forged), &id));
	char bad[NL_TOKEN_MAX];
	memcpy(bad, tok, sizeof bad);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	assert_false(newsletter_token_parse(key, bad, strlen(bad), &id));
	static const unsigned char other[SECRET_BYTES] = "fedcba9876543210fedcba9876543210";
	assert_false(newsletter_token_parse(other, tok, strlen(tok), &id));
	const char *shapes[] = { "", "-", "12", "12-", "012-00000000000000000000000000000000", "x-1" };
	for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
		assert_false(newsletter_token_parse(key, shapes[i], strlen(shapes[i]), &id));
	assert_false(newsletter_token_parse(key, tok, strlen(tok) - 1, &id));
}

struct inbound_case {
	const char *msg;
	enum nl_inbound_kind kind;
	bool hard;
	const char *token, *status;
};

static void
test_inbound_parse(void **state)
{
	(void) state;
	static const struct inbound_case cases[] = {
		{ "To: bounce+12-0123456789abcdef0123456789abcdef@n.example\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n"
		  "Diagnostic-Code: smtp; 550 no such user\r\n",
		  NL_INBOUND_BOUNCE, true, "12-0123456789abcdef0123456789abcdef", "5.1.1" },
		{ "To: bounce+12-0123456789abcdef0123456789abcdef@n.example\n\nAction: delayed\nStatus: 4.4.1\n",
		  NL_INBOUND_BOUNCE, false, "12-0123456789abcdef0123456789abcdef", "4.4.1" },
		/* No Status: failed is hard. The token may sit only in the quoted original. */
		{ "To: postmaster@n.example\n\nAction: failed\n\nReturn-Path: <bounce+3-aa@n.example>\n",
		  NL_INBOUND_BOUNCE, true, "3-aa", "" },
		{ "To: unsubscribe+5-bb@n.example\r\nSubject: x\r\n\r\nbounce+6-cc@n.example\r\n",
		  NL_INBOUND_UNSUBSCRIBE, false, "5-bb", "" },
		{ "Content-Type: multipart/report; report-type=feedback-report; boundary=x\n\n--x\n"
		  "List-Unsubscribe: <https://n.example/unsubscribe/9-abcdef>\n",
		  NL_INBOUND_COMPLAINT, true, "9-abcdef", "" },
		{ "To: someone@n.example\n\nHello\n", NL_INBOUND_NONE, false, "", "" },
		{ "bounce+", NL_INBOUND_NONE, false, "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct nl_inbound ib;
		nl_inbound_parse(cases[i].msg, strlen(cases[i].msg), &ib);
		assert_int_equal(ib.kind, cases[i].kind);
		assert_int_equal(ib.hard, cases[i].hard);
		assert_string_equal(ib.token, cases[i].token);
		assert_string_equal(ib.status, cases[i].status);
	}
	struct nl_inbound ib;
	nl_inbound_parse(NULL, 0, &ib);
	assert_int_equal(ib.kind, NL_INBOUND_NONE);
}

static void
test_splice_escapes_html_only_in_html(void **state)
{
	(void) state;
	struct nl_piece html[] = { { "<p>", 3, NL_SLOT_GREETING },
		                   { "</p><a href=\"", 13, NL_SLOT_UNSUBSCRIBE },
		                   { "\">x</a>", 7, -1 } };
	struct nl_piece text[] = { { "", 0, NL_SLOT_GREETING }, { "\n", 1, -1 } };
	struct nl_version v = { .pieces = { html, text }, .npieces = { 3, 2 } };
	const char *values[NL_SLOT_COUNT] = { "Hello <Ann & Bo>,", "https://s.example/unsubscribe/1-ab" };
	struct buf out = BUF_INIT;
	nl_version_splice(&v, NL_PART_HTML, values, true, &out);
	buf_putc(&out, '\0');
	assert_string_equal(out.ptr,
	                    "<p>Hello &lt;Ann &amp; Bo&gt;,</p><a href=\"https://s.example/unsubscribe/1-ab\">x</a>");
	buf_reset(&out);
	nl_version_splice(&v, NL_PART_TEXT, values, false, &out);
	buf_putc(&out, '\0');
	assert_string_equal(out.ptr, "Hello <Ann & Bo>,\n");
	buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_round_trip_and_tampering),
		cmocka_unit_test(test_inbound_parse),
		cmocka_unit_test(test_splice_escapes_html_only_in_html),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
