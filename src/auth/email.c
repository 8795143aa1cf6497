/* email.c: the one e-mail rule. */
#include "auth/email.h"

#include <string.h>

#include "core/banned.h"

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool
email_normalize(const char *raw, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!raw || outlen < EMAIL_MAX + 1)
		return false;
	const char *s = raw, *e = raw + strlen(raw);
	while (s < e && space(*s))
		s++;
	while (e > s && space(e[-1]))
		e--;
	size_t n = (size_t) (e - s);
	if (n < 3 || n > EMAIL_MAX)
		return false;
	const char *at = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		if (c <= ' ' || c == 0x7f || strchr("<>()[]\\,;:\"", c))
			return false;
		if (c == '@') {
			if (at)
				return false;
			at = s + i;
		}
	}
	if (!at || at == s)
		return false;
	const char *dom = at + 1;
	size_t dn = (size_t) (e - dom);
	if (dn < 3 || dom[0] == '.' || dom[dn - 1] == '.' || !memchr(dom, '.', dn))
		return false;
	for (size_t i = 0; i + 1 < dn; i++)
		if (dom[i] == '.' && dom[i + 1] == '.')
			return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] - 'A' + 'a') : s[i];
	out[n] = '\0';
	return true;
}
