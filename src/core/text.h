/* text.h: UTF-8 checks and time formats. */
#ifndef MH_TEXT_H
#define MH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates) and
 * holds no NUL. Otherwise *bad_line (1-based) names the first bad line. */
bool utf8_valid(const char *s, size_t n, int *bad_line);

/* Parses 2026-11-20, 2026-11-20T09:00:00Z, with fractions or a +hh:mm offset. */
bool time_parse_iso8601(const char *s, int64_t *out);
/* Formats as 2026-11-20T09:00:00Z; out holds at least 32 bytes. */
void time_format_iso8601(int64_t t, char *out, size_t n);
/* Formats as "20 November 2026". */
void time_format_human(int64_t t, char *out, size_t n);
/* Formats for HTTP headers: "Fri, 20 Nov 2026 09:00:00 GMT". */
void time_format_http(int64_t t, char *out, size_t n);

/* t plus whole months, the day of the month kept where it exists (Jan 31 + 1 is Feb 28 or 29). */
int64_t time_add_months(int64_t t, int months);
/* The value of one hex digit, or -1. */
int hex_digit(char c);
/* Replaces every occurrence of secret in msg (n bytes) with "***". */
void text_scrub(char *msg, size_t n, const char *secret);

#endif
