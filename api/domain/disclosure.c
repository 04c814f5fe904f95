#include "domain/disclosure.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

bool sdc_small(const sdc_params *p, long n) { return n > 0 && n < p->threshold; }

int sdc_noise(const sdc_params *p, long n, long long ks)
{
    long excess = n - p->threshold;
    if (excess > p->max_noise) excess = p->max_noise;
    long key = (long)(ks % SDC_KEY_SPACE);
    if (key < 0) key += SDC_KEY_SPACE;
    for (size_t i = 0; i < p->nrows; i++) {
        const sdc_ptable_row *r = &p->rows[i];
        if (r->max_noise == p->max_noise && r->excess == excess && key >= r->key_from &&
            key < r->key_to)
            return r->noise;
    }
    return 0;
}

sdc_figure sdc_protect(const sdc_params *p, sdc_tally t, bool hidden)
{
    if (hidden || sdc_small(p, t.n)) return (sdc_figure){0, SDC_HIDDEN};
    if (t.n == 0) return (sdc_figure){0, SDC_PERTURBED};
    return (sdc_figure){t.n + sdc_noise(p, t.n, t.ks), SDC_PERTURBED};
}

sdc_figure sdc_exact(const sdc_params *p, long n, bool hidden)
{
    if (hidden || sdc_small(p, n)) return (sdc_figure){0, SDC_HIDDEN};
    return (sdc_figure){n, SDC_EXACT};
}

const char *sdc_ptable_check(const sdc_params *p)
{
    if (p->max_noise < 1 || p->max_noise > SDC_MAX_NOISE) return "max_noise out of range";
    for (int excess = 0; excess <= p->max_noise; excess++) {
        long covered = 0;
        double mean = 0;
        for (long key = 0; key < SDC_KEY_SPACE;) {
            const sdc_ptable_row *hit = NULL;
            for (size_t i = 0; i < p->nrows && !hit; i++) {
                const sdc_ptable_row *r = &p->rows[i];
                if (r->max_noise == p->max_noise && r->excess == excess && r->key_from == key)
                    hit = r;
            }
            if (!hit || hit->key_to <= key) return "a row does not cover [0, 2^20) exactly";
            if (hit->noise < -excess || hit->noise > p->max_noise)
                return "a noise is out of its row's range";
            mean += (double)hit->noise * (double)(hit->key_to - key);
            covered += hit->key_to - key;
            key = hit->key_to;
        }
        if (covered != SDC_KEY_SPACE) return "a row does not cover [0, 2^20) exactly";
        mean /= (double)SDC_KEY_SPACE;
        if (mean > 0.01 || mean < -0.01) return "a row's mean noise is not 0";
    }
    return NULL;
}

/* ---- the platform tree ----------------------------------------------------------------- */

sdc_tally sdc_scope_tally(const sdc_tree *t, const sdc_tally *plat, size_t scope)
{
    if (scope < t->nplat) return plat[scope];
    sdc_tally s = {0, 0};
    for (size_t i = 0; i < t->nplat; i++)
        if (scope == sdc_scope_all(t) || t->family[i] == (int)(scope - t->nplat)) {
            s.n += plat[i].n;
            s.ks += plat[i].ks;
        }
    return s;
}

/* Within `members` (scopes), when exactly one is hidden, hides the unhidden one with the
 * smallest non-zero count (ties: the first in `members`, which is in code order). */
static void hide_second(const size_t *members, size_t n, const sdc_tally *sum, bool *hidden)
{
    size_t nhidden = 0, best = n;
    for (size_t i = 0; i < n; i++) nhidden += hidden[members[i]];
    if (nhidden != 1) return;
    for (size_t i = 0; i < n; i++) {
        size_t s = members[i];
        if (!hidden[s] && sum[s].n > 0 && (best == n || sum[s].n < sum[members[best]].n)) best = i;
    }
    if (best < n) hidden[members[best]] = true;
}

