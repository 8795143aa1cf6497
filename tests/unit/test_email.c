/* test_email.c: the one e-mail rule, case by case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/email.h"

#include "core/banned.h"

static void
test_accepts_and_normalizes(void **state)
{
	static const struct {
		const char *in, *want;
	} ok[] = {
		{ "reader@demo.test", "reader@demo.test" },
		{ "  Reader@Demo.TEST\t\n", "reader@demo.test" },
		{ "a.b+tag@sub.example.org", "a.b+tag@sub.example.org" },
		{ "x@y.z", "x@y.z" },
		{ "o'brien@example.ie", "o'brien@example.ie" },
	};
	char out[EMAIL_MAX + 1];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (!email_normalize(ok[i].in, out, sizeof out))
			fail_msg("refused \"%s\"", ok[i].in);
		assert_string_equal(out, ok[i].want);
		/* Normal forms are fixed points. */
		char again[EMAIL_MAX + 1];
		assert_true(email_normalize(out, again, sizeof again));
		assert_string_equal(again, out);
	}
}

static void
test_refuses(void **state)
{
	static const char *const bad[] = {
		"",        "  ",      "a@",     "@b.c",        "ab",          "a@b",       "a@@b.c",
		"a@b@c.d", "a b@c.d", "a@b .c", "<a@b.c>",     "a@b.c,d@e.f", "a;b@c.d",   "\"a\"@b.c",
		"a@b.c.",  "a@.b.c",  "a@b..c", "a@[1.2.3.4]", "a\x01@b.c",   "a@b.c\x7f", "a:b@c.d",
	};
	char out[EMAIL_MAX + 1];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(out, 'x', sizeof out);
		if (email_normalize(bad[i], out, sizeof out))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(out, "");
	}
	assert_false(email_normalize(NULL, out, sizeof out));
}

static void
test_lengths(void **state)
{
	char in[400], out[EMAIL_MAX + 1];
	/* 254 bytes is the most: local part of 64, then a long domain. */
	memset(in, 'a', sizeof in);
	in[64] = '@';
	memcpy(in + EMAIL_MAX - 4, ".org", 4);
	in[EMAIL_MAX] = '\0';
	assert_true(email_normalize(in, out, sizeof out));
	assert_int_equal(strlen(out), EMAIL_MAX);
	in[EMAIL_MAX] = 'g';
	in[EMAIL_MAX + 1] = '\0';
	assert_false(email_normalize(in, out, sizeof out));
	/* A buffer too small for the longest address is refused outright. */
	char tiny[16];
	assert_false(email_normalize("a@b.c", tiny, sizeof tiny));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_and_normalizes),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
