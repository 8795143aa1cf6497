/* test_newsletter.c: recipient tokens, the returned-mail parser and the
 * splicing of a version (newsletter/). */
#include "unit.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/buf.h"
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

/* The DER of the PEM key at path (OPENSSL_free), its length into len. */
static unsigned char *
key_der(const char *path, int *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	unsigned char *der = NULL;
	*len = i2d_PrivateKey(k, &der);
	assert_true(*len > 0);
	EVP_PKEY_free(k);
	return der;
}

static EVP_PKEY *
decode(const unsigned char *der, int len)
{
	BIO *b = BIO_new_mem_buf(der, len);
	EVP_PKEY *k = d2i_PrivateKey_bio(b, NULL);
	BIO_free(b);
	assert_non_null(k);
	return k;
}

/* libopendkim decodes the key of every signature with d2i_PrivateKey_bio();
 * masthead's own answers with the key nl_dkim_open() decoded, and only
 * while it is open; other keys go to libcrypto's. */
static void
test_dkim_key_decoded_once(void **state)
{
	(void) state;
	char dir[] = "/tmp/mh-dkim-XXXXXX", a[64], b[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.pem", dir);
	snprintf(b, sizeof b, "%s/b.pem", dir);
	struct buf txt = BUF_INIT;
	assert_int_equal(nl_dkim_keygen(a, 1024, &txt, err, sizeof err), MH_OK);
	assert_int_equal(nl_dkim_keygen(b, 1024, &txt, err, sizeof err), MH_OK);
	buf_release(&txt);
	int alen, blen;
	unsigned char *ader = key_der(a, &alen), *bder = key_der(b, &blen);

	struct nl_dkim *d;
	assert_int_equal(nl_dkim_open(a, "s1", "news.example", &d, err, sizeof err), MH_OK);
	EVP_PKEY *k1 = decode(ader, alen), *k2 = decode(ader, alen);
	assert_ptr_equal(k1, k2);
	EVP_PKEY *o1 = decode(bder, blen), *o2 = decode(bder, blen);
	assert_ptr_not_equal(o1, o2);
	assert_int_equal(EVP_PKEY_eq(o1, o2), 1);
	assert_int_equal(EVP_PKEY_eq(k1, o1), 0);

	static const char msg[] = "From: a@news.example\r\nTo: b@c.example\r\nSubject: s\r\n\r\nbody\r\n";
	struct buf sig = BUF_INIT;
	assert_int_equal(nl_dkim_sign(d, msg, sizeof msg - 1, &sig), MH_OK);
	buf_putc(&sig, '\0');
	assert_non_null(strstr(sig.ptr, "a=rsa-sha256"));
	assert_non_null(strstr(sig.ptr, "d=news.example"));
	buf_release(&sig);
	nl_dkim_free(d);

	/* Closed: decoded afresh, the same key still. */
	EVP_PKEY *k3 = decode(ader, alen);
	assert_ptr_not_equal(k3, k1);
	assert_int_equal(EVP_PKEY_eq(k3, k1), 1);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(o1);
	EVP_PKEY_free(o2);
	OPENSSL_free(ader);
	OPENSSL_free(bder);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_round_trip_and_tampering),
		cmocka_unit_test(test_inbound_parse),
		cmocka_unit_test(test_splice_escapes_html_only_in_html),
		cmocka_unit_test(test_dkim_key_decoded_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
