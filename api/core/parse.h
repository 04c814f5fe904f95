/*
 * parse — strict parsers for text from the outside world (query strings, headers,
 * environment, JSON strings). Each accepts the whole string or nothing: no leading
 * spaces, no trailing garbage, no silent clamping. Pure functions.
 */
#ifndef LDA_CORE_PARSE_H
#define LDA_CORE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A decimal integer in [min, max]: "-?[0-9]+" only. */
bool parse_long(const char *s, long min, long max, long *out);

/* A calendar date "YYYY-MM-DD" that exists (no 2023-02-30), years 1900..2999.
 * *days = days since 1970-01-01. */
bool parse_date(const char *s, int32_t *days);

/* Formats days since 1970-01-01 as "YYYY-MM-DD" into buf (at least 11 bytes). */
void format_date(int32_t days, char *buf);

/* An RFC 3339 timestamp with offset ("2024-03-01T10:00:00Z", "...+01:00", optional
 * fraction): *epoch_us = microseconds since the epoch. A bare date is NOT accepted. */
bool parse_timestamp(const char *s, int64_t *epoch_us);

/* The canonical textual UUID form (8-4-4-4-12 hex digits, either case). */
bool is_uuid(const char *s);

/* Today's date in Europe/Paris (the process runs with TZ=Europe/Paris), as days. */
int32_t today_paris(void);

/* Age in whole years on `on` for someone born on `birth` (both days since epoch). */
int age_on(int32_t birth, int32_t on);

#endif