/* The secondary rule over every family, given the scopes' totals. */
static void secondary(const sdc_tree *t, const sdc_tally *sum, bool *hidden)
{
    for (int f = 0; f < SDC_NFAMILIES; f++) {
        size_t members[SDC_MAX_PLATFORMS], n = 0;
        for (size_t i = 0; i < t->nplat; i++)
            if (t->family[i] == f) members[n++] = i;
        /* code order, for the ties */
        for (size_t i = 1; i < n; i++)
            for (size_t k = i; k > 0 && strcmp(t->code[members[k - 1]], t->code[members[k]]) > 0;
                 k--) {
                size_t x = members[k];
                members[k] = members[k - 1];
                members[k - 1] = x;
            }
        hide_second(members, n, sum, hidden);
    }
    size_t fams[SDC_NFAMILIES];
    for (size_t f = 0; f < SDC_NFAMILIES; f++) fams[f] = t->nplat + f;
    hide_second(fams, SDC_NFAMILIES, sum, hidden);
}

void sdc_tree_hide(const sdc_params *p, const sdc_tree *t, const sdc_tally *plat, size_t nunits,
                   bool *hidden)
{
    size_t ns = sdc_nscopes(t);
    sdc_tally sum[SDC_MAX_PLATFORMS + SDC_NFAMILIES + 1], total[SDC_MAX_PLATFORMS] = {{0, 0}};
    memset(hidden, 0, ns * sizeof *hidden);
    for (size_t u = 0; u < nunits; u++) {
        const sdc_tally *row = plat + u * t->nplat;
        for (size_t i = 0; i < t->nplat; i++) {
            total[i].n += row[i].n;
            total[i].ks += row[i].ks;
        }
        if (nunits == 1) break;
        bool unit_hidden[SDC_MAX_PLATFORMS + SDC_NFAMILIES + 1];
        sdc_tree_hide(p, t, row, 1, unit_hidden);
        for (size_t s = 0; s < ns; s++) hidden[s] = hidden[s] || unit_hidden[s];
    }
    for (size_t s = 0; s < ns; s++) {
        sum[s] = sdc_scope_tally(t, total, s);
        hidden[s] = hidden[s] || sdc_small(p, sum[s].n);
    }
    secondary(t, sum, hidden);
}

/* Among the codes (in scope s), when exactly one is hidden, hides the unhidden one with the
 * smallest non-zero count (ties: the first code in byte order). */
static void hide_second_code(const char *const *codes, size_t ncodes, size_t ns, size_t s,
                             const sdc_tally *sums, bool *hidden)
{
    size_t nhidden = 0, best = ncodes;
    for (size_t c = 0; c < ncodes; c++) nhidden += hidden[c * ns + s];
    if (nhidden != 1) return;
    for (size_t c = 0; c < ncodes; c++) {
        if (hidden[c * ns + s] || sums[c * ns + s].n <= 0) continue;
        if (best == ncodes || sums[c * ns + s].n < sums[best * ns + s].n ||
            (sums[c * ns + s].n == sums[best * ns + s].n && strcmp(codes[c], codes[best]) < 0))
            best = c;
    }
    if (best < ncodes) hidden[best * ns + s] = true;
}

/* The flags of every code and scope in unit u: the tree's, then the partition's. */
static void breakdown_unit(const sdc_params *p, const sdc_tree *t, const sdc_tally *const *cells,
                           const char *const *codes, size_t ncodes, size_t u, bool partition,
                           bool *hidden, sdc_tally *sums)
{
    size_t ns = sdc_nscopes(t);
    static const sdc_tally ZERO[SDC_MAX_PLATFORMS];
    for (size_t c = 0; c < ncodes; c++) {
        const sdc_tally *row = cells[c] ? cells[c] + u * t->nplat : ZERO;
        sdc_tree_hide(p, t, row, 1, hidden + c * ns);
        for (size_t s = 0; s < ns; s++) sums[c * ns + s] = sdc_scope_tally(t, row, s);
    }
    if (partition)
        for (size_t s = 0; s < ns; s++) hide_second_code(codes, ncodes, ns, s, sums, hidden);
}

