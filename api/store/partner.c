/* Partners: referring organisations. Visible to every platform when they have none. */
#include "store/casefile.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>

static db_stmt S_CREATE = {
    "partner_create",
    "INSERT INTO partner (name, kind, platform)"
    " SELECT p->>'name', p->>'kind', p->>'platform' FROM (SELECT $1::jsonb p) x"
    " RETURNING lda_partner_json(partner)::text, row_version",
    0};
static db_stmt S_GET = {
    "partner_get",
    "SELECT lda_partner_json(p)::text, row_version FROM partner p WHERE id = $1::uuid"
    " AND (platform IS NULL OR $2::text[] IS NULL OR platform = ANY($2::text[]))",
    0};
static db_stmt S_LIST = {
    "partner_list",
    "WITH page AS (SELECT * FROM partner p"
    "  WHERE (platform IS NULL OR $1::text[] IS NULL OR platform = ANY($1::text[]))"
    "    AND ($2::text IS NULL OR platform = $2) AND ($3::text IS NULL OR kind = $3)"
    "    AND ($4::text IS NULL OR (name, id) > ($4, $5::uuid))"
    "  ORDER BY name, id LIMIT $6::int + 1)"
    " SELECT coalesce(json_agg(lda_partner_json(page) ORDER BY name, id), '[]')::text, count(*),"
    "  (array_agg(name ORDER BY name, id))[$6::int], (array_agg(id::text ORDER BY name, "
    "id))[$6::int]"
    " FROM page",
    0};
static db_stmt S_UPDATE = {
    "partner_update",
    "UPDATE partner SET name = m->>'name', kind = m->>'kind', platform = m->>'platform'"
    " FROM (SELECT $2::jsonb m) x WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_partner_json(partner)::text, row_version",
    0};

lda_err partner_create(db_conn *c, const char *in, store_doc *out)
{
    const char *p[] = {in};
    return store_one(c, &S_CREATE, 1, p, out);
}

lda_err partner_get(db_conn *c, const char *id, const char *scope, store_doc *out)
{
    const char *p[] = {id, scope};
    return store_one(c, &S_GET, 2, p, out);
}

lda_err partner_list(db_conn *c, const char *scope, const char *platform, const char *kind,
                     int limit, const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {scope, platform, kind, key, id, lim};
    lda_err e = store_page(c, &S_LIST, 6, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err partner_update(db_conn *c, const char *id, const char *merged, long version, store_doc *out)
{
    return store_update(c, &S_UPDATE, id, merged, version, out);
}
