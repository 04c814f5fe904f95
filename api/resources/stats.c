/*
 * Statistics: GET /v1/stats/activity, /v1/observatory/youth and its series
 * (docs/statistics.md). The store gives true counts with their key sums, by unit of time and
 * platform, for every platform; domain/disclosure decides what is published and how; the
 * report is rendered as JSON or as long-format CSV.
 *
 * The figures depend on the question only (period, platforms, age band), never on who asks:
 * a caller may ask for platforms within its scope (403 otherwise).
 */
#include "core/log.h"
#include "core/mem.h"
#include "core/parse.h"
#include "domain/disclosure.h"
#include "domain/stats_grid.h"
#include "domain/vocab.h"
#include "resources/resource.h"
#include "resources/stats_common.h"
#include "resources/stats_report.h"
#include "store/platform.h"
#include "store/stats_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reference data: the perturbation table and the platform tree, read once ----------- */

#define MAX_PTABLE_ROWS 256

static pthread_mutex_t ref_lock = PTHREAD_MUTEX_INITIALIZER;
static bool ref_loaded;
static sdc_ptable_row ref_rows[MAX_PTABLE_ROWS];
static char ref_codes[SDC_MAX_PLATFORMS][32];
static sdc_tree ref_tree;
static sdc_params ref_params;

/* Loads the reference data on first use; false (and answers 500) when it is unusable. */
static bool ref_ready(lda_req *r, db_conn *c)
{
    pthread_mutex_lock(&ref_lock);
    bool ok = ref_loaded;
    lda_err e = LDA_OK;
    if (!ok) {
        stats_ptable_row *rows = NULL;
        platform_ami *plats = NULL;
        size_t nrows = 0, nplats = 0;
        e = stats_reference(c, &rows, &nrows);
        if (!e) e = platform_amis_load(c, &plats, &nplats);
        bool amis_ok = true; /* the AMIs are the families of the platform tree: 1 and 2 */
        for (size_t i = 0; i < nplats; i++)
            amis_ok = amis_ok && plats[i].ami >= 1 && plats[i].ami <= SDC_NFAMILIES;
        if (!e && amis_ok && nrows <= MAX_PTABLE_ROWS && nplats > 0 &&
            nplats <= SDC_MAX_PLATFORMS) {
            for (size_t i = 0; i < nrows; i++)
                ref_rows[i] = (sdc_ptable_row){rows[i].max_noise, rows[i].excess, rows[i].noise,
                                               rows[i].key_from, rows[i].key_to};
            ref_tree.nplat = nplats;
            for (size_t i = 0; i < nplats; i++) {
                snprintf(ref_codes[i], sizeof ref_codes[i], "%s", plats[i].code);
                ref_tree.code[i] = ref_codes[i];
                ref_tree.family[i] = plats[i].ami - 1; /* AMI n is family n - 1 */
            }
            ref_params =
                (sdc_params){r->cfg->stats_min_cell, (int)r->cfg->stats_max_noise, ref_rows, nrows};
            const char *why = sdc_ptable_check(&ref_params);
            if (why)
                log_json(LOG_ERROR, "the perturbation table is not usable",
                         json_pack("{s:s}", "detail", why));
            else
                ref_loaded = ok = true;
        } else if (!e)
            e = LDA_EINTERNAL;
        free(rows);
        free(plats);
    }
    pthread_mutex_unlock(&ref_lock);
    if (!ok) {
        db_release(c);
        problem_send_err(r, e ? e : LDA_EINTERNAL, NULL);
    }
    return ok;
}

/* ---- parameters: the grid, the platforms, the age band ----------------------------------- */

static void params_free(stats_params *p)
{
    free(p->platforms);
    free(p->neighbours);
    json_decref(p->filters);
}

static bool scope_has(size_t scope, size_t platform)
{
    return scope == platform || scope == sdc_scope_all(&ref_tree) ||
           (scope >= ref_tree.nplat && ref_tree.family[platform] == (int)(scope - ref_tree.nplat));
}

static bool caller_covers(const lda_req *r, size_t scope)
{
    for (size_t i = 0; i < ref_tree.nplat; i++)
        if (scope_has(scope, i) && !http_in_scope(r, ref_tree.code[i])) return false;
    return true;
}

/* The scope a caller gets when it names none: all platforms, or its own platform or AMI. */
static bool default_scope(const lda_req *r, size_t *scope)
{
    size_t ns = sdc_nscopes(&ref_tree);
    for (size_t s = ns; s-- > 0;) { /* all, the AMIs, then each platform */
        bool exact = caller_covers(r, s);
        for (size_t i = 0; i < ref_tree.nplat && exact; i++)
            if (!scope_has(s, i) && http_in_scope(r, ref_tree.code[i])) exact = false;
        if (exact) {
            *scope = s;
            return true;
        }
    }
    return false;
}

