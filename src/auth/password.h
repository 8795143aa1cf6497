/* password.h: argon2id password hashes through libsodium. */
#ifndef MH_PASSWORD_H
#define MH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define PASSWORD_MIN      8
#define PASSWORD_MAX      1024
#define PASSWORD_HASH_MAX 128

/* argon2id at OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane (see
 * docs/security.md). The memory is a setting (password-memory-mib). */
#define PASSWORD_PASSES         2
#define PASSWORD_MEMORY_MIB     19
#define PASSWORD_MEMORY_MIB_MIN 19
#define PASSWORD_MEMORY_MIB_MAX 4096

/* A hash, at the default parameters, of a password no account has: a
 * sign-in for an unknown e-mail is verified against it, so it costs the
 * same. A constant, so no server start spends the memory making one. */
extern const char password_dummy_hash[];

/* Call once before any other function here (sodium_init). */
mh_err password_init(void);
/* Sets the memory of hashes made from now on (MIN..MAX MiB); call before
 * threads start. MH_ERR_INVALID out of range. */
mh_err password_set_memory(unsigned long mib);
/* The dummy hash at today's parameters: password_dummy_hash, or one made
 * at the first call when the memory is not the default (servers call it
 * at start, so no sign-in pays for it). */
const char *password_dummy(void);
/* Hashes password into out (PASSWORD_HASH_MAX bytes). */
mh_err password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* True when password matches hash; constant time in the password. */
bool password_verify(const char *hash, const char *password);
/* True when hash was made with other parameters than today's. */
bool password_needs_rehash(const char *hash);

#endif
