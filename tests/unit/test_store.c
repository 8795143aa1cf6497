/* The SQLite store: migrations, upserts, listings, the gated read. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/embed.h"
#include "paywall/access.h"
#include "store/store.h"

static char dir[64];
static char url[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/mh-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct store *s;
	char err[256];
	if (store_open(url, &s, err, sizeof err))
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	store_close(*state);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static struct article_input
sample(const char *slug, enum access_level level, int64_t when)
{
	static struct named_ref authors[] = { { "mara-ellison", "Mara Ellison" } };
	static struct named_ref tags[] = { { "port", "port" }, { "city-hall", "city-hall" } };
	static struct quote_input quotes[] = {
		{ "ines-okafor", "Ines Okafor", "Chair", "<blockquote>open</blockquote>", false },
		{ "ines-okafor", "Ines Okafor", "Chair", "<blockquote>SECRET-QUOTE</blockquote>", true },
	};
	return (struct article_input){
		.slug = slug,
		.title = "Title",
		.dek = "",
		.summary = "s",
		.access = level,
		.published_at = when,
		.updated_at = when,
		.teaser_md = "t",
		.teaser_html = "<p>teaser</p>",
		.gated_md = "g",
		.gated_html = "<p>GATED-BODY</p>",
		.authors = authors,
		.n_authors = 1,
		.tags = tags,
		.n_tags = 2,
		.quotes = quotes,
		.n_quotes = 2,
	};
}

static void
test_migrate_is_idempotent(void **state)
{
	struct store *s = *state;
	int applied;
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	assert_true(applied >= 1);
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(store_ping(s), MH_OK);
}

static void
test_upsert_list_and_gated(void **state)
{
	struct store *s = *state;
	int applied;
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	struct article_input in = sample("first", ACCESS_PAID, 1000);
	int64_t id, id2;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	assert_true(created);
	in.title = "Updated";
	assert_int_equal(store_article_upsert(s, &in, &id2, &created), MH_OK);
	assert_false(created);
	assert_int_equal(id, id2);
	struct article_input other = sample("second", ACCESS_PUBLIC, 2000);
	other.n_quotes = 0;
	assert_int_equal(store_article_upsert(s, &other, &id2, &created), MH_OK);

	struct arena *a = arena_new();
	struct article *art;
	assert_int_equal(store_article_by_slug(s, a, "first", &art), MH_OK);
	assert_string_equal(art->title, "Updated");
	assert_string_equal(art->teaser_html, "<p>teaser</p>");
	assert_int_equal(art->n_tags, 2);
	assert_string_equal(art->tags[1].slug, "city-hall");
	assert_true(art->has_gated);
	assert_int_equal(store_article_by_slug(s, a, "missing", &art), MH_ERR_NOTFOUND);

	/* Newest first; scheduled articles stay out. */
	struct article_filter f = { LIST_ALL, NULL, 1500, 10, 0 };
	struct article *list;
	size_t n;
	assert_int_equal(store_article_list(s, a, &f, &list, &n), MH_OK);
	assert_int_equal(n, 1);
	f.before = 0;
	assert_int_equal(store_article_list(s, a, &f, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].slug, "second");
	assert_null(list[0].teaser_html);
	f = (struct article_filter){ LIST_TAG, "city-hall", 0, 10, 0 };
	assert_int_equal(store_article_list(s, a, &f, &list, &n), MH_OK);
	assert_int_equal(n, 2);
	f = (struct article_filter){ LIST_AUTHOR, "nobody", 0, 10, 0 };
	assert_int_equal(store_article_list(s, a, &f, &list, &n), MH_OK);
	assert_int_equal(n, 0);

	/* The gated body needs a FULL decision for this article. */
	assert_int_equal(store_article_by_slug(s, a, "first", &art), MH_OK);
	struct viewer anon = { 0 }, staff = { .signed_in = true, .role = ROLE_EDITOR };
	struct access_decision d = access_decide(art, &anon, 3000);
	const char *html;
	assert_int_equal(store_article_gated(s, a, art, &d, &html), MH_ERR_DENIED);
	assert_string_equal(html, "");
	d = access_decide(art, &staff, 3000);
	assert_int_equal(store_article_gated(s, a, art, &d, &html), MH_OK);
	assert_string_equal(html, "<p>GATED-BODY</p>");

	/* Speaker quotes: gated text is absent from the listing. */
	struct speaker sp;
	assert_int_equal(store_speaker_by_slug(s, a, "ines-okafor", &sp), MH_OK);
	struct quote *q;
	assert_int_equal(store_speaker_quotes(s, a, sp.id, &q, &n), MH_OK);
	assert_int_equal(n, 2);
	size_t gated = q[0].gated ? 0 : 1;
	assert_null(q[gated].text_html);
	d = access_decide(&q[gated].article, &anon, 3000);
	assert_int_equal(store_quote_gated(s, a, &q[gated], &d, &html), MH_ERR_DENIED);
	d = access_decide(&q[gated].article, &staff, 3000);
	assert_int_equal(store_quote_gated(s, a, &q[gated], &d, &html), MH_OK);
	assert_string_equal(html, "<blockquote>SECRET-QUOTE</blockquote>");
	arena_free(a);
}

