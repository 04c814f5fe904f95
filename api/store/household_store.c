/* Households: the head's identity, pseudonymised person_key, situation at first referral. */
#include "store/casefile.h"
#include "core/mem.h"
#include "store/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUSEHOLD_COLUMNS_FROM_P                                                                   \
    "p->>'platform', p->>'external_ref', p->>'composition', (p->>'adults')::smallint,"             \
    " (p->>'children')::smallint, p->'head'->>'last_name', p->'head'->>'first_name',"              \
    " (p->'head'->>'birth_date')::date, p->'head'->>'sex',"                                        \
    " ARRAY(SELECT jsonb_array_elements_text(p->'resources')), p->>'housing_situation',"           \
    " ARRAY(SELECT jsonb_array_elements_text(p->'vulnerabilities'))"

static db_stmt S_CREATE = {
    "household_create",
    "INSERT INTO household (platform, external_ref, composition, adults, children,"
    " head_last_name, head_first_name, head_birth_date, head_sex, resources,"
    " housing_situation, vulnerabilities, person_key, created_by)"
    " SELECT " HOUSEHOLD_COLUMNS_FROM_P ", $2, $3::uuid FROM (SELECT $1::jsonb p) x"
    " ON CONFLICT (platform, person_key) WHERE erased_at IS NULL AND person_key IS NOT NULL"
    " DO NOTHING RETURNING lda_household_json(household, $4::bool)::text, row_version",
    0};
static db_stmt S_EXISTING = {
    "household_existing",
    "SELECT id::text FROM household WHERE platform = $1 AND person_key = $2 AND erased_at IS NULL",
    0};
static db_stmt S_GET = {
    "household_get",
    "SELECT lda_household_json(h, $3::bool)::text, row_version FROM household h"
    " WHERE id = $1::uuid AND ($2::text[] IS NULL OR platform = ANY($2::text[]))"
    " AND ($4::text IS NULL OR source = $4)",
    0};
static db_stmt S_LIST = {
    "household_list",
    "WITH page AS (SELECT * FROM household h"
    "  WHERE ($1::text[] IS NULL OR platform = ANY($1::text[]))"
    "    AND ($2::text IS NULL OR platform = $2)"
    "    AND ($3::timestamptz IS NULL OR updated_at >= $3::timestamptz)"
    "    AND ($4::timestamptz IS NULL OR (updated_at, id) > ($4::timestamptz, $5::uuid))"
    "    AND ($8::text IS NULL OR source = $8)"
    "  ORDER BY updated_at, id LIMIT $6::int + 1)"
    " SELECT coalesce(json_agg(lda_household_json(page, $7::bool) ORDER BY updated_at, id), "
    "'[]')::text,"
    "  count(*), (array_agg(updated_at::text ORDER BY updated_at, id))[$6::int],"
    "  (array_agg(id::text ORDER BY updated_at, id))[$6::int] FROM page",
    0};
static db_stmt S_UPDATE = {
    "household_update",
    "UPDATE household SET platform = p->>'platform', external_ref = p->>'external_ref',"
    " composition = p->>'composition', adults = (p->>'adults')::smallint,"
    " children = (p->>'children')::smallint, head_last_name = p->'head'->>'last_name',"
    " head_first_name = p->'head'->>'first_name',"
    " head_birth_date = (p->'head'->>'birth_date')::date, head_sex = p->'head'->>'sex',"
    " resources = ARRAY(SELECT jsonb_array_elements_text(p->'resources')),"
    " housing_situation = p->>'housing_situation',"
    " vulnerabilities = ARRAY(SELECT jsonb_array_elements_text(p->'vulnerabilities')),"
    " person_key = $3 FROM (SELECT $2::jsonb p) x"
    " WHERE id = $1::uuid AND row_version = $4::bigint AND erased_at IS NULL"
    " RETURNING lda_household_json(household, $5::bool)::text, row_version",
    0};
