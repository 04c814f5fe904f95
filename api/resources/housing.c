/* /v1/housing-offers and /v1/placements — the housing offer and the referrals placed in it
 * (admin and coordinator; siao tokens read back what their source pushed). An offer is not
 * personal data; a placement is (it says where a household lives) and is audited. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/housing_rules.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/housing_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *source_of(const lda_req *r)
{
    return r->who->role == ROLE_SIAO ? r->who->source : NULL;
}

/* The given query filters as a JSON object (caller json_decrefs). */
static json_t *filters_of(const lda_req *r, const char *const *names, size_t n)
{
    json_t *f = JCHECK(json_object());
    for (size_t i = 0; i < n; i++) {
        const char *val = query_get(&r->query, names[i]);
        if (val) json_object_set_new(f, names[i], JCHECK(json_string(val)));
    }
    return f;
}

/* ---- offers --------------------------------------------------------------------------- */

void housing_offers_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    static const char *const F[] = {"platform", "kind", "typology", "available_on",
                                    "updated_since"};
    json_t *f = filters_of(r, F, sizeof F / sizeof F[0]);
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = housing_offer_list(c, scope, source_of(r), f, resource_limit(r),
                                   query_get(&r->query, "cursor"), &json);
    json_decref(f);
    resource_answer_list(r, c, e, json);
}

void housing_offers_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    housing_offer_validate(r->body, r->body, V_CREATE, &ctx, errors);
    if (resource_invalid(r, errors, "The housing offer is not valid.")) return;
    if (!http_in_scope(r, schema_str(r->body, "platform"))) {
        problem_send(r, 403, "This token may not create offers on that platform.", NULL);
        return;
    }
    db_conn *c = resource_db(r);
    if (!c) return;
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    lda_err e = housing_offer_create(c, in, r->who->token_id, &d);
    free(in);
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/housing-offers");
}

void housing_offers_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    lda_err e = housing_offer_get(c, r->params[0], scope, source_of(r), &d);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err offer_load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = housing_offer_get(c, r->params[0], scope, NULL, d);
    return e;
}

/* Opens the transaction the save commits: the offer stays locked, its placements counted. */
static bool offer_check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                        json_t *errors)
{
    (void)stored;
    vctx ctx = {today_paris()};
    json_t *none = JCHECK(json_object());
    housing_offer_validate(none, merged, V_PATCH, &ctx, errors);
    json_decref(none);
    const char *scope = resource_scope(r);
    json_t *list = NULL;
    lda_err e = store_begin(c);
    if (!e) e = housing_offer_stays(c, r->params[0], scope, &list);
    stay *stays = NULL;
    size_t n = 0;
    if (!e && !stays_from_json(list, &stays, &n)) e = LDA_EINTERNAL;
    json_decref(list);
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    int32_t to = schema_date(merged, "available_to");
    housing_offer_holds((int)json_integer_value(json_object_get(merged, "capacity")),
                        schema_date(merged, "available_from"), to < 0 ? -1 : to, stays, n, errors);
    free(stays);
    return true;
}

static lda_err offer_save(lda_req *r, db_conn *c, const json_t *merged, long version,
                          store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = housing_offer_update(c, r->params[0], m, version, out);
    free(m);
    if (!e) e = store_commit(c);
    if (e) {
        store_rollback(c);
        store_doc_free(out);
    }
    return e;
}

void housing_offers_patch(lda_req *r)
{
    static const patch_flow flow = {HOUSING_OFFER_FIELDS, "housing offer", NULL,
                                    offer_load,           offer_check,     offer_save};
    resource_patch(r, &flow);
}

/* ---- placements ----------------------------------------------------------------------- */

void placements_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    static const char *const F[] = {"platform", "offer", "referral", "current", "updated_since"};
    json_t *f = filters_of(r, F, sizeof F / sizeof F[0]);
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = placement_list(c, scope, source_of(r), f, resource_limit(r),
                               query_get(&r->query, "cursor"), &json);
    json_decref(f);
    if (!e) resource_audit_page(r, "placement", json);
    resource_answer_list(r, c, e, json);
}

