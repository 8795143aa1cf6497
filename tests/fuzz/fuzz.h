/* fuzz.h: what every fuzz target shares: libFuzzer's entry point and CHECK,
 * which aborts (so libFuzzer and the replay runner both see a crash) with
 * the invariant that failed. */
#ifndef MH_FUZZ_H
#define MH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                   \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

#endif
