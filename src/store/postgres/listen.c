/* listen.c: changes pushed by PostgreSQL to this node (store_listen).
 *
 * One thread with a connection of its own LISTENs on the channels the
 * triggers of migration 0016 NOTIFY: mh_members ("SEQ MEMBER_ID", one per
 * member change) and mh_content ("VERSION"). PostgreSQL sends a
 * notification when its transaction commits and delivers them in commit
 * order, so the callbacks see the changes as they become visible.
 *
 * A listener cannot tell what it missed while it was not connected, so
 * every (re)connection ends with flush(), after LISTEN: whatever committed
 * before that is read from the store by the node, whatever commits after
 * it is pushed. An idle connection is pinged every few seconds, so a
 * connection that died without a word (a server restarted, a network
 * gone) is noticed and made again rather than waited on forever. */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

#define IDLE_PING_MS 5000  /* an idle connection is asked SELECT 1 this often */
#define PING_WAIT_MS 10000 /* and called dead when the answer takes longer */
#define RETRY_MIN_MS 100   /* first wait before connecting again; doubles */
#define RETRY_MAX_MS 2000
#define APP_NAME     "masthead listener"

struct store_listener {
	char *url;
	struct store_push push;
	pthread_t thread;
	int wake[2]; /* a byte on wake[1] stops the thread */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be readable, or for a stop, at most ms; true when stopping. */
static bool
wait_for(struct store_listener *l, int fd, int ms, bool *readable)
{
	struct pollfd p[2] = { { l->wake[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
	int n = poll(p, fd >= 0 ? 2 : 1, ms);
	if (readable)
		*readable = n > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP));
	return n > 0 && (p[0].revents & POLLIN);
}

static void
deliver(struct store_listener *l, const PGnotify *n)
{
	const char *v = n->extra ? n->extra : "";
	char *end;
	if (strcmp(n->relname, "mh_members") == 0) {
		long long seq = strtoll(v, &end, 10);
		long long who = *end == ' ' ? strtoll(end + 1, &end, 10) : 0;
		if (seq > 0 && who > 0 && *end == '\0')
			l->push.member(l->push.ctx, seq, who);
		else
			log_warn("unreadable member change pushed", "payload=\"%.40s\"", v);
	} else if (strcmp(n->relname, "mh_content") == 0) {
		long long version = strtoll(v, &end, 10);
		if (version > 0 && *end == '\0')
			l->push.content(l->push.ctx, version);
		else
			log_warn("unreadable content version pushed", "payload=\"%.40s\"", v);
	}
}

static PGconn *
connect_listening(struct store_listener *l)
{
	PGconn *c = PQconnectdb(l->url);
	if (PQstatus(c) != CONNECTION_OK) {
		log_warn("listener cannot connect", "error=\"%.200s\"", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	/* Named with the process id, so an operator (or a test) can tell the
	 * listeners of several nodes apart in pg_stat_activity. */
	char sql[128];
	snprintf(sql, sizeof sql, "SET application_name = '" APP_NAME " %ld'; LISTEN mh_members; LISTEN mh_content",
	         (long) getpid());
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		log_warn("listener cannot LISTEN", "error=\"%.200s\"", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs one connection until it breaks (false) or the listener stops (true). */
static bool
listen_on(struct store_listener *l, PGconn *c)
{
	int fd = PQsocket(c);
	int64_t last = mono_ms(), ping_sent = 0;
	for (;;) {
		bool readable = false;
		if (wait_for(l, fd, 1000, &readable))
			return true;
		int64_t now = mono_ms();
		if (readable) {
			if (!PQconsumeInput(c))
				return false;
			last = now;
			/* The answer to a ping, whenever it is complete. */
			while (ping_sent && !PQisBusy(c)) {
				PGresult *r = PQgetResult(c);
				if (!r) {
					ping_sent = 0;
					break;
				}
				bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
				PQclear(r);
				if (!ok)
					return false;
			}
			PGnotify *n;
			while ((n = PQnotifies(c))) {
				deliver(l, n);
				PQfreemem(n);
			}
		}
		if (PQstatus(c) != CONNECTION_OK)
			return false;
		if (ping_sent && now - ping_sent > PING_WAIT_MS) {
			log_warn("listener connection does not answer", "waited_ms=%lld",
			         (long long) (now - ping_sent));
			return false;
		}
		if (!ping_sent && now - last >= IDLE_PING_MS) {
			if (!PQsendQuery(c, "SELECT 1"))
				return false;
			ping_sent = now;
			last = now;
		}
	}
}

static void *
run(void *p)
{
	struct store_listener *l = p;
	int backoff = RETRY_MIN_MS;
	for (;;) {
		PGconn *c = connect_listening(l);
		if (c) {
			backoff = RETRY_MIN_MS;
			log_info("listening for pushed changes", "%s", "");
			l->push.flush(l->push.ctx);
			bool stop = listen_on(l, c);
			PQfinish(c);
			if (stop)
				break;
			log_warn("listener connection lost", "%s", "reconnecting");
			l->push.lost(l->push.ctx);
		}
		if (wait_for(l, -1, backoff, NULL))
			break;
		backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
	}
	return NULL;
}

mh_err
postgres_listen(const char *url, const struct store_push *p, struct store_listener **out)
{
	*out = NULL;
	struct store_listener *l = xcalloc(1, sizeof *l);
	l->url = xstrdup(url);
	l->push = *p;
	if (pipe(l->wake)) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "listener: pipe: %s", strerror(errno));
		free(l->url);
		free(l);
		return MH_ERR_IO;
	}
	if (pthread_create(&l->thread, NULL, run, l)) {
		snprintf(store_errbuf(), STORE_ERRMSG_MAX, "listener: cannot start its thread");
		close(l->wake[0]);
		close(l->wake[1]);
		free(l->url);
		free(l);
		return MH_ERR_IO;
	}
	*out = l;
	return MH_OK;
}

void
postgres_listener_stop(struct store_listener *l)
{
	if (!l)
		return;
	ssize_t w = write(l->wake[1], "x", 1);
	(void) w;
	pthread_join(l->thread, NULL);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l->url);
	free(l);
}
