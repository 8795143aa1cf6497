/* ops.c: the public store_*() functions, one per entry of the backend's
 * table (store_impl.h), so no caller outside src/store/ reaches the table. */
#include <string.h>

#include "store/store.h"

#include "store/store_impl.h"
#include "paywall/access.h"
#include "core/banned.h"

mh_err
store_migrate(struct store *s, int *applied)
{
	return s->ops->migrate(s, applied);
}

mh_err
store_migrations_pending(struct store *s, int *pending)
{
	return s->ops->migrations_pending(s, pending);
}

mh_err
store_ping(struct store *s)
{
	return s->ops->ping(s);
}

mh_err
store_bulk_memory(struct store *s, unsigned mib)
{
	return s->ops->bulk_memory(s, mib);
}

mh_err
store_site_secret(struct store *s, const char *fresh, char *out, size_t outlen)
{
	return s->ops->site_secret(s, fresh, out, outlen);
}

mh_err
store_versions(struct store *s, struct store_versions *out)
{
	return s->ops->versions(s, out);
}

mh_err
store_member_changes(struct store *s, struct arena *a, int64_t *cursor, size_t max, int64_t **ids, size_t *n,
                     bool *flush)
{
	return s->ops->member_changes(s, a, cursor, max, ids, n, flush);
}

void
store_set_pool(struct store *s, int max)
{
	if (s->ops->set_pool)
		s->ops->set_pool(s, max);
}

void
store_release(struct store *s)
{
	if (s->ops->release)
		s->ops->release(s);
}

mh_err
store_listen(struct store *s, const struct store_push *p, struct store_listener **out)
{
	*out = NULL;
	if (!s->ops->listen)
		return MH_ERR_UNSUPPORTED;
	return s->ops->listen(s, p, out);
}

void
store_listener_stop(struct store *s, struct store_listener *l)
{
	if (l && s->ops->listener_stop)
		s->ops->listener_stop(l);
}

mh_err
store_begin(struct store *s)
{
	return s->ops->begin(s);
}

mh_err
store_commit(struct store *s)
{
	return s->ops->commit(s);
}

mh_err
store_rollback(struct store *s)
{
	return s->ops->rollback(s);
}

mh_err
store_article_upsert(struct store *s, const struct article_input *in, int64_t *id, bool *created)
{
	return s->ops->article_upsert(s, in, id, created);
}

mh_err
store_article_by_slug(struct store *s, struct arena *a, const char *slug, struct article **out)
{
	return s->ops->article_by_slug(s, a, slug, out);
}

mh_err
store_article_list(struct store *s, struct arena *a, const struct article_filter *f, struct article **out, size_t *n)
{
	return s->ops->article_list(s, a, f, out, n);
}

mh_err
store_article_sources(struct store *s, struct arena *a, struct article_source **out, size_t *n)
{
	return s->ops->article_sources(s, a, out, n);
}

mh_err
store_named_by_slug(struct store *s, struct arena *a, enum list_kind kind, const char *slug, struct named_ref *out)
{
	return s->ops->named_by_slug(s, a, kind, slug, out);
}

mh_err
store_speaker_by_slug(struct store *s, struct arena *a, const char *slug, struct speaker *out)
{
	return s->ops->speaker_by_slug(s, a, slug, out);
}

mh_err
store_speaker_quotes(struct store *s, struct arena *a, int64_t speaker_id, struct quote **out, size_t *n)
{
	return s->ops->speaker_quotes(s, a, speaker_id, out, n);
}

mh_err
store_member_create(struct store *s, const struct member *m, int64_t *id)
{
	return s->ops->member_create(s, m, id);
}

mh_err
store_member_by_email(struct store *s, struct arena *a, const char *email, struct member *out)
{
	return s->ops->member_by_email(s, a, email, out);
}

mh_err
store_member_list(struct store *s, struct arena *a, struct member **out, size_t *n)
{
	return s->ops->member_list(s, a, out, n);
}

mh_err
store_member_set_role(struct store *s, const char *email, enum member_role role)
{
	return s->ops->member_set_role(s, email, role);
}

mh_err
store_member_set_password(struct store *s, const char *email, const char *hash)
{
	return s->ops->member_set_password(s, email, hash);
}

