/* multipart.c: multipart/form-data bodies (RFC 7578 over RFC 2046 5.1.1),
 * for uploads. The body is already whole in memory (the route's body limit
 * bounds it), so the parser walks it with slices and copies nothing but
 * names: file data points into the body.
 *
 * What is accepted: an optional preamble, parts separated by CRLF "--"
 * boundary, each with header lines, a blank line and its content, and the
 * closing "--" boundary "--"; an epilogue after it is ignored. Each part
 * needs a Content-Disposition of form-data with a name. Anything else (a
 * missing close, a header without a colon, headers beyond their bounds)
 * makes the whole body malformed: the handler then says so, and nothing of
 * it is used. */
#include <string.h>
#include <strings.h>

#include "core/text.h"
#include "http/http.h"
#include "core/banned.h"

#define BOUNDARY_MAX  70   /* RFC 2046: 1 to 70 characters */
#define HEADERS_MAX   4096 /* one part's header block */
#define NAME_MAX_LEN  256  /* a field's name or a file's name */
#define CTYPE_MAX_LEN 256

/* The first occurrence of needle in [p, end), or NULL. */
static const char *
find(const char *p, const char *end, const char *needle, size_t n)
{
	while (p && (size_t) (end - p) >= n) {
		p = memchr(p, needle[0], (size_t) (end - p) - n + 1);
		if (!p)
			return NULL;
		if (memcmp(p, needle, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

static bool
tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A parameter's value after "name=" at p (in [p, end)): a token or a quoted
 * string (backslash escapes a character). *next gets where it ended. NULL
 * when malformed or longer than max. */
static const char *
param_value(struct arena *a, const char *p, const char *end, size_t max, const char **next)
{
	char *out = arena_alloc(a, max + 1);
	size_t o = 0;
	if (p < end && *p == '"') {
		p++;
		for (;;) {
			if (p >= end)
				return NULL;
			char c = *p++;
			if (c == '"')
				break;
			if (c == '\\') {
				if (p >= end)
					return NULL;
				c = *p++;
			}
			if (c == '\r' || c == '\n' || c == '\0' || o >= max)
				return NULL;
			out[o++] = c;
		}
	} else {
		while (p < end && tchar(*p)) {
			if (o >= max)
				return NULL;
			out[o++] = *p++;
		}
		if (!o)
			return NULL;
	}
	out[o] = '\0';
	*next = p;
	return out;
}

/* Walks "; name=value" parameters of a header value in [p, end), calling
 * back for each. False when they are malformed. */
struct param {
	const char *name; /* lower case expected by the caller, matched without case */
	const char **out;
	size_t max;
};

static bool
params(struct arena *a, const char *p, const char *end, struct param *want, size_t n_want)
{
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return true;
		if (*p != ';')
			return false;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return true; /* a trailing ';' is harmless */
		const char *name = p;
		while (p < end && tchar(*p))
			p++;
		size_t nl = (size_t) (p - name);
		if (!nl || p == end || *p != '=')
			return false;
		p++;
		struct param *hit = NULL;
		for (size_t i = 0; i < n_want; i++)
			if (strlen(want[i].name) == nl && strncasecmp(want[i].name, name, nl) == 0)
				hit = &want[i];
		const char *v = param_value(a, p, end, hit ? hit->max : 4096, &p);
		if (!v)
			return false;
		if (hit) {
			if (*hit->out)
				return false; /* said twice: which one would a browser mean? */
			*hit->out = v;
		}
	}
}

/* The value of a header line "Name: value" when its name is name. */
static bool
header_is(const char *line, const char *end, const char *name, const char **value)
{
	size_t n = strlen(name);
	if ((size_t) (end - line) <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	const char *v = line + n + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	*value = v;
	return true;
}

/* The boundary of a multipart/form-data content type, or NULL. */
static const char *
boundary_of(struct arena *a, const char *ct)
{
	static const char type[] = "multipart/form-data";
	size_t n = sizeof type - 1;
	if (!ct || strncasecmp(ct, type, n) != 0)
		return NULL;
	const char *b = NULL;
	struct param want[] = { { "boundary", &b, BOUNDARY_MAX } };
	if (!params(a, ct + n, ct + strlen(ct), want, 1) || !b || !b[0])
		return NULL;
	for (const char *p = b; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
			return NULL;
	return b;
}

/* One part's headers in [p, end): its name, filename (NULL: a text field)
 * and content type. */
static bool
part_headers(struct arena *a, const char *p, const char *end, const char **name, const char **filename,
             const char **ctype)
{
	bool disposition = false;
	*name = *filename = NULL;
	*ctype = "";
	while (p < end) {
		const char *eol = find(p, end, "\r\n", 2);
		const char *line_end = eol ? eol : end;
		if (line_end == p || !memchr(p, ':', (size_t) (line_end - p)))
			return false;
		if (*p == ' ' || *p == '\t')
			return false; /* folded lines are obsolete (RFC 7578 4.8 says none) */
		const char *v;
		if (header_is(p, line_end, "Content-Disposition", &v)) {
			if (disposition)
				return false;
			disposition = true;
			static const char fd[] = "form-data";
			if ((size_t) (line_end - v) < sizeof fd - 1 || strncasecmp(v, fd, sizeof fd - 1) != 0)
				return false;
			struct param want[] = { { "name", name, NAME_MAX_LEN },
				                { "filename", filename, NAME_MAX_LEN } };
			if (!params(a, v + sizeof fd - 1, line_end, want, 2))
				return false;
		} else if (header_is(p, line_end, "Content-Type", &v)) {
			size_t n = (size_t) (line_end - v);
			if (n > CTYPE_MAX_LEN)
				return false;
			*ctype = arena_strndup(a, v, n);
		}
		p = eol ? eol + 2 : end;
	}
	if (!disposition || !*name || !(*name)[0] || !utf8_valid(*name, strlen(*name), NULL))
		return false;
	if (*filename && !utf8_valid(*filename, strlen(*filename), NULL))
		*filename = ""; /* a name we would never use anyway */
	return true;
}

static mh_err
parse_parts(struct arena *a, const char *content_type, const char *body, size_t len, struct http_field *fields,
            size_t max_fields, size_t *n_fields, struct http_file *files, size_t max_files, size_t *n_files)
{
	const char *boundary = boundary_of(a, content_type);
	if (!boundary)
		return MH_ERR_INVALID;
	/* The delimiter with its leading CRLF: "\r\n--" boundary. The first
	 * one may start the body, without the CRLF. */
	size_t bl = strlen(boundary);
	char *delim = arena_alloc(a, bl + 5);
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, bl + 1);
	size_t dl = bl + 4;
	const char *end = body + len, *p;
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		p = body + dl - 2;
	else if ((p = find(body, end, delim, dl)))
		p += dl;
	else
		return MH_ERR_INVALID;
	for (;;) {
		/* Just after a delimiter: "--" closes, else padding and CRLF. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return MH_OK;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return MH_ERR_INVALID;
		p += 2;
		/* Headers end at a blank line; a part with none is not form-data. */
		const char *limit = end - p > HEADERS_MAX ? p + HEADERS_MAX : end;
		const char *hend = find(p, limit, "\r\n\r\n", 4);
		if (!hend)
			return MH_ERR_INVALID;
		const char *name, *filename, *ctype;
		if (!part_headers(a, p, hend, &name, &filename, &ctype))
			return MH_ERR_INVALID;
		const char *data = hend + 4;
		const char *next = find(data, end, delim, dl);
		if (!next)
			return MH_ERR_INVALID;
		size_t n = (size_t) (next - data);
		if (filename) {
			if (*n_files >= max_files)
				return MH_ERR_INVALID;
			files[*n_files] = (struct http_file){ name, filename, ctype, data, n };
			(*n_files)++;
		} else if (utf8_valid(data, n, NULL) && !memchr(data, '\0', n)) {
			if (*n_fields >= max_fields)
				return MH_ERR_INVALID;
			fields[*n_fields] = (struct http_field){ name, arena_strndup(a, data, n) };
			(*n_fields)++;
		}
		p = next + dl;
	}
}

mh_err
http_multipart_parse(struct arena *a, const char *content_type, const char *body, size_t len, struct http_field *fields,
                     size_t max_fields, size_t *n_fields, struct http_file *files, size_t max_files, size_t *n_files)
{
	*n_fields = *n_files = 0;
	mh_err rc = parse_parts(a, content_type, body, len, fields, max_fields, n_fields, files, max_files, n_files);
	if (rc)
		*n_fields = *n_files = 0; /* nothing of a malformed body is used */
	return rc;
}
