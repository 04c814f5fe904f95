/* Batch upserts of prevention cases, actions, follow-ups, housing offers and placements
 * (see store/batch_axes_store.h). */
#include "store/batch_axes_store.h"
#include "core/mem.h"
#include "store/doc.h"

#include <stdlib.h>
#include <string.h>

/* ---- lookups ------------------------------------------------------------------------ */

static db_stmt S_CASE_LOOKUP = {
    "batch_case_lookup",
    "WITH s AS (SELECT i.idx, c.stage, c.stage_dates->>c.stage AS stage_on"
    "  FROM jsonb_to_recordset($2::jsonb) AS i(idx int, external_id text)"
    "  JOIN prevention_case c ON c.source = $1 AND c.external_id = i.external_id FOR UPDATE OF c)"
    " SELECT coalesce(json_agg(json_build_object('idx', idx, 'stage', stage,"
    "  'stage_on', stage_on)), '[]')::text FROM s",
    0};

/* the case of a record: by id, or by the external_id its source gave it */
#define CASE_OF_RECORD                                                                             \
    " i AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(idx int, external_id text,"           \
    "  \"case\" uuid, case_external_id text)),"                                                    \
    " r AS (SELECT i.idx, i.external_id, coalesce(c1.id, c2.id) AS case_id FROM i"                 \
    "  LEFT JOIN prevention_case c1 ON c1.id = i.\"case\""                                         \
    "  LEFT JOIN prevention_case c2 ON c2.source = $1 AND c2.external_id = i.case_external_id),"   \
    " l AS (SELECT c.id, c.platform, c.stage_dates FROM prevention_case c"                         \
    "  WHERE c.id IN (SELECT case_id FROM r) FOR UPDATE OF c)"

static db_stmt S_ACTION_LOOKUP = {
    "batch_action_lookup",
    "WITH" CASE_OF_RECORD
    " SELECT coalesce(json_agg(json_build_object('idx', r.idx, 'case_id', l.id,"
    "  'platform', l.platform, 'action_case', a.case_id, 'stored_on', a.done_on,"
    "  'others_first', (SELECT min(x.done_on) FROM prevention_action x WHERE x.case_id = l.id"
    "   AND (a.id IS NULL OR x.id <> a.id)),"
    "  'follow_ups', (SELECT count(*) FROM prevention_follow_up f WHERE f.case_id = l.id))),"
    "  '[]')::text"
    " FROM r LEFT JOIN l ON l.id = r.case_id"
    " LEFT JOIN prevention_action a ON a.source = $1 AND a.external_id = r.external_id",
    0};
static db_stmt S_FOLLOW_UP_LOOKUP = {
    "batch_follow_up_lookup",
    "WITH" CASE_OF_RECORD
    " SELECT coalesce(json_agg(json_build_object('idx', r.idx, 'case_id', l.id,"
    "  'first_action_on', (SELECT min(a.done_on) FROM prevention_action a WHERE a.case_id = l.id),"
    "  'evicted_on', l.stage_dates->>'eviction_carried_out',"
    "  'follow_ups', coalesce((SELECT json_agg(json_build_object('at_months', f.at_months,"
    "   'situation', f.situation)) FROM prevention_follow_up f WHERE f.case_id = l.id),"
    "   '[]'::json))), '[]')::text"
    " FROM r LEFT JOIN l ON l.id = r.case_id",
    0};
static db_stmt S_OFFER_LOOKUP = {
    "batch_offer_lookup",
    "WITH s AS (SELECT i.idx, o.id FROM jsonb_to_recordset($2::jsonb) AS i(idx int,"
    "  external_id text) JOIN housing_offer o ON o.source = $1 AND o.external_id = i.external_id"
    "  FOR UPDATE OF o)"
    " SELECT coalesce(json_agg(json_build_object('idx', s.idx, 'stays',"
    "  coalesce((SELECT json_agg(json_build_object('entered_on', p.entered_on,"
    "   'left_on', p.left_on)) FROM placement p WHERE p.offer_id = s.id), '[]'::json))),"
    "  '[]')::text FROM s",
    0};

