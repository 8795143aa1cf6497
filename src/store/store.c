#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fault.h"
#include "paywall/access.h"
#include "store/store_impl.h"
#include "core/banned.h"

/* The URL as logs and messages show it: a password (user:PASSWORD@ or
 * password=...) is replaced by ***. */
static char *
redacted(const char *url)
{
	size_t n = strlen(url);
	char *out = xmalloc(2 * n + 8); /* "***" may be longer than what it hides */
	size_t o = 0;
	const char *scheme = strstr(url, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	if (at && slash && slash < at)
		at = NULL;
	for (size_t i = 0; i < n;) {
		const char *p = url + i;
		if (at && p > scheme + 2 && p < at && *p == ':') {
			memcpy(out + o, ":***", 4);
			o += 4;
			i = (size_t) (at - url);
			continue;
		}
		if (strncmp(p, "password=", 9) == 0 && (i == 0 || url[i - 1] == '?' || url[i - 1] == '&')) {
			memcpy(out + o, "password=", 9);
			o += 9;
			i += 9;
			while (i < n && url[i] != '&')
				i++;
			memcpy(out + o, "***", 3);
			o += 3;
			continue;
		}
		out[o++] = url[i++];
	}
	out[o] = '\0';
	return out;
}

mh_err
store_open(const char *url, struct store **out, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->url = redacted(url);
	mh_err rc;
	if (strncmp(url, "sqlite:", 7) == 0 && url[7]) {
		rc = sqlite_store_open(url + 7, s, err, errlen);
	} else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
		rc = postgres_store_open(url, s, err, errlen);
	} else {
		snprintf(err, errlen, "%s: not a database URL (expected sqlite:PATH or postgres://...)", url);
		rc = MH_ERR_INVALID;
	}
	if (rc) {
		free(s->url);
		free(s);
		return rc;
	}
	*out = s;
	return MH_OK;
}

void
store_close(struct store *s)
{
	if (!s)
		return;
	if (s->impl)
		s->ops->close(s);
	free(s->url);
	free(s);
}

mh_err
store_article_gated(struct store *s, struct arena *a, const struct article *art, const struct access_decision *decision,
                    const char **html)
{
	*html = "";
	if (!decision || !decision->full || decision->article_id != art->id)
		return MH_ERR_DENIED;
	if (!art->has_gated)
		return MH_OK;
	return s->ops->article_gated(s, a, art->id, html);
}

mh_err
store_quote_gated(struct store *s, struct arena *a, const struct quote *q, const struct access_decision *decision,
                  const char **html)
{
	*html = "";
	if (!decision || !decision->full || decision->article_id != q->article_id)
		return MH_ERR_DENIED;
	return s->ops->quote_gated(s, a, q->id, html);
}

const char *
store_engine(const struct store *s)
{
	return s->ops->name;
}

const char *
store_url(const struct store *s)
{
	return s->url;
}

static _Thread_local char errbuf[STORE_ERRMSG_MAX];

char *
store_errbuf(void)
{
	return errbuf;
}

#ifdef MH_FAULTS
/* Set by the call that failed on purpose, until its driver's fail reads it
 * or the thread's next store call clears it. */
static _Thread_local bool fault_pending;

bool
store_fault_call(void)
{
	fault_pending = fault_store_call();
	return fault_pending;
}

bool
store_fault_taken(const char *what)
{
	if (!fault_pending)
		return false;
	fault_pending = false;
	snprintf(errbuf, sizeof errbuf, "%s: the store failed on purpose (fault build)", what);
	return true;
}
#endif

const char *
store_errmsg(const struct store *s)
{
	(void) s;
	return errbuf;
}

uint64_t
store_writes(const struct store *s)
{
	return __atomic_load_n(&s->writes, __ATOMIC_ACQUIRE);
}
