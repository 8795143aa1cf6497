#include "paywall/access.h"

#include <string.h>

#include "core/banned.h"

/* By designated index, so a reason added to the enum cannot shift the others'
 * names (one was missing: "metered" read as "anonymous", and so on down). */
static const char *const reason_names[REASON_COUNT] = {
	[REASON_PUBLIC] = "public",
	[REASON_MEMBER] = "member",
	[REASON_SUBSCRIBER] = "subscriber",
	[REASON_GRACE] = "grace",
	[REASON_STAFF] = "staff",
	[REASON_COMPED] = "comped",
	[REASON_GIFT] = "gift",
	[REASON_METERED] = "metered",
	[REASON_ANONYMOUS] = "anonymous",
	[REASON_NO_PLAN] = "no_plan",
	[REASON_PAYMENT_FAILED] = "payment_failed",
	[REASON_LAPSED] = "lapsed",
};

const char *
access_reason_name(enum access_reason r)
{
	return (unsigned) r < REASON_COUNT && reason_names[r] ? reason_names[r] : "unknown";
}

int
access_reason_parse(const char *s)
{
	for (int i = 0; i < REASON_COUNT; i++)
		if (reason_names[i] && strcmp(s, reason_names[i]) == 0)
			return i;
	return -1;
}

static struct access_decision
decision(const struct article *a, bool full, enum access_reason reason)
{
	return (struct access_decision){ a->id, full, reason };
}

/* Anonymous readers and members without a plan may read a few paid
 * articles a month; everyone else's TEASER stands. */
static struct access_decision
metered(const struct article *a, const struct viewer *v, struct access_decision d)
{
	if (d.full || a->access != ACCESS_PAID || (d.reason != REASON_ANONYMOUS && d.reason != REASON_NO_PLAN))
		return d;
	if (v->meter_remaining >= 0 && (v->meter_counted || v->meter_remaining > 0))
		return decision(a, true, REASON_METERED);
	return d;
}

void
access_apply_auto_paywall(struct article *a, long days, int64_t now)
{
	if (days > 0 && a->access == ACCESS_PUBLIC && now >= a->published_at + (int64_t) days * 86400)
		a->access = ACCESS_PAID;
}

static struct access_decision decide(const struct article *a, const struct viewer *v, int64_t now);

struct access_decision
access_decide(const struct article *a, const struct viewer *v, int64_t now)
{
	return metered(a, v, decide(a, v, now));
}

static struct access_decision
decide(const struct article *a, const struct viewer *v, int64_t now)
{
	if (a->access == ACCESS_PUBLIC)
		return decision(a, true, REASON_PUBLIC);
	if (v->gift)
		return decision(a, true, REASON_GIFT);
	if (!v->signed_in)
		return decision(a, false, REASON_ANONYMOUS);
	if (v->role == ROLE_EDITOR || v->role == ROLE_ADMIN)
		return decision(a, true, REASON_STAFF);
	if (a->access == ACCESS_MEMBERS)
		return decision(a, true, REASON_MEMBER);
	if (v->comped_until > now)
		return decision(a, true, REASON_COMPED);

	switch (v->status) {
	case SUB_ACTIVE:
	case SUB_TRIALING:
		/* A renewal moves period_end on once it is paid. A period that
		 * ended longer ago than the grace period was never paid for,
		 * whatever stopped the billing run from saying so. */
		if (v->period_end && now >= v->period_end + (v->renewal_grace > 0 ? v->renewal_grace : 7 * 86400))
			return decision(a, false, v->cancel_at_period_end ? REASON_LAPSED : REASON_PAYMENT_FAILED);
		return decision(a, true, REASON_SUBSCRIBER);
	case SUB_PAST_DUE:
		if (now < v->grace_until)
			return decision(a, true, REASON_GRACE);
		return decision(a, false, REASON_PAYMENT_FAILED);
	case SUB_UNPAID:
	case SUB_INCOMPLETE:
	case SUB_INCOMPLETE_EXPIRED: return decision(a, false, REASON_PAYMENT_FAILED);
	case SUB_CANCELED:
		/* Cancelling keeps access to the end of the paid period. */
		if (now < v->period_end)
			return decision(a, true, REASON_SUBSCRIBER);
		return decision(a, false, REASON_LAPSED);
	case SUB_PAUSED: return decision(a, false, REASON_LAPSED);
	case SUB_NONE: break;
	}
	return decision(a, false, REASON_NO_PLAN);
}
