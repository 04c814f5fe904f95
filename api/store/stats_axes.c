#include "store/stats_axes.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static db_stmt S_PREVENTION = {"stats_prevention_counts",
                               "SELECT unit_start, platform, dim, code, n, ks"
                               " FROM lda_prevention_counts($1::date, $2::date, $3)",
                               0};

static db_stmt S_HOUSING = {"stats_housing_counts",
                            "SELECT unit_start, platform, dim, code, n, ks"
                            " FROM lda_housing_counts($1::date, $2::date, $3)",
                            0};

static db_stmt S_PREVENTION_VALUES = {
    "stats_prevention_values",
    "SELECT figure, code, n, q1, q2, q3 FROM lda_prevention_values($1::date, $2::date, $3::text[])",
    0};

static db_stmt S_HOUSING_VALUES = {
    "stats_housing_values",
    "SELECT figure, code, n, q1, q2, q3 FROM lda_housing_values($1::date, $2::date, $3::text[])",
    0};

lda_err stats_prevention_counts(db_conn *c, const char *m0, const char *m1, const char *unit,
                                stats_counts *out)
{
    const char *p[] = {m0, m1, unit};
    return stats_counts_query(c, &S_PREVENTION, 3, p, out);
}

lda_err stats_housing_counts(db_conn *c, const char *m0, const char *m1, const char *unit,
                             stats_counts *out)
{
    const char *p[] = {m0, m1, unit};
    return stats_counts_query(c, &S_HOUSING, 3, p, out);
}

static lda_err values(db_conn *c, db_stmt *s, const char *m0, const char *m1, const char *platforms,
                      stats_value **out, size_t *count)
{
    const char *p[] = {m0, m1, platforms};
    lda_err e;
    *out = NULL;
    *count = 0;
    PGresult *r = db_exec(c, s, 3, p, &e);
    if (!r) return e;
    int rows = PQntuples(r);
    *out = xcalloc(rows ? (size_t)rows : 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        stats_value *x = &(*out)[i];
        snprintf(x->figure, sizeof x->figure, "%s", PQgetvalue(r, i, 0));
        snprintf(x->code, sizeof x->code, "%s", PQgetvalue(r, i, 1));
        x->n = strtol(PQgetvalue(r, i, 2), NULL, 10);
        for (int k = 0; k < 3; k++) {
            x->has[k] = !PQgetisnull(r, i, 3 + k);
            x->v[k] = x->has[k] ? strtod(PQgetvalue(r, i, 3 + k), NULL) : 0;
        }
    }
    *count = (size_t)rows;
    PQclear(r);
    return LDA_OK;
}

lda_err stats_prevention_values(db_conn *c, const char *m0, const char *m1, const char *platforms,
                                stats_value **out, size_t *count)
{
    return values(c, &S_PREVENTION_VALUES, m0, m1, platforms, out, count);
}

lda_err stats_housing_values(db_conn *c, const char *m0, const char *m1, const char *platforms,
                             stats_value **out, size_t *count)
{
    return values(c, &S_HOUSING_VALUES, m0, m1, platforms, out, count);
}
