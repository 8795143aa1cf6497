/* token.h: random tokens, their stored hashes, the server secret and CSRF
 * tokens. A token is 32 random bytes in base64url (43 characters); the
 * database keeps only the hex BLAKE2b-256 of it. */
#ifndef MH_TOKEN_H
#define MH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"

#define TOKEN_CHARS      43
#define TOKEN_HASH_CHARS 64
#define SECRET_BYTES     32

void token_new(char out[TOKEN_CHARS + 1]);
/* True when s is exactly a token's shape (checked before any lookup). */
bool token_well_formed(const char *s);
void token_hash(const char *token, char out[TOKEN_HASH_CHARS + 1]);

struct store;

/* The key for CSRF tokens and signed values: cfg->secret when set (at least
 * 32 characters); else DATA/secret.key when it exists (a site from before the
 * key moved into the database); else the database's own (store_site_secret),
 * made with 32 random bytes by the first process that needs it, so every
 * node of the site agrees. Without a store (s NULL), the file is made
 * (mode 0600) as before. */
mh_err secret_load(const struct config *cfg, struct store *s, unsigned char key[SECRET_BYTES], char *err,
                   size_t errlen);

/* The form token that goes with a CSRF cookie: HMAC-SHA256 under key. */
void csrf_token(const unsigned char key[SECRET_BYTES], const char *cookie, char out[TOKEN_CHARS + 1]);
/* A signed value's MAC: the first 16 bytes of HMAC-SHA256(key, label ||
 * payload), in lower-case hex. Each kind of signed cookie has its label, so
 * that none passes for another. */
#define TOKEN_MAC_CHARS 32
void token_mac(const unsigned char key[SECRET_BYTES], const char *label, const char *payload, size_t n,
               char out[TOKEN_MAC_CHARS + 1]);
/* Compares in constant time. */
bool csrf_valid(const unsigned char key[SECRET_BYTES], const char *cookie, const char *token);

#endif
