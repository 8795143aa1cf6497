/* billing.c: the subscription lifecycle. Statuses follow Stripe's names.
 *
 * A charge is recorded as pending (with its idempotency key) before the
 * provider is asked, and finished afterwards; billing_reconcile asks the
 * provider again, under the same key, about any charge a crash left
 * pending. Renewal invoices are unique per subscription and period, and
 * claimed with a lease before charging, so several nodes running the
 * scheduler never charge one invoice twice. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fault.h"
#include "billing/billing.h"
#include "core/log.h"
#include "core/text.h"
#include "mail/mail.h"
#include "core/banned.h"

#define DAY               86400
#define CLAIM_LEASE       300
#define MAX_CATCH_UP      36 /* periods one run may renew for a subscription left behind */
#define TRIAL_NOTICE      (3 * DAY)
#define INCOMPLETE_EXPIRY DAY

static int
month_index(int64_t t)
{
	time_t tt = (time_t) t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

const char *
billing_money(struct arena *a, int64_t amount, const char *currency)
{
	const char *sym = NULL;
	if (!strcmp(currency, "usd"))
		sym = "$";
	else if (!strcmp(currency, "eur"))
		sym = "\xe2\x82\xac";
	else if (!strcmp(currency, "gbp"))
		sym = "\xc2\xa3";
	if (sym)
		return arena_printf(a, "%s%lld.%02lld", sym, (long long) (amount / 100), (long long) (amount % 100));
	return arena_printf(a, "%lld.%02lld %s", (long long) (amount / 100), (long long) (amount % 100), currency);
}

/* When to retry after `failures` failed attempts: cfg->retry_days counts
 * days from the first failure; 0 when the schedule is done. */
static int64_t
retry_at(const struct billing *b, int64_t first_failure, int failures)
{
	const char *p = b->cfg->retry_days && b->cfg->retry_days[0] ? b->cfg->retry_days : "1,3,5";
	int k = 0;
	while (*p) {
		char *end;
		long d = strtol(p, &end, 10);
		if (end == p)
			break;
		if (++k == failures)
			return first_failure + d * DAY;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* Queues a billing mail to member_id; *queued says whether one was. A
 * store failure is MH_ERR_DB: the caller's transaction is in doubt, so it
 * rolls back and the work is done again, mail and all. Anything else (no
 * such template, no such member) is logged and sends nothing. */
static mh_err
notify_queue(struct billing *b, struct arena *a, int64_t member_id, const char *mail, int64_t plan_id,
             const struct invoice *inv, int64_t when, bool *queued)
{
	*queued = false;
	if (!b->templates)
		return MH_OK;
	struct store *s = b->store;
	struct member m;
	mh_err err = store_member_by_id(s, a, member_id, &m);
	if (err)
		return err == MH_ERR_NOTFOUND ? MH_OK : err;
	struct plan plan;
	err = plan_id ? store_plan_get(s, a, plan_id, NULL, &plan) : MH_ERR_NOTFOUND;
	if (err && err != MH_ERR_NOTFOUND)
		return err;
	bool has_plan = !err;
	struct payment_method pm;
	err = store_payment_method_default(s, a, member_id, &pm);
	if (err && err != MH_ERR_NOTFOUND)
		return err;
	bool has_card = !err;
	json_t *ctx = json_object();
	json_t *site = json_object();
	json_object_set_new(site, "name", json_string(b->cfg->site_name));
	json_object_set_new(site, "url", json_string(b->cfg->public_url));
	json_object_set_new(ctx, "site", site);
	json_t *mem = json_object();
	json_object_set_new(mem, "name", json_string(m.name));
	json_object_set_new(mem, "email", json_string(m.email));
	json_object_set_new(ctx, "member", mem);
	json_object_set_new(ctx, "billing_url", json_string(arena_printf(a, "%s/account/billing", b->cfg->public_url)));
	char human[48];
	time_format_human(when, human, sizeof human);
	json_object_set_new(ctx, "date", json_string(human));
	if (has_plan)
		json_object_set_new(ctx, "plan", json_string(plan.name));
	if (inv)
		json_object_set_new(ctx, "amount", json_string(billing_money(a, inv->amount, inv->currency)));
	if (has_card)
		json_object_set_new(ctx, "card",
		                    json_string(arena_printf(a, "%s ending %s, expires %02d/%d", pm.brand, pm.last4,
		                                             pm.exp_month, pm.exp_year)));
	err = mail_queue_template(s, b->cfg, b->templates, mail, ctx, m.email);
	json_decref(ctx);
	if (err == MH_ERR_DB)
		return err;
	if (err)
		log_warn("billing mail not queued", "mail=%s error=\"%s\"", mail, mh_strerror(err));
	*queued = !err;
	return MH_OK;
}

/* A mail that goes out on its own, after the change it tells of was
 * committed (a store failure loses it, logged). */
static void
notify(struct billing *b, struct arena *a, int64_t member_id, const char *mail, int64_t plan_id,
       const struct invoice *inv, int64_t when)
{
	bool queued;
	mh_err err = notify_queue(b, a, member_id, mail, plan_id, inv, when, &queued);
	if (err)
		log_warn("billing mail not queued", "mail=%s error=\"%s\"", mail, store_errmsg(b->store));
	else if (queued && b->mailer)
		mailer_wake(b->mailer);
}

const struct billing_provider *
billing_provider_named(const char *name)
{
	if (name && !strcmp(name, "stripe"))
		return &billing_stripe_provider;
	if (!name || !*name || !strcmp(name, "test"))
		return &billing_test_provider;
	return NULL;
}

/* Rows another provider charges (Stripe charges on its own) are not ours to renew. */
static bool
ours(const struct billing *b, const struct subscription *sub)
{
	return b->provider && b->provider->charge && strcmp(sub->provider, b->provider->name) == 0;
}

/* What a charge's outcome does to its invoice and subscription. Returns
 * true when it is the renewal's first failure (the member is mailed). */
static bool
apply_outcome(struct billing *b, struct subscription *sub, struct invoice *inv, int attempt,
              const struct charge_result *res, int64_t now)
{
	bool first_failure = false;
	if (attempt > inv->attempts)
		inv->attempts = attempt;
	if (res->ok) {
		inv->status = "paid";
		inv->paid_at = now;
		inv->next_attempt_at = 0;
		sub->status = SUB_ACTIVE;
		sub->grace_until = 0;
		if (inv->period_end > sub->period_end || sub->status == SUB_INCOMPLETE) {
			sub->period_start = inv->period_start;
			sub->period_end = inv->period_end;
		}
	} else if (sub->status == SUB_INCOMPLETE) {
		inv->next_attempt_at = 0; /* a first payment is not retried: the member is still at checkout */
	} else {
		inv->next_attempt_at = retry_at(b, inv->created_at, inv->attempts);
		if (sub->status == SUB_ACTIVE || sub->status == SUB_TRIALING) {
			long grace = b->cfg->grace_days > 0 ? b->cfg->grace_days : 7;
			sub->status = SUB_PAST_DUE;
			sub->grace_until = now + grace * DAY;
			first_failure = true;
		}
	}
	sub->updated_at = now;
	return first_failure;
}

/* Records a charge's outcome on its invoice and subscription, in one
 * transaction. The money has moved by now, so a subscription changed since it
 * was read (a cancellation, a webhook) is read again and the outcome applied
 * over that change, never over an old copy of the row. */
static mh_err
finish_charge(struct billing *b, struct arena *a, struct subscription *sub, struct invoice *inv, const struct charge *c,
              int attempt, const struct charge_result *res, int64_t now)
{
	struct store *s = b->store;
	struct invoice inv0 = *inv;
	mh_err err = MH_ERR_CONFLICT;
	bool first_failure = false, queued = false;
	for (int tries = 0; tries < 8 && err == MH_ERR_CONFLICT; tries++) {
		if (tries > 0) {
			*inv = inv0;
			if ((err = store_subscription_get(s, a, sub->id, sub)))
				return err;
		}
		if ((err = store_begin(s)))
			return err;
		err = store_charge_finish(s, c->id, res->ok ? "succeeded" : "failed", res->code, res->message, now);
		if (err == MH_ERR_CONFLICT) {
			/* Another worker (a reconcile) recorded this outcome already,
			 * with its invoice and subscription: nothing more to do here. */
			store_rollback(s);
			return MH_OK;
		}
		if (!err) {
			first_failure = apply_outcome(b, sub, inv, attempt, res, now);
			/* Its mail in the same transaction: the outcome is never
			 * recorded without it (a store failure undoes both, and the
			 * charge, left pending, is finished again by a reconcile). */
			const char *mail = res->ok ? "receipt" : first_failure ? "payment-failed" : NULL;
			if (!(err = store_invoice_save(s, inv)) && !(err = store_subscription_save(s, sub)) &&
			    !(err = mail ? notify_queue(b, a, sub->member_id, mail, sub->plan_id, inv, now, &queued)
			                 : MH_OK))
				err = store_commit(s);
		}
		if (err)
			store_rollback(s);
	}
	if (err)
		return err;
	if (queued && b->mailer)
		mailer_wake(b->mailer);
	return MH_OK;
}

/* Charges an invoice once (its next attempt) and records the outcome. */
static mh_err
charge_invoice(struct billing *b, struct arena *a, struct subscription *sub, struct invoice *inv, int64_t now,
               struct charge_result *res)
{
	struct store *s = b->store;
	if (!b->provider || !b->provider->charge)
		return MH_ERR_UNSUPPORTED;
	struct payment_method pm;
	mh_err err = store_payment_method_default(s, a, sub->member_id, &pm);
	if (err && err != MH_ERR_NOTFOUND)
		return err;
	int attempt = inv->attempts + 1;
	struct charge c = { 0,
		            inv->id,
		            arena_printf(a, "inv%lld-a%d", (long long) inv->id, attempt),
		            err ? 0 : pm.id,
		            "pending",
		            "",
		            "",
		            now,
		            0 };
	/* The intent first: a crash after the provider charged leaves a trace. */
	if ((err = store_charge_begin(s, &c)))
		return err;
	if (!c.payment_method_id) {
		*res = (struct charge_result){ false, "no_card", "There is no card on file." };
	} else if ((err = b->provider->charge(b, a, &pm, inv->amount, inv->currency, c.idempotency_key, now, res))) {
		log_error("charge failed to complete", "invoice=%lld error=\"%s\"", (long long) inv->id,
		          store_errmsg(s));
		return err; /* left pending: billing_reconcile finishes it */
	}
	if (fault_hit("crash-after-charge")) {
		/* A fault build for tests: die between the provider's charge and our record of it. */
		_exit(3);
	}
	return finish_charge(b, a, sub, inv, &c, attempt, res, now);
}

mh_err
billing_reconcile(struct billing *b, int64_t now, int *finished)
{
	struct store *s = b->store;
	struct arena *a = arena_new();
	struct charge *list;
	size_t n;
	*finished = 0;
	mh_err err = store_charges_pending(s, a, &list, &n);
	for (size_t i = 0; !err && i < n; i++) {
		struct invoice inv;
		struct subscription sub;
		struct payment_method pm;
		const char *dash = strrchr(list[i].idempotency_key, 'a');
		int attempt = dash ? (int) strtol(dash + 1, NULL, 10) : 1;
		if ((err = store_invoice_get(s, a, list[i].invoice_id, &inv)) ||
		    (err = store_subscription_get(s, a, inv.subscription_id, &sub)))
			break;
		struct charge_result res = { false, "no_card", "There is no card on file." };
		err = store_payment_method_default(s, a, sub.member_id, &pm);
		if (err == MH_OK && b->provider && b->provider->charge)
			/* The same key: the provider answers with what it already did. */
			err = b->provider->charge(b, a, &pm, inv.amount, inv.currency, list[i].idempotency_key, now,
			                          &res);
		else if (err == MH_ERR_NOTFOUND)
			err = MH_OK;
		if (!err && !(err = finish_charge(b, a, &sub, &inv, &list[i], attempt, &res, now)))
			(*finished)++;
	}
	arena_free(a);
	return err;
}

/* Creates the invoice for the period from start and claims it, in one
 * statement. MH_ERR_CONFLICT (and inv->id) when the period has one. */
static mh_err
new_invoice(struct billing *b, struct subscription *sub, const struct plan *plan, int64_t start, int64_t now,
            struct arena *a, struct invoice *inv)
{
	memset(inv, 0, sizeof *inv);
	inv->subscription_id = sub->id;
	inv->amount = plan->amount;
	inv->currency = plan->currency;
	inv->status = "open";
	inv->period_start = start;
	inv->period_end = time_add_months(start, plan->interval_months);
	inv->idempotency_key = arena_printf(a, "sub%lld-p%lld", (long long) sub->id, (long long) start);
	inv->created_at = now;
	inv->provider_id = "";
	inv->claimed_until = now + CLAIM_LEASE;
	return store_invoice_create(b->store, inv);
}

static mh_err
save_card(struct billing *b, int64_t member_id, const struct test_card *card, int64_t now)
{
	struct payment_method pm = { 0,
		                     member_id,
		                     card->brand,
		                     card->last4,
		                     card->exp_month,
		                     card->exp_year,
		                     card->behavior == CARD_CHARGES_FAIL ? "fail" : "ok",
		                     true,
		                     "",
		                     now };
	return store_payment_method_add(b->store, &pm, true);
}

mh_err
billing_subscribe(struct billing *b, struct arena *a, int64_t member_id, int64_t plan_id, const struct test_card *card,
                  int64_t now, struct billing_outcome *out)
{
	struct store *s = b->store;
	out->ok = false;
	out->message = test_card_decline(card);
	if (out->message)
		return MH_OK; /* refused at entry: nothing is saved */
	struct plan plan;
	mh_err err = store_plan_get(s, a, plan_id, NULL, &plan);
	if (err == MH_ERR_NOTFOUND || (!err && plan.retired)) {
		out->message = "That plan is no longer offered.";
		return MH_OK;
	}
	if (err)
		return err;
	struct subscription sub;
	err = store_subscription_by_member(s, a, member_id, &sub);
	if (err && err != MH_ERR_NOTFOUND)
		return err;
	if (!err && sub_status_live(sub.status)) {
		out->ok = true;
		out->message = "You already have a subscription.";
		return MH_OK;
	}
	/* A first payment that failed: the new card pays the same invoice. A
	 * subscription left without one (the store failed between the two
	 * writes) starts again below, so nobody is stuck half subscribed. */
	if (!err && sub.status == SUB_INCOMPLETE && sub.plan_id == plan_id) {
		struct invoice open;
		mh_err found = store_invoice_open(s, a, sub.id, &open);
		if (found == MH_OK)
			return billing_update_card(b, a, member_id, card, now, out);
		if (found != MH_ERR_NOTFOUND)
			return found;
	}
	if (err == MH_ERR_NOTFOUND) {
		memset(&sub, 0, sizeof sub);
		sub.created_at = now;
	}
	sub.member_id = member_id;
	sub.plan_id = plan.id;
	sub.provider = "test";
	sub.provider_id = sub.provider_customer = "";
	sub.period_start = now;
	sub.cancel_at_period_end = false;
	sub.canceled_at = sub.grace_until = 0;
	sub.updated_at = now;
	/* One free trial a member: a subscription row that had one keeps its
	 * trial_end (in the past) whatever comes after, and starts no other. */
	bool trial = plan.trial_days > 0 && sub.trial_end == 0;
	if (trial) {
		sub.status = SUB_TRIALING;
		sub.trial_end = now + (int64_t) plan.trial_days * DAY;
		sub.period_end = sub.trial_end;
		sub.trial_reminded = false;
	} else {
		sub.status = SUB_INCOMPLETE;
		sub.period_end = time_add_months(now, plan.interval_months);
	}
	if ((err = save_card(b, member_id, card, now)) || (err = store_subscription_save(s, &sub)))
		return err;
	/* What an earlier subscription left unpaid is not owed by this one. */
	struct invoice old;
	for (int i = 0; i < 100 && store_invoice_open(s, a, sub.id, &old) == MH_OK; i++) {
		old.status = "void";
		old.next_attempt_at = 0;
		if ((err = store_invoice_save(s, &old)))
			return err;
	}
	if (trial) {
		out->ok = true;
		return MH_OK;
	}
	struct invoice inv;
	if ((err = new_invoice(b, &sub, &plan, now, now, a, &inv)))
		return err; /* MH_ERR_CONFLICT: another request (a second click) pays it */
	struct charge_result res;
	err = charge_invoice(b, a, &sub, &inv, now, &res);
	store_invoice_release(s, inv.id);
	if (err)
		return err;
	out->ok = res.ok;
	out->message = res.ok ? NULL : res.message;
	return MH_OK;
}

mh_err
billing_update_card(struct billing *b, struct arena *a, int64_t member_id, const struct test_card *card, int64_t now,
                    struct billing_outcome *out)
{
	struct store *s = b->store;
	out->ok = false;
	out->message = test_card_decline(card);
	if (out->message)
		return MH_OK;
	mh_err err = save_card(b, member_id, card, now);
	if (err)
		return err;
	struct subscription sub;
	if ((err = store_subscription_by_member(s, a, member_id, &sub)) == MH_ERR_NOTFOUND) {
		out->ok = true;
		return MH_OK;
	}
	if (err)
		return err;
	/* A new card retries what is owed at once: no waiting for the next retry. */
	struct invoice inv;
	err = store_invoice_open(s, a, sub.id, &inv);
	if (err == MH_ERR_NOTFOUND) {
		out->ok = sub.status == SUB_ACTIVE || sub.status == SUB_TRIALING;
		return MH_OK;
	}
	if (err)
		return err;
	if (store_invoice_claim(s, inv.id, now, CLAIM_LEASE) == MH_ERR_CONFLICT) {
		/* Another request (a second click) or the scheduler is paying it. */
		out->message = "A payment for this invoice is already under way. Please reload in a moment.";
		return MH_ERR_CONFLICT;
	}
	struct charge_result res;
	err = charge_invoice(b, a, &sub, &inv, now, &res);
	store_invoice_release(s, inv.id);
	if (err)
		return err;
	out->ok = res.ok;
	out->message = res.ok ? NULL : res.message;
	return MH_OK;
}

mh_err
billing_checkout_open(struct billing *b, struct arena *a, const char *token_hash, int64_t member_id, int64_t now,
                      struct checkout *out)
{
	mh_err err = store_checkout_get(b->store, a, token_hash, now, out);
	if (!err && out->member_id != member_id)
		err = MH_ERR_NOTFOUND;
	else if (!err && strcmp(out->status, "open") != 0)
		err = MH_ERR_CONFLICT; /* the member's own, paid already (a second click) */
	return err;
}

mh_err
billing_checkout_pay(struct billing *b, struct arena *a, const struct checkout *co, const struct test_card *card,
                     int64_t now, struct billing_outcome *out)
{
	mh_err err = strcmp(co->purpose, "subscribe") == 0
	                     ? billing_subscribe(b, a, co->member_id, co->plan_id, card, now, out)
	                     : billing_update_card(b, a, co->member_id, card, now, out);
	if (!err && out->ok)
		store_checkout_complete(b->store, co->token_hash);
	return err;
}

mh_err
billing_cancel(struct billing *b, int64_t member_id, bool cancel, int64_t now)
{
	struct store *s = b->store;
	struct arena *a = arena_new();
	struct subscription sub;
	mh_err err = MH_ERR_CONFLICT;
	/* A billing run or a webhook may change the row between our read and
	 * our write: the write then fails, and we read and decide again. */
	for (int tries = 0; tries < 8 && err == MH_ERR_CONFLICT; tries++) {
		err = store_subscription_by_member(s, a, member_id, &sub);
		if (!err && !sub_status_live(sub.status))
			err = MH_ERR_NOTFOUND;
		if (err || sub.cancel_at_period_end == cancel)
			break;
		sub.cancel_at_period_end = cancel;
		sub.canceled_at = cancel ? now : 0;
		sub.updated_at = now;
		err = store_subscription_save(s, &sub);
		if (!err && cancel)
			notify(b, a, member_id, "canceled", sub.plan_id, NULL, sub.period_end);
	}
	arena_free(a);
	return err;
}

/* Renews one subscription whose period ended, as often as it is behind. */
static mh_err
renew(struct billing *b, struct arena *a, struct subscription *sub, int64_t now, struct billing_stats *st)
{
	struct store *s = b->store;
	struct plan plan;
	mh_err err = store_plan_get(s, a, sub->plan_id, NULL, &plan);
	if (err)
		return err;
	for (int i = 0; i < MAX_CATCH_UP && sub->period_end <= now; i++) {
		if (!(sub->status == SUB_ACTIVE || sub->status == SUB_TRIALING))
			break;
		struct invoice inv;
		err = new_invoice(b, sub, &plan, sub->period_end, now, a, &inv);
		if (err == MH_ERR_CONFLICT) {
			/* This period's invoice exists. Another worker holds it under
			 * its claim and charges it; or a run died before it could:
			 * then its claim has lapsed, and this run finishes it. */
			if ((err = store_invoice_get(s, a, inv.id, &inv)))
				return err;
			if (strcmp(inv.status, "open") != 0)
				return MH_OK;
			if ((err = store_invoice_claim(s, inv.id, now, CLAIM_LEASE)) == MH_ERR_CONFLICT)
				return MH_OK;
			if (err)
				return err;
			log_info("finishing an invoice a stopped run left open", "invoice=%lld", (long long) inv.id);
		} else if (err) {
			return err;
		}
		if (fault_hit("crash-after-invoice")) {
			/* A fault build for tests: die between the invoice and its charge. */
			_exit(3);
		}
		/* Read the row again under the claim: a cancellation made since the
		 * due list was read is honoured, not charged over. */
		if ((err = store_subscription_get(s, a, sub->id, sub))) {
			store_invoice_release(s, inv.id);
			return err;
		}
		if (sub->cancel_at_period_end || !(sub->status == SUB_ACTIVE || sub->status == SUB_TRIALING)) {
			inv.status = "void";
			inv.next_attempt_at = 0;
			err = store_invoice_save(s, &inv);
			store_invoice_release(s, inv.id);
			return err;
		}
		struct charge_result res;
		err = charge_invoice(b, a, sub, &inv, now, &res);
		store_invoice_release(s, inv.id);
		if (err)
			return err;
		if (res.ok) {
			st->renewed++;
		} else {
			st->failed++;
			break;
		}
	}
	return MH_OK;
}

mh_err
billing_run(struct billing *b, int64_t now, struct billing_stats *st)
{
	struct store *s = b->store;
	memset(st, 0, sizeof *st);
	mh_err err = billing_reconcile(b, now, &st->reconciled);
	if (err)
		return err;
	struct arena *a = arena_new();
	struct subscription *subs;
	size_t n;
	if ((err = store_subscriptions_due(s, a, now, TRIAL_NOTICE, &subs, &n)))
		goto out;
	for (size_t i = 0; i < n && !err; i++) {
		struct subscription *sub = &subs[i];
		if (!ours(b, sub))
			continue;
		if (sub->status == SUB_TRIALING && !sub->trial_reminded && sub->trial_end - TRIAL_NOTICE <= now &&
		    sub->trial_end > now) {
			sub->trial_reminded = true;
			sub->updated_at = now;
			/* The save claims the reminder: another run that read the same
			 * version fails here and mails nothing. */
			if (!(err = store_subscription_save(s, sub))) {
				notify(b, a, sub->member_id, "trial-ending", sub->plan_id, NULL, sub->trial_end);
				st->trial_notices++;
			} else if (err == MH_ERR_CONFLICT) {
				err = MH_OK;
			}
			continue;
		}
		if (sub->status == SUB_PAST_DUE) {
			if (sub->grace_until && sub->grace_until <= now) {
				sub->status = SUB_UNPAID;
				sub->updated_at = now;
				if (!(err = store_subscription_save(s, sub)))
					st->unpaid++;
				else if (err == MH_ERR_CONFLICT)
					err = MH_OK; /* changed meanwhile: the next run decides again */
			}
			continue;
		}
		if (sub->period_end > now)
			continue;
		if (sub->cancel_at_period_end) {
			sub->status = SUB_CANCELED;
			sub->updated_at = now;
			if (!(err = store_subscription_save(s, sub)))
				st->canceled++;
			else if (err == MH_ERR_CONFLICT)
				err = MH_OK;
			continue;
		}
		err = renew(b, a, sub, now, st);
	}
	/* Retries that are due. */
	struct invoice *due;
	size_t nd;
	if (!err && !(err = store_invoices_due(s, a, now, &due, &nd))) {
		for (size_t i = 0; i < nd && !err; i++) {
			struct subscription sub;
			if ((err = store_subscription_get(s, a, due[i].subscription_id, &sub)))
				break;
			if (!ours(b, &sub) || (sub.status != SUB_PAST_DUE && sub.status != SUB_UNPAID))
				continue;
			if (store_invoice_claim(s, due[i].id, now, CLAIM_LEASE) == MH_ERR_CONFLICT)
				continue;
			struct charge_result res;
			err = charge_invoice(b, a, &sub, &due[i], now, &res);
			store_invoice_release(s, due[i].id);
			st->retried++;
			if (!err && res.ok)
				st->recovered++;
		}
	}
	/* One reminder for a card that stops working within 30 days. A card
	 * marked 12/26 is good through 31 December 2026 and stops at the first
	 * instant of January 2027: the reminder is due once that instant is at
	 * most 30 days away (docs/billing.md). The claim (card_reminded) is a
	 * conditional update, so two runs at once mail it once. */
	struct payment_method *cards;
	size_t nc;
	if (!err && !(err = store_cards_expiring(s, a, month_index(now + 30 * DAY), &cards, &nc))) {
		for (size_t i = 0; i < nc && !err; i++) {
			if (cards[i].exp_year * 12 + cards[i].exp_month - 1 < month_index(now))
				continue; /* already expired: the payment failure says so */
			err = store_card_reminded(s, cards[i].id);
			if (err == MH_ERR_CONFLICT) {
				err = MH_OK; /* claimed by another run, which mails it */
				continue;
			}
			if (!err) {
				notify(b, a, cards[i].member_id, "card-expiring", 0, NULL, now);
				st->card_notices++;
			}
		}
	}
	/* Housekeeping rides along: rows nobody can use any more. Never by a
	 * time later than the clock's (billing run --at a future time must not
	 * end sessions that are live now). */
	if (!err)
		err = store_housekeep(s, now < clock_now() ? now : clock_now(), &st->expired_rows);
out:
	if (err)
		log_error("billing run failed", "error=\"%s\" detail=\"%s\"", mh_strerror(err), store_errmsg(s));
	arena_free(a);
	return err;
}

struct billing_scheduler {
	struct billing *b;
	int interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void *
scheduler_main(void *arg)
{
	struct billing_scheduler *sc = arg;
	pthread_mutex_lock(&sc->lock);
	while (!sc->stop) {
		pthread_mutex_unlock(&sc->lock);
		struct billing_stats st;
		if (billing_run(sc->b, clock_now(), &st) == MH_OK &&
		    (st.renewed || st.failed || st.retried || st.unpaid || st.canceled || st.reconciled))
			log_info("billing run",
			         "renewed=%d failed=%d retried=%d recovered=%d unpaid=%d canceled=%d "
			         "reconciled=%d",
			         st.renewed, st.failed, st.retried, st.recovered, st.unpaid, st.canceled,
			         st.reconciled);
		store_release(sc->b->store);
		pthread_mutex_lock(&sc->lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += sc->interval;
		while (!sc->stop && pthread_cond_timedwait(&sc->cond, &sc->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&sc->lock);
	return NULL;
}

mh_err
billing_scheduler_start(struct billing *b, int interval, struct billing_scheduler **out)
{
	struct billing_scheduler *sc = calloc(1, sizeof *sc);
	if (!sc)
		abort();
	sc->b = b;
	sc->interval = interval > 0 ? interval : 60;
	pthread_mutex_init(&sc->lock, NULL);
	pthread_cond_init(&sc->cond, NULL);
	if (pthread_create(&sc->thread, NULL, scheduler_main, sc) != 0) {
		free(sc);
		return MH_ERR_IO;
	}
	*out = sc;
	return MH_OK;
}

void
billing_scheduler_stop(struct billing_scheduler *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&sc->lock);
	sc->stop = true;
	pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
	pthread_join(sc->thread, NULL);
	pthread_cond_destroy(&sc->cond);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

mh_err
billing_end_now(struct billing *b, int64_t member_id, int64_t now)
{
	struct store *s = b->store;
	struct arena *a = arena_new();
	struct subscription sub;
	mh_err err = MH_ERR_CONFLICT;
	for (int tries = 0; tries < 8 && err == MH_ERR_CONFLICT; tries++) {
		err = store_subscription_by_member(s, a, member_id, &sub);
		if (err == MH_ERR_NOTFOUND || (!err && !sub_status_live(sub.status))) {
			err = MH_OK;
			goto out;
		}
		if (err)
			goto out;
		if (!ours(b, &sub)) {
			err = MH_ERR_UNSUPPORTED;
			goto out;
		}
		sub.status = SUB_CANCELED;
		sub.canceled_at = now;
		sub.period_end = now < sub.period_end ? now : sub.period_end;
		sub.cancel_at_period_end = false;
		sub.updated_at = now;
		err = store_subscription_save(s, &sub);
	}
	struct invoice inv;
	while (!err && store_invoice_open(s, a, sub.id, &inv) == MH_OK) {
		inv.status = "void";
		inv.next_attempt_at = 0;
		err = store_invoice_save(s, &inv);
	}
out:
	arena_free(a);
	return err;
}
