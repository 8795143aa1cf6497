/* reads.c: the in-memory read counts and their flusher (reads.h). */
#include "web/reads.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "content/slug.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "core/banned.h"

/* Distinct slugs one interval may count: far more than a site publishes in
 * a week; a power of two for the probe. */
#define READS_SLOTS 4096
/* Hours kept in the store. */
#define READS_KEEP_HOURS (30 * 24)

struct slot {
	char slug[SLUG_MAX + 1];
	int64_t reads; /* 0: empty */
};

struct reads {
	struct store *store;
	long interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct slot *slots; /* READS_SLOTS, under lock */
	size_t used;
	uint64_t dropped;
};

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

void
reads_count(struct reads *r, const char *slug)
{
	size_t len = strlen(slug);
	if (!r || len == 0 || len > SLUG_MAX)
		return;
	pthread_mutex_lock(&r->lock);
	for (uint32_t i = hash(slug), k = 0; k < READS_SLOTS; i++, k++) {
		struct slot *s = &r->slots[i & (READS_SLOTS - 1)];
		if (s->reads && strcmp(s->slug, slug) == 0) {
			s->reads++;
			break;
		}
		if (!s->reads) {
			/* Keep a quarter free: probes stay short. */
			if (r->used >= READS_SLOTS - READS_SLOTS / 4) {
				r->dropped++;
				break;
			}
			memcpy(s->slug, slug, len + 1);
			s->reads = 1;
			r->used++;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* Swaps the table for an empty one and writes what it held. */
static void
flush(struct reads *r)
{
	struct slot *fresh = xcalloc(READS_SLOTS, sizeof *fresh);
	pthread_mutex_lock(&r->lock);
	struct slot *full = r->slots;
	size_t n = r->used;
	r->slots = fresh;
	r->used = 0;
	pthread_mutex_unlock(&r->lock);
	if (n) {
		struct read_count *c = xmallocarray(n, sizeof *c);
		size_t k = 0;
		for (size_t i = 0; i < READS_SLOTS && k < n; i++)
			if (full[i].reads)
				c[k++] = (struct read_count){ full[i].slug, full[i].reads };
		int64_t hour = reads_hour(clock_now());
		if (store_reads_add(r->store, c, k, hour, hour - READS_KEEP_HOURS))
			log_error("cannot record read counts", "articles=%zu error=\"%s\"", k, store_errmsg(r->store));
		free(c);
		store_release(r->store);
	}
	free(full);
}

static void *
flusher(void *arg)
{
	struct reads *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += r->interval;
		while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		flush(r);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	/* Stopped: what was counted since the last write, also when the stop
	 * came before this thread first ran. */
	flush(r);
	return NULL;
}

struct reads *
reads_start(struct store *s, long flush_seconds)
{
	if (flush_seconds <= 0)
		return NULL;
	struct reads *r = xcalloc(1, sizeof *r);
	r->store = s;
	r->interval = flush_seconds;
	r->slots = xcalloc(READS_SLOTS, sizeof *r->slots);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	if (pthread_create(&r->thread, NULL, flusher, r) != 0) {
		log_error("cannot start the read counter", "%s", "");
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->wake);
		free(r->slots);
		free(r);
		return NULL;
	}
	return r;
}

void
reads_stop(struct reads *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL); /* its last flush wrote everything */
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r->slots);
	free(r);
}

uint64_t
reads_dropped(struct reads *r)
{
	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	uint64_t d = r->dropped;
	pthread_mutex_unlock(&r->lock);
	return d;
}
