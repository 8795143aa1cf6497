/* The defer threads' pool: every job runs once, a full queue refuses,
 * stopping cancels what waits and finishes what runs. */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "http/workers.h"

/* A gate jobs wait at, so a test decides when they finish. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int started;

struct rec {
	atomic_int runs, cancels;
	bool wait_at_gate;
};

static void
job(void *arg, bool cancelled)
{
	struct rec *r = arg;
	if (cancelled) {
		atomic_fetch_add(&r->cancels, 1);
		return;
	}
	atomic_fetch_add(&started, 1);
	if (r->wait_at_gate) {
		pthread_mutex_lock(&gate_lock);
		while (!gate_open)
			pthread_cond_wait(&gate_cond, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
	}
	atomic_fetch_add(&r->runs, 1);
}

static void
gate(bool open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void *
stopper(void *w)
{
	workers_stop(w);
	return NULL;
}

static void
wait_started(int n)
{
	for (int i = 0; i < 5000 && atomic_load(&started) < n; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&started), n);
}

static void
test_every_job_runs_once(void **state)
{
	(void) state;
	struct workers *w = workers_new(3, 200);
	assert_non_null(w);
	struct rec recs[200];
	for (int i = 0; i < 200; i++) {
		atomic_init(&recs[i].runs, 0);
		atomic_init(&recs[i].cancels, 0);
		recs[i].wait_at_gate = false;
		assert_true(workers_reserve(w));
		workers_submit(w, job, &recs[i]);
	}
	/* Stopping lets nothing started be lost; the rest are cancelled, once each. */
	workers_free(w);
	for (int i = 0; i < 200; i++)
		assert_int_equal(atomic_load(&recs[i].runs) + atomic_load(&recs[i].cancels), 1);
}

static void
test_full_queue_refuses_and_stop_cancels(void **state)
{
	(void) state;
	atomic_store(&started, 0);
	gate(false);
	struct workers *w = workers_new(1, 2);
	struct rec busy = { .wait_at_gate = true },
	           waiting[2] = { { .wait_at_gate = false }, { .wait_at_gate = false } };
	assert_true(workers_reserve(w));
	workers_submit(w, job, &busy);
	wait_started(1); /* the only thread is busy: the next two wait */
	for (int i = 0; i < 2; i++) {
		assert_true(workers_reserve(w));
		workers_submit(w, job, &waiting[i]);
	}
	/* Two waiting fill the queue; a reservation counts like a job. */
	assert_false(workers_reserve(w));

	/* Stop while one job runs and two wait: the running one finishes, the
	 * waiting ones are cancelled, and later reservations fail. */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stopper, w), 0);
	/* The busy job finishes only once the stop has begun, however slowly
	 * the stopper thread gets going. */
	while (!workers_stopping(w))
		usleep(1000);
	gate(true);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&busy.runs), 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(atomic_load(&waiting[i].runs), 0);
		assert_int_equal(atomic_load(&waiting[i].cancels), 1);
	}
	assert_false(workers_reserve(w));
	workers_free(w);
}

static void
test_reserved_place_is_honoured_while_stopping(void **state)
{
	(void) state;
	struct workers *w = workers_new(2, 4);
	struct rec r = { .wait_at_gate = false };
	assert_true(workers_reserve(w));
	/* The stop has to wait for the reserved job and cancel it, not lose it. */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stopper, w), 0);
	while (!workers_stopping(w))
		usleep(1000);
	workers_submit(w, job, &r);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&r.runs), 0);
	assert_int_equal(atomic_load(&r.cancels), 1);
	workers_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_job_runs_once),
		cmocka_unit_test(test_full_queue_refuses_and_stop_cancels),
		cmocka_unit_test(test_reserved_place_is_honoured_while_stopping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
