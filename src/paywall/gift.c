#include "paywall/gift.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/slice.h"
#include "core/banned.h"

#define MAC_CHARS TOKEN_MAC_CHARS

/* Under a label of its own, so that no other signed cookie passes for this one. */
static void
gift_mac(const unsigned char key[SECRET_BYTES], const char *payload, size_t n, char out[MAC_CHARS + 1])
{
	token_mac(key, "gift:", payload, n, out);
}

void
gift_cookie_parse(const char *text, const unsigned char key[SECRET_BYTES], int64_t now, struct gift_jar *jar)
{
	jar->n = 0;
	if (!text || strnlen(text, GIFT_COOKIE_MAX + 1) > GIFT_COOKIE_MAX)
		return;
	const char *sep = strrchr(text, '~');
	if (!sep || strlen(sep + 1) != MAC_CHARS)
		return;
	char want[MAC_CHARS + 1];
	gift_mac(key, text, (size_t) (sep - text), want);
	if (sodium_memcmp(want, sep + 1, MAC_CHARS) != 0)
		return;
	struct slice rest = { text, (size_t) (sep - text) }, one, id, exp;
	while (rest.len && jar->n < GIFT_MAX) {
		slice_split(&rest, '~', &one);
		long article, until;
		if (!slice_split(&one, '.', &id) || !slice_split(&one, '.', &exp) || !slice_to_long(id, &article) ||
		    !slice_to_long(exp, &until) || one.len != TOKEN_CHARS || until <= now)
			continue;
		struct gift_held *g = &jar->held[jar->n];
		memcpy(g->token, one.ptr, TOKEN_CHARS);
		g->token[TOKEN_CHARS] = '\0';
		if (!token_well_formed(g->token))
			continue;
		g->article_id = article;
		g->expires_at = until;
		jar->n++;
	}
}

bool
gift_cookie_format(const struct gift_jar *jar, const unsigned char key[SECRET_BYTES], int64_t now, struct buf *out,
                   long *max_age)
{
	struct buf b = BUF_INIT;
	int64_t last = now;
	for (size_t i = 0; i < jar->n; i++) {
		buf_printf(&b, "%s%lld.%lld.%s", i ? "~" : "", (long long) jar->held[i].article_id,
		           (long long) jar->held[i].expires_at, jar->held[i].token);
		if (jar->held[i].expires_at > last)
			last = jar->held[i].expires_at;
	}
	char mac[MAC_CHARS + 1];
	gift_mac(key, b.ptr, b.len, mac);
	buf_putc(&b, '~');
	buf_puts(&b, mac);
	bool ok = !buf_error(&b) && last > now;
	if (ok) {
		buf_add_slice(out, buf_slice(&b));
		*max_age = (long) (last - now);
		ok = !buf_error(out);
	}
	buf_release(&b);
	return ok;
}

void
gift_keep(struct gift_jar *jar, int64_t article_id, int64_t expires_at, const char *token)
{
	size_t k = 0;
	for (size_t i = 0; i < jar->n; i++)
		if (strcmp(jar->held[i].token, token) != 0)
			jar->held[k++] = jar->held[i];
	jar->n = k;
	if (jar->n == GIFT_MAX) {
		memmove(jar->held, jar->held + 1, (GIFT_MAX - 1) * sizeof *jar->held);
		jar->n--;
	}
	struct gift_held *g = &jar->held[jar->n++];
	g->article_id = article_id;
	g->expires_at = expires_at;
	snprintf(g->token, sizeof g->token, "%s", token);
}

void
gift_plan_for(struct gift_plan *p, const struct gift_jar *jar, int64_t article_id, const char *given)
{
	memset(p, 0, sizeof *p);
	p->given = given != NULL;
	if (given) {
		struct gift_try *t = &p->tries[p->n++];
		t->given = true;
		if (token_well_formed(given)) {
			memcpy(t->token, given, TOKEN_CHARS + 1);
			for (size_t i = 0; i < jar->n && !t->held; i++)
				t->held =
				        jar->held[i].article_id == article_id && strcmp(jar->held[i].token, given) == 0;
		} else {
			t->malformed = true;
		}
	}
	/* Then any other gift held for it, newest first. */
	for (size_t i = jar->n; i-- > 0;) {
		if (jar->held[i].article_id != article_id || (given && strcmp(jar->held[i].token, given) == 0))
			continue;
		struct gift_try *t = &p->tries[p->n++];
		memcpy(t->token, jar->held[i].token, sizeof t->token);
		t->held = true;
	}
}

enum gift_outcome
gift_judge(const struct gift_link *g, int64_t article_id, bool held, int64_t now, bool *spend)
{
	*spend = false;
	if (!g || g->article_id != article_id)
		return GIFT_UNKNOWN;
	if (g->revoked_at)
		return GIFT_REVOKED;
	if (g->expires_at <= now)
		return GIFT_EXPIRED;
	*spend = !held;
	return GIFT_OK;
}

enum gift_outcome
gift_settle(const struct gift_plan *p, const struct gift_try *t, enum gift_outcome got, enum gift_outcome tried)
{
	/* A refused link of the reader's own says why, unless a held one opens the article. */
	if (t->given || tried == GIFT_OK || !p->given)
		return tried;
	return got;
}
