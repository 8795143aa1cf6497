/* accounts.h: members' sessions, mailed single-use links and the limits on
 * trying, as use cases that take no HTTP request: the site calls them with
 * what it read from cookies and forms, and so can any other front door.
 * Secrets never leave as stored: the store keeps only hashes of tokens. */
#ifndef MH_ACCOUNTS_H
#define MH_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/err.h"
#include "model/member.h"

struct store;

#define ACCOUNT_RATE_WINDOW 600 /* seconds over which attempts are counted */
#define ACCOUNT_TOUCH_EVERY 300 /* seconds between sliding-expiry writes */

/* The settings these rules read. */
struct account_rules {
	long session_days; /* a session lasts this long without use; 0: 30 */
	long rate_limit;   /* attempts per address per window; 0: 30; per e-mail a third, at least 3 */
};

/* Minutes a mailed link of that purpose works: 15 to sign in, 60 for a
 * reset or a change of e-mail. */
int account_link_minutes(enum token_purpose purpose);

/* Counts one attempt of kind ("signin", "link", "reset") from address and,
 * when given, for email, in one statement each. *allowed false, and
 * *retry_after the seconds until the oldest attempt leaves the window, when
 * either limit is reached; then nothing more is counted. */
mh_err account_rate(struct store *s, struct arena *a, const struct account_rules *rules, const char *kind,
                    const char *address, const char *email, int64_t now, bool *allowed, int64_t *retry_after);

/* Password sign-ins count failures, not attempts, so that strangers
 * guessing cannot lock a member out of the right password. */
enum signin_gate {
	SIGNIN_OPEN,   /* check the password */
	SIGNIN_SLOW,   /* the e-mail's failures are at the limit, but this address has none: check after a delay */
	SIGNIN_CLOSED, /* refuse (429) for *retry_after seconds */
};
#define ACCOUNT_SLOW_SIGNIN_MS 1000 /* the delay of SIGNIN_SLOW */

/* Whether a password sign-in for email from address may be checked: the
 * address's failures against the per-address limit, the e-mail's against
 * the per-e-mail one (see account_rate). Records nothing. */
mh_err account_signin_gate(struct store *s, struct arena *a, const struct account_rules *rules, const char *address,
                           const char *email, int64_t now, enum signin_gate *gate, int64_t *retry_after);
/* Records a failed password sign-in against address and email (NULL: not an e-mail). */
mh_err account_signin_failed(struct store *s, struct arena *a, const char *address, const char *email, int64_t now);

/* Starts a session for m and ends the one this browser had (old_hash, may be
 * NULL). Writes the cookie's token and its lifetime in seconds. The user
 * agent is kept to 200 bytes. */
mh_err account_session_start(struct store *s, struct arena *a, const struct account_rules *rules,
                             const struct member *m, const char *user_agent, const char *address, const char *old_hash,
                             int64_t now, char token[TOKEN_CHARS + 1], int64_t *max_age);

/* The hash a session or link token is stored under; false for anything
 * that is not a token's shape (never looked up). */
bool account_token_hash(const char *token, char hash[TOKEN_HASH_CHARS + 1]);

/* The live session stored under hash, with its member: MH_ERR_NOTFOUND when
 * unknown or expired at now. */
mh_err account_session_find(struct store *s, struct arena *a, const char *hash, int64_t now, struct session *out,
                            struct member *m);

/* Slides a session's expiry when the last write is ACCOUNT_TOUCH_EVERY old:
 * *touched true (and sess updated) when the cookie should be sent again. */
mh_err account_session_touch(struct store *s, const struct account_rules *rules, const char *hash, struct session *sess,
                             int64_t now, bool *touched, int64_t *max_age);

/* Issues a single-use link for m: writes the token for the URL. new_email
 * is the address being confirmed (TOKEN_EMAIL), next a local path,
 * password_hash (NULL: none) the password a sign-up chose, which the
 * account gets if this link is the one that confirms its address. */
mh_err account_link_issue(struct store *s, const struct member *m, enum token_purpose purpose, const char *new_email,
                          const char *next, const char *password_hash, int64_t now, char token[TOKEN_CHARS + 1]);

/* The live link for token, spending nothing: MH_ERR_NOTFOUND when malformed,
 * unknown, of another purpose, used or expired. */
mh_err account_link_check(struct store *s, struct arena *a, const char *token, enum token_purpose purpose, int64_t now,
                          struct auth_token *out);

/* Spends the link (one caller wins; the others get MH_ERR_NOTFOUND) and
 * reads its member. A sign-in link also confirms the member's address, and
 * confirming ends whatever the account had before (account_confirm). */
mh_err account_link_spend(struct store *s, struct arena *a, const char *token, enum token_purpose purpose, int64_t now,
                          struct auth_token *out, struct member *m);

/* The address of m is confirmed now: every session and every other link of
 * the account ends, and its password becomes password_hash (NULL or "":
 * none), so nothing set up before the owner proved the address survives
 * (whoever typed it into the sign-up form first). One transaction. */
mh_err account_confirm(struct store *s, struct member *m, const char *password_hash, int64_t now);

/* Spends a reset link and gives its member the password hash: every session
 * and every other mailed link of the member ends (whoever knew the old
 * password, or holds an older link, is out) and the address counts as
 * confirmed (the link reached it). MH_ERR_NOTFOUND as for
 * account_link_spend; *m is the member after the change. */
mh_err account_password_reset(struct store *s, struct arena *a, const char *token, const char *hash, int64_t now,
                              struct member *m);

/* Spends an address-change link and moves its member to the new address,
 * confirmed. MH_ERR_CONFLICT when another account took that address in the
 * meantime (the link is spent, the address unchanged). *old_email is the
 * address it had (to be told of the change), in a. */
mh_err account_email_change(struct store *s, struct arena *a, const char *token, int64_t now, struct member *m,
                            const char **old_email);

#endif
