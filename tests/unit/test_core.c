/* Buffers, arenas, slices, UTF-8, times and slugs. */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/token.h"
#include "content/slug.h"
#include "core/accesslog.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/epochs.h"
#include "core/text.h"

static void
test_buf_sticky_error(void **state)
{
	(void) state;
	struct buf b;
	buf_init(&b, 8);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	buf_puts(&b, "12345");
	buf_puts(&b, "6789"); /* over the maximum */
	assert_int_equal(buf_error(&b), MH_ERR_TOOBIG);
	buf_puts(&b, "x"); /* ignored once failed */
	assert_string_equal(b.ptr, "12345");
	buf_release(&b);
	assert_int_equal(b.len, 0);
}

static void
test_buf_escapes(void **state)
{
	(void) state;
	struct buf b = BUF_INIT;
	const char *s = "<a href=\"x\">&'</a>";
	buf_add_html(&b, s, strlen(s));
	assert_string_equal(b.ptr, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	buf_reset(&b);
	const char *j = "a\"b\\\n</script>\x01";
	buf_add_json(&b, j, strlen(j));
	assert_string_equal(b.ptr, "a\\\"b\\\\\\n\\u003c/script\\u003e\\u0001");
	buf_reset(&b);
	buf_add_urlenc(&b, "/a b?c=d&e", 10);
	assert_string_equal(b.ptr, "%2Fa%20b%3Fc%3Dd%26e");
	size_t len;
	char *p = buf_detach(&b, &len);
	assert_int_equal(len, 20);
	free(p);
	assert_string_equal(b.ptr, "");
}

static void
test_arena(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	char *big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	char *s = arena_printf(a, "%s-%d", "n", 42);
	assert_string_equal(s, "n-42");
	assert_string_equal(arena_concat(a, "/articles/x", "|n|", "reader", NULL), "/articles/x|n|reader");
	assert_string_equal(arena_concat(a, NULL), "");
	assert_string_equal(arena_concat(a, "", "a", "", NULL), "a");
	for (int i = 0; i < 10000; i++)
		assert_non_null(arena_strdup(a, "some text to fill chunks"));
	assert_true(((uintptr_t) arena_alloc(a, 3) & 15) == 0);
	arena_free(a);
}

/* Session and link tokens: hex BLAKE2b-256 of the token (checked against
 * Python's hashlib.blake2b(digest_size=32)), and the shape of a token. */
static void
test_tokens(void **state)
{
	(void) state;
	char hash[TOKEN_HASH_CHARS + 1], tok[TOKEN_CHARS + 1];
	token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", hash);
	assert_string_equal(hash, "6342b384e5d6294c5df1110132b93b97b395a2ff4cca498af637b3e06b3095dd");
	token_hash("Zz09-_Zz09-_Zz09-_Zz09-_Zz09-_Zz09-_Zz09-_Z", hash);
	assert_string_equal(hash, "323ab8898a0e353f1c38c2b470fa3d4aa3cdb38ccb907a540fa2a13cae098a78");
	token_new(tok);
	assert_true(token_well_formed(tok));
	assert_false(token_well_formed("AAAA"));
	assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
	assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(token_well_formed(NULL));
}

static void
test_utf8(void **state)
{
	(void) state;
	int line = 0;
	assert_true(utf8_valid("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xb0", 14, &line));
	assert_false(utf8_valid("ok\nbad \xc3(", 9, &line));
	assert_int_equal(line, 2);
	assert_false(utf8_valid("\xc0\xaf", 2, &line));     /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3, &line)); /* surrogate */
	assert_false(utf8_valid("a\0b", 3, &line));         /* NUL */
	assert_false(utf8_valid("\xe2\x80", 2, &line));     /* truncated */
}

