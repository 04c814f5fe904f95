/* Webhook endpoints, deliveries and attempts. */
#include "store/webhook_store.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OWNED(n_owner) "($" #n_owner "::uuid IS NULL OR w.owner_token = $" #n_owner "::uuid)"

static db_stmt S_CREATE = {
    "webhook_create",
    "WITH w AS (INSERT INTO webhook_endpoint (id, owner_token, url, event_types, platforms,"
    "  secret) SELECT $1::uuid, $2::uuid, p->>'url',"
    "  ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'event_types', '[]'))),"
    "  ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'platforms', '[]'))), $4"
    "  FROM (SELECT $3::jsonb p) x RETURNING *),"
    " c AS (INSERT INTO webhook_cursor (endpoint_id, position, event_id)"
    "  SELECT id, greatest($5::bigint, 0), 9223372036854775807 FROM w)"
    " SELECT lda_webhook_json(w)::text, row_version FROM w",
    0};
static db_stmt S_GET = {"webhook_get",
                        "SELECT lda_webhook_json(w)::text, row_version FROM webhook_endpoint w"
                        " WHERE id = $1::uuid AND " OWNED(2),
                        0};
static db_stmt S_LIST = {
    "webhook_list",
    "WITH page AS (SELECT * FROM webhook_endpoint w WHERE " OWNED(
        1) "    AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))"
           "  ORDER BY created_at, id LIMIT $4::int + 1)"
           " SELECT coalesce(json_agg(lda_webhook_json(page) ORDER BY created_at, id), '[]')::text,"
           "  count(*), (array_agg(created_at::text ORDER BY created_at, id))[$4::int],"
           "  (array_agg(id::text ORDER BY created_at, id))[$4::int] FROM page",
    0};
static db_stmt S_UPDATE = {
    "webhook_update",
    "WITH w AS (UPDATE webhook_endpoint w SET url = m->>'url',"
    "  event_types = ARRAY(SELECT jsonb_array_elements_text(m->'event_types')),"
    "  platforms = ARRAY(SELECT jsonb_array_elements_text(m->'platforms')),"
    "  status = m->>'status',"
    "  disabled_reason = CASE WHEN m->>'status' = 'active' THEN NULL"
    "                         WHEN w.status = 'active' THEN 'by_owner' ELSE w.disabled_reason END,"
    "  disabled_at = CASE WHEN m->>'status' = 'active' THEN NULL"
    "                     WHEN w.status = 'active' THEN now() ELSE w.disabled_at END"
    "  FROM (SELECT $2::jsonb m) x"
    "  WHERE id = $1::uuid AND row_version = $3::bigint AND " OWNED(
        4) " RETURNING w.*),"
           /* enabled again: what was given up is sent again, from the start of its schedule */
           " again AS (UPDATE webhook_delivery d SET state = 'pending', attempts = 0,"
           "  first_attempt_at = NULL, next_attempt_at = now(), leased_until = NULL"
           "  FROM w WHERE d.endpoint_id = w.id AND w.status = 'active' AND d.state = 'failed')"
           " SELECT lda_webhook_json(w)::text, row_version FROM w",
    0};
static db_stmt S_DELETE = {"webhook_delete",
                           "DELETE FROM webhook_endpoint w WHERE id = $1::uuid AND " OWNED(2), 0};
static db_stmt S_ROTATE = {
    "webhook_rotate",
    "UPDATE webhook_endpoint w SET previous_secret = CASE WHEN $4::bigint > 0 THEN secret END,"
    " previous_secret_expires_at = CASE WHEN $4::bigint > 0"
    "   THEN now() + $4::bigint * interval '1 second' END,"
    " secret = $3 WHERE id = $1::uuid AND " OWNED(
        2) " RETURNING lda_webhook_json(w)::text, row_version",
    0};
static db_stmt S_DELIVERIES = {
    "webhook_deliveries",
    "WITH page AS (SELECT d.* FROM webhook_delivery d"
    "  WHERE d.endpoint_id = $1::uuid AND ($2::text IS NULL OR d.state = $2)"
    "    AND ($3::bigint IS NULL OR (d.position, d.event_id) < ($3::bigint, $4::bigint))"
    "  ORDER BY d.position DESC, d.event_id DESC LIMIT $5::int + 1)"
    " SELECT coalesce(json_agg(lda_webhook_delivery_json(page)"
    "   ORDER BY position DESC, event_id DESC), '[]')::text,"
    "  count(*), (array_agg(position::text ORDER BY position DESC, event_id DESC))[$5::int],"
    "  (array_agg(event_id::text ORDER BY position DESC, event_id DESC))[$5::int] FROM page",
    0};
