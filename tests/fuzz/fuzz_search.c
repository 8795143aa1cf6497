/* fuzz_search.c: a reader's search text to an FTS5 query (search/query.h),
 * and HTML to index text (core/htmltext.h), on outside bytes.
 *
 * Invariants:
 * - search_terms_parse returns true exactly when it found a word; no more
 *   than SEARCH_TERMS_MAX terms, each 1..SEARCH_TERM_MAX bytes of UTF-8
 *   with no ASCII byte but lower-case letters and digits, no two alike;
 * - match, any and text are exactly the terms quoted and joined, so no
 *   quote, operator or column filter can come from the input;
 * - SQLite's FTS5 accepts both queries (no syntax error) against a table
 *   made with the index's tokenizer;
 * - htmltext_append writes valid UTF-8 when given it, with no control byte,
 *   no '<' that came from a tag, and no leading or trailing space. */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/htmltext.h"
#include "core/text.h"
#include "fuzz.h"
#include "search/query.h"
#include "core/banned.h"

static sqlite3 *db;

static void
db_open(void)
{
	if (db)
		return;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
	                   "CREATE VIRTUAL TABLE t USING fts5(title, dek, body, tokenize = 'unicode61 "
	                   "remove_diacritics 2'); INSERT INTO t VALUES ('Café fog', 'a b', 'lantern keepers');",
	                   NULL, NULL, NULL) == SQLITE_OK);
}

static void
check_match(const char *q)
{
	sqlite3_stmt *st;
	CHECK(sqlite3_prepare_v2(db, "SELECT rowid, highlight(t, 0, '[', ']') FROM t WHERE t MATCH ?1", -1, &st,
	                         NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		fprintf(stderr, "FTS5 refused %s: %s\n", q, sqlite3_errmsg(db));
	CHECK(rc == SQLITE_DONE);
	sqlite3_finalize(st);
}

static void
check_terms(const uint8_t *data, size_t size)
{
	struct search_terms t;
	bool ok = search_terms_parse((const char *) data, size, &t);
	CHECK(ok == (t.n > 0));
	CHECK(t.n <= SEARCH_TERMS_MAX);
	char match[sizeof t.match], any[sizeof t.any], text[sizeof t.text];
	size_t m = 0, o = 0, x = 0;
	for (size_t i = 0; i < t.n; i++) {
		size_t n = strnlen(t.terms[i], SEARCH_TERM_MAX + 1);
		CHECK(n >= 1 && n <= SEARCH_TERM_MAX);
		CHECK(utf8_valid(t.terms[i], n, NULL));
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char) t.terms[i][k];
			CHECK(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
		}
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(t.terms[i], t.terms[j]) != 0);
		m += (size_t) snprintf(match + m, sizeof match - m, "%s\"%s\"", i ? " " : "", t.terms[i]);
		o += (size_t) snprintf(any + o, sizeof any - o, "%s\"%s\"", i ? " OR " : "", t.terms[i]);
		x += (size_t) snprintf(text + x, sizeof text - x, "%s%s", i ? " " : "", t.terms[i]);
	}
	match[m] = any[o] = text[x] = '\0';
	CHECK(strcmp(match, t.match) == 0);
	CHECK(strcmp(any, t.any) == 0);
	CHECK(strcmp(text, t.text) == 0);
	if (ok) {
		db_open();
		check_match(t.match);
		check_match(t.any);
	}
}

static void
check_htmltext(const char *html, size_t size)
{
	struct buf b = BUF_INIT;
	htmltext_append(&b, html);
	CHECK(buf_error(&b) == MH_OK);
	for (size_t i = 0; i < b.len; i++)
		CHECK((unsigned char) b.ptr[i] >= 0x20 && b.ptr[i] != 0x7f);
	if (b.len) {
		CHECK(b.ptr[0] != ' ');
		CHECK(b.ptr[b.len - 1] != ' ');
	}
	if (utf8_valid(html, strlen(html), NULL))
		CHECK(utf8_valid(b.ptr, b.len, NULL));
	/* Text never grows past what entities can add (at most 4 bytes for 4). */
	CHECK(b.len <= size);
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_terms(data, size);
	char *text = malloc(size + 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	check_htmltext(text, size);
	free(text);
	return 0;
}
