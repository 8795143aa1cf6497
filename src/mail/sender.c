/* sender.c: the thread that empties the outbox, and the two transports.
 *
 * A pass claims one due mail at a time (a 60 s lease, so two senders on
 * one database never send the same mail), sends it, and marks it sent or
 * schedules its retry. A mail leaves the outbox only by being sent. A
 * pass ends when nothing is due, when the sender is stopping, or after a
 * failure whose retry is due at once (mail_retry_base 0), so that a mail
 * that keeps failing is not retried in a tight loop. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/clock.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/fault.h"
#include "core/log.h"
#include "mail/mail.h"
#include "core/text.h"
#include "core/banned.h"

#define MAIL_LEASE     60   /* seconds a claimed mail is ours */
#define MAIL_RETRY_MAX 3600 /* the longest wait between attempts */
#define SMTP_TIMEOUT   30L  /* seconds for one whole SMTP exchange */
#define MAIL_MSG_MAX   ((size_t) 16 << 20)

struct mailer {
	struct store *s;
	const struct config *_Atomic cfg; /* mailer_set_config swaps it */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled by mailer_wake and mailer_stop */
	bool stop, wake;
};

static int64_t
retry_delay(long base, int attempts)
{
	if (base <= 0)
		return 0;
	int64_t d = base;
	for (int i = 1; i < attempts && d < MAIL_RETRY_MAX; i++)
		d *= 2;
	return d > MAIL_RETRY_MAX ? MAIL_RETRY_MAX : d;
}

/* --- the file transport ------------------------------------------------ */

/* DATA/outbox/<created_at>-<id>.eml, written to a temporary file, synced,
 * then renamed, so a reader never sees half a message. 0600: mails carry
 * sign-in links. */
static mh_err
send_file(const struct config *cfg, const struct outbox_mail *m, const struct buf *msg, char *err, size_t errlen)
{
	struct buf dir = BUF_INIT, path = BUF_INIT, tmp = BUF_INIT;
	mh_err rc = MH_OK;
	int fd = -1;
	buf_printf(&dir, "%s/outbox", cfg->data);
	if ((mkdir(cfg->data, 0750) != 0 && errno != EEXIST) || (mkdir(dir.ptr, 0750) != 0 && errno != EEXIST)) {
		snprintf(err, errlen, "cannot create %s: %s", dir.ptr, strerror(errno));
		rc = MH_ERR_IO;
		goto out;
	}
	buf_printf(&path, "%s/%lld-%lld.eml", dir.ptr, (long long) m->created_at, (long long) m->id);
	buf_printf(&tmp, "%s/.tmp-%lld-XXXXXX", dir.ptr, (long long) m->id);
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		snprintf(err, errlen, "cannot create a file in %s: %s", dir.ptr, strerror(errno));
		rc = MH_ERR_IO;
		goto out;
	}
	/* A fault build's full disk (outbox-full): while DATA/outbox/.full
	 * exists, the write stops half way with ENOSPC, as on a full disk. */
	bool full = false;
	if (fault_hit("outbox-full")) {
		struct buf flag = BUF_INIT;
		buf_printf(&flag, "%s/.full", dir.ptr);
		full = access(flag.ptr, F_OK) == 0;
		buf_release(&flag);
	}
	size_t done = 0;
	int werr = EIO;
	size_t room = full ? msg->len / 2 : msg->len;
	while (done < msg->len) {
		ssize_t w = -1;
		if (done < room)
			w = write(fd, msg->ptr + done, room - done);
		else
			errno = ENOSPC;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			werr = w < 0 ? errno : EIO;
			break;
		}
		done += (size_t) w;
	}
	bool ok = done == msg->len;
	if (ok && fsync(fd) != 0) {
		werr = errno;
		ok = false;
	}
	/* Closed whatever happened: a disk that stays full must not cost a
	 * descriptor a retry. */
	if (close(fd) != 0 && ok) {
		werr = errno;
		ok = false;
	}
	fd = -1;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", tmp.ptr, strerror(werr));
		rc = MH_ERR_IO;
		goto out;
	}
	if (rename(tmp.ptr, path.ptr) != 0) {
		snprintf(err, errlen, "cannot rename to %s: %s", path.ptr, strerror(errno));
		rc = MH_ERR_IO;
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp.len)
		unlink(tmp.ptr);
	buf_release(&dir);
	buf_release(&path);
	buf_release(&tmp);
	return rc;
}