/* The platforms of a scope as a text[] literal; caller frees. */
static char *platforms_literal(size_t scope)
{
    size_t cap = 3;
    for (size_t i = 0; i < ref_tree.nplat; i++) cap += strlen(ref_tree.code[i]) + 1;
    char *lit = xmalloc(cap), *q = lit;
    *q++ = '{';
    for (size_t i = 0; i < ref_tree.nplat; i++)
        if (scope_has(scope, i)) {
            if (q > lit + 1) *q++ = ',';
            size_t n = strlen(ref_tree.code[i]);
            memcpy(q, ref_tree.code[i], n);
            q += n;
        }
    *q++ = '}';
    *q = '\0';
    return lit;
}

static json_t *one_error(const char *field, const char *message)
{
    json_t *errors = JCHECK(json_array());
    json_array_append_new(errors,
                          JCHECK(json_pack("{s:s, s:s}", "field", field, "message", message)));
    return errors;
}

/* Reads from/to/platform/ami/age_band/format (types already checked by the route); answers
 * 422 or 403 itself and returns false. Needs the reference data. */
static bool read_params(lda_req *r, stats_params *p, bool youth)
{
    memset(p, 0, sizeof *p);
    const char *from = query_get(&r->query, "from"), *to = query_get(&r->query, "to");
    char today[11], year_end[16];
    format_date(today_paris(), today);
    snprintf(year_end, sizeof year_end, "%.4s-12-31", today);
    if (!from) from = "2019-01-01";
    if (!to) to = year_end;
    const char *field, *message;
    if (!grid_parse(from, to, &p->period, &field, &message)) {
        resource_invalid(r, one_error(field, message), "Some statistics parameters are not valid.");
        return false;
    }
    const char *platform = query_get(&r->query, "platform"), *ami = query_get(&r->query, "ami");
    if (platform && ami) {
        resource_invalid(r, one_error("ami", "give platform or ami, not both"),
                         "Some statistics parameters are not valid.");
        return false;
    }
    size_t scope = 0;
    if (platform) {
        while (scope < ref_tree.nplat && strcmp(ref_tree.code[scope], platform)) scope++;
        if (scope == ref_tree.nplat) { /* a code of the vocabulary with no platform row */
            resource_invalid(r, one_error("platform", "no such platform"),
                             "Some statistics parameters are not valid.");
            return false;
        }
    } else if (ami)
        scope = ref_tree.nplat + (size_t)(atoi(ami) - 1);
    else if (!default_scope(r, &scope)) {
        problem_send(r, 403,
                     "This token's statistics cover only its own platforms: name one of them "
                     "(platform=) or its AMI (ami=).",
                     NULL);
        return false;
    }
    if (!caller_covers(r, scope)) {
        problem_send(r, 403, "This token's statistics cover only its own platforms.", NULL);
        return false;
    }
    p->scope = scope;
    p->band = query_get(&r->query, "age_band");
    if (!p->band) p->band = "age_18_25";
    if (youth && !vocab_age_band_range(p->band, &p->lo, &p->hi)) {
        resource_invalid(r, one_error("age_band", "not an age band"),
                         "Some statistics parameters are not valid.");
        return false;
    }
    const char *format = query_get(&r->query, "format");
    const char *accept = http_req_header(r, "Accept");
    p->csv = format ? !strcmp(format, "csv") : (accept && strstr(accept, "text/csv") != NULL);
    grid_bounds(&p->period, p->m0, p->m1);

    json_t *plats = JCHECK(json_array());
    for (size_t i = 0; i < ref_tree.nplat; i++)
        if (scope_has(scope, i))
            json_array_append_new(plats, JCHECK(json_string(ref_tree.code[i])));
    p->platforms = platforms_literal(scope);
    /* one platform: only its AMI's platforms take part in what is published about it */
    if (scope < ref_tree.nplat)
        p->neighbours = platforms_literal(ref_tree.nplat + (size_t)ref_tree.family[scope]);
    char first[11], last[11];
    grid_month_date(p->period.first, first);
    grid_last_day(&p->period, last);
    p->filters = JCHECK(
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "from", first, "to", last, "period",
                  grid_kind_name(p->period.kind), "platform",
                  scope < ref_tree.nplat ? json_string(ref_tree.code[scope]) : json_null(), "ami",
                  scope >= ref_tree.nplat && scope < sdc_scope_all(&ref_tree)
                      ? json_integer((json_int_t)(scope - ref_tree.nplat + 1))
                      : json_null(),
                  "platforms", plats));
    if (youth) json_object_set_new(p->filters, "age_band", JCHECK(json_string(p->band)));
    return true;
}

/* ---- counts by unit and platform ----------------------------------------------------------- */

static void tallies_init(tallies *tl, size_t nunits)
{
    memset(tl, 0, sizeof *tl);
    tl->nunits = nunits;
    tl->units = xcalloc(nunits, sizeof *tl->units);
}