/* Erasure: the head's identity, and the free text and source ids written about the
 * household: its referrals and their events, its prevention cases, their actions and stage
 * changes (notes can name people). */
static db_stmt S_ERASE = {
    "household_erase",
    "WITH h AS (UPDATE household SET head_last_name = NULL, head_first_name = NULL,"
    "   head_birth_date = NULL, external_ref = NULL, person_key = NULL,"
    "   erased_at = coalesce(erased_at, now())"
    "   WHERE id = $1::uuid AND ($2::text[] IS NULL OR platform = ANY($2::text[])) RETURNING id),"
    " r AS (UPDATE referral SET decision_note = NULL, external_id = NULL"
    "   WHERE household_id IN (SELECT id FROM h)"
    "     AND (decision_note IS NOT NULL OR external_id IS NOT NULL) RETURNING id),"
    " e AS (UPDATE referral_event SET note = NULL"
    "   WHERE referral_id IN (SELECT x.id FROM referral x JOIN h ON x.household_id = h.id)"
    "     AND note IS NOT NULL RETURNING 1),"
    " cases AS (UPDATE prevention_case SET external_id = NULL"
    "   WHERE household_id IN (SELECT id FROM h) AND external_id IS NOT NULL),"
    " notes AS (UPDATE prevention_action a SET outcome_notes = NULL FROM prevention_case c"
    "   WHERE c.id = a.case_id AND c.household_id IN (SELECT id FROM h)"
    "     AND a.outcome_notes IS NOT NULL),"
    " stage_notes AS (UPDATE prevention_stage_event e SET note = NULL FROM prevention_case c"
    "   WHERE c.id = e.case_id AND c.household_id IN (SELECT id FROM h) AND e.note IS NOT NULL)"
    " SELECT id, (SELECT count(*) FROM r), (SELECT count(*) FROM e) FROM h",
    0};
static db_stmt S_HEAD_BIRTH = {
    "referral_head_birth",
    "SELECT h.head_birth_date::text FROM referral r JOIN household h ON h.id = r.household_id"
    " WHERE r.id = $1::uuid AND ($2::text[] IS NULL OR r.platform = ANY($2::text[]))",
    0};

static db_stmt S_ATTACH_INLINE = {
    "household_attach_inline",
    "WITH ins AS (INSERT INTO household (platform, external_ref, composition, adults, children,"
    "  head_last_name, head_first_name, head_birth_date, head_sex, resources,"
    "  housing_situation, vulnerabilities, person_key, created_by)"
    "  SELECT " HOUSEHOLD_COLUMNS_FROM_P ", $2, $3::uuid FROM (SELECT $1::jsonb p) x"
    "  ON CONFLICT (platform, person_key) WHERE erased_at IS NULL AND person_key IS NOT NULL"
    "  DO NOTHING RETURNING id)"
    " SELECT id::text, true FROM ins UNION ALL"
    " SELECT id::text, false FROM household WHERE platform = $1::jsonb->>'platform'"
    "  AND person_key = $2 AND erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM ins)",
    0};
static db_stmt S_PLATFORM = {"household_platform",
                             "SELECT platform FROM household WHERE id = $1::uuid"
                             " AND ($2::text[] IS NULL OR platform = ANY($2::text[]))",
                             0};

static lda_err existing(db_conn *c, const char *platform, const char *person_key, char **id)
{
    const char *p[] = {platform, person_key};
    lda_err e;
    PGresult *r = db_exec(c, &S_EXISTING, 2, p, &e);
    if (!r) return e;
    const char *v = db_value(r);
    *id = v ? xstrdup(v) : NULL;
    PQclear(r);
    return LDA_OK;
}

/* The platform of a validated household JSON text (caller frees). */
static char *platform_of(const char *in)
{
    json_t *h = json_loads(in, 0, NULL);
    const char *p = json_string_value(json_object_get(h, "platform"));
    char *out = p ? xstrdup(p) : NULL;
    json_decref(h);
    return out;
}

