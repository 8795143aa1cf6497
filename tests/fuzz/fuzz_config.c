/* fuzz_config.c: config_load_file (inih) and config_set with any key and value.
 *
 * The input is loaded as an ini file (through a memfd, so the real file
 * path with its handler runs), then its first line is split at the first
 * '=' into a key and a value for config_set. Invariants: a failed set
 * leaves the key's value as it was and writes a message; a set string reads
 * back; config_finish leaves a db URL and a public_url without a trailing
 * slash; config_release frees everything (the leak checker watches). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "fuzz.h"
#include "core/banned.h"

static void
load_file(struct config *c, const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-config", 0);
	if (fd < 0)
		return;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t) w;
	}
	char path[64], err[256];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(err, 'x', sizeof err);
	mh_err rc = config_load_file(c, path, err, sizeof err);
	if (rc != MH_OK)
		CHECK(memchr(err, '\0', sizeof err) != NULL);
	close(fd);
}

static void
set_one(struct config *c, const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line = nl ? (size_t) (nl - data) : size;
	const uint8_t *eq = memchr(data, '=', line);
	size_t klen = eq ? (size_t) (eq - data) : line;
	char *key = strndup((const char *) data, klen);
	char *value = eq ? strndup((const char *) eq + 1, line - klen - 1) : strdup("");
	if (!key || !value)
		abort();

	const struct config_key *k = config_find(key);
	struct config before = *c;
	char err[256];
	memset(err, 'x', sizeof err);
	mh_err rc = config_set(c, key, value, err, sizeof err);
	if (rc != MH_OK) {
		CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
		if (k && k->type != CONFIG_STR)
			CHECK(memcmp((char *) &before + k->offset, (char *) c + k->offset,
			             k->type == CONFIG_LONG ? sizeof(long) : sizeof(bool)) == 0);
	} else {
		CHECK(k != NULL);
		if (k->type == CONFIG_STR)
			CHECK(strcmp(*(char **) ((char *) c + k->offset), value) == 0);
		else if (k->type == CONFIG_LONG)
			CHECK(*(long *) ((char *) c + k->offset) >= 0);
	}
	free(key);
	free(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	config_init(&c);
	load_file(&c, data, size);
	set_one(&c, data, size);
	config_finish(&c);
	CHECK(c.db && c.db[0]);
	size_t n = strlen(c.public_url);
	CHECK(n == 0 || c.public_url[n - 1] != '/');
	config_release(&c);
	return 0;
}