mh_err
store_member_by_id(struct store *s, struct arena *a, int64_t id, struct member *out)
{
	return s->ops->member_by_id(s, a, id, out);
}

mh_err
store_member_update(struct store *s, int64_t id, const char *name, const char *email, int verified)
{
	return s->ops->member_update(s, id, name, email, verified);
}

mh_err
store_session_create(struct store *s, const struct session *in)
{
	return s->ops->session_create(s, in);
}

mh_err
store_session_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct session *out,
                  struct member *m)
{
	return s->ops->session_get(s, a, token_hash, now, out, m);
}

mh_err
store_session_touch(struct store *s, const char *token_hash, int64_t now, int64_t expires_at)
{
	return s->ops->session_touch(s, token_hash, now, expires_at);
}

mh_err
store_session_delete(struct store *s, const char *token_hash)
{
	return s->ops->session_delete(s, token_hash);
}

mh_err
store_session_delete_member(struct store *s, int64_t member_id, const char *keep_hash)
{
	return s->ops->session_delete_member(s, member_id, keep_hash);
}

mh_err
store_session_list(struct store *s, struct arena *a, int64_t member_id, int64_t now, struct session **out, size_t *n)
{
	return s->ops->session_list(s, a, member_id, now, out, n);
}

mh_err
store_token_create(struct store *s, const struct auth_token *t)
{
	return s->ops->token_create(s, t);
}

mh_err
store_token_get(struct store *s, struct arena *a, const char *token_hash, enum token_purpose purpose, int64_t now,
                struct auth_token *out)
{
	return s->ops->token_get(s, a, token_hash, purpose, now, out);
}

mh_err
store_rate_count(struct store *s, const char *bucket, int64_t now, int64_t window, int *n, int64_t *retry_after)
{
	return s->ops->rate_count(s, bucket, now, window, n, retry_after);
}

mh_err
store_token_spend_member(struct store *s, int64_t member_id, int64_t now)
{
	return s->ops->token_spend_member(s, member_id, now);
}

mh_err
store_token_use(struct store *s, const char *token_hash, enum token_purpose purpose, int64_t now)
{
	return s->ops->token_use(s, token_hash, purpose, now);
}

mh_err
store_rate_hit(struct store *s, const char *bucket, int64_t now, int64_t window, int limit, bool *allowed,
               int64_t *retry_after)
{
	return s->ops->rate_hit(s, bucket, now, window, limit, allowed, retry_after);
}

mh_err
store_housekeep(struct store *s, int64_t now, int *removed)
{
	return s->ops->housekeep(s, now, removed);
}

mh_err
store_outbox_push(struct store *s, const struct outbox_mail *m, int64_t *id)
{
	return s->ops->outbox_push(s, m, id);
}

mh_err
store_outbox_claim(struct store *s, struct arena *a, int64_t now, int64_t lease, size_t max, struct outbox_mail **out,
                   size_t *n)
{
	return s->ops->outbox_claim(s, a, now, lease, max, out, n);
}

mh_err
store_outbox_sent(struct store *s, int64_t id, int64_t now)
{
	return s->ops->outbox_sent(s, id, now);
}

mh_err
store_outbox_retry(struct store *s, int64_t id, int64_t next_attempt_at, const char *error)
{
	return s->ops->outbox_retry(s, id, next_attempt_at, error);
}

mh_err
store_outbox_list(struct store *s, struct arena *a, struct outbox_mail **out, size_t *n)
{
	return s->ops->outbox_list(s, a, out, n);
}

mh_err
store_plan_upsert(struct store *s, const struct plan *p, int64_t *id)
{
	return s->ops->plan_upsert(s, p, id);
}

mh_err
store_plan_list(struct store *s, struct arena *a, bool all, struct plan **out, size_t *n)
{
	return s->ops->plan_list(s, a, all, out, n);
}

mh_err
store_plan_get(struct store *s, struct arena *a, int64_t id, const char *code, struct plan *out)
{
	return s->ops->plan_get(s, a, id, code, out);
}

mh_err
store_subscription_by_member(struct store *s, struct arena *a, int64_t member_id, struct subscription *out)
{
	return s->ops->subscription_by_member(s, a, member_id, out);
}