void sdc_breakdown_hide(const sdc_params *p, const sdc_tree *t, const sdc_tally *const *cells,
                        const char *const *codes, size_t ncodes, size_t nunits, bool partition,
                        bool *hidden)
{
    size_t ns = sdc_nscopes(t);
    sdc_tally *sums = xcalloc(ncodes * ns, sizeof *sums);
    if (nunits == 1) {
        breakdown_unit(p, t, cells, codes, ncodes, 0, partition, hidden, sums);
        free(sums);
        return;
    }
    bool *unit = xcalloc(ncodes * ns, sizeof *unit);
    sdc_tally *unit_sums = xcalloc(ncodes * ns, sizeof *unit_sums);
    memset(hidden, 0, ncodes * ns * sizeof *hidden);
    for (size_t u = 0; u < nunits; u++) {
        breakdown_unit(p, t, cells, codes, ncodes, u, partition, unit, unit_sums);
        for (size_t i = 0; i < ncodes * ns; i++) {
            hidden[i] = hidden[i] || unit[i];
            sums[i].n += unit_sums[i].n;
            sums[i].ks += unit_sums[i].ks;
        }
    }
    for (size_t c = 0; c < ncodes; c++) {
        for (size_t s = 0; s < ns; s++)
            hidden[c * ns + s] = hidden[c * ns + s] || sdc_small(p, sums[c * ns + s].n);
        secondary(t, sums + c * ns, hidden + c * ns);
    }
    if (partition)
        for (size_t s = 0; s < ns; s++) hide_second_code(codes, ncodes, ns, s, sums, hidden);
    free(unit_sums);
    free(unit);
    free(sums);
}

/* ---- two-way tables ---------------------------------------------------------------------- */

typedef struct {
    const sdc_tree *t;
    size_t nrows, ncols, ns;
    const char *const *rcodes;
    const char *const *ccodes;
    const sdc_tally *sums; /* (nrows x ncols) x ns: each cell's tally in each scope */
    const bool *rmargin;   /* nrows x ns: the rows' totals hidden */
    const bool *cmargin;   /* ncols x ns: the columns' totals hidden */
} table;

/* One line of cells (cell indexes idx[0..n-1], named codes[i]) in scope s, with its margin's
 * flag: when exactly one member is hidden, hides the smallest non-zero other cell (ties: the
 * first code in byte order). True when it hid one. */
static bool line_second(const table *tb, const size_t *idx, const char *const *codes, size_t n,
                        bool margin, size_t s, bool *hidden)
{
    size_t ns = tb->ns, nhidden = margin ? 1 : 0, best = n;
    for (size_t i = 0; i < n; i++) nhidden += hidden[idx[i] * ns + s];
    if (nhidden != 1) return false;
    for (size_t i = 0; i < n; i++) {
        long v = tb->sums[idx[i] * ns + s].n;
        if (hidden[idx[i] * ns + s] || v <= 0) continue;
        long b = best < n ? tb->sums[idx[best] * ns + s].n : 0;
        if (best == n || v < b || (v == b && strcmp(codes[i], codes[best]) < 0)) best = i;
    }
    if (best == n) return false;
    hidden[idx[best] * ns + s] = true;
    return true;
}

/* The lines' rule in every scope (rows, then columns), then the tree's rule on every cell,
 * until nothing changes. */
static void table_settle(const table *tb, bool *hidden)
{
    size_t nr = tb->nrows, nc = tb->ncols, ns = tb->ns;
    size_t *idx = xcalloc(nr > nc ? nr : nc, sizeof *idx);
    bool before[SDC_MAX_PLATFORMS + SDC_NFAMILIES + 1];
    bool changed;
    do {
        changed = false;
        for (size_t s = 0; s < ns; s++) {
            for (size_t r = 0; r < nr; r++) {
                for (size_t c = 0; c < nc; c++) idx[c] = r * nc + c;
                if (line_second(tb, idx, tb->ccodes, nc, tb->rmargin[r * ns + s], s, hidden))
                    changed = true;
            }
            for (size_t c = 0; c < nc; c++) {
                for (size_t r = 0; r < nr; r++) idx[r] = r * nc + c;
                if (line_second(tb, idx, tb->rcodes, nr, tb->cmargin[c * ns + s], s, hidden))
                    changed = true;
            }
        }
        for (size_t i = 0; i < nr * nc; i++) {
            memcpy(before, hidden + i * ns, ns * sizeof *before);
            secondary(tb->t, tb->sums + i * ns, hidden + i * ns);
            if (memcmp(before, hidden + i * ns, ns * sizeof *before)) changed = true;
        }
    } while (changed);
    free(idx);
}

