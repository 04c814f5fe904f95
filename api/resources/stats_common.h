/*
 * stats_common — what the statistics endpoints share (resources/stats.c): the question
 * (grid, platforms, format) read from the request, the true counts gathered by unit and
 * platform (tallies), and their publication through domain/disclosure with the reference data
 * (the perturbation table, the platform tree) loaded once. Used by stats_prevention.c,
 * stats_housing.c and stats_outcomes.c beside the endpoints of stats.c.
 */
#ifndef LDA_RESOURCES_STATS_COMMON_H
#define LDA_RESOURCES_STATS_COMMON_H

#include "domain/disclosure.h"
#include "domain/stats_grid.h"
#include "resources/resource.h"
#include "resources/stats_report.h"
#include "store/stats_store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The question asked. */
typedef struct {
    grid_period period;
    char m0[11], m1[11];
    size_t scope;     /* in ref_tree's scopes */
    char *platforms;  /* text[] literal of the scope's platforms */
    char *neighbours; /* the platforms whose counts decide what is published: a platform's
                       * AMI for one platform, NULL (all) otherwise */
    const char *band; /* age band code (youth endpoints) */
    int lo, hi;
    bool csv;
    json_t *filters;
} stats_params;

/* The true counts of one (dim, code) by unit and platform. */
typedef struct {
    char dim[16], code[64];
    sdc_tally *t; /* nunits x nplat */
} trow;

typedef struct {
    size_t nunits;
    char (*units)[11]; /* first days, ascending */
    trow *rows;
    size_t nrows, cap;
} tallies;

/* The official figures' rows, by sdc_official (NULL: not asked), and where they are. */
typedef struct {
    const trow *row[SDC_NOFFICIAL];
    const char *dim[SDC_NOFFICIAL], *code[SDC_NOFFICIAL];
} official_rows;

/* The platform tree and the disclosure parameters in force (valid after stats_begin). */
const sdc_tree *stats_tree(void);
const sdc_params *stats_sdc(void);

/* Leases a read connection, loads the reference data and reads the question (from, to,
 * platform, ami, format): NULL when it answered (422, 403, 503...). Else the caller releases
 * the connection and frees *p with stats_params_free. */
db_conn *stats_begin(lda_req *r, stats_params *p);
void stats_params_free(stats_params *p);

/* True when the scope holds the platform. */
bool stats_scope_has(size_t scope, size_t platform);

/* The units of the question: its years for a range of years, else the whole period (*unit
 * "year" or "period", for the store); tl is initialised (free with stats_tallies_free). */
void stats_units(const stats_params *p, tallies *tl, const char **unit);
void stats_tallies_init(tallies *tl, size_t nunits);
void stats_tallies_free(tallies *tl);
/* Adds the counts of c to their rows (counts of unknown units or platforms are ignored). */
void stats_tallies_fill(tallies *tl, const stats_counts *c);
const trow *stats_tallies_get(const tallies *tl, const char *dim, const char *code);
trow *stats_tallies_add(tallies *tl, const char *dim, const char *code);

/* The official figures: their rows, then a headline count published by their rule. */
void stats_official_set(official_rows *o, const tallies *tl, sdc_official f, const char *dim,
                        const char *code);
published stats_headline_count(const tallies *tl, const official_rows *o, sdc_official f,
                               bool official, grid_kind kind, size_t u0, size_t nu, size_t scope);

/* The protected counts of the codes of a dimension over units [u0, u0 + nu) for a scope
 * (partition: the codes split their total: sdc_breakdown_hide). out[ncodes]. */
void stats_protected_codes(const tallies *tl, const char *dim, const char *const *codes,
                           size_t ncodes, size_t u0, size_t nu, size_t scope, bool partition,
                           sdc_figure *out);
/* A protected count of one cell over units [u0, u0 + nu) for a scope. */
sdc_figure stats_protected_count(const tallies *tl, const char *dim, const char *code, size_t u0,
                                 size_t nu, size_t scope);

/* The French label of a code of a vocabulary (the code itself when unknown; "Non renseigné"
 * for not_collected). Static text. */
const char *stats_label(const char *vocab_name, const char *code);

/* A breakdown over a vocabulary's codes (then not_collected when `missing`), every cell
 * protected over all units, with its share of `total`, into rp->doc[section]. */
void stats_breakdown(stats_report *rp, const tallies *tl, const stats_params *p,
                     const char *section, const char *dim, const char *vocab_name, bool missing,
                     bool partition, published total);
/* The cells of dim (code "") for each platform of the scope, as `by_platform`. */
void stats_by_platform(stats_report *rp, const tallies *tl, const stats_params *p, const char *dim,
                       published total);

/* Frees the tallies and the question, and answers the error. */
void stats_answer_err(lda_req *r, stats_params *p, tallies *tl, lda_err e);

#endif