/* --- the SMTP transport ------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t
upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* The address inside mail_from's <...>, or all of it when it has none. */
static void
envelope_from(const char *from, struct buf *out)
{
	const char *lt = strrchr(from, '<');
	const char *start = lt ? lt + 1 : from;
	const char *end = lt ? strchr(start, '>') : NULL;
	if (!end)
		end = start + strlen(start);
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	buf_putc(out, '<');
	buf_add(out, start, (size_t) (end - start));
	buf_putc(out, '>');
}

/* Replaces every occurrence of secret in msg (NUL-terminated, size n). */
static mh_err
send_smtp(const struct config *cfg, const struct outbox_mail *m, const struct buf *msg, char *err, size_t errlen)
{
	const char *url = cfg->smtp_url;
	if (strncasecmp(url, "smtp://", 7) != 0 && strncasecmp(url, "smtps://", 8) != 0) {
		snprintf(err, errlen, "smtp-url must start with smtp:// or smtps://");
		return MH_ERR_INVALID;
	}
	pthread_once(&curl_once, curl_start);
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "smtp: libcurl cannot start");
		return MH_ERR_IO;
	}
	struct buf from = BUF_INIT, to = BUF_INIT;
	envelope_from(cfg->mail_from ? cfg->mail_from : "", &from);
	buf_printf(&to, "<%s>", m->to);
	struct curl_slist *rcpt = curl_slist_append(NULL, to.ptr);
	struct upload up = { msg->ptr, msg->len };
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.ptr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) msg->len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, SMTP_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	CURLcode cc = curl_easy_perform(c);
	mh_err rc = MH_OK;
	if (cc != CURLE_OK) {
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code)
			snprintf(err, errlen, "smtp: %s (server replied %ld)", cerr[0] ? cerr : curl_easy_strerror(cc),
			         code);
		else
			snprintf(err, errlen, "smtp: %s", cerr[0] ? cerr : curl_easy_strerror(cc));
		/* curl's messages do not quote the URL, but make sure: never log the password. */
		CURLU *u = curl_url();
		char *pw = NULL;
		if (u && !curl_url_set(u, CURLUPART_URL, url, 0)) {
			if (!curl_url_get(u, CURLUPART_PASSWORD, &pw, 0)) {
				text_scrub(err, errlen, pw);
				curl_free(pw);
			}
			if (!curl_url_get(u, CURLUPART_PASSWORD, &pw, CURLU_URLDECODE)) {
				text_scrub(err, errlen, pw);
				curl_free(pw);
			}
		}
		curl_url_cleanup(u);
		rc = MH_ERR_IO;
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	buf_release(&from);
	buf_release(&to);
	return rc;
}

/* --- passes ------------------------------------------------------------ */

static mh_err
send_one(const struct config *cfg, const struct outbox_mail *m, char *err, size_t errlen)
{
	struct buf msg;
	buf_init(&msg, MAIL_MSG_MAX);
	mail_format(&msg, cfg, m);
	mh_err rc = buf_error(&msg);
	if (rc)
		snprintf(err, errlen, "the message is larger than %zu bytes", MAIL_MSG_MAX);
	else if (cfg->smtp_url && cfg->smtp_url[0])
		rc = send_smtp(cfg, m, &msg, err, errlen);
	else
		rc = send_file(cfg, m, &msg, err, errlen);
	buf_release(&msg);
	return rc;
}

static bool
stopping(struct mailer *mr)
{
	if (!mr)
		return false;
	pthread_mutex_lock(&mr->lock);
	bool stop = mr->stop;
	pthread_mutex_unlock(&mr->lock);
	return stop;
}

