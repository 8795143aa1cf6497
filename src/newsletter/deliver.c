/* deliver.c: a send's delivery over SMTP (or into .eml files without an
 * SMTP server).
 *
 * Several threads, one SMTP connection each, take recipients from a shared
 * queue. For each: the message is built and signed, then MAIL, RCPT and
 * DATA go out (in one write when the server offers PIPELINING), then the
 * body but for its final dot. Only then is the recipient's row claimed
 * (queued -> claimed, a conditional update), and only a won claim sends the
 * dot. A crash before the claim leaves the row queued and the server
 * discards the unfinished message; a row claimed by a sender that died
 * before the server's reply was recorded may have been delivered, so it is
 * never sent again (unconfirmed). Claims of all threads are committed
 * together (one transaction for whatever is waiting), as are the outcomes.
 *
 * The send's lease names the one process that delivers it; it is renewed
 * while the send runs. A restart takes it over at once when its holder is
 * a dead process on this host, else when it expires. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/log.h"
#include "mail/mail.h"
#include "newsletter/compose.h"
#include "newsletter/newsletter.h"
#include "render/theme.h"
#include "core/banned.h"

#define BATCH          500
#define LEASE_SECONDS  60
#define LEASE_RENEW    10
#define SMTP_TIMEOUT_S 60
#define MSG_MAX        ((size_t) 16 << 20)
#define SETTLE_FLUSH   256
#define RETRY_MAX_S    300
#define MAX_VERSIONS   16
#define MAX_ATTEMPTS   10

struct job {
	struct nl_recipient r;
	int version;
};

struct claim_req {
	int64_t id;
	bool won, done;
	struct claim_req *next;
};

struct run {
	struct store *s;
	const struct config *cfg;
	const unsigned char *key;
	int64_t send_id;
	const char *owner;
	/* The smtp:// server; host empty: files. */
	char host[256], port[8];
	struct nl_envelope env;
	struct nl_version versions[MAX_VERSIONS];
	int nversions;
	struct newsletter nl;
	struct article *art;
	const struct theme *theme;
	struct nl_marks marks;
	struct arena *arena;

	pthread_mutex_t lock;
	pthread_cond_t cond;       /* the queue, the end of a run */
	pthread_cond_t claim_cond; /* a group commit finished */
	double last_flush;
	/* the queue */
	struct job *jobs;
	size_t njobs, next_job;
	int64_t cursor;
	int in_flight;
	bool drained, stop, failed;
	bool refilling; /* one thread reads the next batch; the others wait for it */
	char fail_msg[512];
	/* group commit */
	struct claim_req *pending;
	bool committing;
	struct nl_outcome *outcomes;
	char **outcome_errs;
	size_t noutcomes, cap_outcomes;
	/* rate */
	double next_slot;
	/* counts */
	size_t sent, failed_n, retried, unconfirmed, bounced;
	int connected, workers_alive;
	size_t crash_count;
};

