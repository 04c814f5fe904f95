/* Housing offers, placements of referrals in them, and fluidity meetings. */
#include "store/housing_store.h"
#include "core/mem.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- offers ------------------------------------------------------------------------- */

static db_stmt S_OFFER_CREATE = {
    "housing_offer_create",
    "INSERT INTO housing_offer (platform, kind, landlord_kind, typology, capacity,"
    " available_from, available_to, label, created_by)"
    " SELECT p->>'platform', p->>'kind', p->>'landlord_kind', p->>'typology',"
    " (p->>'capacity')::smallint, (p->>'available_from')::date, (p->>'available_to')::date,"
    " p->>'label', $2::uuid FROM (SELECT $1::jsonb p) x"
    " RETURNING lda_housing_offer_json(housing_offer)::text, row_version",
    0};
static db_stmt S_OFFER_GET = {
    "housing_offer_get",
    "SELECT lda_housing_offer_json(o)::text, row_version FROM housing_offer o WHERE id = $1::uuid"
    " AND ($2::text[] IS NULL OR platform = ANY($2::text[])) AND ($3::text IS NULL OR source = $3)",
    0};
static db_stmt S_OFFER_LIST = {
    "housing_offer_list",
    "WITH page AS (SELECT * FROM housing_offer o"
    "  WHERE ($1::text[] IS NULL OR platform = ANY($1::text[])) AND ($2::text IS NULL OR source = "
    "$2)"
    "    AND ($3::text IS NULL OR platform = $3) AND ($4::text IS NULL OR kind = $4)"
    "    AND ($5::text IS NULL OR typology = $5)"
    "    AND ($6::date IS NULL OR (available_from <= $6::date"
    "         AND (available_to IS NULL OR available_to >= $6::date)))"
    "    AND ($7::timestamptz IS NULL OR updated_at >= $7::timestamptz)"
    "    AND ($8::timestamptz IS NULL OR (updated_at, id) > ($8::timestamptz, $9::uuid))"
    "  ORDER BY updated_at, id LIMIT $10::int + 1)"
    " SELECT coalesce(json_agg(lda_housing_offer_json(page) ORDER BY updated_at, id), '[]')::text,"
    "  count(*), (array_agg(updated_at::text ORDER BY updated_at, id))[$10::int],"
    "  (array_agg(id::text ORDER BY updated_at, id))[$10::int] FROM page",
    0};
static db_stmt S_OFFER_UPDATE = {
    "housing_offer_update",
    "UPDATE housing_offer SET kind = m->>'kind', landlord_kind = m->>'landlord_kind',"
    " typology = m->>'typology', capacity = (m->>'capacity')::smallint,"
    " available_from = (m->>'available_from')::date, available_to = (m->>'available_to')::date,"
    " label = m->>'label' FROM (SELECT $2::jsonb m) x"
    " WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_housing_offer_json(housing_offer)::text, row_version",
    0};
static db_stmt S_OFFER_STAYS = {
    "housing_offer_stays",
    "SELECT coalesce((SELECT json_agg(json_build_object('entered_on', p.entered_on,"
    "  'left_on', p.left_on)) FROM placement p WHERE p.offer_id = o.id), '[]'::json)::text"
    " FROM housing_offer o WHERE o.id = $1::uuid"
    " AND ($2::text[] IS NULL OR o.platform = ANY($2::text[])) FOR UPDATE OF o",
    0};

lda_err housing_offer_create(db_conn *c, const char *in, const char *token_id, store_doc *out)
{
    const char *p[] = {in, token_id};
    return store_one(c, &S_OFFER_CREATE, 2, p, out);
}

lda_err housing_offer_get(db_conn *c, const char *id, const char *scope, const char *source,
                          store_doc *out)
{
    const char *p[] = {id, scope, source};
    return store_one(c, &S_OFFER_GET, 3, p, out);
}

