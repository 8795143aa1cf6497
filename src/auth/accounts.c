/* accounts.c: sessions, mailed links and rate limits, without HTTP. */
#include "auth/accounts.h"

#include <limits.h>
#include <string.h>

#include "store/store.h"
#include "core/banned.h"

static long
session_days(const struct account_rules *rules)
{
	return rules && rules->session_days > 0 ? rules->session_days : 30;
}

int
account_link_minutes(enum token_purpose purpose)
{
	return purpose == TOKEN_SIGNIN ? 15 : 60;
}

mh_err
account_rate(struct store *s, struct arena *a, const struct account_rules *rules, const char *kind, const char *address,
             const char *email, int64_t now, bool *allowed, int64_t *retry_after)
{
	int per_address = rules && rules->rate_limit > 0 ? (int) rules->rate_limit : 30;
	int per_email = per_address / 3 > 3 ? per_address / 3 : 3;
	*allowed = true;
	*retry_after = 0;
	const char *bucket = arena_printf(a, "%s-ip:%s", kind, address ? address : "-");
	mh_err err = store_rate_hit(s, bucket, now, ACCOUNT_RATE_WINDOW, per_address, allowed, retry_after);
	if (!err && *allowed && email) {
		bucket = arena_printf(a, "%s-email:%s", kind, email);
		err = store_rate_hit(s, bucket, now, ACCOUNT_RATE_WINDOW, per_email, allowed, retry_after);
	}
	return err;
}

static void
limits(const struct account_rules *rules, int *per_address, int *per_email)
{
	*per_address = rules && rules->rate_limit > 0 ? (int) rules->rate_limit : 30;
	*per_email = *per_address / 3 > 3 ? *per_address / 3 : 3;
}

mh_err
account_signin_gate(struct store *s, struct arena *a, const struct account_rules *rules, const char *address,
                    const char *email, int64_t now, enum signin_gate *gate, int64_t *retry_after)
{
	int per_address, per_email, n_address = 0, n_email = 0;
	limits(rules, &per_address, &per_email);
	*gate = SIGNIN_OPEN;
	*retry_after = 0;
	mh_err err = store_rate_count(s, arena_printf(a, "signin-fail-ip:%s", address ? address : "-"), now,
	                              ACCOUNT_RATE_WINDOW, &n_address, retry_after);
	if (err)
		return err;
	if (n_address >= per_address) {
		*gate = SIGNIN_CLOSED;
		return MH_OK;
	}
	int64_t email_retry = 0;
	if (email && (err = store_rate_count(s, arena_printf(a, "signin-fail-email:%s", email), now,
	                                     ACCOUNT_RATE_WINDOW, &n_email, &email_retry)))
		return err;
	if (n_email >= per_email) {
		/* Someone has been guessing this member's password. An address
		 * that has failed nothing lately may still try, slowly: so the
		 * member is not locked out, and each address of a guesser gets
		 * one slow try a window. */
		*gate = n_address == 0 ? SIGNIN_SLOW : SIGNIN_CLOSED;
		*retry_after = email_retry;
	}
	return MH_OK;
}

mh_err
account_signin_failed(struct store *s, struct arena *a, const char *address, const char *email, int64_t now)
{
	bool allowed;
	int64_t retry;
	mh_err err = store_rate_hit(s, arena_printf(a, "signin-fail-ip:%s", address ? address : "-"), now,
	                            ACCOUNT_RATE_WINDOW, INT_MAX, &allowed, &retry);
	if (!err && email)
		err = store_rate_hit(s, arena_printf(a, "signin-fail-email:%s", email), now, ACCOUNT_RATE_WINDOW,
		                     INT_MAX, &allowed, &retry);
	return err;
}

bool
account_token_hash(const char *token, char hash[TOKEN_HASH_CHARS + 1])
{
	if (!token || !token_well_formed(token))
		return false;
	token_hash(token, hash);
	return true;
}

mh_err
account_session_start(struct store *s, struct arena *a, const struct account_rules *rules, const struct member *m,
                      const char *user_agent, const char *address, const char *old_hash, int64_t now,
                      char token[TOKEN_CHARS + 1], int64_t *max_age)
{
	long days = session_days(rules);
	char hash[TOKEN_HASH_CHARS + 1];
	token_new(token);
	token_hash(token, hash);
	const char *ua = user_agent ? user_agent : "";
	struct session sess = { hash,
		                m->id,
		                now,
		                now,
		                now + days * 86400,
		                arena_strndup(a, ua, strnlen(ua, 200)),
		                address ? address : "" };
	/* Whatever session this browser had ends: a new sign-in is a new session. */
	if (old_hash)
		store_session_delete(s, old_hash);
	mh_err err = store_session_create(s, &sess);
	if (!err)
		*max_age = days * 86400;
	return err;
}