static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = { (time_t) s, (long) ((s - (double) (time_t) s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
fail_run(struct run *r, const char *msg)
{
	pthread_mutex_lock(&r->lock);
	if (!r->failed) {
		r->failed = true;
		snprintf(r->fail_msg, sizeof r->fail_msg, "%s", msg);
	}
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_cond_broadcast(&r->claim_cond);
	pthread_mutex_unlock(&r->lock);
}

/* ---- outcomes and claims: committed in groups ---------------------------------------------- */

/* Called with the lock held: what the outcomes hold goes to the store. */
static void
flush_outcomes_locked(struct run *r)
{
	if (!r->noutcomes)
		return;
	struct nl_outcome *o = r->outcomes;
	char **errs = r->outcome_errs;
	size_t n = r->noutcomes;
	r->outcomes = xcalloc(r->cap_outcomes, sizeof *r->outcomes);
	r->outcome_errs = xcalloc(r->cap_outcomes, sizeof *r->outcome_errs);
	r->noutcomes = 0;
	pthread_mutex_unlock(&r->lock);
	mh_err rc = store_newsletter_settle(r->s, o, n, clock_now());
	for (size_t i = 0; i < n; i++)
		free(errs[i]);
	free(o);
	free(errs);
	if (rc)
		fail_run(r, store_errmsg(r->s));
	pthread_mutex_lock(&r->lock);
}

static void
add_outcome(struct run *r, int64_t id, enum nl_state st, int64_t retry_at, const char *error)
{
	pthread_mutex_lock(&r->lock);
	if (r->noutcomes == r->cap_outcomes) {
		size_t cap = r->cap_outcomes ? r->cap_outcomes * 2 : 64;
		r->outcomes = xrealloc(r->outcomes, cap * sizeof *r->outcomes);
		r->outcome_errs = xrealloc(r->outcome_errs, cap * sizeof *r->outcome_errs);
		r->cap_outcomes = cap;
	}
	r->outcome_errs[r->noutcomes] = xstrdup(error ? error : "");
	r->outcomes[r->noutcomes] = (struct nl_outcome){ id, st, retry_at, r->outcome_errs[r->noutcomes] };
	r->noutcomes++;
	if (st == NL_SENT)
		r->sent++;
	else if (st == NL_FAILED)
		r->failed_n++;
	else if (st == NL_QUEUED)
		r->retried++;
	else if (st == NL_UNCONFIRMED)
		r->unconfirmed++;
	if (r->noutcomes >= SETTLE_FLUSH && !r->committing) {
		r->committing = true;
		flush_outcomes_locked(r);
		r->committing = false;
		pthread_cond_broadcast(&r->claim_cond);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Claims one row; several threads' claims go out in one transaction,
 * with the outcomes gathered since the last (when there are enough of
 * them, or they are old enough). */
static bool
claim(struct run *r, int64_t id)
{
	struct claim_req me = { id, false, false, NULL };
	pthread_mutex_lock(&r->lock);
	me.next = r->pending;
	r->pending = &me;
	while (!me.done) {
		if (r->committing) {
			pthread_cond_wait(&r->claim_cond, &r->lock);
			continue;
		}
		r->committing = true;
		struct claim_req *batch = r->pending;
		r->pending = NULL;
		size_t n = 0;
		for (struct claim_req *q = batch; q; q = q->next)
			n++;
		int64_t ids[64], *idp = n <= 64 ? ids : xcalloc(n, sizeof *idp);
		bool wonb[64], *won = n <= 64 ? wonb : xcalloc(n, sizeof *won);
		size_t i = 0;
		for (struct claim_req *q = batch; q; q = q->next)
			idp[i++] = q->id;
		struct nl_outcome *o = NULL;
		char **errs = NULL;
		size_t no = 0;
		double t = mono();
		if (r->noutcomes >= 32 || (r->noutcomes && t - r->last_flush > 0.2)) {
			o = r->outcomes;
			errs = r->outcome_errs;
			no = r->noutcomes;
			r->outcomes = xcalloc(r->cap_outcomes, sizeof *r->outcomes);
			r->outcome_errs = xcalloc(r->cap_outcomes, sizeof *r->outcome_errs);
			r->noutcomes = 0;
			r->last_flush = t;
		}
		pthread_mutex_unlock(&r->lock);
		mh_err rc = store_newsletter_claim(r->s, idp, n, clock_now(), won, o, no);
		for (size_t k = 0; k < no; k++)
			free(errs[k]);
		free(o);
		free(errs);
		if (rc)
			fail_run(r, store_errmsg(r->s));
		pthread_mutex_lock(&r->lock);
		i = 0;
		for (struct claim_req *q = batch; q; q = q->next) {
			q->won = won[i++] && !rc;
			q->done = true;
		}
		if (idp != ids)
			free(idp);
		if (won != wonb)
			free(won);
		r->committing = false;
		pthread_cond_broadcast(&r->claim_cond);
	}
	pthread_mutex_unlock(&r->lock);
	return me.won;
}

/* ---- the queue ------------------------------------------------------------------------------- */

static int
version_of(struct run *r, const struct nl_recipient *rc)
{
	for (int i = 0; i < r->nversions; i++)
		if (r->versions[i].full == rc->full && !strcmp(r->versions[i].reason, rc->reason))
			return i;
	return -1;
}

/* A version made the first time a kind of reader comes up; lock held. */
static int
version_for(struct run *r, const struct nl_recipient *rc)
{
	int v = version_of(r, rc);
	if (v >= 0)
		return v;
	if (r->nversions == MAX_VERSIONS)
		return -1;
	char err[256];
	if (nl_version_render(r->s, r->cfg, r->theme, &r->nl, r->art, rc->reason, rc->full, &r->marks,
	                      &r->versions[r->nversions], err, sizeof err)) {
		log_error("newsletter version not rendered", "reason=%s error=\"%s\"", rc->reason, err);
		return -1;
	}
	log_info("newsletter version rendered", "reason=%s full=%d", rc->reason, rc->full);
	return r->nversions++;
}

/* The next recipient, or false when the send is done or stopping. */
static bool
take(struct run *r, struct job *out)
{
	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			return false;
		}
		if (r->next_job < r->njobs) {
			*out = r->jobs[r->next_job++];
			r->in_flight++;
			pthread_mutex_unlock(&r->lock);
			return true;
		}
		if (r->refilling) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		r->refilling = true;
		/* Refill: the outcomes first, so the store's view is current. */
		while (r->committing)
			pthread_cond_wait(&r->claim_cond, &r->lock);
		r->committing = true;
		flush_outcomes_locked(r);
		r->committing = false;
		pthread_cond_broadcast(&r->claim_cond);
		struct arena *a = arena_new();
		struct nl_recipient *rows;
		size_t n = 0;
		pthread_mutex_unlock(&r->lock);
		mh_err rc = store_newsletter_due(r->s, a, r->send_id, r->cursor, clock_now(), BATCH, &rows, &n);
		pthread_mutex_lock(&r->lock);
		r->refilling = false;
		pthread_cond_broadcast(&r->cond);
		if (rc) {
			arena_free(a);
			pthread_mutex_unlock(&r->lock);
			fail_run(r, store_errmsg(r->s));
			return false;
		}
		if (n) {
			free(r->jobs);
			r->jobs = xcalloc(n, sizeof *r->jobs);
			for (size_t i = 0; i < n; i++) {
				struct job *j = &r->jobs[i];
				j->r = rows[i];
				j->r.email = arena_strdup(r->arena, rows[i].email);
				j->r.name = arena_strdup(r->arena, rows[i].name);
				j->r.reason = arena_strdup(r->arena, rows[i].reason);
				j->version = version_for(r, &j->r);
			}
			r->njobs = n;
			r->next_job = 0;
			r->cursor = rows[n - 1].id;
			arena_free(a);
			continue;
		}
		arena_free(a);
		/* Nothing due after the cursor. A message in flight keeps its row
		 * queued until its claim: wait for those before looking again
		 * from the start, or they would be taken twice. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		if (r->in_flight > 0) {
			pthread_cond_timedwait(&r->cond, &r->lock, &ts);
			continue;
		}
		/* Done when nothing waits for a retry either. */
		struct nl_counts c;
		r->refilling = true;
		pthread_mutex_unlock(&r->lock);
		rc = store_newsletter_counts(r->s, r->send_id, &c);
		pthread_mutex_lock(&r->lock);
		r->refilling = false;
		pthread_cond_broadcast(&r->cond);
		if (rc) {
			pthread_mutex_unlock(&r->lock);
			fail_run(r, store_errmsg(r->s));
			return false;
		}
		if (r->in_flight == 0 && c.state[NL_QUEUED] == 0 && r->noutcomes == 0 && !r->committing) {
			r->drained = true;
			r->stop = true;
			pthread_cond_broadcast(&r->cond);
			pthread_mutex_unlock(&r->lock);
			return false;
		}
		r->cursor = 0;
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
}

static void
done_job(struct run *r)
{
	pthread_mutex_lock(&r->lock);
	r->in_flight--;
	/* Only a refill waiting for the last message in flight cares. */
	if (r->in_flight == 0)
		pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void
rate_wait(struct run *r)
{
	long rate = r->cfg->newsletter_rate;
	if (rate <= 0)
		return;
	pthread_mutex_lock(&r->lock);
	double now = mono(), slot = r->next_slot > now ? r->next_slot : now;
	r->next_slot = slot + 1.0 / (double) rate;
	pthread_mutex_unlock(&r->lock);
	sleep_s(slot - now);
}

/* ---- SMTP ------------------------------------------------------------------------------------ */

struct smtp {
	int fd;
	bool pipelining;
	char in[8192];
	size_t in_len;
	char last[256]; /* the last reply's text */
};

static void
smtp_close(struct smtp *c, bool quit)
{
	if (c->fd >= 0) {
		if (quit) {
			static const char q[] = "QUIT\r\n";
			ssize_t w = send(c->fd, q, sizeof q - 1, MSG_NOSIGNAL);
			(void) w;
		}
		close(c->fd);
	}
	c->fd = -1;
	c->in_len = 0;
}

static bool
smtp_write(struct smtp *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t) w;
	}
	return true;
}

/* One reply (all its lines); its code, or -1 when the connection failed.
 * With ehlo, notes PIPELINING. */
static int
smtp_reply(struct smtp *c, bool ehlo)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		while (nl) {
			size_t len = (size_t) (nl - c->in) + 1;
			int code = -1;
			bool last = false;
			if (len >= 4 && c->in[0] >= '2' && c->in[0] <= '5') {
				code = (c->in[0] - '0') * 100 + (c->in[1] - '0') * 10 + (c->in[2] - '0');
				last = c->in[3] != '-';
				if (ehlo && len >= 14 && !strncasecmp(c->in + 4, "PIPELINING", 10))
					c->pipelining = true;
				size_t tl = len - 4 < sizeof c->last - 1 ? len - 4 : sizeof c->last - 1;
				memcpy(c->last, c->in + 4, tl);
				c->last[tl] = '\0';
				for (char *p = c->last; *p; p++)
					if (*p == '\r' || *p == '\n' || *p == '"')
						*p = ' ';
			}
			memmove(c->in, c->in + len, c->in_len - len);
			c->in_len -= len;
			if (code < 0)
				return -1;
			if (last)
				return code;
			nl = memchr(c->in, '\n', c->in_len);
		}
		if (c->in_len == sizeof c->in)
			return -1; /* a line longer than any server sends */
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c->in_len += (size_t) n;
	}
}

static bool
smtp_connect(struct run *r, struct smtp *c, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int g = getaddrinfo(r->host, r->port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", r->host, gai_strerror(g));
		return false;
	}
	c->fd = -1;
	for (struct addrinfo *p = ai; p && c->fd < 0; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = { SMTP_TIMEOUT_S, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			c->fd = fd;
		else {
			snprintf(err, errlen, "cannot connect to %s:%s: %s", r->host, r->port, strerror(errno));
			close(fd);
		}
	}
	freeaddrinfo(ai);
	if (c->fd < 0)
		return false;
	c->in_len = 0;
	c->pipelining = false;
	char ehlo[300];
	char host[200];
	if (gethostname(host, sizeof host) != 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(ehlo, sizeof ehlo, "EHLO %s\r\n", host);
	int code = smtp_reply(c, false);
	if (code != 220 || !smtp_write(c, ehlo, strlen(ehlo)) || (code = smtp_reply(c, true)) != 250) {
		snprintf(err, errlen, "%.200s:%s did not greet us (%d %.200s)", r->host, r->port, code, c->last);
		smtp_close(c, false);
		return false;
	}
	return true;
}

/* Dot-stuffs msg into out, ending with CRLF but not the final dot. */
static void
stuff(struct buf *out, const struct buf *msg)
{
	const char *p = msg->ptr, *end = msg->ptr + msg->len;
	if (p < end && *p == '.')
		buf_putc(out, '.');
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *stop = nl ? nl + 1 : end;
		buf_add(out, p, (size_t) (stop - p));
		if (nl && stop < end && *stop == '.')
			buf_putc(out, '.');
		p = stop;
	}
	if (msg->len && msg->ptr[msg->len - 1] != '\n')
		buf_puts(out, "\r\n");
}

static int64_t
backoff(const struct run *r, int attempts)
{
	int64_t d = r->cfg->mail_retry_base > 0 ? r->cfg->mail_retry_base : 1;
	for (int i = 1; i < attempts && d < RETRY_MAX_S; i++)
		d *= 2;
	return d > RETRY_MAX_S ? RETRY_MAX_S : d;
}

/* In a fault build: dies like kill -9 at the Nth message that gets here
 * (MASTHEAD_FAULTS=newsletter-crash-before-dot=N). */
static void
crash_point(struct run *r, const char *name)
{
	long n = fault_value(name, 0);
	if (n <= 0)
		return;
	pthread_mutex_lock(&r->lock);
	bool now = (long) ++r->crash_count == n;
	pthread_mutex_unlock(&r->lock);
	if (now)
		_exit(137);
}

/* Sends one message on a connected c. False when the connection is gone. */
/* The connection went before the claim: the server drops the unfinished
 * message and the row stays queued; it is tried again after a backoff, and
 * given up as failed after MAX_ATTEMPTS, so that a message a server always
 * cuts off does not loop. False: the connection is gone. */
static bool
lost(struct run *r, const struct job *j)
{
	if (j->r.attempts + 1 >= MAX_ATTEMPTS)
		add_outcome(r, j->r.id, NL_FAILED, 0, "the server closed the connection at every attempt");
	else
		add_outcome(r, j->r.id, NL_QUEUED, clock_now() + backoff(r, j->r.attempts + 1),
		            "the connection closed before the message was sent");
	return false;
}

/* A name or address that may go into an SMTP command as it is. */
static bool
smtp_safe(const char *s, bool domain)
{
	if (!s[0])
		return false;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
			return false;
		if (domain && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		                *p == '.' || *p == '-'))
			return false;
	}
	return true;
}

