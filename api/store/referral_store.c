/* Referrals (saisines), their status timeline, and support measures. */
#include "store/casefile.h"
#include "core/mem.h"
#include "domain/referral_rules.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEW_SCOPE(n_scope, n_by)                                                                  \
    "($" #n_scope "::text[] IS NULL OR r.platform = ANY($" #n_scope "::text[]))"                   \
    " AND ($" #n_by "::uuid IS NULL OR r.created_by = $" #n_by "::uuid)"

/* What a siao token reads back of the referrals its source pushed: everything but the
 * coordinators' decision note (theirs, not the source's). `source` is the siao view's
 * parameter (NULL for the other roles). */
#define SIAO_VIEW(json, source)                                                                    \
    "(CASE WHEN " source "::text IS NULL THEN " json " ELSE (" json                                \
    "::jsonb - 'decision_note')::json END)"

static db_stmt S_HOUSEHOLD_INLINE = {
    "referral_household_inline",
    "WITH ins AS (INSERT INTO household (platform, external_ref, composition, adults, children,"
    "  head_last_name, head_first_name, head_birth_date, head_sex, resources,"
    "  housing_situation, vulnerabilities, person_key, created_by)"
    "  SELECT p->>'platform', p->>'external_ref', p->>'composition', (p->>'adults')::smallint,"
    "  (p->>'children')::smallint, p->'head'->>'last_name', p->'head'->>'first_name',"
    "  (p->'head'->>'birth_date')::date, p->'head'->>'sex',"
    "  ARRAY(SELECT jsonb_array_elements_text(p->'resources')), p->>'housing_situation',"
    "  ARRAY(SELECT jsonb_array_elements_text(p->'vulnerabilities')), $2, $3::uuid"
    "  FROM (SELECT $1::jsonb p) x"
    "  ON CONFLICT (platform, person_key) WHERE erased_at IS NULL AND person_key IS NOT NULL"
    "  DO NOTHING RETURNING id)"
    " SELECT id::text, true FROM ins UNION ALL"
    " SELECT id::text, false FROM household WHERE platform = $1::jsonb->>'platform' AND person_key "
    "= $2"
    "  AND erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM ins)",
    0};
static db_stmt S_HOUSEHOLD_CHECK = {"referral_household_check",
                                    "SELECT platform FROM household WHERE id = $1::uuid"
                                    " AND ($2::text[] IS NULL OR platform = ANY($2::text[]))",
                                    0};
static db_stmt S_PARTNER_CHECK = {
    "referral_partner_check",
    "SELECT 1 FROM partner WHERE id = $1::uuid"
    " AND (platform IS NULL OR $2::text[] IS NULL OR platform = ANY($2::text[]))",
    0};
static db_stmt S_CREATE = {
    "referral_create",
    "WITH r AS (INSERT INTO referral (household_id, platform, partner_id, referrer_kind,"
    "  referrer_name, received_on, has_social_note, reasons, status, status_dates,"
    "  concertation_held_on, concertation_household_present, decision_note, created_by)"
    "  SELECT $2::uuid, p->>'platform', (p->>'partner')::uuid, p->>'referrer_kind',"
    "  p->>'referrer_name', (p->>'received_on')::date, coalesce((p->>'has_social_note')::bool, "
    "false),"
    "  ARRAY(SELECT jsonb_array_elements_text(p->'reasons')), 'received',"
    "  jsonb_build_object('received', p->>'received_on'),"
    "  (p->'concertation'->>'held_on')::date, (p->'concertation'->>'household_present')::bool,"
    "  p->>'decision_note', $3::uuid FROM (SELECT $1::jsonb p) x RETURNING *),"
    " ev AS (INSERT INTO referral_event (referral_id, on_date, from_status, to_status, token_id, "
    "role)"
    "  SELECT id, received_on, NULL, 'received', $3::uuid, $4 FROM r)"
    " SELECT lda_referral_json(r, $5::bool)::text, row_version FROM r",
    0};
static db_stmt S_GET = {
    "referral_get",
    "SELECT " SIAO_VIEW("lda_referral_json(r, $4::bool)",
                        "$5") "::text, row_version FROM referral r"
                              " WHERE id = $1::uuid AND " VIEW_SCOPE(
                                  2, 3) " AND ($5::text IS NULL OR r.source = $5)",
    0};
