/*
 * stats (store) — the raw counts behind the statistics endpoints (SPEC §6), computed by
 * PostgreSQL over the rows themselves, so that they are exactly the definitions at every
 * moment. Disclosure control and rendering are the caller's (domain/disclosure).
 *
 * Periods are inclusive dates; a timestamp falls on its date in Europe/Paris.
 * `platforms` is a text[] literal of the platforms counted (NULL: all).
 */
#ifndef LDA_STORE_STATS_H
#define LDA_STORE_STATS_H

#include "store/db.h"

/* {"referrals_received", "accompanied", "housed_or_maintained", "reoriented",
 *  "no_follow_up", "in_progress", "by_housing_situation": {code: n}, "by_referrer_kind",
 *  "by_platform", "by_year", "measures_by_kind"}; caller frees. */
lda_err stats_activity(db_conn *c, const char *from, const char *to, const char *platforms,
                       char **json);

/* {"requests_total", "youth_requests", "youth_persons", "repeat_persons", "unmet",
 *  "alternatives_false", "alternatives_known", "by_sex": {code: n}, "by_age", "by_situation",
 *  "by_need", "by_response", "by_channel", "by_platform"}; caller frees. */
lda_err stats_youth(db_conn *c, const char *from, const char *to, const char *platforms,
                    int age_min, int age_max, char **json);

/* [{"period", "period_start", the headline counts of stats_youth}] for every period
 * (month | quarter | year) that meets [from, to]; caller frees. */
lda_err stats_youth_series(db_conn *c, const char *from, const char *to, const char *platforms,
                           int age_min, int age_max, const char *granularity, char **json);

#endif
