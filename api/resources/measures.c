/* Support measures: /v1/referrals/{id}/measures and /v1/measures/{id} (admin, coordinator). */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/referral_rules.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/casefile.h"
#include "store/housing_store.h"

#include <stdlib.h>
#include <string.h>

/* Birth date (days) of the head of the referral's household: -1 when unknown;
 * LDA_ENOTFOUND when the referral is not in scope. */
static lda_err head_birth(db_conn *c, const char *referral_id, const char *scope, int32_t *days)
{
    char *birth = NULL;
    lda_err e = referral_head_birth(c, referral_id, scope, &birth);
    *days = -1;
    if (!e && birth) parse_date(birth, days);
    free(birth);
    return e;
}

void measures_list(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = measure_list(c, r->params[0], scope, resource_limit(r),
                             query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit_page(r, "measure", json);
    resource_answer_list(r, c, e, json);
}

void measures_create(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    int32_t birth;
    lda_err e = head_birth(c, r->params[0], scope, &birth);
    if (e) {
        resource_answer(r, c, e, 201, NULL);
        return;
    }
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    measure_validate(r->body, r->body, V_CREATE, &ctx, birth, errors);
    if (resource_invalid(r, errors, "The measure is not valid.")) {
        db_release(c);
        return;
    }
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    e = measure_create(c, r->params[0], in, scope, &d);
    free(in);
    if (!e) {
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, "create", "measure", json_string_value(json_object_get(doc, "id")), 201);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/measures");
}

void measures_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    lda_err e = measure_get(c, r->params[0], scope, &d);
    if (!e) resource_audit(r, "read", "measure", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static bool housed(const json_t *measure)
{
    const char *o = schema_str(measure, "housing_outcome");
    return o && (!strcmp(o, "accessed") || !strcmp(o, "maintained"));
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = measure_get(c, r->params[0], scope, d);
    return e;
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    const char *scope = resource_scope(r);
    int32_t birth = -1;
    lda_err e =
        head_birth(c, json_string_value(json_object_get(merged, "referral")), scope, &birth);
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    vctx ctx = {today_paris()};
    /* field rules were checked on the patch; the cross-field rules on the merged measure */
    json_t *none = JCHECK(json_object());
    measure_validate(none, merged, V_PATCH, &ctx, birth, errors);
    json_decref(none);
    /* a referral placed in a housing offer keeps counting as housed or maintained */
    if (housed(stored) && !housed(merged)) {
        bool needed = false;
        e = placement_needs_housing(c, schema_str(merged, "referral"), r->params[0], &needed);
        if (e || needed) {
            if (e)
                problem_send_err(r, e, NULL);
            else
                problem_send(r, 409,
                             "The referral has placements in housing offers: its housing outcome "
                             "stays accessed or maintained on one of its measures.",
                             NULL);
            return false;
        }
    }
    return true;
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = measure_update(c, r->params[0], m, version, out);
    free(m);
    return e;
}

void measures_patch(lda_req *r)
{
    static const patch_flow flow = {MEASURE_FIELDS, "measure", "measure", load, check, save};
    resource_patch(r, &flow);
}
