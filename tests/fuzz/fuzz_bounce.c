/* fuzz_bounce.c: the parser of returned mail (newsletter/bounce.c), which
 * reads whatever a mail server hands `masthead newsletter bounce`.
 * Invariants: the token is NUL-terminated, shorter than NL_TOKEN_MAX and
 * holds only token characters; no token means NONE; status and detail are
 * NUL-terminated one-line text; a hard bounce has a 5 status or none. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newsletter/newsletter.h"
#include "core/banned.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	struct nl_inbound ib;
	nl_inbound_parse(in, size, &ib);
	size_t tl = strnlen(ib.token, sizeof ib.token);
	CHECK(tl < sizeof ib.token);
	for (size_t i = 0; i < tl; i++) {
		char c = ib.token[i];
		CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-');
	}
	CHECK((ib.kind == NL_INBOUND_NONE) == (tl == 0));
	CHECK(strnlen(ib.status, sizeof ib.status) < sizeof ib.status);
	size_t dl = strnlen(ib.detail, sizeof ib.detail);
	CHECK(dl < sizeof ib.detail);
	for (size_t i = 0; i < dl; i++)
		CHECK((unsigned char) ib.detail[i] >= 0x20);
	if (ib.kind == NL_INBOUND_BOUNCE && ib.hard)
		CHECK(ib.status[0] == '5' || ib.status[0] == '\0');
	free(in);
	return 0;
}
