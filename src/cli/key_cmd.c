/* key_cmd.c: masthead key add NAME | list | revoke NAME: Content API keys.
 * The key is printed once, when it is made; the store keeps its hash. */
#include <stdio.h>
#include <string.h>

#include "api/content.h"
#include "auth/token.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/text.h"
#include "store/store.h"
#include "core/banned.h"

#define KEY_NAME_MAX 64

/* A name is 1 to 64 printable ASCII characters, no tab, no line break. */
static bool
name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KEY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
			return false;
	return true;
}

int
cmd_key(struct config *cfg, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	bool ok = (!strcmp(sub, "list") && argc == 1) || (!strcmp(sub, "add") && argc == 2) ||
	          (!strcmp(sub, "revoke") && argc == 2);
	if (!ok) {
		fprintf(stderr, "masthead key: expected add NAME, list, or revoke NAME\n");
		return EXIT_USAGE;
	}
	if (argc == 2 && !name_ok(argv[1])) {
		fprintf(stderr,
		        "masthead key: NAME is 1 to %d printable characters (letters, digits, spaces, "
		        "punctuation)\n",
		        KEY_NAME_MAX);
		return EXIT_USAGE;
	}
	int code;
	struct store *s = cli_open_store(cfg, &code);
	if (!s)
		return code;
	struct arena *a = arena_new();
	mh_err err = MH_OK;
	code = EXIT_OK;
	if (!strcmp(sub, "add")) {
		char key[API_KEY_CHARS + 1], hash[TOKEN_HASH_CHARS + 1];
		api_key_new(key);
		token_hash(key, hash);
		struct api_key k = { 0, argv[1], hash, clock_now(), 0 };
		err = store_api_key_create(s, &k, NULL);
		if (err == MH_ERR_CONFLICT) {
			fprintf(stderr,
			        "masthead key: a key named '%s' exists already (revoked keys keep their name)\n",
			        argv[1]);
			code = EXIT_USAGE;
			err = MH_OK;
		} else if (!err) {
			printf("%s\n", key);
		}
	} else if (!strcmp(sub, "list")) {
		struct api_key *list;
		size_t n;
		if (!(err = store_api_key_list(s, a, &list, &n)))
			for (size_t i = 0; i < n; i++) {
				char made[32], gone[32] = "";
				time_format_iso8601(list[i].created_at, made, sizeof made);
				if (list[i].revoked_at)
					time_format_iso8601(list[i].revoked_at, gone, sizeof gone);
				printf("%s\tmade %s\t%s%s\n", list[i].name, made,
				       list[i].revoked_at ? "revoked " : "active", gone);
			}
	} else {
		err = store_api_key_revoke(s, argv[1], clock_now());
		if (err == MH_ERR_NOTFOUND) {
			fprintf(stderr, "masthead key: no key in use is named '%s'\n", argv[1]);
			code = EXIT_USAGE;
			err = MH_OK;
		} else if (!err) {
			printf("key '%s' revoked\n", argv[1]);
		}
	}
	if (err) {
		fprintf(stderr, "masthead key: %s\n", store_errmsg(s));
		code = EXIT_FAIL;
	}
	arena_free(a);
	store_close(s);
	return code;
}
