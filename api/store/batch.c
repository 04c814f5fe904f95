#include "store/batch.h"
#include "core/mem.h"
#include "store/doc.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- idempotency ------------------------------------------------------------------ */

static db_stmt S_IDEM_PURGE = {
    "idem_purge",
    "DELETE FROM idempotency_key WHERE created_at < now() - interval '24 hours'"
    " AND ctid IN (SELECT ctid FROM idempotency_key"
    "  WHERE created_at < now() - interval '24 hours' LIMIT 1000)",
    0};
static db_stmt S_IDEM_CLAIM = {
    "idem_claim",
    "INSERT INTO idempotency_key (token_id, key, route, request_hash, status, response)"
    " VALUES ($1::uuid, $2, $3, $4, 0, '') ON CONFLICT DO NOTHING RETURNING 1",
    0};
static db_stmt S_IDEM_GET = {"idem_get",
                             "SELECT request_hash, status, response, route FROM idempotency_key"
                             " WHERE token_id = $1::uuid AND key = $2",
                             0};
static db_stmt S_IDEM_DONE = {"idem_done",
                              "UPDATE idempotency_key SET status = $3::smallint, response = $4"
                              " WHERE token_id = $1::uuid AND key = $2",
                              0};

lda_err idem_claim(db_conn *c, const char *token_id, const char *key, const char *route,
                   const char *request_hash, idem_state *state, int *status, char **response)
{
    *response = NULL;
    lda_err e = store_exec(c, &S_IDEM_PURGE, 0, NULL, NULL);
    if (e) return e;
    const char *p[] = {token_id, key, route, request_hash};
    int rows = 0;
    if ((e = store_exec(c, &S_IDEM_CLAIM, 4, p, &rows))) return e;
    if (rows == 1) {
        *state = IDEM_NEW;
        return LDA_OK;
    }
    PGresult *r = db_exec(c, &S_IDEM_GET, 2, p, &e);
    if (!r) return e;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LDA_EUNAVAILABLE; /* purged meanwhile: the client retries */
    }
    if (strcmp(PQgetvalue(r, 0, 0), request_hash) || strcmp(PQgetvalue(r, 0, 3), route))
        *state = IDEM_MISMATCH;
    else {
        *state = IDEM_REPLAY;
        *status = atoi(PQgetvalue(r, 0, 1));
        *response = xstrdup(PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return LDA_OK;
}

lda_err idem_complete(db_conn *c, const char *token_id, const char *key, int status,
                      const char *response)
{
    char st[12];
    snprintf(st, sizeof st, "%d", status);
    const char *p[] = {token_id, key, st, response};
    return store_exec(c, &S_IDEM_DONE, 4, p, NULL);
}

/* ---- upserts ------------------------------------------------------------------------ */

/* A record whose stored row lies on a platform outside the caller's scope ($3) is not
 * touched: it is reported ("foreign"). */
static db_stmt S_SIAO_UPSERT = {
    "siao_request_upsert",
    "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(idx int, external_id text,"
    "  received_at timestamptz, platform text, channel text, person_key text, age smallint,"
    "  birth_year smallint, sex text, composition text, situation text, resources text[],"
    "  needs text[], response text, alternatives_known boolean, content_hash text)),"
    " foreign_rows AS (SELECT i.idx FROM input i JOIN lda_stored_platforms('siao_request', $1,"
    "  ARRAY(SELECT external_id FROM input)) s ON s.external_id = i.external_id"
    "  WHERE $3::text[] IS NOT NULL AND NOT s.platform = ANY($3::text[])),"
    " up AS (INSERT INTO siao_request AS s (source, external_id, received_at, platform, channel,"
    "  person_key, age, birth_year, sex, composition, situation, resources, needs, response,"
    "  alternatives_known, content_hash)"
    "  SELECT $1, external_id, received_at, platform, channel, person_key,"
    "  coalesce(age, (extract(year FROM received_at AT TIME ZONE 'Europe/Paris') - "
    "birth_year)::smallint),"
    "  birth_year, sex, composition, situation, coalesce(resources, '{}'), coalesce(needs, '{}'),"
    "  response, alternatives_known, content_hash FROM input"
    "  WHERE idx NOT IN (SELECT idx FROM foreign_rows)"
    "  ON CONFLICT (source, external_id) DO UPDATE SET received_at = EXCLUDED.received_at,"
    "  platform = EXCLUDED.platform, channel = EXCLUDED.channel, person_key = EXCLUDED.person_key,"
    "  age = EXCLUDED.age, birth_year = EXCLUDED.birth_year, sex = EXCLUDED.sex,"
    "  composition = EXCLUDED.composition, situation = EXCLUDED.situation,"
    "  resources = EXCLUDED.resources, needs = EXCLUDED.needs, response = EXCLUDED.response,"
    "  alternatives_known = EXCLUDED.alternatives_known, content_hash = EXCLUDED.content_hash"
    "  WHERE s.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
    "  RETURNING (xmax = 0) AS inserted)"
    " SELECT (SELECT count(*) FILTER (WHERE inserted) FROM up),"
    "  (SELECT count(*) FILTER (WHERE NOT inserted) FROM up),"
    "  (SELECT coalesce(json_agg(json_build_object('idx', idx)), '[]') FROM foreign_rows)::text",
    0};

lda_err siao_request_upsert(db_conn *c, const char *source, const char *scope, const char *records,
                            long n, json_t *rejected, batch_counts *out)
{
    const char *p[] = {source, records, scope};
    return batch_run(c, &S_SIAO_UPSERT, 3, p, records, n, rejected, out, batch_foreign_why);
}

static db_stmt S_SIAO_LIST = {
    "siao_request_list",
    "WITH page AS (SELECT * FROM siao_request"
    "  WHERE ($1::text IS NULL OR source = $1) AND ($2::text[] IS NULL OR platform = "
    "ANY($2::text[]))"
    "    AND ($3::timestamptz IS NULL OR updated_at >= $3::timestamptz)"
    "    AND ($4::timestamptz IS NULL OR (updated_at, id) > ($4::timestamptz, $5::uuid))"
    "  ORDER BY updated_at, id LIMIT $6::int + 1)"
    " SELECT coalesce(json_agg(json_build_object('id', id, 'source', source,"
    "  'external_id', external_id, 'received_at', received_at, 'platform', platform,"
    "  'channel', channel, 'person_key', person_key, 'age', age, 'birth_year', birth_year,"
    "  'sex', sex, 'composition', composition, 'situation', situation,"
    "  'resources', to_json(resources), 'needs', to_json(needs), 'response', response,"
    "  'alternatives_known', alternatives_known, 'created_at', created_at,"
    "  'updated_at', updated_at) ORDER BY updated_at, id), '[]')::text, count(*),"
    "  (array_agg(updated_at::text ORDER BY updated_at, id))[$6::int],"
    "  (array_agg(id::text ORDER BY updated_at, id))[$6::int] FROM page",
    0};

lda_err siao_request_list(db_conn *c, const char *source, const char *scope,
                          const char *updated_since, int limit, const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {source, scope, updated_since, key, id, lim};
    lda_err e = store_page(c, &S_SIAO_LIST, 6, p, limit, json);
    free(key);
    free(id);
    return e;
}

/* Households and referrals: see batch_case.c */