#define STAYS(col, id)                                                                             \
    "coalesce((SELECT json_agg(json_build_object('id', s.id, 'entered_on', s.entered_on,"          \
    " 'left_on', s.left_on)) FROM placement s WHERE s." col " = " id                               \
    " AND (p.id IS NULL OR s.id <> p.id)), '[]'::json)"

static db_stmt S_PLACEMENT_LOOKUP = {
    "batch_placement_lookup",
    "WITH i AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(idx int, external_id text,"
    "  referral uuid, referral_external_id text, offer uuid, offer_external_id text)),"
    " r AS (SELECT i.idx, i.external_id, coalesce(r1.id, r2.id) AS referral_id,"
    "  coalesce(o1.id, o2.id) AS offer_id FROM i"
    "  LEFT JOIN referral r1 ON r1.id = i.referral"
    "  LEFT JOIN referral r2 ON r2.source = $1 AND r2.external_id = i.referral_external_id"
    "  LEFT JOIN housing_offer o1 ON o1.id = i.offer"
    "  LEFT JOIN housing_offer o2 ON o2.source = $1 AND o2.external_id = i.offer_external_id),"
    " lr AS (SELECT x.id, x.platform, x.received_on, EXISTS (SELECT 1 FROM measure m"
    "   WHERE m.referral_id = x.id AND m.housing_outcome IN ('accessed', 'maintained')) AS housed"
    "  FROM referral x WHERE x.id IN (SELECT referral_id FROM r) FOR UPDATE OF x),"
    " lo AS (SELECT x.id, x.platform, x.capacity, x.available_from, x.available_to"
    "  FROM housing_offer x WHERE x.id IN (SELECT offer_id FROM r) FOR UPDATE OF x)"
    " SELECT coalesce(json_agg(json_build_object('idx', r.idx, 'referral_id', lr.id,"
    "  'offer_id', lo.id, 'placement_id', p.id, 'placement_referral', p.referral_id,"
    "  'placement_offer', p.offer_id,"
    "  'referral', CASE WHEN lr.id IS NOT NULL THEN json_build_object('platform', lr.platform,"
    "   'received_on', lr.received_on, 'housed', lr.housed) END,"
    "  'offer', CASE WHEN lo.id IS NOT NULL THEN json_build_object('platform', lo.platform,"
    "   'capacity', lo.capacity, 'available_from', lo.available_from,"
    "   'available_to', lo.available_to) END,"
    "  'offer_stays', " STAYS("offer_id",
                              "lo.id") ","
                                       "  'referral_stays', " STAYS(
                                           "referral_id",
                                           "lr.id") ")), '[]')::text"
                                                    " FROM r LEFT JOIN lr ON lr.id = r.referral_id "
                                                    "LEFT JOIN lo ON lo.id = r.offer_id"
                                                    " LEFT JOIN placement p ON p.source = $1 AND "
                                                    "p.external_id = r.external_id",
    0};
/* Runs a lookup over the records (sent whole: jsonb_to_recordset reads the members it
 * names), with the rows it locks held (store_exec_locked), and parses its JSON answer. */
static lda_err lookup(db_conn *c, db_stmt *s, const char *source, const json_t *records,
                      json_t **out)
{
    char *text = json_dumps(records, JSON_COMPACT);
    if (!text) lda_oom();
    const char *p[] = {source, text};
    lda_err e;
    *out = NULL;
    PGresult *r = store_exec_locked(c, s, 2, p, &e);
    free(text);
    if (!r) return e;
    *out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    return *out ? LDA_OK : LDA_EINTERNAL;
}

lda_err prevention_case_lookup(db_conn *c, const char *source, const json_t *records, json_t **out)
{
    return lookup(c, &S_CASE_LOOKUP, source, records, out);
}

lda_err prevention_action_lookup(db_conn *c, const char *source, const json_t *records,
                                 json_t **out)
{
    return lookup(c, &S_ACTION_LOOKUP, source, records, out);
}