static void tallies_free(tallies *tl)
{
    for (size_t i = 0; i < tl->nrows; i++) free(tl->rows[i].t);
    free(tl->rows);
    free(tl->units);
}

static const trow *tallies_get(const tallies *tl, const char *dim, const char *code)
{
    for (size_t i = 0; i < tl->nrows; i++)
        if (!strcmp(tl->rows[i].dim, dim) && !strcmp(tl->rows[i].code, code)) return &tl->rows[i];
    return NULL;
}

static trow *tallies_add(tallies *tl, const char *dim, const char *code)
{
    trow *row = (trow *)tallies_get(tl, dim, code);
    if (row) return row;
    if (tl->nrows == tl->cap) {
        tl->cap = tl->cap ? tl->cap * 2 : 64;
        tl->rows = xrealloc(tl->rows, tl->cap * sizeof *tl->rows);
    }
    row = &tl->rows[tl->nrows++];
    snprintf(row->dim, sizeof row->dim, "%s", dim);
    snprintf(row->code, sizeof row->code, "%s", code);
    row->t = xcalloc(tl->nunits * ref_tree.nplat, sizeof *row->t);
    return row;
}

static long unit_index(const tallies *tl, const char *unit)
{
    for (size_t i = 0; i < tl->nunits; i++)
        if (!strcmp(tl->units[i], unit)) return (long)i;
    return -1;
}

static void tallies_fill(tallies *tl, const stats_counts *c)
{
    for (size_t i = 0; i < c->count; i++) {
        const stats_count *x = &c->items[i];
        long u = unit_index(tl, x->unit);
        size_t p = 0;
        while (p < ref_tree.nplat && strcmp(ref_tree.code[p], x->platform)) p++;
        if (u < 0 || p == ref_tree.nplat) continue;
        sdc_tally *t = &tallies_add(tl, x->dim, x->code)->t[(size_t)u * ref_tree.nplat + p];
        t->n += x->n;
        t->ks += x->ks;
    }
}

/* The protected counts of a dimension's codes over units [u0, u0 + nu) for a scope, with the
 * flags of sdc_breakdown_hide (partition: the codes split their total). out[ncodes]. */
static void protected_codes(const tallies *tl, const char *dim, const char *const *codes,
                            size_t ncodes, size_t u0, size_t nu, size_t scope, bool partition,
                            sdc_figure *out)
{
    size_t ns = sdc_nscopes(&ref_tree);
    const sdc_tally **cells = xcalloc(ncodes, sizeof *cells);
    for (size_t c = 0; c < ncodes; c++) {
        const trow *row = tallies_get(tl, dim, codes[c]);
        cells[c] = row ? row->t + u0 * ref_tree.nplat : NULL;
    }
    bool *hidden = xcalloc(ncodes * ns, sizeof *hidden);
    sdc_breakdown_hide(&ref_params, &ref_tree, cells, codes, ncodes, nu, partition, hidden);
    for (size_t c = 0; c < ncodes; c++) {
        sdc_tally sum = {0, 0};
        for (size_t u = 0; cells[c] && u < nu; u++) {
            sdc_tally x = sdc_scope_tally(&ref_tree, cells[c] + u * ref_tree.nplat, scope);
            sum.n += x.n;
            sum.ks += x.ks;
        }
        out[c] = sdc_protect(&ref_params, sum, hidden[c * ns + scope]);
    }
    free(hidden);
    free(cells);
}

/* A protected count of one cell (dim, code) over units [u0, u0 + nu) for a scope. */
static sdc_figure protected_count(const tallies *tl, const char *dim, const char *code, size_t u0,
                                  size_t nu, size_t scope)
{
    sdc_figure f;
    protected_codes(tl, dim, &code, 1, u0, nu, scope, false, &f);
    return f;
}

/* The codes of a breakdown: a vocabulary's, then not_collected when `missing`. Caller frees
 * the array (not the strings). */
static const char **codes_of(const char *vocab_name, bool missing, size_t *n)
{
    const vocab *v = vocab_find(vocab_name);
    const char **codes = xcalloc(v->ncodes + 1, sizeof *codes);
    for (size_t i = 0; i < v->ncodes; i++) codes[i] = v->codes[i].code;
    *n = v->ncodes;
    if (missing) codes[(*n)++] = "not_collected";
    return codes;
}

/* The protected count of `code` within its partition `dim` (the codes of vocab_name, then
 * not_collected when `missing`). */
static sdc_figure partition_count(const tallies *tl, const char *dim, const char *vocab_name,
                                  bool missing, const char *code, size_t u0, size_t nu,
                                  size_t scope)
{
    size_t n;
    const char **codes = codes_of(vocab_name, missing, &n);
    sdc_figure *figs = xcalloc(n, sizeof *figs), out = {0, SDC_PERTURBED};
    protected_codes(tl, dim, codes, n, u0, nu, scope, true, figs);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(codes[i], code)) out = figs[i];
    free(figs);
    free(codes);
    return out;
}