static db_stmt S_REPLAY = {
    "webhook_replay",
    "UPDATE webhook_delivery d SET state = 'pending', attempts = 0, first_attempt_at = NULL,"
    " next_attempt_at = now(), leased_until = NULL, delivered_at = NULL"
    " FROM webhook_endpoint w WHERE d.id = $3::uuid AND d.endpoint_id = $1::uuid"
    " AND w.id = d.endpoint_id AND " OWNED(2) " RETURNING lda_webhook_delivery_json(d)::text, 0",
    0};

lda_err webhook_create(db_conn *c, const char *id, const char *owner_token, const char *in,
                       const char *sealed_secret, long long horizon, store_doc *out)
{
    char h[24];
    snprintf(h, sizeof h, "%lld", horizon);
    const char *p[] = {id, owner_token, in, sealed_secret, h};
    return store_one(c, &S_CREATE, 5, p, out);
}

lda_err webhook_get(db_conn *c, const char *id, const char *owner, store_doc *out)
{
    const char *p[] = {id, owner};
    return store_one(c, &S_GET, 2, p, out);
}

lda_err webhook_list(db_conn *c, const char *owner, int limit, const char *cursor, char **json)
{
    char *key, *id;
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {owner, key, id, lim};
    lda_err e = store_page(c, &S_LIST, 4, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err webhook_update(db_conn *c, const char *id, const char *owner, const char *merged,
                       long version, store_doc *out)
{
    char v[24];
    snprintf(v, sizeof v, "%ld", version);
    const char *p[] = {id, merged, v, owner};
    lda_err e = store_one(c, &S_UPDATE, 4, p, out);
    return e == LDA_ENOTFOUND ? LDA_EPRECONDITION : e;
}

lda_err webhook_delete(db_conn *c, const char *id, const char *owner)
{
    const char *p[] = {id, owner};
    int rows = 0;
    lda_err e = store_exec(c, &S_DELETE, 2, p, &rows);
    return e ? e : rows ? LDA_OK : LDA_ENOTFOUND;
}

lda_err webhook_rotate(db_conn *c, const char *id, const char *owner, const char *sealed_secret,
                       long overlap_s, store_doc *out)
{
    char o[24];
    snprintf(o, sizeof o, "%ld", overlap_s);
    const char *p[] = {id, owner, sealed_secret, o};
    return store_one(c, &S_ROTATE, 4, p, out);
}

lda_err webhook_deliveries(db_conn *c, const char *id, const char *owner, const char *state,
                           int limit, const char *cursor, char **json)
{
    store_doc d = {0};
    lda_err e = webhook_get(c, id, owner, &d); /* 404 unless the caller's own */
    store_doc_free(&d);
    if (e) return e;
    char *key, *ev;
    if (page_cursor(cursor, &key, &ev)) return LDA_EINVALID;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {id, state, key, ev, lim};
    e = store_page(c, &S_DELIVERIES, 5, p, limit, json);
    free(key);
    free(ev);
    return e;
}

lda_err webhook_replay(db_conn *c, const char *id, const char *owner, const char *delivery,
                       store_doc *out)
{
    const char *p[] = {id, owner, delivery};
    return store_one(c, &S_REPLAY, 3, p, out);
}

/* ---- the delivery worker ----------------------------------------------------------- */

/* Runs a statement on the worker's connection: the result when it succeeded, else NULL
 * (its SQLSTATE logged, never its message). */
static PGresult *run(PGconn *pg, const char *what, const char *sql, int n,
                     const char *const *params)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return r;
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    log_json(LOG_WARN, "webhook statement failed",
             json_pack("{s:s, s:s}", "statement", what, "sqlstate", code ? code : ""));
    PQclear(r);
    return NULL;
}

lda_err webhook_enqueue(PGconn *pg, long long horizon, long *created)
{
    char h[24];
    snprintf(h, sizeof h, "%lld", horizon);
    const char *p[] = {h};
    PGresult *r = run(pg, "enqueue", "SELECT lda_webhook_enqueue($1::bigint, 1000)", 1, p);
    if (!r) return LDA_EUNAVAILABLE;
    *created = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return LDA_OK;
}

lda_err webhook_claim(PGconn *pg, int max, long lease_s, webhook_job **jobs, int *n)
{
    *jobs = NULL;
    *n = 0;
    char m[16], l[24];
    snprintf(m, sizeof m, "%d", max);
    snprintf(l, sizeof l, "%ld", lease_s);
    const char *p[] = {m, l};
    PGresult *r = run(
        pg, "claim",
        "WITH due AS (SELECT d.id FROM webhook_delivery d"
        "  JOIN webhook_endpoint w ON w.id = d.endpoint_id AND w.status = 'active'"
        "  WHERE d.state = 'pending' AND d.next_attempt_at <= now()"
        "    AND (d.leased_until IS NULL OR d.leased_until < now())"
        "    AND NOT EXISTS (SELECT 1 FROM webhook_delivery e"
        "      WHERE e.endpoint_id = d.endpoint_id AND e.state = 'pending'"
        "        AND e.resource_id IS NOT DISTINCT FROM d.resource_id"
        "        AND (e.position, e.event_id) < (d.position, d.event_id))"
        "  ORDER BY d.next_attempt_at, d.position, d.event_id"
        "  LIMIT $1::int FOR UPDATE OF d SKIP LOCKED)"
        " UPDATE webhook_delivery d SET leased_until = now() + $2::bigint * interval '1 second',"
        "  attempts = d.attempts + 1, last_attempt_at = now(),"
        "  first_attempt_at = coalesce(d.first_attempt_at, now())"
        " FROM due, webhook_endpoint w WHERE d.id = due.id AND w.id = d.endpoint_id"
        " RETURNING d.id::text, w.url, d.body, w.secret,"
        "  CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END,"
        "  w.id::text, d.attempts",
        2, p);
    if (!r) return LDA_EUNAVAILABLE;
    int rows = PQntuples(r);
    if (rows) *jobs = xcalloc((size_t)rows, sizeof **jobs);
    for (int i = 0; i < rows; i++) {
        webhook_job *j = &(*jobs)[i];
        snprintf(j->id, sizeof j->id, "%s", PQgetvalue(r, i, 0));
        j->url = xstrdup(PQgetvalue(r, i, 1));
        j->body = xstrdup(PQgetvalue(r, i, 2));
        j->secret = xstrdup(PQgetvalue(r, i, 3));
        j->previous_secret = PQgetisnull(r, i, 4) ? NULL : xstrdup(PQgetvalue(r, i, 4));
        snprintf(j->endpoint, sizeof j->endpoint, "%s", PQgetvalue(r, i, 5));
        j->attempts = atoi(PQgetvalue(r, i, 6));
    }
    *n = rows;
    PQclear(r);
    return LDA_OK;
}

void webhook_jobs_free(webhook_job *jobs, int n)
{
    for (int i = 0; i < n; i++) {
        free(jobs[i].url);
        free(jobs[i].body);
        free(jobs[i].secret);
        free(jobs[i].previous_secret);
    }
    free(jobs);
}

lda_err webhook_record(PGconn *pg, const char *delivery, bool ok, int status, const char *error,
                       long duration_ms, long retry_in_ms, long give_up_s, bool gone)
{
    char st[16], dur[24], retry[32], give[32];
    snprintf(st, sizeof st, "%d", status);
    snprintf(dur, sizeof dur, "%ld", duration_ms);
    snprintf(retry, sizeof retry, "%ld", retry_in_ms);
    snprintf(give, sizeof give, "%ld", give_up_s);
    const char *p[] = {delivery, ok ? "true" : "false",  status ? st : NULL, error, dur, retry,
                       give,     gone ? "true" : "false"};
    PGresult *r = run(pg, "record",
                      "SELECT lda_webhook_record($1::uuid, $2::bool, $3::int, $4, $5::int,"
                      " now() + $6::bigint * interval '1 millisecond',"
                      " $7::bigint * interval '1 second', $8::bool)",
                      8, p);
    if (!r) return LDA_EUNAVAILABLE;
    PQclear(r);
    return LDA_OK;
}

void webhook_release_leases(PGconn *pg, const char *const *ids, int n)
{
    for (int i = 0; i < n; i++) {
        const char *p[] = {ids[i]};
        PGresult *r = run(pg, "release",
                          "UPDATE webhook_delivery SET leased_until = NULL,"
                          " attempts = greatest(attempts - 1, 0) WHERE id = $1::uuid"
                          " AND state = 'pending'",
                          1, p);
        PQclear(r);
    }
}

void webhook_purge(PGconn *pg, long days)
{
    char d[24];
    snprintf(d, sizeof d, "%ld", days);
    const char *p[] = {d};
    PGresult *r = run(pg, "purge",
                      "DELETE FROM webhook_delivery WHERE id IN (SELECT id FROM webhook_delivery"
                      " WHERE state <> 'pending' AND created_at < now() - $1::bigint"
                      " * interval '1 day' LIMIT 10000)",
                      1, p);
    PQclear(r);
}