static void
test_times(void **state)
{
	(void) state;
	int64_t t;
	char out[64];
	assert_true(time_parse_iso8601("2026-11-20T09:00:00Z", &t));
	assert_int_equal(t, 1795165200);
	time_format_iso8601(t, out, sizeof out);
	assert_string_equal(out, "2026-11-20T09:00:00Z");
	time_format_human(t, out, sizeof out);
	assert_string_equal(out, "20 November 2026");
	time_format_http(t, out, sizeof out);
	assert_string_equal(out, "Fri, 20 Nov 2026 09:00:00 GMT");
	int64_t u;
	assert_true(time_parse_iso8601("2026-11-20T10:30:00+01:30", &u));
	assert_int_equal(u, t);
	assert_true(time_parse_iso8601("2026-11-20", &u));
	assert_true(time_parse_iso8601("2026-11-20T09:00:00.123Z", &u));
	assert_false(time_parse_iso8601("2026-02-30", &u));
	assert_false(time_parse_iso8601("2025-02-29", &u));
	assert_false(time_parse_iso8601("2026-11-20T25:00:00Z", &u));
	assert_false(time_parse_iso8601("yesterday", &u));
	/* Found by fuzzing: years before 1000 keep four digits, so they parse again. */
	assert_true(time_parse_iso8601("0998-12-29", &u));
	time_format_iso8601(u, out, sizeof out);
	assert_string_equal(out, "0998-12-29T00:00:00Z");
	assert_false(time_parse_iso8601("2026-11-20T09:00:00Zjunk", &u));
}

static void
test_slugs(void **state)
{
	(void) state;
	static const char *cases[][2] = {
		{ "Port authority approves night window", "port-authority-approves-night-window" },
		{ "Café Zoë marks ten years", "cafe-zoe-marks-ten-years" },
		{ "  Harbor's \"best\" -- pier!  ", "harbors-best-pier" },
		{ "Łódź and Straße", "lodz-and-strasse" },
		{ "2026: the year", "2026-the-year" },
	};
	char out[SLUG_MAX + 1];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_true(slug_from(cases[i][0], out, sizeof out));
		assert_string_equal(out, cases[i][1]);
		assert_true(slug_valid(out));
	}
	assert_false(slug_from("!!! \xe2\x80\x94 ???", out, sizeof out));
	assert_string_equal(out, "");
	char longer[400];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	assert_true(slug_from(longer, out, sizeof out));
	assert_int_equal(strlen(out), SLUG_MAX);
	assert_false(slug_valid("Upper"));
	assert_false(slug_valid("double--hyphen"));
	assert_false(slug_valid("-lead"));
	assert_false(slug_valid("../etc"));
}

static void
test_config_precedence_and_errors(void **state)
{
	(void) state;
	struct config c;
	char err[256];
	config_init(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.page_size, 20);
	assert_int_equal(config_set(&c, "page-size", "x", err, sizeof err), MH_ERR_INVALID);
	assert_non_null(strstr(err, "page-size"));
	assert_int_equal(config_set(&c, "page-size", "-3", err, sizeof err), MH_ERR_INVALID);
	assert_int_equal(config_set(&c, "nope", "1", err, sizeof err), MH_ERR_INVALID);
	assert_int_equal(config_set(&c, "access-log", "maybe", err, sizeof err), MH_ERR_INVALID);
	setenv("MASTHEAD_PAGE_SIZE", "7", 1);
	assert_int_equal(config_load_env(&c, err, sizeof err), MH_OK);
	assert_int_equal(c.page_size, 7);
	setenv("MASTHEAD_PAGE_SIZE", "seven", 1);
	assert_int_equal(config_load_env(&c, err, sizeof err), MH_ERR_INVALID);
	assert_non_null(strstr(err, "MASTHEAD_PAGE_SIZE"));
	unsetenv("MASTHEAD_PAGE_SIZE");
	config_set(&c, "data", "/tmp/x", err, sizeof err);
	config_finish(&c);
	assert_string_equal(c.db, "sqlite:/tmp/x/masthead.db");
	assert_string_equal(c.public_url, "http://127.0.0.1:8080");
	config_release(&c);
}

