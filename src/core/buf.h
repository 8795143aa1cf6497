/* buf.h: the one growable buffer, for HTML, JSON, SQL and headers.
 *
 * A buffer has a maximum size. Going past it sets a sticky error that is
 * checked once, at the end (buf_error), instead of after every append.
 * b->ptr is never NULL: an empty buffer points at a static "" and is
 * always NUL-terminated. buf_release() frees what the buffer holds;
 * buf_detach() hands the bytes to the caller, who frees them with free(). */
#ifndef MH_BUF_H
#define MH_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/slice.h"

#define BUF_DEFAULT_MAX ((size_t) 64 << 20)

struct buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
	mh_err err;
};

extern char buf_empty[];
#define BUF_INIT                                                                                                       \
	{                                                                                                              \
		buf_empty, 0, 0, BUF_DEFAULT_MAX, MH_OK                                                                \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Returns the bytes (NUL-terminated, never NULL) and resets b; free() them. */
char *buf_detach(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
/* Ensures room for n more bytes; false (and the sticky error) past max. */
bool buf_grow(struct buf *b, size_t n);

void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_add_slice(struct buf *b, struct slice s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Escapes & < > " ' for HTML text and attribute values. */
void buf_add_html(struct buf *b, const char *p, size_t n);
/* Escapes for a JSON string body (no surrounding quotes). */
void buf_add_json(struct buf *b, const char *p, size_t n);
/* Escapes for XML text (& < > " '). */
#define buf_add_xml buf_add_html
/* Percent-encodes everything outside the URL unreserved set. */
void buf_add_urlenc(struct buf *b, const char *p, size_t n);

static inline mh_err
buf_error(const struct buf *b)
{
	return b->err;
}

static inline struct slice
buf_slice(const struct buf *b)
{
	return (struct slice){ b->ptr, b->len };
}

#endif