lda_err housing_offer_list(db_conn *c, const char *scope, const char *source, const json_t *f,
                           int limit, const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {scope,
                       source,
                       json_string_value(json_object_get(f, "platform")),
                       json_string_value(json_object_get(f, "kind")),
                       json_string_value(json_object_get(f, "typology")),
                       json_string_value(json_object_get(f, "available_on")),
                       json_string_value(json_object_get(f, "updated_since")),
                       key,
                       id,
                       lim};
    lda_err e = store_page(c, &S_OFFER_LIST, 10, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err housing_offer_update(db_conn *c, const char *id, const char *merged, long version,
                             store_doc *out)
{
    return store_update(c, &S_OFFER_UPDATE, id, merged, version, out);
}

/* The JSON of the first cell of a one-row result (caller json_decrefs); LDA_ENOTFOUND when
 * there is no row. `locks`: the statement locks rows and reads others (store_exec_locked). */
static lda_err one_json(db_conn *c, db_stmt *s, bool locks, int n, const char *const *p,
                        json_t **out)
{
    lda_err e;
    *out = NULL;
    PGresult *r = locks ? store_exec_locked(c, s, n, p, &e) : db_exec(c, s, n, p, &e);
    if (!r) return e;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) *out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) return LDA_ENOTFOUND;
    return *out ? LDA_OK : LDA_EINTERNAL;
}

lda_err housing_offer_stays(db_conn *c, const char *id, const char *scope, json_t **stays)
{
    const char *p[] = {id, scope};
    return one_json(c, &S_OFFER_STAYS, true, 2, p, stays);
}

/* ---- placements --------------------------------------------------------------------- */

#define STAYS_OF(col, n_id, n_except)                                                              \
    "coalesce((SELECT json_agg(json_build_object('entered_on', p.entered_on, 'left_on',"           \
    " p.left_on)) FROM placement p WHERE p." col " = $" #n_id "::uuid AND ($" #n_except            \
    "::uuid IS NULL OR p.id <> $" #n_except "::uuid)), '[]'::json)"

static db_stmt S_CONTEXT = {
    "placement_context",
    "WITH r AS (SELECT r.platform, r.received_on, EXISTS (SELECT 1 FROM measure m"
    "   WHERE m.referral_id = r.id AND m.housing_outcome IN ('accessed', 'maintained')) AS housed"
    "  FROM referral r WHERE r.id = $1::uuid"
    "   AND ($3::text[] IS NULL OR r.platform = ANY($3::text[])) FOR UPDATE OF r),"
    " o AS (SELECT o.platform, o.capacity, o.available_from, o.available_to FROM housing_offer o"
    "  WHERE o.id = $2::uuid AND ($3::text[] IS NULL OR o.platform = ANY($3::text[]))"
    "  FOR UPDATE OF o)"
    " SELECT json_build_object("
    "  'referral', (SELECT json_build_object('platform', platform, 'received_on', received_on,"
    "   'housed', housed) FROM r),"
    "  'offer', (SELECT json_build_object('platform', platform, 'capacity', capacity,"
    "   'available_from', available_from, 'available_to', available_to) FROM o),"
    "  'offer_stays', " STAYS_OF("offer_id", 2, 4) ","
                                                   "  'referral_stays', " STAYS_OF("referral_id", 1,
                                                                                   4) ")::text",
    0};
static db_stmt S_PLACEMENT_CREATE = {
    "placement_create",
    "INSERT INTO placement (referral_id, offer_id, platform, entered_on, left_on, exit_reason,"
    " created_by) SELECT (p->>'referral')::uuid, (p->>'offer')::uuid, p->>'platform',"
    " (p->>'entered_on')::date, (p->>'left_on')::date, p->>'exit_reason', $2::uuid"
    " FROM (SELECT $1::jsonb p) x RETURNING lda_placement_json(placement)::text, row_version",
    0};
static db_stmt S_PLACEMENT_GET = {
    "placement_get",
    "SELECT lda_placement_json(p)::text, row_version FROM placement p WHERE id = $1::uuid"
    " AND ($2::text[] IS NULL OR platform = ANY($2::text[])) AND ($3::text IS NULL OR source = $3)",
    0};
static db_stmt S_PLACEMENT_LIST = {
    "placement_list",
    "WITH page AS (SELECT * FROM placement p"
    "  WHERE ($1::text[] IS NULL OR platform = ANY($1::text[])) AND ($2::text IS NULL OR source = "
    "$2)"
    "    AND ($3::text IS NULL OR platform = $3) AND ($4::uuid IS NULL OR offer_id = $4::uuid)"
    "    AND ($5::uuid IS NULL OR referral_id = $5::uuid)"
    "    AND ($6::bool IS NULL OR $6::bool = (entered_on <= current_date"
    "         AND (left_on IS NULL OR left_on > current_date)))"
    "    AND ($7::timestamptz IS NULL OR updated_at >= $7::timestamptz)"
    "    AND ($8::timestamptz IS NULL OR (updated_at, id) > ($8::timestamptz, $9::uuid))"
    "  ORDER BY updated_at, id LIMIT $10::int + 1)"
    " SELECT coalesce(json_agg(lda_placement_json(page) ORDER BY updated_at, id), '[]')::text,"
    "  count(*), (array_agg(updated_at::text ORDER BY updated_at, id))[$10::int],"
    "  (array_agg(id::text ORDER BY updated_at, id))[$10::int] FROM page",
    0};
