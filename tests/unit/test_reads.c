/* The read counter behind Most read (web/reads.h): a bounded table, counts
 * written at stop, unknown slugs dropped by the store, hours pruned. */
#include "unit.h"

#include <string.h>

#include "core/clock.h"
#include "web/reads.h"

static void
put_article(struct store *s, const char *slug, int64_t published)
{
	struct named_ref author = { "unit-writer", "Unit Writer" };
	struct article_input in = { 0 };
	in.slug = slug;
	in.title = slug;
	in.dek = in.summary = "";
	in.access = ACCESS_PUBLIC;
	in.published_at = in.updated_at = published;
	in.teaser_md = in.teaser_html = "<p>x</p>";
	in.gated_md = in.gated_html = "";
	in.authors = &author;
	in.n_authors = 1;
	int64_t id;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
}

static void
test_the_table_is_bounded_and_counts_reach_the_store(void **state)
{
	(void) state;
	char dir[64];
	struct store *s = unit_store_open(dir);
	assert_non_null(s);
	clock_set(1800000000);
	put_article(s, "read-one", 1700000000);
	put_article(s, "read-two", 1700000000);
	struct reads *r = reads_start(s, 3600);
	assert_non_null(r);
	for (int i = 0; i < 5; i++)
		reads_count(r, "read-one");
	reads_count(r, "read-two");
	/* A flood of made-up slugs fills three quarters of the table, then is dropped. */
	char slug[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(slug, sizeof slug, "made-up-%d", i);
		reads_count(r, slug);
	}
	assert_int_equal(reads_dropped(r), 5000 - (4096 - 1024 - 2));
	/* Known slugs keep counting when the table is full. */
	reads_count(r, "read-two");
	reads_count(r, "");             /* ignored */
	reads_stop(r);                  /* writes */
	assert_null(reads_start(s, 0)); /* counting off */
	struct arena *a = arena_new();
	struct most_read *m;
	size_t n;
	assert_int_equal(store_most_read(s, a, reads_hour(1800000000) - 168, 1800000000, 5, &m, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].slug, "read-one");
	assert_int_equal(m[0].reads, 5);
	assert_string_equal(m[1].slug, "read-two");
	assert_int_equal(m[1].reads, 2);
	/* Older than the week asked for: not counted. */
	assert_int_equal(store_most_read(s, a, reads_hour(1800000000) + 1, 1800000000, 5, &m, &n), MH_OK);
	assert_int_equal(n, 0);
	/* A write 31 days later prunes the hour above. */
	struct read_count c = { "read-two", 1 };
	int64_t later = reads_hour(1800000000) + 31 * 24;
	assert_int_equal(store_reads_add(s, &c, 1, later, later - 30 * 24), MH_OK);
	assert_int_equal(store_most_read(s, a, 0, 1800000000 + 40 * 86400, 5, &m, &n), MH_OK);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].reads, 1);
	arena_free(a);
	assert_int_equal(unit_store_close(s, dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_table_is_bounded_and_counts_reach_the_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