mh_err
store_subscription_get(struct store *s, struct arena *a, int64_t id, struct subscription *out)
{
	return s->ops->subscription_get(s, a, id, out);
}

mh_err
store_subscription_save(struct store *s, struct subscription *sub)
{
	return s->ops->subscription_save(s, sub);
}

mh_err
store_payment_method_add(struct store *s, struct payment_method *pm, bool make_default)
{
	return s->ops->payment_method_add(s, pm, make_default);
}

mh_err
store_payment_method_default(struct store *s, struct arena *a, int64_t member_id, struct payment_method *out)
{
	return s->ops->payment_method_default(s, a, member_id, out);
}

mh_err
store_gift_create(struct store *s, struct gift_link *g)
{
	return s->ops->gift_create(s, g);
}

mh_err
store_gift_get(struct store *s, struct arena *a, const char *token_hash, struct gift_link *out)
{
	return s->ops->gift_get(s, a, token_hash, out);
}

mh_err
store_gift_use(struct store *s, int64_t id, int64_t now)
{
	return s->ops->gift_use(s, id, now);
}

mh_err
store_gift_list(struct store *s, struct arena *a, int64_t member_id, struct gift_link **out, size_t *n)
{
	return s->ops->gift_list(s, a, member_id, out, n);
}

mh_err
store_gift_revoke(struct store *s, int64_t id, int64_t member_id, int64_t now)
{
	return s->ops->gift_revoke(s, id, member_id, now);
}

mh_err
store_meter_get(struct store *s, int64_t member_id, const char *month, int64_t article_id, int *count, bool *has)
{
	return s->ops->meter_get(s, member_id, month, article_id, count, has);
}

mh_err
store_meter_add(struct store *s, int64_t member_id, const char *month, int64_t article_id, int64_t now)
{
	return s->ops->meter_add(s, member_id, month, article_id, now);
}

mh_err
store_invoice_create(struct store *s, struct invoice *inv)
{
	return s->ops->invoice_create(s, inv);
}

mh_err
store_invoice_save(struct store *s, const struct invoice *inv)
{
	return s->ops->invoice_save(s, inv);
}

mh_err
store_invoice_get(struct store *s, struct arena *a, int64_t id, struct invoice *out)
{
	return s->ops->invoice_get(s, a, id, out);
}

mh_err
store_invoice_open(struct store *s, struct arena *a, int64_t subscription_id, struct invoice *out)
{
	return s->ops->invoice_open(s, a, subscription_id, out);
}

mh_err
store_invoice_list(struct store *s, struct arena *a, int64_t subscription_id, struct invoice **out, size_t *n)
{
	return s->ops->invoice_list(s, a, subscription_id, out, n);
}

mh_err
store_invoices_due(struct store *s, struct arena *a, int64_t now, struct invoice **out, size_t *n)
{
	return s->ops->invoices_due(s, a, now, out, n);
}

mh_err
store_invoice_claim(struct store *s, int64_t id, int64_t now, int64_t lease)
{
	return s->ops->invoice_claim(s, id, now, lease);
}

mh_err
store_invoice_release(struct store *s, int64_t id)
{
	return s->ops->invoice_release(s, id);
}

mh_err
store_charge_begin(struct store *s, struct charge *c)
{
	return s->ops->charge_begin(s, c);
}

mh_err
store_charge_finish(struct store *s, int64_t id, const char *status, const char *code, const char *message, int64_t now)
{
	return s->ops->charge_finish(s, id, status, code, message, now);
}

mh_err
store_charges_pending(struct store *s, struct arena *a, struct charge **out, size_t *n)
{
	return s->ops->charges_pending(s, a, out, n);
}

mh_err
store_invoice_failure(struct store *s, struct arena *a, int64_t invoice_id, struct charge *out)
{
	return s->ops->invoice_failure(s, a, invoice_id, out);
}

mh_err
store_subscriptions_due(struct store *s, struct arena *a, int64_t now, int64_t trial_notice, struct subscription **out,
                        size_t *n)
{
	return s->ops->subscriptions_due(s, a, now, trial_notice, out, n);
}

mh_err
store_subscription_by_provider(struct store *s, struct arena *a, const char *provider_id, const char *customer,
                               struct subscription *out)
{
	return s->ops->subscription_by_provider(s, a, provider_id, customer, out);
}

