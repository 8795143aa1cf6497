#include "core/linediff.h"

#include <string.h>

#include "core/banned.h"

struct lines {
	const char **v;
	size_t n;
};

static struct lines
split(struct arena *a, const char *s)
{
	struct lines l = { NULL, 0 };
	size_t count = 0, len = strlen(s);
	for (size_t i = 0; i < len; i++)
		count += s[i] == '\n';
	count += len && s[len - 1] != '\n';
	l.v = arena_alloc(a, (count ? count : 1) * sizeof *l.v);
	const char *p = s;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t) (nl - p) : strlen(p);
		char *line = arena_alloc(a, n + 1);
		memcpy(line, p, n);
		line[n] = '\0';
		l.v[l.n++] = line;
		p += n + (nl ? 1 : 0);
	}
	return l;
}

static void
push(struct linediff_line *out, size_t *n, enum linediff_op op, const char *text)
{
	out[*n].op = op;
	out[*n].text = text;
	(*n)++;
}

void
linediff(struct arena *a, const char *old, const char *new, size_t max_cells, struct linediff_line **out, size_t *n)
{
	struct lines x = split(a, old ? old : ""), y = split(a, new ? new : "");
	struct linediff_line *r = arena_alloc(a, (x.n + y.n + 1) * sizeof *r);
	size_t k = 0, pre = 0, suf = 0;
	while (pre < x.n && pre < y.n && !strcmp(x.v[pre], y.v[pre]))
		pre++;
	while (suf < x.n - pre && suf < y.n - pre && !strcmp(x.v[x.n - 1 - suf], y.v[y.n - 1 - suf]))
		suf++;
	for (size_t i = 0; i < pre; i++)
		push(r, &k, LINEDIFF_SAME, x.v[i]);
	size_t m = x.n - pre - suf, w = y.n - pre - suf;
	const char **xs = x.v + pre, **ys = y.v + pre;
	if (m && w && (m + 1) * (w + 1) <= max_cells) {
		/* len[i][j]: the longest common subsequence of xs[i..] and ys[j..]. */
		size_t cols = w + 1;
		unsigned *len = arena_alloc(a, (m + 1) * cols * sizeof *len);
		memset(len, 0, (m + 1) * cols * sizeof *len);
		for (size_t i = m; i-- > 0;)
			for (size_t j = w; j-- > 0;)
				len[i * cols + j] = !strcmp(xs[i], ys[j]) ? len[(i + 1) * cols + j + 1] + 1
				                    : len[(i + 1) * cols + j] >= len[i * cols + j + 1]
				                            ? len[(i + 1) * cols + j]
				                            : len[i * cols + j + 1];
		size_t i = 0, j = 0;
		while (i < m && j < w) {
			if (!strcmp(xs[i], ys[j])) {
				push(r, &k, LINEDIFF_SAME, xs[i]);
				i++, j++;
			} else if (len[(i + 1) * cols + j] >= len[i * cols + j + 1]) {
				push(r, &k, LINEDIFF_DEL, xs[i++]);
			} else {
				push(r, &k, LINEDIFF_ADD, ys[j++]);
			}
		}
		while (i < m)
			push(r, &k, LINEDIFF_DEL, xs[i++]);
		while (j < w)
			push(r, &k, LINEDIFF_ADD, ys[j++]);
	} else {
		for (size_t i = 0; i < m; i++)
			push(r, &k, LINEDIFF_DEL, xs[i]);
		for (size_t j = 0; j < w; j++)
			push(r, &k, LINEDIFF_ADD, ys[j]);
	}
	for (size_t i = x.n - suf; i < x.n; i++)
		push(r, &k, LINEDIFF_SAME, x.v[i]);
	*out = r;
	*n = k;
}
