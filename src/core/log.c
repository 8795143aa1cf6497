#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/banned.h"

static enum log_level min_level = LOG_INFO;
/* Keeps each write to standard error whole: a line from log_msg() never
 * lands inside a block of access log lines (a pipe splits writes above
 * PIPE_BUF). Taken for a log line or a block of them, never per request. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_write(const char *p, size_t n)
{
	pthread_mutex_lock(&write_lock);
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t) w;
	}
	pthread_mutex_unlock(&write_lock);
}

bool
log_enabled(enum log_level level)
{
	return level >= min_level;
}

void
log_set_level(enum log_level level)
{
	min_level = level;
}

int
log_level_parse(const char *s)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void
log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	if (level < min_level)
		return;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

	struct buf b = BUF_INIT;
	buf_printf(&b, "time=%s.%03ldZ level=%s msg=\"", when, ts.tv_nsec / 1000000, names[level]);
	buf_add_json(&b, msg, strlen(msg));
	buf_putc(&b, '"');
	if (fmt && *fmt) {
		va_list ap;
		va_start(ap, fmt);
		buf_putc(&b, ' ');
		buf_vprintf(&b, fmt, ap);
		va_end(ap);
	}
	buf_putc(&b, '\n');
	log_write(b.ptr, b.len);
	buf_release(&b);
}