/*
 * The placement rules on `p` (as it will be stored), with its referral and offer locked in
 * the open transaction; `except`: the placement a PATCH changes. Appends 422 errors, or
 * answers another problem itself (404, 409) and returns false. *platform receives the
 * offer's platform (caller frees).
 */
static bool placement_allowed(lda_req *r, db_conn *c, const json_t *p, const char *except,
                              json_t *errors, char **platform)
{
    const char *scope = resource_scope(r);
    json_t *ctx = NULL;
    lda_err e = placement_context(c, schema_str(p, "referral"), schema_str(p, "offer"), scope,
                                  except, &ctx);
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    bool ok = true;
    if (json_is_null(json_object_get(ctx, "referral"))) {
        schema_error(errors, "", "referral", "no such referral in your scope");
        ok = false;
    }
    if (json_is_null(json_object_get(ctx, "offer"))) {
        schema_error(errors, "", "offer", "no such housing offer in your scope");
        ok = false;
    }
    placement_ctx pc;
    if (ok && !placement_ctx_from_json(ctx, &pc)) {
        json_decref(ctx);
        problem_send_err(r, LDA_EINTERNAL, NULL);
        return false;
    }
    if (ok) {
        int32_t left = schema_date(p, "left_on");
        stay s = {schema_date(p, "entered_on"), left < 0 ? -1 : left};
        const char *why = NULL;
        placement_result res = placement_check(&pc, s, errors, &why);
        *platform = xstrdup(pc.offer_platform);
        free((void *)pc.offer_stays);
        free((void *)pc.referral_stays);
        if (res == PLACEMENT_CONFLICT) {
            json_decref(ctx);
            problem_send(r, 409, why, NULL);
            return false;
        }
    }
    json_decref(ctx);
    return true;
}

void placements_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    placement_validate(r->body, r->body, V_CREATE, &ctx, errors);
    if (resource_invalid(r, errors, "The placement is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    char *platform = NULL;
    errors = JCHECK(json_array());
    lda_err e = store_begin(c);
    if (e || !placement_allowed(r, c, r->body, NULL, errors, &platform)) {
        json_decref(errors);
        free(platform);
        if (e) problem_send_err(r, e, NULL);
        db_release(c);
        return;
    }
    if (resource_invalid(r, errors, "The placement is not valid.")) {
        free(platform);
        db_release(c);
        return;
    }
    json_t *rec = JCHECK(json_deep_copy(r->body));
    json_object_set_new(rec, "platform", JCHECK(json_string(platform)));
    free(platform);
    char *in = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    store_doc d = {0};
    e = placement_create(c, in, r->who->token_id, &d);
    free(in);
    if (!e) e = store_commit(c);
    if (e) store_doc_free(&d);
    if (!e) {
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, "create", "placement", json_string_value(json_object_get(doc, "id")),
                       201);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/placements");
}

void placements_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    lda_err e = placement_get(c, r->params[0], scope, source_of(r), &d);
    if (!e) resource_audit(r, "read", "placement", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err placement_load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = placement_get(c, r->params[0], scope, NULL, d);
    return e;
}

static bool placement_check_patch(lda_req *r, db_conn *c, const json_t *stored,
                                  const json_t *merged, json_t *errors)
{
    (void)stored;
    vctx ctx = {today_paris()};
    json_t *none = JCHECK(json_object());
    placement_validate(none, merged, V_PATCH, &ctx, errors);
    json_decref(none);
    if (json_array_size(errors)) return true;
    lda_err e = store_begin(c);
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    char *platform = NULL;
    bool ok = placement_allowed(r, c, merged, r->params[0], errors, &platform);
    free(platform);
    return ok;
}

static lda_err placement_save(lda_req *r, db_conn *c, const json_t *merged, long version,
                              store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = placement_update(c, r->params[0], m, version, out);
    free(m);
    if (!e) e = store_commit(c);
    if (e) {
        store_rollback(c);
        store_doc_free(out);
    }
    return e;
}

void placements_patch(lda_req *r)
{
    static const patch_flow flow = {PLACEMENT_FIELDS, "placement",           "placement",
                                    placement_load,   placement_check_patch, placement_save};
    resource_patch(r, &flow);
}
