/* fault.h: fault points, for tests that must make the product fail where a
 * crash or a slow machine would. They exist only in a build made for tests
 * (make faults: BUILD-faults/masthead, compiled with -DMH_FAULTS); in every
 * other build they are constants the compiler removes, so a production
 * binary has no switch that makes it crash or stall.
 *
 * In a fault build, MASTHEAD_FAULTS lists the points that fire:
 * "crash-after-charge,password-delay-ms=1500". */
#ifndef MH_FAULT_H
#define MH_FAULT_H

#include <stdbool.h>

#ifdef MH_FAULTS
/* True when the point is listed. */
bool fault_hit(const char *name);
/* The point's value (name=N), or dflt when it is not listed. */
long fault_value(const char *name, long dflt);
#else
/* Constants: the names are not even compiled in. */
#define fault_hit(name)         (false)
#define fault_value(name, dflt) (dflt)
#endif

#endif
