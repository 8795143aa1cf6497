#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

/* Read by every thread, written only before threads start. */
static size_t mem = (size_t) PASSWORD_MEMORY_MIB << 20;

const char password_dummy_hash[] =
        "$argon2id$v=19$m=19456,t=2,p=1$VGYLT4WOoB+pUqP9Rmaztg$NLzhCBbYWOW4r+4i8/4Sb02BszzYr670njmiM2s6buU";

static char dummy[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

mh_err
password_init(void)
{
	return sodium_init() < 0 ? MH_ERR_UNSUPPORTED : MH_OK;
}

mh_err
password_set_memory(unsigned long mib)
{
	if (mib < PASSWORD_MEMORY_MIB_MIN || mib > PASSWORD_MEMORY_MIB_MAX)
		return MH_ERR_INVALID;
	mem = (size_t) mib << 20;
	return MH_OK;
}

static void
make_dummy(void)
{
	if (mem == (size_t) PASSWORD_MEMORY_MIB << 20) {
		memcpy(dummy, password_dummy_hash, sizeof password_dummy_hash);
		return;
	}
	/* A password nobody can type: random bytes, forgotten at once. */
	unsigned char secret[32];
	randombytes_buf(secret, sizeof secret);
	if (crypto_pwhash_str(dummy, (const char *) secret, sizeof secret, PASSWORD_PASSES, mem) != 0)
		abort(); /* out of memory, like every allocation here */
	sodium_memzero(secret, sizeof secret);
}

const char *
password_dummy(void)
{
	pthread_once(&dummy_once, make_dummy);
	return dummy;
}

mh_err
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	size_t n = strlen(password);
	if (n < PASSWORD_MIN || n > PASSWORD_MAX)
		return MH_ERR_INVALID;
	if (crypto_pwhash_str(out, password, n, PASSWORD_PASSES, mem) != 0)
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
	return crypto_pwhash_str_needs_rehash(hash, PASSWORD_PASSES, mem) != 0;
}
