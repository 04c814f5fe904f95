/*
 * outcome_counts — the counts of GET /v1/stats/outcomes: the groups (the whole cohort, then
 * each breakdown's codes), the cases of a question tallied by unit of time and platform for
 * every group and figure, and the hidden flags of every count (docs/outcomes.md): the cell-key
 * method's (domain/disclosure), closed under the families outcome counts form
 * (domain/cohort). Used by resources/stats_outcomes.c.
 */
#ifndef LDA_RESOURCES_OUTCOME_COUNTS_H
#define LDA_RESOURCES_OUTCOME_COUNTS_H

#include "resources/stats_common.h"
#include "store/outcomes.h"

#include <stdbool.h>
#include <stddef.h>

enum { BD_KIND, BD_COMPOSITION, BD_AGE, BD_HISTORY, NBREAKDOWNS };

/* The section of breakdown b in the answer ("by_measure_kind"...). */
const char *oc_breakdown_section(int b);

#define MAX_GROUPS 48

typedef struct {
    size_t n;
    size_t bd_first[NBREAKDOWNS], bd_count[NBREAKDOWNS]; /* group 0 is the whole cohort */
    const char *code[MAX_GROUPS];                        /* bare code ("" for the cohort) */
    const char *label[MAX_GROUPS];
    char key[MAX_GROUPS][48]; /* tallies code: "kind:adsl" */
} oc_groups;

/* The groups: 0 the whole cohort, then the codes of each breakdown's vocabulary (and its
 * extra code: none, not_collected). */
void oc_groups_init(oc_groups *g);

/* The group of a case in breakdown b, or 0 when its code is not one of the breakdown's. */
size_t oc_group_of(const oc_groups *g, int b, const oc_case *x);

/* The counts published for each group. The cohort of retention is the housed (F_HOU_EV). */
enum {
    F_CASES,
    F_SUP_EV,
    F_SUP_CE,
    F_HOU_EV,
    F_HOU_CE,
    F_RET_EV,
    F_RET_CE,
    F_RTN_N,
    F_RTN_EV,
    F_RTN_CE,
    NFIG
};

typedef struct {
    tallies tl;
    trow *row[NFIG][MAX_GROUPS];
} oc_counts;

/* Each case's platform, groups and unit, computed once. */
typedef struct {
    size_t plat;               /* nplat: not a platform of the tree */
    size_t group[NBREAKDOWNS]; /* 0: none of the breakdown's codes */
    size_t unit_whole, unit_series;
} oc_case_index;

/* The unit (index in tl->units, ascending first days) a month falls in. */
size_t oc_unit_of(const tallies *tl, const char *month);

/* The index of a platform code in the tree (nplat: none). */
size_t oc_platform_of(const char *code);

/* Tallies every case by unit (c->tl's units, set by the caller; `series`: the case's
 * unit_series, else unit_whole) and platform, for every group and figure, and the cohort's
 * `total` (the official referrals_received). Creates c->tl's rows. */
void oc_counts_fill(oc_counts *c, const oc_groups *g, const oc_case *cases,
                    const oc_case_index *idx, size_t ncases, bool series);

/* The hidden flags of one table — the whole cohort (gi = {0}, partition false) or one
 * breakdown's groups gi[0..ng) (a partition) — over units [u0, u0 + nu) of period kind
 * `kind`, for every figure, group and scope: hidden[(f * ng + k) * nscopes + s]. */
void oc_table_flags(const oc_counts *c, const official_rows *o, const size_t *gi, size_t ng,
                    bool partition, grid_kind kind, size_t u0, size_t nu, bool *hidden);

/* The published value of figure f of group gi (the k-th of its table, flags `hidden`) over
 * units [u0, u0 + nu) in a scope. */
published oc_count_value(const oc_counts *c, const official_rows *o, const bool *hidden, size_t ng,
                         int f, size_t gi, size_t k, grid_kind kind, size_t u0, size_t nu,
                         size_t scope);

#endif
