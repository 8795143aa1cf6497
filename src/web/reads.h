/* reads.h: "Most read this week": the server counts each article page it
 * serves (from the page cache too), in memory, by slug; a thread adds the
 * counts to the store's hourly totals every flush interval and at stop.
 * No cookie, no third party, nothing about the reader is kept.
 *
 * Counting takes one mutex and a probe of a fixed table; a table that
 * fills before the next flush drops further slugs (counted in
 * reads_dropped), so a flood of made-up slugs costs a bounded amount of
 * memory. Unknown slugs are dropped by the store. A node that crashes loses
 * at most one interval's counts: popularity, not money. */
#ifndef MH_READS_H
#define MH_READS_H

#include <stdint.h>

struct store;
struct reads;

/* Starts the flusher; flush_seconds 0 counts nothing (and starts nothing). */
struct reads *reads_start(struct store *s, long flush_seconds);
/* One read of the article at slug (a route parameter: bounded by the router). */
void reads_count(struct reads *r, const char *slug);
/* Writes what is counted and stops; NULL is fine. */
void reads_stop(struct reads *r);
/* Slugs not counted because the table was full. */
uint64_t reads_dropped(struct reads *r);

/* The hour a time falls in, as the store keeps it. */
static inline int64_t
reads_hour(int64_t t)
{
	return t / 3600;
}

#endif