mh_err
store_cards_expiring(struct store *s, struct arena *a, int64_t before_month_index, struct payment_method **out,
                     size_t *n)
{
	return s->ops->cards_expiring(s, a, before_month_index, out, n);
}

mh_err
store_card_reminded(struct store *s, int64_t id)
{
	return s->ops->card_reminded(s, id);
}

mh_err
store_checkout_create(struct store *s, const struct checkout *c)
{
	return s->ops->checkout_create(s, c);
}

mh_err
store_checkout_get(struct store *s, struct arena *a, const char *token_hash, int64_t now, struct checkout *out)
{
	return s->ops->checkout_get(s, a, token_hash, now, out);
}

mh_err
store_checkout_complete(struct store *s, const char *token_hash)
{
	return s->ops->checkout_complete(s, token_hash);
}

mh_err
store_test_ledger_charge(struct store *s, struct arena *a, const char *key, int64_t amount, const char *outcome,
                         int64_t now, const char **recorded)
{
	return s->ops->test_ledger_charge(s, a, key, amount, outcome, now, recorded);
}

mh_err
store_test_ledger_count(struct store *s, const char *key_prefix, int *n)
{
	return s->ops->test_ledger_count(s, key_prefix, n);
}

mh_err
store_billing_event_record(struct store *s, const char *provider, const char *event_id, const char *type,
                           int64_t created, int64_t now)
{
	return s->ops->billing_event_record(s, provider, event_id, type, created, now);
}

mh_err
store_search_compact(struct store *s)
{
	return s->ops->search_compact(s);
}

mh_err
store_search(struct store *s, struct arena *a, const char *match, const struct search_scope *scope,
             struct search_row **out, size_t *n, bool *more)
{
	return s->ops->search(s, a, match, scope, out, n, more);
}

mh_err
store_search_excerpt(struct store *s, struct arena *a, const char *match, int64_t article_id,
                     struct search_excerpt *out)
{
	return s->ops->search_excerpt(s, a, match, article_id, out);
}

mh_err
store_search_gated_snippet(struct store *s, struct arena *a, const char *match, const struct access_decision *decision,
                           const char **snippet)
{
	*snippet = "";
	if (!decision || !decision->full || decision->article_id <= 0 || decision->reason == REASON_GIFT ||
	    decision->reason == REASON_METERED)
		return MH_ERR_DENIED;
	return s->ops->search_gated_snippet(s, a, match, decision->article_id, snippet);
}

mh_err
store_feed_token_save(struct store *s, const struct feed_token *t)
{
	return s->ops->feed_token_save(s, t);
}

mh_err
store_feed_token_delete(struct store *s, int64_t member_id)
{
	return s->ops->feed_token_delete(s, member_id);
}

mh_err
store_feed_token_by_member(struct store *s, struct arena *a, int64_t member_id, struct feed_token *out)
{
	return s->ops->feed_token_by_member(s, a, member_id, out);
}

mh_err
store_feed_token_find(struct store *s, struct arena *a, const char *token_hash, struct feed_token *out)
{
	return s->ops->feed_token_find(s, a, token_hash, out);
}

mh_err
store_sitemap_list(struct store *s, struct arena *a, int64_t now, struct sitemap_entry **out, size_t *n)
{
	return s->ops->sitemap_list(s, a, now, out, n);
}

mh_err
store_api_key_create(struct store *s, const struct api_key *k, int64_t *id)
{
	return s->ops->api_key_create(s, k, id);
}

mh_err
store_api_key_by_hash(struct store *s, struct arena *a, const char *key_hash, struct api_key *out)
{
	return s->ops->api_key_by_hash(s, a, key_hash, out);
}

mh_err
store_api_key_list(struct store *s, struct arena *a, struct api_key **out, size_t *n)
{
	return s->ops->api_key_list(s, a, out, n);
}

mh_err
store_api_key_revoke(struct store *s, const char *name, int64_t now)
{
	return s->ops->api_key_revoke(s, name, now);
}

mh_err
store_redirect_put(struct store *s, const char *old_path, const char *new_path, const char *source, int64_t now)
{
	return s->ops->redirect_put(s, old_path, new_path, source, now);
}

