#include "resources/outcome_counts.h"
#include "core/mem.h"
#include "domain/cohort.h"
#include "domain/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *section, *dim, *vocab, *extra, *extra_label;
} BREAKDOWNS[NBREAKDOWNS] = {
    {"by_measure_kind", "kind", "measure_kind", "none", "Sans mesure"},
    {"by_composition", "composition", "composition", NULL, NULL},
    {"by_age_band", "age_band", "age_band", "not_collected", "Non renseigné"},
    {"by_history", "history", NULL, NULL, NULL},
};

const char *oc_breakdown_section(int b) { return BREAKDOWNS[b].section; }

static const char *const HISTORY[] = {"first_time", "returning"};
static const char *const HISTORY_LABELS[] = {"Première saisine", "Déjà connu (nouvelle saisine)"};

void oc_groups_init(oc_groups *g)
{
    memset(g, 0, sizeof *g);
    g->code[0] = "";
    g->label[0] = "Toutes les saisines";
    g->n = 1;
    for (int b = 0; b < NBREAKDOWNS; b++) {
        g->bd_first[b] = g->n;
        if (BREAKDOWNS[b].vocab) {
            const vocab *v = vocab_find(BREAKDOWNS[b].vocab);
            for (size_t i = 0; v && i < v->ncodes && g->n < MAX_GROUPS - 1; i++) {
                g->code[g->n] = v->codes[i].code;
                g->label[g->n++] = v->codes[i].label_fr;
            }
        } else
            for (size_t i = 0; i < 2; i++) {
                g->code[g->n] = HISTORY[i];
                g->label[g->n++] = HISTORY_LABELS[i];
            }
        if (BREAKDOWNS[b].extra && g->n < MAX_GROUPS) {
            g->code[g->n] = BREAKDOWNS[b].extra;
            g->label[g->n++] = BREAKDOWNS[b].extra_label;
        }
        g->bd_count[b] = g->n - g->bd_first[b];
    }
    for (size_t i = 0; i < g->n; i++) {
        int b = NBREAKDOWNS - 1;
        while (b >= 0 && (i == 0 || g->bd_first[b] > i)) b--;
        if (i == 0)
            g->key[i][0] = '\0';
        else
            snprintf(g->key[i], sizeof g->key[i], "%s:%s", BREAKDOWNS[b].dim, g->code[i]);
    }
}

/* The group of a case in breakdown b, or 0 when its code is not one of the breakdown's. */
size_t oc_group_of(const oc_groups *g, int b, const oc_case *x)
{
    const char *v = b == BD_KIND          ? x->kind
                    : b == BD_COMPOSITION ? x->composition
                    : b == BD_AGE         ? x->age_band
                                          : x->history;
    for (size_t i = g->bd_first[b]; i < g->bd_first[b] + g->bd_count[b]; i++)
        if (!strcmp(g->code[i], v)) return i;
    return 0;
}

/* ---- counts -------------------------------------------------------------------------------- */

static const char *const FIG_DIM[NFIG] = {"cases",  "sup_ev", "sup_ce", "hou_ev", "hou_ce",
                                          "ret_ev", "ret_ce", "rtn_n",  "rtn_ev", "rtn_ce"};

/* The unit (index in tl->units, ascending first days) a month falls in. */
size_t oc_unit_of(const tallies *tl, const char *month)
{
    size_t u = 0;
    while (u + 1 < tl->nunits && strcmp(tl->units[u + 1], month) <= 0) u++;
    return u;
}

size_t oc_platform_of(const char *code)
{
    const sdc_tree *t = stats_tree();
    size_t p = 0;
    while (p < t->nplat && strcmp(t->code[p], code)) p++;
    return p;
}

static void add(trow *row, size_t u, size_t p, long rk)
{
    sdc_tally *t = &row->t[u * stats_tree()->nplat + p];
    t->n++;
    t->ks += rk;
}

/* Tallies every case by unit (tl->units set by the caller; `series`: the case's unit_series,
 * else unit_whole) and platform. */
