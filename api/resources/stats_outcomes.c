/*
 * GET /v1/stats/outcomes — cohorts of referrals by the period they were received in: time to
 * support and to housing (Kaplan–Meier), housing retention, returns; the whole cohort, its
 * breakdowns (measure kind, composition, head's age band, first time or returning), the youth
 * groups and a series of cohorts by year or quarter (docs/outcomes.md).
 *
 * The store gives one row per referral of the period (a month, a platform, a record key,
 * codes, and per measure a time and a state). Counts are tallied by unit of time and
 * platform and protected as every other count (domain/disclosure), their hidden flags closed
 * under the families outcome counts form (domain/cohort); estimates come from the curves of
 * domain/survival, published by the rule of domain/cohort.
 */
#include "core/mem.h"
#include "domain/cohort.h"
#include "domain/survival.h"
#include "resources/resource.h"
#include "resources/outcome_counts.h"
#include "resources/stats_common.h"
#include "store/outcomes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- estimates ----------------------------------------------------------------------------- */

static const char *const MEASURE_KEY[OC_NMEASURES] = {"time_to_support", "time_to_housing",
                                                      "retention", "returns"};
/* per measure: its cohort's count, events, censored */
static const int MEASURE_FIG[OC_NMEASURES][3] = {{F_CASES, F_SUP_EV, F_SUP_CE},
                                                 {F_CASES, F_HOU_EV, F_HOU_CE},
                                                 {F_HOU_EV, F_RET_EV, F_RET_CE},
                                                 {F_RTN_N, F_RTN_EV, F_RTN_CE}};
static const int SHARE_MONTHS[OC_NMEASURES][3] = {{3, 6, 12}, {3, 6, 12}, {6, 12, 24}, {6, 12, 24}};
#define CURVE_MONTHS 24

/* The times and events of a group's cases for one measure (the curve's input). */
typedef struct {
    int *t;
    bool *ev;
    size_t n, cap;
} sample;

/* The answer being built, and where a group's figures come from. */
typedef struct {
    stats_report rp;
    const oc_counts *c;
    const official_rows *o;
    const oc_case *cases;
    const oc_case_index *idx;
    size_t *order[OC_NMEASURES]; /* each measure's cases by time */
    size_t ncases;
    size_t scope;
    bool series;                     /* units of x->c: the series' (else the whole period's) */
    bool csv;                        /* a CSV answer (else JSON: no CSV rows) */
    const char *cohort;              /* the CSV's cohort column */
    sample (*samples)[OC_NMEASURES]; /* [group][measure] for the units being rendered */
} ctx;

static void sample_add(sample *s, int t, bool ev)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->t = xrealloc(s->t, s->cap * sizeof *s->t);
        s->ev = xrealloc(s->ev, s->cap * sizeof *s->ev);
    }
    s->t[s->n] = t;
    s->ev[s->n++] = ev;
}

/* The samples of every group over units [u0, u0 + nu) in the question's scope. */
static void samples_build(ctx *x, size_t ngroups, size_t u0, size_t nu)
{
    x->samples = xcalloc(ngroups, sizeof *x->samples);
    for (int m = 0; m < OC_NMEASURES; m++) /* in order of time: the curves need no sort */
        for (size_t k = 0; k < x->ncases; k++) {
            size_t i = x->order[m][k];
            const oc_case_index *ci = &x->idx[i];
            const oc_case *c = &x->cases[i];
            size_t u = x->series ? ci->unit_series : ci->unit_whole;
            if (c->s[m] == OC_NONE || ci->plat >= stats_tree()->nplat ||
                !stats_scope_has(x->scope, ci->plat) || u < u0 || u >= u0 + nu)
                continue;
            sample_add(&x->samples[0][m], c->t[m], c->s[m] == OC_EVENT);
            for (int b = 0; b < NBREAKDOWNS; b++)
                if (ci->group[b])
                    sample_add(&x->samples[ci->group[b]][m], c->t[m], c->s[m] == OC_EVENT);
        }
}