lda_err prevention_follow_up_lookup(db_conn *c, const char *source, const json_t *records,
                                    json_t **out)
{
    return lookup(c, &S_FOLLOW_UP_LOOKUP, source, records, out);
}

lda_err housing_offer_lookup(db_conn *c, const char *source, const json_t *records, json_t **out)
{
    return lookup(c, &S_OFFER_LOOKUP, source, records, out);
}

lda_err placement_lookup(db_conn *c, const char *source, const json_t *records, json_t **out)
{
    return lookup(c, &S_PLACEMENT_LOOKUP, source, records, out);
}

lda_err prevention_rules_share(db_conn *c)
{
    return db_command(c, "LOCK TABLE prevention_rule IN SHARE MODE");
}

/* ---- upserts ------------------------------------------------------------------------ */

/* The upserts interleave SQL text with the REJECTIONS and REPORT fragments: kept as written. */
/* clang-format off */
/* The rejections of an upsert: those of the domain (input.reject) and those found here,
 * {idx, field} or {idx, errors}, one per record. */
#define REJECTIONS(found)                                                                          \
    " bad AS (SELECT DISTINCT ON (idx) idx, field, errors FROM ("                                  \
    "  SELECT idx, NULL::text AS field, reject AS errors FROM input WHERE reject IS NOT NULL"      \
    "  UNION ALL " found ") b ORDER BY idx, errors NULLS LAST, field),"
#define REPORT                                                                                     \
    " SELECT (SELECT count(*) FILTER (WHERE inserted) FROM up),"                                   \
    "  (SELECT count(*) FILTER (WHERE NOT inserted) FROM up),"                                     \
    "  (SELECT coalesce(json_agg(json_build_object('idx', idx, 'field', field,"                    \
    "   'errors', errors)), '[]') FROM bad)::text"

static const char
    CASE_UPSERT
        [] = "WITH input AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(idx int, external_id "
             "text,"
             "  household uuid, household_external_id text, platform text, landlord_kind text,"
             "  debt_eur int, debt_on date, stage text, stage_on date, pex_status text, pex_rule "
             "uuid,"
             "  reject jsonb)),"
             " resolved AS (SELECT i.*, coalesce(h1.id, h2.id) AS household_id FROM input i"
             "  LEFT JOIN household h1 ON h1.id = i.household AND h1.platform = i.platform"
             "  LEFT JOIN household h2 ON h2.source = $1 AND h2.external_ref = "
             "i.household_external_id"
             "   AND h2.platform = i.platform),"
             " prior AS (SELECT c.external_id, c.stage FROM prevention_case c WHERE c.source = $1"
             "  AND c.external_id IN (SELECT external_id FROM input))," REJECTIONS(
                 "SELECT idx, 'platform', NULL FROM input i JOIN lda_stored_platforms_axes("
                 "'prevention_case', $1, ARRAY(SELECT external_id FROM input)) t"
                 " ON t.external_id = i.external_id WHERE t.platform <> i.platform"
                 " UNION ALL SELECT idx, 'household', NULL FROM resolved WHERE household_id IS "
                 "NULL") " up AS (INSERT INTO prevention_case AS t (source, external_id, "
                         "household_id, platform,"
                         "  landlord_kind, debt_eur, debt_on, stage, stage_dates, pex_status, "
                         "pex_rule_id, created_by)"
                         "  SELECT $1, external_id, household_id, platform, landlord_kind, "
                         "debt_eur, debt_on, stage,"
                         "  jsonb_build_object(stage, stage_on), pex_status, pex_rule, $2::uuid "
                         "FROM resolved"
                         "  WHERE idx NOT IN (SELECT idx FROM bad)"
                         "  ON CONFLICT (source, external_id) WHERE source IS NOT NULL AND "
                         "external_id IS NOT NULL"
                         "  DO UPDATE SET household_id = EXCLUDED.household_id, landlord_kind = "
                         "EXCLUDED.landlord_kind,"
                         "  debt_eur = EXCLUDED.debt_eur, debt_on = EXCLUDED.debt_on, stage = "
                         "EXCLUDED.stage,"
                         "  stage_dates = t.stage_dates || EXCLUDED.stage_dates, pex_status = "
                         "EXCLUDED.pex_status,"
                         "  pex_rule_id = EXCLUDED.pex_rule_id"
                         "  WHERE (t.household_id, t.landlord_kind, t.debt_eur, t.debt_on, "
                         "t.stage, t.pex_status,"
                         "   t.pex_rule_id) IS DISTINCT FROM (EXCLUDED.household_id, "
                         "EXCLUDED.landlord_kind,"
                         "   EXCLUDED.debt_eur, EXCLUDED.debt_on, EXCLUDED.stage, "
                         "EXCLUDED.pex_status,"
                         "   EXCLUDED.pex_rule_id)"
                         "  RETURNING (xmax = 0) AS inserted, id, external_id, stage, "
                         "stage_dates->>stage AS stage_on),"
                         " ev AS (INSERT INTO prevention_stage_event (case_id, on_date, "
                         "from_stage, to_stage,"
                         "  token_id, role) SELECT up.id, up.stage_on::date, prior.stage, "
                         "up.stage, $2::uuid, $4"
                         "  FROM up LEFT JOIN prior ON prior.external_id = up.external_id"
                         "  WHERE prior.stage IS DISTINCT FROM up.stage)" REPORT;

