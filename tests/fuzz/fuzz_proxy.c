/* fuzz_proxy.c: the trusted-proxy setting and X-Forwarded-For on outside text.
 *
 * The input's first line is the setting, the rest the header. Invariants:
 * - parsing never reads past the text and keeps at most PROXY_MAX_NETS nets;
 * - the client is the peer, or an address that appears in the header and
 *   parses as one; it is always a terminated string that fits;
 * - a peer the list does not trust never gets a header's address. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/proxy.h"
#include "fuzz.h"
#include "core/banned.h"

static bool
is_addr(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *nl = strchr(text, '\n');
	const char *xff = NULL;
	if (nl) {
		*nl = '\0';
		xff = nl + 1;
	}
	struct proxy_list l;
	char err[256];
	if (proxy_list_parse(text, &l, err, sizeof err) != MH_OK)
		CHECK(memchr(err, '\0', sizeof err) != NULL && !strncmp(err, "trusted-proxy: ", 15));
	else
		CHECK(l.n <= PROXY_MAX_NETS);

	static const char *const peers[] = { "127.0.0.1", "::1", "10.0.0.1", "198.51.100.4" };
	for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
		char out[PROXY_ADDR_MAX];
		const char *got = proxy_client(&l, peers[i], xff, out, sizeof out);
		CHECK(got == out);
		CHECK(strlen(out) < sizeof out);
		if (strcmp(out, peers[i]) != 0) {
			CHECK(proxy_list_trusts(&l, peers[i]));
			CHECK(xff && strstr(xff, out) != NULL);
			CHECK(is_addr(out));
		}
	}
	free(text);
	return 0;
}