static bool
smtp_send(struct run *r, struct smtp *c, const struct job *j, const char *token, const struct buf *body)
{
	if (!smtp_safe(j->r.email, false) || !strchr(j->r.email, '@')) {
		add_outcome(r, j->r.id, NL_FAILED, 0, "the address cannot be used in SMTP");
		return true;
	}
	char cmds[1200];
	int n = snprintf(cmds, sizeof cmds, "MAIL FROM:<bounce+%s@%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", token,
	                 r->env.domain, j->r.email);
	if (n <= 0 || (size_t) n >= sizeof cmds) {
		add_outcome(r, j->r.id, NL_FAILED, 0, "the address is too long");
		return true;
	}
	int codes[3] = { -1, -1, -1 };
	if (c->pipelining) {
		if (!smtp_write(c, cmds, (size_t) n))
			return lost(r, j);
		for (int i = 0; i < 3; i++)
			codes[i] = smtp_reply(c, false);
	} else {
		const char *p = cmds;
		for (int i = 0; i < 3; i++) {
			const char *e = strstr(p, "\r\n") + 2;
			if (!smtp_write(c, p, (size_t) (e - p)))
				return lost(r, j);
			codes[i] = smtp_reply(c, false);
			if (codes[i] < 0 || codes[i] >= 400)
				break;
			p = e;
		}
	}
	for (int i = 0; i < 3; i++)
		if (codes[i] < 0 && (c->pipelining || i == 0 || (codes[i - 1] >= 200 && codes[i - 1] < 400)))
			return lost(r, j);
	if (codes[0] != 250 || codes[1] < 200 || codes[1] >= 300 || codes[2] != 354) {
		char why[400];
		int bad = codes[0] != 250 ? codes[0] : codes[1] < 200 || codes[1] >= 300 ? codes[1] : codes[2];
		snprintf(why, sizeof why, "smtp: %d %s", bad, c->last);
		if (codes[2] == 354) {
			/* The server took DATA though RCPT failed: end it empty, so nothing goes out. */
			if (!smtp_write(c, ".\r\n", 3) || smtp_reply(c, false) < 0)
				return lost(r, j);
		} else if (!smtp_write(c, "RSET\r\n", 6) || smtp_reply(c, false) < 0) {
			return lost(r, j);
		}
		if (bad >= 500 && codes[0] == 250 && codes[1] >= 500) {
			/* The recipient refused for good: a hard bounce. */
			store_newsletter_bounce(r->s, j->r.id, true, "bounce", why, clock_now());
			pthread_mutex_lock(&r->lock);
			r->bounced++;
			pthread_mutex_unlock(&r->lock);
		} else if (bad >= 500) {
			add_outcome(r, j->r.id, NL_FAILED, 0, why);
		} else {
			add_outcome(r, j->r.id, NL_QUEUED, clock_now() + backoff(r, j->r.attempts + 1), why);
		}
		return true;
	}
	if (!smtp_write(c, body->ptr, body->len))
		return lost(r, j);
	if (!claim(r, j->r.id)) {
		/* Another sender has it: abandon this message unfinished. */
		return false;
	}
	crash_point(r, "newsletter-crash-before-dot");
	if (!smtp_write(c, ".\r\n", 3)) {
		add_outcome(r, j->r.id, NL_UNCONFIRMED, 0, "the connection failed as the message ended");
		return false;
	}
	int code = smtp_reply(c, false);
	if (code < 0) {
		add_outcome(r, j->r.id, NL_UNCONFIRMED, 0, "no reply from the server after the message");
		return false;
	}
	crash_point(r, "newsletter-crash-after-reply");
	char why[300];
	snprintf(why, sizeof why, "smtp: %d %s", code, c->last);
	if (code >= 200 && code < 300)
		add_outcome(r, j->r.id, NL_SENT, 0, "");
	else if (code >= 500)
		add_outcome(r, j->r.id, NL_FAILED, 0, why);
	else
		add_outcome(r, j->r.id, NL_QUEUED, clock_now() + backoff(r, j->r.attempts + 1), why);
	return true;
}

