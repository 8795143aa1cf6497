/* fuzz_csv.c: csv_next over members' exports (import-site).
 *
 * Invariants: every call moves the reader forward or ends it; a record has
 * 1 to CSV_MAX_FIELDS fields; line numbers never go down. */
#include <stdint.h>

#include "core/csv.h"
#include "fuzz.h"
#include "core/banned.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct csv c;
	csv_init(&c, (const char *) data, size);
	char **f;
	size_t n;
	int line, last = 0, rc;
	const char *before = c.p;
	while ((rc = csv_next(&c, a, &f, &n, &line)) != 0) {
		CHECK(c.p > before);
		CHECK(c.p <= c.end);
		CHECK(line >= last);
		if (rc == 1)
			CHECK(n >= 1 && n <= CSV_MAX_FIELDS);
		before = c.p;
		last = line;
	}
	arena_free(a);
	return 0;
}
