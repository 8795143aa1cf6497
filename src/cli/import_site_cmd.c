/* import_site_cmd.c: masthead import-site ghost|wordpress|substack and
 * masthead redirects. The readers and the one transaction are in
 * src/importers/; this file turns arguments into their options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/text.h"
#include "importers/site.h"
#include "model/content.h"
#include "store/store.h"
#include "core/banned.h"

#define MAX_MEMBERS_CSV ((size_t) 256 << 20)

static int
usage(void)
{
	fprintf(stderr, "usage: masthead import-site ghost EXPORT.json [--members MEMBERS.csv] [--source-url URL]\n"
	                "       masthead import-site wordpress EXPORT.xml [--paywall-at-more --access paid]\n"
	                "       masthead import-site substack EXPORT.zip|DIR\n"
	                "       each with [--dry-run]\n");
	return EXIT_USAGE;
}

int
cmd_import_site(struct config *cfg, int argc, char **argv)
{
	const char *kind = NULL, *file = NULL, *members = NULL, *source_url = NULL, *access = NULL;
	bool dry_run = false, at_more = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strncmp(a, "--", 2) ? NULL : strchr(a, '=');
		size_t nlen = eq ? (size_t) (eq - a) : strlen(a);
#define IS(flag) (nlen == strlen(flag) && !strncmp(a, flag, nlen))
#define VALUE(dst)                                                                                                     \
	do {                                                                                                           \
		if (eq)                                                                                                \
			dst = eq + 1;                                                                                  \
		else if (i + 1 < argc)                                                                                 \
			dst = argv[++i];                                                                               \
		else {                                                                                                 \
			fprintf(stderr, "masthead import-site: %s needs a value\n", a);                                \
			return EXIT_USAGE;                                                                             \
		}                                                                                                      \
	} while (0)
		if (IS("--dry-run"))
			dry_run = true;
		else if (IS("--paywall-at-more"))
			at_more = true;
		else if (IS("--members"))
			VALUE(members);
		else if (IS("--source-url"))
			VALUE(source_url);
		else if (IS("--access"))
			VALUE(access);
		else if (!kind)
			kind = a;
		else if (!file)
			file = a;
		else
			return usage();
#undef IS
#undef VALUE
	}
	if (!kind || !file)
		return usage();
	bool ghost = !strcmp(kind, "ghost"), wp = !strcmp(kind, "wordpress"), substack = !strcmp(kind, "substack");
	if (!ghost && !wp && !substack) {
		fprintf(stderr, "masthead import-site: '%s' is not ghost, wordpress or substack\n", kind);
		return EXIT_USAGE;
	}
	if ((members && !ghost) || (source_url && !ghost)) {
		fprintf(stderr, "masthead import-site: --members and --source-url are for ghost exports\n");
		return EXIT_USAGE;
	}
	if ((at_more || access) && !wp) {
		fprintf(stderr, "masthead import-site: --paywall-at-more and --access are for wordpress exports\n");
		return EXIT_USAGE;
	}
	int level = access ? access_level_parse(access) : (at_more ? ACCESS_PAID : ACCESS_PUBLIC);
	if (level < 0) {
		fprintf(stderr, "masthead import-site: --access must be public, members or paid, not '%s'\n", access);
		return EXIT_USAGE;
	}
	if (source_url && strncmp(source_url, "https://", 8) && strncmp(source_url, "http://", 7)) {
		fprintf(stderr, "masthead import-site: --source-url must start with https:// or http://\n");
		return EXIT_USAGE;
	}

	struct site_data d;
	site_data_init(&d, kind);
	d.default_time = clock_now();
	int code = EXIT_OK;
	bool ok;
	if (ghost) {
		static const char *const markers[] = { "members-only", NULL };
		d.html.marker_comments = markers;
		d.html.url_from = "__GHOST_URL__";
		d.html.img_to = source_url;
		ok = site_read_ghost(&d, file);
		if (ok && members) {
			char *text;
			size_t len;
			ok = site_read_file(members, MAX_MEMBERS_CSV, &text, &len);
			if (ok) {
				site_members_csv(&d, members, text, len);
				free(text);
			}
		}
	} else if (wp) {
		static const char *const markers[] = { "more", NULL };
		d.html.marker_comments = at_more ? markers : NULL;
		ok = site_read_wordpress(&d, file, at_more, level);
	} else {
		d.html.marker_divs = true;
		ok = site_read_substack(&d, file);
	}
	if (!ok) {
		fprintf(stderr, "import-site: nothing was written\n");
		site_data_release(&d);
		return EXIT_DATA;
	}
	struct store *s = cli_open_store(cfg, &code);
	if (!s) {
		site_data_release(&d);
		return code;
	}
	struct site_opts o = { dry_run, (int) cfg->teaser_paragraphs,          clock_now(),
		               stdout,  isatty(STDERR_FILENO) ? stderr : NULL, cfg };
	code = site_run(s, &d, &o);
	if (code)
		fprintf(stderr, "import-site: nothing was written\n");
	store_close(s);
	site_data_release(&d);
	return code;
}

int
cmd_redirects(struct config *cfg, int argc, char **argv)
{
	(void) argv;
	if (argc) {
		fprintf(stderr, "masthead redirects: takes no arguments\n");
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct arena *a = arena_new();
	struct redirect *r;
	size_t n;
	if (store_redirect_list(s, a, &r, &n)) {
		fprintf(stderr, "masthead redirects: %s\n", store_errmsg(s));
		code = EXIT_FAIL;
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\n", r[i].old_path, r[i].new_path, r[i].source);
		fprintf(stderr, "%zu redirect%s\n", n, n == 1 ? "" : "s");
	}
	arena_free(a);
	store_close(s);
	return code;
}
