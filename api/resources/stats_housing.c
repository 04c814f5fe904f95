/*
 * GET /v1/stats/housing (docs/statistics.md): the placements entered in the period, by offer
 * kind, typology, platform and year; the occupancy of SAS flats and youth shared flats over
 * the period; the time from referral to placement; the tension on small units on the period's
 * last day (households waiting by composition against free places of homes by typology); the
 * fluidity meetings held, the households presented there, the proposals made and accepted.
 *
 * Every count is protected by the cell-key method (no exact figure here); a count recorded as
 * a number on a row (proposals on a meeting, free places of an offer) carries that row's key
 * once per unit counted. Quartiles and occupancy rates follow the non-count rule
 * (sdc_value_shown): quartiles rounded to a week, rates to a whole percent.
 */
#include "core/mem.h"
#include "domain/vocab.h"
#include "resources/stats_common.h"
#include "store/stats_axes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELAY_STEP_DAYS 7

static const char *const SHARED_KINDS[] = {"sas_flat", "youth_shared_flat"};
#define NSHARED (sizeof SHARED_KINDS / sizeof SHARED_KINDS[0])

static published hidden_value(void) { return (published){0, true, SDC_HIDDEN}; }

static const stats_value *value_of(const stats_value *vals, size_t n, const char *figure,
                                   const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(vals[i].figure, figure) && !strcmp(vals[i].code, code)) return &vals[i];
    return NULL;
}

static sdc_figure figure_of(const char *vocab_name, const sdc_figure *figs, const char *code)
{
    const vocab *v = vocab_find(vocab_name);
    for (size_t i = 0; i < v->ncodes; i++)
        if (!strcmp(v->codes[i].code, code)) return figs[i];
    return (sdc_figure){0, SDC_HIDDEN};
}

/* The count of two codes together (dim, over the whole period): protected, and hidden too
 * when exactly one of the two codes is (else it would be their difference). */
static published small_units(const tallies *tl, const stats_params *p, const char *dim,
                             const char *vocab_name, const sdc_figure *figs, const char *a,
                             const char *b)
{
    sdc_figure f = stats_protected_count(tl, dim, "", 0, 1, p->scope);
    bool ha = figure_of(vocab_name, figs, a).status == SDC_HIDDEN;
    bool hb = figure_of(vocab_name, figs, b).status == SDC_HIDDEN;
    if (ha != hb) f = (sdc_figure){0, SDC_HIDDEN};
    return pub_count(f);
}

/* SAS flats and youth shared flats: offers available in the period, placements in them
 * during it, and the share of their place-days occupied. Counts over the whole period. */
static void occupancy(stats_report *rp, const tallies *tl, const stats_params *p,
                      const stats_value *vals, size_t nvals)
{
    json_t *arr = JCHECK(json_array());
    for (size_t k = 0; k < NSHARED; k++) {
        const char *kind = SHARED_KINDS[k];
        char section[48];
        snprintf(section, sizeof section, "occupancy:%s", kind);
        json_t *item = JCHECK(json_pack("{s:s, s:s}", "code", kind, "label_fr",
                                        stats_label("housing_offer_kind", kind)));
        report_headline(rp, item, "offers", "Offres disponibles dans la période",
                        pub_count(stats_protected_count(tl, "occ_offers", kind, 0, 1, p->scope)),
                        section);
        report_headline(rp, item, "placements", "Ménages accueillis dans la période",
                        pub_count(stats_protected_count(tl, "occ_stays", kind, 0, 1, p->scope)),
                        section);
        const stats_value *v = value_of(vals, nvals, "occupancy", kind);
        published rate = hidden_value();
        if (v && sdc_value_shown(stats_sdc(), v->n, false) && v->has[1] && v->v[1] > 0)
            rate = (published){sdc_round_rate(v->v[0] / v->v[1]), false, SDC_PERTURBED};
        rate.is_count = false;
        report_headline(rp, item, "occupancy_rate", "Taux d'occupation (journées-places)", rate,
                        section);
        json_array_append_new(arr, item);
    }
    json_object_set_new(rp->doc, "occupancy", arr);
}

