#include "store/token_store.h"
#include "core/mem.h"
#include "core/secret.h"
#include "domain/schema.h"
#include "store/doc.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_JSON                                                                                 \
    "json_build_object('id', id, 'role', role, 'name', name, 'platforms', to_json(platforms),"     \
    " 'source', source, 'partner', partner_id, 'created_at', created_at,"                          \
    " 'expires_at', expires_at, 'revoked_at', revoked_at)"

/* Creating and revoking a token write their audit event in the same statement: they are
 * never lost with the in-memory queue of the other events. */
static db_stmt S_INSERT = {
    "token_insert",
    "WITH t AS (INSERT INTO api_token (token_hash, role, name, platforms, source, expires_at)"
    "  VALUES ($1, $2, $3, coalesce($4::text[], '{}'), $5, $6::timestamptz) RETURNING *),"
    " a AS (INSERT INTO audit_event (token_id, role, action, resource_type, resource_id,"
    "  request_id, status) SELECT $7::uuid, $8, 'create', 'token', id, $9, 201 FROM t)"
    " SELECT " TOKEN_JSON "::text FROM t",
    0};
static db_stmt S_LIST = {
    "token_list",
    "WITH page AS (SELECT * FROM api_token"
    "  WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)"
    "  ORDER BY created_at, id LIMIT $3::int + 1)"
    " SELECT coalesce(json_agg(" TOKEN_JSON " ORDER BY created_at, id), '[]')::text,"
    "  count(*), (array_agg(created_at::text ORDER BY created_at, id))[$3::int],"
    "  (array_agg(id::text ORDER BY created_at, id))[$3::int] FROM page",
    0};
static db_stmt S_REVOKE = {
    "token_revoke",
    "WITH t AS (UPDATE api_token SET revoked_at = coalesce(revoked_at, now())"
    "  WHERE id = $1::uuid RETURNING id),"
    " a AS (INSERT INTO audit_event (token_id, role, action, resource_type, resource_id,"
    "  request_id, status) SELECT $2::uuid, $3, 'delete', 'token', id, $4, 204 FROM t)"
    " SELECT id FROM t",
    0};
static db_stmt S_LOOKUP = {
    "token_lookup",
    "SELECT id, role, array_to_string(platforms, ','), coalesce(source, ''),"
    " coalesce(extract(epoch FROM expires_at)::bigint, 0), revoked_at IS NOT NULL"
    " FROM api_token WHERE token_hash = $1",
    0};

static db_stmt S_BIND = {
    "token_bind_partner",
    "WITH b AS (UPDATE api_token SET partner_id = $2::uuid"
    "  WHERE id = $1::uuid AND role = 'partner' AND partner_id IS NULL AND EXISTS (SELECT 1"
    "   FROM partner p WHERE p.id = $2::uuid"
    "   AND (p.platform IS NULL OR $3::text[] IS NULL OR p.platform = ANY($3::text[])))"
    "  RETURNING partner_id)"
    " SELECT coalesce((SELECT partner_id FROM b),"
    "  (SELECT partner_id FROM api_token WHERE id = $1::uuid))::text",
    0};

lda_err token_create(db_conn *c, const json_t *in, const audit_actor *by, char **json)
{
    char secret[SECRET_TOKEN_LEN], hash[SECRET_HASH_HEX];
    secret_token_new(secret);
    secret_sha256_hex(secret, strlen(secret), hash);
    char *platforms = schema_pg_array(in, "platforms");
    const char *params[] = {hash,
                            schema_str(in, "role"),
                            schema_str(in, "name"),
                            platforms,
                            schema_str(in, "source"),
                            schema_str(in, "expires_at"),
                            by->token_id,
                            by->role,
                            by->request_id};
    lda_err e;
    PGresult *r = db_exec(c, &S_INSERT, 9, params, &e);
    free(platforms);
    if (r) {
        json_t *t = json_loads(db_value(r), 0, NULL);
        PQclear(r);
        if (!t) lda_oom();
        json_object_set_new(t, "token", JCHECK(json_string(secret)));
        *json = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(t);
        if (!*json) lda_oom();
    }
    memset(secret, 0, sizeof secret);
    return e;
}

lda_err token_list_json(db_conn *c, int limit, const char *cursor, char **json)
{
    char *key, *id;
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {key, id, lim};
    lda_err e = store_page(c, &S_LIST, 3, params, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err token_revoke(db_conn *c, const char *id, const audit_actor *by)
{
    const char *params[] = {id, by->token_id, by->role, by->request_id};
    lda_err e;
    PGresult *r = db_exec(c, &S_REVOKE, 4, params, &e);
    if (!r) return e;
    e = PQntuples(r) == 1 ? LDA_OK : LDA_ENOTFOUND;
    PQclear(r);
    return e;
}

lda_err token_lookup(db_conn *c, const char *hash_hex, lda_credential *out)
{
    const char *params[] = {hash_hex};
    lda_err e;
    PGresult *r = db_exec(c, &S_LOOKUP, 1, params, &e);
    if (!r) return e;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LDA_ENOTFOUND;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->who.token_id, sizeof out->who.token_id, "%s", PQgetvalue(r, 0, 0));
    out->who.role = identity_role_bit(PQgetvalue(r, 0, 1));
    out->who.role_name = identity_role_name(out->who.role);
    char *plist = xstrdup(PQgetvalue(r, 0, 2)), *save = NULL;
    for (char *p = strtok_r(plist, ",", &save); p && out->who.nplatforms < MAX_SCOPE_PLATFORMS;
         p = strtok_r(NULL, ",", &save))
        snprintf(out->who.platforms[out->who.nplatforms++], sizeof out->who.platforms[0], "%s", p);
    free(plist);
    snprintf(out->who.source, sizeof out->who.source, "%s", PQgetvalue(r, 0, 3));
    out->expires_at = atoll(PQgetvalue(r, 0, 4));
    out->revoked = PQgetvalue(r, 0, 5)[0] == 't';
    PQclear(r);
    identity_scope_build(&out->who);
    return LDA_OK;
}

lda_err token_lookup_pooled(const char *hash_hex, lda_credential *out)
{
    db_conn *c = NULL;
    lda_err e = db_acquire(&c);
    if (!e) e = token_lookup(c, hash_hex, out);
    db_release(c);
    return e;
}

lda_err token_bind_partner(db_conn *c, const char *token_id, const char *partner_id,
                           const char *scope, char **bound)
{
    const char *params[] = {token_id, partner_id, scope};
    lda_err e;
    *bound = NULL;
    PGresult *r = db_exec(c, &S_BIND, 3, params, &e);
    if (!r) return e;
    const char *v = db_value(r);
    if (v) *bound = xstrdup(v);
    PQclear(r);
    return LDA_OK;
}
