/* fault.c: the fault points of a build made for tests (see fault.h). */
#include "core/fault.h"

#ifdef MH_FAULTS
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
/* Every store call of the process since fault_arm_process, on any thread
 * and in any scope: store-kill-at=N dies of SIGKILL at the Nth (kill -9 at
 * a point a test chose), store-count prints how many there were. */
static struct fault_scope every;
static bool armed;

void
fault_scope_enter(struct fault_scope *sc)
{
	current = sc;
}

static void
report_count(void)
{
	log_info("fault: store calls", "count=%ld", __atomic_load_n(&every.count, __ATOMIC_SEQ_CST));
}

void
fault_arm_process(void)
{
	long nth = fault_value("store-fail-at", 0);
	if (fault_hit("store-count"))
		atexit(report_count);
	__atomic_store_n(&process_scope.count, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&process_scope.nth, nth, __ATOMIC_SEQ_CST);
	__atomic_store_n(&every.count, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&every.nth, fault_value("store-kill-at", 0), __ATOMIC_SEQ_CST);
	__atomic_store_n(&armed, true, __ATOMIC_SEQ_CST);
}

bool
fault_store_call(void)
{
	if (__atomic_load_n(&armed, __ATOMIC_SEQ_CST)) {
		long n = __atomic_add_fetch(&every.count, 1, __ATOMIC_SEQ_CST);
		if (n == __atomic_load_n(&every.nth, __ATOMIC_SEQ_CST)) {
			log_warn("fault: killed at a store call", "n=%ld", n);
			raise(SIGKILL);
		}
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