static db_stmt S_PLACEMENT_UPDATE = {
    "placement_update",
    "UPDATE placement SET entered_on = (m->>'entered_on')::date, left_on = (m->>'left_on')::date,"
    " exit_reason = m->>'exit_reason' FROM (SELECT $2::jsonb m) x"
    " WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING lda_placement_json(placement)::text, row_version",
    0};
static db_stmt S_NEEDS_HOUSING = {
    "placement_needs_housing",
    "SELECT EXISTS (SELECT 1 FROM placement p WHERE p.referral_id = $1::uuid)"
    " AND NOT EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = $1::uuid"
    "  AND ($2::uuid IS NULL OR m.id <> $2::uuid)"
    "  AND m.housing_outcome IN ('accessed', 'maintained'))",
    0};

lda_err placement_context(db_conn *c, const char *referral_id, const char *offer_id,
                          const char *scope, const char *except, json_t **ctx)
{
    const char *p[] = {referral_id, offer_id, scope, except};
    return one_json(c, &S_CONTEXT, true, 4, p, ctx);
}

lda_err placement_create(db_conn *c, const char *in, const char *token_id, store_doc *out)
{
    const char *p[] = {in, token_id};
    return store_one(c, &S_PLACEMENT_CREATE, 2, p, out);
}

lda_err placement_get(db_conn *c, const char *id, const char *scope, const char *source,
                      store_doc *out)
{
    const char *p[] = {id, scope, source};
    return store_one(c, &S_PLACEMENT_GET, 3, p, out);
}

