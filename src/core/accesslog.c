/* accesslog.c: per-thread blocks handed to one writer thread.
 *
 * A thread's current block sits in an atomic pointer. To append, the thread
 * swaps NULL in, copies the line and puts the block back. The writer's
 * timer swaps NULL in too: if it gets the block, the thread (finding NULL)
 * starts another; if the thread holds it, the writer gets NULL and tries
 * again at the next tick. Neither ever waits for the other. Only handing a
 * full block over, or getting an empty one, takes the mutex: once per 64
 * KiB of lines, not once per request. */
#include "core/accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/banned.h"

struct block {
	struct block *next;
	size_t len;
	char data[ACCESSLOG_BLOCK];
};

/* One per thread that ever logged; freed by accesslog_stop(). */
struct tbuf {
	_Atomic(struct block *) cur;
	struct tbuf *next;
};

static struct {
	pthread_mutex_t lock; /* the lists below and the flags */
	pthread_cond_t wake;
	struct block *full, **full_tail; /* handed over, oldest first */
	struct block *spare;
	struct tbuf *threads;
	bool running, stopping;
	unsigned gen; /* which start a thread's tbuf belongs to */
	atomic_bool reopen;
	pthread_cond_t reopened_cond; /* the writer reopened: accesslog_reopen() returns */
	unsigned long reopened;       /* how many times it did, under lock */
	pthread_t writer;
	unsigned flush_ms;
	char *path; /* NULL: standard error */
	int fd;
} L = { .lock = PTHREAD_MUTEX_INITIALIZER, .reopened_cond = PTHREAD_COND_INITIALIZER };

static _Thread_local struct tbuf *mine;
static _Thread_local unsigned mine_gen;

static int
open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Writes to the log: standard error through log_write(), which keeps other
 * log lines whole beside these blocks. */
static void
out(const char *p, size_t n)
{
	if (!n)
		return;
	if (L.fd == STDERR_FILENO) {
		log_write(p, n);
		return;
	}
	while (n) {
		ssize_t w = write(L.fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk loses lines; the server goes on */
		p += w;
		n -= (size_t) w;
	}
}

static struct block *
block_get_locked(void)
{
	struct block *b = L.spare;
	if (b)
		L.spare = b->next;
	else
		b = xmalloc(sizeof *b);
	b->next = NULL;
	b->len = 0;
	return b;
}

static void
hand_over(struct block *b)
{
	pthread_mutex_lock(&L.lock);
	b->next = NULL;
	*L.full_tail = b;
	L.full_tail = &b->next;
	pthread_cond_signal(&L.wake);
	pthread_mutex_unlock(&L.lock);
}

void
accesslog_add(const char *line, size_t len)
{
	if (!L.running) {
		/* Not started (or stopped): no writer, write it now. */
		log_write(line, len);
		return;
	}
	struct tbuf *t = mine;
	if (!t || mine_gen != L.gen) {
		t = xcalloc(1, sizeof *t);
		pthread_mutex_lock(&L.lock);
		t->next = L.threads;
		L.threads = t;
		pthread_mutex_unlock(&L.lock);
		mine = t;
		mine_gen = L.gen;
	}
	if (len > ACCESSLOG_BLOCK)
		len = ACCESSLOG_BLOCK; /* cannot happen: paths are bounded by max-header */
	struct block *b = atomic_exchange(&t->cur, NULL);
	if (b && len > ACCESSLOG_BLOCK - b->len) {
		hand_over(b);
		b = NULL;
	}
	if (!b) {
		pthread_mutex_lock(&L.lock);
		b = block_get_locked();
		pthread_mutex_unlock(&L.lock);
	}
	memcpy(b->data + b->len, line, len);
	b->len += len;
	atomic_store(&t->cur, b);
}

/* Takes every thread's partial block that no thread holds right now, writes
 * it and gives it back (or keeps it spare when its thread started another). */
static void
sweep(void)
{
	pthread_mutex_lock(&L.lock);
	struct tbuf *threads = L.threads; /* the list only grows at its head */
	pthread_mutex_unlock(&L.lock);
	for (struct tbuf *t = threads; t; t = t->next) {
		if (!atomic_load(&t->cur))
			continue;
		struct block *b = atomic_exchange(&t->cur, NULL);
		if (!b)
			continue;
		out(b->data, b->len);
		b->len = 0;
		struct block *none = NULL;
		if (!atomic_compare_exchange_strong(&t->cur, &none, b)) {
			pthread_mutex_lock(&L.lock);
			b->next = L.spare;
			L.spare = b;
			pthread_mutex_unlock(&L.lock);
		}
	}
}

static void
reopen_now(void)
{
	if (!L.path)
		return;
	int fd = open_log(L.path);
	if (fd < 0) {
		log_error("cannot reopen the access log", "path=\"%s\" error=\"%s\"", L.path, strerror(errno));
		return; /* keep writing to the old file */
	}
	close(L.fd);
	L.fd = fd;
}

static void
after_ms(struct timespec *t, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long) (ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_nsec -= 1000000000;
		t->tv_sec++;
	}
}

