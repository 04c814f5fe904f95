#include "store/doc.h"
#include "core/mem.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>

lda_err store_one(db_conn *c, db_stmt *s, int n, const char *const *params, store_doc *out)
{
    out->json = NULL;
    out->version = 0;
    lda_err e;
    PGresult *r = db_exec(c, s, n, params, &e);
    if (!r) return e;
    if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return LDA_ENOTFOUND;
    }
    out->json = xstrdup(PQgetvalue(r, 0, 0));
    if (PQnfields(r) > 1) out->version = atol(PQgetvalue(r, 0, 1));
    PQclear(r);
    return LDA_OK;
}

lda_err store_update(db_conn *c, db_stmt *s, const char *id, const char *merged, long version,
                     store_doc *out)
{
    char v[24];
    snprintf(v, sizeof v, "%ld", version);
    const char *p[] = {id, merged, v};
    lda_err e = store_one(c, s, 3, p, out);
    return e == LDA_ENOTFOUND ? LDA_EPRECONDITION : e;
}

void store_doc_free(store_doc *d)
{
    free(d->json);
    d->json = NULL;
}

lda_err store_page(db_conn *c, db_stmt *s, int n, const char *const *params, int limit, char **json)
{
    lda_err e;
    PGresult *r = db_exec(c, s, n, params, &e);
    if (!r) return e;
    e = page_render(r, limit, json);
    PQclear(r);
    return e;
}

lda_err store_exec(db_conn *c, db_stmt *s, int n, const char *const *params, int *rows)
{
    lda_err e;
    PGresult *r = db_exec(c, s, n, params, &e);
    if (!r) return e;
    if (rows) {
        const char *t = PQcmdTuples(r);
        *rows = PQntuples(r) ? PQntuples(r) : (t && *t ? atoi(t) : 0);
    }
    PQclear(r);
    return LDA_OK;
}

lda_err store_begin(db_conn *c) { return db_command(c, "BEGIN"); }

lda_err store_commit(db_conn *c) { return db_command(c, "COMMIT"); }

void store_rollback(db_conn *c) { db_command(c, "ROLLBACK"); }

PGresult *store_exec_locked(db_conn *c, db_stmt *s, int n, const char *const *params, lda_err *err)
{
    PGresult *r = db_exec(c, s, n, params, err);
    if (!r) return NULL;
    PQclear(r);
    return db_exec(c, s, n, params, err);
}
