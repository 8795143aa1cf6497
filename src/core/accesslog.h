/* accesslog.h: the access log, written the way nginx's `buffer=` writes it.
 *
 * Each thread appends its lines to a block of its own (64 KiB); a full block
 * goes to one writer thread, which also takes every thread's partial block
 * once a second, so a line waits at most about a second. Appending takes no
 * lock and makes no system call: two atomic exchanges and a copy. Blocks
 * hold whole lines, and the writer writes a block with one write(), so lines
 * from different threads never interleave.
 *
 * accesslog_stop() writes everything still buffered; accesslog_reopen()
 * (SIGHUP) makes the writer reopen the file, for logrotate. */
#ifndef MH_ACCESSLOG_H
#define MH_ACCESSLOG_H

#include <stddef.h>

#include "core/err.h"

#define ACCESSLOG_BLOCK ((size_t) 64 << 10)

/* Starts the writer. path: the file lines are appended to (created 0640
 * when missing); NULL or "": standard error. flush_ms: the longest a line
 * waits in a buffer (0: 1000). */
mh_err accesslog_start(const char *path, unsigned flush_ms, char *err, size_t errlen);
/* Appends one line (len bytes ending in '\n') from the calling thread.
 * Before accesslog_start() or after accesslog_stop(), writes it at once. */
void accesslog_add(const char *line, size_t len);
/* The writer writes what is buffered to the old file, then reopens it
 * (SIGHUP); returns once it has, so what is logged afterwards goes to the
 * new one. */
void accesslog_reopen(void);
/* Writes every buffered line, stops the writer and closes the file. Call
 * it once no thread appends any more. */
void accesslog_stop(void);

#endif