lda_err placement_list(db_conn *c, const char *scope, const char *source, const json_t *f,
                       int limit, const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {scope,
                       source,
                       json_string_value(json_object_get(f, "platform")),
                       json_string_value(json_object_get(f, "offer")),
                       json_string_value(json_object_get(f, "referral")),
                       json_string_value(json_object_get(f, "current")),
                       json_string_value(json_object_get(f, "updated_since")),
                       key,
                       id,
                       lim};
    lda_err e = store_page(c, &S_PLACEMENT_LIST, 10, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err placement_update(db_conn *c, const char *id, const char *merged, long version,
                         store_doc *out)
{
    return store_update(c, &S_PLACEMENT_UPDATE, id, merged, version, out);
}

lda_err placement_needs_housing(db_conn *c, const char *referral_id, const char *except_measure,
                                bool *needed)
{
    const char *p[] = {referral_id, except_measure};
    lda_err e;
    *needed = false;
    PGresult *r = db_exec(c, &S_NEEDS_HOUSING, 2, p, &e);
    if (!r) return e;
    *needed = db_value(r) && db_value(r)[0] == 't';
    PQclear(r);
    return LDA_OK;
}

/* ---- fluidity meetings -------------------------------------------------------------- */

static db_stmt S_REFERRALS = {
    "fluidity_referrals",
    "SELECT coalesce(json_object_agg(r.id, r.received_on), '{}'::json)::text FROM referral r"
    " WHERE r.id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid))"
    " AND r.platform = $2 AND ($3::text[] IS NULL OR r.platform = ANY($3::text[]))",
    0};
static db_stmt S_MEETING_INSERT = {
    "fluidity_meeting_insert",
    "INSERT INTO fluidity_meeting (platform, held_on, landlords_present, proposals_made,"
    " proposals_accepted, created_by)"
    " SELECT p->>'platform', (p->>'held_on')::date,"
    " ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'landlords_present', '[]'))),"
    " (p->>'proposals_made')::int, (p->>'proposals_accepted')::int, $2::uuid"
    " FROM (SELECT $1::jsonb p) x RETURNING id::text",
    0};
static db_stmt S_MEETING_UPDATE = {
    "fluidity_meeting_update",
    "UPDATE fluidity_meeting SET held_on = (m->>'held_on')::date,"
    " landlords_present = ARRAY(SELECT jsonb_array_elements_text(coalesce(m->'landlords_present',"
    " '[]'))), proposals_made = (m->>'proposals_made')::int,"
    " proposals_accepted = (m->>'proposals_accepted')::int"
    " FROM (SELECT $2::jsonb m) x WHERE id = $1::uuid AND row_version = $3::bigint"
    " RETURNING id::text",
    0};
static db_stmt S_PRESENT = {
    "fluidity_present",
    "WITH keep AS (SELECT DISTINCT h::uuid AS id"
    "  FROM jsonb_array_elements_text(coalesce($2::jsonb, '[]')) h),"
    " gone AS (DELETE FROM fluidity_presentation WHERE meeting_id = $1::uuid"
    "  AND referral_id NOT IN (SELECT id FROM keep))"
    " INSERT INTO fluidity_presentation (meeting_id, referral_id) SELECT $1::uuid, id FROM keep"
    " ON CONFLICT DO NOTHING",
    0};
static db_stmt S_MEETING_GET = {
    "fluidity_meeting_get",
    "SELECT lda_fluidity_meeting_json(m)::text, row_version FROM fluidity_meeting m"
    " WHERE id = $1::uuid AND ($2::text[] IS NULL OR platform = ANY($2::text[]))",
    0};
static db_stmt S_MEETING_LIST = {
    "fluidity_meeting_list",
    "WITH page AS (SELECT * FROM fluidity_meeting m"
    "  WHERE ($1::text[] IS NULL OR platform = ANY($1::text[]))"
    "    AND ($2::text IS NULL OR platform = $2) AND ($3::date IS NULL OR held_on >= $3::date)"
    "    AND ($4::date IS NULL OR held_on <= $4::date)"
    "    AND ($5::date IS NULL OR (held_on, id) > ($5::date, $6::uuid))"
    "  ORDER BY held_on, id LIMIT $7::int + 1)"
    " SELECT coalesce(json_agg(lda_fluidity_meeting_json(page) ORDER BY held_on, id), '[]')::text,"
    "  count(*), (array_agg(held_on::text ORDER BY held_on, id))[$7::int],"
    "  (array_agg(id::text ORDER BY held_on, id))[$7::int] FROM page",
    0};

lda_err fluidity_referrals(db_conn *c, const char *ids, const char *platform, const char *scope,
                           json_t **found)
{
    const char *p[] = {ids, platform, scope};
    return one_json(c, &S_REFERRALS, false, 3, p, found);
}

/* Writes the meeting (insert, or update guarded by version) and its presentations in one
 * transaction, then renders it. */
static lda_err meeting_write(db_conn *c, db_stmt *write, const char *const *wp, int wn,
                             const char *in, store_doc *out)
{
    lda_err e = store_begin(c);
    if (e) return e;
    store_doc id = {0};
    json_t *doc = json_loads(in, 0, NULL);
    const json_t *list = json_object_get(doc, "households_presented");
    char *presented = json_is_array(list) ? json_dumps(list, JSON_COMPACT) : xstrdup("[]");
    json_decref(doc);
    e = store_one(c, write, wn, wp, &id);
    if (!e) {
        const char *pp[] = {id.json, presented};
        e = store_exec(c, &S_PRESENT, 2, pp, NULL);
    }
    if (!e) {
        const char *gp[] = {id.json, NULL};
        e = store_one(c, &S_MEETING_GET, 2, gp, out);
    }
    if (!e) e = store_commit(c);
    if (e) {
        store_rollback(c);
        store_doc_free(out);
    }
    store_doc_free(&id);
    free(presented);
    return e;
}

lda_err fluidity_meeting_create(db_conn *c, const char *in, const char *token_id, store_doc *out)
{
    const char *p[] = {in, token_id};
    return meeting_write(c, &S_MEETING_INSERT, p, 2, in, out);
}

lda_err fluidity_meeting_get(db_conn *c, const char *id, const char *scope, store_doc *out)
{
    const char *p[] = {id, scope};
    return store_one(c, &S_MEETING_GET, 2, p, out);
}

lda_err fluidity_meeting_list(db_conn *c, const char *scope, const json_t *f, int limit,
                              const char *cursor, char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {scope,
                       json_string_value(json_object_get(f, "platform")),
                       json_string_value(json_object_get(f, "held_from")),
                       json_string_value(json_object_get(f, "held_to")),
                       key,
                       id,
                       lim};
    lda_err e = store_page(c, &S_MEETING_LIST, 7, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err fluidity_meeting_update(db_conn *c, const char *id, const char *merged, long version,
                                store_doc *out)
{
    char v[24];
    snprintf(v, sizeof v, "%ld", version);
    const char *p[] = {id, merged, v};
    lda_err e = meeting_write(c, &S_MEETING_UPDATE, p, 3, merged, out);
    return e == LDA_ENOTFOUND ? LDA_EPRECONDITION : e;
}
