/* access.h: the access decision. One pure function decides, from the
 * article, the viewer and the time, whether the viewer reads the FULL
 * article or the TEASER, and why. The reason picks the paywall message. */
#ifndef MH_ACCESS_H
#define MH_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/billing.h"
#include "model/content.h"
#include "model/member.h"

struct viewer {
	bool signed_in;
	int64_t member_id;
	enum member_role role;
	int64_t comped_until; /* 0: not comped */
	enum sub_status status;
	int64_t grace_until; /* past_due: full access until then */
	int64_t period_end;  /* end of the paid period */
	/* Seconds after period_end that an active or trialing subscription
	 * still reads without a renewal (the grace period); 0: 7 days. */
	int64_t renewal_grace;
	bool cancel_at_period_end;
	bool gift;           /* holds a valid gift link for this article */
	int meter_remaining; /* metered mode: free paid articles left this month; -1: off */
	bool meter_counted;  /* this article already counted this month */
};

enum access_reason {
	REASON_PUBLIC = 0,     /* FULL: a public article */
	REASON_MEMBER,         /* FULL: members article, signed in */
	REASON_SUBSCRIBER,     /* FULL: active or trialing, or canceled inside the paid period */
	REASON_GRACE,          /* FULL under a banner: past_due inside grace */
	REASON_STAFF,          /* FULL: editor or admin */
	REASON_COMPED,         /* FULL: comped member until expiry */
	REASON_GIFT,           /* FULL: gift link */
	REASON_METERED,        /* FULL: one of the month's free paid articles */
	REASON_ANONYMOUS,      /* TEASER: sign in or subscribe */
	REASON_NO_PLAN,        /* TEASER: member without a subscription */
	REASON_PAYMENT_FAILED, /* TEASER: past_due after grace, unpaid, incomplete(_expired) */
	REASON_LAPSED,         /* TEASER: canceled after the period, or paused */
	REASON_COUNT
};

struct access_decision {
	int64_t article_id;
	bool full;
	enum access_reason reason;
};

struct access_decision access_decide(const struct article *a, const struct viewer *v, int64_t now);

/* Auto-paywall: a public article becomes paid `days` days after it was
 * published (0: never). Applied to an article before any decision on it. */
void access_apply_auto_paywall(struct article *a, long days, int64_t now);
const char *access_reason_name(enum access_reason r);
/* The reason a name stands for, or -1. */
int access_reason_parse(const char *s);

#endif