/* The days from the referral's reception to the placement: quartiles, for every placement
 * and by offer kind. */
static void time_to_placement(stats_report *rp, const stats_value *vals, size_t nvals)
{
    const vocab *v = vocab_find("housing_offer_kind");
    static const char *const KEYS[] = {"q1_days", "median_days", "q3_days"};
    static const char *const LABELS[] = {"Premier quartile (jours)", "Médiane (jours)",
                                         "Troisième quartile (jours)"};
    json_t *arr = JCHECK(json_array());
    for (size_t i = 0; i <= v->ncodes; i++) {
        const char *code = i ? v->codes[i - 1].code : "all";
        const stats_value *x = value_of(vals, nvals, "delay", i ? code : "");
        bool shown = x && sdc_value_shown(stats_sdc(), x->n, true);
        char section[48];
        snprintf(section, sizeof section, "time_to_placement:%s", code);
        json_t *item = JCHECK(json_pack("{s:s, s:s}", "code", code, "label_fr",
                                        i ? v->codes[i - 1].label_fr : "Toutes les offres"));
        for (int q = 0; q < 3; q++) {
            published d = shown && x->has[q]
                              ? (published){(double)sdc_round_to(x->v[q], DELAY_STEP_DAYS), true,
                                            SDC_PERTURBED}
                              : hidden_value();
            report_headline(rp, item, KEYS[q], LABELS[q], d, section);
        }
        json_array_append_new(arr, item);
    }
    json_object_set_new(rp->doc, "time_to_placement", arr);
}

/* The protected codes of a vocabulary for a dim counted over the whole period (unit 0), with
 * their figures (caller frees *figs_out); the cells are rendered by stock_render. */
static sdc_figure *stock_codes(const tallies *tl, const stats_params *p, const char *dim,
                               const char *vocab_name)
{
    const vocab *v = vocab_find(vocab_name);
    const char **codes = xcalloc(v->ncodes, sizeof *codes);
    for (size_t i = 0; i < v->ncodes; i++) codes[i] = v->codes[i].code;
    sdc_figure *figs = xcalloc(v->ncodes, sizeof *figs);
    stats_protected_codes(tl, dim, codes, v->ncodes, 0, 1, p->scope, true, figs);
    free(codes);
    return figs;
}

static json_t *stock_render(stats_report *rp, const char *section, const char *vocab_name,
                            const sdc_figure *figs, published total)
{
    const vocab *v = vocab_find(vocab_name);
    json_t *arr = JCHECK(json_array());
    for (size_t i = 0; i < v->ncodes; i++)
        report_cell(rp, arr, section, v->codes[i].code, v->codes[i].label_fr, pub_count(figs[i]),
                    total);
    return arr;
}

/* The households waiting and the free places of homes on the period's last day. */
static void tension(stats_report *rp, const tallies *tl, const stats_params *p)
{
    char on[11];
    grid_last_day(&p->period, on);
    json_t *obj = JCHECK(json_pack("{s:s}", "on", on));
    published waiting = pub_count(stats_protected_count(tl, "waiting_all", "", 0, 1, p->scope));
    published places = pub_count(stats_protected_count(tl, "free_all", "", 0, 1, p->scope));
    sdc_figure *wf = stock_codes(tl, p, "waiting", "composition");
    sdc_figure *pf = stock_codes(tl, p, "free_places", "typology");
    /* small units: single persons and couples without children, against T1 and T2 */
    published need =
        small_units(tl, p, "waiting_small", "composition", wf, "single_person", "couple_no_child");
    published small = small_units(tl, p, "free_small", "typology", pf, "t1", "t2");
    report_headline(rp, obj, "waiting", "Ménages en attente d'un logement", waiting, "tension");
    report_headline(rp, obj, "free_places", "Places libres (logements)", places, "tension");
    report_headline(
        rp, obj, "waiting_small_units",
        "Ménages en attente d'un petit logement (personnes seules, couples sans enfant)", need,
        "tension");
    report_headline(rp, obj, "free_small_units", "Places libres en T1 ou T2", small, "tension");
    report_headline(rp, obj, "small_units_tension",
                    "Tension sur les petits logements (ménages en attente par place T1-T2 libre)",
                    pub_rate(need, small), "tension");
    json_object_set_new(
        obj, "waiting_by_composition",
        stock_render(rp, "tension:waiting_by_composition", "composition", wf, waiting));
    json_object_set_new(
        obj, "free_places_by_typology",
        stock_render(rp, "tension:free_places_by_typology", "typology", pf, places));
    json_object_set_new(rp->doc, "tension", obj);
    free(wf);
    free(pf);
}

