/* fault.h: fault points, for tests that must make the product fail where a
 * crash or a slow machine would. They exist only in a build made for tests
 * (make faults: BUILD-faults/masthead, compiled with -DMH_FAULTS); in every
 * other build they are constants the compiler removes, so a production
 * binary has no switch that makes it crash or stall.
 *
 * In a fault build, MASTHEAD_FAULTS lists the points that fire:
 * "crash-after-charge,password-delay-ms=1500".
 *
 * The store's Nth call (every statement run, BEGIN, COMMIT) fails on
 * purpose, in the spirit of SQLite's and curl's fault tests, within a
 * scope: a command's whole run after its store is open and migrated
 * (store-fail-at=N in MASTHEAD_FAULTS, armed by fault_arm_process), or
 * one HTTP request (its Masthead-Fault-Store-Nth header; server.c enters
 * the request's scope on every thread that works for it). Threads outside
 * any scope (a server's scheduler and outbox sender) never count.
 *
 * store-kill-at=N in MASTHEAD_FAULTS kills the process (SIGKILL, as kill
 * -9 would) at its Nth store call since fault_arm_process, whichever
 * thread makes it: a server's requests, scheduler and outbox sender alike. */
#ifndef MH_FAULT_H
#define MH_FAULT_H

#include <stdbool.h>

#ifdef MH_FAULTS
/* True when the point is listed. */
bool fault_hit(const char *name);
/* The point's value (name=N), or dflt when it is not listed. */
long fault_value(const char *name, long dflt);

/* Store calls counted against one N; owned by whoever enters it. */
struct fault_scope {
	long nth;   /* the call that fails; 0: none */
	long count; /* calls so far (atomic) */
};
/* The calling thread counts its store calls against sc (NULL: the
 * process's scope again) until it enters another. */
void fault_scope_enter(struct fault_scope *sc);
/* Arms the process's scope with store-fail-at=N, counting from 0. */
void fault_arm_process(void);
/* Counts one store call of the calling thread's scope: true when it is
 * the one that must fail (logged, so tests see that it fired). */
bool fault_store_call(void);
#else
/* Constants: the names are not even compiled in. */
#define fault_hit(name)         (false)
#define fault_value(name, dflt) (dflt)
#define fault_arm_process()     ((void) 0)
#define fault_scope_enter(sc)   ((void) 0)
#define fault_store_call()      (false)
#endif

#endif
