#include "store/batch_store.h"
#include "core/buf.h"
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

/* The records travel as one PostgreSQL array per column (text form), unnested into rows:
 * cheaper to build and for PostgreSQL to read than a jsonb document of the same records.
 * A set (text[] column) travels as the text of its array literal. */
typedef enum { COL_VALUE, COL_SET } col_kind;
typedef struct {
    const char *field; /* member of the record */
    col_kind kind;
} batch_column;

static const batch_column SIAO_COLUMNS[] = {
    {"idx", COL_VALUE},          {"external_id", COL_VALUE}, {"received_at", COL_VALUE},
    {"platform", COL_VALUE},     {"channel", COL_VALUE},     {"person_key", COL_VALUE},
    {"age", COL_VALUE},          {"birth_year", COL_VALUE},  {"sex", COL_VALUE},
    {"composition", COL_VALUE},  {"situation", COL_VALUE},   {"resources", COL_SET},
    {"needs", COL_SET},          {"response", COL_VALUE},    {"alternatives_known", COL_VALUE},
    {"content_hash", COL_VALUE},
};
#define SIAO_NCOLUMNS (sizeof SIAO_COLUMNS / sizeof SIAO_COLUMNS[0])

/* A record whose stored row lies on a platform outside the caller's scope ($2) is not
 * touched: it is reported ("foreign", field platform); nor is one received before the cut-off of
 * a purge already run (field received_at: it may have been purged, and the rollups still count
 * it). $3.. are the columns of SIAO_COLUMNS, in order. */
static const char SIAO_UPSERT[] =
    "WITH input AS (SELECT * FROM unnest($3::int[], $4::text[], $5::timestamptz[], $6::text[],"
    "  $7::text[], $8::text[], $9::smallint[], $10::smallint[], $11::text[], $12::text[],"
    "  $13::text[], $14::text[], $15::text[], $16::text[], $17::boolean[], $18::text[])"
    "  AS x(idx, external_id, received_at, platform, channel, person_key, age, birth_year, sex,"
    "  composition, situation, resources, needs, response, alternatives_known, content_hash)),"
    " foreign_rows AS (SELECT i.idx FROM input i JOIN lda_stored_platforms('siao_request', $1,"
    "  ARRAY(SELECT external_id FROM input)) s ON s.external_id = i.external_id"
    "  WHERE $2::text[] IS NOT NULL AND NOT s.platform = ANY($2::text[])),"
    " purged AS (SELECT idx FROM input WHERE received_at < lda_siao_purge_horizon()"
    "  AND idx NOT IN (SELECT idx FROM foreign_rows)),"
    " up AS (INSERT INTO siao_request AS s (source, external_id, received_at, platform, channel,"
    "  person_key, age, birth_year, sex, composition, situation, resources, needs, response,"
    "  alternatives_known, content_hash)"
    "  SELECT $1, external_id, received_at, platform, channel, person_key,"
    "  coalesce(age, (extract(year FROM received_at AT TIME ZONE 'Europe/Paris') - "
    "birth_year)::smallint),"
    "  birth_year, sex, composition, situation, coalesce(resources::text[], '{}'),"
    "  coalesce(needs::text[], '{}'), response, alternatives_known, content_hash FROM input"
    "  WHERE idx NOT IN (SELECT idx FROM foreign_rows) AND idx NOT IN (SELECT idx FROM purged)"
    "  ON CONFLICT (source, external_id) DO UPDATE SET received_at = EXCLUDED.received_at,"
    "  platform = EXCLUDED.platform, channel = EXCLUDED.channel, person_key = EXCLUDED.person_key,"
    "  age = EXCLUDED.age, birth_year = EXCLUDED.birth_year, sex = EXCLUDED.sex,"
    "  composition = EXCLUDED.composition, situation = EXCLUDED.situation,"
    "  resources = EXCLUDED.resources, needs = EXCLUDED.needs, response = EXCLUDED.response,"
    "  alternatives_known = EXCLUDED.alternatives_known, content_hash = EXCLUDED.content_hash"
    "  WHERE s.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
    "  RETURNING (xmax = 0) AS inserted, id)"
    " SELECT (SELECT count(*) FILTER (WHERE inserted) FROM up),"
    "  (SELECT count(*) FILTER (WHERE NOT inserted) FROM up),"
    "  (SELECT coalesce(json_agg(json_build_object('idx', idx, 'field', field) ORDER BY idx), '[]')"
    "   FROM (SELECT idx, 'platform' AS field FROM foreign_rows"
    "         UNION ALL SELECT idx, 'received_at' FROM purged) b)::text,"
    "  (SELECT coalesce(json_agg(id), '[]') FROM up)::text";