static const char ACTION_UPSERT[] =
    "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(idx int, external_id text,"
    "  case_id uuid, kind text, done_on date, partner uuid, outcome_notes text, reject "
    "jsonb))," REJECTIONS(
        "SELECT i.idx, 'platform', NULL FROM input i JOIN lda_stored_platforms_axes("
        "'prevention_action', $1, ARRAY(SELECT external_id FROM input)) s"
        " ON s.external_id = i.external_id"
        " WHERE $3::text[] IS NOT NULL AND NOT s.platform = ANY($3::text[])"
        " UNION ALL SELECT i.idx, 'partner', NULL FROM input i WHERE i.partner IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM partner p JOIN prevention_case c"
        " ON c.id = i.case_id WHERE p.id = i.partner"
        " AND (p.platform IS NULL OR p.platform = c.platform))") " up AS (INSERT INTO "
                                                                 "prevention_action AS t (source, "
                                                                 "external_id, case_id, kind, "
                                                                 "done_on,"
                                                                 "  partner_id, outcome_notes)"
                                                                 "  SELECT $1, external_id, "
                                                                 "case_id, kind, done_on, partner, "
                                                                 "outcome_notes FROM input"
                                                                 "  WHERE idx NOT IN (SELECT idx "
                                                                 "FROM bad)"
                                                                 "  ON CONFLICT (source, "
                                                                 "external_id) WHERE source IS NOT "
                                                                 "NULL AND external_id IS NOT NULL"
                                                                 "  DO UPDATE SET kind = "
                                                                 "EXCLUDED.kind, done_on = "
                                                                 "EXCLUDED.done_on,"
                                                                 "  partner_id = "
                                                                 "EXCLUDED.partner_id, "
                                                                 "outcome_notes = "
                                                                 "EXCLUDED.outcome_notes"
                                                                 "  WHERE (t.kind, t.done_on, "
                                                                 "t.partner_id, t.outcome_notes) "
                                                                 "IS DISTINCT FROM"
                                                                 "   (EXCLUDED.kind, "
                                                                 "EXCLUDED.done_on, "
                                                                 "EXCLUDED.partner_id, "
                                                                 "EXCLUDED.outcome_notes)"
                                                                 "  RETURNING (xmax = 0) AS "
                                                                 "inserted)" REPORT;

static const char
    FOLLOW_UP_UPSERT[] = "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(idx int, "
                         "case_id uuid,"
                         "  at_months smallint, due_on date, situation text, reject "
                         "jsonb))," REJECTIONS(
                             "SELECT idx, 'case', NULL FROM input WHERE reject IS NULL AND case_id "
                             "IS NULL") " up AS (INSERT INTO prevention_follow_up AS f (case_id, "
                                        "at_months, due_on, situation, source)"
                                        "  SELECT case_id, at_months, due_on, situation, $1 FROM "
                                        "input"
                                        "  WHERE idx NOT IN (SELECT idx FROM bad)"
                                        "  ON CONFLICT (case_id, at_months) DO UPDATE SET due_on = "
                                        "EXCLUDED.due_on,"
                                        "  situation = EXCLUDED.situation, source = EXCLUDED.source"
                                        "  WHERE (f.due_on, f.situation) IS DISTINCT FROM "
                                        "(EXCLUDED.due_on, EXCLUDED.situation)"
                                        "  RETURNING (xmax = 0) AS inserted)" REPORT;

