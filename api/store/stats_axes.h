/*
 * stats_axes (store) — the true counts behind GET /v1/stats/prevention and
 * GET /v1/stats/housing, with the sums of their records' keys, and their figures that are not
 * counts (quartiles, occupancy), computed by PostgreSQL (db/migrations/015). Disclosure
 * control and rendering are the caller's.
 *
 * Counts come back as stats_counts (store/stats_store.h): whole months [m0, m1), split by `unit`,
 * for every platform. Their dims and codes are listed above lda_prevention_counts and
 * lda_housing_counts in the migration.
 */
#ifndef LDA_STORE_STATS_AXES_H
#define LDA_STORE_STATS_AXES_H

#include "store/stats_store.h"

#include <stdbool.h>
#include <stddef.h>

lda_err stats_prevention_counts(db_conn *c, const char *m0, const char *m1, const char *unit,
                                stats_counts *out);
lda_err stats_housing_counts(db_conn *c, const char *m0, const char *m1, const char *unit,
                             stats_counts *out);

/* A figure that is not a count, over the platforms asked: its records `n` and up to three
 * values (has[i] false: NULL, e.g. no record). */
typedef struct {
    char figure[16];
    char code[32];
    long n;
    double v[3];
    bool has[3];
} stats_value;

/* Prevention: figure "debt" (code ""): the cases of the cohort with a known debt and the
 * quartiles of their debts. `platforms` is a text[] literal. Caller frees *out. */
lda_err stats_prevention_values(db_conn *c, const char *m0, const char *m1, const char *platforms,
                                stats_value **out, size_t *count);

/* Housing: figure "delay" (code "" for all, or an offer kind): placements entered and the
 * quartiles of their days from referral to entry; figure "occupancy" (code sas_flat or
 * youth_shared_flat): stays, occupied place-days, available place-days. Caller frees *out. */
lda_err stats_housing_values(db_conn *c, const char *m0, const char *m1, const char *platforms,
                             stats_value **out, size_t *count);

#endif
