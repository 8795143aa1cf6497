#include "core/epochs.h"

#include "core/banned.h"

static uint32_t
slot_of(int64_t key)
{
	/* Fibonacci hashing: consecutive ids spread over the slots. */
	uint64_t h = (uint64_t) key * UINT64_C(0x9E3779B97F4A7C15);
	return (uint32_t) (h >> 48) & (EPOCHS_SLOTS - 1);
}

uint64_t
epochs_mark(const struct epochs *e)
{
	return __atomic_load_n(&e->applied, __ATOMIC_ACQUIRE);
}

void
epochs_change(struct epochs *e, int64_t key)
{
	uint64_t n = __atomic_load_n(&e->applied, __ATOMIC_RELAXED) + 1;
	/* The slot moves before the counter does: a reader that sees the new
	 * slot with an older mark calls its value stale, which is safe. */
	__atomic_store_n(&e->slot[slot_of(key)], n, __ATOMIC_RELEASE);
	__atomic_store_n(&e->applied, n, __ATOMIC_RELEASE);
}

void
epochs_flush(struct epochs *e)
{
	uint64_t n = __atomic_load_n(&e->applied, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&e->flushed, n, __ATOMIC_RELEASE);
	__atomic_store_n(&e->applied, n, __ATOMIC_RELEASE);
}

bool
epochs_fresh(const struct epochs *e, int64_t key, uint64_t mark)
{
	return __atomic_load_n(&e->flushed, __ATOMIC_ACQUIRE) <= mark &&
	       __atomic_load_n(&e->slot[slot_of(key)], __ATOMIC_ACQUIRE) <= mark;
}