void oc_counts_fill(oc_counts *c, const oc_groups *g, const oc_case *cases,
                    const oc_case_index *idx, size_t ncases, bool series)
{
    /* every row at once (each (dim, code) is new), `total` first: the official figure's
     * lookups find it at once; no row is added after this point, so the pointers hold */
    size_t nplat = stats_tree()->nplat, nrows = 1 + (size_t)NFIG * g->n;
    c->tl.rows = xcalloc(nrows, sizeof *c->tl.rows);
    c->tl.nrows = c->tl.cap = nrows;
    for (size_t k = 0; k < nrows; k++) {
        trow *row = &c->tl.rows[k];
        int f = k ? (int)((k - 1) / g->n) : 0;
        snprintf(row->dim, sizeof row->dim, "%s", k ? FIG_DIM[f] : "total");
        snprintf(row->code, sizeof row->code, "%s", k ? g->key[(k - 1) % g->n] : "");
        row->t = xcalloc(c->tl.nunits * nplat, sizeof *row->t);
        if (k) c->row[f][(k - 1) % g->n] = row;
    }
    trow *total = &c->tl.rows[0];

    for (size_t i = 0; i < ncases; i++) {
        const oc_case *x = &cases[i];
        size_t p = idx[i].plat, u = series ? idx[i].unit_series : idx[i].unit_whole;
        if (p == stats_tree()->nplat) continue;
        add(total, u, p, x->rk);
        size_t gs[1 + NBREAKDOWNS];
        size_t ng = 0;
        gs[ng++] = 0;
        for (int b = 0; b < NBREAKDOWNS; b++)
            if (idx[i].group[b]) gs[ng++] = idx[i].group[b];
        for (size_t k = 0; k < ng; k++) {
            size_t gi = gs[k];
            add(c->row[F_CASES][gi], u, p, x->rk);
            if (x->s[OC_SUPPORT] == OC_EVENT) add(c->row[F_SUP_EV][gi], u, p, x->rk);
            if (x->s[OC_SUPPORT] == OC_OPEN) add(c->row[F_SUP_CE][gi], u, p, x->rk);
            if (x->s[OC_HOUSING] == OC_EVENT) add(c->row[F_HOU_EV][gi], u, p, x->rk);
            if (x->s[OC_HOUSING] == OC_OPEN) add(c->row[F_HOU_CE][gi], u, p, x->rk);
            if (x->s[OC_RETENTION] == OC_EVENT) add(c->row[F_RET_EV][gi], u, p, x->rk);
            if (x->s[OC_RETENTION] == OC_OPEN) add(c->row[F_RET_CE][gi], u, p, x->rk);
            if (x->s[OC_RETURN] != OC_NONE) add(c->row[F_RTN_N][gi], u, p, x->rk);
            if (x->s[OC_RETURN] == OC_EVENT) add(c->row[F_RTN_EV][gi], u, p, x->rk);
            if (x->s[OC_RETURN] == OC_OPEN) add(c->row[F_RTN_CE][gi], u, p, x->rk);
        }
    }
}

/* The hidden flags of one "table": the whole cohort (one group, partition false) or one
 * breakdown (its groups, a partition), over units [u0, u0 + nu), for every figure, group
 * and scope: hidden[(f * ng + k) * ns + s]. The cohort size follows the rules of any count
 * (an exact official figure for whole years on all platforms or an AMI); every other count
 * is hidden with the cohort it splits, then closed under the platform tree, the breakdown's
 * codes and the events/censored split of retention and of returns. */
