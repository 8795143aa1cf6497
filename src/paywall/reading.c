/* reading.c: the one reading path. */
#include "paywall/reading.h"

#include "store/store.h"
#include "core/banned.h"

struct access_decision
reading_decide(struct article *art, const struct viewer *v, const struct reading_rules *rules, int64_t now)
{
	access_apply_auto_paywall(art, rules ? rules->auto_paywall_days : 0, now);
	return access_decide(art, v, now);
}

mh_err
reading_gated(struct store *s, struct arena *a, const struct article *art, const struct access_decision *d,
              const char **gated)
{
	*gated = NULL;
	if (!d->full)
		return MH_OK;
	return store_article_gated(s, a, art, d, gated);
}

mh_err
reading_open(struct store *s, struct arena *a, const char *slug, const struct viewer *v,
             const struct reading_rules *rules, int64_t now, struct reading *out)
{
	out->article = NULL;
	out->gated_html = NULL;
	mh_err err = store_article_by_slug(s, a, slug, &out->article);
	if (err)
		return err;
	if (out->article->published_at > now)
		return MH_ERR_NOTFOUND;
	out->decision = reading_decide(out->article, v, rules, now);
	return reading_gated(s, a, out->article, &out->decision, &out->gated_html);
}

mh_err
reading_quote(struct store *s, struct arena *a, struct quote *q, const struct viewer *v,
              const struct reading_rules *rules, int64_t now, const char **text, struct access_decision *d)
{
	*d = (struct access_decision){ 0, true, REASON_PUBLIC };
	*text = q->text_html;
	if (!q->gated)
		return MH_OK;
	/* A quote from a gated part follows its article's decision. */
	*d = reading_decide(&q->article, v, rules, now);
	*text = NULL;
	if (!d->full)
		return MH_OK;
	return store_quote_gated(s, a, q, d, text);
}

bool
reading_may_gift(const struct article *art, const struct access_decision *d)
{
	if (art->access != ACCESS_PAID || !d->full || d->article_id != art->id)
		return false;
	switch (d->reason) {
	case REASON_SUBSCRIBER:
	case REASON_GRACE:
	case REASON_STAFF:
	case REASON_COMPED: return true;
	default: return false;
	}
}
