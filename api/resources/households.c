/* /v1/households — admin and coordinator (identity included); erasure: admin. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/casefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The person_key of a validated household (with its complete head). */
static void person_key_of(const json_t *h, char out[SECRET_HASH_HEX])
{
    const json_t *head = json_object_get(h, "head");
    household_person_key(household_key(), schema_str(head, "last_name"),
                         schema_str(head, "first_name"), schema_str(head, "birth_date"), out);
}

static bool platform_writable(lda_req *r, const json_t *h)
{
    const char *p = schema_str(h, "platform");
    if (p && http_in_scope(r, p)) return true;
    problem_send(r, 403, "This token may not write households of that platform.", NULL);
    return false;
}

/* 409 naming the household the person already has on the platform. */
static void send_duplicate(lda_req *r, const char *existing_id)
{
    problem_send_with(
        r, 409, "This person already has an active household on this platform: see existing_id.",
        NULL, existing_id ? json_pack("{s:s}", "existing_id", existing_id) : NULL);
}

void households_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    bool siao = r->who->role == ROLE_SIAO;
    lda_err e =
        household_list(c, scope, siao ? r->who->source : NULL, query_get(&r->query, "platform"),
                       query_get(&r->query, "updated_since"), !siao, resource_limit(r),
                       query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit_page(r, "household", json);
    resource_answer_list(r, c, e, json);
}

void households_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    household_validate(r->body, V_CREATE, &ctx, "", errors);
    if (resource_invalid(r, errors, "The household is not valid.")) return;
    if (!platform_writable(r, r->body)) return;
    char key[SECRET_HASH_HEX];
    person_key_of(r->body, key);
    db_conn *c = resource_db(r);
    if (!c) return;
    char *in = json_dumps(r->body, JSON_COMPACT), *existing = NULL;
    store_doc d = {0};
    lda_err e = household_create(c, in, key, r->who->token_id, true, &d, &existing);
    free(in);
    if (e == LDA_ECONFLICT) {
        db_release(c);
        send_duplicate(r, existing);
        free(existing);
        return;
    }
    if (!e) {
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, "create", "household", json_string_value(json_object_get(doc, "id")),
                       201);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/households");
}

void households_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    bool siao = r->who->role == ROLE_SIAO;
    lda_err e = household_get_from(c, r->params[0], scope, siao ? r->who->source : NULL, !siao, &d);
    if (!e) resource_audit(r, "read", "household", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = household_get(c, r->params[0], scope, true, d);
    return e;
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    if (!json_is_null(json_object_get(stored, "erased_at"))) {
        problem_send(r, 409, "This household's identity was erased: it can no longer change.",
                     NULL);
        return false;
    }
    if (!platform_writable(r, merged)) return false;
    /* A referral stays on the platform it was sent to: its household stays with it. */
    const char *to = schema_str(merged, "platform");
    if (to && strcmp(to, schema_str(stored, "platform") ? schema_str(stored, "platform") : "")) {
        bool elsewhere = false;
        lda_err e = referral_elsewhere(c, r->params[0], to, &elsewhere);
        if (e) {
            problem_send_err(r, e, NULL);
            return false;
        }
        if (elsewhere) {
            problem_send(r, 409,
                         "This household has referrals on its platform: it cannot move to another.",
                         NULL);
            return false;
        }
    }
    const json_t *adults = json_object_get(merged, "adults");
    if (json_integer_value(adults) < 1)
        schema_error(errors, "", "adults", "must be at least 1 (the head of household)");
    return true;
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char key[SECRET_HASH_HEX], *existing = NULL;
    person_key_of(merged, key);
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = household_update(c, r->params[0], m, key, version, true, out, &existing);
    free(m);
    if (e == LDA_ECONFLICT) send_duplicate(r, existing);
    free(existing);
    return e;
}

void households_patch(lda_req *r)
{
    static const patch_flow flow = {HOUSEHOLD_FIELDS, "household", "household", load, check, save};
    resource_patch(r, &flow);
}

void households_delete(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    lda_err e = household_erase(c, r->params[0], scope);
    db_release(c);
    if (e) {
        problem_send_err(r, e, NULL);
        return;
    }
    resource_audit(r, "erase", "household", r->params[0], 204);
    http_send_no_content(r);
}
