/* workers.c: threads, a ring of waiting jobs, one mutex. */
#include "http/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/banned.h"

struct job {
	workers_fn fn;
	void *arg;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t more; /* a job was queued, or the pool is stopping */
	struct job *ring;
	unsigned cap, head, count; /* jobs waiting: ring[head], ... */
	unsigned reserved;         /* places taken, not yet submitted */
	bool stopping, joined;
	pthread_t *threads;
	unsigned n_threads;
};

static void *
worker_main(void *p)
{
	struct workers *w = p;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		/* A reserved place is a job on its way: wait for it even when stopping. */
		while (!w->count && !(w->stopping && !w->reserved))
			pthread_cond_wait(&w->more, &w->lock);
		if (!w->count) {
			/* Stopping, nothing left: wake the others to see it too. */
			pthread_cond_broadcast(&w->more);
			break;
		}
		struct job j = w->ring[w->head];
		w->head = (w->head + 1) % w->cap;
		w->count--;
		bool cancelled = w->stopping;
		pthread_mutex_unlock(&w->lock);
		j.fn(j.arg, cancelled);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct workers *
workers_new(unsigned threads, unsigned queue_max)
{
	struct workers *w = xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	if (!threads)
		threads = 1;
	w->cap = queue_max ? queue_max : 1;
	w->ring = xmallocarray(w->cap, sizeof *w->ring);
	w->threads = xmallocarray(threads, sizeof *w->threads);
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
			workers_free(w);
			return NULL;
		}
		w->n_threads++;
	}
	return w;
}

bool
workers_reserve(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	bool ok = !w->stopping && w->count + w->reserved < w->cap;
	if (ok)
		w->reserved++;
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void
workers_submit(struct workers *w, workers_fn fn, void *arg)
{
	pthread_mutex_lock(&w->lock);
	w->reserved--;
	w->ring[(w->head + w->count) % w->cap] = (struct job){ fn, arg };
	w->count++;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
}

void
workers_stop(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	bool joined = w->joined;
	w->joined = true;
	pthread_cond_broadcast(&w->more);
	pthread_mutex_unlock(&w->lock);
	if (joined)
		return;
	for (unsigned i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
}

bool
workers_stopping(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	bool stopping = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return stopping;
}

void
workers_free(struct workers *w)
{
	if (!w)
		return;
	workers_stop(w);
	pthread_cond_destroy(&w->more);
	pthread_mutex_destroy(&w->lock);
	free(w->ring);
	free(w->threads);
	free(w);
}