static void samples_free(ctx *x, size_t ngroups)
{
    for (size_t g = 0; g < ngroups; g++)
        for (int m = 0; m < OC_NMEASURES; m++) {
            free(x->samples[g][m].t);
            free(x->samples[g][m].ev);
        }
    free(x->samples);
    x->samples = NULL;
}

typedef struct {
    const bool *hidden;
    size_t ng, gi, k;
    grid_kind kind;
    size_t u0, nu;
} where;

/* One figure: obj[key] (null when hidden or `absent`; none when obj is NULL), its status,
 * and its CSV row (CSV answers only). */
static void put(ctx *x, json_t *obj, json_t *status, const char *key, published v, bool absent,
                const char *section, const char *code, const char *measure)
{
    if (obj) json_object_set_new(obj, key, absent ? JCHECK(json_null()) : pub_json(v));
    char st[2] = {(char)v.status, 0};
    if (status) json_object_set_new(status, key, JCHECK(json_string(st)));
    if (!x->csv) return;
    char val[40] = "";
    if (!absent) pub_text(v, val, sizeof val);
    csv_field(&x->rp.csv, x->cohort, false);
    csv_field(&x->rp.csv, section, false);
    csv_field(&x->rp.csv, code, false);
    csv_field(&x->rp.csv, measure, false);
    csv_field(&x->rp.csv, key, false);
    csv_field(&x->rp.csv, *val ? val : NULL, false);
    csv_field(&x->rp.csv, st, true);
}

static published estimate(double value, bool ok, bool is_days)
{
    if (!ok) return (published){0, false, SDC_HIDDEN};
    return (published){is_days ? (double)cohort_round_days((long)value) : cohort_round_share(value),
                       is_days, SDC_PERTURBED};
}

/* One measure's block of a group: its counts, quantiles (support, housing), shares at the
 * horizons and, when `curve`, its monthly curve. */
static json_t *measure_block(ctx *x, const where *w, int m, bool curve, const char *section,
                             const char *code)
{
    json_t *blk = JCHECK(json_object()), *status = JCHECK(json_object());
    static const char *const COUNT_KEY[3] = {"cases", "events", "censored"};
    published cnt[3];
    for (int i = 0; i < 3; i++) {
        cnt[i] = oc_count_value(x->c, x->o, w->hidden, w->ng, MEASURE_FIG[m][i], w->gi, w->k,
                                w->kind, w->u0, w->nu, x->scope);
        if (cnt[i].status == SDC_EXACT) {
            bool seen = false;
            size_t j;
            json_t *e;
            json_array_foreach(x->rp.exact, j, e) seen =
                seen || !strcmp(json_string_value(e), "referrals");
            if (!seen) json_array_append_new(x->rp.exact, JCHECK(json_string("referrals")));
        }
        put(x, blk, status, COUNT_KEY[i], cnt[i], false, section, code, MEASURE_KEY[m]);
    }
    /* the curve of the group's cases in the scope */
    const sample *sm = &x->samples[w->gi][m];
    size_t n = sm->n;
    surv_curve sc;
    surv_fit(sm->t, sm->ev, n, &sc);
    long T = stats_sdc()->threshold;
    bool counted = cnt[0].status != SDC_HIDDEN;
    if (m <= OC_HOUSING) {
        static const struct {
            const char *key;
            double q;
        } QS[] = {{"q1_days", 0.25}, {"median_days", 0.5}, {"q3_days", 0.75}};
        for (int i = 0; i < 3; i++) {
            int qt = 0;
            long at = 0;
            if (surv_quantile(&sc, QS[i].q, &qt, &at))
                put(x, blk, status, QS[i].key,
                    estimate(qt, cohort_estimate_ok(counted, (long)n, at, surv_events(&sc, qt), T),
                             true),
                    false, section, code, MEASURE_KEY[m]);
            else /* not reached by the end of observation: null, published as such */
                put(x, blk, status, QS[i].key,
                    estimate(0, cohort_estimate_ok(counted, (long)n, T, 0, T), true), true, section,
                    code, MEASURE_KEY[m]);
        }
    }
    json_t *shares = JCHECK(json_array());
    for (int i = 0; i < 3; i++) {
        int months = SHARE_MONTHS[m][i], h = cohort_horizon_days(months);
        long at;
        double s = surv_at(&sc, h, &at);
        bool ok = cohort_estimate_ok(counted, (long)n, at, surv_events(&sc, h), T);
        published v = estimate(m == OC_RETENTION ? s : 1.0 - s, ok, false);
        char st[2] = {(char)v.status, 0}, fig[24];
        json_array_append_new(shares, JCHECK(json_pack("{s:i, s:o, s:s}", "months", months, "share",
                                                       pub_json(v), "status", st)));
        snprintf(fig, sizeof fig, "share_%d_months", months);
        put(x, NULL, NULL, fig, v, false, section, code, MEASURE_KEY[m]);
    }
    json_object_set_new(blk, m == OC_RETENTION ? "still_housed" : "within", shares);
    if (curve && m <= OC_HOUSING) {
        json_t *pts = JCHECK(json_array());
        for (int mo = 1; mo <= CURVE_MONTHS; mo++) {
            int h = cohort_horizon_days(mo);
            long at;
            double s = surv_at(&sc, h, &at);
            bool ok = cohort_estimate_ok(counted, (long)n, at, surv_events(&sc, h), T);
            published v = estimate(m == OC_RETENTION ? s : 1.0 - s, ok, false);
            json_array_append_new(
                pts, JCHECK(json_pack("{s:i, s:o}", "month", mo, "share", pub_json(v))));
            char fig[24];
            snprintf(fig, sizeof fig, "curve_%d_months", mo);
            put(x, NULL, NULL, fig, v, false, section, code, MEASURE_KEY[m]);
        }
        json_object_set_new(blk, "curve", pts);
    }
    json_object_set_new(blk, "status", status);
    surv_free(&sc);
    return blk;
}

