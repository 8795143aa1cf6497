/* password.h: argon2id password hashes through libsodium. */
#ifndef MH_PASSWORD_H
#define MH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define PASSWORD_MIN      8
#define PASSWORD_MAX      1024
#define PASSWORD_HASH_MAX 128

/* A hash, at today's parameters, of a password no account has: a sign-in
 * for an unknown e-mail is verified against it, so it costs the same. A
 * constant, so no server start spends 64 MiB making one. */
extern const char password_dummy_hash[];

/* Call once before any other function here (sodium_init). */
mh_err password_init(void);
/* Hashes password into out (PASSWORD_HASH_MAX bytes). */
mh_err password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* True when password matches hash; constant time in the password. */
bool password_verify(const char *hash, const char *password);
/* True when hash was made with other parameters than today's. */
bool password_needs_rehash(const char *hash);

#endif