static bool
reached(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *
writer_main(void *arg)
{
	(void) arg;
	struct timespec next;
	after_ms(&next, L.flush_ms);
	pthread_mutex_lock(&L.lock);
	for (;;) {
		while (!L.full && !L.stopping && !atomic_load(&L.reopen))
			if (pthread_cond_timedwait(&L.wake, &L.lock, &next) == ETIMEDOUT)
				break;
		struct block *full = L.full;
		L.full = NULL;
		L.full_tail = &L.full;
		bool stopping = L.stopping;
		pthread_mutex_unlock(&L.lock);

		/* In order: what was logged before a SIGHUP goes to the old file. */
		for (struct block *b = full; b; b = b->next)
			out(b->data, b->len);
		bool reopen = atomic_exchange(&L.reopen, false);
		if (reopen || stopping || reached(&next)) {
			sweep();
			after_ms(&next, L.flush_ms);
		}
		if (reopen)
			reopen_now();

		pthread_mutex_lock(&L.lock);
		if (reopen) {
			L.reopened++;
			pthread_cond_broadcast(&L.reopened_cond);
		}
		while (full) {
			struct block *b = full;
			full = b->next;
			b->next = L.spare;
			L.spare = b;
		}
		if (stopping && !L.full)
			break;
	}
	pthread_mutex_unlock(&L.lock);
	return NULL;
}

mh_err
accesslog_start(const char *path, unsigned flush_ms, char *err, size_t errlen)
{
	if (L.running) {
		snprintf(err, errlen, "the access log is already started");
		return MH_ERR_INVALID;
	}
	L.fd = STDERR_FILENO;
	L.path = NULL;
	if (path && *path) {
		int fd = open_log(path);
		if (fd < 0) {
			snprintf(err, errlen, "access-log-file: cannot open %s: %s", path, strerror(errno));
			return MH_ERR_IO;
		}
		L.fd = fd;
		L.path = xstrdup(path);
	}
	L.flush_ms = flush_ms ? flush_ms : 1000;
	L.full = NULL;
	L.full_tail = &L.full;
	L.stopping = false;
	atomic_store(&L.reopen, false);
	L.gen++;
	/* The flush timer runs on the monotonic clock: setting the date moves no flush. */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&L.wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&L.writer, NULL, writer_main, NULL)) {
		snprintf(err, errlen, "cannot start the access log's writer thread");
		pthread_cond_destroy(&L.wake);
		if (L.path)
			close(L.fd);
		free(L.path);
		L.path = NULL;
		return MH_ERR_IO;
	}
	L.running = true;
	return MH_OK;
}

void
accesslog_reopen(void)
{
	if (!L.running)
		return;
	/* Waits for the writer: a line logged after this returns goes to the
	 * new file (the writer sweeps every thread's buffer before it reopens). */
	pthread_mutex_lock(&L.lock);
	unsigned long want = L.reopened + 1;
	atomic_store(&L.reopen, true);
	pthread_cond_signal(&L.wake);
	while (L.reopened < want && L.running && !L.stopping)
		pthread_cond_wait(&L.reopened_cond, &L.lock);
	pthread_mutex_unlock(&L.lock);
}

void
accesslog_stop(void)
{
	if (!L.running)
		return;
	pthread_mutex_lock(&L.lock);
	L.stopping = true;
	pthread_cond_signal(&L.wake);
	pthread_mutex_unlock(&L.lock);
	pthread_join(L.writer, NULL);
	pthread_cond_destroy(&L.wake);
	L.running = false;
	/* Threads that logged are gone (the server has stopped); their blocks
	 * were written by the writer's last sweep. */
	while (L.threads) {
		struct tbuf *t = L.threads;
		L.threads = t->next;
		struct block *b = atomic_load(&t->cur);
		if (b) {
			out(b->data, b->len);
			free(b);
		}
		free(t);
	}
	while (L.spare) {
		struct block *b = L.spare;
		L.spare = b->next;
		free(b);
	}
	if (L.path)
		close(L.fd);
	free(L.path);
	L.path = NULL;
	L.fd = STDERR_FILENO;
}
