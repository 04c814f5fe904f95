/*
 * retention — the kinds of data the purge removes, their periods, and the date arithmetic
 * of cut-offs (pure: no I/O). What each kind means and why its default: docs/security.md,
 * "Retention".
 */
#ifndef LDA_DOMAIN_RETENTION_H
#define LDA_DOMAIN_RETENTION_H

#include "core/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* One kind of rows the purge counts and removes, in the order it reports them. */
typedef struct {
    const char *name;  /* as the dry run prints it and the audit event counts it */
    const char *after; /* what its period is counted from, for the report */
} retention_kind;

extern const retention_kind RETENTION_KINDS[];
extern const int RETENTION_KIND_COUNT;

/* The months a kind is kept under cfg (0 for an unknown name). */
long retention_months(const lda_config *cfg, const char *kind);

/* `day` minus `months` calendar months (days since 1970-01-01), the day of the month clamped
 * to the end of a shorter month, as PostgreSQL's date - interval: 2024-03-31 minus 1 month is
 * 2024-02-29. */
int32_t retention_cutoff(int32_t day, long months);

/* Whether the daily purge is due: it is the purge hour (hour_now == purge_hour; -1: off) and
 * this process has not run it on `today` yet (last_day: the day of its last run, or -1). A
 * service down for the whole hour skips that day: the next day's run removes what it would
 * have. */
bool retention_daily_due(long purge_hour, int hour_now, int32_t today, int32_t last_day);

#endif