/* ---- files ----------------------------------------------------------------------------------- */

static bool
file_send(struct run *r, const struct job *j, const struct buf *msg)
{
	if (!claim(r, j->r.id))
		return true;
	char dir[4096], path[4200], tmp[4200];
	snprintf(dir, sizeof dir, "%s/outbox", r->cfg->data);
	mkdir(r->cfg->data, 0750);
	mkdir(dir, 0750);
	snprintf(path, sizeof path, "%s/nl-%lld-%lld.eml", dir, (long long) r->send_id, (long long) j->r.id);
	snprintf(tmp, sizeof tmp, "%s/.tmp-nl-%lld", dir, (long long) j->r.id);
	FILE *f = fopen(tmp, "wb");
	bool ok = f && fwrite(msg->ptr, 1, msg->len, f) == msg->len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		add_outcome(r, j->r.id, NL_FAILED, 0, "cannot write the message file");
		return false;
	}
	add_outcome(r, j->r.id, NL_SENT, 0, "");
	return true;
}

/* ---- the workers ----------------------------------------------------------------------------- */

static void *
worker(void *arg)
{
	struct run *r = arg;
	struct smtp c = { .fd = -1 };
	struct buf msg, body, scratch;
	buf_init(&msg, MSG_MAX);
	buf_init(&body, MSG_MAX + MSG_MAX / 8);
	buf_init(&scratch, MSG_MAX);
	int failures = 0;
	double down_since = 0;
	struct job j;
	bool have = false;
	for (;;) {
		if (r->host[0] && c.fd < 0) {
			char err[512];
			pthread_mutex_lock(&r->lock);
			bool stop = r->stop;
			pthread_mutex_unlock(&r->lock);
			if (stop)
				break;
			if (!smtp_connect(r, &c, err, sizeof err)) {
				failures++;
				if (!down_since)
					down_since = mono();
				if (mono() - down_since > (double) r->cfg->newsletter_give_up) {
					fail_run(r, err);
					break;
				}
				int64_t wait = backoff(r, failures);
				log_warn("newsletter: SMTP server unreachable", "error=\"%s\" retry_in=%lld", err,
				         (long long) wait);
				for (int64_t t = 0; t < wait * 10; t++) {
					pthread_mutex_lock(&r->lock);
					stop = r->stop;
					pthread_mutex_unlock(&r->lock);
					if (stop)
						break;
					sleep_s(0.1);
				}
				continue;
			}
			failures = 0;
			down_since = 0;
		}
		if (!have && !(have = take(r, &j)))
			break;
		if (j.version < 0) {
			add_outcome(r, j.r.id, NL_FAILED, 0, "its version could not be rendered");
			done_job(r);
			have = false;
			continue;
		}
		char token[NL_TOKEN_MAX];
		newsletter_token(r->key, j.r.id, token);
		buf_reset(&msg);
		mh_err rc =
		        nl_message_build(&r->env, &r->versions[j.version], &j.r, token, clock_now(), &msg, &scratch);
		if (rc) {
			add_outcome(r, j.r.id, NL_FAILED, 0, "the message could not be built or signed");
			done_job(r);
			have = false;
			continue;
		}
		rate_wait(r);
		bool ok;
		if (!r->host[0]) {
			ok = file_send(r, &j, &msg);
		} else {
			buf_reset(&body);
			stuff(&body, &msg);
			ok = smtp_send(r, &c, &j, token, &body);
			if (!ok)
				smtp_close(&c, false);
		}
		/* A message that never reached its claim goes back to the queue:
		 * its row is still queued; the next pass finds it. */
		done_job(r);
		have = false;
	}
	smtp_close(&c, true);
	buf_release(&msg);
	buf_release(&body);
	buf_release(&scratch);
	return NULL;
}