/* A group: its cohort size and the four measures. */
static json_t *group_json(ctx *x, const where *w, const oc_groups *g, bool curve,
                          const char *section)
{
    const char *code = w->gi ? g->code[w->gi] : "";
    json_t *obj = JCHECK(json_object());
    if (w->gi) {
        json_object_set_new(obj, "code", JCHECK(json_string(code)));
        json_object_set_new(obj, "label_fr", JCHECK(json_string(g->label[w->gi])));
    }
    published ref = oc_count_value(x->c, x->o, w->hidden, w->ng, F_CASES, w->gi, w->k, w->kind,
                                   w->u0, w->nu, x->scope);
    put(x, obj, NULL, "referrals", ref, false, section, code, "cohort");
    char st[2] = {(char)ref.status, 0};
    json_object_set_new(obj, "status", JCHECK(json_string(st)));
    for (int m = 0; m < OC_NMEASURES; m++)
        json_object_set_new(obj, MEASURE_KEY[m], measure_block(x, w, m, curve, section, code));
    return obj;
}

/* The whole cohort and every breakdown over units [u0, u0 + nu) of x->c into obj. */
static void render_period(ctx *x, json_t *obj, const oc_groups *g, grid_kind kind, size_t u0,
                          size_t nu, bool breakdowns, const char *section)
{
    size_t ns = sdc_nscopes(stats_tree());
    size_t one = 0;
    bool *hidden = xcalloc((size_t)NFIG * ns, sizeof *hidden);
    oc_table_flags(x->c, x->o, &one, 1, false, kind, u0, nu, hidden);
    samples_build(x, g->n, u0, nu);
    where w = {hidden, 1, 0, 0, kind, u0, nu};
    json_t *all = group_json(x, &w, g, true, section);
    json_object_update(obj, all);
    json_decref(all);
    free(hidden);
    if (!breakdowns) {
        samples_free(x, g->n);
        return;
    }
    json_t *youth = JCHECK(json_object());
    for (int b = 0; b < NBREAKDOWNS; b++) {
        size_t ng = g->bd_count[b];
        size_t *gi = xcalloc(ng, sizeof *gi);
        for (size_t k = 0; k < ng; k++) gi[k] = g->bd_first[b] + k;
        hidden = xcalloc((size_t)NFIG * ng * ns, sizeof *hidden);
        oc_table_flags(x->c, x->o, gi, ng, true, kind, u0, nu, hidden);
        json_t *arr = JCHECK(json_array());
        for (size_t k = 0; k < ng; k++) {
            where wk = {hidden, ng, gi[k], k, kind, u0, nu};
            json_t *cell = group_json(x, &wk, g, false, oc_breakdown_section(b));
            if ((b == BD_KIND && !strcmp(g->code[gi[k]], "envaul")) ||
                (b == BD_AGE && !strcmp(g->code[gi[k]], "age_18_25")))
                json_object_set(youth, g->code[gi[k]], cell);
            json_array_append_new(arr, cell);
        }
        json_object_set_new(obj, oc_breakdown_section(b), arr);
        free(hidden);
        free(gi);
    }
    json_object_set_new(obj, "youth", youth);
    samples_free(x, g->n);
}

