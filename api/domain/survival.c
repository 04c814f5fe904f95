#include "domain/survival.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* Shares are compared with this margin, so that 1 - S = 0.5 computed as 0.4999999 counts. */
#define SURV_EPS 1e-9

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorts n times in [0, max]: by counting when the range is small (days over a few years),
 * else with qsort. */
#define SURV_COUNTING_MAX 65536
static void sort_times(int *v, size_t n, int max)
{
    size_t k = 1;
    while (k < n && v[k - 1] <= v[k]) k++;
    if (k >= n) return; /* already in order (and n < 2) */
    if (max >= SURV_COUNTING_MAX) {
        qsort(v, n, sizeof *v, cmp_int);
        return;
    }
    size_t *count = xcalloc((size_t)max + 1, sizeof *count);
    for (size_t i = 0; i < n; i++) count[v[i]]++;
    k = 0;
    for (int t = 0; t <= max; t++)
        for (size_t c = count[t]; c > 0; c--) v[k++] = t;
    free(count);
}

void surv_fit(const int *t, const bool *event, size_t n, surv_curve *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->times = xcalloc(n ? n : 1, sizeof *out->times);
    int *ev = xcalloc(n ? n : 1, sizeof *ev);
    size_t nev = 0;
    int max = 0;
    for (size_t i = 0; i < n; i++) {
        int ti = t[i] < 0 ? 0 : t[i];
        out->times[i] = ti;
        if (ti > max) max = ti;
        if (event[i]) ev[nev++] = ti;
    }
    sort_times(out->times, n, max);
    sort_times(ev, nev, max);
    out->step_t = xcalloc(nev ? nev : 1, sizeof *out->step_t);
    out->step_n = xcalloc(nev ? nev : 1, sizeof *out->step_n);
    out->step_d = xcalloc(nev ? nev : 1, sizeof *out->step_d);
    out->step_s = xcalloc(nev ? nev : 1, sizeof *out->step_s);
    double s = 1.0;
    for (size_t i = 0; i < nev;) {
        size_t k = i;
        while (k < nev && ev[k] == ev[i]) k++;
        long d = (long)(k - i), at = surv_at_risk(out, ev[i]);
        s *= 1.0 - (double)d / (double)at;
        out->step_t[out->nsteps] = ev[i];
        out->step_n[out->nsteps] = at;
        out->step_d[out->nsteps] = d;
        out->step_s[out->nsteps] = s;
        out->nsteps++;
        i = k;
    }
    free(ev);
}

void surv_free(surv_curve *c)
{
    free(c->times);
    free(c->step_t);
    free(c->step_n);
    free(c->step_d);
    free(c->step_s);
    memset(c, 0, sizeof *c);
}

double surv_at(const surv_curve *c, int t, long *n_step)
{
    double s = 1.0;
    long n = (long)c->n;
    for (size_t j = 0; j < c->nsteps && c->step_t[j] <= t; j++) {
        s = c->step_s[j];
        n = c->step_n[j];
    }
    if (n_step) *n_step = n;
    return s;
}

long surv_events(const surv_curve *c, int t)
{
    long d = 0;
    for (size_t j = 0; j < c->nsteps && c->step_t[j] <= t; j++) d += c->step_d[j];
    return d;
}

long surv_at_risk(const surv_curve *c, int t)
{
    size_t lo = 0, hi = c->n; /* first index with times[i] >= t */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->times[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)(c->n - lo);
}

bool surv_quantile(const surv_curve *c, double q, int *t, long *n_at)
{
    for (size_t j = 0; j < c->nsteps; j++)
        if (1.0 - c->step_s[j] >= q - SURV_EPS) {
            *t = c->step_t[j];
            *n_at = c->step_n[j];
            return true;
        }
    return false;
}
