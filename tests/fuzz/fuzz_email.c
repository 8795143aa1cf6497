/* fuzz_email.c: the one e-mail rule on outside text (form fields, CSV cells,
 * command arguments). Invariants: an accepted address fits EMAIL_MAX, holds
 * exactly one '@', no upper case, no space or control byte, and is its own
 * normal form; a refused one leaves the output empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/email.h"
#include "fuzz.h"
#include "core/banned.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	char out[EMAIL_MAX + 1], again[EMAIL_MAX + 1];
	if (email_normalize(in, out, sizeof out)) {
		size_t n = strlen(out);
		CHECK(n >= 3 && n <= EMAIL_MAX);
		const char *at = strchr(out, '@');
		CHECK(at && at != out && !strchr(at + 1, '@'));
		for (size_t i = 0; i < n; i++)
			CHECK((unsigned char) out[i] > ' ' && out[i] != 0x7f && !(out[i] >= 'A' && out[i] <= 'Z'));
		CHECK(email_normalize(out, again, sizeof again));
		CHECK(strcmp(out, again) == 0);
	} else {
		CHECK(out[0] == '\0');
	}
	free(in);
	return 0;
}
