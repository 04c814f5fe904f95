#include "store/platform.h"
#include "core/mem.h"
#include "store/doc.h"
#include "store/migrate.h"

#include <stdio.h>
#include <stdlib.h>

#define PLATFORM_JSON                                                                              \
    "json_build_object('code', code, 'name', name, 'ami', ami, 'active_since', active_since,"      \
    " 'siao_antenna', siao_antenna,"                                                               \
    " 'coordinator', CASE WHEN coordinator_name IS NULL AND coordinator_email IS NULL"             \
    "   THEN NULL ELSE json_build_object('name', coordinator_name, 'email', coordinator_email) "   \
    "END,"                                                                                         \
    " 'epcis', to_json(epcis), 'created_at', created_at, 'updated_at', updated_at)"

static db_stmt S_LIST = {
    "platform_list",
    "SELECT json_build_object('items', coalesce(json_agg(" PLATFORM_JSON
    " ORDER BY active_since, code), '[]'), 'next_cursor', NULL)::text FROM platform",
    0};
static db_stmt S_GET = {
    "platform_get", "SELECT " PLATFORM_JSON "::text, row_version FROM platform WHERE code = $1", 0};
static db_stmt S_FUNDING = {
    "funding_list",
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object("
    " 'ami', ami, 'year', year, 'amount_eur', amount_eur, 'eligible_cost_eur', eligible_cost_eur,"
    " 'state_share_percent', state_share_percent, 'note', note) ORDER BY ami, year), '[]'),"
    " 'next_cursor', NULL)::text FROM funding WHERE $1::smallint IS NULL OR ami = $1::smallint",
    0};
static db_stmt S_AMIS = {"platform_amis",
                         "SELECT code, ami FROM platform ORDER BY ami, code COLLATE \"C\"", 0};
static db_stmt S_VERSION = {"schema_version", MIGRATE_VERSION_SQL, 0};

/* Runs a statement expected to return one JSON text cell. */
static lda_err one_json(db_conn *c, db_stmt *s, int n, const char *const *params, char **json)
{
    lda_err e;
    PGresult *r = db_exec(c, s, n, params, &e);
    if (!r) return e;
    const char *v = db_value(r);
    if (v) *json = xstrdup(v);
    PQclear(r);
    return v ? LDA_OK : LDA_ENOTFOUND;
}

lda_err platform_list_json(db_conn *c, char **json) { return one_json(c, &S_LIST, 0, NULL, json); }

lda_err platform_get(db_conn *c, const char *code, store_doc *out)
{
    const char *p[] = {code};
    return store_one(c, &S_GET, 1, p, out);
}

lda_err funding_list_json(db_conn *c, const char *ami, char **json)
{
    const char *p[] = {ami};
    return one_json(c, &S_FUNDING, 1, p, json);
}

lda_err platform_amis_load(db_conn *c, platform_ami **out, size_t *n)
{
    lda_err e;
    *out = NULL;
    *n = 0;
    PGresult *r = db_exec(c, &S_AMIS, 0, NULL, &e);
    if (!r) return e;
    int rows = PQntuples(r);
    *out = xcalloc(rows ? (size_t)rows : 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        snprintf((*out)[i].code, sizeof(*out)[i].code, "%s", PQgetvalue(r, i, 0));
        (*out)[i].ami = atoi(PQgetvalue(r, i, 1));
    }
    *n = (size_t)rows;
    PQclear(r);
    return LDA_OK;
}

lda_err platform_amis(db_conn *c, json_t **out)
{
    platform_ami *p = NULL;
    size_t n = 0;
    lda_err e = platform_amis_load(c, &p, &n);
    *out = NULL;
    if (!e) {
        *out = JCHECK(json_object());
        for (size_t i = 0; i < n; i++)
            json_object_set_new(*out, p[i].code, JCHECK(json_integer(p[i].ami)));
    }
    free(p);
    return e;
}

lda_err schema_version(db_conn *c, int *version)
{
    char *v = NULL;
    lda_err e = one_json(c, &S_VERSION, 0, NULL, &v);
    if (e == LDA_OK && v) *version = atoi(v);
    free(v);
    return e;
}
