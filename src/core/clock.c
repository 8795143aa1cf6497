/* clock.c: wall-clock time with an optional fixed start for tests. */
#include "core/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/text.h"

/* Seconds to add to the real clock; 0 unless MASTHEAD_CLOCK or clock_set moved it. */
static _Atomic int64_t offset;
static atomic_bool fixed;

int64_t
clock_now(void)
{
	return (int64_t) time(NULL) + atomic_load_explicit(&offset, memory_order_relaxed);
}

void
clock_set(int64_t t)
{
	atomic_store(&offset, t - (int64_t) time(NULL));
	atomic_store(&fixed, true);
}

bool
clock_is_fixed(void)
{
	return atomic_load(&fixed);
}

bool
clock_init_from_env(void)
{
	const char *v = getenv("MASTHEAD_CLOCK");
	const char *off = getenv("MASTHEAD_CLOCK_OFFSET");
	int64_t t;

	if (v && *v) {
		if (!time_parse_iso8601(v, &t))
			return false;
		clock_set(t);
		return true;
	}
	if (off && *off) {
		char *end;
		errno = 0;
		long long o = strtoll(off, &end, 10);
		if (errno || *end || end == off)
			return false;
		atomic_store(&offset, (int64_t) o);
		atomic_store(&fixed, true);
	}
	return true;
}