/* ---- GET /v1/stats/outcomes ------------------------------------------------------------------ */

/* The cohorts' label: "2021", "2021-Q2", "2021-03", "2019-2022". */
static void period_label(const grid_period *p, char out[32])
{
    int y0 = p->first / 12, y1 = p->last / 12;
    switch (p->kind) {
    case GRID_MONTH:
        snprintf(out, 32, "%04d-%02d", y0, p->first % 12 + 1);
        break;
    case GRID_QUARTER:
        snprintf(out, 32, "%04d-Q%d", y0, p->first % 12 / 3 + 1);
        break;
    case GRID_YEAR:
        snprintf(out, 32, "%04d", y0);
        break;
    default:
        snprintf(out, 32, "%04d-%04d", y0, y1);
    }
}

typedef struct {
    const oc_case *cases;
    int m;
} by_time_arg;

static int by_time(const void *a, const void *b, void *arg)
{
    const by_time_arg *x = arg;
    int ta = x->cases[*(const size_t *)a].t[x->m], tb = x->cases[*(const size_t *)b].t[x->m];
    return (ta > tb) - (ta < tb);
}

/* order[m]: the cases by their time in measure m (one sort each, then every curve is drawn
 * from samples already in order). Caller frees each. */
static void sort_by_time(const oc_case *cases, size_t n, size_t *order[OC_NMEASURES])
{
    for (int m = 0; m < OC_NMEASURES; m++) {
        order[m] = xcalloc(n ? n : 1, sizeof *order[m]);
        for (size_t i = 0; i < n; i++) order[m][i] = i;
        by_time_arg arg = {cases, m};
        qsort_r(order[m], n, sizeof *order[m], by_time, &arg);
    }
}

