/*
 * stats_shared — what the statistics resources share (resources/stats.c defines it): the
 * question read from the query (the grid's period, one platform or one AMI or all), the
 * reference data (the perturbation table and the platform tree, loaded once), and the true
 * counts with their key sums by unit of time and platform that disclosure control reads.
 */
#ifndef LDA_RESOURCES_STATS_SHARED_H
#define LDA_RESOURCES_STATS_SHARED_H

#include "domain/disclosure.h"
#include "domain/stats_grid.h"
#include "resources/stats_report.h"
#include "store/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    grid_period period;
    char m0[11], m1[11];
    size_t scope;     /* in the platform tree's scopes */
    char *platforms;  /* text[] literal of the scope's platforms */
    const char *band; /* age band code (youth endpoints) */
    int lo, hi;
    bool csv;
    json_t *filters;
} stats_params;

/* One count (dim, code) by unit and platform. */
typedef struct {
    char dim[16], code[48];
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

/* Leases a read connection, loads the reference data and reads the question (from, to,
 * platform, ami, format; age_band when `youth`): NULL when it answered (422, 403, 5xx).
 * The caller releases the connection and frees *p with stats_params_free. */
db_conn *stats_begin(lda_req *r, stats_params *p, bool youth);
void stats_params_free(stats_params *p);

/* The reference data (valid after stats_begin succeeded once). */
const sdc_tree *stats_tree(void);
const sdc_params *stats_sdc(void);
/* True when a scope (platform, AMI or all) holds the platform. */
bool stats_scope_has(size_t scope, size_t platform);

/* Tallies of nunits units (the caller fills tl->units); free with stats_tallies_free. */
void stats_tallies_init(tallies *tl, size_t nunits);
void stats_tallies_free(tallies *tl);
/* The row (dim, code), NULL when none; stats_tallies_add creates it (zeros) when missing. */
const trow *stats_tallies_get(const tallies *tl, const char *dim, const char *code);
trow *stats_tallies_add(tallies *tl, const char *dim, const char *code);

/* Where official figure f is counted in tl. */
void stats_official_set(official_rows *o, const tallies *tl, sdc_official f, const char *dim,
                        const char *code);
/* A headline count over units [u0, u0 + nu): exact when `official` and the question is one
 * of whole years for all platforms or an AMI, else protected by the cell-key method. */
published stats_headline_count(const tallies *tl, const official_rows *o, sdc_official f,
                               bool official, grid_kind kind, size_t u0, size_t nu, size_t scope);

/* The French label of a code of a vocabulary ("Non renseigné" for not_collected). */
const char *stats_label_of(const char *vocab_name, const char *code);

#endif
