/*
 * GET /v1/stats/prevention (docs/statistics.md): the cohorts of eviction prevention cases by
 * the date of their first action — the cases whose first action falls in the period, by first
 * action, platform, stage at entry and debt band; their situation 6, 12 and 24 months after
 * that action, for the whole cohort and by each of those breakdowns; the quartiles of their
 * known debts; and the actions done in the period, by kind, with the cases they concern.
 *
 * Every count is protected by the cell-key method (no exact figure here); the situations
 * crossed with a breakdown are two-way tables (sdc_table_hide); the quartiles follow the
 * non-count rule (sdc_value_shown, rounded to 100 euros).
 */
#include "core/mem.h"
#include "domain/vocab.h"
#include "resources/stats_common.h"
#include "store/stats_axes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEBT_STEP_EUR 100

static const int HORIZONS[] = {6, 12, 24};
#define NHORIZONS (sizeof HORIZONS / sizeof HORIZONS[0])

/* The cohort's breakdowns, each crossed with the situations: the dims' suffix in the store. */
static const struct {
    const char *section, *dim, *suffix, *vocab;
} CROSSES[] = {
    {"by_first_action", "first_action", "_fa", "prevention_action_kind"},
    {"by_entry_stage", "entry_stage", "_es", "procedure_stage"},
    {"by_debt_band", "debt_band", "_db", "debt_band"},
};
#define NCROSSES (sizeof CROSSES / sizeof CROSSES[0])

/* The codes of a vocabulary, then `extra` ones (NULL-terminated). Caller frees the array. */
static const char **codes_with(const char *vocab_name, const char *const *extra, size_t *n)
{
    const vocab *v = vocab_find(vocab_name);
    size_t k = 0;
    while (extra && extra[k]) k++;
    const char **codes = xcalloc(v->ncodes + k + 1, sizeof *codes);
    for (size_t i = 0; i < v->ncodes; i++) codes[i] = v->codes[i].code;
    for (size_t i = 0; i < k; i++) codes[v->ncodes + i] = extra[i];
    *n = v->ncodes + k;
    return codes;
}

static const char *const NOT_YET[] = {"not_recorded", "not_due", NULL};

static const char *situation_label(const char *code)
{
    if (!strcmp(code, "not_recorded")) return "Suivi dû mais non renseigné";
    if (!strcmp(code, "not_due")) return "Suivi pas encore dû";
    return stats_label("follow_up_situation", code);
}

static published hidden_value(void) { return (published){0, true, SDC_HIDDEN}; }

/* A cell's tally in a scope over units [0, nu). */
static sdc_tally cell_sum(const sdc_tally *cell, size_t nu, size_t scope)
{
    sdc_tally sum = {0, 0};
    size_t np = stats_tree()->nplat;
    for (size_t u = 0; cell && u < nu; u++) {
        sdc_tally x = sdc_scope_tally(stats_tree(), cell + u * np, scope);
        sum.n += x.n;
        sum.ks += x.ks;
    }
    return sum;
}

/* ---- the quartiles of the known debts -------------------------------------------------------- */

static void debt_quartiles(stats_report *rp, const stats_value *vals, size_t nvals)
{
    const stats_value *v = NULL;
    for (size_t i = 0; i < nvals; i++)
        if (!strcmp(vals[i].figure, "debt")) v = &vals[i];
    bool shown = v && sdc_value_shown(stats_sdc(), v->n, true);
    static const char *const KEYS[] = {"q1", "median", "q3"};
    static const char *const LABELS[] = {"Dette : premier quartile (€)", "Dette médiane (€)",
                                         "Dette : troisième quartile (€)"};
    json_t *obj = JCHECK(json_object());
    for (int k = 0; k < 3; k++) {
        published x = shown && v->has[k] ? (published){(double)sdc_round_to(v->v[k], DEBT_STEP_EUR),
                                                       true, SDC_PERTURBED}
                                         : hidden_value();
        report_headline(rp, obj, KEYS[k], LABELS[k], x, "debt_eur");
    }
    json_object_set_new(rp->doc, "debt_eur", obj);
}

/* ---- the situations at 6, 12 and 24 months -------------------------------------------------- */