mh_err
account_session_find(struct store *s, struct arena *a, const char *hash, int64_t now, struct session *out,
                     struct member *m)
{
	return store_session_get(s, a, hash, now, out, m);
}

mh_err
account_session_touch(struct store *s, const struct account_rules *rules, const char *hash, struct session *sess,
                      int64_t now, bool *touched, int64_t *max_age)
{
	*touched = false;
	if (now - sess->last_seen_at < ACCOUNT_TOUCH_EVERY)
		return MH_OK;
	long days = session_days(rules);
	mh_err err = store_session_touch(s, hash, now, now + days * 86400);
	if (err)
		return err;
	sess->last_seen_at = now;
	sess->expires_at = now + days * 86400;
	*max_age = days * 86400;
	*touched = true;
	return MH_OK;
}

mh_err
account_link_issue(struct store *s, const struct member *m, enum token_purpose purpose, const char *new_email,
                   const char *next, const char *password_hash, int64_t now, char token[TOKEN_CHARS + 1])
{
	char hash[TOKEN_HASH_CHARS + 1];
	token_new(token);
	token_hash(token, hash);
	struct auth_token t = { hash,
		                purpose,
		                m->id,
		                new_email ? new_email : "",
		                next ? next : "/",
		                now,
		                now + account_link_minutes(purpose) * 60,
		                0,
		                password_hash ? password_hash : "" };
	return store_token_create(s, &t);
}

mh_err
account_link_check(struct store *s, struct arena *a, const char *token, enum token_purpose purpose, int64_t now,
                   struct auth_token *out)
{
	char hash[TOKEN_HASH_CHARS + 1];
	if (!account_token_hash(token, hash))
		return MH_ERR_NOTFOUND;
	return store_token_get(s, a, hash, purpose, now, out);
}

mh_err
account_link_spend(struct store *s, struct arena *a, const char *token, enum token_purpose purpose, int64_t now,
                   struct auth_token *out, struct member *m)
{
	char hash[TOKEN_HASH_CHARS + 1];
	if (!account_token_hash(token, hash))
		return MH_ERR_NOTFOUND;
	mh_err err = store_token_get(s, a, hash, purpose, now, out);
	if (!err)
		err = store_token_use(s, hash, purpose, now);
	if (!err)
		err = store_member_by_id(s, a, out->member_id, m);
	/* The link reached this mailbox: the address is confirmed. */
	if (!err && purpose == TOKEN_SIGNIN && !m->email_verified)
		err = account_confirm(s, m, out->password_hash, now);
	return err;
}

mh_err
account_confirm(struct store *s, struct member *m, const char *password_hash, int64_t now)
{
	const char *hash = password_hash ? password_hash : "";
	mh_err err = store_begin(s);
	if (err)
		return err;
	if (!(err = store_member_update(s, m->id, NULL, NULL, 1)) &&
	    !(err = store_member_set_password(s, m->email, hash)) &&
	    !(err = store_session_delete_member(s, m->id, NULL)) && !(err = store_token_spend_member(s, m->id, now)))
		err = store_commit(s);
	if (err) {
		store_rollback(s);
		return err;
	}
	m->email_verified = true;
	m->password_hash = hash;
	return MH_OK;
}

mh_err
account_password_reset(struct store *s, struct arena *a, const char *token, const char *hash, int64_t now,
                       struct member *m)
{
	struct auth_token t;
	mh_err err = account_link_spend(s, a, token, TOKEN_RESET, now, &t, m);
	if (!err)
		err = store_member_set_password(s, m->email, hash);
	if (!err)
		err = store_session_delete_member(s, m->id, NULL);
	if (!err)
		err = store_token_spend_member(s, m->id, now);
	if (!err && !m->email_verified && !store_member_update(s, m->id, NULL, NULL, 1))
		m->email_verified = true;
	if (!err)
		m->password_hash = hash;
	return err;
}

mh_err
account_email_change(struct store *s, struct arena *a, const char *token, int64_t now, struct member *m,
                     const char **old_email)
{
	struct auth_token t;
	mh_err err = account_link_spend(s, a, token, TOKEN_EMAIL, now, &t, m);
	if (!err)
		*old_email = m->email;
	if (!err)
		err = store_member_update(s, m->id, NULL, t.new_email, 1);
	if (!err) {
		m->email = t.new_email;
		m->email_verified = true;
	}
	return err;
}
