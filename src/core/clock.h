/* clock.h: the one source of wall-clock time.
 *
 * Every date the product computes (sessions, renewals, reminders, meters,
 * mail headers) comes from clock_now(). Tests start it at a fixed instant
 * with MASTHEAD_CLOCK=2026-12-01T00:00:00Z: the clock then runs forward from
 * there at the real rate, so the same test gives the same answer on any day.
 * MASTHEAD_CLOCK_OFFSET=SECONDS instead adds a fixed number of seconds to the
 * real clock: processes given the same offset share one clock exactly (a
 * server and the commands a test runs beside it). */
#ifndef MH_CLOCK_H
#define MH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds since the epoch, UTC. */
int64_t clock_now(void);
/* Reads MASTHEAD_CLOCK (or MASTHEAD_CLOCK_OFFSET) once; returns false, and
 * leaves the real clock, when it is set but malformed. */
bool clock_init_from_env(void);
/* Starts the clock at t, running forward from now (tests). */
void clock_set(int64_t t);
/* True when the clock was moved away from the real one. */
bool clock_is_fixed(void);

#endif