/* The situations of each platform of the scope (each platform's own answer), as rows. */
static json_t *platform_rows(stats_report *rp, const tallies *tl, const char *dim, int h,
                             const char *const *sit, size_t nsit, const stats_params *p)
{
    json_t *rows = JCHECK(json_array());
    sdc_figure *figs = xcalloc(nsit, sizeof *figs);
    for (size_t i = 0; i < stats_tree()->nplat; i++) {
        if (!stats_scope_has(p->scope, i)) continue;
        const char *code = stats_tree()->code[i];
        published total = pub_count(stats_protected_count(tl, "cases", "", 0, tl->nunits, i));
        stats_protected_codes(tl, dim, sit, nsit, 0, tl->nunits, i, true, figs);
        char section[96];
        snprintf(section, sizeof section, "follow_up_%d:by_platform:%s", h, code);
        json_t *cells = JCHECK(json_array());
        for (size_t s = 0; s < nsit; s++)
            report_cell(rp, cells, section, sit[s], situation_label(sit[s]), pub_count(figs[s]),
                        total);
        json_array_append_new(rows,
                              JCHECK(json_pack("{s:s, s:s, s:o, s:o}", "code", code, "label_fr",
                                               stats_label("platform", code), "cases",
                                               pub_json(total), "situations", cells)));
    }
    free(figs);
    return rows;
}

/* A breakdown of the cohort crossed with the situations at h months: a two-way table. */
static json_t *cross_rows(stats_report *rp, const tallies *tl, size_t x, int h,
                          const char *const *sit, size_t nsit, const stats_params *p)
{
    size_t nr;
    const char **rc = codes_with(CROSSES[x].vocab, NULL, &nr);
    char dim[16], code[96], section[96];
    snprintf(dim, sizeof dim, "fu%d%s", h, CROSSES[x].suffix);
    const sdc_tally **cells = xcalloc(nr * nsit, sizeof *cells);
    for (size_t r = 0; r < nr; r++)
        for (size_t s = 0; s < nsit; s++) {
            snprintf(code, sizeof code, "%s:%s", rc[r], sit[s]);
            const trow *row = stats_tallies_get(tl, dim, code);
            cells[r * nsit + s] = row ? row->t : NULL;
        }
    size_t ns = sdc_nscopes(stats_tree());
    bool *hidden = xcalloc(nr * nsit * ns, sizeof *hidden);
    sdc_table_hide(stats_sdc(), stats_tree(), cells, rc, nr, sit, nsit, tl->nunits, hidden);
    /* the rows' totals, as the one-way breakdown publishes them */
    sdc_figure *margin = xcalloc(nr, sizeof *margin);
    stats_protected_codes(tl, CROSSES[x].dim, rc, nr, 0, tl->nunits, p->scope, true, margin);
    json_t *rows = JCHECK(json_array());
    for (size_t r = 0; r < nr; r++) {
        published total = pub_count(margin[r]);
        snprintf(section, sizeof section, "follow_up_%d:%s:%s", h, CROSSES[x].section, rc[r]);
        json_t *out = JCHECK(json_array());
        for (size_t s = 0; s < nsit; s++) {
            size_t i = r * nsit + s;
            sdc_figure f = sdc_protect(stats_sdc(), cell_sum(cells[i], tl->nunits, p->scope),
                                       hidden[i * ns + p->scope]);
            report_cell(rp, out, section, sit[s], situation_label(sit[s]), pub_count(f), total);
        }
        json_array_append_new(rows,
                              JCHECK(json_pack("{s:s, s:s, s:o, s:o}", "code", rc[r], "label_fr",
                                               stats_label(CROSSES[x].vocab, rc[r]), "cases",
                                               pub_json(total), "situations", out)));
    }
    free(margin);
    free(hidden);
    free(cells);
    free(rc);
    return rows;
}

static void follow_ups(stats_report *rp, const tallies *tl, const stats_params *p, published cases)
{
    size_t nsit;
    const char **sit = codes_with("follow_up_situation", NOT_YET, &nsit);
    sdc_figure *figs = xcalloc(nsit, sizeof *figs);
    json_t *arr = JCHECK(json_array());
    for (size_t k = 0; k < NHORIZONS; k++) {
        int h = HORIZONS[k];
        char dim[16], section[32];
        snprintf(dim, sizeof dim, "fu%d", h);
        snprintf(section, sizeof section, "follow_up_%d", h);
        stats_protected_codes(tl, dim, sit, nsit, 0, tl->nunits, p->scope, true, figs);
        json_t *cells = JCHECK(json_array());
        for (size_t s = 0; s < nsit; s++)
            report_cell(rp, cells, section, sit[s], situation_label(sit[s]), pub_count(figs[s]),
                        cases);
        json_t *item = JCHECK(json_pack("{s:i, s:o}", "at_months", h, "situations", cells));
        json_object_set_new(item, "by_first_action", cross_rows(rp, tl, 0, h, sit, nsit, p));
        json_object_set_new(item, "by_platform", platform_rows(rp, tl, dim, h, sit, nsit, p));
        for (size_t x = 1; x < NCROSSES; x++)
            json_object_set_new(item, CROSSES[x].section, cross_rows(rp, tl, x, h, sit, nsit, p));
        json_array_append_new(arr, item);
    }
    json_object_set_new(rp->doc, "follow_up", arr);
    free(figs);
    free(sit);
}

