#include "auth/password.h"

#include <sodium.h>
#include <string.h>

#include "core/banned.h"

/* libsodium's interactive limits: 64 MiB and 2 passes, about 0.1 s on one
 * core here; see docs/security.md for the measurement behind the choice. */
#define OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

const char password_dummy_hash[] =
        "$argon2id$v=19$m=65536,t=2,p=1$AjrSlkb94PikV9eLJHVGbg$QHVAqW9Xn2MMJrS+KvoqLbi+ia4RmyeymClCbZXmcZ4";

mh_err
password_init(void)
{
	return sodium_init() < 0 ? MH_ERR_UNSUPPORTED : MH_OK;
}

mh_err
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	size_t n = strlen(password);
	if (n < PASSWORD_MIN || n > PASSWORD_MAX)
		return MH_ERR_INVALID;
	if (crypto_pwhash_str(out, password, n, OPS, MEM) != 0)
		return MH_ERR_NOMEM;
	return MH_OK;
}

bool
password_verify(const char *hash, const char *password)
{
	size_t n = strlen(password);
	if (!hash[0] || n > PASSWORD_MAX)
		return false;
	return crypto_pwhash_str_verify(hash, password, n) == 0;
}

bool
password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, OPS, MEM) != 0;
}