/* A new site is not the demo paper, and its sender follows its name and host. */
static void
test_config_neutral_defaults_and_derived_sender(void **state)
{
	(void) state;
	struct config c;
	char err[256];
	config_init(&c);
	assert_string_equal(c.site_name, "masthead");
	assert_string_equal(c.site_tagline, "");
	assert_false(config_given(&c, "site-name"));
	config_finish(&c);
	assert_string_equal(c.mail_from, "masthead <no-reply@localhost>");
	/* config_finish derives again what it derived before. */
	assert_int_equal(config_set(&c, "site-name", "The \"Bay\" <Post>", err, sizeof err), MH_OK);
	assert_true(config_given(&c, "site-name"));
	assert_int_equal(config_set(&c, "public-url", "https://news.example.org:8443/x", err, sizeof err), MH_OK);
	config_finish(&c);
	assert_string_equal(c.mail_from, "The Bay Post <no-reply@news.example.org>");
	/* Addresses and dotless hosts are no mail domain. */
	static const char *const local[] = { "http://10.0.0.5:8080", "http://[::1]:8080", "http://localhost:8080",
		                             "http://intranet" };
	for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
		assert_int_equal(config_set(&c, "public-url", local[i], err, sizeof err), MH_OK);
		config_finish(&c);
		assert_string_equal(c.mail_from, "The Bay Post <no-reply@localhost>");
	}
	/* A sender the operator gives stays. */
	assert_int_equal(config_set(&c, "mail-from", "News <news@example.org>", err, sizeof err), MH_OK);
	config_finish(&c);
	assert_string_equal(c.mail_from, "News <news@example.org>");
	config_release(&c);
}

/* The dummy hash must cost what a real one costs: the same parameters. */
static void
test_dummy_hash_has_todays_parameters(void **state)
{
	(void) state;
	assert_int_equal(password_init(), MH_OK);
	assert_false(password_needs_rehash(password_dummy_hash));
	assert_false(password_verify(password_dummy_hash, "masthead-demo"));
	/* At the default memory no start makes one; the setting is bounded. */
	assert_string_equal(password_dummy(), password_dummy_hash);
	assert_int_equal(password_set_memory(PASSWORD_MEMORY_MIB_MIN - 1), MH_ERR_INVALID);
	assert_int_equal(password_set_memory(PASSWORD_MEMORY_MIB_MAX + 1), MH_ERR_INVALID);
	assert_int_equal(password_set_memory(24), MH_OK);
	assert_true(password_needs_rehash(password_dummy_hash));
	assert_int_equal(password_set_memory(PASSWORD_MEMORY_MIB), MH_OK);
	assert_false(password_needs_rehash(password_dummy_hash));
}

static void
test_epochs(void **state)
{
	(void) state;
	struct epochs *e = calloc(1, sizeof *e);
	assert_non_null(e);
	uint64_t m0 = epochs_mark(e);
	assert_true(epochs_fresh(e, 7, m0));
	/* A change makes values read before it stale, for that key only. */
	epochs_change(e, 7);
	assert_false(epochs_fresh(e, 7, m0));
	assert_true(epochs_fresh(e, 8, m0));
	uint64_t m1 = epochs_mark(e);
	assert_true(m1 > m0);
	assert_true(epochs_fresh(e, 7, m1));
	/* Consecutive ids land in different slots. */
	for (int64_t k = 100; k < 1100; k++)
		epochs_change(e, k);
	assert_true(epochs_fresh(e, 7, m1));
	assert_false(epochs_fresh(e, 500, m1));
	/* A flush makes everything read before it stale. */
	uint64_t m2 = epochs_mark(e);
	epochs_flush(e);
	assert_false(epochs_fresh(e, 7, m2));
	assert_false(epochs_fresh(e, 99999, m2));
	assert_true(epochs_fresh(e, 7, epochs_mark(e)));
	free(e);
}

/* Members' exports: quotes, doubled quotes, line breaks inside quotes,
 * CRLF, a BOM, and a quote left open that must not swallow the rows after it. */
