#include "store/outcomes.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static db_stmt S_AS_OF = {"outcomes_as_of", "SELECT lda_outcome_as_of()::text", 0};

static db_stmt S_CASES = {
    "outcomes_cases",
    "SELECT month, platform, rk, kind, composition, age_band, history, support_t, support_s,"
    " housing_t, housing_s, retention_t, retention_s, return_t, return_s, as_of"
    " FROM lda_outcome_cases($1::date, $2::date)",
    0};

lda_err outcomes_as_of(db_conn *c, char out[11])
{
    lda_err e;
    PGresult *r = db_exec(c, &S_AS_OF, 0, NULL, &e);
    if (!r) return e;
    snprintf(out, 11, "%s", PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return strlen(out) == 10 ? LDA_OK : LDA_EINTERNAL;
}

/* Copies a field, cut to cap - 1 bytes (codes and dates are short). */
static void text(char *dst, size_t cap, PGresult *r, int row, int col)
{
    size_t n = (size_t)PQgetlength(r, row, col);
    if (n >= cap) n = cap - 1;
    memcpy(dst, PQgetvalue(r, row, col), n);
    dst[n] = '\0';
}

lda_err outcomes_cases(db_conn *c, const char *m0, const char *m1, char as_of[11], oc_case **out,
                       size_t *count)
{
    const char *p[] = {m0, m1};
    lda_err e;
    *out = NULL;
    *count = 0;
    PGresult *r = db_exec(c, &S_CASES, 2, p, &e);
    if (!r) return e;
    int rows = PQntuples(r);
    if (rows == 0) { /* no referral in the period: the date alone */
        PQclear(r);
        *out = xcalloc(1, sizeof **out);
        return outcomes_as_of(c, as_of);
    }
    text(as_of, 11, r, 0, 15);
    *out = xcalloc(rows ? (size_t)rows : 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        oc_case *x = &(*out)[i];
        text(x->month, sizeof x->month, r, i, 0);
        text(x->platform, sizeof x->platform, r, i, 1);
        x->rk = strtol(PQgetvalue(r, i, 2), NULL, 10);
        text(x->kind, sizeof x->kind, r, i, 3);
        text(x->composition, sizeof x->composition, r, i, 4);
        text(x->age_band, sizeof x->age_band, r, i, 5);
        text(x->history, sizeof x->history, r, i, 6);
        for (int m = 0; m < OC_NMEASURES; m++) {
            bool none = PQgetisnull(r, i, 8 + 2 * m);
            x->t[m] = none ? 0 : atoi(PQgetvalue(r, i, 7 + 2 * m));
            x->s[m] = none ? OC_NONE : (oc_state)PQgetvalue(r, i, 8 + 2 * m)[0];
        }
    }
    *count = (size_t)rows;
    PQclear(r);
    return LDA_OK;
}
