/* workers.h: a fixed set of threads running jobs from a bounded queue.
 *
 * For work too slow for an HTTP thread (password hashing). The queue is
 * bounded so that overload is refused at once (the caller answers 503)
 * instead of piling up requests and memory. */
#ifndef MH_WORKERS_H
#define MH_WORKERS_H

#include <stdbool.h>

struct workers;

/* A job. cancelled is true when the pool stopped before the job started:
 * fn must then only release what it holds. */
typedef void (*workers_fn)(void *arg, bool cancelled);

/* Starts threads (at least one) with room for queue_max jobs waiting (not counting the
 * ones running). NULL when a thread cannot be started. */
struct workers *workers_new(unsigned threads, unsigned queue_max);
/* Takes a place in the queue: false when it is full or the pool stopped.
 * Each true is followed by exactly one workers_submit(). Two steps, so a
 * caller can get ready for the job's end (suspend a connection) knowing
 * the job will be accepted. */
bool workers_reserve(struct workers *w);
/* Queues fn(arg) into the place workers_reserve() took. */
void workers_submit(struct workers *w, workers_fn fn, void *arg);
/* Jobs still waiting run fn(arg, true); jobs running finish; the threads
 * end. Later workers_reserve() calls fail. Idempotent. */
void workers_stop(struct workers *w);
/* True once workers_stop() has begun (its jobs may still be finishing). */
bool workers_stopping(struct workers *w);
/* Stops the pool when still running, then frees it. NULL is fine. */
void workers_free(struct workers *w);

#endif
