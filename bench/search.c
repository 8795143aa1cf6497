/* bench/search.c: search_query() latency on a data set, in process and on
 * one thread, for an anonymous reader and a subscriber (docs/search.md).
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -o build/bench/search bench/search.c build/libmasthead.a \
 *       $(pkg-config --libs PKGS) -lpthread -lm      (PKGS: the Makefile's list)
 *   build/bench/search DATA/masthead.db ROUNDS WORD...
 *
 * Each word is searched ROUNDS times per reader after one warm-up; the
 * figures are milliseconds of wall time per query: p50, p99 and the worst,
 * then the p50 and p99 of the thread's CPU time, which a machine busy with
 * other work inflates less. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "search/search.h"
#include "store/store.h"

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static double
cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s DB ROUNDS WORD...\n", argv[0]);
		return 2;
	}
	log_set_level(LOG_WARN);
	char url[1024], err[256];
	snprintf(url, sizeof url, "sqlite:%s", argv[1]);
	struct store *s;
	if (store_open(url, &s, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int rounds = atoi(argv[2]);
	if (rounds < 1)
		rounds = 1;
	double *t = calloc((size_t) rounds, sizeof *t), *cpu = calloc((size_t) rounds, sizeof *cpu);
	const struct reading_rules rules = { 0 };
	struct viewer anon = { .meter_remaining = -1 };
	struct viewer sub = { .signed_in = true, .member_id = 1, .status = SUB_ACTIVE, .meter_remaining = -1 };
	const struct {
		const char *name;
		const struct viewer *v;
	} readers[] = { { "anonymous", &anon }, { "subscriber", &sub } };
	int64_t now = (int64_t) time(NULL);
	for (int w = 3; w < argc; w++) {
		for (size_t k = 0; k < 2; k++) {
			size_t total = 0;
			for (int i = -1; i < rounds; i++) {
				struct arena *a = arena_new();
				struct search_results res;
				struct timespec t0;
				double c0 = cpu_ms();
				clock_gettime(CLOCK_MONOTONIC, &t0);
				if (search_query(s, a, argv[w], strlen(argv[w]), readers[k].v, &rules, now, 1, 10,
				                 &res)) {
					fprintf(stderr, "search failed: %s\n", store_errmsg(s));
					return 1;
				}
				if (i >= 0) {
					t[i] = ms_since(&t0);
					cpu[i] = cpu_ms() - c0;
				}
				total = res.total;
				arena_free(a);
			}
			qsort(t, (size_t) rounds, sizeof *t, cmp_double);
			qsort(cpu, (size_t) rounds, sizeof *cpu, cmp_double);
			printf("%-12s %-10s results %7zu  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  cpu50 %7.2f ms  "
			       "cpu99 %7.2f ms\n",
			       argv[w], readers[k].name, total, t[rounds / 2], t[(rounds * 99) / 100], t[rounds - 1],
			       cpu[rounds / 2], cpu[(rounds * 99) / 100]);
		}
	}
	free(t);
	free(cpu);
	store_close(s);
	return 0;
}
