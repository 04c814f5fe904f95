/*
 * disclosure — statistical disclosure control of published counts. Pure functions.
 *
 * Two kinds of published count (docs/statistics.md):
 *
 *  exact    the official yearly figures (referrals received and their outcomes, SIAO
 *           requests and youth requests) for one or more calendar years, for all platforms or
 *           one AMI: the true count, hidden when it is from 1 to threshold-1, when the other
 *           AMI's is (they add up to the whole), and as the partition rules below say;
 *  protected every other count, by the cell-key method: each record (or person) carries a
 *           fixed random key in [0, 2^20); a cell's key is the sum of its records' keys modulo
 *           2^20; the perturbation table maps (count, cell key) to a noise within
 *           +-max_noise that never takes a count below the threshold. Zero stays zero; a
 *           count from 1 to threshold-1 is hidden.
 *
 * Counts over the platforms form a tree (platform -> AMI -> all). In each unit of time (the
 * period, or each year of a range of years) a count from 1 to threshold-1 is hidden, and
 * when exactly one count of a family (the platforms of an AMI; the AMIs) is hidden, the
 * smallest non-zero other is hidden too, and so it is among the codes of a breakdown that
 * partitions its total, so that no hidden count is the difference of published ones. A count
 * over a range of years is hidden when one of its years' is, so that no year can be isolated
 * by subtracting ranges.
 */
#ifndef LDA_DOMAIN_DISCLOSURE_H
#define LDA_DOMAIN_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>

#define SDC_KEY_SPACE 1048576L /* record keys and cell keys are in [0, 2^20) */
#define SDC_MAX_NOISE 5

typedef enum { SDC_EXACT = 'E', SDC_PERTURBED = 'P', SDC_HIDDEN = 'A' } sdc_status;

/* One interval of the perturbation table: cell keys in [key_from, key_to) of row
 * (max_noise, excess) get `noise`. */
typedef struct {
    int max_noise, excess, noise;
    long key_from, key_to;
} sdc_ptable_row;

typedef struct {
    long threshold; /* counts from 1 to threshold-1 are hidden */
    int max_noise;  /* D: the noise is within +-D */
    const sdc_ptable_row *rows;
    size_t nrows;
} sdc_params;

/* A true count and the sum of its records' keys. */
typedef struct {
    long n;
    long long ks;
} sdc_tally;

typedef struct {
    long value; /* meaningless when hidden */
    sdc_status status;
} sdc_figure;

/* True when n is from 1 to threshold-1. */
bool sdc_small(const sdc_params *p, long n);

/* The noise of (n, ks) for n >= threshold; 0 when the table has no row for it (a table
 * checked by sdc_ptable_check always has one). */
int sdc_noise(const sdc_params *p, long n, long long ks);

/* A protected count: hidden when `hidden` or small; 0 stays 0; else n plus its noise. */
sdc_figure sdc_protect(const sdc_params *p, sdc_tally t, bool hidden);

/* An exact count: hidden when `hidden` or small. */
sdc_figure sdc_exact(const sdc_params *p, long n, bool hidden);

/* NULL when the table holds, for max_noise D, rows 0..D each covering [0, 2^20) exactly with
 * noises in [-excess, D] and a mean within 0.01 of 0; else what is wrong (static text). */
const char *sdc_ptable_check(const sdc_params *p);

/* ---- the platform tree ----------------------------------------------------------------- */

#define SDC_MAX_PLATFORMS 16
#define SDC_NFAMILIES     2 /* the two AMIs */

/* Scopes: 0..nplat-1 the platforms, nplat + f the AMI f (0 or 1), nplat + 2 all. */
typedef struct {
    size_t nplat;
    int family[SDC_MAX_PLATFORMS];       /* each platform's AMI, 0 or 1 */
    const char *code[SDC_MAX_PLATFORMS]; /* ties are broken by code */
} sdc_tree;

static inline size_t sdc_nscopes(const sdc_tree *t) { return t->nplat + SDC_NFAMILIES + 1; }
static inline size_t sdc_scope_all(const sdc_tree *t) { return t->nplat + SDC_NFAMILIES; }