static void official_set(official_rows *o, const tallies *tl, sdc_official f, const char *dim,
                         const char *code)
{
    o->row[f] = tallies_get(tl, dim, code);
    o->dim[f] = dim;
    o->code[f] = code;
}

/* An official figure over units [u0, u0 + nu) (whole calendar years) for all platforms or
 * an AMI: exact, hidden by the rules of each year. */
static sdc_figure exact_count(const official_rows *o, sdc_official f, size_t u0, size_t nu,
                              size_t scope)
{
    bool hidden = false;
    long total = 0;
    int side = scope == sdc_scope_all(&ref_tree) ? 0 : 1;
    for (size_t u = u0; u < u0 + nu; u++) {
        long v[SDC_NOFFICIAL][2] = {{0}};
        for (int k = 0; k < SDC_NOFFICIAL; k++)
            for (size_t p = 0; o->row[k] && p < ref_tree.nplat; p++)
                v[k][ref_tree.family[p]] += o->row[k]->t[u * ref_tree.nplat + p].n;
        bool h[SDC_NOFFICIAL][2];
        sdc_official_hide(&ref_params, v, h);
        hidden = hidden || h[f][side];
        total += side == 0 ? v[f][0] + v[f][1] : v[f][scope - ref_tree.nplat];
    }
    return sdc_exact(&ref_params, total, hidden);
}

/* A headline count: exact when it is an official figure of whole years for all platforms or
 * an AMI, else protected. */
static published headline_count(const tallies *tl, const official_rows *o, sdc_official f,
                                bool official, grid_kind kind, size_t u0, size_t nu, size_t scope)
{
    bool exact = official && (kind == GRID_YEAR || kind == GRID_YEARS) && scope >= ref_tree.nplat;
    if (exact) return pub_count(exact_count(o, f, u0, nu, scope));
    if (f >= SDC_ACCOMPANIED && f <= SDC_IN_PROGRESS) {
        /* the outcomes split referrals_received */
        static const char *const OUTCOME_CODES[] = {"accompanied", "in_progress", "no_follow_up",
                                                    "reoriented"};
        sdc_figure figs[4];
        protected_codes(tl, "outcome", OUTCOME_CODES, 4, u0, nu, scope, true, figs);
        for (int i = 0; i < 4; i++)
            if (!strcmp(OUTCOME_CODES[i], o->code[f])) return pub_count(figs[i]);
    }
    return pub_count(protected_count(tl, o->dim[f], o->code[f], u0, nu, scope));
}

static const char *label_of(const char *vocab_name, const char *code)
{
    if (!strcmp(code, "not_collected")) return "Non renseigné";
    const char *l = vocab_name ? vocab_label(vocab_find(vocab_name), code) : NULL;
    return l ? l : code;
}

/* A breakdown over a vocabulary's codes (then not_collected when `missing`): every cell
 * protected (partition: the codes split the total), with its share of `total`. */
static void breakdown(stats_report *rp, const tallies *tl, const stats_params *p,
                      const char *section, const char *dim, const char *vocab_name, bool missing,
                      bool partition, published total)
{
    size_t n;
    const char **codes = codes_of(vocab_name, missing, &n);
    sdc_figure *figs = xcalloc(n, sizeof *figs);
    protected_codes(tl, dim, codes, n, 0, tl->nunits, p->scope, partition, figs);
    json_t *arr = JCHECK(json_array());
    for (size_t i = 0; i < n; i++)
        report_cell(rp, arr, section, codes[i], label_of(vocab_name, codes[i]), pub_count(figs[i]),
                    total);
    json_object_set_new(rp->doc, section, arr);
    free(figs);
    free(codes);
}

/* The cells of a count by platform, for the platforms of the scope. */
static void by_platform(stats_report *rp, const tallies *tl, const stats_params *p, const char *dim,
                        published total)
{
    json_t *arr = JCHECK(json_array());
    for (size_t i = 0; i < ref_tree.nplat; i++)
        if (scope_has(p->scope, i))
            report_cell(rp, arr, "by_platform", ref_tree.code[i],
                        label_of("platform", ref_tree.code[i]),
                        pub_count(protected_count(tl, dim, "", 0, tl->nunits, i)), total);
    json_object_set_new(rp->doc, "by_platform", arr);
}

/* Leases a read connection, loads the reference data and reads the parameters: NULL when
 * it answered. */
static db_conn *begin(lda_req *r, stats_params *p, bool youth)
{
    db_conn *c = resource_db_read(r);
    if (!c) return NULL;
    if (!ref_ready(r, c)) return NULL;
    if (!read_params(r, p, youth)) {
        db_release(c);
        params_free(p);
        return NULL;
    }
    return c;
}

