/* alloc.h: allocation wrappers. Allocation failure aborts the process,
 * so call sites carry no dead error branches. Memory from these is
 * released with free(). */
#ifndef MH_ALLOC_H
#define MH_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Allocates count * size bytes, aborting on overflow as on failure. */
void *xmallocarray(size_t count, size_t size);

#endif