/* ---- the actions of the period ----------------------------------------------------------------
 */

/* Distinct cases counted over the whole period (dim_all, at unit 0) and in each unit (dim):
 * protected as the whole, hidden when hidden there or in one of its units. out[n]. */
static void distinct_codes(const tallies *tl, const char *dim, const char *dim_all,
                           const char *const *codes, size_t n, size_t scope, sdc_figure *out)
{
    stats_protected_codes(tl, dim_all, codes, n, 0, 1, scope, false, out);
    if (tl->nunits < 2) return;
    sdc_figure *f = xcalloc(n, sizeof *f);
    for (size_t u = 0; u < tl->nunits; u++) {
        stats_protected_codes(tl, dim, codes, n, u, 1, scope, false, f);
        for (size_t i = 0; i < n; i++)
            if (f[i].status == SDC_HIDDEN) out[i] = (sdc_figure){0, SDC_HIDDEN};
    }
    free(f);
}

static void actions(stats_report *rp, const tallies *tl, const stats_params *p)
{
    size_t nu = tl->nunits, nk;
    published all = pub_count(stats_protected_count(tl, "actions", "", 0, nu, p->scope));
    report_headline(rp, rp->doc, "actions", "Actions réalisées dans la période", all, "headline");
    sdc_figure acted;
    static const char *const NONE[] = {""};
    distinct_codes(tl, "case_acted", "case_acted_all", NONE, 1, p->scope, &acted);
    published cases = pub_count(acted);
    report_headline(rp, rp->doc, "cases_with_action", "Ménages ayant bénéficié d'une action", cases,
                    "headline");
    stats_breakdown(rp, tl, p, "actions_by_kind", "action_kind", "prevention_action_kind", false,
                    true, all);
    const char **kinds = codes_with("prevention_action_kind", NULL, &nk);
    sdc_figure *figs = xcalloc(nk, sizeof *figs);
    distinct_codes(tl, "case_action", "case_action_all", kinds, nk, p->scope, figs);
    json_t *arr = JCHECK(json_array());
    for (size_t i = 0; i < nk; i++)
        report_cell(rp, arr, "cases_by_action_kind", kinds[i],
                    stats_label("prevention_action_kind", kinds[i]), pub_count(figs[i]), cases);
    json_object_set_new(rp->doc, "cases_by_action_kind", arr);
    free(figs);
    free(kinds);
}

/* ---- GET /v1/stats/prevention ------------------------------------------------------------------
 */

void stats_prevention_get(lda_req *r)
{
    stats_params p;
    db_conn *c = stats_begin(r, &p);
    if (!c) return;
    tallies tl;
    const char *unit;
    stats_units(&p, &tl, &unit);
    stats_counts counts;
    stats_value *vals = NULL;
    size_t nvals = 0;
    lda_err e = stats_prevention_counts(c, p.m0, p.m1, unit, &counts);
    if (!e) {
        e = stats_prevention_values(c, p.m0, p.m1, p.platforms, &vals, &nvals);
        if (e) stats_counts_free(&counts);
    }
    db_release(c);
    if (e) return stats_answer_err(r, &p, &tl, e);
    stats_tallies_fill(&tl, &counts);
    stats_counts_free(&counts);

    stats_report rp;
    report_init(&rp, p.filters);
    size_t nu = tl.nunits;
    published cases = pub_count(stats_protected_count(&tl, "cases", "", 0, nu, p.scope));
    report_headline(&rp, rp.doc, "cases", "Ménages de la cohorte (première action dans la période)",
                    cases, "headline");
    debt_quartiles(&rp, vals, nvals);
    json_t *years = JCHECK(json_array());
    for (size_t u = 0; u < nu; u++) {
        char y[8];
        snprintf(y, sizeof y, "%.4s", tl.units[u]);
        report_cell(&rp, years, "by_year", y, y,
                    pub_count(stats_protected_count(&tl, "cases", "", u, 1, p.scope)), cases);
    }
    json_object_set_new(rp.doc, "by_year", years);
    stats_breakdown(&rp, &tl, &p, "by_first_action", "first_action", "prevention_action_kind",
                    false, true, cases);
    stats_by_platform(&rp, &tl, &p, "cases", cases);
    stats_breakdown(&rp, &tl, &p, "by_entry_stage", "entry_stage", "procedure_stage", false, true,
                    cases);
    stats_breakdown(&rp, &tl, &p, "by_debt_band", "debt_band", "debt_band", false, true, cases);
    follow_ups(&rp, &tl, &p, cases);
    actions(&rp, &tl, &p);

    free(vals);
    stats_tallies_free(&tl);
    bool csv = p.csv;
    stats_params_free(&p);
    report_send(r, &rp, csv, "prevention", stats_sdc()->threshold, stats_sdc()->max_noise);
}
