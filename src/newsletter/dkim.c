/* dkim.c: DKIM signatures through libopendkim (rsa-sha256,
 * relaxed/relaxed), and new keys through OpenSSL's libcrypto, which
 * libopendkim itself uses. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/log.h"
#include "newsletter/newsletter.h"
#include "core/banned.h"

#define KEY_MAX (64u << 10)

/* The headers signed, when present (the unsubscribe ones by RFC 8058). */
static const char *const signed_headers[] = {
	"from",
	"to",
	"subject",
	"date",
	"message-id",
	"reply-to",
	"list-id",
	"list-unsubscribe",
	"list-unsubscribe-post",
	"mime-version",
	"content-type",
	NULL,
};

struct nl_dkim {
	DKIM_LIB *lib;
	unsigned char *key; /* base64 PKCS#1 DER, else PEM */
	char *selector, *domain;
	struct loaded_key *loaded; /* NULL: libopendkim decodes key itself */
};

/*
 * Keys decoded once.
 *
 * libopendkim has no call that takes a decoded key: every dkim_sign()
 * handle decodes the key bytes it was given (d2i_PrivateKey_bio() on a
 * memory BIO, for the base64 DER form) and signs with a new RSA object,
 * which also makes OpenSSL set up its blinding and Montgomery values
 * again. Measured on OpenSSL 3.0, that is more than half of a signature's
 * CPU (bench/dkimcost.c). So masthead defines d2i_PrivateKey_bio() itself: the
 * dynamic linker resolves libopendkim's call to the executable's
 * definition before libcrypto's. When the BIO holds exactly the DER of a
 * key nl_dkim_open() registered, it returns that key, decoded once (a new
 * reference, which libopendkim frees as its own); anything else goes to
 * libcrypto's function unchanged. libopendkim still canonicalizes, hashes,
 * signs (RSA_sign() on the key's RSA object, which OpenSSL allows from
 * several threads) and writes the header. A libopendkim that loads keys
 * another way never calls this: slower, not wrong, and the log says so.
 */
struct loaded_key {
	unsigned char *der;
	size_t len;
	EVP_PKEY *pkey;
	unsigned long hits; /* decodes answered; under loaded_lock */
	struct loaded_key *next;
};

static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loaded_key *loaded_keys;

typedef EVP_PKEY *d2i_bio_fn(BIO *, EVP_PKEY **);
static d2i_bio_fn *libcrypto_d2i;
static pthread_once_t libcrypto_once = PTHREAD_ONCE_INIT;

static void
find_libcrypto_d2i(void)
{
	/* The next definition after the executable's own: libcrypto's. */
	void *fn = dlsym(RTLD_NEXT, "d2i_PrivateKey_bio");
	memcpy(&libcrypto_d2i, &fn, sizeof fn);
}

static EVP_PKEY *
loaded_find(BIO *bp)
{
	char *data = NULL;
	long len = BIO_method_type(bp) == BIO_TYPE_MEM ? BIO_get_mem_data(bp, &data) : 0;
	if (len <= 0 || !data)
		return NULL;
	EVP_PKEY *found = NULL;
	pthread_mutex_lock(&loaded_lock);
	for (struct loaded_key *k = loaded_keys; k && !found; k = k->next)
		if (k->len == (size_t) len && sodium_memcmp(k->der, data, k->len) == 0 && EVP_PKEY_up_ref(k->pkey)) {
			found = k->pkey;
			k->hits++;
		}
	pthread_mutex_unlock(&loaded_lock);
	return found;
}

EVP_PKEY *
d2i_PrivateKey_bio(BIO *bp, EVP_PKEY **a)
{
	EVP_PKEY *pkey = a ? NULL : loaded_find(bp);
	if (pkey) {
		/* Consume the bytes, as a decode would have. */
		char skip[256];
		while (BIO_read(bp, skip, (int) sizeof skip) > 0)
			;
		return pkey;
	}
	pthread_once(&libcrypto_once, find_libcrypto_d2i);
	return libcrypto_d2i ? libcrypto_d2i(bp, a) : NULL;
}

/* Decodes the PEM key once, registers its DER (above) and returns it, or
 * NULL when it is no key. */