/* The units of a period: its years for a range of years, else the whole period. */
static void units_of(const stats_params *p, tallies *tl, const char **unit)
{
    bool years = p->period.kind == GRID_YEARS;
    tallies_init(tl, years ? (size_t)grid_nyears(&p->period) : 1);
    for (size_t i = 0; i < tl->nunits; i++)
        if (years)
            grid_month_date(p->period.first + 12 * (int)i, tl->units[i]);
        else
            snprintf(tl->units[i], sizeof tl->units[i], "%s", p->m0);
    *unit = years ? "year" : "period";
}

static void answer_err(lda_req *r, stats_params *p, tallies *tl, lda_err e)
{
    tallies_free(tl);
    params_free(p);
    problem_send_err(r, e ? e : LDA_EINTERNAL, NULL);
}

/* ---- GET /v1/stats/activity ------------------------------------------------------------------ */

void stats_activity_get(lda_req *r)
{
    stats_params p;
    db_conn *c = begin(r, &p, false);
    if (!c) return;
    tallies tl;
    const char *unit;
    units_of(&p, &tl, &unit);
    stats_counts counts;
    lda_err e = stats_activity_counts(c, p.m0, p.m1, unit, &counts);
    db_release(c);
    if (e) return answer_err(r, &p, &tl, e);
    tallies_fill(&tl, &counts);
    stats_counts_free(&counts);

    official_rows o = {{NULL}, {NULL}, {NULL}};
    official_set(&o, &tl, SDC_REFERRALS_RECEIVED, "total", "");
    official_set(&o, &tl, SDC_ACCOMPANIED, "outcome", "accompanied");
    official_set(&o, &tl, SDC_REORIENTED, "outcome", "reoriented");
    official_set(&o, &tl, SDC_NO_FOLLOW_UP, "outcome", "no_follow_up");
    official_set(&o, &tl, SDC_IN_PROGRESS, "outcome", "in_progress");
    official_set(&o, &tl, SDC_HOUSED, "housed", "");
    stats_report rp;
    report_init(&rp, p.filters);
    size_t nu = tl.nunits;
    published total =
        headline_count(&tl, &o, SDC_REFERRALS_RECEIVED, true, p.period.kind, 0, nu, p.scope);
    report_headline(&rp, rp.doc, "referrals_received", "Saisines reçues", total, "headline");

    static const struct {
        sdc_official f;
        const char *label;
    } OUTCOMES[] = {{SDC_ACCOMPANIED, "Accompagnés"},
                    {SDC_REORIENTED, "Réorientés"},
                    {SDC_NO_FOLLOW_UP, "Sans suite"},
                    {SDC_IN_PROGRESS, "En cours"},
                    {SDC_HOUSED, "Logés ou maintenus dans le logement"}};
    json_t *outcomes = JCHECK(json_object());
    for (size_t i = 0; i < sizeof OUTCOMES / sizeof OUTCOMES[0]; i++)
        report_headline(&rp, outcomes, sdc_official_name(OUTCOMES[i].f), OUTCOMES[i].label,
                        headline_count(&tl, &o, OUTCOMES[i].f, true, p.period.kind, 0, nu, p.scope),
                        "outcomes");
    json_object_set_new(rp.doc, "outcomes", outcomes);

    breakdown(&rp, &tl, &p, "by_housing_situation", "situation", "housing_situation", false, true,
              total);
    breakdown(&rp, &tl, &p, "by_referrer_kind", "referrer", "partner_kind", true, true, total);
    by_platform(&rp, &tl, &p, "total", total);

    /* by_year: the referrals of each year of the period (one cell unless a range) */
    json_t *years = JCHECK(json_array());
    for (size_t u = 0; u < nu; u++) {
        char y[8];
        snprintf(y, sizeof y, "%.4s", tl.units[u]);
        grid_kind k = nu > 1 ? GRID_YEAR : p.period.kind;
        report_cell(&rp, years, "by_year", y, y,
                    headline_count(&tl, &o, SDC_REFERRALS_RECEIVED, true, k, u, 1, p.scope), total);
    }
    json_object_set_new(rp.doc, "by_year", years);

    /* the measures of those referrals by kind, shares of all of them */
    trow *all_measures = tallies_add(&tl, "measures", "");
    for (size_t i = 0; i < tl.nrows; i++)
        if (!strcmp(tl.rows[i].dim, "measure"))
            for (size_t k = 0; k < nu * ref_tree.nplat; k++) {
                all_measures->t[k].n += tl.rows[i].t[k].n;
                all_measures->t[k].ks += tl.rows[i].t[k].ks;
            }
    breakdown(&rp, &tl, &p, "measures_by_kind", "measure", "measure_kind", false, true,
              pub_count(protected_count(&tl, "measures", "", 0, nu, p.scope)));

    tallies_free(&tl);
    bool csv = p.csv;
    params_free(&p);
    report_send(r, &rp, csv, "activite", ref_params.threshold, ref_params.max_noise);
}