void oc_table_flags(const oc_counts *c, const official_rows *o, const size_t *gi, size_t ng,
                    bool partition, grid_kind kind, size_t u0, size_t nu, bool *hidden)
{
    const sdc_tree *t = stats_tree();
    size_t ns = sdc_nscopes(t), nplat = t->nplat, ncell = (size_t)NFIG * ng * ns;
#define CELL(f, k, s) ((((size_t)(f)) * ng + (k)) * ns + (s))
    bool *unit = NULL;
    if (nu > 1) { /* a range of years: hidden in one of its years is hidden */
        unit = xcalloc(ncell, sizeof *unit);
        bool *one = xcalloc(ncell, sizeof *one);
        for (size_t u = u0; u < u0 + nu; u++) {
            oc_table_flags(c, o, gi, ng, partition, GRID_YEAR, u, 1, one);
            for (size_t i = 0; i < ncell; i++) unit[i] = unit[i] || one[i];
        }
        free(one);
    }
    const char **codes = xcalloc(ng, sizeof *codes);
    const sdc_tally **cells = xcalloc(ng, sizeof *cells);
    bool *h = xcalloc(ng * ns, sizeof *h);
    long *n = xcalloc(ncell, sizeof *n);
    for (int f = 0; f < NFIG; f++) {
        for (size_t k = 0; k < ng; k++) {
            codes[k] = c->row[f][gi[k]]->code;
            cells[k] = c->row[f][gi[k]]->t + u0 * nplat;
        }
        sdc_breakdown_hide(stats_sdc(), t, cells, codes, ng, nu, partition, h);
        for (size_t k = 0; k < ng; k++)
            for (size_t s = 0; s < ns; s++) {
                hidden[CELL(f, k, s)] = h[k * ns + s] || (unit && unit[CELL(f, k, s)]);
                sdc_tally sum = {0, 0};
                for (size_t u = 0; u < nu; u++) {
                    sdc_tally x = sdc_scope_tally(t, cells[k] + u * nplat, s);
                    sum.n += x.n;
                }
                n[CELL(f, k, s)] = sum.n;
            }
    }
    /* the cohort of all platforms or an AMI over whole years: the official figure's rule */
    if (!partition && (kind == GRID_YEAR || kind == GRID_YEARS))
        for (size_t s = nplat; s < ns; s++)
            hidden[CELL(F_CASES, 0, s)] =
                stats_headline_count(&c->tl, o, SDC_REFERRALS_RECEIVED, true, kind, u0, nu, s)
                    .status == SDC_HIDDEN;

    /* the families of the counts other than the cohort size */
    size_t cap = (size_t)NFIG * ng * (SDC_MAX_PLATFORMS + 4) + (size_t)NFIG * ns * ng + 4 * ng * ns;
    size_t *members = xcalloc(cap, sizeof *members), *start = xcalloc(cap / 2 + 2, sizeof *start);
    size_t nm = 0, nf = 0;
    for (int f = F_SUP_EV; f < NFIG; f++)
        for (size_t k = 0; k < ng; k++) {
            for (int fam = 0; fam < SDC_NFAMILIES; fam++) { /* platforms of an AMI, code order */
                start[nf++] = nm;
                size_t first = nm;
                for (size_t p = 0; p < nplat; p++)
                    if (t->family[p] == fam) {
                        size_t at = nm++;
                        while (at > first &&
                               strcmp(t->code[members[at - 1] % ns], t->code[p]) > 0) {
                            members[at] = members[at - 1];
                            at--;
                        }
                        members[at] = CELL(f, k, p);
                    }
            }
            start[nf++] = nm; /* the AMIs */
            for (int fam = 0; fam < SDC_NFAMILIES; fam++) members[nm++] = CELL(f, k, nplat + fam);
        }
    if (partition)
        for (int f = F_SUP_EV; f < NFIG; f++)
            for (size_t s = 0; s < ns; s++) {
                start[nf++] = nm;
                size_t first = nm;
                for (size_t k = 0; k < ng; k++) { /* byte order of the codes */
                    size_t at = nm++;
                    while (at > first &&
                           strcmp(codes[(members[at - 1] / ns) % ng], c->row[f][gi[k]]->code) > 0) {
                        members[at] = members[at - 1];
                        at--;
                    }
                    members[at] = CELL(f, k, s);
                }
            }
    for (size_t k = 0; k < ng; k++)
        for (size_t s = 0; s < ns; s++) {
            start[nf++] = nm;
            members[nm++] = CELL(F_RET_EV, k, s);
            members[nm++] = CELL(F_RET_CE, k, s);
            start[nf++] = nm;
            members[nm++] = CELL(F_RTN_EV, k, s);
            members[nm++] = CELL(F_RTN_CE, k, s);
        }
    start[nf] = nm;
    /* a count is hidden with the cohort it splits; until nothing changes */
    for (bool again = true; again;) {
        again = false;
        for (size_t k = 0; k < ng; k++)
            for (size_t s = 0; s < ns; s++) {
                static const struct {
                    int parent, first, last;
                } SPLITS[] = {{F_CASES, F_SUP_EV, F_RTN_CE},
                              {F_HOU_EV, F_RET_EV, F_RET_CE},
                              {F_RTN_N, F_RTN_EV, F_RTN_CE}};
                for (size_t x = 0; x < 3; x++)
                    if (hidden[CELL(SPLITS[x].parent, k, s)])
                        for (int f = SPLITS[x].first; f <= SPLITS[x].last; f++)
                            if (!hidden[CELL(f, k, s)]) {
                                hidden[CELL(f, k, s)] = true;
                                again = true;
                            }
            }
        if (cohort_close(n, hidden, members, start, nf)) again = true;
    }
#undef CELL
    free(start);
    free(members);
    free(n);
    free(h);
    free(cells);
    free(codes);
    free(unit);
}

/* The published value of figure f of group gi (k-th of its table) in the question's scope. */
published oc_count_value(const oc_counts *c, const official_rows *o, const bool *hidden, size_t ng,
                         int f, size_t gi, size_t k, grid_kind kind, size_t u0, size_t nu,
                         size_t scope)
{
    const sdc_tree *t = stats_tree();
    size_t ns = sdc_nscopes(t);
    bool h = hidden[((size_t)f * ng + k) * ns + scope];
    if (f == F_CASES && gi == 0 && scope >= t->nplat && (kind == GRID_YEAR || kind == GRID_YEARS))
        return stats_headline_count(&c->tl, o, SDC_REFERRALS_RECEIVED, true, kind, u0, nu, scope);
    sdc_tally sum = {0, 0};
    for (size_t u = u0; u < u0 + nu; u++) {
        sdc_tally x = sdc_scope_tally(t, c->row[f][gi]->t + u * t->nplat, scope);
        sum.n += x.n;
        sum.ks += x.ks;
    }
    return pub_count(sdc_protect(stats_sdc(), sum, h));
}