static mh_err
run_pass(struct store *s, const struct config *cfg, struct mailer *mr, size_t *sent, size_t *failed)
{
	mh_err rc = MH_OK;
	while (!rc && !stopping(mr)) {
		struct arena *a = arena_new();
		struct outbox_mail *list;
		size_t n = 0;
		rc = store_outbox_claim(s, a, clock_now(), MAIL_LEASE, 1, &list, &n);
		if (rc || n == 0) {
			arena_free(a);
			break;
		}
		const struct outbox_mail *m = &list[0];
		char err[512] = "";
		int64_t delay = -1;
		if (!send_one(cfg, m, err, sizeof err)) {
			(*sent)++;
			log_info("mail sent", "id=%lld attempts=%d", (long long) m->id, m->attempts);
			rc = store_outbox_sent(s, m->id, clock_now());
		} else {
			(*failed)++;
			delay = retry_delay(cfg->mail_retry_base, m->attempts);
			struct buf e = BUF_INIT;
			buf_add_json(&e, err, strlen(err));
			log_warn("mail not sent", "id=%lld attempts=%d retry_in=%lld error=\"%s\"", (long long) m->id,
			         m->attempts, (long long) delay, e.ptr);
			buf_release(&e);
			rc = store_outbox_retry(s, m->id, clock_now() + delay, err);
		}
		arena_free(a);
		if (delay == 0)
			break;
	}
	return rc;
}

mh_err
mailer_run_once(struct store *s, const struct config *cfg, size_t *sent, size_t *failed)
{
	size_t ns = 0, nf = 0;
	mh_err rc = run_pass(s, cfg, NULL, &ns, &nf);
	if (sent)
		*sent = ns;
	if (failed)
		*failed = nf;
	return rc;
}

static void *
mailer_main(void *arg)
{
	struct mailer *mr = arg;
	pthread_mutex_lock(&mr->lock);
	while (!mr->stop) {
		mr->wake = false;
		pthread_mutex_unlock(&mr->lock);
		size_t sent = 0, failed = 0;
		if (run_pass(mr->s, mr->cfg, mr, &sent, &failed))
			log_error("cannot read the mail outbox", "detail=\"%s\"", store_errmsg(mr->s));
		store_release(mr->s);
		pthread_mutex_lock(&mr->lock);
		if (!mr->stop && !mr->wake) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&mr->cond, &mr->lock, &ts);
		}
	}
	pthread_mutex_unlock(&mr->lock);
	return NULL;
}

mh_err
mailer_start(struct store *s, const struct config *cfg, struct mailer **out)
{
	*out = NULL;
	if (sodium_init() < 0)
		return MH_ERR_IO;
	if (cfg->smtp_url && cfg->smtp_url[0])
		pthread_once(&curl_once, curl_start);
	struct mailer *mr = xcalloc(1, sizeof *mr);
	mr->s = s;
	mr->cfg = cfg;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mr->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&mr->lock, NULL);
	if (pthread_create(&mr->thread, NULL, mailer_main, mr) != 0) {
		pthread_cond_destroy(&mr->cond);
		pthread_mutex_destroy(&mr->lock);
		free(mr);
		return MH_ERR_IO;
	}
	*out = mr;
	return MH_OK;
}

void
mailer_wake(struct mailer *mr)
{
	if (!mr)
		return;
	pthread_mutex_lock(&mr->lock);
	mr->wake = true;
	pthread_cond_signal(&mr->cond);
	pthread_mutex_unlock(&mr->lock);
}

void
mailer_stop(struct mailer *mr)
{
	if (!mr)
		return;
	pthread_mutex_lock(&mr->lock);
	mr->stop = true;
	pthread_cond_signal(&mr->cond);
	pthread_mutex_unlock(&mr->lock);
	pthread_join(mr->thread, NULL);
	pthread_cond_destroy(&mr->cond);
	pthread_mutex_destroy(&mr->lock);
	free(mr);
}

void
mailer_set_config(struct mailer *m, const struct config *cfg)
{
	if (!m)
		return;
	if (cfg->smtp_url && cfg->smtp_url[0])
		pthread_once(&curl_once, curl_start);
	m->cfg = cfg;
}