/* ---- the youth observatory ------------------------------------------------------------------- */

/* Protected persons over units: hidden when one of the units' is small (ranges of years). */
static published persons_figure(const stats_persons *whole, const stats_persons *units,
                                size_t nunits, bool repeats)
{
    bool hidden = false;
    for (size_t i = 0; i < nunits; i++)
        hidden = hidden || sdc_small(&ref_params, repeats ? units[i].repeats : units[i].persons);
    sdc_tally t = whole ? (sdc_tally){repeats ? whole->repeats : whole->persons,
                                      repeats ? whole->repeats_ks : whole->persons_ks}
                        : (sdc_tally){0, 0};
    return pub_count(sdc_protect(&ref_params, t, hidden));
}

/* The headline figures of units [u0, u0 + nu) into obj (CSV rows when csv_section); returns
 * youth_requests as published. */
static published youth_headline(stats_report *rp, json_t *obj, const tallies *tl, size_t u0,
                                size_t nu, grid_kind kind, const stats_params *p,
                                const stats_persons *whole, const stats_persons *units,
                                size_t nunits, const char *csv_section)
{
    official_rows o = {{NULL}, {NULL}, {NULL}};
    official_set(&o, tl, SDC_REQUESTS_TOTAL, "all", "");
    official_set(&o, tl, SDC_YOUTH_REQUESTS, "total", "");
    bool band = !strcmp(p->band, "age_18_25");
    published total = headline_count(tl, &o, SDC_REQUESTS_TOTAL, true, kind, u0, nu, p->scope);
    published youth = headline_count(tl, &o, SDC_YOUTH_REQUESTS, band, kind, u0, nu, p->scope);
    report_headline(rp, obj, "requests_total", "Demandes (tous âges)", total, csv_section);
    report_headline(rp, obj, "youth_requests", "Demandes des jeunes", youth, csv_section);
    report_headline(rp, obj, "youth_share", "Part des jeunes dans les demandes",
                    pub_rate(youth, total), csv_section);
    report_headline(rp, obj, "youth_persons", "Jeunes demandeurs (personnes distinctes)",
                    persons_figure(whole, units, nunits, false), csv_section);
    report_headline(rp, obj, "repeat_persons", "Jeunes ayant demandé deux fois ou plus",
                    persons_figure(whole, units, nunits, true), csv_section);
    published unmet = pub_count(partition_count(tl, "response", "siao_response", true,
                                                "no_place_available", u0, nu, p->scope));
    report_headline(rp, obj, "unmet_rate", "Part des demandes sans place disponible",
                    pub_rate(unmet, youth), csv_section);
    static const char *const ALT[] = {"false", "not_collected", "true"};
    sdc_figure alt[3];
    protected_codes(tl, "alt", ALT, 3, u0, nu, p->scope, true, alt);
    published no = pub_count(alt[0]), yes = pub_count(alt[2]);
    published known = {no.value + yes.value, true,
                       no.status == SDC_HIDDEN || yes.status == SDC_HIDDEN ? SDC_HIDDEN
                                                                           : SDC_PERTURBED};
    report_headline(rp, obj, "no_alternative_share", "Part sans autre solution connue",
                    pub_rate(no, known), csv_section);
    return youth;
}

/* The persons of the scope over the period (whole) and by unit. */
static lda_err read_persons(db_conn *c, const stats_params *p, const char *unit,
                            stats_persons **whole, size_t *nwhole, stats_persons **units,
                            size_t *nunits)
{
    *units = NULL;
    *nunits = 0;
    lda_err e =
        stats_youth_persons(c, p->m0, p->m1, "period", p->platforms, p->lo, p->hi, whole, nwhole);
    if (!e && strcmp(unit, "period"))
        e = stats_youth_persons(c, p->m0, p->m1, unit, p->platforms, p->lo, p->hi, units, nunits);
    return e;
}

