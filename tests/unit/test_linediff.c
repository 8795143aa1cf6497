/* The line diff of the newsroom's revisions (core/linediff.h). */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/linediff.h"

/* The diff as "=a -b +c" lines, for comparing with a table. */
static const char *
render(struct arena *a, const char *old, const char *new, size_t cells)
{
	struct linediff_line *l;
	size_t n;
	linediff(a, old, new, cells, &l, &n);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%c%s", i ? " " : "", "=-+"[l[i].op], l[i].text);
	const char *out = arena_strdup(a, b.len ? b.ptr : "");
	buf_release(&b);
	return out;
}

static void
test_linediff_table(void **state)
{
	(void) state;
	static const struct {
		const char *old, *new, *want;
	} cases[] = {
		{ "", "", "" },
		{ "a\n", "a\n", "=a" },
		{ "", "a\nb\n", "+a +b" },
		{ "a\nb", "", "-a -b" },
		{ "a\nb\nc\n", "a\nx\nc\n", "=a -b +x =c" },
		{ "a\nb\nc\nd\n", "a\nc\nd\ne\n", "=a -b =c =d +e" },
		/* The common subsequence is the longest one, not the first match. */
		{ "x\na\nb\nc\n", "a\nb\nc\nx\n", "-x =a =b =c +x" },
		{ "a\n\nb\n", "a\n\n\nb\n", "=a = + =b" },
		{ "no newline at end", "no newline at end\n", "=no newline at end" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct arena *a = arena_new();
		const char *got = render(a, cases[i].old, cases[i].new, 1u << 20);
		if (strcmp(got, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
		arena_free(a);
	}
}

/* Over the bound the middle is all deleted then all added: still a diff
 * that spells both texts. */
static void
test_linediff_bounded(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	assert_string_equal(render(a, "s\na\nb\ne\n", "s\nb\nc\ne\n", 4), "=s -a -b +b +c =e");
	assert_string_equal(render(a, "s\na\nb\ne\n", "s\nb\nc\ne\n", 1u << 20), "=s -a =b +c =e");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linediff_table),
		cmocka_unit_test(test_linediff_bounded),
	};
	return cmocka_run_group_tests_name("linediff", tests, NULL, NULL);
}