static struct loaded_key *
loaded_add(const unsigned char *pem, size_t n)
{
	BIO *bio = BIO_new_mem_buf(pem, (int) n);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	unsigned char *der = NULL;
	int len = pkey ? i2d_PrivateKey(pkey, &der) : -1;
	if (len <= 0) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	struct loaded_key *k = xcalloc(1, sizeof *k);
	k->der = der;
	k->len = (size_t) len;
	k->pkey = pkey;
	pthread_mutex_lock(&loaded_lock);
	k->next = loaded_keys;
	loaded_keys = k;
	pthread_mutex_unlock(&loaded_lock);
	return k;
}

static void
loaded_remove(struct loaded_key *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&loaded_lock);
	for (struct loaded_key **p = &loaded_keys; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	pthread_mutex_unlock(&loaded_lock);
	OPENSSL_clear_free(k->der, k->len);
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* The key's DER in base64, the form dkim_sign() decodes with
 * d2i_PrivateKey_bio() (malloc'd). */
static unsigned char *
der_base64(const struct loaded_key *k)
{
	size_t b64len = sodium_base64_ENCODED_LEN(k->len, sodium_base64_VARIANT_ORIGINAL);
	unsigned char *out = xmalloc(b64len);
	sodium_bin2base64((char *) out, b64len, k->der, k->len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

mh_err
nl_dkim_open(const char *path, const char *selector, const char *domain, struct nl_dkim **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read the DKIM key %s: %s", path, strerror(errno));
		return MH_ERR_IO;
	}
	unsigned char *key = xmalloc(KEY_MAX + 1);
	size_t n = fread(key, 1, KEY_MAX, f);
	fclose(f);
	key[n] = '\0';
	if (n == 0 || n == KEY_MAX || !strstr((char *) key, "PRIVATE KEY-----")) {
		snprintf(err, errlen, "%s is not a PEM private key", path);
		sodium_memzero(key, n);
		free(key);
		return MH_ERR_INVALID;
	}
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	if (!lib) {
		snprintf(err, errlen, "libopendkim cannot start");
		free(key);
		return MH_ERR_IO;
	}
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *) signed_headers, sizeof(char **)) !=
	    DKIM_STAT_OK) {
		snprintf(err, errlen, "libopendkim refuses the list of headers to sign");
		dkim_close(lib);
		free(key);
		return MH_ERR_IO;
	}
	struct nl_dkim *d = xcalloc(1, sizeof *d);
	d->lib = lib;
	d->key = key;
	d->selector = xstrdup(selector);
	d->domain = xstrdup(domain);
	/* The key decoded once and handed to libopendkim as base64 DER, which
	 * the d2i_PrivateKey_bio() above recognises; libopendkim's own decode
	 * of the PEM if that does not sign. */
	static const char probe[] = "From: a@b.example\r\nSubject: probe\r\n\r\nprobe\r\n";
	struct buf sig = BUF_INIT;
	mh_err rc = MH_ERR_INVALID;
	if ((d->loaded = loaded_add(key, n))) {
		d->key = der_base64(d->loaded);
		rc = nl_dkim_sign(d, probe, sizeof probe - 1, &sig);
		if (rc) {
			sodium_memzero(d->key, strlen((char *) d->key));
			free(d->key);
			d->key = key;
			loaded_remove(d->loaded);
			d->loaded = NULL;
		} else {
			sodium_memzero(key, n);
			free(key);
		}
	}
	if (rc) {
		buf_reset(&sig);
		rc = nl_dkim_sign(d, probe, sizeof probe - 1, &sig);
	}
	buf_release(&sig);
	bool once = false;
	if (d->loaded) {
		pthread_mutex_lock(&loaded_lock);
		once = d->loaded->hits > 0;
		pthread_mutex_unlock(&loaded_lock);
	}
	if (!rc)
		log_info("DKIM key loaded", "selector=%s domain=%s decoded=%s", selector, domain,
		         once ? "once" : "per-message");
	if (rc) {
		snprintf(err, errlen, "libopendkim cannot sign with %s (an RSA private key in PEM?)", path);
		nl_dkim_free(d);
		return MH_ERR_INVALID;
	}
	*out = d;
	return MH_OK;
}