static db_stmt S_LIST = {
    "referral_list",
    "WITH page AS (SELECT * FROM referral r WHERE " VIEW_SCOPE(
        1,
        2) "    AND ($3::text IS NULL OR platform = $3) AND ($4::text IS NULL OR status = $4)"
           "    AND ($5::uuid IS NULL OR partner_id = $5::uuid)"
           "    AND ($6::uuid IS NULL OR household_id = $6::uuid)"
           "    AND ($7::date IS NULL OR received_on >= $7::date)"
           "    AND ($8::date IS NULL OR received_on <= $8::date)"
           "    AND ($9::timestamptz IS NULL OR updated_at >= $9::timestamptz)"
           "    AND ($10::timestamptz IS NULL OR (updated_at, id) > ($10::timestamptz, $11::uuid))"
           "    AND ($14::text IS NULL OR source = $14)"
           "  ORDER BY updated_at, id LIMIT $12::int + 1)"
           " SELECT coalesce(json_agg(" SIAO_VIEW(
               "lda_referral_json(page, $13::bool)",
               "$14") " ORDER BY updated_at, id), "
                      "'[]')::text,"
                      "  count(*), (array_agg(updated_at::text ORDER BY updated_at, id))[$12::int],"
                      "  (array_agg(id::text ORDER BY updated_at, id))[$12::int] FROM page",
    0};
static db_stmt S_UPDATE = {
    "referral_update",
    "UPDATE referral SET partner_id = (m->>'partner')::uuid, referrer_kind = m->>'referrer_kind',"
    " referrer_name = m->>'referrer_name', received_on = (m->>'received_on')::date,"
    " has_social_note = (m->>'has_social_note')::bool,"
    " reasons = ARRAY(SELECT jsonb_array_elements_text(m->'reasons')),"
    " status_dates = status_dates || jsonb_build_object('received', m->>'received_on'),"
    " concertation_held_on = (m->'concertation'->>'held_on')::date,"
    " concertation_household_present = (m->'concertation'->>'household_present')::bool,"
    " decision_note = m->>'decision_note' FROM (SELECT $2::jsonb m) x"
    " WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_referral_json(referral, false)::text, row_version",
    0};
static db_stmt S_LOCK = {"referral_lock",
                         "SELECT status, status_dates->>status,"
                         " EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id)"
                         " FROM referral r WHERE id = $1::uuid AND " VIEW_SCOPE(2, 3) " FOR UPDATE",
                         0};
static db_stmt S_TRANSITION = {
    "referral_transition",
    "WITH r AS (UPDATE referral SET status = $2,"
    "  status_dates = status_dates || jsonb_build_object($2::text, $3::text)"
    "  WHERE id = $1::uuid RETURNING *),"
    " ev AS (INSERT INTO referral_event (referral_id, on_date, from_status, to_status, note,"
    "  token_id, role) SELECT id, $3::date, $4, $2, $5, $6::uuid, $7 FROM r)"
    " SELECT lda_referral_json(r, $8::bool)::text, row_version FROM r",
    0};
static db_stmt S_EVENTS = {
    "referral_events",
    "WITH page AS (SELECT e.* FROM referral_event e"
    "  WHERE e.referral_id = $1::uuid AND ($2::bigint IS NULL OR e.id > $2::bigint)"
    "  ORDER BY e.id LIMIT $3::int + 1)"
    " SELECT coalesce(json_agg(json_build_object('id', id, 'at', at, 'on', on_date,"
    "  'from', from_status, 'to', to_status, 'note', note, 'token_id', token_id, 'role', role)"
    "  ORDER BY id), '[]')::text, count(*), (array_agg(id::text ORDER BY id))[$3::int],"
    "  (array_agg(id::text ORDER BY id))[$3::int] FROM page",
    0};

static db_stmt S_ELSEWHERE = {"referral_elsewhere",
                              "SELECT EXISTS (SELECT 1 FROM referral WHERE household_id = $1::uuid"
                              " AND platform <> $2)",
                              0};

lda_err referral_elsewhere(db_conn *c, const char *household_id, const char *platform, bool *any)
{
    const char *p[] = {household_id, platform};
    lda_err e;
    PGresult *r = db_exec(c, &S_ELSEWHERE, 2, p, &e);
    if (!r) return e;
    const char *v = db_value(r);
    *any = v && v[0] == 't';
    PQclear(r);
    return LDA_OK;
}