void observatory_youth_get(lda_req *r)
{
    stats_params p;
    db_conn *c = begin(r, &p, true);
    if (!c) return;
    tallies tl;
    const char *unit;
    units_of(&p, &tl, &unit);
    stats_counts counts;
    stats_persons *whole = NULL, *units = NULL;
    size_t nwhole = 0, nunits = 0;
    lda_err e = stats_youth_counts(c, p.m0, p.m1, unit, p.lo, p.hi, p.neighbours, &counts);
    if (!e) {
        e = read_persons(c, &p, unit, &whole, &nwhole, &units, &nunits);
        if (e) stats_counts_free(&counts);
    }
    db_release(c);
    if (e) {
        free(whole);
        free(units);
        return answer_err(r, &p, &tl, e);
    }
    tallies_fill(&tl, &counts);
    stats_counts_free(&counts);

    stats_report rp;
    report_init(&rp, p.filters);
    published youth = youth_headline(&rp, rp.doc, &tl, 0, tl.nunits, p.period.kind, &p,
                                     nwhole ? whole : NULL, units, nunits, "headline");
    breakdown(&rp, &tl, &p, "by_sex", "sex", "sex", true, true, youth);
    {
        size_t na = (size_t)p.hi - (size_t)p.lo + 1;
        char(*names)[8] = xcalloc(na, sizeof *names);
        const char **codes = xcalloc(na, sizeof *codes);
        for (size_t i = 0; i < na; i++) {
            snprintf(names[i], sizeof names[i], "%d", p.lo + (int)i);
            codes[i] = names[i];
        }
        sdc_figure *figs = xcalloc(na, sizeof *figs);
        protected_codes(&tl, "age", codes, na, 0, tl.nunits, p.scope, true, figs);
        json_t *ages = JCHECK(json_array());
        for (size_t i = 0; i < na; i++)
            report_cell(&rp, ages, "by_age", codes[i], codes[i], pub_count(figs[i]), youth);
        json_object_set_new(rp.doc, "by_age", ages);
        free(figs);
        free(codes);
        free(names);
    }
    breakdown(&rp, &tl, &p, "by_situation", "situation", "housing_situation", true, true, youth);
    breakdown(&rp, &tl, &p, "by_need", "need", "siao_need", true, false, youth);
    breakdown(&rp, &tl, &p, "by_response", "response", "siao_response", true, true, youth);
    breakdown(&rp, &tl, &p, "by_channel", "channel", "siao_channel", false, true, youth);
    by_platform(&rp, &tl, &p, "total", youth);

    free(whole);
    free(units);
    tallies_free(&tl);
    bool csv = p.csv;
    params_free(&p);
    report_send(r, &rp, csv, "observatoire-jeunes", ref_params.threshold, ref_params.max_noise);
}

static const char *const SERIES_KEYS[] = {"requests_total",      "youth_requests", "youth_share",
                                          "youth_persons",       "repeat_persons", "unmet_rate",
                                          "no_alternative_share"};
#define NSERIES (sizeof SERIES_KEYS / sizeof SERIES_KEYS[0])

void observatory_series_get(lda_req *r)
{
    const char *g = query_get(&r->query, "granularity"); /* checked by the route */
    grid_kind gran = !g || !strcmp(g, "month") ? GRID_MONTH
                     : !strcmp(g, "quarter")   ? GRID_QUARTER
                                               : GRID_YEAR;
    stats_params p;
    db_conn *c = begin(r, &p, true);
    if (!c) return;
    grid_point *points = NULL;
    size_t npoints = grid_points(&p.period, gran, &points);
    tallies tl;
    tallies_init(&tl, npoints);
    for (size_t i = 0; i < npoints; i++)
        snprintf(tl.units[i], sizeof tl.units[i], "%s", npoints == 1 ? p.m0 : points[i].start);
    const char *unit = npoints == 1 ? "period" : grid_kind_name(gran);
    stats_counts counts;
    stats_persons *pers = NULL;
    size_t npers = 0;
    lda_err e = stats_youth_counts(c, p.m0, p.m1, unit, p.lo, p.hi, p.neighbours, &counts);
    if (!e) {
        e = stats_youth_persons(c, p.m0, p.m1, unit, p.platforms, p.lo, p.hi, &pers, &npers);
        if (e) stats_counts_free(&counts);
    }
    db_release(c);
    if (e) {
        free(points);
        return answer_err(r, &p, &tl, e);
    }
    tallies_fill(&tl, &counts);
    stats_counts_free(&counts);

    stats_report rp;
    report_init(&rp, p.filters);
    buf_free(&rp.csv);
    memset(&rp.csv, 0, sizeof rp.csv);
    buf_add(&rp.csv, "period,period_start", 19);
    for (size_t k = 0; k < NSERIES; k++) {
        buf_add(&rp.csv, ",", 1);
        buf_add(&rp.csv, SERIES_KEYS[k], strlen(SERIES_KEYS[k]));
        buf_add(&rp.csv, ",", 1);
        buf_add(&rp.csv, SERIES_KEYS[k], strlen(SERIES_KEYS[k]));
        buf_add(&rp.csv, "_status", 7);
    }
    buf_add(&rp.csv, "\r\n", 2);
    json_object_set_new(rp.doc, "granularity", JCHECK(json_string(grid_kind_name(gran))));
    json_t *items = JCHECK(json_array());
    for (size_t i = 0; i < npoints; i++) {
        const stats_persons *pp = NULL;
        for (size_t k = 0; k < npers; k++)
            if (!strcmp(pers[k].unit, tl.units[i])) pp = &pers[k];
        json_t *item = JCHECK(
            json_pack("{s:s, s:s}", "period", points[i].label, "period_start", points[i].start));
        /* the point's own exact list, apart from the report's */
        json_t *keep = rp.exact;
        rp.exact = JCHECK(json_array());
        youth_headline(&rp, item, &tl, i, 1, points[i].sub.kind, &p, pp, pp, pp ? 1 : 0, NULL);
        json_t *point_exact = rp.exact;
        rp.exact = keep;
        size_t k;
        json_t *x;
        json_array_foreach(point_exact, k, x)
        {
            bool seen = false;
            size_t j;
            json_t *y;
            json_array_foreach(rp.exact, j, y) seen =
                seen || !strcmp(json_string_value(x), json_string_value(y));
            if (!seen) json_array_append(rp.exact, x);
        }
        json_object_set_new(item, "exact", point_exact);
        csv_field(&rp.csv, points[i].label, false);
        csv_field(&rp.csv, points[i].start, false);
        for (size_t s = 0; s < NSERIES; s++) {
            json_t *v = json_object_get(item, SERIES_KEYS[s]);
            char val[40] = "";
            if (json_is_integer(v))
                snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                snprintf(val, sizeof val, "%.17g", json_real_value(v));
            bool exact = false;
            json_array_foreach(point_exact, k, x) exact =
                exact || !strcmp(json_string_value(x), SERIES_KEYS[s]);
            const char *st = json_is_null(v) ? "A" : exact ? "E" : "P";
            csv_field(&rp.csv, *val ? val : NULL, false);
            csv_field(&rp.csv, st, s == NSERIES - 1);
        }
        json_array_append_new(items, item);
    }
    json_object_set_new(rp.doc, "items", items);
    free(points);
    free(pers);
    tallies_free(&tl);
    bool csv = p.csv;
    params_free(&p);
    report_send(r, &rp, csv, "observatoire-jeunes-series", ref_params.threshold,
                ref_params.max_noise);
}

