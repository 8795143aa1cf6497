#include "core/arena.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

#define CHUNK_SIZE 8192
#define ALIGN      16

struct chunk {
	struct chunk *next;
	size_t used, size;
	_Alignas(ALIGN) unsigned char data[];
};

struct deferred {
	struct deferred *next;
	void (*fn)(void *);
	void *arg;
};

struct arena {
	struct chunk *head;
	struct deferred *defers;
};

/* Each thread keeps one chunk of the standard size from its last freed
 * arena (a request's arena then costs no trip through malloc), freed when
 * the thread ends. */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void
spare_init(void)
{
	pthread_key_create(&spare_key, free);
}

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c;
	pthread_once(&spare_once, spare_init);
	struct chunk *spare = size == CHUNK_SIZE ? pthread_getspecific(spare_key) : NULL;
	if (spare) {
		c = spare;
		pthread_setspecific(spare_key, NULL);
	} else {
		c = xmalloc(sizeof(struct chunk) + size);
	}
	c->size = size;
	c->used = 0;
	return c;
}

static void
chunk_free(struct chunk *c)
{
	pthread_once(&spare_once, spare_init);
	if (c->size == CHUNK_SIZE && !pthread_getspecific(spare_key))
		pthread_setspecific(spare_key, c);
	else
		free(c);
}

struct arena *
arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void
arena_free(struct arena *a)
{
	if (!a)
		return;
	for (struct deferred *d = a->defers; d; d = d->next)
		d->fn(d->arg);
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		chunk_free(c);
		c = n;
	}
	free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	n = (n + ALIGN - 1) & ~(size_t) (ALIGN - 1);
	struct chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = chunk_new(size);
		if (a->head && n > CHUNK_SIZE) {
			/* A big block goes behind the current chunk so its free space stays usable. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void *
arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	va_start(ap, fmt);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t) n + 1);
	vsnprintf(p, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return p;
}

char *
arena_concat(struct arena *a, ...)
{
	va_list ap;
	size_t n = 0;
	va_start(ap, a);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		n += strlen(s);
	va_end(ap);
	char *out = arena_alloc(a, n + 1), *p = out;
	va_start(ap, a);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
		size_t len = strlen(s);
		memcpy(p, s, len);
		p += len;
	}
	va_end(ap);
	*p = '\0';
	return out;
}

void
arena_defer(struct arena *a, void (*fn)(void *), void *arg)
{
	struct deferred *d = arena_alloc(a, sizeof *d);
	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
}