mh_err
store_redirect_get(struct store *s, struct arena *a, const char *old_path, const char **new_path)
{
	return s->ops->redirect_get(s, a, old_path, new_path);
}

mh_err
store_redirect_list(struct store *s, struct arena *a, struct redirect **out, size_t *n)
{
	return s->ops->redirect_list(s, a, out, n);
}

mh_err
store_consent_put(struct store *s, int64_t member_id, bool newsletter, const char *source, int64_t now)
{
	return s->ops->consent_put(s, member_id, newsletter, source, now);
}

mh_err
store_consent_get(struct store *s, int64_t member_id, bool *newsletter)
{
	return s->ops->consent_get(s, member_id, newsletter);
}

mh_err
store_member_set_comped(struct store *s, int64_t member_id, int64_t until)
{
	return s->ops->member_set_comped(s, member_id, until);
}

mh_err
store_speaker_list(struct store *s, struct arena *a, int64_t now, struct speaker **out, size_t *n)
{
	return s->ops->speaker_list(s, a, now, out, n);
}

mh_err
store_article_count(struct store *s, int64_t before, size_t *n)
{
	return s->ops->article_count(s, before, n);
}

mh_err
store_site_stats(struct store *s, struct arena *a, struct site_stats *out)
{
	return s->ops->site_stats(s, a, out);
}

mh_err
store_audit_add(struct store *s, const struct audit_entry *e)
{
	return s->ops->audit_add(s, e);
}

mh_err
store_audit_list(struct store *s, struct arena *a, int64_t before_id, size_t limit, struct audit_entry **out, size_t *n)
{
	return s->ops->audit_list(s, a, before_id, limit, out, n);
}

mh_err
store_directory(struct store *s, struct arena *a, enum directory_kind kind, int64_t now, struct directory_entry **out,
                size_t *n)
{
	return s->ops->directory(s, a, kind, now, out, n);
}

mh_err
store_author_put(struct store *s, const struct author_profile *p)
{
	return s->ops->author_put(s, p);
}

mh_err
store_author_get(struct store *s, struct arena *a, const char *slug, struct author_profile *out)
{
	return s->ops->author_get(s, a, slug, out);
}

mh_err
store_reads_add(struct store *s, const struct read_count *c, size_t n, int64_t hour, int64_t prune_before)
{
	return s->ops->reads_add(s, c, n, hour, prune_before);
}

mh_err
store_most_read(struct store *s, struct arena *a, int64_t since_hour, int64_t now, size_t limit, struct most_read **out,
                size_t *n)
{
	return s->ops->most_read(s, a, since_hour, now, limit, out, n);
}

mh_err
store_media_add(struct store *s, const struct media_row *m, bool *added)
{
	return s->ops->media_add(s, m, added);
}

mh_err
store_media_list(struct store *s, struct arena *a, size_t offset, size_t limit, struct media_row **out, size_t *n)
{
	return s->ops->media_list(s, a, offset, limit, out, n);
}

static const char *const newsroom_status_names[NEWSROOM_STATUS_COUNT] = {
	[NEWSROOM_DRAFT] = "draft",
	[NEWSROOM_SCHEDULED] = "scheduled",
	[NEWSROOM_PUBLISHED] = "published",
	[NEWSROOM_ARCHIVED] = "archived",
};

const char *
newsroom_status_name(enum newsroom_status st)
{
	return (unsigned) st < NEWSROOM_STATUS_COUNT ? newsroom_status_names[st] : "draft";
}

int
newsroom_status_parse(const char *name)
{
	for (int i = 0; name && i < NEWSROOM_STATUS_COUNT; i++)
		if (!strcmp(name, newsroom_status_names[i]))
			return i;
	return -1;
}

mh_err
store_newsroom_adopt(struct store *s, int64_t now)
{
	return s->ops->newsroom_adopt(s, now);
}

mh_err
store_newsroom_list(struct store *s, struct arena *a, const struct newsroom_filter *f, struct newsroom_article **out,
                    size_t *n, size_t *total)
{
	return s->ops->newsroom_list(s, a, f, out, n, total);
}