/* The fluidity meetings held in the period. */
static void fluidity(stats_report *rp, const tallies *tl, const stats_params *p)
{
    size_t nu = tl->nunits, s = p->scope;
    json_t *obj = JCHECK(json_object());
    published meetings = pub_count(stats_protected_count(tl, "meetings", "", 0, nu, s));
    published presented = pub_count(stats_protected_count(tl, "presented", "", 0, nu, s));
    published made = pub_count(stats_protected_count(tl, "proposals", "", 0, nu, s));
    published accepted = pub_count(stats_protected_count(tl, "accepted", "", 0, nu, s));
    report_headline(rp, obj, "meetings", "Commissions de fluidité tenues", meetings, "fluidity");
    report_headline(rp, obj, "households_presented", "Ménages présentés", presented, "fluidity");
    report_headline(rp, obj, "proposals_made", "Propositions faites", made, "fluidity");
    report_headline(rp, obj, "proposals_accepted", "Propositions acceptées", accepted, "fluidity");
    report_headline(rp, obj, "proposal_rate", "Propositions par ménage présenté",
                    pub_rate(made, presented), "fluidity");
    report_headline(rp, obj, "acceptance_rate", "Part des propositions acceptées",
                    pub_rate(accepted, made), "fluidity");
    json_object_set_new(rp->doc, "fluidity", obj);
}

/* ---- GET /v1/stats/housing ---------------------------------------------------------------------
 */

void stats_housing_get(lda_req *r)
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
    lda_err e = stats_housing_counts(c, p.m0, p.m1, unit, &counts);
    if (!e) {
        e = stats_housing_values(c, p.m0, p.m1, p.platforms, &vals, &nvals);
        if (e) stats_counts_free(&counts);
    }
    db_release(c);
    if (e) return stats_answer_err(r, &p, &tl, e);
    stats_tallies_fill(&tl, &counts);
    stats_counts_free(&counts);

    stats_report rp;
    report_init(&rp, p.filters);
    size_t nu = tl.nunits;
    published placements = pub_count(stats_protected_count(&tl, "placements", "", 0, nu, p.scope));
    report_headline(&rp, rp.doc, "placements", "Ménages entrés dans un logement de l'offre",
                    placements, "headline");
    stats_breakdown(&rp, &tl, &p, "by_offer_kind", "offer_kind", "housing_offer_kind", false, true,
                    placements);
    stats_breakdown(&rp, &tl, &p, "by_typology", "typology", "typology", false, true, placements);
    stats_by_platform(&rp, &tl, &p, "placements", placements);
    json_t *years = JCHECK(json_array());
    for (size_t u = 0; u < nu; u++) {
        char y[8];
        snprintf(y, sizeof y, "%.4s", tl.units[u]);
        report_cell(&rp, years, "by_year", y, y,
                    pub_count(stats_protected_count(&tl, "placements", "", u, 1, p.scope)),
                    placements);
    }
    json_object_set_new(rp.doc, "by_year", years);
    occupancy(&rp, &tl, &p, vals, nvals);
    time_to_placement(&rp, vals, nvals);
    tension(&rp, &tl, &p);
    fluidity(&rp, &tl, &p);

    free(vals);
    stats_tallies_free(&tl);
    bool csv = p.csv;
    stats_params_free(&p);
    report_send(r, &rp, csv, "logement", stats_sdc()->threshold, stats_sdc()->max_noise);
}