void
nl_dkim_free(struct nl_dkim *d)
{
	if (!d)
		return;
	dkim_close(d->lib);
	loaded_remove(d->loaded);
	sodium_memzero(d->key, strlen((char *) d->key));
	free(d->key);
	free(d->selector);
	free(d->domain);
	free(d);
}

mh_err
nl_dkim_sign(struct nl_dkim *d, const char *msg, size_t len, struct buf *sig)
{
	DKIM_STAT st;
	DKIM *dk = dkim_sign(d->lib, (const unsigned char *) "nl", NULL, d->key, (const unsigned char *) d->selector,
	                     (const unsigned char *) d->domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	                     DKIM_SIGN_RSASHA256, -1, &st);
	if (!dk)
		return MH_ERR_INVALID;
	mh_err rc = MH_OK;
	const char *p = msg, *end = msg + len;
	/* Each header with its folded lines, without the final CRLF. */
	while (p < end && !(end - p >= 2 && p[0] == '\r' && p[1] == '\n')) {
		const char *e = p;
		for (;;) {
			const char *crlf = memmem(e, (size_t) (end - e), "\r\n", 2);
			if (!crlf) {
				e = end;
				break;
			}
			e = crlf;
			if (crlf + 2 < end && (crlf[2] == ' ' || crlf[2] == '\t')) {
				e = crlf + 2;
				continue;
			}
			break;
		}
		if (dkim_header(dk, (u_char *) p, (size_t) (e - p)) != DKIM_STAT_OK) {
			rc = MH_ERR_INVALID;
			goto out;
		}
		p = e < end ? e + 2 : end;
	}
	if (dkim_eoh(dk) != DKIM_STAT_OK) {
		rc = MH_ERR_INVALID;
		goto out;
	}
	if (p < end)
		p += 2; /* the blank line */
	if ((p < end && dkim_body(dk, (u_char *) p, (size_t) (end - p)) != DKIM_STAT_OK) ||
	    dkim_eom(dk, NULL) != DKIM_STAT_OK) {
		rc = MH_ERR_INVALID;
		goto out;
	}
	u_char *hdr = NULL;
	size_t hlen = 0;
	static const char name[] = "DKIM-Signature: ";
	if (dkim_getsighdr_d(dk, sizeof name - 1, &hdr, &hlen) != DKIM_STAT_OK) {
		rc = MH_ERR_INVALID;
		goto out;
	}
	buf_puts(sig, name);
	/* libopendkim folds with bare LF: mail wants CRLF. */
	for (size_t i = 0; i < hlen; i++) {
		if (hdr[i] == '\n' && (i == 0 || hdr[i - 1] != '\r'))
			buf_putc(sig, '\r');
		buf_putc(sig, (char) hdr[i]);
	}
	buf_puts(sig, "\r\n");
	rc = buf_error(sig);
out:
	dkim_free(dk);
	return rc;
}

mh_err
nl_dkim_keygen(const char *path, int bits, struct buf *txt, char *err, size_t errlen)
{
	mh_err rc = MH_ERR_IO;
	EVP_PKEY *pkey = EVP_RSA_gen((unsigned) bits);
	unsigned char *der = NULL;
	FILE *f = NULL;
	if (!pkey) {
		snprintf(err, errlen, "cannot make an RSA key of %d bits", bits);
		return MH_ERR_IO;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		         errno == EEXIST ? "it exists (a key is never overwritten)" : strerror(errno));
		goto out;
	}
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	bool ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok) {
		snprintf(err, errlen, "cannot write %s", path);
		unlink(path);
		goto out;
	}
	int n = i2d_PUBKEY(pkey, &der);
	if (n <= 0) {
		snprintf(err, errlen, "cannot encode the public key");
		goto out;
	}
	size_t b64len = sodium_base64_ENCODED_LEN((size_t) n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(b64len);
	sodium_bin2base64(b64, b64len, der, (size_t) n, sodium_base64_VARIANT_ORIGINAL);
	buf_printf(txt, "v=DKIM1; k=rsa; p=%s", b64);
	free(b64);
	rc = buf_error(txt);
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return rc;
}
