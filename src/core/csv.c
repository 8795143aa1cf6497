#include "core/csv.h"

#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

void
csv_init(struct csv *c, const char *data, size_t len)
{
	c->p = data;
	c->end = data + len;
	c->line = 1;
	/* A UTF-8 byte order mark, as spreadsheet programs write. */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		c->p += 3;
}

/* Moves past a bad record: from its start to the end of its first line,
 * so a quote left open does not swallow the records after it. */
static void
skip_line(struct csv *c, const char *start, int line)
{
	c->p = start;
	c->line = line;
	while (c->p < c->end && *c->p != '\n')
		c->p++;
	if (c->p < c->end) {
		c->p++;
		c->line++;
	}
}

int
csv_next(struct csv *c, struct arena *a, char ***fields, size_t *n, int *line)
{
	/* Blank lines between records are skipped. */
	while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
		if (*c->p == '\n')
			c->line++;
		c->p++;
	}
	*n = 0;
	*line = c->line;
	if (c->p >= c->end)
		return 0;
	const char *start = c->p;
	char *out[CSV_MAX_FIELDS]; /* copied to the arena at the end, at its real size */
	struct buf f = BUF_INIT;
	for (;;) {
		buf_reset(&f);
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			bool closed = false;
			while (c->p < c->end) {
				char ch = *c->p++;
				if (ch == '"') {
					if (c->p < c->end && *c->p == '"') {
						buf_putc(&f, '"');
						c->p++;
						continue;
					}
					closed = true;
					break;
				}
				if (ch == '\n')
					c->line++;
				buf_putc(&f, ch);
			}
			if (!closed || (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')) {
				buf_release(&f);
				skip_line(c, start, *line);
				return -1;
			}
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
				buf_putc(&f, *c->p++);
		}
		if (*n == CSV_MAX_FIELDS || buf_error(&f)) {
			buf_release(&f);
			skip_line(c, start, *line);
			return -1;
		}
		out[(*n)++] = arena_strndup(a, f.ptr, f.len);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		break;
	}
	if (c->p < c->end && *c->p == '\r')
		c->p++;
	if (c->p < c->end && *c->p == '\n') {
		c->p++;
		c->line++;
	}
	buf_release(&f);
	*fields = arena_alloc(a, *n * sizeof **fields);
	memcpy(*fields, out, *n * sizeof *out);
	return 1;
}