lda_err referral_create(db_conn *c, const char *in, const char *household_in,
                        const char *person_key, const char *token_id, const char *role,
                        const referral_view *v, store_doc *out, const char **bad_field,
                        char household_created[37])
{
    *bad_field = NULL;
    household_created[0] = '\0';
    json_t *doc = json_loads(in, 0, NULL);
    if (!doc) return LDA_EINTERNAL;
    char *household_id = NULL;
    lda_err e = db_command(c, "BEGIN");
    if (e) goto done;
    if (household_in) {
        const char *p[] = {household_in, person_key, token_id};
        PGresult *r = db_exec(c, &S_HOUSEHOLD_INLINE, 3, p, &e);
        if (!r) goto done;
        if (db_value(r)) {
            household_id = xstrdup(db_value(r));
            if (PQgetvalue(r, 0, 1)[0] == 't') snprintf(household_created, 37, "%s", household_id);
        }
        PQclear(r);
        if (!household_id) {
            e = LDA_EUNAVAILABLE; /* a concurrent erasure raced us: let the client retry */
            goto done;
        }
    } else {
        household_id = xstrdup(json_string_value(json_object_get(doc, "household")));
        const char *p[] = {household_id, v->scope};
        PGresult *r = db_exec(c, &S_HOUSEHOLD_CHECK, 2, p, &e);
        if (!r) goto done;
        const char *platform = db_value(r);
        bool ok =
            platform && !strcmp(platform, json_string_value(json_object_get(doc, "platform")));
        PQclear(r);
        if (!ok) {
            *bad_field = "household";
            e = LDA_EINVALID;
            goto done;
        }
    }
    const char *partner = json_string_value(json_object_get(doc, "partner"));
    if (partner) {
        const char *p[] = {partner, v->scope};
        int rows = 0;
        if ((e = store_exec(c, &S_PARTNER_CHECK, 2, p, &rows))) goto done;
        if (!rows) {
            *bad_field = "partner";
            e = LDA_EINVALID;
            goto done;
        }
    }
    const char *p[] = {in, household_id, token_id, role, v->status_only ? "true" : "false"};
    if ((e = store_one(c, &S_CREATE, 5, p, out))) goto done;
    e = db_command(c, "COMMIT");
done:
    if (e) {
        db_command(c, "ROLLBACK");
        store_doc_free(out);
        household_created[0] = '\0';
    }
    free(household_id);
    json_decref(doc);
    return e;
}

lda_err referral_get(db_conn *c, const char *id, const referral_view *v, store_doc *out)
{
    const char *p[] = {id, v->scope, v->created_by, v->status_only ? "true" : "false", v->source};
    return store_one(c, &S_GET, 5, p, out);
}

lda_err referral_list(db_conn *c, const referral_view *v, const json_t *f, int limit,
                      const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {v->scope,
                       v->created_by,
                       json_string_value(json_object_get(f, "platform")),
                       json_string_value(json_object_get(f, "status")),
                       json_string_value(json_object_get(f, "partner")),
                       json_string_value(json_object_get(f, "household")),
                       json_string_value(json_object_get(f, "received_from")),
                       json_string_value(json_object_get(f, "received_to")),
                       json_string_value(json_object_get(f, "updated_since")),
                       key,
                       id,
                       lim,
                       v->status_only ? "true" : "false",
                       v->source};
    lda_err e = store_page(c, &S_LIST, 14, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err referral_update(db_conn *c, const char *id, const char *merged, long version,
                        store_doc *out)
{
    return store_update(c, &S_UPDATE, id, merged, version, out);
}

lda_err referral_transition(db_conn *c, const char *id, const char *to, const char *on,
                            const char *note, const char *token_id, const char *role,
                            const referral_view *v, store_doc *out, const char **why)
{
    *why = NULL;
    lda_err e = db_command(c, "BEGIN");
    char *from = NULL;
    if (e) return e;
    const char *lp[] = {id, v->scope, v->created_by};
    PGresult *r = db_exec(c, &S_LOCK, 3, lp, &e);
    if (!r) goto done;
    if (PQntuples(r) != 1) {
        PQclear(r);
        e = LDA_ENOTFOUND;
        goto done;
    }
    from = xstrdup(PQgetvalue(r, 0, 0));
    char since[16] = "";
    if (!PQgetisnull(r, 0, 1)) snprintf(since, sizeof since, "%s", PQgetvalue(r, 0, 1));
    bool has_measure = PQgetvalue(r, 0, 2)[0] == 't';
    PQclear(r);
    if (!referral_transition_allowed(from, to)) {
        *why = "This status change is not allowed by the referral's life cycle.";
        e = LDA_ECONFLICT;
        goto done;
    }
    if (!strcmp(to, "accompanied") && !has_measure) {
        *why = "A referral is accompanied only once it has a support measure: create one first.";
        e = LDA_ECONFLICT;
        goto done;
    }
    if (*since && strcmp(on, since) < 0) {
        e = LDA_EINVALID;
        goto done;
    }
    const char *p[] = {id, to, on, from, note, token_id, role, v->status_only ? "true" : "false"};
    if ((e = store_one(c, &S_TRANSITION, 8, p, out))) goto done;
    e = db_command(c, "COMMIT");
done:
    if (e) {
        db_command(c, "ROLLBACK");
        store_doc_free(out);
    }
    free(from);
    return e;
}

lda_err referral_visible(db_conn *c, const char *id, const char *scope)
{
    referral_view v = {scope, NULL, true, NULL};
    store_doc d;
    lda_err e = referral_get(c, id, &v, &d);
    if (!e) store_doc_free(&d);
    return e;
}

lda_err referral_events(db_conn *c, const char *id, const char *scope, int limit,
                        const char *cursor, char **json)
{
    lda_err e = referral_visible(c, id, scope);
    if (e) return e;
    char *key, *last, lim[16];
    if (page_cursor(cursor, &key, &last)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {id, key, lim};
    e = store_page(c, &S_EVENTS, 3, p, limit, json);
    free(key);
    free(last);
    return e;
}