void stats_outcomes_get(lda_req *r)
{
    const char *gq = query_get(&r->query, "granularity"); /* checked by the route */
    grid_kind gran = gq && !strcmp(gq, "quarter") ? GRID_QUARTER : GRID_YEAR;
    stats_params p;
    db_conn *db = stats_begin(r, &p);
    if (!db) return;
    char as_of[11];
    oc_case *cases = NULL;
    size_t ncases = 0;
    lda_err e = outcomes_cases(db, p.m0, p.m1, as_of, &cases, &ncases);
    db_release(db);
    if (e) {
        stats_params_free(&p);
        problem_send_err(r, e, NULL);
        return;
    }
    oc_groups g;
    oc_groups_init(&g);

    /* the whole period: one unit, or the years of a range */
    bool years = p.period.kind == GRID_YEARS;
    oc_counts whole;
    memset(&whole, 0, sizeof whole);
    stats_tallies_init(&whole.tl, years ? (size_t)grid_nyears(&p.period) : 1);
    for (size_t i = 0; i < whole.tl.nunits; i++)
        grid_month_date(p.period.first + (years ? 12 * (int)i : 0), whole.tl.units[i]);
    oc_case_index *idx = xcalloc(ncases ? ncases : 1, sizeof *idx);
    for (size_t i = 0; i < ncases; i++) {
        idx[i].plat = oc_platform_of(cases[i].platform);
        for (int b = 0; b < NBREAKDOWNS; b++) idx[i].group[b] = oc_group_of(&g, b, &cases[i]);
        idx[i].unit_whole = oc_unit_of(&whole.tl, cases[i].month);
    }
    oc_counts_fill(&whole, &g, cases, idx, ncases, false);
    official_rows o = {{NULL}, {NULL}, {NULL}};
    stats_official_set(&o, &whole.tl, SDC_REFERRALS_RECEIVED, "total", "");

    char label[32];
    period_label(&p.period, label);
    ctx x;
    memset(&x, 0, sizeof x);
    report_init(&x.rp, p.filters);
    buf_free(&x.rp.csv);
    memset(&x.rp.csv, 0, sizeof x.rp.csv);
    static const char header[] = "cohort,section,code,measure,figure,value,status\r\n";
    buf_add(&x.rp.csv, header, sizeof header - 1);
    x.c = &whole;
    x.o = &o;
    x.cases = cases;
    x.idx = idx;
    x.ncases = ncases;
    sort_by_time(cases, ncases, x.order);
    x.scope = p.scope;
    x.csv = p.csv;
    x.cohort = label;
    json_object_set_new(x.rp.doc, "as_of", JCHECK(json_string(as_of)));
    json_object_set_new(x.rp.doc, "granularity", JCHECK(json_string(grid_kind_name(gran))));
    json_t *cohort = JCHECK(json_object());
    render_period(&x, cohort, &g, p.period.kind, 0, whole.tl.nunits, true, "cohort");
    json_t *youth = json_incref(json_object_get(cohort, "youth"));
    json_object_del(cohort, "youth");
    static const char *const MOVE[] = {"by_measure_kind", "by_composition", "by_age_band",
                                       "by_history"};
    for (size_t i = 0; i < sizeof MOVE / sizeof MOVE[0]; i++) {
        json_object_set(x.rp.doc, MOVE[i], json_object_get(cohort, MOVE[i]));
        json_object_del(cohort, MOVE[i]);
    }
    json_object_set_new(x.rp.doc, "cohort", cohort);
    json_object_set_new(x.rp.doc, "youth", youth);

    /* the series of cohorts by year or quarter */
    grid_point *points = NULL;
    size_t npoints = grid_points(&p.period, gran, &points);
    oc_counts series;
    memset(&series, 0, sizeof series);
    stats_tallies_init(&series.tl, npoints);
    for (size_t i = 0; i < npoints; i++) grid_month_date(points[i].sub.first, series.tl.units[i]);
    for (size_t i = 0; i < ncases; i++) idx[i].unit_series = oc_unit_of(&series.tl, cases[i].month);
    oc_counts_fill(&series, &g, cases, idx, ncases, true);
    official_rows so = {{NULL}, {NULL}, {NULL}};
    stats_official_set(&so, &series.tl, SDC_REFERRALS_RECEIVED, "total", "");
    x.c = &series;
    x.o = &so;
    x.series = true;
    json_t *items = JCHECK(json_array());
    for (size_t i = 0; i < npoints; i++) {
        json_t *item = JCHECK(
            json_pack("{s:s, s:s}", "period", points[i].label, "period_start", points[i].start));
        x.cohort = points[i].label;
        render_period(&x, item, &g, points[i].sub.kind, i, 1, false, "by_cohort");
        json_array_append_new(items, item);
    }
    json_object_set_new(x.rp.doc, "by_cohort", items);

    free(points);
    stats_tallies_free(&series.tl);
    stats_tallies_free(&whole.tl);
    for (int m = 0; m < OC_NMEASURES; m++) free(x.order[m]);
    free(idx);
    free(cases);
    bool csv = p.csv;
    stats_params_free(&p);
    report_send(r, &x.rp, csv, "resultats-cohortes", stats_sdc()->threshold,
                stats_sdc()->max_noise);
}
