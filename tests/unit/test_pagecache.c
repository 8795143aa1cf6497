/* The in-memory cache under pages, skeletons and sessions: versions,
 * lifetimes, its four ways, the byte budget and references. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "core/vcache.h"

static bool
has(struct vcache *c, const char *key, int64_t version, const char *want)
{
	struct vc_value *v = vcache_get(c, key, version, 60);
	if (!v)
		return false;
	bool same = v->len == strlen(want) && memcmp(v->data, want, v->len) == 0;
	vcache_unref(v);
	return same;
}

static void
test_versions_and_lifetime(void **state)
{
	(void) state;
	struct vcache *c = vcache_new(64, 1 << 20);
	vcache_put(c, "/a", 7, "alpha", 5);
	assert_true(has(c, "/a", 7, "alpha"));
	assert_false(has(c, "/a", 8, "alpha")); /* the version moved */
	assert_false(has(c, "/b", 7, "alpha"));
	assert_null(vcache_get(c, "/a", 7, 0)); /* older than a ttl of 0 */
	vcache_put(c, "/a", 8, "beta", 4);      /* the same key, replaced */
	assert_true(has(c, "/a", 8, "beta"));
	assert_false(has(c, "/a", 7, "alpha"));
	vcache_free(c);
}

static void
test_four_ways(void **state)
{
	(void) state;
	/* One bucket of four: four keys live side by side, a fifth takes the
	 * entry of another version first, then the oldest. */
	struct vcache *c = vcache_new(4, 1 << 20);
	vcache_put(c, "k1", 1, "1", 1);
	vcache_put(c, "k2", 2, "2", 1);
	vcache_put(c, "k3", 2, "3", 1);
	vcache_put(c, "k4", 2, "4", 1);
	assert_true(has(c, "k1", 1, "1") && has(c, "k2", 2, "2") && has(c, "k3", 2, "3") && has(c, "k4", 2, "4"));
	vcache_put(c, "k5", 2, "5", 1);
	assert_false(has(c, "k1", 1, "1"));
	assert_true(has(c, "k2", 2, "2") && has(c, "k3", 2, "3") && has(c, "k4", 2, "4") && has(c, "k5", 2, "5"));
	vcache_put(c, "k6", 2, "6", 1);
	assert_true(has(c, "k6", 2, "6"));
	int left = has(c, "k2", 2, "2") + has(c, "k3", 2, "3") + has(c, "k4", 2, "4") + has(c, "k5", 2, "5");
	assert_int_equal(left, 3);
	vcache_free(c);
}

static void
test_budget(void **state)
{
	(void) state;
	struct vcache *c = vcache_new(64, 10);
	vcache_put(c, "a", 1, "12345678", 8);
	vcache_put(c, "b", 1, "12345678", 8); /* would hold 16 bytes: refused */
	assert_true(has(c, "a", 1, "12345678"));
	assert_false(has(c, "b", 1, "12345678"));
	vcache_put(c, "a", 1, "1234567890", 10); /* replacing frees the old bytes */
	assert_true(has(c, "a", 1, "1234567890"));
	vcache_put(c, "c", 1, "12345678901", 11); /* larger than the whole budget */
	assert_false(has(c, "c", 1, "12345678901"));
	vcache_free(c);
}

static void
test_a_reader_keeps_its_value(void **state)
{
	(void) state;
	struct vcache *c = vcache_new(64, 1 << 20);
	vcache_put(c, "k", 1, "old", 3);
	struct vc_value *v = vcache_get(c, "k", 1, 60);
	assert_non_null(v);
	vcache_put(c, "k", 2, "new", 3);
	vcache_free(c); /* the table is gone; the reader's reference is not */
	assert_int_equal(v->len, 3);
	assert_memory_equal(v->data, "old", 3);
	vcache_unref(v);
}

/* A clear (the listener reconnected) lets every value go, gives the
 * budget back, and leaves a value a reader holds alive until it drops it. */
static void
test_clear(void **state)
{
	(void) state;
	struct vcache *c = vcache_new(64, 64);
	char key[16];
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof key, "/k%d", i);
		vcache_put(c, key, 1, "12345678", 8);
	}
	assert_true(has(c, "/k0", 1, "12345678"));
	struct vc_value *held = vcache_get(c, "/k1", 1, 60);
	assert_non_null(held);
	vcache_clear(c);
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof key, "/k%d", i);
		assert_null(vcache_get(c, key, 1, 60));
	}
	assert_memory_equal(held->data, "12345678", 8);
	vcache_unref(held);
	/* The whole budget is free again: eight new values fit. */
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof key, "/n%d", i);
		vcache_put(c, key, 2, "abcdefgh", 8);
	}
	assert_true(has(c, "/n7", 2, "abcdefgh"));
	vcache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_and_lifetime),
		cmocka_unit_test(test_four_ways),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_a_reader_keeps_its_value),
		cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
