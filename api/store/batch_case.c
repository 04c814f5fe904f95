/* Batch upserts of households and referrals pushed by SIAO systems (see store/batch_store.h). */
#include "store/batch_store.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* Clashes: a person who already has an active household on the platform under another
 * identifier, or twice in this batch. They are reported, not written. */
static const char HOUSEHOLD_UPSERT[] =
    "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(idx int, external_id text,"
    "  platform text, composition text, adults smallint, children smallint, head jsonb,"
    "  resources text[], housing_situation text, vulnerabilities text[], person_key text)),"
    " foreign_rows AS (SELECT i.idx FROM input i JOIN lda_stored_platforms('household', $1,"
    "  ARRAY(SELECT external_id FROM input)) h ON h.external_id = i.external_id"
    "  WHERE $4::text[] IS NOT NULL AND NOT h.platform = ANY($4::text[])),"
    " clash AS (SELECT i.idx, h.id::text AS existing, 'head' AS field FROM input i JOIN household h"
    "   ON h.platform = i.platform AND h.person_key = i.person_key AND h.erased_at IS NULL"
    "   AND (h.source IS DISTINCT FROM $1 OR h.external_ref IS DISTINCT FROM i.external_id)"
    "  UNION ALL SELECT i.idx, NULL, 'head' FROM input i WHERE EXISTS (SELECT 1 FROM input j"
    "   WHERE j.platform = i.platform AND j.person_key = i.person_key AND j.idx < i.idx)"
    "  UNION ALL SELECT idx, NULL, 'platform' FROM foreign_rows"
    /* a household with referrals stays on their platform (a referral never moves) */
    "  UNION ALL SELECT i.idx, NULL, 'referrals' FROM input i JOIN household h"
    "   ON h.source = $1 AND h.external_ref = i.external_id AND h.platform <> i.platform"
    "   WHERE EXISTS (SELECT 1 FROM referral r WHERE r.household_id = h.id"
    "    AND r.platform <> i.platform)),"
    " up AS (INSERT INTO household AS h (source, external_ref, platform, composition, adults,"
    "  children, head_last_name, head_first_name, head_birth_date, head_sex, resources,"
    "  housing_situation, vulnerabilities, person_key, created_by)"
    "  SELECT $1, external_id, platform, composition, adults, children, head->>'last_name',"
    "  head->>'first_name', (head->>'birth_date')::date, head->>'sex', coalesce(resources, '{}'),"
    "  housing_situation, coalesce(vulnerabilities, '{}'), person_key, $3::uuid FROM input"
    "  WHERE idx NOT IN (SELECT idx FROM clash)"
    "  ON CONFLICT (source, external_ref) WHERE source IS NOT NULL AND external_ref IS NOT NULL"
    "  DO UPDATE SET platform = EXCLUDED.platform, composition = EXCLUDED.composition,"
    "  adults = EXCLUDED.adults, children = EXCLUDED.children,"
    "  head_last_name = EXCLUDED.head_last_name, head_first_name = EXCLUDED.head_first_name,"
    "  head_birth_date = EXCLUDED.head_birth_date, head_sex = EXCLUDED.head_sex,"
    "  resources = EXCLUDED.resources, housing_situation = EXCLUDED.housing_situation,"
    "  vulnerabilities = EXCLUDED.vulnerabilities, person_key = EXCLUDED.person_key"
    "  WHERE (h.platform, h.composition, h.adults, h.children, h.head_last_name,"
    "   h.head_first_name, h.head_birth_date, h.head_sex, h.resources, h.housing_situation,"
    "   h.vulnerabilities) IS DISTINCT FROM (EXCLUDED.platform, EXCLUDED.composition,"
    "   EXCLUDED.adults, EXCLUDED.children, EXCLUDED.head_last_name, EXCLUDED.head_first_name,"
    "   EXCLUDED.head_birth_date, EXCLUDED.head_sex, EXCLUDED.resources,"
    "   EXCLUDED.housing_situation, EXCLUDED.vulnerabilities)"
    "  RETURNING (xmax = 0) AS inserted, id)"
    " SELECT (SELECT count(*) FILTER (WHERE inserted) FROM up),"
    "  (SELECT count(*) FILTER (WHERE NOT inserted) FROM up),"
    "  (SELECT coalesce(json_agg(json_build_object('idx', idx, 'existing', existing, 'field', "
    "field)), '[]')"
    "   FROM (SELECT DISTINCT ON (idx) * FROM clash ORDER BY idx, field) c)::text,"
    "  (SELECT coalesce(json_agg(id), '[]') FROM up)::text";