/* ---- the send ------------------------------------------------------------------------------- */

/* smtp://host[:port] into r; false (err set) otherwise. */
static bool
parse_url(struct run *r, const char *url, char *err, size_t errlen)
{
	r->host[0] = '\0';
	if (!url || !url[0])
		return true;
	if (strncasecmp(url, "smtp://", 7) != 0) {
		snprintf(err, errlen,
		         "newsletters go out over plain smtp:// to a relay (smtp-url is %.8s...): point it at the "
		         "local Postfix or the provider's relay port",
		         url);
		return false;
	}
	const char *h = url + 7;
	if (strchr(h, '@')) {
		snprintf(err, errlen,
		         "the newsletter sender does not log in (no user:password in smtp-url): let "
		         "the relay accept it by address");
		return false;
	}
	const char *end = h + strcspn(h, "/?");
	const char *colon = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t) (end - h));
		if (!rb) {
			snprintf(err, errlen, "bad smtp-url");
			return false;
		}
		snprintf(r->host, sizeof r->host, "%.*s", (int) (rb - h - 1), h + 1);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t) (end - h));
		snprintf(r->host, sizeof r->host, "%.*s", (int) ((colon ? colon : end) - h), h);
	}
	snprintf(r->port, sizeof r->port, "%.*s", colon ? (int) (end - colon - 1) : 2, colon ? colon + 1 : "25");
	if (!r->host[0] || !r->port[0]) {
		snprintf(err, errlen, "bad smtp-url: no host");
		return false;
	}
	return true;
}