/* ---- for the other statistics endpoints (resources/stats_common.h) ------------------------ */

const sdc_tree *stats_tree(void) { return &ref_tree; }
const sdc_params *stats_sdc(void) { return &ref_params; }
db_conn *stats_begin(lda_req *r, stats_params *p) { return begin(r, p, false); }
void stats_params_free(stats_params *p) { params_free(p); }
bool stats_scope_has(size_t scope, size_t platform) { return scope_has(scope, platform); }
void stats_units(const stats_params *p, tallies *tl, const char **unit) { units_of(p, tl, unit); }
void stats_tallies_init(tallies *tl, size_t nunits) { tallies_init(tl, nunits); }
void stats_tallies_free(tallies *tl) { tallies_free(tl); }
void stats_tallies_fill(tallies *tl, const stats_counts *c) { tallies_fill(tl, c); }

const trow *stats_tallies_get(const tallies *tl, const char *dim, const char *code)
{
    return tallies_get(tl, dim, code);
}

void stats_protected_codes(const tallies *tl, const char *dim, const char *const *codes,
                           size_t ncodes, size_t u0, size_t nu, size_t scope, bool partition,
                           sdc_figure *out)
{
    protected_codes(tl, dim, codes, ncodes, u0, nu, scope, partition, out);
}

sdc_figure stats_protected_count(const tallies *tl, const char *dim, const char *code, size_t u0,
                                 size_t nu, size_t scope)
{
    return protected_count(tl, dim, code, u0, nu, scope);
}

const char *stats_label(const char *vocab_name, const char *code)
{
    return label_of(vocab_name, code);
}

void stats_breakdown(stats_report *rp, const tallies *tl, const stats_params *p,
                     const char *section, const char *dim, const char *vocab_name, bool missing,
                     bool partition, published total)
{
    breakdown(rp, tl, p, section, dim, vocab_name, missing, partition, total);
}

void stats_by_platform(stats_report *rp, const tallies *tl, const stats_params *p, const char *dim,
                       published total)
{
    by_platform(rp, tl, p, dim, total);
}

void stats_answer_err(lda_req *r, stats_params *p, tallies *tl, lda_err e)
{
    answer_err(r, p, tl, e);
}

trow *stats_tallies_add(tallies *tl, const char *dim, const char *code)
{
    return tallies_add(tl, dim, code);
}
void stats_official_set(official_rows *o, const tallies *tl, sdc_official f, const char *dim,
                        const char *code)
{
    official_set(o, tl, f, dim, code);
}
published stats_headline_count(const tallies *tl, const official_rows *o, sdc_official f,
                               bool official, grid_kind kind, size_t u0, size_t nu, size_t scope)
{
    return headline_count(tl, o, f, official, kind, u0, nu, scope);
}