static const char REFERRAL_UPSERT[] =
    "WITH input AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(idx int, external_id text,"
    "  household uuid, household_external_id text, platform text, partner uuid,"
    "  referrer_kind text, referrer_name text, received_on date, has_social_note boolean,"
    "  reasons text[], decision_note text, concertation jsonb)),"
    " resolved AS (SELECT i.*, coalesce(h1.id, h2.id) AS household_id FROM input i"
    "  LEFT JOIN household h1 ON h1.id = i.household AND h1.platform = i.platform"
    "   AND h1.source = $1"
    "  LEFT JOIN household h2 ON h2.source = $1 AND h2.external_ref = i.household_external_id"
    "   AND h2.platform = i.platform),"
    " bad AS (SELECT DISTINCT ON (idx) idx, field FROM ("
    "  SELECT idx, 'platform' AS field FROM input i JOIN lda_stored_platforms('referral', $1,"
    "   ARRAY(SELECT external_id FROM input)) t ON t.external_id = i.external_id"
    "   WHERE t.platform <> i.platform"
    "  UNION ALL SELECT idx, CASE WHEN household_id IS NULL THEN 'household' ELSE 'partner' END"
    "  FROM resolved r WHERE household_id IS NULL OR (partner IS NOT NULL AND NOT EXISTS"
    "   (SELECT 1 FROM partner p WHERE p.id = r.partner AND (p.platform IS NULL OR p.platform = "
    "r.platform)))"
    "  ) b ORDER BY idx, field DESC),"
    " up AS (INSERT INTO referral AS t (source, external_id, household_id, platform, partner_id,"
    "  referrer_kind, referrer_name, received_on, has_social_note, reasons, status,"
    "  status_dates, concertation_held_on, concertation_household_present, decision_note,"
    "  created_by)"
    "  SELECT $1, external_id, household_id, platform, partner, referrer_kind, referrer_name,"
    "  received_on, coalesce(has_social_note, false), coalesce(reasons, '{}'), 'received',"
    "  jsonb_build_object('received', received_on), (concertation->>'held_on')::date,"
    "  (concertation->>'household_present')::bool, decision_note, $2::uuid"
    "  FROM resolved WHERE idx NOT IN (SELECT idx FROM bad)"
    "  ON CONFLICT (source, external_id) WHERE source IS NOT NULL AND external_id IS NOT NULL"
    "  DO UPDATE SET household_id = EXCLUDED.household_id, partner_id = EXCLUDED.partner_id,"
    "  referrer_kind = EXCLUDED.referrer_kind, referrer_name = EXCLUDED.referrer_name,"
    "  received_on = EXCLUDED.received_on, has_social_note = EXCLUDED.has_social_note,"
    "  reasons = EXCLUDED.reasons,"
    "  status_dates = t.status_dates || jsonb_build_object('received', EXCLUDED.received_on),"
    "  concertation_held_on = EXCLUDED.concertation_held_on,"
    "  concertation_household_present = EXCLUDED.concertation_household_present,"
    "  decision_note = EXCLUDED.decision_note"
    "  WHERE (t.household_id, t.partner_id, t.referrer_kind, t.referrer_name, t.received_on,"
    "   t.has_social_note, t.reasons, t.concertation_held_on, t.concertation_household_present,"
    "   t.decision_note) IS DISTINCT FROM (EXCLUDED.household_id, EXCLUDED.partner_id,"
    "   EXCLUDED.referrer_kind, EXCLUDED.referrer_name, EXCLUDED.received_on,"
    "   EXCLUDED.has_social_note, EXCLUDED.reasons, EXCLUDED.concertation_held_on,"
    "   EXCLUDED.concertation_household_present, EXCLUDED.decision_note)"
    "  RETURNING (xmax = 0) AS inserted, id, received_on),"
    " ev AS (INSERT INTO referral_event (referral_id, on_date, from_status, to_status, token_id, "
    "role)"
    "  SELECT id, received_on, NULL, 'received', $2::uuid, $4 FROM up WHERE inserted)"
    " SELECT (SELECT count(*) FILTER (WHERE inserted) FROM up),"
    "  (SELECT count(*) FILTER (WHERE NOT inserted) FROM up),"
    "  (SELECT coalesce(json_agg(json_build_object('idx', idx, 'field', field)), '[]') FROM "
    "bad)::text,"
    "  (SELECT coalesce(json_agg(id), '[]') FROM up)::text";

