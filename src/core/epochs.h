/* epochs.h: which keys changed since a reader looked, with no lock on the
 * reading side.
 *
 * One writer applies changes in order; each takes the next number of a
 * counter, and the key's slot (one of EPOCHS_SLOTS, by a hash of the key)
 * keeps the number of its last change. A value read from the source of
 * truth after epochs_mark() returned m is still current while
 * epochs_fresh(e, key, m) holds: no change to that key (or to a key sharing
 * its slot, which only costs a needless reload) and no flush was applied
 * after m. */
#ifndef MH_EPOCHS_H
#define MH_EPOCHS_H

#include <stdbool.h>
#include <stdint.h>

#define EPOCHS_SLOTS 65536

struct epochs {
	uint64_t applied; /* the number of the last change or flush applied */
	uint64_t flushed; /* the number of the last flush */
	uint64_t slot[EPOCHS_SLOTS];
};

/* Where the reader stands: take it before reading the source of truth. */
uint64_t epochs_mark(const struct epochs *e);

/* The writer (one at a time): key changed; everything changed. */
void epochs_change(struct epochs *e, int64_t key);
void epochs_flush(struct epochs *e);

/* Whether a value of key read after mark is still current. */
bool epochs_fresh(const struct epochs *e, int64_t key, uint64_t mark);

#endif
