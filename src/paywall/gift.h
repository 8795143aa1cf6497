/* gift.h: gift links on the reader's side. A browser keeps the gift links
 * it has opened in a signed cookie, so that reading one again spends no
 * use: "<article id>.<expires>.<token>" entries joined by '~', oldest
 * first, then '~' and the MAC. Tokens are base64url, so neither '.' nor '~'
 * occurs in one. No HTTP and no store in here: the caller reads and writes
 * the cookie, looks each link up and counts a use where gift_judge() says. */
#ifndef MH_GIFT_H
#define MH_GIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/token.h"
#include "core/buf.h"
#include "model/member.h"

#define GIFT_MAX        16 /* gift links a browser keeps; the oldest goes first */
#define GIFT_COOKIE_MAX 2048

/* What became of a gift link for the article; past GIFT_OK, why it was refused. */
enum gift_outcome { GIFT_NONE, GIFT_OK, GIFT_UNKNOWN, GIFT_EXPIRED, GIFT_USED_UP, GIFT_REVOKED };

struct gift_held {
	int64_t article_id, expires_at;
	char token[TOKEN_CHARS + 1];
};

/* The gift links a browser holds, oldest first. */
struct gift_jar {
	struct gift_held held[GIFT_MAX];
	size_t n;
};

/* The jar in the cookie text (NULL: no cookie): empty unless signed under
 * key and at most GIFT_COOKIE_MAX long; entries that are malformed or
 * expired at now are left out. */
void gift_cookie_parse(const char *text, const unsigned char key[SECRET_BYTES], int64_t now, struct gift_jar *jar);
/* Appends the cookie text for jar, signed under key, to out, and sets
 * *max_age to the seconds until its last gift expires. False when nothing
 * in it outlasts now (out as it was) or out hit its maximum: then the
 * browser's cookie stays as it is. */
bool gift_cookie_format(const struct gift_jar *jar, const unsigned char key[SECRET_BYTES], int64_t now, struct buf *out,
                        long *max_age);
/* Keeps a gift just opened as the newest, dropping an older entry for the
 * same token and, when the jar is full, the oldest. token must be well formed. */
void gift_keep(struct gift_jar *jar, int64_t article_id, int64_t expires_at, const char *token);

/* The gift links to try for an article, in order: the one given in the
 * link (?gift=), then those the jar holds for the article, newest first. */
struct gift_try {
	char token[TOKEN_CHARS + 1]; /* "" when malformed */
	bool given;                  /* the link's own; else one the jar holds */
	bool held;                   /* the jar holds it: opening it spends no use */
	bool malformed;              /* not a token's shape: refused without a lookup */
};

struct gift_plan {
	struct gift_try tries[GIFT_MAX + 1];
	size_t n;
	bool given;
};

/* The plan for article_id with the link's gift token (NULL: none). The
 * answer depends on the reader whenever n > 0. */
void gift_plan_for(struct gift_plan *p, const struct gift_jar *jar, int64_t article_id, const char *given);
/* What the stored link g (NULL: no such link) says for article_id at now.
 * GIFT_OK with *spend set: the jar does not hold it, so one use must be
 * counted first, and the gift kept (gift_keep) once it is. */
enum gift_outcome gift_judge(const struct gift_link *g, int64_t article_id, bool held, int64_t now, bool *spend);
/* What the reader gets so far after try t came out as tried: the first
 * GIFT_OK; else the given link's refusal, so that it says why; else the
 * last held link's. Try while the answer is not GIFT_OK. */
enum gift_outcome gift_settle(const struct gift_plan *p, const struct gift_try *t, enum gift_outcome got,
                              enum gift_outcome tried);

#endif