/* Appends `s` as a double-quoted element of an array literal. */
static void put_quoted(buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, 2 * n + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') *o++ = '\\';
        *o++ = s[i];
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

/* Appends a JSON scalar as an array element: NULL, t/f, a number or a quoted string. */
static void put_value(buf_t *b, const json_t *v, buf_t *scratch)
{
    char num[24];
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        put_quoted(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        buf_add(b, num,
                (size_t)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)));
        return;
    case JSON_TRUE:
        buf_add(b, "t", 1);
        return;
    case JSON_FALSE:
        buf_add(b, "f", 1);
        return;
    case JSON_ARRAY: { /* a set: the text of its own literal */
        if (!scratch) break;
        scratch->len = 0;
        buf_add(scratch, "{", 1);
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            if (i) buf_add(scratch, ",", 1);
            put_value(scratch, item, NULL);
        }
        buf_add(scratch, "}", 1);
        put_quoted(b, scratch->data, scratch->len);
        return;
    }
    default:
        break;
    }
    buf_add(b, "NULL",
            4); /* null or absent: not collected (validated records hold no other kind) */
}

static json_t *siao_why(const json_t *pb)
{
    const char *field = json_string_value(json_object_get(pb, "field"));
    if (field && !strcmp(field, "received_at"))
        return JCHECK(json_pack(
            "[{s:s, s:s}]", "field", "/received_at", "message",
            "is older than the retention period of SIAO requests, and older requests have been "
            "purged: not stored"));
    return batch_foreign_why(pb);
}

lda_err siao_request_upsert_send(db_conn *c, const char *source, const char *scope,
                                 const json_t *records, batch_pending *p)
{
    buf_t cols[SIAO_NCOLUMNS], scratch = {0};
    memset(cols, 0, sizeof cols);
    size_t n = json_array_size(records);
    for (size_t k = 0; k < SIAO_NCOLUMNS; k++) buf_reserve(&cols[k], n * 16);
    for (size_t i = 0; i < n; i++) {
        const json_t *rec = json_array_get(records, i);
        for (size_t k = 0; k < SIAO_NCOLUMNS; k++) {
            buf_add(&cols[k], i ? "," : "{", 1);
            const json_t *v = json_object_get(rec, SIAO_COLUMNS[k].field);
            if (SIAO_COLUMNS[k].kind == COL_SET && !json_is_array(v)) v = NULL;
            put_value(&cols[k], v, &scratch);
        }
    }
    const char *params[2 + SIAO_NCOLUMNS] = {source, scope};
    for (size_t k = 0; k < SIAO_NCOLUMNS; k++) {
        buf_add(&cols[k], n ? "}" : "{}", n ? 1 : 2);
        params[2 + k] = cols[k].data;
    }
    free(scratch.data);
    lda_err e = batch_send(c, SIAO_UPSERT, 2 + (int)SIAO_NCOLUMNS, params, records, siao_why,
                           "siao_request_upsert", p);
    for (size_t k = 0; k < SIAO_NCOLUMNS; k++) free(cols[k].data);
    return e;
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