void sdc_table_hide(const sdc_params *p, const sdc_tree *t, const sdc_tally *const *cells,
                    const char *const *rcodes, size_t nrows, const char *const *ccodes,
                    size_t ncols, size_t nunits, bool *hidden)
{
    static const sdc_tally ZERO[SDC_MAX_PLATFORMS];
    size_t ns = sdc_nscopes(t), np = t->nplat, ncell = nrows * ncols;
    /* the margins' tallies, by row (column), unit and platform */
    sdc_tally *rsum = xcalloc(nrows * nunits * np, sizeof *rsum);
    sdc_tally *csum = xcalloc(ncols * nunits * np, sizeof *csum);
    for (size_t i = 0; i < ncell; i++)
        for (size_t k = 0; cells[i] && k < nunits * np; k++) {
            sdc_tally *a = &rsum[(i / ncols) * nunits * np + k],
                      *b = &csum[(i % ncols) * nunits * np + k];
            a->n += cells[i][k].n;
            a->ks += cells[i][k].ks;
            b->n += cells[i][k].n;
            b->ks += cells[i][k].ks;
        }
    const sdc_tally **rcells = xcalloc(nrows, sizeof *rcells);
    const sdc_tally **ccells = xcalloc(ncols, sizeof *ccells);
    bool *rm = xcalloc(nrows * ns, sizeof *rm), *cm = xcalloc(ncols * ns, sizeof *cm);
    bool *unit = xcalloc(ncell * ns, sizeof *unit);
    sdc_tally *sums = xcalloc(ncell * ns, sizeof *sums);
    table tb = {t, nrows, ncols, ns, rcodes, ccodes, sums, rm, cm};
    memset(hidden, 0, ncell * ns * sizeof *hidden);
    for (size_t u = 0; u < nunits; u++) {
        for (size_t r = 0; r < nrows; r++) rcells[r] = rsum + (r * nunits + u) * np;
        for (size_t c = 0; c < ncols; c++) ccells[c] = csum + (c * nunits + u) * np;
        sdc_breakdown_hide(p, t, rcells, rcodes, nrows, 1, true, rm);
        sdc_breakdown_hide(p, t, ccells, ccodes, ncols, 1, true, cm);
        for (size_t i = 0; i < ncell; i++) {
            const sdc_tally *row = cells[i] ? cells[i] + u * np : ZERO;
            sdc_tree_hide(p, t, row, 1, unit + i * ns);
            for (size_t s = 0; s < ns; s++) sums[i * ns + s] = sdc_scope_tally(t, row, s);
        }
        table_settle(&tb, unit);
        for (size_t i = 0; i < ncell * ns; i++) hidden[i] = hidden[i] || unit[i];
    }
    if (nunits > 1) {
        /* over the range: hidden in one of its units, or small; the tree; the lines */
        for (size_t r = 0; r < nrows; r++) rcells[r] = rsum + r * nunits * np;
        for (size_t c = 0; c < ncols; c++) ccells[c] = csum + c * nunits * np;
        sdc_breakdown_hide(p, t, rcells, rcodes, nrows, nunits, true, rm);
        sdc_breakdown_hide(p, t, ccells, ccodes, ncols, nunits, true, cm);
        for (size_t i = 0; i < ncell; i++) {
            sdc_tally total[SDC_MAX_PLATFORMS] = {{0, 0}};
            for (size_t u = 0; cells[i] && u < nunits; u++)
                for (size_t k = 0; k < np; k++) {
                    total[k].n += cells[i][u * np + k].n;
                    total[k].ks += cells[i][u * np + k].ks;
                }
            for (size_t s = 0; s < ns; s++) {
                sums[i * ns + s] = sdc_scope_tally(t, total, s);
                hidden[i * ns + s] = hidden[i * ns + s] || sdc_small(p, sums[i * ns + s].n);
            }
            secondary(t, sums + i * ns, hidden + i * ns);
        }
        table_settle(&tb, hidden);
    }
    free(sums);
    free(unit);
    free(cm);
    free(rm);
    free(ccells);
    free(rcells);
    free(csum);
    free(rsum);
}