lda_err household_create(db_conn *c, const char *in, const char *person_key, const char *created_by,
                         bool identity, store_doc *out, char **existing_id)
{
    *existing_id = NULL;
    const char *p[] = {in, person_key, created_by, identity ? "true" : "false"};
    lda_err e = store_one(c, &S_CREATE, 4, p, out);
    if (e != LDA_ENOTFOUND) return e;
    char *platform = platform_of(in);
    e = existing(c, platform, person_key, existing_id);
    free(platform);
    return e ? e : LDA_ECONFLICT;
}

lda_err household_get(db_conn *c, const char *id, const char *scope, bool identity, store_doc *out)
{
    return household_get_from(c, id, scope, NULL, identity, out);
}

lda_err household_get_from(db_conn *c, const char *id, const char *scope, const char *source,
                           bool identity, store_doc *out)
{
    const char *p[] = {id, scope, identity ? "true" : "false", source};
    return store_one(c, &S_GET, 4, p, out);
}

lda_err household_list(db_conn *c, const char *scope, const char *source, const char *platform,
                       const char *updated_since, bool identity, int limit, const char *cursor,
                       char **json)
{
    char *key, *id, lim[16];
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {scope, platform, updated_since, key, id, lim, identity ? "true" : "false",
                       source};
    lda_err e = store_page(c, &S_LIST, 8, p, limit, json);
    free(key);
    free(id);
    return e;
}

lda_err household_update(db_conn *c, const char *id, const char *merged, const char *person_key,
                         long version, bool identity, store_doc *out, char **existing_id)
{
    *existing_id = NULL;
    char v[24];
    snprintf(v, sizeof v, "%ld", version);
    const char *p[] = {id, merged, person_key, v, identity ? "true" : "false"};
    lda_err e = store_one(c, &S_UPDATE, 5, p, out);
    if (e == LDA_ENOTFOUND) return LDA_EPRECONDITION;
    if (e == LDA_ECONFLICT) {
        char *platform = platform_of(merged);
        lda_err e2 = existing(c, platform, person_key, existing_id);
        free(platform);
        if (e2) return e2;
    }
    return e;
}

lda_err household_erase(db_conn *c, const char *id, const char *scope)
{
    const char *p[] = {id, scope};
    int rows = 0;
    lda_err e = store_exec(c, &S_ERASE, 2, p, &rows);
    return e ? e : rows ? LDA_OK : LDA_ENOTFOUND;
}

lda_err referral_head_birth(db_conn *c, const char *referral_id, const char *scope,
                            char **birth_date)
{
    const char *p[] = {referral_id, scope};
    lda_err e;
    *birth_date = NULL;
    PGresult *r = db_exec(c, &S_HEAD_BIRTH, 2, p, &e);
    if (!r) return e;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LDA_ENOTFOUND;
    }
    if (!PQgetisnull(r, 0, 0)) *birth_date = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return LDA_OK;
}

lda_err household_attach_inline(db_conn *c, const char *in, const char *person_key,
                                const char *created_by, char id[37], bool *created)
{
    const char *p[] = {in, person_key, created_by};
    lda_err e;
    id[0] = '\0';
    *created = false;
    PGresult *r = db_exec(c, &S_ATTACH_INLINE, 3, p, &e);
    if (!r) return e;
    if (db_value(r)) {
        snprintf(id, 37, "%s", db_value(r));
        *created = PQgetvalue(r, 0, 1)[0] == 't';
    }
    PQclear(r);
    /* no row: a concurrent erasure raced the insert; the client retries */
    return id[0] ? LDA_OK : LDA_EUNAVAILABLE;
}

lda_err household_on_platform(db_conn *c, const char *id, const char *scope, const char *platform)
{
    const char *p[] = {id, scope};
    lda_err e;
    PGresult *r = db_exec(c, &S_PLATFORM, 2, p, &e);
    if (!r) return e;
    const char *v = db_value(r);
    bool ok = v && !strcmp(v, platform);
    PQclear(r);
    return ok ? LDA_OK : LDA_ENOTFOUND;
}
