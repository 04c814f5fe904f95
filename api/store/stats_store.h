/*
 * stats (store) — the true counts behind the statistics endpoints, with the sums of their
 * records' keys (the cell-key method), computed by PostgreSQL over whole months
 * (db/migrations/011). Disclosure control and rendering are the caller's.
 *
 * A period is the whole months [m0, m1) (first days, "YYYY-MM-DD"); its counts are split
 * by `unit`: "year", "quarter", "month", or "period" (one unit: the whole period). Every
 * platform's counts come back, whatever the caller's scope: disclosure control looks at the
 * neighbouring cells of the one it publishes.
 */
#ifndef LDA_STORE_STATS_STORE_H
#define LDA_STORE_STATS_STORE_H

#include "store/db.h"

#include <stddef.h>

/* One count: the unit's first day, a platform, a dimension and a code (see below). */
typedef struct {
    char unit[11];
    char platform[32];
    char dim[16];
    char code[64];
    long n;
    long long ks;
} stats_count;

typedef struct {
    stats_count *items;
    size_t count;
} stats_counts;

void stats_counts_free(stats_counts *c);

/* Runs a prepared statement whose rows are (unit_start, platform, dim, code, n, ks) into *out
 * (caller frees with stats_counts_free). For the readers of other statistics (stats_axes.c). */
lda_err stats_counts_query(db_conn *c, db_stmt *s, int n, const char *const *p, stats_counts *out);

/* SIAO requests (the youth observatory), ages [lo, hi], on `platforms` (a text[] literal;
 * NULL: every platform): dims "all" (every age, code ""), "total" (code ""), "age" (code: the
 * age), "sex", "situation", "response", "channel", "alt" (alternatives_known), "need"; code
 * not_collected for a missing value. */
lda_err stats_youth_counts(db_conn *c, const char *m0, const char *m1, const char *unit, int lo,
                           int hi, const char *platforms, stats_counts *out);

/* Referrals received: dims "total" (code ""), "outcome" (accompanied, reoriented,
 * no_follow_up, in_progress), "housed" (code ""), "situation", "referrer", and "measure"
 * (their measures, by kind). */
lda_err stats_activity_counts(db_conn *c, const char *m0, const char *m1, const char *unit,
                              stats_counts *out);

/* Distinct youth persons and repeat persons per unit on a set of platforms (a text[]
 * literal: one platform, one AMI's or all), with their persons' key sums. */
typedef struct {
    char unit[11];
    long persons;
    long long persons_ks;
    long repeats;
    long long repeats_ks;
} stats_persons;

lda_err stats_youth_persons(db_conn *c, const char *m0, const char *m1, const char *unit,
                            const char *platforms, int lo, int hi, stats_persons **out,
                            size_t *count);

/* The perturbation table (every max_noise). Caller frees the array. (The platforms and their
 * AMI: store/platform.h, platform_amis_load.) */
typedef struct {
    int max_noise, excess, noise;
    long key_from, key_to;
} stats_ptable_row;

lda_err stats_reference(db_conn *c, stats_ptable_row **rows, size_t *nrows);

/* Writes the threshold and maximum noise in force into the database, for the reporting
 * views (an owner connection, at start-up). */
lda_err stats_settings_write(PGconn *pg, long threshold, int max_noise);

#endif