/* The external_id of the record whose idx is `idx` (records are in increasing idx order). */
static const char *external_id_of(const json_t *records, json_int_t idx)
{
    size_t lo = 0, hi = json_array_size(records);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const json_t *rec = json_array_get(records, mid);
        json_int_t at = json_integer_value(json_object_get(rec, "idx"));
        if (at == idx) return json_string_value(json_object_get(rec, "external_id"));
        if (at < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

lda_err batch_send(db_conn *c, const char *sql, int np, const char *const *params,
                   const json_t *records, json_t *(*why)(const json_t *), const char *name,
                   batch_pending *p)
{
    *p = (batch_pending){records, why, name};
    size_t bytes = 0;
    for (int i = 0; i < np; i++) bytes += params[i] ? strlen(params[i]) : 0;
    db_note_size(c, bytes);
    if (PQsendQueryParams(db_pgconn(c), sql, np, NULL, params, NULL, NULL, 0)) return LDA_OK;
    p->records = NULL;
    return db_error_from_result(c, NULL);
}

lda_err batch_wait(db_conn *c, batch_pending *p, json_t *rejected, batch_counts *out)
{
    if (!p->records) return LDA_OK;
    /* every result of the statement, to the end, before the connection is looked at (a lost
     * connection is closed by db_error_from_result) */
    PGconn *pg = db_pgconn(c);
    PGresult *r = NULL, *next;
    while ((next = PQgetResult(pg))) {
        if (r)
            PQclear(next);
        else
            r = next;
    }
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        lda_err e = db_error_from_result(c, r);
        if (e == LDA_EDB)
            log_json(LOG_ERROR, "statement failed", json_pack("{s:s}", "statement", p->name));
        PQclear(r);
        p->records = NULL;
        return e;
    }
    long created = atol(PQgetvalue(r, 0, 0)), updated = atol(PQgetvalue(r, 0, 1));
    json_t *problems = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    json_t *ids = PQnfields(r) > 3 ? json_loads(PQgetvalue(r, 0, 3), 0, NULL) : NULL;
    db_note_size(c, PQresultMemorySize(r));
    PQclear(r);
    if (out->touched && ids) json_array_extend(out->touched, ids);
    json_decref(ids);
    size_t i;
    json_t *pb;
    json_array_foreach(problems, i, pb)
    {
        json_int_t idx = json_integer_value(json_object_get(pb, "idx"));
        json_array_append_new(
            rejected, JCHECK(json_pack("{s:I, s:s?, s:o}", "index", idx, "external_id",
                                       external_id_of(p->records, idx), "errors", p->why(pb))));
    }
    out->created += created;
    out->updated += updated;
    out->unchanged +=
        (long)json_array_size(p->records) - created - updated - (long)json_array_size(problems);
    json_decref(problems);
    p->records = NULL;
    return LDA_OK;
}

json_t *batch_foreign_why(const json_t *pb)
{
    (void)pb;
    return JCHECK(json_pack("[{s:s, s:s}]", "field", "/platform", "message",
                            "this external_id is stored on a platform outside this token's scope"));
}

static json_t *household_why(const json_t *pb)
{
    const char *field = json_string_value(json_object_get(pb, "field"));
    if (field && !strcmp(field, "platform")) return batch_foreign_why(pb);
    if (field && !strcmp(field, "referrals"))
        return JCHECK(json_pack("[{s:s, s:s}]", "field", "/platform", "message",
                                "this household has referrals on its platform: it cannot move"));
    const char *existing = json_string_value(json_object_get(pb, "existing"));
    return JCHECK(json_pack("[{s:s, s:s}]", "field", "/head", "message",
                            existing
                                ? "this person already has an active household on this platform"
                                : "this person appears twice in this batch on this platform"));
}

static json_t *referral_why(const json_t *pb)
{
    const char *field = json_string_value(json_object_get(pb, "field"));
    if (field && !strcmp(field, "platform"))
        return JCHECK(json_pack("[{s:s, s:s}]", "field", "/platform", "message",
                                "a referral stays on the platform it was created on"));
    bool household = field && !strcmp(field, "household");
    return JCHECK(json_pack("[{s:s, s:s}]", "field", household ? "/household" : "/partner",
                            "message",
                            household ? "no such household of this source on this platform"
                                      : "no such partner on this platform"));
}

lda_err household_upsert_send(db_conn *c, const char *source, const char *scope,
                              const char *token_id, const json_t *records, batch_pending *p)
{
    char *text = json_dumps(records, JSON_COMPACT);
    if (!text) lda_oom();
    const char *params[] = {source, text, token_id, scope};
    lda_err e =
        batch_send(c, HOUSEHOLD_UPSERT, 4, params, records, household_why, "household_upsert", p);
    free(text);
    return e;
}

lda_err referral_upsert_send(db_conn *c, const char *source, const char *token_id, const char *role,
                             const json_t *records, batch_pending *p)
{
    char *text = json_dumps(records, JSON_COMPACT);
    if (!text) lda_oom();
    const char *params[] = {source, token_id, text, role};
    lda_err e =
        batch_send(c, REFERRAL_UPSERT, 4, params, records, referral_why, "referral_upsert", p);
    free(text);
    return e;
}
