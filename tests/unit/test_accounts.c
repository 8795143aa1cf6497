/* test_accounts.c: sessions, mailed links and rate limits as request-free
 * use cases (auth/accounts.h), on a real store. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "core/log.h"
#include "store/store.h"

#define T0 INT64_C(1796000000)

static char dir[64];
static int64_t member_id;

static int
setup(void **state)
{
	struct store *s = unit_store_open(dir);
	if (!s)
		return -1;
	struct member m = { 0, "ann@example.test", "Ann", "", ROLE_READER, T0, 0, false };
	if (store_member_create(s, &m, &member_id))
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	return unit_store_close(*state, dir);
}

static void
test_sessions(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct account_rules rules = { 2, 0 };
	struct member m = { .id = member_id, .email = "ann@example.test" };
	char token[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	int64_t max_age = 0;
	char ua[400];
	memset(ua, 'u', sizeof ua - 1);
	ua[sizeof ua - 1] = '\0';
	assert_int_equal(account_session_start(s, a, &rules, &m, ua, "192.0.2.1", NULL, T0, token, &max_age), MH_OK);
	assert_int_equal(max_age, 2 * 86400);
	assert_true(account_token_hash(token, hash));
	assert_false(account_token_hash("not a token", hash));
	struct session sess;
	struct member got;
	assert_int_equal(account_session_find(s, a, hash, T0 + 60, &sess, &got), MH_OK);
	assert_int_equal(got.id, member_id);
	assert_int_equal(strlen(sess.user_agent), 200);
	/* Sliding expiry: nothing written within ACCOUNT_TOUCH_EVERY, then moved on. */
	bool touched = true;
	assert_int_equal(account_session_touch(s, &rules, hash, &sess, T0 + 10, &touched, &max_age), MH_OK);
	assert_false(touched);
	int64_t later = T0 + 86400;
	assert_int_equal(account_session_touch(s, &rules, hash, &sess, later, &touched, &max_age), MH_OK);
	assert_true(touched);
	assert_int_equal(sess.expires_at, later + 2 * 86400);
	assert_int_equal(account_session_find(s, a, hash, T0 + 2 * 86400 + 10, &sess, &got), MH_OK);
	/* A new sign-in from the same browser ends the old session. */
	char token2[TOKEN_CHARS + 1], hash2[TOKEN_HASH_CHARS + 1];
	assert_int_equal(account_session_start(s, a, &rules, &m, NULL, NULL, hash, later, token2, &max_age), MH_OK);
	assert_true(account_token_hash(token2, hash2));
	assert_int_equal(account_session_find(s, a, hash, later, &sess, &got), MH_ERR_NOTFOUND);
	assert_int_equal(account_session_find(s, a, hash2, later, &sess, &got), MH_OK);
	arena_free(a);
}

static void
test_links(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct member m = { .id = member_id, .email = "ann@example.test" };
	char token[TOKEN_CHARS + 1];
	assert_int_equal(account_link_minutes(TOKEN_SIGNIN), 15);
	assert_int_equal(account_link_minutes(TOKEN_RESET), 60);
	assert_int_equal(account_link_issue(s, &m, TOKEN_SIGNIN, NULL, "/articles/x", NULL, T0, token), MH_OK);
	struct auth_token t;
	struct member got;
	assert_int_equal(account_link_check(s, a, "garbage", TOKEN_SIGNIN, T0, &t), MH_ERR_NOTFOUND);
	assert_int_equal(account_link_check(s, a, token, TOKEN_RESET, T0, &t), MH_ERR_NOTFOUND);
	assert_int_equal(account_link_check(s, a, token, TOKEN_SIGNIN, T0 + 15 * 60 + 1, &t), MH_ERR_NOTFOUND);
	/* Checking spends nothing. */
	assert_int_equal(account_link_check(s, a, token, TOKEN_SIGNIN, T0, &t), MH_OK);
	assert_int_equal(account_link_check(s, a, token, TOKEN_SIGNIN, T0, &t), MH_OK);
	assert_string_equal(t.next, "/articles/x");
	/* Spent once; the address is confirmed by it. */
	assert_int_equal(account_link_spend(s, a, token, TOKEN_SIGNIN, T0 + 1, &t, &got), MH_OK);
	assert_int_equal(got.id, member_id);
	assert_true(got.email_verified);
	assert_int_equal(account_link_spend(s, a, token, TOKEN_SIGNIN, T0 + 2, &t, &got), MH_ERR_NOTFOUND);
	struct member again;
	assert_int_equal(store_member_by_id(s, a, member_id, &again), MH_OK);
	assert_true(again.email_verified);
	arena_free(a);
}

