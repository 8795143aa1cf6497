/* linediff.h: a line-based diff (longest common subsequence), for showing
 * what changed between two versions of a text. */
#ifndef MH_LINEDIFF_H
#define MH_LINEDIFF_H

#include <stddef.h>

#include "core/arena.h"

enum linediff_op { LINEDIFF_SAME, LINEDIFF_DEL, LINEDIFF_ADD };

struct linediff_line {
	enum linediff_op op;
	const char *text; /* the line without its newline, NUL-terminated, in the arena */
};

/* The lines of old and new in order, each kept, deleted or added, so that
 * the kept and deleted ones spell old and the kept and added ones spell new,
 * with as few changes as possible. The common start and end are trimmed
 * before the quadratic part; when what is left has more than max_cells
 * (lines of old times lines of new), the middle is given as all deleted
 * then all added instead (correct, not minimal). Allocated from a. */
void linediff(struct arena *a, const char *old, const char *new, size_t max_cells, struct linediff_line **out,
              size_t *n);

#endif