mh_err
store_newsroom_get(struct store *s, struct arena *a, int64_t id, struct newsroom_article *out)
{
	return s->ops->newsroom_get(s, a, id, out);
}

mh_err
store_newsroom_put(struct store *s, const struct newsroom_article *in, int64_t *id)
{
	return s->ops->newsroom_put(s, in, id);
}

mh_err
store_newsroom_revision_add(struct store *s, int64_t id, int64_t at, const char *actor, const char *note)
{
	return s->ops->newsroom_revision_add(s, id, at, actor, note);
}

mh_err
store_newsroom_revisions(struct store *s, struct arena *a, int64_t id, size_t limit, struct newsroom_revision **out,
                         size_t *n)
{
	return s->ops->newsroom_revisions(s, a, id, limit, out, n);
}

mh_err
store_newsroom_revision_get(struct store *s, struct arena *a, int64_t id, int64_t rev, struct newsroom_revision *out)
{
	return s->ops->newsroom_revision_get(s, a, id, rev, out);
}

mh_err
store_newsroom_due(struct store *s, struct arena *a, int64_t now, size_t max, int64_t **ids, size_t *n)
{
	return s->ops->newsroom_due(s, a, now, max, ids, n);
}

mh_err
store_newsroom_claim(struct store *s, int64_t id, int64_t now)
{
	return s->ops->newsroom_claim(s, id, now);
}

mh_err
store_article_delete(struct store *s, const char *slug)
{
	return s->ops->article_delete(s, slug);
}

mh_err
store_newsroom_preview_add(struct store *s, const char *token_hash, int64_t id, int64_t expires_at, int64_t now)
{
	return s->ops->newsroom_preview_add(s, token_hash, id, expires_at, now);
}

mh_err
store_newsroom_preview_get(struct store *s, const char *token_hash, int64_t now, int64_t *id)
{
	return s->ops->newsroom_preview_get(s, token_hash, now, id);
}

mh_err
store_member_search(struct store *s, struct arena *a, const char *q, size_t offset, size_t limit, struct member **out,
                    size_t *n)
{
	return s->ops->member_search(s, a, q, offset, limit, out, n);
}

mh_err
store_member_delete(struct store *s, int64_t member_id)
{
	return s->ops->member_delete(s, member_id);
}

mh_err
store_member_import(struct store *s, const struct member *m, size_t n, size_t *bad)
{
	return s->ops->member_import(s, m, n, bad);
}

mh_err
store_paying_at(struct store *s, struct arena *a, int64_t at, struct paying_at *out, size_t *n)
{
	return s->ops->paying_at(s, a, at, out, n);
}

mh_err
store_dash_counts(struct store *s, struct arena *a, int64_t from, int64_t to, struct dash_counts *out)
{
	return s->ops->dash_counts(s, a, from, to, out);
}

mh_err
store_invoices_failing(struct store *s, struct arena *a, size_t limit, struct failing_invoice **out, size_t *n)
{
	return s->ops->invoices_failing(s, a, limit, out, n);
}

mh_err
store_settings_get(struct store *s, struct arena *a, struct setting **out, size_t *n, int64_t *version)
{
	return s->ops->settings_get(s, a, out, n, version);
}

mh_err
store_settings_version(struct store *s, int64_t *version)
{
	return s->ops->settings_version(s, version);
}

mh_err
store_settings_save(struct store *s, const struct setting *put, size_t nput, const char *const *del, size_t ndel,
                    const struct plan *plans, size_t nplans, int64_t now)
{
	return s->ops->settings_save(s, put, nput, del, ndel, plans, nplans, now);
}

mh_err
store_device_code_add(struct store *s, int64_t member_id, const char *code_hash, int64_t now, int64_t expires_at,
                      int64_t *id)
{
	return s->ops->device_code_add(s, member_id, code_hash, now, expires_at, id);
}

mh_err
store_device_code_get(struct store *s, struct arena *a, int64_t id, struct device_code *out)
{
	return s->ops->device_code_get(s, a, id, out);
}

mh_err
store_device_code_try(struct store *s, int64_t id, int max_attempts, int64_t now)
{
	return s->ops->device_code_try(s, id, max_attempts, now);
}

mh_err
store_device_code_use(struct store *s, int64_t id)
{
	return s->ops->device_code_use(s, id);
}
