#include "store/stats_store.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static db_stmt S_YOUTH = {"stats_youth_counts",
                          "SELECT unit_start, platform, dim, code, n, ks"
                          " FROM lda_youth_counts($1::date, $2::date, $3, $4::int, $5::int,"
                          " $6::text[])",
                          0};

static db_stmt S_ACTIVITY = {"stats_activity_counts",
                             "SELECT unit_start, platform, dim, code, n, ks"
                             " FROM lda_activity_counts($1::date, $2::date, $3)",
                             0};

static db_stmt S_PERSONS = {
    "stats_youth_persons",
    "SELECT unit_start, persons, persons_ks, repeats, repeats_ks"
    " FROM lda_youth_persons($1::date, $2::date, $3, $4::text[], $5::int, $6::int)",
    0};

static db_stmt S_PTABLE = {"stats_ptable",
                           "SELECT max_noise, excess, noise, key_from, key_to"
                           " FROM disclosure_ptable ORDER BY 1, 2, 4",
                           0};

void stats_counts_free(stats_counts *c)
{
    free(c->items);
    c->items = NULL;
    c->count = 0;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

lda_err stats_counts_query(db_conn *c, db_stmt *s, int n, const char *const *p, stats_counts *out)
{
    lda_err e;
    out->items = NULL;
    out->count = 0;
    PGresult *r = db_exec(c, s, n, p, &e);
    if (!r) return e;
    int rows = PQntuples(r);
    out->items = xcalloc(rows ? (size_t)rows : 1, sizeof *out->items);
    for (int i = 0; i < rows; i++) {
        stats_count *x = &out->items[out->count++];
        copy_text(x->unit, sizeof x->unit, PQgetvalue(r, i, 0));
        copy_text(x->platform, sizeof x->platform, PQgetvalue(r, i, 1));
        copy_text(x->dim, sizeof x->dim, PQgetvalue(r, i, 2));
        copy_text(x->code, sizeof x->code, PQgetvalue(r, i, 3));
        x->n = strtol(PQgetvalue(r, i, 4), NULL, 10);
        x->ks = strtoll(PQgetvalue(r, i, 5), NULL, 10);
    }
    PQclear(r);
    return LDA_OK;
}

lda_err stats_youth_counts(db_conn *c, const char *m0, const char *m1, const char *unit, int lo,
                           int hi, const char *platforms, stats_counts *out)
{
    char a[8], b[8];
    snprintf(a, sizeof a, "%d", lo);
    snprintf(b, sizeof b, "%d", hi);
    const char *p[] = {m0, m1, unit, a, b, platforms};
    return stats_counts_query(c, &S_YOUTH, 6, p, out);
}

lda_err stats_activity_counts(db_conn *c, const char *m0, const char *m1, const char *unit,
                              stats_counts *out)
{
    const char *p[] = {m0, m1, unit};
    return stats_counts_query(c, &S_ACTIVITY, 3, p, out);
}

lda_err stats_youth_persons(db_conn *c, const char *m0, const char *m1, const char *unit,
                            const char *platforms, int lo, int hi, stats_persons **out,
                            size_t *count)
{
    char a[8], b[8];
    snprintf(a, sizeof a, "%d", lo);
    snprintf(b, sizeof b, "%d", hi);
    const char *p[] = {m0, m1, unit, platforms, a, b};
    lda_err e;
    *out = NULL;
    *count = 0;
    PGresult *r = db_exec(c, &S_PERSONS, 6, p, &e);
    if (!r) return e;
    int rows = PQntuples(r);
    *out = xcalloc(rows ? (size_t)rows : 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        stats_persons *x = &(*out)[i];
        copy_text(x->unit, sizeof x->unit, PQgetvalue(r, i, 0));
        x->persons = strtol(PQgetvalue(r, i, 1), NULL, 10);
        x->persons_ks = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        x->repeats = strtol(PQgetvalue(r, i, 3), NULL, 10);
        x->repeats_ks = strtoll(PQgetvalue(r, i, 4), NULL, 10);
    }
    *count = (size_t)rows;
    PQclear(r);
    return LDA_OK;
}

lda_err stats_reference(db_conn *c, stats_ptable_row **rows, size_t *nrows)
{
    lda_err e;
    *rows = NULL;
    *nrows = 0;
    PGresult *r = db_exec(c, &S_PTABLE, 0, NULL, &e);
    if (!r) return e;
    int n = PQntuples(r);
    *rows = xcalloc(n ? (size_t)n : 1, sizeof **rows);
    for (int i = 0; i < n; i++)
        (*rows)[i] = (stats_ptable_row){
            atoi(PQgetvalue(r, i, 0)), atoi(PQgetvalue(r, i, 1)), atoi(PQgetvalue(r, i, 2)),
            strtol(PQgetvalue(r, i, 3), NULL, 10), strtol(PQgetvalue(r, i, 4), NULL, 10)};
    *nrows = (size_t)n;
    PQclear(r);
    return LDA_OK;
}

lda_err stats_settings_write(PGconn *pg, long threshold, int max_noise)
{
    char t[24], d[8];
    snprintf(t, sizeof t, "%ld", threshold);
    snprintf(d, sizeof d, "%d", max_noise);
    const char *p[] = {t, d};
    PGresult *r = PQexecParams(pg,
                               "UPDATE disclosure_setting SET threshold = $1::int,"
                               " max_noise = $2::smallint"
                               " WHERE threshold <> $1::int OR max_noise <> $2::smallint",
                               2, NULL, p, NULL, NULL, 0);
    lda_err e = PQresultStatus(r) == PGRES_COMMAND_OK ? LDA_OK : LDA_EDB;
    PQclear(r);
    return e;
}
