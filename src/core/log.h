/* log.h: logfmt lines on stderr, one write per line so threads do not interleave. */
#ifndef MH_LOG_H
#define MH_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int log_level_parse(const char *s);
/* True when lines of this level are written. */
bool log_enabled(enum log_level level);
/* Writes n bytes of whole lines to standard error in one piece. */
void log_write(const char *p, size_t n);
/* fmt holds the logfmt fields after msg, e.g. "path=%s status=%d". msg is quoted. */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_info(msg, ...)  log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...)  log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_msg(LOG_ERROR, msg, __VA_ARGS__)

#endif