/* ---- figures that are not counts ----------------------------------------------------------- */

bool sdc_value_shown(const sdc_params *p, long n, bool quantile)
{
    return n >= (quantile ? 2 * p->threshold : p->threshold);
}

long sdc_round_to(double v, long step)
{
    double q = v / (double)step;
    return (long)(q >= 0 ? q + 0.5 : q - 0.5) * step;
}

double sdc_round_rate(double v)
{
    double q = v * 100.0;
    return (double)(long long)(q >= 0 ? q + 0.5 : q - 0.5) / 100.0;
}

/* ---- the official yearly figures ----------------------------------------------------------- */

static const char *const OFFICIAL_NAMES[SDC_NOFFICIAL] = {
    "referrals_received", "accompanied",          "reoriented",     "no_follow_up",
    "in_progress",        "housed_or_maintained", "requests_total", "youth_requests"};

const char *sdc_official_name(sdc_official f) { return OFFICIAL_NAMES[f]; }

/* The four outcomes in code order (the order ties are broken in). */
static const sdc_official PARTS[4] = {SDC_ACCOMPANIED, SDC_IN_PROGRESS, SDC_NO_FOLLOW_UP,
                                      SDC_REORIENTED};

/* Among the parts, when exactly one is flagged, flags the unflagged one with the smallest
 * non-zero count over all platforms. */
static void hide_second_part(const long *all, bool *flag)
{
    int nflag = 0, best = -1;
    for (int i = 0; i < 4; i++) nflag += flag[PARTS[i]];
    if (nflag != 1) return;
    for (int i = 0; i < 4; i++) {
        sdc_official f = PARTS[i];
        if (!flag[f] && all[f] > 0 && (best < 0 || all[f] < all[PARTS[best]])) best = i;
    }
    if (best >= 0) flag[PARTS[best]] = true;
}

void sdc_official_hide(const sdc_params *p, const long v[SDC_NOFFICIAL][2],
                       bool hidden[SDC_NOFFICIAL][2])
{
    long all[SDC_NOFFICIAL];
    bool small_all[SDC_NOFFICIAL], small_ami[SDC_NOFFICIAL];
    for (int f = 0; f < SDC_NOFFICIAL; f++) {
        all[f] = v[f][0] + v[f][1];
        small_all[f] = sdc_small(p, all[f]);
        small_ami[f] = small_all[f] || sdc_small(p, v[f][0]) || sdc_small(p, v[f][1]);
    }
    bool part_all[SDC_NOFFICIAL] = {false}, part_ami[SDC_NOFFICIAL] = {false};
    for (int i = 0; i < 4; i++) part_all[PARTS[i]] = small_all[PARTS[i]];
    hide_second_part(all, part_all);
    /* an AMI hides at least what the whole hides */
    for (int i = 0; i < 4; i++) part_ami[PARTS[i]] = part_all[PARTS[i]] || small_ami[PARTS[i]];
    hide_second_part(all, part_ami);

    for (int f = 0; f < SDC_NOFFICIAL; f++) {
        hidden[f][0] = small_all[f] || part_all[f];
        hidden[f][1] = small_ami[f] || part_ami[f];
    }
    /* housed_or_maintained goes with accompanied */
    hidden[SDC_HOUSED][0] = hidden[SDC_HOUSED][0] || part_all[SDC_ACCOMPANIED];
    hidden[SDC_HOUSED][1] = hidden[SDC_HOUSED][1] || part_ami[SDC_ACCOMPANIED];
    /* youth_requests is hidden when the requests of the other ages are few */
    long other0 = v[SDC_REQUESTS_TOTAL][0] - v[SDC_YOUTH_REQUESTS][0],
         other1 = v[SDC_REQUESTS_TOTAL][1] - v[SDC_YOUTH_REQUESTS][1];
    bool other_all = sdc_small(p, other0 + other1);
    hidden[SDC_YOUTH_REQUESTS][0] = hidden[SDC_YOUTH_REQUESTS][0] || other_all;
    hidden[SDC_YOUTH_REQUESTS][1] =
        hidden[SDC_YOUTH_REQUESTS][1] || other_all || sdc_small(p, other0) || sdc_small(p, other1);
}
