/* member.h: members, their sessions, mailed links and gift links. Types only. */
#ifndef MH_MODEL_MEMBER_H
#define MH_MODEL_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum member_role { ROLE_READER = 0, ROLE_EDITOR = 1, ROLE_ADMIN = 2 };
const char *member_role_name(enum member_role r);
int member_role_parse(const char *s);

struct member {
	int64_t id;
	const char *email;
	const char *name;
	const char *password_hash; /* argon2id string, or "" for link-only accounts */
	enum member_role role;
	int64_t created_at;
	int64_t comped_until; /* 0: not comped */
	bool email_verified;
};

/* Members, their sessions and mailed links, billing and the mail outbox.
 * Each table arrived as a migration with the feature that uses it. */
struct session {
	const char *token_hash; /* hex BLAKE2b-256 of the cookie's 32 random bytes */
	int64_t member_id;
	int64_t created_at, last_seen_at, expires_at;
	const char *user_agent, *ip;
};

enum token_purpose { TOKEN_SIGNIN = 0, TOKEN_RESET = 1, TOKEN_EMAIL = 2 };

/* A mailed single-use link, by the hash of its token. */
struct auth_token {
	const char *token_hash;
	enum token_purpose purpose;
	int64_t member_id;
	const char *new_email; /* TOKEN_EMAIL: the address being confirmed */
	const char *next;      /* a local path to go to afterwards */
	int64_t created_at, expires_at, used_at;
	/* TOKEN_SIGNIN from a sign-up: the password chosen there, which the
	 * account gets when this link confirms its address; "" or NULL: none. */
	const char *password_hash;
};

struct gift_link {
	int64_t id;
	const char *token_hash;
	int64_t member_id, article_id;
	int max_uses, uses;
	int64_t created_at, expires_at, revoked_at;
	const char *article_slug, *article_title; /* filled by gift_list */
};

#endif
