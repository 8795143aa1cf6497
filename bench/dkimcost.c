/* dkimcost.c: what one DKIM signature costs, for bench/newsletter.
 *
 *     dkimcost KEY.pem MESSAGE.eml [COUNT]
 *
 * Signs MESSAGE (a newsletter message as masthead writes it, CRLF lines)
 * COUNT times on one thread through nl_dkim_sign(), the send's own path
 * through libopendkim, and prints the CPU microseconds one signature
 * takes. Beside it, the floor: one RSA signature of a SHA-256 digest with
 * the key decoded once, straight through libcrypto. CPU time, not wall
 * time, so a busy machine changes the figures little. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/buf.h"
#include "newsletter/newsletter.h"

static double
cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 20;
	char *p = malloc(cap);
	*len = p ? fread(p, 1, cap, f) : 0;
	fclose(f);
	return p;
}

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: dkimcost KEY.pem MESSAGE.eml [COUNT]\n");
		return 2;
	}
	long count = argc > 3 ? strtol(argv[3], NULL, 10) : 1000;
	if (count < 1)
		count = 1;
	size_t len;
	char *msg = slurp(argv[2], &len);
	if (!msg || !len) {
		fprintf(stderr, "dkimcost: cannot read %s\n", argv[2]);
		return 1;
	}
	/* A message masthead wrote is signed already: sign what follows. */
	char *m = msg;
	while (!strncmp(m, "DKIM-Signature:", 15) || ((*m == ' ' || *m == '\t') && m != msg)) {
		char *nl = strstr(m, "\r\n");
		if (!nl)
			break;
		m = nl + 2;
	}
	len -= (size_t) (m - msg);

	char err[512];
	struct nl_dkim *d;
	if (nl_dkim_open(argv[1], "bench", "bench.example", &d, err, sizeof err)) {
		fprintf(stderr, "dkimcost: %s\n", err);
		return 1;
	}
	struct buf sig = BUF_INIT;
	double t0 = cpu_s();
	for (long i = 0; i < count; i++) {
		buf_reset(&sig);
		if (nl_dkim_sign(d, m, len, &sig)) {
			fprintf(stderr, "dkimcost: nl_dkim_sign failed\n");
			return 1;
		}
	}
	double per_msg = (cpu_s() - t0) / (double) count;
	buf_release(&sig);
	nl_dkim_free(d);

	FILE *f = fopen(argv[1], "rb");
	EVP_PKEY *pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!pkey) {
		fprintf(stderr, "dkimcost: libcrypto cannot read %s\n", argv[1]);
		return 1;
	}
	unsigned char out[1024];
	size_t outlen;
	t0 = cpu_s();
	for (long i = 0; i < count; i++) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		outlen = sizeof out;
		if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
		    EVP_DigestSign(ctx, out, &outlen, (const unsigned char *) m, 600) != 1) {
			fprintf(stderr, "dkimcost: libcrypto cannot sign\n");
			return 1;
		}
		EVP_MD_CTX_free(ctx);
	}
	double floor = (cpu_s() - t0) / (double) count;
	EVP_PKEY_free(pkey);
	printf("nl_dkim_sign: %.0f us CPU a message (%ld signatures, one thread)\n", per_msg * 1e6, count);
	printf("RSA signature, key decoded once: %.0f us CPU\n", floor * 1e6);
	free(msg);
	return 0;
}
