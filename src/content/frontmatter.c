#include "content/frontmatter.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/banned.h"

#define FM_MAX_KEYS  64
#define FM_MAX_ITEMS 64

/* Finds the line that closes the header: "---" or "..." alone. Returns the
 * offset of that line, or -1; *after is where the body starts. */
static long
find_close(const char *src, size_t len, size_t start, size_t *after, int *lines)
{
	size_t i = start;
	int n = 0;
	while (i < len) {
		const char *nl = memchr(src + i, '\n', len - i);
		size_t end = nl ? (size_t) (nl - src) : len;
		size_t l = end - i;
		if (l > 0 && src[end - 1] == '\r')
			l--;
		n++;
		if (l == 3 && (memcmp(src + i, "---", 3) == 0 || memcmp(src + i, "...", 3) == 0)) {
			*after = nl ? end + 1 : len;
			*lines = n;
			return (long) i;
		}
		i = nl ? end + 1 : len;
	}
	return -1;
}

const struct fm_value *
frontmatter_get(const struct frontmatter *fm, const char *key)
{
	for (size_t i = 0; i < fm->n_values; i++)
		if (strcmp(fm->values[i].key, key) == 0)
			return &fm->values[i];
	return NULL;
}

static int
mark_line(const yaml_mark_t *m)
{
	return (int) m->line + 2; /* 0-based, after the opening --- line */
}

mh_err
frontmatter_parse(struct arena *a, const char *src, size_t len, struct frontmatter *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	/* Editors on Windows start UTF-8 files with a byte order mark; it is not text. */
	size_t bom = len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	size_t start;
	if (len >= bom + 4 && memcmp(src + bom, "---\n", 4) == 0) {
		start = bom + 4;
	} else if (len >= bom + 5 && memcmp(src + bom, "---\r\n", 5) == 0) {
		start = bom + 5;
	} else {
		snprintf(err, errlen, "line 1: expected front matter starting with a line holding only ---");
		return MH_ERR_PARSE;
	}
	size_t after;
	int lines;
	long close = find_close(src, len, start, &after, &lines);
	if (close < 0) {
		snprintf(err, errlen, "line 1: front matter is not closed by a line holding only ---");
		return MH_ERR_PARSE;
	}
	out->body = src + after;
	out->body_len = len - after;
	out->body_line = lines + 2;
	out->values = arena_alloc(a, FM_MAX_KEYS * sizeof *out->values);

	yaml_parser_t p;
	yaml_event_t ev;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *) src + start, (size_t) close - start);
	mh_err rc = MH_OK;
	enum { TOP, IN_MAP, IN_SEQ, DONE } state = TOP;
	struct fm_value *cur = NULL;
	int depth_docs = 0;
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, errlen, "line %d: malformed YAML: %s", mark_line(&p.problem_mark),
			         p.problem ? p.problem : "syntax error");
			rc = MH_ERR_PARSE;
			break;
		}
		yaml_event_type_t t = ev.type;
		int line = mark_line(&ev.start_mark);
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		switch (t) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT: break;
		case YAML_DOCUMENT_START_EVENT:
			if (++depth_docs > 1) {
				snprintf(err, errlen, "line %d: front matter holds more than one YAML document", line);
				rc = MH_ERR_PARSE;
			}
			break;
		case YAML_MAPPING_START_EVENT:
			if (state != TOP) {
				snprintf(err, errlen, "line %d: '%s' must be a text or a list of texts", line,
				         cur ? cur->key : "value");
				rc = MH_ERR_PARSE;
			}
			state = IN_MAP;
			break;
		case YAML_MAPPING_END_EVENT: state = DONE; break;
		case YAML_SEQUENCE_START_EVENT:
			if (state != IN_MAP || !cur || cur->n_items || cur->is_list) {
				snprintf(err, errlen, "line %d: '%s' must be a text or a list of texts", line,
				         cur ? cur->key : "front matter");
				rc = MH_ERR_PARSE;
				break;
			}
			cur->is_list = 1;
			cur->items = arena_alloc(a, FM_MAX_ITEMS * sizeof *cur->items);
			cur->item_len = arena_alloc(a, FM_MAX_ITEMS * sizeof *cur->item_len);
			state = IN_SEQ;
			break;
		case YAML_SEQUENCE_END_EVENT:
			state = IN_MAP;
			cur = NULL;
			break;
		case YAML_ALIAS_EVENT:
			snprintf(err, errlen, "line %d: YAML aliases are not allowed in front matter", line);
			rc = MH_ERR_PARSE;
			break;
		case YAML_SCALAR_EVENT: {
			const char *text = arena_strndup(a, (const char *) ev.data.scalar.value, ev.data.scalar.length);
			if (state == IN_SEQ) {
				if (cur->n_items == FM_MAX_ITEMS) {
					snprintf(err, errlen, "line %d: '%s' has more than %d items", line, cur->key,
					         FM_MAX_ITEMS);
					rc = MH_ERR_PARSE;
					break;
				}
				cur->item_len[cur->n_items] = ev.data.scalar.length;
				cur->items[cur->n_items++] = text;
			} else if (state == IN_MAP && !cur) {
				if (frontmatter_get(out, text)) {
					snprintf(err, errlen, "line %d: '%s' is given twice", line, text);
					rc = MH_ERR_PARSE;
					break;
				}
				if (out->n_values == FM_MAX_KEYS) {
					snprintf(err, errlen, "line %d: too many keys", line);
					rc = MH_ERR_PARSE;
					break;
				}
				cur = &out->values[out->n_values++];
				memset(cur, 0, sizeof *cur);
				cur->key = text;
				cur->line = line;
			} else if (state == IN_MAP) {
				cur->items = arena_alloc(a, sizeof *cur->items);
				cur->item_len = arena_alloc(a, sizeof *cur->item_len);
				cur->items[0] = text;
				cur->item_len[0] = ev.data.scalar.length;
				cur->n_items = 1;
				cur = NULL;
			} else {
				snprintf(err, errlen, "line %d: front matter must be a mapping of keys to values",
				         line);
				rc = MH_ERR_PARSE;
			}
			break;
		}
		default: break;
		}
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}