/* "host/pid/nonce": a restart on this host can tell whether the holder lives. */
static bool
holder_dead(const char *holder)
{
	char host[256];
	if (gethostname(host, sizeof host) != 0)
		return false;
	host[sizeof host - 1] = '\0';
	size_t hl = strlen(host);
	if (strncmp(holder, host, hl) != 0 || holder[hl] != '/')
		return false;
	long pid = strtol(holder + hl + 1, NULL, 10);
	return pid > 0 && kill((pid_t) pid, 0) != 0 && errno == ESRCH;
}

mh_err
newsletter_deliver(struct store *s, const struct config *cfg, const struct theme *theme,
                   const unsigned char key[SECRET_BYTES], int64_t send_id, struct nl_send_result *out, char *err,
                   size_t errlen)
{
	struct run *r = xcalloc(1, sizeof *r);
	r->s = s;
	r->cfg = cfg;
	r->key = key;
	r->send_id = send_id;
	r->theme = theme;
	r->arena = arena_new();
	pthread_mutex_init(&r->lock, NULL);
	/* The timed waits count in CLOCK_MONOTONIC (the default, the wall
	 * clock, would put every deadline in the past: the lease loop and the
	 * queue's waits would spin on the lock instead of sleeping). */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&r->claim_cond, NULL);
	nl_marks_init(&r->marks);
	mh_err rc = MH_OK;
	pthread_t *threads = NULL;
	int nthreads = 0;
	char owner[320], host[256], holder[256] = "";
	bool leased = false;
	int64_t orphans = 0;
	if (!parse_url(r, cfg->smtp_url, err, errlen)) {
		rc = MH_ERR_INVALID;
		goto out;
	}
	/* The send, its newsletter and article. */
	struct nl_send *sends;
	size_t nsends;
	struct nl_send *send = NULL;
	if ((rc = store_newsletter_sends(s, r->arena, &sends, &nsends)))
		goto db;
	for (size_t i = 0; i < nsends; i++)
		if (sends[i].id == send_id)
			send = &sends[i];
	if (!send) {
		snprintf(err, errlen, "no send %lld", (long long) send_id);
		rc = MH_ERR_NOTFOUND;
		goto out;
	}
	if ((rc = store_newsletter_get(s, r->arena, send->newsletter_slug, &r->nl)) ||
	    (rc = store_article_by_slug(s, r->arena, send->article_slug, &r->art)))
		goto db;
	/* Who we are to the lease. */
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	unsigned char rnd[6];
	char hex[13];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	snprintf(owner, sizeof owner, "%s/%ld/%s", host, (long) getpid(), hex);
	r->owner = owner;
	rc = store_newsletter_lease(s, send_id, owner, NULL, clock_now(), clock_now() + LEASE_SECONDS, &orphans, holder,
	                            sizeof holder);
	if (rc == MH_ERR_CONFLICT && holder_dead(holder))
		rc = store_newsletter_lease(s, send_id, owner, holder, clock_now(), clock_now() + LEASE_SECONDS,
		                            &orphans, holder, sizeof holder);
	if (rc == MH_ERR_CONFLICT) {
		snprintf(err, errlen, "another sender (%s) is delivering this send; try again when it stops", holder);
		goto out;
	}
	if (rc)
		goto db;
	leased = true;
	if (orphans)
		log_warn("newsletter: recipients left unconfirmed by a sender that stopped",
		         "count=%lld detail=\"never sent again: they may have been delivered\"", (long long) orphans);
	/* What every message shares. */
	const char *from = r->nl.sender[0] ? r->nl.sender : cfg->mail_from;
	char domain[256], dkim_domain[256];
	if ((cfg->bounce_domain[0] && !smtp_safe(cfg->bounce_domain, true)) ||
	    (cfg->dkim_domain[0] && !smtp_safe(cfg->dkim_domain, true))) {
		snprintf(err, errlen, "bounce-domain and dkim-domain hold letters, digits, '.' and '-' only");
		rc = MH_ERR_INVALID;
		goto out;
	}
	if (cfg->bounce_domain[0])
		snprintf(domain, sizeof domain, "%s", cfg->bounce_domain);
	else
		mail_address_domain(from, domain, sizeof domain);
	r->env.from = from;
	r->env.reply_to = r->nl.reply_to;
	r->env.domain = arena_strdup(r->arena, domain);
	r->env.public_url = cfg->public_url;
	char from_domain[256];
	mail_address_domain(from, from_domain, sizeof from_domain);
	r->env.list_id = arena_printf(r->arena, "%s <%s.%s>", r->nl.name[0] ? r->nl.name : cfg->site_name, r->nl.slug,
	                              from_domain);
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	r->env.boundary = arena_printf(r->arena, "=_mh_nl_%s", hex);
	r->env.idtag = arena_strdup(r->arena, hex);
	if (cfg->dkim_selector[0]) {
		snprintf(dkim_domain, sizeof dkim_domain, "%s", cfg->dkim_domain[0] ? cfg->dkim_domain : from_domain);
		const char *path = cfg->dkim_key[0]
		                           ? cfg->dkim_key
		                           : arena_printf(r->arena, "%s/dkim/%s.pem", cfg->data, cfg->dkim_selector);
		if ((rc = nl_dkim_open(path, cfg->dkim_selector, dkim_domain, &r->env.dkim, err, errlen)))
			goto out;
	}
	long nconn = r->host[0] ? cfg->newsletter_connections : 1;
	if (nconn < 1)
		nconn = 1;
	if (nconn > 64)
		nconn = 64;
	threads = xcalloc((size_t) nconn, sizeof *threads);
	for (long i = 0; i < nconn; i++)
		if (pthread_create(&threads[i], NULL, worker, r) == 0)
			nthreads++;
	/* Keep the lease while the workers run. */
	double last_renew = mono();
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		if (r->stop || mono() - last_renew < LEASE_RENEW)
			continue;
		pthread_mutex_unlock(&r->lock);
		mh_err lr = store_newsletter_lease(s, send_id, owner, NULL, clock_now(), clock_now() + LEASE_SECONDS,
		                                   &orphans, holder, sizeof holder);
		last_renew = mono();
		if (lr)
			fail_run(r, lr == MH_ERR_CONFLICT ? "another sender took this send over" : store_errmsg(s));
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_lock(&r->lock);
	flush_outcomes_locked(r);
	pthread_mutex_unlock(&r->lock);
	struct nl_counts c;
	if ((rc = store_newsletter_counts(s, send_id, &c)))
		goto db;
	if (r->failed) {
		snprintf(err, errlen, "%s", r->fail_msg);
		rc = MH_ERR_IO;
	} else if (c.state[NL_QUEUED] == 0 && c.state[NL_CLAIMED] == 0) {
		rc = store_newsletter_send_mark(s, send_id, 0, clock_now());
		if (rc)
			goto db;
	}
	out->send_id = send_id;
	out->versions = (size_t) r->nversions;
	out->counts = c;
	goto out;
db:
	snprintf(err, errlen, "%s", store_errmsg(s));
out:
	/* Let the lease go, so the next run need not wait for it. */
	if (leased)
		store_newsletter_lease(s, send_id, owner, NULL, clock_now(), 0, &orphans, holder, sizeof holder);
	free(threads);
	for (int i = 0; i < r->nversions; i++)
		nl_version_release(&r->versions[i]);
	nl_dkim_free(r->env.dkim);
	free(r->jobs);
	free(r->outcomes);
	free(r->outcome_errs);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	pthread_cond_destroy(&r->claim_cond);
	arena_free(r->arena);
	free(r);
	return rc;
}
