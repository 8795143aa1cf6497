#include "auth/token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/store.h"
#include "core/banned.h"

void
token_new(char out[TOKEN_CHARS + 1])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, TOKEN_CHARS + 1, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

bool
token_well_formed(const char *s)
{
	if (!s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n == TOKEN_CHARS || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		                          c == '-' || c == '_'))
			return false;
	}
	return n == TOKEN_CHARS;
}

void
token_hash(const char *token, char out[TOKEN_HASH_CHARS + 1])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *) token, strlen(token), NULL, 0);
	/* Every signed-in request does this: a plain table (one cache line, so
	 * no timing to read) at a tenth of sodium_bin2hex's cost. */
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof h; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[2 * sizeof h] = '\0';
}

static mh_err
secret_shared(struct store *s, unsigned char key[SECRET_BYTES], char *err, size_t errlen)
{
	unsigned char fresh[SECRET_BYTES];
	char hex[2 * SECRET_BYTES + 1], stored[2 * SECRET_BYTES + 2];
	randombytes_buf(fresh, sizeof fresh);
	sodium_bin2hex(hex, sizeof hex, fresh, sizeof fresh);
	sodium_memzero(fresh, sizeof fresh);
	mh_err rc = store_site_secret(s, hex, stored, sizeof stored);
	sodium_memzero(hex, sizeof hex);
	size_t got = 0;
	if (rc) {
		snprintf(err, errlen, "cannot read the site's secret from the database: %s", store_errmsg(s));
	} else if (sodium_hex2bin(key, SECRET_BYTES, stored, strlen(stored), NULL, &got, NULL) != 0 ||
	           got != SECRET_BYTES) {
		snprintf(err, errlen, "the database's site_secret is not a secret key (64 hex digits)");
		rc = MH_ERR_INVALID;
	}
	sodium_memzero(stored, sizeof stored);
	return rc;
}

mh_err
secret_load(const struct config *cfg, struct store *s, unsigned char key[SECRET_BYTES], char *err, size_t errlen)
{
	if (cfg->secret && cfg->secret[0]) {
		if (strlen(cfg->secret) < 32) {
			snprintf(err, errlen, "secret: must be at least 32 characters");
			return MH_ERR_INVALID;
		}
		crypto_generichash(key, SECRET_BYTES, (const unsigned char *) cfg->secret, strlen(cfg->secret), NULL,
		                   0);
		return MH_OK;
	}
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/secret.key", cfg->data);
	mh_err rc = MH_OK;
	int fd = open(path.ptr, O_RDONLY);
	if (fd >= 0) {
		char hex[2 * SECRET_BYTES + 2];
		ssize_t n = read(fd, hex, sizeof hex - 1);
		close(fd);
		size_t got;
		if (n < 2 * SECRET_BYTES || sodium_hex2bin(key, SECRET_BYTES, hex, (size_t) n, "\n", &got, NULL) != 0 ||
		    got != SECRET_BYTES) {
			snprintf(err, errlen, "%s: not a secret key (64 hex digits)", path.ptr);
			rc = MH_ERR_INVALID;
		}
		goto out;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot read: %s", path.ptr, strerror(errno));
		rc = MH_ERR_IO;
		goto out;
	}
	if (s) {
		rc = secret_shared(s, key, err, errlen);
		goto out;
	}
	/* O_EXCL: when two processes start at once, one writes and both read it. */
	randombytes_buf(key, SECRET_BYTES);
	char hex[2 * SECRET_BYTES + 2];
	sodium_bin2hex(hex, sizeof hex - 1, key, SECRET_BYTES);
	hex[2 * SECRET_BYTES] = '\n';
	hex[2 * SECRET_BYTES + 1] = '\0';
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 && errno == EEXIST) {
		buf_release(&path);
		return secret_load(cfg, s, key, err, errlen);
	}
	if (fd < 0 || write(fd, hex, 2 * SECRET_BYTES + 1) != 2 * SECRET_BYTES + 1 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path.ptr, strerror(errno));
		rc = MH_ERR_IO;
	}
	if (fd >= 0)
		close(fd);
	sodium_memzero(hex, sizeof hex);
out:
	buf_release(&path);
	return rc;
}

void
csrf_token(const unsigned char key[SECRET_BYTES], const char *cookie, char out[TOKEN_CHARS + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, key, SECRET_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) "csrf:", 5);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) cookie, strlen(cookie));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, TOKEN_CHARS + 1, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool
csrf_valid(const unsigned char key[SECRET_BYTES], const char *cookie, const char *token)
{
	if (!token_well_formed(cookie) || !token_well_formed(token))
		return false;
	char want[TOKEN_CHARS + 1];
	csrf_token(key, cookie, want);
	return sodium_memcmp(want, token, TOKEN_CHARS) == 0;
}

void
token_mac(const unsigned char key[SECRET_BYTES], const char *label, const char *payload, size_t n,
          char out[TOKEN_MAC_CHARS + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, key, SECRET_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) label, strlen(label));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) payload, n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, TOKEN_MAC_CHARS + 1, mac, TOKEN_MAC_CHARS / 2);
}
