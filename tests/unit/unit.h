/* unit.h: what every unit test includes, and a fresh store in a temporary
 * folder for the tests that need one. */
#ifndef MH_UNIT_H
#define MH_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

/* A migrated SQLite store in a new folder under /tmp (its name into dir);
 * NULL on failure, with the reason on stderr. */
static inline struct store *
unit_store_open(char dir[64])
{
	char url[128], err[256];
	snprintf(dir, 64, "/tmp/mh-unit-XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct store *s;
	int applied;
	if (store_open(url, &s, err, sizeof err)) {
		fprintf(stderr, "unit: %s\n", err);
		return NULL;
	}
	if (store_migrate(s, &applied)) {
		fprintf(stderr, "unit: migrate: %s\n", store_errmsg(s));
		store_close(s);
		return NULL;
	}
	return s;
}

/* Closes the store and removes its folder; 0 on success. */
static inline int
unit_store_close(struct store *s, const char *dir)
{
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

#endif
