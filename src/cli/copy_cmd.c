/* copy_cmd.c: masthead copy --from URL --to URL, a whole site from one
 * database to another (either engine to either), all or nothing. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "core/banned.h"

static struct store *
open_migrated(const char *url, const char *which, int *code)
{
	char err[512];
	struct store *s;
	mh_err rc = store_open(url, &s, err, sizeof err);
	if (rc) {
		fprintf(stderr, "masthead copy: --%s: %s\n", which, err);
		*code = rc == MH_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
		return NULL;
	}
	int applied;
	if (store_migrate(s, &applied)) {
		fprintf(stderr, "masthead copy: --%s: cannot migrate %s: %s\n", which, url, store_errmsg(s));
		store_close(s);
		*code = EXIT_FAIL;
		return NULL;
	}
	return s;
}

int
cmd_copy(struct config *cfg, int argc, char **argv)
{
	(void) cfg;
	const char *from = NULL, *to = NULL;
	for (int i = 0; i < argc; i++) {
		const char **slot = !strncmp(argv[i], "--from", 6) ? &from : !strncmp(argv[i], "--to", 4) ? &to : NULL;
		const char *eq = strchr(argv[i], '=');
		size_t flen = eq ? (size_t) (eq - argv[i]) : strlen(argv[i]);
		if (!slot || (flen != 6 && flen != 4) || (slot == &from && flen != 6) || (slot == &to && flen != 4)) {
			fprintf(stderr,
			        "masthead copy: unexpected argument %s (usage: masthead copy --from URL --to URL)\n",
			        argv[i]);
			return EXIT_USAGE;
		}
		if (eq)
			*slot = eq + 1;
		else if (i + 1 < argc)
			*slot = argv[++i];
		else {
			fprintf(stderr, "masthead copy: %s needs a database URL\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!from || !to || !*from || !*to) {
		fprintf(stderr, "masthead copy: give both --from URL and --to URL\n");
		return EXIT_USAGE;
	}
	if (strcmp(from, to) == 0) {
		fprintf(stderr, "masthead copy: --from and --to name the same database\n");
		return EXIT_USAGE;
	}
	int code;
	struct store *src = open_migrated(from, "from", &code);
	if (!src)
		return code;
	struct store *dst = open_migrated(to, "to", &code);
	if (!dst) {
		store_close(src);
		return code;
	}
	int64_t rows;
	mh_err err = store_copy(src, dst, &rows);
	if (err) {
		fprintf(stderr, "masthead copy: %s\n", store_errmsg(dst));
		code = err == MH_ERR_CONFLICT ? EXIT_DATA : EXIT_FAIL;
	} else {
		printf("copy: %lld rows from %s to %s, every table's count and checksum checked\n", (long long) rows,
		       store_engine(src), store_engine(dst));
		code = EXIT_OK;
	}
	store_close(dst);
	store_close(src);
	return code;
}