static void
test_csv_records(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	const char *text = "\xef\xbb\xbf"
	                   "email,name,note\r\n"
	                   "a@b.example,\"Doe, Jane\",\"says \"\"hi\"\"\nand more\"\r\n"
	                   "\n"
	                   "c@d.example,\"open,x\r\n"
	                   "e@f.example,,\r\n"
	                   "g@h.example,\"x\"y,z\n";
	struct csv c;
	csv_init(&c, text, strlen(text));
	char **f;
	size_t n;
	int line;
	assert_int_equal(csv_next(&c, a, &f, &n, &line), 1);
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "email");
	assert_int_equal(line, 1);
	assert_int_equal(csv_next(&c, a, &f, &n, &line), 1);
	assert_int_equal(line, 2);
	assert_string_equal(f[1], "Doe, Jane");
	assert_string_equal(f[2], "says \"hi\"\nand more");
	assert_int_equal(csv_next(&c, a, &f, &n, &line), -1); /* the quote left open */
	assert_int_equal(line, 5);
	assert_int_equal(csv_next(&c, a, &f, &n, &line), 1);
	assert_int_equal(line, 6);
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "e@f.example");
	assert_string_equal(f[2], "");
	assert_int_equal(csv_next(&c, a, &f, &n, &line), -1); /* text after a closing quote */
	assert_int_equal(csv_next(&c, a, &f, &n, &line), 0);
	arena_free(a);
}

/* The access log: four threads append lines of different lengths, more than
 * a block's worth each; after accesslog_stop() the file holds every line,
 * each whole, and a thread's lines in its order. */
struct alog_arg {
	int id, n;
};

static void *
alog_thread(void *p)
{
	const struct alog_arg *a = p;
	char line[300];
	for (int i = 0; i < a->n; i++) {
		int pad = (i * 7 + a->id) % 200;
		int len = snprintf(
		        line, sizeof line, "t=%d i=%d pad=%.*s end\n", a->id, i, pad,
		        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		accesslog_add(line, (size_t) len);
	}
	return NULL;
}

static void
test_accesslog_threads(void **state)
{
	(void) state;
	char path[] = "/tmp/mh-alog-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	assert_int_equal(accesslog_start(path, 50, err, sizeof err), MH_OK);
	enum { THREADS = 4, LINES = 5000 };
	pthread_t t[THREADS];
	struct alog_arg args[THREADS];
	for (int k = 0; k < THREADS; k++) {
		args[k] = (struct alog_arg){ k, LINES };
		assert_int_equal(pthread_create(&t[k], NULL, alog_thread, &args[k]), 0);
	}
	for (int k = 0; k < THREADS; k++)
		pthread_join(t[k], NULL);
	accesslog_stop();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int next[THREADS] = { 0 };
	char line[512];
	int total = 0;
	while (fgets(line, sizeof line, f)) {
		int id, i, used = 0;
		assert_int_equal(sscanf(line, "t=%d i=%d pad=%*[x] end\n%n", &id, &i, &used) >= 2, 1);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, next[id]); /* in order, none missing */
		next[id]++;
		size_t n = strlen(line);
		assert_true(n >= 5 && strcmp(line + n - 5, " end\n") == 0);
		total++;
	}
	fclose(f);
	assert_int_equal(total, THREADS * LINES);
	unlink(path);
}

/* A line waits for the timer, not for a full block or for stop. */
static void
test_accesslog_timer(void **state)
{
	(void) state;
	char path[] = "/tmp/mh-alog-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char err[256];
	assert_int_equal(accesslog_start(path, 20, err, sizeof err), MH_OK);
	accesslog_add("one\n", 4);
	char got[8] = { 0 };
	/* Generous: a loaded machine may delay the writer by seconds. */
	for (int i = 0; i < 3000 && pread(fd, got, 4, 0) != 4; i++)
		usleep(10000);
	assert_memory_equal(got, "one\n", 4);
	accesslog_stop();
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_sticky_error),
		cmocka_unit_test(test_buf_escapes),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_slugs),
		cmocka_unit_test(test_config_precedence_and_errors),
		cmocka_unit_test(test_config_neutral_defaults_and_derived_sender),
		cmocka_unit_test(test_dummy_hash_has_todays_parameters),
		cmocka_unit_test(test_csv_records),
		cmocka_unit_test(test_accesslog_threads),
		cmocka_unit_test(test_accesslog_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