static void
test_transaction_rolls_back(void **state)
{
	struct store *s = *state;
	int applied;
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	assert_int_equal(store_begin(s), MH_OK);
	struct article_input in = sample("rolled", ACCESS_PUBLIC, 1);
	int64_t id;
	bool created;
	assert_int_equal(store_article_upsert(s, &in, &id, &created), MH_OK);
	assert_int_equal(store_rollback(s), MH_OK);
	struct arena *a = arena_new();
	struct article *art;
	assert_int_equal(store_article_by_slug(s, a, "rolled", &art), MH_ERR_NOTFOUND);
	arena_free(a);
}

static void
test_members(void **state)
{
	struct store *s = *state;
	int applied;
	assert_int_equal(store_migrate(s, &applied), MH_OK);
	struct member m = { 0, "a@example.test", "A", "hash", ROLE_READER, 1, 0, false };
	assert_int_equal(store_member_create(s, &m, NULL), MH_OK);
	assert_int_equal(store_member_create(s, &m, NULL), MH_ERR_CONFLICT);
	assert_int_equal(store_member_set_role(s, "a@example.test", ROLE_EDITOR), MH_OK);
	assert_int_equal(store_member_set_role(s, "b@example.test", ROLE_EDITOR), MH_ERR_NOTFOUND);
	struct arena *a = arena_new();
	struct member got;
	assert_int_equal(store_member_by_email(s, a, "a@example.test", &got), MH_OK);
	assert_int_equal(got.role, ROLE_EDITOR);
	arena_free(a);
}

static void
test_bad_urls(void **state)
{
	(void) state;
	struct store *s;
	char err[256];
	assert_int_equal(store_open("mysql://x", &s, err, sizeof err), MH_ERR_INVALID);
	assert_non_null(strstr(err, "not a database URL"));
	assert_int_equal(store_open("sqlite:/nonexistent-dir/x/y.db", &s, err, sizeof err), MH_ERR_DB);
}

/* Each engine has its own migration set, and the two have the same files
 * (number and name): a migration written for one engine only would leave
 * the other a schema behind. */
static void
test_migrations_pair_up(void **state)
{
	(void) state;
	int lite = 0, pg = 0;
	for (const struct embedded_file *m = embedded_migrations; m->name; m++) {
		bool is_lite = strncmp(m->name, "sqlite/", 7) == 0, is_pg = strncmp(m->name, "postgres/", 9) == 0;
		assert_true(is_lite || is_pg);
		const char *base = m->name + (is_lite ? 7 : 9);
		lite += is_lite;
		pg += is_pg;
		bool twin = false;
		for (const struct embedded_file *o = embedded_migrations; o->name; o++) {
			const char *other = is_lite ? "postgres/" : "sqlite/";
			if (strncmp(o->name, other, strlen(other)) == 0 && strcmp(o->name + strlen(other), base) == 0)
				twin = true;
		}
		if (!twin)
			fail_msg("migration %s has no twin for the other engine", m->name);
	}
	assert_true(lite >= 6);
	assert_int_equal(lite, pg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upsert_list_and_gated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_migrations_pair_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
