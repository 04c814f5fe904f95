/*
 * survival — the Kaplan–Meier estimator of a time to an event, with right-censored cases.
 * Pure functions.
 *
 * Each case has a time t >= 0 (days) and a flag: the event happened at t, or the case was
 * observed without it up to t (censored: it counts while observed, never as a failure). At
 * each distinct event time t_j, with d_j events and n_j cases at risk (time >= t_j: a case
 * censored at t_j is still at risk at t_j), S(t) = prod over t_j <= t of (1 - d_j / n_j) is
 * the share still without the event after t; 1 - S(t) the share with it by t.
 */
#ifndef LDA_DOMAIN_SURVIVAL_H
#define LDA_DOMAIN_SURVIVAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t n;       /* cases */
    int *times;     /* every case's time, ascending (n) */
    size_t nsteps;  /* distinct event times */
    int *step_t;    /* t_j, ascending */
    long *step_n;   /* n_j: at risk at t_j */
    long *step_d;   /* d_j: events at t_j */
    double *step_s; /* S(t_j) */
} surv_curve;

/* The curve of n cases (t[i], event[i]); free with surv_free. Negative times count as 0. */
void surv_fit(const int *t, const bool *event, size_t n, surv_curve *out);
void surv_free(surv_curve *c);

/* S(t): the share without the event after t (1 before any event). *n_step (when not NULL)
 * is the number at risk at the last event time at or before t, or all the cases when there
 * is none: the smallest risk set the value depends on. */
double surv_at(const surv_curve *c, int t, long *n_step);

/* The number of events at or before t. */
long surv_events(const surv_curve *c, int t);

/* The number of cases at risk at t: those whose time is t or more. */
long surv_at_risk(const surv_curve *c, int t);

/* The q-quantile of the time to the event (0 < q < 1): the first event time t_j where
 * 1 - S(t_j) >= q; *n_at is n_j there. False when the curve never reaches q. */
bool surv_quantile(const surv_curve *c, double q, int *t, long *n_at);

#endif
