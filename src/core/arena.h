/* arena.h: a region allocator, one per request. Everything allocated from
 * an arena is freed at once by arena_free(); nothing inside is freed alone. */
#ifndef MH_ARENA_H
#define MH_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
/* Frees every allocation and the arena itself. NULL is fine. */
void arena_free(struct arena *a);
/* Memory aligned for any type; aborts on failure like xmalloc. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The strings up to the NULL, one after the other: arena_concat(a, x, "|", y, NULL). */
char *arena_concat(struct arena *a, ...) __attribute__((sentinel));
/* Runs fn(arg) when the arena is freed: hands foreign resources to its lifetime. */
void arena_defer(struct arena *a, void (*fn)(void *), void *arg);

#endif
