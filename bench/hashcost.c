/* hashcost.c: what one password check costs, for bench/run.
 *
 *     hashcost HASH PASSWORD [COUNT]
 *
 * Verifies PASSWORD against HASH (an argon2id string as masthead stores it
 * in members.password_hash, so the parameters are the server's own) COUNT
 * times on one thread and prints the milliseconds one verification takes.
 * Sign-in cannot go faster than cores / that time. */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: hashcost HASH PASSWORD [COUNT]\n");
		return 2;
	}
	long count = argc > 3 ? strtol(argv[3], NULL, 10) : 10;
	if (count < 1)
		count = 1;
	if (sodium_init() < 0)
		return 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < count; i++) {
		if (crypto_pwhash_str_verify(argv[1], argv[2], strlen(argv[2])) != 0) {
			fprintf(stderr, "hashcost: the password does not match the hash\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = ((double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6) / count;
	printf("%.2f\n", ms);
	return 0;
}
