/* rank.c: masthead_bm25() (rank.h). */
#include "store/sqlite/rank.h"

#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/banned.h"

/* What one statement computes once, on its first row: each phrase's
 * weight (inverse document frequency) and the mean row length. */
struct rank_stats {
	int n_phrases;
	double avg_len;
	double idf[];
};

static int
count_capped(const Fts5ExtensionApi *api, Fts5Context *fts, void *user)
{
	(void) api;
	(void) fts;
	sqlite3_int64 *n = user;
	return ++*n >= RANK_DF_MAX ? SQLITE_DONE : SQLITE_OK;
}

static int
rank_stats_get(const Fts5ExtensionApi *api, Fts5Context *fts, struct rank_stats **out)
{
	struct rank_stats *st = api->xGetAuxdata(fts, 0);
	if (st) {
		*out = st;
		return SQLITE_OK;
	}
	int n = api->xPhraseCount(fts);
	sqlite3_int64 rows = 0, tokens = 0;
	int rc = api->xRowCount(fts, &rows);
	if (rc == SQLITE_OK)
		rc = api->xColumnTotalSize(fts, -1, &tokens);
	if (rc != SQLITE_OK)
		return rc;
	st = xcalloc(1, sizeof *st + (size_t) (n > 0 ? n : 1) * sizeof st->idf[0]);
	st->n_phrases = n;
	st->avg_len = rows > 0 ? (double) tokens / (double) rows : 1.0;
	for (int i = 0; i < n && rc == SQLITE_OK; i++) {
		sqlite3_int64 hits = 0;
		rc = api->xQueryPhrase(fts, i, &hits, count_capped);
		/* As bm25(): a phrase in more than half the rows would weigh less
		 * than nothing; it weighs almost nothing instead. */
		double idf = log(((double) rows - (double) hits + 0.5) / ((double) hits + 0.5));
		st->idf[i] = idf > 0.0 ? idf : 1e-6;
	}
	if (rc != SQLITE_OK) {
		free(st);
		return rc;
	}
	/* On failure xSetAuxdata frees st itself. */
	if ((rc = api->xSetAuxdata(fts, st, free)) != SQLITE_OK)
		return rc;
	*out = st;
	return SQLITE_OK;
}

static void
masthead_bm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const double k1 = 1.2, b = 0.75;
	struct rank_stats *st;
	int rc = rank_stats_get(api, fts, &st);
	int n_inst = 0, len = 0;
	if (rc == SQLITE_OK)
		rc = api->xInstCount(fts, &n_inst);
	if (rc == SQLITE_OK)
		rc = api->xColumnSize(fts, -1, &len);
	if (rc != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	/* Each phrase's hits in this row, every column's by its weight (1 when
	 * the call names none). */
	double tf_small[8] = { 0 };
	double *tf = st->n_phrases <= 8 ? tf_small : xcalloc((size_t) st->n_phrases, sizeof *tf);
	for (int i = 0; i < n_inst && rc == SQLITE_OK; i++) {
		int phrase, col, off;
		rc = api->xInst(fts, i, &phrase, &col, &off);
		if (rc == SQLITE_OK && phrase >= 0 && phrase < st->n_phrases)
			tf[phrase] += col < argc ? sqlite3_value_double(argv[col]) : 1.0;
	}
	double score = 0.0, norm = k1 * (1.0 - b + b * (double) len / st->avg_len);
	for (int i = 0; i < st->n_phrases; i++)
		score += st->idf[i] * tf[i] * (k1 + 1.0) / (tf[i] + norm);
	if (tf != tf_small)
		free(tf);
	if (rc != SQLITE_OK)
		sqlite3_result_error_code(ctx, rc);
	else
		sqlite3_result_double(ctx, -score); /* lower ranks first, as bm25() */
}

int
sqlite_rank_register(sqlite3 *db)
{
	fts5_api *fts = NULL;
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(q, 1, &fts, "fts5_api_ptr", NULL);
	sqlite3_step(q);
	rc = sqlite3_finalize(q);
	if (rc != SQLITE_OK)
		return rc;
	if (!fts || fts->iVersion < 2)
		return SQLITE_ERROR;
	return fts->xCreateFunction(fts, "masthead_bm25", NULL, masthead_bm25, NULL);
}