static const char OFFER_UPSERT[] = "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS "
                                   "x(idx int, external_id text,"
                                   "  platform text, kind text, landlord_kind text, typology text, "
                                   "capacity smallint,"
                                   "  available_from date, available_to date, label text, reject "
                                   "jsonb))," REJECTIONS(
                                       "SELECT i.idx, 'platform', NULL FROM input i JOIN "
                                       "lda_stored_platforms_axes("
                                       "'housing_offer', $1, ARRAY(SELECT external_id FROM input)) "
                                       "s"
                                       " ON s.external_id = i.external_id WHERE s.platform <> "
                                       "i.platform") " up AS (INSERT INTO housing_offer AS t "
                                                     "(source, external_id, platform, kind, "
                                                     "landlord_kind,"
                                                     "  typology, capacity, available_from, "
                                                     "available_to, label, created_by)"
                                                     "  SELECT $1, external_id, platform, kind, "
                                                     "landlord_kind, typology, capacity, "
                                                     "available_from,"
                                                     "  available_to, label, $3::uuid FROM input "
                                                     "WHERE idx NOT IN (SELECT idx FROM bad)"
                                                     "  ON CONFLICT (source, external_id) WHERE "
                                                     "source IS NOT NULL AND external_id IS NOT "
                                                     "NULL"
                                                     "  DO UPDATE SET kind = EXCLUDED.kind, "
                                                     "landlord_kind = EXCLUDED.landlord_kind,"
                                                     "  typology = EXCLUDED.typology, capacity = "
                                                     "EXCLUDED.capacity,"
                                                     "  available_from = EXCLUDED.available_from, "
                                                     "available_to = EXCLUDED.available_to,"
                                                     "  label = EXCLUDED.label"
                                                     "  WHERE (t.kind, t.landlord_kind, "
                                                     "t.typology, t.capacity, t.available_from, "
                                                     "t.available_to,"
                                                     "   t.label) IS DISTINCT FROM (EXCLUDED.kind, "
                                                     "EXCLUDED.landlord_kind, EXCLUDED.typology,"
                                                     "   EXCLUDED.capacity, "
                                                     "EXCLUDED.available_from, "
                                                     "EXCLUDED.available_to, EXCLUDED.label)"
                                                     "  RETURNING (xmax = 0) AS inserted)" REPORT;

static const char PLACEMENT_UPSERT[] = "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) "
                                       "AS x(idx int, external_id text,"
                                       "  referral_id uuid, offer_id uuid, platform text, "
                                       "entered_on date, left_on date,"
                                       "  exit_reason text, reject jsonb))," REJECTIONS(
                                           "SELECT i.idx, 'platform', NULL FROM input i JOIN "
                                           "lda_stored_platforms_axes("
                                           "'placement', $1, ARRAY(SELECT external_id FROM input)) "
                                           "s"
                                           " ON s.external_id = i.external_id"
                                           " WHERE $3::text[] IS NOT NULL AND NOT s.platform = "
                                           "ANY($3::text[])") " up AS (INSERT INTO placement AS t "
                                                              "(source, external_id, referral_id, "
                                                              "offer_id, platform,"
                                                              "  entered_on, left_on, exit_reason, "
                                                              "created_by)"
                                                              "  SELECT $1, external_id, "
                                                              "referral_id, offer_id, platform, "
                                                              "entered_on, left_on, exit_reason,"
                                                              "  $4::uuid FROM input WHERE idx NOT "
                                                              "IN (SELECT idx FROM bad)"
                                                              "  ON CONFLICT (source, external_id) "
                                                              "WHERE source IS NOT NULL AND "
                                                              "external_id IS NOT NULL"
                                                              "  DO UPDATE SET entered_on = "
                                                              "EXCLUDED.entered_on, left_on = "
                                                              "EXCLUDED.left_on,"
                                                              "  exit_reason = EXCLUDED.exit_reason"
                                                              "  WHERE (t.entered_on, t.left_on, "
                                                              "t.exit_reason) IS DISTINCT FROM"
                                                              "   (EXCLUDED.entered_on, "
                                                              "EXCLUDED.left_on, "
                                                              "EXCLUDED.exit_reason)"
                                                              "  RETURNING (xmax = 0) AS "
                                                              "inserted)" REPORT;

