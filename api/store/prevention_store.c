/* Prevention cases, their stage history, actions, follow-ups, and the PEX eligibility rules. */
#include "store/prevention_store.h"
#include "core/mem.h"
#include "store/casefile.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASE_SCOPE(n)                                                                              \
    "EXISTS (SELECT 1 FROM prevention_case c WHERE c.id = x.case_id AND ($" #n                     \
    "::text[] IS NULL OR c.platform = ANY($" #n "::text[])))"

/* ---- transactions ------------------------------------------------------------------- */

lda_err prevention_tx_begin(db_conn *c, bool exclusive)
{
    lda_err e = db_command(c, "BEGIN");
    if (!e)
        e = db_command(c, exclusive ? "LOCK TABLE prevention_rule IN SHARE ROW EXCLUSIVE MODE"
                                    : "LOCK TABLE prevention_rule IN SHARE MODE");
    if (e) store_rollback(c);
    return e;
}

/* ---- rules -------------------------------------------------------------------------- */

static db_stmt S_RULES = {
    "prevention_rules",
    "SELECT (SELECT ami FROM platform WHERE code = $1), coalesce(json_agg(json_build_object("
    "  'id', r.id, 'ami', r.ami, 'valid_from', r.valid_from, 'valid_to', r.valid_to,"
    "  'debt_min_eur', r.debt_min_eur, 'debt_max_eur', r.debt_max_eur)"
    "  ORDER BY r.valid_from, r.id), '[]')::text"
    " FROM prevention_rule r"
    " WHERE $1::text IS NULL OR r.ami = (SELECT ami FROM platform WHERE code = $1)",
    0};
static db_stmt S_RULE_GET = {"prevention_rule_get",
                             "SELECT lda_prevention_rule_json(p)::text, row_version"
                             " FROM prevention_rule p WHERE id = $1::uuid",
                             0};
static db_stmt S_RULE_LIST = {
    "prevention_rule_list",
    "WITH page AS (SELECT * FROM prevention_rule p WHERE ($1::smallint IS NULL OR ami = $1)"
    "    AND ($2::date IS NULL OR (valid_from, id) > ($2::date, $3::uuid))"
    "  ORDER BY valid_from, id LIMIT $4::int + 1)"
    " SELECT coalesce(json_agg(lda_prevention_rule_json(page) ORDER BY valid_from, id),"
    "  '[]')::text, count(*), (array_agg(valid_from::text ORDER BY valid_from, id))[$4::int],"
    "  (array_agg(id::text ORDER BY valid_from, id))[$4::int] FROM page",
    0};
static db_stmt S_RULE_CREATE = {
    "prevention_rule_create",
    "INSERT INTO prevention_rule (ami, valid_from, valid_to, debt_min_eur, debt_max_eur, note)"
    " SELECT (p->>'ami')::smallint, (p->>'valid_from')::date, (p->>'valid_to')::date,"
    " (p->>'debt_min_eur')::int, (p->>'debt_max_eur')::int, p->>'note'"
    " FROM (SELECT $1::jsonb p) x RETURNING lda_prevention_rule_json(prevention_rule)::text,"
    " row_version",
    0};
static db_stmt S_RULE_UPDATE = {
    "prevention_rule_update",
    "UPDATE prevention_rule SET valid_from = (m->>'valid_from')::date,"
    " valid_to = (m->>'valid_to')::date, debt_min_eur = (m->>'debt_min_eur')::int,"
    " debt_max_eur = (m->>'debt_max_eur')::int, note = m->>'note'"
    " FROM (SELECT $2::jsonb m) x WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_prevention_rule_json(prevention_rule)::text, row_version",
    0};
static db_stmt S_CASES_OF_AMI = {
    "prevention_cases_of_ami",
    "SELECT coalesce(json_agg(json_build_object('id', c.id, 'debt_eur', c.debt_eur,"
    "  'debt_on', c.debt_on, 'pex_status', c.pex_status, 'pex_rule', c.pex_rule_id)), '[]')::text"
    " FROM prevention_case c JOIN platform p ON p.code = c.platform WHERE p.ami = $1::smallint",
    0};
static db_stmt S_CASES_SET_PEX = {
    "prevention_cases_set_pex",
    "UPDATE prevention_case c SET pex_status = x.pex_status, pex_rule_id = x.pex_rule"
    " FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, pex_status text, pex_rule uuid)"
    " WHERE c.id = x.id",
    0};