static void
test_reset_and_address_change(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct account_rules rules = { 2, 0 };
	struct member m = { .id = member_id, .email = "ann@example.test" };
	char token[TOKEN_CHARS + 1], reset[TOKEN_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
	int64_t max_age = 0;
	struct session sess;
	struct member got;
	/* A reset ends every session, sets the hash and confirms the address. */
	assert_int_equal(account_session_start(s, a, &rules, &m, NULL, NULL, NULL, T0, token, &max_age), MH_OK);
	assert_true(account_token_hash(token, hash));
	assert_int_equal(account_link_issue(s, &m, TOKEN_RESET, NULL, NULL, NULL, T0, reset), MH_OK);
	assert_int_equal(account_password_reset(s, a, reset, "$argon2id$new", T0 + 1, &got), MH_OK);
	assert_true(got.email_verified);
	assert_int_equal(account_session_find(s, a, hash, T0 + 2, &sess, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_member_by_email(s, a, "ann@example.test", &got), MH_OK);
	assert_string_equal(got.password_hash, "$argon2id$new");
	assert_true(got.email_verified);
	/* Once only; a sign-in link is not a reset link. */
	assert_int_equal(account_password_reset(s, a, reset, "$argon2id$again", T0 + 2, &got), MH_ERR_NOTFOUND);
	assert_int_equal(account_link_issue(s, &m, TOKEN_SIGNIN, NULL, NULL, NULL, T0, token), MH_OK);
	assert_int_equal(account_password_reset(s, a, token, "$argon2id$again", T0 + 2, &got), MH_ERR_NOTFOUND);
	assert_int_equal(store_member_by_email(s, a, "ann@example.test", &got), MH_OK);
	assert_string_equal(got.password_hash, "$argon2id$new");

	/* An address change moves the member; a taken address is refused. */
	char change[TOKEN_CHARS + 1];
	assert_int_equal(account_link_issue(s, &m, TOKEN_EMAIL, "ann@new.test", NULL, NULL, T0, change), MH_OK);
	const char *old_email = NULL;
	assert_int_equal(account_email_change(s, a, change, T0 + 3, &got, &old_email), MH_OK);
	assert_string_equal(got.email, "ann@new.test");
	assert_string_equal(old_email, "ann@example.test");
	assert_int_equal(store_member_by_email(s, a, "ann@new.test", &got), MH_OK);
	assert_int_equal(got.id, member_id);
	assert_int_equal(account_email_change(s, a, change, T0 + 4, &got, &old_email), MH_ERR_NOTFOUND);
	struct member bob = { 0, "bob@example.test", "Bob", "", ROLE_READER, T0, 0, false };
	int64_t bob_id;
	assert_int_equal(store_member_create(s, &bob, &bob_id), MH_OK);
	m.email = "ann@new.test";
	assert_int_equal(account_link_issue(s, &m, TOKEN_EMAIL, "bob@example.test", NULL, NULL, T0, change), MH_OK);
	assert_int_equal(account_email_change(s, a, change, T0 + 5, &got, &old_email), MH_ERR_CONFLICT);
	assert_int_equal(store_member_by_id(s, a, member_id, &got), MH_OK);
	assert_string_equal(got.email, "ann@new.test");
	arena_free(a);
}

static void
test_rate(void **state)
{
	struct store *s = *state;
	struct arena *a = arena_new();
	struct account_rules rules = { 0, 9 }; /* 9 per address, 3 per e-mail */
	bool ok;
	int64_t retry;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		        account_rate(s, a, &rules, "signin", "192.0.2.1", "ann@example.test", T0 + i, &ok, &retry),
		        MH_OK);
		assert_true(ok);
	}
	assert_int_equal(account_rate(s, a, &rules, "signin", "192.0.2.9", "ann@example.test", T0 + 5, &ok, &retry),
	                 MH_OK);
	assert_false(ok);
	assert_int_equal(retry, ACCOUNT_RATE_WINDOW - 5);
	/* Another kind, another count. */
	assert_int_equal(account_rate(s, a, &rules, "reset", "192.0.2.9", "ann@example.test", T0 + 5, &ok, &retry),
	                 MH_OK);
	assert_true(ok);
	/* Per address, whatever the e-mail. */
	int allowed = 0;
	for (int i = 0; i < 12; i++) {
		char email[40];
		snprintf(email, sizeof email, "n%d@example.test", i);
		assert_int_equal(account_rate(s, a, &rules, "link", "198.51.100.1", email, T0, &ok, &retry), MH_OK);
		allowed += ok;
	}
	assert_int_equal(allowed, 9);
	arena_free(a);
}

int
main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_address_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
