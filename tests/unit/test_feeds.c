/* test_feeds.c: the XML escape the feeds and sitemaps write with, and the
 * private feed's token: its path segment and its derivation. */
#include "unit.h"

#include <string.h>

#include "core/buf.h"
#include "core/xml.h"
#include "web/feeds.h"

static char *
esc(const char *s, size_t n)
{
	static char out[256];
	struct buf b = BUF_INIT;
	xml_escape(&b, s, n);
	buf_putc(&b, '\0');
	snprintf(out, sizeof out, "%s", b.ptr ? b.ptr : "");
	buf_release(&b);
	return out;
}

static void
test_markup_becomes_references(void **state)
{
	assert_string_equal(esc("a<b>&\"c'", 8), "a&lt;b&gt;&amp;&quot;c&apos;");
	/* ]]> cannot end anything: it is text like any other. */
	assert_string_equal(esc("]]><x>", 6), "]]&gt;&lt;x&gt;");
	assert_string_equal(esc("plain", 5), "plain");
	assert_string_equal(esc("", 0), "");
}

static void
test_what_xml_forbids_is_replaced(void **state)
{
	/* Controls (but tab, LF, CR), a NUL inside, bad UTF-8, surrogates,
	 * overlong forms and U+FFFE all become U+FFFD; good UTF-8 stays. */
	assert_string_equal(esc("a\x01"
	                        "b",
	                        3),
	                    "a\xef\xbf\xbd"
	                    "b");
	assert_string_equal(esc("a\0b", 3), "a\xef\xbf\xbd"
	                                    "b");
	assert_string_equal(esc("\t\n\r", 3), "\t\n\r");
	assert_string_equal(esc("\xff", 1), "\xef\xbf\xbd");
	assert_string_equal(esc("\xed\xa0\x80", 3), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(esc("\xc0\xbc", 2), "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(esc("\xef\xbf\xbe", 3), "\xef\xbf\xbd");
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xb0", 14),
	                    "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xb0");
	/* A sequence cut short at the end. */
	assert_string_equal(esc("x\xe2\x80", 3), "x\xef\xbf\xbd\xef\xbf\xbd");
}

static void
test_token_segment(void **state)
{
	char tok[TOKEN_CHARS + 1];
	const char *good = "abcdefghijABCDEFGHIJ0123456789-_abcdefghijk";
	char seg[64];
	snprintf(seg, sizeof seg, "%s.xml", good);
	assert_true(feed_token_param(seg, tok));
	assert_string_equal(tok, good);
	snprintf(seg, sizeof seg, "%s.rss", good);
	assert_false(feed_token_param(seg, tok));
	snprintf(seg, sizeof seg, "%s", good);
	assert_false(feed_token_param(seg, tok));
	snprintf(seg, sizeof seg, "%sx.xml", good);
	assert_false(feed_token_param(seg, tok));
	snprintf(seg, sizeof seg, "%.42s!.xml", good);
	assert_false(feed_token_param(seg, tok));
	assert_false(feed_token_param(".xml", tok));
	assert_false(feed_token_param(NULL, tok));
}

static void
test_token_derivation(void **state)
{
	unsigned char k1[SECRET_BYTES], k2[SECRET_BYTES];
	memset(k1, 1, sizeof k1);
	memset(k2, 2, sizeof k2);
	char a[TOKEN_CHARS + 1], b[TOKEN_CHARS + 1];
	feed_token_derive(k1, 7, "nonce", a);
	assert_true(token_well_formed(a));
	feed_token_derive(k1, 7, "nonce", b);
	assert_string_equal(a, b); /* the account page shows the same address again */
	feed_token_derive(k1, 8, "nonce", b);
	assert_string_not_equal(a, b);
	feed_token_derive(k1, 7, "other", b);
	assert_string_not_equal(a, b);
	feed_token_derive(k2, 7, "nonce", b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markup_becomes_references),
		cmocka_unit_test(test_what_xml_forbids_is_replaced),
		cmocka_unit_test(test_token_segment),
		cmocka_unit_test(test_token_derivation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
