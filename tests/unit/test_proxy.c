/* test_proxy.c: the trusted-proxy setting and the client behind a proxy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/proxy.h"

#include "core/banned.h"

static struct proxy_list
parse_ok(const char *spec)
{
	struct proxy_list l;
	char err[200] = "";
	if (proxy_list_parse(spec, &l, err, sizeof err) != MH_OK)
		fail_msg("'%s' refused: %s", spec, err);
	return l;
}

static void
test_parse(void **state)
{
	struct proxy_list l;
	char err[200];

	assert_int_equal(parse_ok("").n, 0);
	assert_int_equal(parse_ok("none").n, 0);
	assert_int_equal(parse_ok("false").n, 0);
	assert_int_equal(parse_ok("loopback").n, 2);
	assert_int_equal(parse_ok("true").n, 2);
	assert_int_equal(parse_ok(" 10.0.0.5, 10.1.0.0/16 ,fd00::/8").n, 3);
	static const char *const bad[] = { "10.0.0",     "10.0.0.5/33", "::1/129",       "10.0.0.0/",
		                           "10.0.0.0/x", "example.org", "10.0.0.0/0008", "loopbacks" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(proxy_list_parse(bad[i], &l, err, sizeof err), MH_ERR_INVALID);
		assert_non_null(strstr(err, "trusted-proxy: '"));
	}
	/* A bound on the entries, named in the message. */
	char many[2048];
	size_t off = 0;
	for (int i = 0; i < PROXY_MAX_NETS + 1; i++)
		off += (size_t) snprintf(many + off, sizeof many - off, "10.0.0.1,");
	assert_int_equal(proxy_list_parse(many, &l, err, sizeof err), MH_ERR_INVALID);
	assert_non_null(strstr(err, "more than"));
}

static void
test_trusts(void **state)
{
	struct proxy_list lo = parse_ok("loopback");
	assert_true(proxy_list_trusts(&lo, "127.0.0.1"));
	assert_true(proxy_list_trusts(&lo, "127.9.8.7"));
	assert_true(proxy_list_trusts(&lo, "::1"));
	assert_true(proxy_list_trusts(&lo, "::ffff:127.0.0.1"));
	assert_false(proxy_list_trusts(&lo, "128.0.0.1"));
	assert_false(proxy_list_trusts(&lo, "::2"));
	assert_false(proxy_list_trusts(&lo, "-"));
	assert_false(proxy_list_trusts(&lo, NULL));

	struct proxy_list net = parse_ok("10.1.0.0/16, 192.0.2.7, 2001:db8::/33");
	assert_true(proxy_list_trusts(&net, "10.1.255.3"));
	assert_false(proxy_list_trusts(&net, "10.2.0.1"));
	assert_true(proxy_list_trusts(&net, "192.0.2.7"));
	assert_false(proxy_list_trusts(&net, "192.0.2.8"));
	assert_true(proxy_list_trusts(&net, "2001:db8:7fff::1"));
	assert_false(proxy_list_trusts(&net, "2001:db8:8000::1"));
	assert_false(proxy_list_trusts(&net, "127.0.0.1"));

	struct proxy_list none = parse_ok("none");
	assert_false(proxy_list_trusts(&none, "127.0.0.1"));
}

static void
test_client(void **state)
{
	char out[PROXY_ADDR_MAX];
	struct proxy_list lo = parse_ok("loopback");
	struct proxy_list none = parse_ok("none");
	struct proxy_list chain = parse_ok("loopback, 10.0.0.0/8");

	/* The README's nginx: one hop on loopback appends the reader's address. */
	assert_string_equal(proxy_client(&lo, "127.0.0.1", "203.0.113.9", out, sizeof out), "203.0.113.9");
	/* What the reader claimed before the proxy does not count. */
	assert_string_equal(proxy_client(&lo, "127.0.0.1", "1.1.1.1, 203.0.113.9", out, sizeof out), "203.0.113.9");
	/* Nobody trusted, or a peer that is not the proxy: the header is ignored. */
	assert_string_equal(proxy_client(&none, "127.0.0.1", "203.0.113.9", out, sizeof out), "127.0.0.1");
	assert_string_equal(proxy_client(&lo, "198.51.100.4", "203.0.113.9", out, sizeof out), "198.51.100.4");
	/* No header: the peer. */
	assert_string_equal(proxy_client(&lo, "127.0.0.1", NULL, out, sizeof out), "127.0.0.1");
	/* Two trusted hops: the first address that is not a proxy. */
	assert_string_equal(proxy_client(&chain, "127.0.0.1", "198.51.100.4, 10.3.3.3", out, sizeof out),
	                    "198.51.100.4");
	/* Garbage stops the walk at the last good hop. */
	assert_string_equal(proxy_client(&chain, "127.0.0.1", "198.51.100.4, nonsense, 10.3.3.3", out, sizeof out),
	                    "10.3.3.3");
	assert_string_equal(proxy_client(&lo, "127.0.0.1", "nonsense", out, sizeof out), "127.0.0.1");
	assert_string_equal(proxy_client(&lo, "127.0.0.1", "", out, sizeof out), "127.0.0.1");
	assert_string_equal(proxy_client(&lo, "127.0.0.1", " , ,", out, sizeof out), "127.0.0.1");
	assert_string_equal(proxy_client(&lo, "127.0.0.1", "2001:db8::5", out, sizeof out), "2001:db8::5");

	assert_true(proxy_https(&lo, "127.0.0.1", "https"));
	assert_false(proxy_https(&lo, "127.0.0.1", "http"));
	assert_false(proxy_https(&lo, "198.51.100.4", "https"));
	assert_false(proxy_https(&none, "127.0.0.1", "https"));
	assert_false(proxy_https(&lo, "127.0.0.1", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_trusts),
		cmocka_unit_test(test_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
