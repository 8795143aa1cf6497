/* form.c: form bodies: application/x-www-form-urlencoded here, and
 * multipart/form-data (multipart.c) for uploads. */
#include <string.h>
#include <strings.h>

#include "core/text.h"
#include "http/http.h"
#include "core/banned.h"

#define FORM_MAX_FIELDS 64
#define FORM_MAX_FILES  8

/* Decodes one name or value; NULL when it is not well-formed text. */
static const char *
decode(struct arena *a, const char *p, size_t n)
{
	char *out = arena_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '+') {
			out[o++] = ' ';
		} else if (p[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = hex_digit(p[i + 1]), lo = hex_digit(p[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			out[o++] = (char) (hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = p[i];
		}
	}
	out[o] = '\0';
	if (!utf8_valid(out, o, NULL))
		return NULL;
	return out;
}

size_t
http_form_parse(struct arena *a, const char *body, size_t len, struct http_field *out, size_t max)
{
	size_t n = 0;
	const char *p = body, *end = body + len;
	while (p < end && n < max) {
		const char *amp = memchr(p, '&', (size_t) (end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t) (stop - p));
		const char *name = decode(a, p, (size_t) ((eq ? eq : stop) - p));
		const char *value = eq ? decode(a, eq + 1, (size_t) (stop - eq - 1)) : "";
		if (name && value && name[0]) {
			out[n].name = name;
			out[n].value = value;
			n++;
		}
		p = stop + 1;
	}
	return n;
}

static void
parse(struct http_req *r)
{
	r->form_parsed = true;
	const char *ct = http_header(r, "Content-Type");
	if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
		r->form = arena_alloc(r->arena, FORM_MAX_FIELDS * sizeof *r->form);
		r->files = arena_alloc(r->arena, FORM_MAX_FILES * sizeof *r->files);
		if (http_multipart_parse(r->arena, ct, r->body.ptr ? r->body.ptr : "", r->body.len, r->form,
		                         FORM_MAX_FIELDS, &r->n_form, r->files, FORM_MAX_FILES, &r->n_files)) {
			r->n_form = r->n_files = 0;
			r->form_bad = true;
		}
		return;
	}
	if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return;
	r->form = arena_alloc(r->arena, FORM_MAX_FIELDS * sizeof *r->form);
	r->n_form = r->body.len ? http_form_parse(r->arena, r->body.ptr, r->body.len, r->form, FORM_MAX_FIELDS) : 0;
}

const char *
http_form(struct http_req *r, const char *name)
{
	if (!r->form_parsed)
		parse(r);
	for (size_t i = 0; i < r->n_form; i++)
		if (strcmp(r->form[i].name, name) == 0)
			return r->form[i].value;
	return NULL;
}

const struct http_file *
http_file(struct http_req *r, const char *name)
{
	if (!r->form_parsed)
		parse(r);
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return &r->files[i];
	return NULL;
}

bool
http_form_malformed(struct http_req *r)
{
	if (!r->form_parsed)
		parse(r);
	return r->form_bad;
}