lda_err prevention_rules_load(db_conn *c, const char *platform, int *ami, json_t **rules)
{
    const char *p[] = {platform};
    lda_err e;
    *rules = NULL;
    *ami = 0;
    PGresult *r = db_exec(c, &S_RULES, 1, p, &e);
    if (!r) return e;
    if (platform && PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return LDA_EINVALID;
    }
    if (!PQgetisnull(r, 0, 0)) *ami = atoi(PQgetvalue(r, 0, 0));
    *rules = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    PQclear(r);
    return *rules ? LDA_OK : LDA_EINTERNAL;
}

lda_err prevention_rule_get(db_conn *c, const char *id, store_doc *out)
{
    const char *p[] = {id};
    return store_one(c, &S_RULE_GET, 1, p, out);
}

lda_err prevention_rule_list(db_conn *c, const char *ami, int limit, const char *cursor,
                             char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {ami, key, id, lim};
    lda_err e = store_page(c, &S_RULE_LIST, 4, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err prevention_rule_create(db_conn *c, const char *in, store_doc *out)
{
    const char *p[] = {in};
    return store_one(c, &S_RULE_CREATE, 1, p, out);
}

lda_err prevention_rule_update(db_conn *c, const char *id, const char *merged, long version,
                               store_doc *out)
{
    return store_update(c, &S_RULE_UPDATE, id, merged, version, out);
}

lda_err prevention_cases_of_ami(db_conn *c, int ami, json_t **cases)
{
    char a[12];
    snprintf(a, sizeof a, "%d", ami);
    const char *p[] = {a};
    lda_err e;
    PGresult *r = db_exec(c, &S_CASES_OF_AMI, 1, p, &e);
    if (!r) return e;
    *cases = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    return *cases ? LDA_OK : LDA_EINTERNAL;
}

lda_err prevention_cases_set_pex(db_conn *c, const char *changes)
{
    const char *p[] = {changes};
    return store_exec(c, &S_CASES_SET_PEX, 1, p, NULL);
}

/* ---- cases -------------------------------------------------------------------------- */

#define VIEW(n_scope, n_by, n_source)                                                              \
    "($" #n_scope "::text[] IS NULL OR c.platform = ANY($" #n_scope "::text[]))"                   \
    " AND ($" #n_by "::uuid IS NULL OR c.created_by = $" #n_by "::uuid)"                           \
    " AND ($" #n_source "::text IS NULL OR c.source = $" #n_source ")"

static db_stmt S_CASE_CREATE = {
    "prevention_case_create",
    "WITH c AS (INSERT INTO prevention_case (household_id, platform, landlord_kind, debt_eur,"
    "  debt_on, stage, stage_dates, pex_status, pex_rule_id, created_by)"
    "  SELECT $2::uuid, p->>'platform', p->>'landlord_kind', (p->>'debt_eur')::int,"
    "  (p->>'debt_on')::date, p->>'stage', jsonb_build_object(p->>'stage', p->>'stage_on'),"
    "  p->>'pex_status', (p->>'pex_rule')::uuid, $3::uuid FROM (SELECT $1::jsonb p) x"
    "  RETURNING *),"
    " ev AS (INSERT INTO prevention_stage_event (case_id, on_date, from_stage, to_stage,"
    "  token_id, role) SELECT id, (stage_dates->>stage)::date, NULL, stage, $3::uuid, $4 FROM c)"
    " SELECT lda_prevention_case_json(c, $5::bool)::text, row_version FROM c",
    0};
static db_stmt S_CASE_GET = {
    "prevention_case_get",
    "SELECT lda_prevention_case_json(c, $4::bool)::text, row_version FROM prevention_case c"
    " WHERE id = $1::uuid AND " VIEW(2, 3, 5),
    0};
static db_stmt S_CASE_LIST = {
    "prevention_case_list",
    "WITH page AS (SELECT * FROM prevention_case c WHERE " VIEW(
        1, 2,
        11) "    AND ($3::text IS NULL OR platform = $3) AND ($4::text IS NULL OR stage = $4)"
            "    AND ($5::uuid IS NULL OR household_id = $5::uuid)"
            "    AND ($6::timestamptz IS NULL OR updated_at >= $6::timestamptz)"
            "    AND ($7::timestamptz IS NULL OR (updated_at, id) > ($7::timestamptz, $8::uuid))"
            "  ORDER BY updated_at, id LIMIT $9::int + 1)"
            " SELECT coalesce(json_agg(lda_prevention_case_json(page, $10::bool) ORDER BY "
            "updated_at,"
            "  id), '[]')::text, count(*), (array_agg(updated_at::text ORDER BY updated_at, "
            "id))[$9::int],"
            "  (array_agg(id::text ORDER BY updated_at, id))[$9::int] FROM page",
    0};
static db_stmt S_CASE_UPDATE = {
    "prevention_case_update",
    "UPDATE prevention_case SET landlord_kind = m->>'landlord_kind',"
    " debt_eur = (m->>'debt_eur')::int, debt_on = (m->>'debt_on')::date,"
    " pex_status = m->>'pex_status', pex_rule_id = (m->>'pex_rule')::uuid"
    " FROM (SELECT $2::jsonb m) x WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_prevention_case_json(prevention_case, false)::text, row_version",
    0};
static db_stmt S_CASE_LOCK = {"prevention_case_lock",
                              "SELECT stage, stage_dates->>stage FROM prevention_case c"
                              " WHERE id = $1::uuid AND ($2::text[] IS NULL"
                              " OR c.platform = ANY($2::text[])) FOR UPDATE",
                              0};
static db_stmt S_CASE_STAGE = {
    "prevention_case_stage",
    "WITH c AS (UPDATE prevention_case SET stage = $2,"
    "  stage_dates = stage_dates || jsonb_build_object($2::text, $3::text)"
    "  WHERE id = $1::uuid RETURNING *),"
    " ev AS (INSERT INTO prevention_stage_event (case_id, on_date, from_stage, to_stage, note,"
    "  token_id, role) SELECT id, $3::date, $4, $2, $5, $6::uuid, $7 FROM c)"
    " SELECT lda_prevention_case_json(c, false)::text, row_version FROM c",
    0};
static db_stmt S_STAGES = {
    "prevention_stages",
    "WITH page AS (SELECT e.* FROM prevention_stage_event e"
    "  WHERE e.case_id = $1::uuid AND ($2::bigint IS NULL OR e.id > $2::bigint)"
    "  ORDER BY e.id LIMIT $3::int + 1)"
    " SELECT coalesce(json_agg(json_build_object('id', id, 'at', at, 'on', on_date,"
    "  'from', from_stage, 'to', to_stage, 'note', note, 'token_id', token_id, 'role', role)"
    "  ORDER BY id), '[]')::text, count(*), (array_agg(id::text ORDER BY id))[$3::int],"
    "  (array_agg(id::text ORDER BY id))[$3::int] FROM page",
    0};

lda_err prevention_case_create(db_conn *c, const char *in, const char *household_in,
                               const char *person_key, const char *token_id, const char *role,
                               const case_view *v, store_doc *out, const char **bad_field,
                               char household_created[37])
{
    *bad_field = NULL;
    household_created[0] = '\0';
    char household_id[37] = "";
    lda_err e;
    if (household_in) {
        bool created = false;
        if ((e = household_attach_inline(c, household_in, person_key, token_id, household_id,
                                         &created)))
            return e;
        if (created) snprintf(household_created, 37, "%s", household_id);
    } else {
        json_t *doc = json_loads(in, 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "household"));
        snprintf(household_id, sizeof household_id, "%s", id ? id : "");
        e = household_on_platform(c, household_id, v->scope,
                                  json_string_value(json_object_get(doc, "platform")));
        json_decref(doc);
        if (e == LDA_ENOTFOUND) {
            *bad_field = "household";
            return LDA_EINVALID;
        }
        if (e) return e;
    }
    const char *p[] = {in, household_id, token_id, role, v->partner_view ? "true" : "false"};
    e = store_one(c, &S_CASE_CREATE, 5, p, out);
    if (e) household_created[0] = '\0';
    return e;
}

lda_err prevention_case_get(db_conn *c, const char *id, const case_view *v, store_doc *out)
{
    const char *p[] = {id, v->scope, v->created_by, v->partner_view ? "true" : "false", v->source};
    return store_one(c, &S_CASE_GET, 5, p, out);
}

lda_err prevention_case_list(db_conn *c, const case_view *v, const json_t *f, int limit,
                             const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {v->scope,
                       v->created_by,
                       json_string_value(json_object_get(f, "platform")),
                       json_string_value(json_object_get(f, "stage")),
                       json_string_value(json_object_get(f, "household")),
                       json_string_value(json_object_get(f, "updated_since")),
                       key,
                       id,
                       lim,
                       v->partner_view ? "true" : "false",
                       v->source};
    lda_err e = store_page(c, &S_CASE_LIST, 11, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err prevention_case_update(db_conn *c, const char *id, const char *merged, long version,
                               store_doc *out)
{
    return store_update(c, &S_CASE_UPDATE, id, merged, version, out);
}

lda_err prevention_case_lock(db_conn *c, const char *id, const char *scope, char **stage,
                             char **stage_on)
{
    const char *p[] = {id, scope};
    lda_err e;
    *stage = *stage_on = NULL;
    PGresult *r = db_exec(c, &S_CASE_LOCK, 2, p, &e);
    if (!r) return e;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LDA_ENOTFOUND;
    }
    *stage = xstrdup(PQgetvalue(r, 0, 0));
    if (!PQgetisnull(r, 0, 1)) *stage_on = xstrdup(PQgetvalue(r, 0, 1));
    PQclear(r);
    return LDA_OK;
}

lda_err prevention_case_stage(db_conn *c, const char *id, const char *from, const char *to,
                              const char *on, const char *note, const char *token_id,
                              const char *role, store_doc *out)
{
    const char *p[] = {id, to, on, from, note, token_id, role};
    return store_one(c, &S_CASE_STAGE, 7, p, out);
}

static lda_err case_visible(db_conn *c, const char *id, const char *scope)
{
    case_view v = {scope, NULL, true, NULL};
    store_doc d;
    lda_err e = prevention_case_get(c, id, &v, &d);
    if (!e) store_doc_free(&d);
    return e;
}

lda_err prevention_stage_list(db_conn *c, const char *id, const char *scope, int limit,
                              const char *cursor, char **json)
{
    lda_err e = case_visible(c, id, scope);
    if (e) return e;
    char *key, *last, lim[16];
    if (page_cursor(cursor, &key, &last)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {id, key, lim};
    e = store_page(c, &S_STAGES, 3, p, limit, json);
    free(key);
    free(last);
    return e;
}

/* ---- actions and follow-ups --------------------------------------------------------- */

static db_stmt S_CONTEXT = {
    "prevention_case_context",
    "SELECT json_build_object('platform', c.platform,"
    "  'first_action_on', (SELECT min(a.done_on) FROM prevention_action a WHERE a.case_id = c.id"
    "   AND ($3::uuid IS NULL OR a.id <> $3::uuid)),"
    "  'evicted_on', c.stage_dates->>'eviction_carried_out',"
    "  'follow_ups', coalesce((SELECT json_agg(json_build_object('at_months', f.at_months,"
    "   'situation', f.situation) ORDER BY f.at_months) FROM prevention_follow_up f"
    "   WHERE f.case_id = c.id), '[]'::json))::text"
    " FROM prevention_case c WHERE c.id = $1::uuid"
    " AND ($2::text[] IS NULL OR c.platform = ANY($2::text[])) FOR UPDATE OF c",
    0};
static db_stmt S_PARTNER = {"prevention_partner_usable",
                            "SELECT 1 FROM partner WHERE id = $1::uuid"
                            " AND (platform IS NULL OR platform = $2)",
                            0};
static db_stmt S_ACTION_CREATE = {
    "prevention_action_create",
    "INSERT INTO prevention_action (case_id, kind, done_on, partner_id, outcome_notes)"
    " SELECT $1::uuid, p->>'kind', (p->>'done_on')::date, (p->>'partner')::uuid,"
    " p->>'outcome_notes' FROM (SELECT $2::jsonb p) x"
    " RETURNING lda_prevention_action_json(prevention_action)::text, row_version",
    0};
static db_stmt S_ACTION_GET = {"prevention_action_get",
                               "SELECT lda_prevention_action_json(x)::text, row_version"
                               " FROM prevention_action x WHERE id = $1::uuid AND " CASE_SCOPE(2),
                               0};
static db_stmt S_ACTION_LIST = {
    "prevention_action_list",
    "WITH page AS (SELECT * FROM prevention_action x WHERE case_id = $1::uuid"
    "    AND ($2::date IS NULL OR (done_on, id) > ($2::date, $3::uuid))"
    "  ORDER BY done_on, id LIMIT $4::int + 1)"
    " SELECT coalesce(json_agg(lda_prevention_action_json(page) ORDER BY done_on, id),"
    "  '[]')::text, count(*), (array_agg(done_on::text ORDER BY done_on, id))[$4::int],"
    "  (array_agg(id::text ORDER BY done_on, id))[$4::int] FROM page",
    0};
static db_stmt S_ACTION_UPDATE = {
    "prevention_action_update",
    "UPDATE prevention_action SET kind = m->>'kind', done_on = (m->>'done_on')::date,"
    " partner_id = (m->>'partner')::uuid, outcome_notes = m->>'outcome_notes'"
    " FROM (SELECT $2::jsonb m) x WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_prevention_action_json(prevention_action)::text, row_version",
    0};
static db_stmt S_FOLLOW_UP_PUT = {
    "prevention_follow_up_put",
    "INSERT INTO prevention_follow_up AS f (case_id, at_months, due_on, situation)"
    " VALUES ($1::uuid, $2::smallint, $3::date, $4)"
    " ON CONFLICT (case_id, at_months) DO UPDATE SET due_on = EXCLUDED.due_on,"
    " situation = EXCLUDED.situation, source = NULL"
    " RETURNING lda_prevention_follow_up_json(f)::text, row_version, (xmax = 0)",
    0};
static db_stmt S_FOLLOW_UP_LIST = {
    "prevention_follow_up_list",
    "WITH page AS (SELECT * FROM prevention_follow_up WHERE case_id = $1::uuid"
    "    AND ($2::int IS NULL OR at_months > $2::int)"
    "  ORDER BY at_months LIMIT $3::int + 1)"
    " SELECT coalesce(json_agg(lda_prevention_follow_up_json(page) ORDER BY at_months),"
    "  '[]')::text, count(*), (array_agg(at_months::text ORDER BY at_months))[$3::int],"
    "  (array_agg(at_months::text ORDER BY at_months))[$3::int] FROM page",
    0};

lda_err prevention_case_context(db_conn *c, const char *id, const char *scope,
                                const char *except_action, json_t **ctx)
{
    const char *p[] = {id, scope, except_action};
    lda_err e;
    *ctx = NULL;
    PGresult *r = store_exec_locked(c, &S_CONTEXT, 3, p, &e);
    if (!r) return e;
    if (PQntuples(r) == 1) *ctx = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) return LDA_ENOTFOUND;
    return *ctx ? LDA_OK : LDA_EINTERNAL;
}

lda_err prevention_partner_usable(db_conn *c, const char *partner, const char *platform)
{
    const char *p[] = {partner, platform};
    int rows = 0;
    lda_err e = store_exec(c, &S_PARTNER, 2, p, &rows);
    return e ? e : rows ? LDA_OK : LDA_ENOTFOUND;
}

lda_err prevention_action_create(db_conn *c, const char *case_id, const char *in, store_doc *out)
{
    const char *p[] = {case_id, in};
    return store_one(c, &S_ACTION_CREATE, 2, p, out);
}

lda_err prevention_action_get(db_conn *c, const char *id, const char *scope, store_doc *out)
{
    const char *p[] = {id, scope};
    return store_one(c, &S_ACTION_GET, 2, p, out);
}

lda_err prevention_action_list(db_conn *c, const char *case_id, const char *scope, int limit,
                               const char *cursor, char **json)
{
    lda_err e = case_visible(c, case_id, scope);
    if (e) return e;
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {case_id, key, id, lim};
    e = store_page(c, &S_ACTION_LIST, 4, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err prevention_action_update(db_conn *c, const char *id, const char *merged, long version,
                                 store_doc *out)
{
    return store_update(c, &S_ACTION_UPDATE, id, merged, version, out);
}

lda_err prevention_follow_up_put(db_conn *c, const char *case_id, int months, const char *due_on,
                                 const char *situation, store_doc *out, bool *created)
{
    char m[8];
    snprintf(m, sizeof m, "%d", months);
    const char *p[] = {case_id, m, due_on, situation};
    lda_err e;
    out->json = NULL;
    PGresult *r = db_exec(c, &S_FOLLOW_UP_PUT, 4, p, &e);
    if (!r) return e;
    out->json = xstrdup(PQgetvalue(r, 0, 0));
    out->version = atol(PQgetvalue(r, 0, 1));
    *created = PQgetvalue(r, 0, 2)[0] == 't';
    PQclear(r);
    return LDA_OK;
}

lda_err prevention_follow_up_list(db_conn *c, const char *case_id, const char *scope, int limit,
                                  const char *cursor, char **json)
{
    lda_err e = case_visible(c, case_id, scope);
    if (e) return e;
    char *key, *last, lim[16];
    if (page_cursor(cursor, &key, &last)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {case_id, key, lim};
    e = store_page(c, &S_FOLLOW_UP_LIST, 3, p, limit, json);
    free(key);
    free(last);
    return e;
}
