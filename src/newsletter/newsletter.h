/* newsletter.h: sending an article by mail to a newsletter's members
 * (docs/newsletters.md). No HTTP in here: the command line and the web's
 * unsubscribe page call these.
 *
 * A send has two steps. newsletter_enqueue() decides, for each subscribed
 * member, which version they get (the reading path's decision, as for a
 * page) and queues one recipient row each, a transaction per batch.
 * newsletter_deliver() renders each version once, splices each
 * recipient's name and unsubscribe link into it, signs it (DKIM) and sends
 * it over several SMTP connections, claiming each row just before the
 * message's final dot, so that no crash or restart sends anyone a second
 * copy. */
#ifndef MH_NEWSLETTER_H
#define MH_NEWSLETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/token.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

struct theme;

/* A recipient's token: "<recipient id>-<32 hex MAC>", for the unsubscribe
 * link and the VERP bounce address; lower case, so it survives a mail
 * server that folds the local part. */
#define NL_TOKEN_MAX 64
void newsletter_token(const unsigned char key[SECRET_BYTES], int64_t recipient_id, char out[NL_TOKEN_MAX]);
/* The recipient id a token names, when its MAC is right (constant time). */
bool newsletter_token_parse(const unsigned char key[SECRET_BYTES], const char *token, size_t len, int64_t *id);

struct nl_send_result {
	int64_t send_id;
	bool resumed;    /* the send existed and was not finished */
	size_t queued;   /* recipients queued by this call */
	size_t versions; /* versions rendered */
	struct nl_counts counts;
};

/* Queues the send of the article by the newsletter (both by slug;
 * newsletter NULL: the first). MH_ERR_NOTFOUND: no such article or
 * newsletter (err says which); MH_ERR_CONFLICT: sent already. */
mh_err newsletter_enqueue(struct store *s, const struct config *cfg, const char *article_slug,
                          const char *newsletter_slug, struct nl_send_result *out, char *err, size_t errlen);

/* Delivers what is queued for the send until nothing is left, then marks
 * it finished. SMTP from cfg->smtp_url (smtp:// only), cfg's connections,
 * rate, DKIM and bounce settings. */
mh_err newsletter_deliver(struct store *s, const struct config *cfg, const struct theme *theme,
                          const unsigned char key[SECRET_BYTES], int64_t send_id, struct nl_send_result *out, char *err,
                          size_t errlen);

/* ---- DKIM (dkim.c) ---- */
struct nl_dkim;
/* Loads the PEM private key at path for selector and domain. */
mh_err nl_dkim_open(const char *path, const char *selector, const char *domain, struct nl_dkim **out, char *err,
                    size_t errlen);
void nl_dkim_free(struct nl_dkim *d);
/* Signs msg (headers CRLF CRLF body) and appends its DKIM-Signature line
 * (CRLF-terminated) to sig. Safe from several threads on one nl_dkim. */
mh_err nl_dkim_sign(struct nl_dkim *d, const char *msg, size_t len, struct buf *sig);
/* A new RSA key of bits (PEM, mode 0600) at path; the DNS TXT record's
 * value ("v=DKIM1; k=rsa; p=...") into txt. */
mh_err nl_dkim_keygen(const char *path, int bits, struct buf *txt, char *err, size_t errlen);

/* ---- Bounces (bounce.c) ---- */
enum nl_inbound_kind { NL_INBOUND_NONE, NL_INBOUND_BOUNCE, NL_INBOUND_COMPLAINT, NL_INBOUND_UNSUBSCRIBE };
struct nl_inbound {
	enum nl_inbound_kind kind;
	bool hard;                /* a bounce: 5.x.x (permanent) */
	char token[NL_TOKEN_MAX]; /* from bounce+TOKEN@ or unsubscribe+TOKEN@ */
	char status[16];          /* the DSN's Status, e.g. "5.1.1" */
	char detail[200];         /* Diagnostic-Code or the reason, one line */
};
/* Reads one message that came back (a DSN, an ARF complaint, or a mail to
 * unsubscribe+TOKEN@): what it is and whose token it carries. Bounded work
 * on any input; NONE when it carries no token. */
void nl_inbound_parse(const char *msg, size_t len, struct nl_inbound *out);

#endif
