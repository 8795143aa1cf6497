/* rank.h: masthead_bm25(), the FTS5 rank function the search statements
 * use (src/store/sql.c, docs/search.md "Speed").
 *
 * It scores a row as FTS5's own bm25() does (k1 1.2, b 0.75, one weight a
 * column), except that a phrase's document frequency is counted only up to
 * RANK_DF_MAX rows: bm25() counts every row that holds each phrase before
 * it scores the first, which costs as much as the matches (90,000 of
 * 100,000 articles for a common word) however few rows are asked for. A
 * phrase in more rows weighs as one in RANK_DF_MAX; below that, the scores
 * are bm25()'s own. */
#ifndef MH_STORE_SQLITE_RANK_H
#define MH_STORE_SQLITE_RANK_H

#include <sqlite3.h>

#define RANK_DF_MAX 2000

/* Registers masthead_bm25 on db; an SQLite result code. */
int sqlite_rank_register(sqlite3 *db);

#endif