/* clang-format on */

/* The errors of a rejection the upsert reports: the domain's, or those of a field code. */
static json_t *axes_why(const json_t *pb)
{
    const json_t *errors = json_object_get(pb, "errors");
    if (json_is_array(errors) && json_array_size(errors)) return JCHECK(json_deep_copy(errors));
    const char *field = json_string_value(json_object_get(pb, "field"));
    static const struct {
        const char *field, *pointer, *message;
    } WHY[] = {
        {"platform", "/platform",
         "this external_id is stored on a platform outside this token's scope, or another "
         "platform: a record stays on the platform it was created on"},
        {"household", "/household", "no such household of this source on this platform"},
        {"partner", "/partner", "no such partner on the case's platform"},
        {"case", "/case", "no such prevention case in this token's scope"},
    };
    for (size_t i = 0; i < sizeof WHY / sizeof WHY[0]; i++)
        if (field && !strcmp(field, WHY[i].field))
            return JCHECK(
                json_pack("[{s:s, s:s}]", "field", WHY[i].pointer, "message", WHY[i].message));
    return JCHECK(json_pack("[{s:s, s:s}]", "field", "", "message", "refused"));
}

/* Sends `sql` with the records as a jsonb array in parameter `at` (from 0) of `params`. */
static lda_err axes_send(db_conn *c, const char *sql, const char **params, int n, int at,
                         const json_t *records, const char *name, batch_pending *p)
{
    char *text = json_dumps(records, JSON_COMPACT);
    if (!text) lda_oom();
    params[at] = text;
    lda_err e = batch_send(c, sql, n, params, records, axes_why, name, p);
    free(text);
    return e;
}

lda_err prevention_case_upsert_send(db_conn *c, const char *source, const char *token_id,
                                    const char *role, const json_t *records, batch_pending *p)
{
    const char *params[] = {source, token_id, NULL, role};
    return axes_send(c, CASE_UPSERT, params, 4, 2, records, "prevention_case_upsert", p);
}

lda_err prevention_action_upsert_send(db_conn *c, const char *source, const char *scope,
                                      const json_t *records, batch_pending *p)
{
    const char *params[] = {source, NULL, scope};
    return axes_send(c, ACTION_UPSERT, params, 3, 1, records, "prevention_action_upsert", p);
}

lda_err prevention_follow_up_upsert_send(db_conn *c, const char *source, const json_t *records,
                                         batch_pending *p)
{
    const char *params[] = {source, NULL};
    return axes_send(c, FOLLOW_UP_UPSERT, params, 2, 1, records, "prevention_follow_up_upsert", p);
}

lda_err housing_offer_upsert_send(db_conn *c, const char *source, const char *scope,
                                  const char *token_id, const json_t *records, batch_pending *p)
{
    (void)scope; /* a record's platform is in scope: a stored row elsewhere differs from it */
    const char *params[] = {source, NULL, token_id};
    return axes_send(c, OFFER_UPSERT, params, 3, 1, records, "housing_offer_upsert", p);
}

lda_err placement_upsert_send(db_conn *c, const char *source, const char *scope,
                              const char *token_id, const json_t *records, batch_pending *p)
{
    const char *params[] = {source, NULL, scope, token_id};
    return axes_send(c, PLACEMENT_UPSERT, params, 4, 1, records, "placement_upsert", p);
}
