/*
 * cohort — the publication rules of the outcome measures (docs/outcomes.md). Pure.
 *
 * Counts (cohort sizes, events, censored cases) follow the cell-key method of
 * domain/disclosure.h; outcome counts also form families beyond the platform tree and a
 * breakdown's codes (the events and censored cases of retention and of returns split their
 * cohort), so their hidden flags are closed under every family. Estimates (quantiles of a
 * time, Kaplan–Meier shares) are not counts: one is published only when its group's count
 * is published, the group holds at least 2 x threshold cases, and at least `threshold`
 * cases were at risk at the last event it depends on (the curve's steps are published
 * while at least `threshold` cases are at risk), and the events it counts are none or at
 * least `threshold` (a share must not tell a small count the counts hide); days are rounded to
 * whole weeks, shares to whole percents.
 */
#ifndef LDA_DOMAIN_COHORT_H
#define LDA_DOMAIN_COHORT_H

#include <stdbool.h>
#include <stddef.h>

/* The days of a horizon of m months: m x 30.4375 rounded (3: 91, 6: 183, 12: 365, 24: 731). */
int cohort_horizon_days(int months);

/* Days rounded to the nearest whole week (7 x k); shares to the nearest 0.01. */
long cohort_round_days(long days);
double cohort_round_share(double share);

/* Whether an estimate of a group may be published: its count published, its true size at
 * least 2 x threshold, at least `threshold` cases at risk at the last event it depends on
 * (`at_risk`: see surv_at and surv_quantile), and its events up to there (`events`) 0 or at
 * least `threshold`. */
bool cohort_estimate_ok(bool count_published, long cases, long at_risk, long events,
                        long threshold);

/* Closes hidden flags under families of cells. n[] are the cells' true counts; family f is
 * members[start[f] .. start[f + 1]) (cell indices, in tie order). Until nothing changes: in
 * each family where exactly one cell is hidden, the unhidden cell with the smallest non-zero
 * count is hidden too (ties: the first in the family). Returns the number of cells it hid. */
size_t cohort_close(const long *n, bool *hidden, const size_t *members, const size_t *start,
                    size_t nfamilies);

#endif
