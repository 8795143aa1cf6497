/* fault.c: the fault points of a build made for tests (see fault.h). */
#include "core/fault.h"

#ifdef MH_FAULTS
#include <stdlib.h>
#include <string.h>

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
#else
/* Nothing here outside a fault build: fault.h's inline stubs answer. */
typedef int fault_unused;
#endif
