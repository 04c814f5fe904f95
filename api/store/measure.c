/* Support measures (accompagnements) of a referral. */
#include "store/casefile.h"
#include "core/mem.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>

#define MEASURE_SCOPE(n)                                                                           \
    "EXISTS (SELECT 1 FROM referral r WHERE r.id = m.referral_id AND ($" #n                        \
    "::text[] IS NULL OR r.platform = ANY($" #n "::text[])))"

static db_stmt S_CREATE = {
    "measure_create",
    "INSERT INTO measure (referral_id, kind, operator, started_on, ended_on, end_reason,"
    " housing_outcome, housing_type, housing_on)"
    " SELECT r.id, p->>'kind', p->>'operator', (p->>'started_on')::date, (p->>'ended_on')::date,"
    " p->>'end_reason', p->>'housing_outcome', p->>'housing_type', (p->>'housing_on')::date"
    " FROM (SELECT $2::jsonb p) x JOIN referral r ON r.id = $1::uuid"
    " AND ($3::text[] IS NULL OR r.platform = ANY($3::text[]))"
    " RETURNING lda_measure_json(measure)::text, row_version",
    0};
static db_stmt S_GET = {"measure_get",
                        "SELECT lda_measure_json(m)::text, row_version FROM measure m"
                        " WHERE id = $1::uuid AND " MEASURE_SCOPE(2),
                        0};
static db_stmt S_REFERRAL = {"measure_referral",
                             "SELECT referral_id::text FROM measure m"
                             " WHERE id = $1::uuid AND " MEASURE_SCOPE(2),
                             0};
static db_stmt S_LIST = {
    "measure_list",
    "WITH page AS (SELECT * FROM measure m WHERE referral_id = $1::uuid"
    "    AND ($2::date IS NULL OR (started_on, id) > ($2::date, $3::uuid))"
    "  ORDER BY started_on, id LIMIT $4::int + 1)"
    " SELECT coalesce(json_agg(lda_measure_json(page) ORDER BY started_on, id), '[]')::text,"
    "  count(*), (array_agg(started_on::text ORDER BY started_on, id))[$4::int],"
    "  (array_agg(id::text ORDER BY started_on, id))[$4::int] FROM page",
    0};
static db_stmt S_UPDATE = {
    "measure_update",
    "UPDATE measure SET kind = m->>'kind', operator = m->>'operator',"
    " started_on = (m->>'started_on')::date, ended_on = (m->>'ended_on')::date,"
    " end_reason = m->>'end_reason', housing_outcome = m->>'housing_outcome',"
    " housing_type = m->>'housing_type', housing_on = (m->>'housing_on')::date"
    " FROM (SELECT $2::jsonb m) x WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_measure_json(measure)::text, row_version",
    0};

lda_err measure_create(db_conn *c, const char *referral_id, const char *in, const char *scope,
                       store_doc *out)
{
    const char *p[] = {referral_id, in, scope};
    return store_one(c, &S_CREATE, 3, p, out);
}

lda_err measure_get(db_conn *c, const char *id, const char *scope, store_doc *out)
{
    const char *p[] = {id, scope};
    return store_one(c, &S_GET, 2, p, out);
}

lda_err measure_referral(db_conn *c, const char *id, const char *scope, char **referral_id)
{
    const char *p[] = {id, scope};
    store_doc d;
    lda_err e = store_one(c, &S_REFERRAL, 2, p, &d);
    *referral_id = e ? NULL : d.json;
    return e;
}

lda_err measure_list(db_conn *c, const char *referral_id, const char *scope, int limit,
                     const char *cursor, char **json)
{
    lda_err e = referral_visible(c, referral_id, scope);
    if (e) return e;
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {referral_id, key, id, lim};
    e = store_page(c, &S_LIST, 4, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err measure_update(db_conn *c, const char *id, const char *merged, long version, store_doc *out)
{
    return store_update(c, &S_UPDATE, id, merged, version, out);
}
