/* mail.h: the outbox and its sender. Mail is queued in the store and sent
 * by a thread, so a request never waits on a mail server and nothing is
 * lost while one is down: a mail stays in the outbox until it is sent.
 *
 * Transports: with smtp_url empty, each message is written to
 * DATA/outbox/<created_at>-<id>.eml; otherwise it goes through libcurl to
 * smtp://user:pass@host:port (STARTTLS when offered) or smtps://. */
#ifndef MH_MAIL_H
#define MH_MAIL_H

#include <jansson.h>

#include "core/config.h"
#include "store/store.h"

struct tmpl_set;
struct buf;

struct mail_msg {
	const char *to, *subject, *text, *html; /* html may be "" */
};

/* Puts a mail in the outbox with a fresh Message-ID (m is borrowed; the
 * store copies it). CR or LF in to or subject, or an empty to:
 * MH_ERR_INVALID. */
mh_err mail_queue(struct store *s, const struct config *cfg, const struct mail_msg *m);
/* Renders the theme's mail-NAME-text (first line "Subject: ...", the rest
 * the body) and mail-NAME-html (when present) with ctx (borrowed) and
 * queues the result to `to`. MH_ERR_NOTFOUND without a text template. */
mh_err mail_queue_template(struct store *s, const struct config *cfg, const struct tmpl_set *t, const char *name,
                           json_t *ctx, const char *to);
/* Appends the whole RFC 5322 message as sent to out: headers, then
 * multipart/alternative with quoted-printable UTF-8 parts; CRLF endings. */
void mail_format(struct buf *out, const struct config *cfg, const struct outbox_mail *m);

/* Pieces of mail_format, for mail composed elsewhere (newsletter/): each
 * appends one header line with its CRLF, or a quoted-printable body. */
void mail_put_from(struct buf *out, const char *from);
void mail_put_unstructured(struct buf *out, const char *name, const char *value);
void mail_put_date(struct buf *out, int64_t t);
void mail_qp_encode(struct buf *out, const char *s, size_t n);
/* The domain of an address ("Name <a@b.example>" or "a@b.example") into
 * out; "localhost" when it holds anything but letters, digits, dots, hyphens. */
void mail_address_domain(const char *from, char *out, size_t n);

struct mailer;
/* Starts the sender thread. It claims what is due every second (at once
 * after mailer_wake) and sends it; a failure is retried after
 * mail_retry_base * 2^(attempts-1) seconds, at most an hour. The caller
 * keeps s and cfg alive until mailer_stop. */
mh_err mailer_start(struct store *s, const struct config *cfg, struct mailer **out);
/* Safe from any thread; NULL is fine. */
void mailer_wake(struct mailer *m);
/* The settings its next pass sends with (kept alive by the caller until
 * mailer_stop); safe from any thread; NULL m is fine. */
void mailer_set_config(struct mailer *m, const struct config *cfg);
/* Stops the thread (after the mail it is sending) and frees m; NULL is fine. */
void mailer_stop(struct mailer *m);
/* One pass over what is due now, in the calling thread. Send failures are
 * counted in *failed, not returned; the return is the store's error. */
mh_err mailer_run_once(struct store *s, const struct config *cfg, size_t *sent, size_t *failed);

#endif