/* The tally of a scope from the platforms' tallies (plat[0..nplat-1]). */
sdc_tally sdc_scope_tally(const sdc_tree *t, const sdc_tally *plat, size_t scope);

/* Which scopes are hidden, for one count over the units of a period: plat holds nunits rows
 * of nplat tallies (unit-major). One unit: primary then secondary rule. Several (the years
 * of a range): a scope is hidden when it is in one of its units or its total is small, then
 * the secondary rule on the totals. hidden has sdc_nscopes entries. */
void sdc_tree_hide(const sdc_params *p, const sdc_tree *t, const sdc_tally *plat, size_t nunits,
                   bool *hidden);

/* Which cells of a breakdown are hidden, for every scope: cells[c] holds nunits rows of nplat
 * tallies for code codes[c] (NULL: zero). Each code's scopes as sdc_tree_hide says; then, when
 * the codes are a partition (`partition`: each record in one code), in each scope where
 * exactly one code is hidden, the smallest non-zero other code is hidden too (ties: the first
 * code in byte order), in each unit and over the range. hidden has ncodes x sdc_nscopes
 * entries, code-major. */
void sdc_breakdown_hide(const sdc_params *p, const sdc_tree *t, const sdc_tally *const *cells,
                        const char *const *codes, size_t ncodes, size_t nunits, bool partition,
                        bool *hidden);

/* ---- two-way tables ---------------------------------------------------------------------- */

/* Which interior cells of a two-way table are hidden, for every scope. cells[r * ncols + c]
 * holds nunits rows of nplat tallies for the row code rcodes[r] and the column code
 * ccodes[c] (NULL: zero); each record is in exactly one cell, so the rows split each column
 * and the columns split each row. The margins — a row's total, a column's total — are the
 * cells of the one-way breakdowns published beside the table, hidden as sdc_breakdown_hide
 * says (partition). In each unit: each cell's scopes as sdc_tree_hide says; then, until
 * nothing changes, in each scope and each line (a row or a column, with its margin) where
 * exactly one member is hidden, the smallest non-zero other cell of the line is hidden too
 * (ties: the first code in byte order), and the platform tree's rule again on every cell.
 * Over a range of units: a cell is hidden when it is in one of its units or its total is
 * small, then the same until nothing changes. hidden has nrows x ncols x sdc_nscopes
 * entries, cell-major (row-major cells). */
void sdc_table_hide(const sdc_params *p, const sdc_tree *t, const sdc_tally *const *cells,
                    const char *const *rcodes, size_t nrows, const char *const *ccodes,
                    size_t ncols, size_t nunits, bool *hidden);

/* ---- figures that are not counts ----------------------------------------------------------- */

/* A quartile (or median) over n records is published when n >= 2 x threshold (it is one
 * record's value, or between two); a ratio of sums (an occupancy rate) when n >= threshold. */
bool sdc_value_shown(const sdc_params *p, long n, bool quantile);

/* v rounded to the nearest multiple of step (step >= 1; halves away from zero). */
long sdc_round_to(double v, long step);

/* A rate rounded to two decimals (a whole percent; halves away from zero). */
double sdc_round_rate(double v);

/* ---- the official yearly figures ----------------------------------------------------------- */

typedef enum {
    SDC_REFERRALS_RECEIVED,
    SDC_ACCOMPANIED, /* the four outcomes add up to referrals_received */
    SDC_REORIENTED,
    SDC_NO_FOLLOW_UP,
    SDC_IN_PROGRESS,
    SDC_HOUSED, /* within accompanied */
    SDC_REQUESTS_TOTAL,
    SDC_YOUTH_REQUESTS, /* within requests_total */
    SDC_NOFFICIAL
} sdc_official;

/* The name of an official figure ("referrals_received", "accompanied"...). */
const char *sdc_official_name(sdc_official f);

/* Which official figures of one year are hidden, for all platforms (hidden[f][0]) and for
 * each AMI (hidden[f][1], the same for both AMIs): v[f][a] is the figure on AMI a. */
void sdc_official_hide(const sdc_params *p, const long v[SDC_NOFFICIAL][2],
                       bool hidden[SDC_NOFFICIAL][2]);

#endif
