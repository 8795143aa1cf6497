/* fault.c: the fault points of a build made for tests (see fault.h). */
#include "core/fault.h"

#ifdef MH_FAULTS
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/banned.h"

/* The entry for name in MASTHEAD_FAULTS, pointing just past the name. */
static const char *
find(const char *name)
{
	const char *list = getenv("MASTHEAD_FAULTS");
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		if (!strncmp(p, name, n) && (p[n] == '\0' || p[n] == ',' || p[n] == '='))
			return p + n;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}

bool
fault_hit(const char *name)
{
	return find(name) != NULL;
}

long
fault_value(const char *name, long dflt)
{
	const char *p = find(name);
	return p && *p == '=' ? strtol(p + 1, NULL, 10) : dflt;
}

static struct fault_scope process_scope;
static _Thread_local struct fault_scope *current;
/* store-kill-at=N: the process's Nth store call, on any thread, in any
 * scope, is where it dies of SIGKILL (kill -9 at a point a test chose). */
static struct fault_scope kill_scope;

void
fault_scope_enter(struct fault_scope *sc)
{
	current = sc;
}

static void
report_count(void)
{
	log_info("fault: store calls", "count=%ld", __atomic_load_n(&process_scope.count, __ATOMIC_SEQ_CST));
}

void
fault_arm_process(void)
{
	long nth = fault_value("store-fail-at", 0);
	/* store-count: counts (N too large to fire) and says how many at exit. */
	if (fault_hit("store-count")) {
		nth = nth ? nth : LONG_MAX;
		atexit(report_count);
	}
	__atomic_store_n(&process_scope.count, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&process_scope.nth, nth, __ATOMIC_SEQ_CST);
	__atomic_store_n(&kill_scope.count, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&kill_scope.nth, fault_value("store-kill-at", 0), __ATOMIC_SEQ_CST);
}

bool
fault_store_call(void)
{
	long kill_at = __atomic_load_n(&kill_scope.nth, __ATOMIC_SEQ_CST);
	if (kill_at > 0 && __atomic_add_fetch(&kill_scope.count, 1, __ATOMIC_SEQ_CST) == kill_at) {
		log_warn("fault: killed at a store call", "n=%ld", kill_at);
		raise(SIGKILL);
	}
	struct fault_scope *sc = current ? current : &process_scope;
	long nth = __atomic_load_n(&sc->nth, __ATOMIC_SEQ_CST);
	if (nth <= 0)
		return false;
	if (__atomic_add_fetch(&sc->count, 1, __ATOMIC_SEQ_CST) != nth)
		return false;
	log_warn("fault: store call fails on purpose", "n=%ld", nth);
	return true;
}
#else
/* Nothing here outside a fault build: fault.h's inline stubs answer. */
typedef int fault_unused;
#endif
