/* /v1/prevention-cases — households at risk of eviction: the case, its procedure stage and
 * the stage history. Partners create cases (household inline) and read those they created;
 * siao tokens read back what their source pushed. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "domain/prevention_rules.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/prevention_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static case_view view_of(const lda_req *r, const char *scope)
{
    bool partner = r->who->role == ROLE_PARTNER;
    case_view v = {scope, partner ? r->who->token_id : NULL, partner,
                   r->who->role == ROLE_SIAO ? r->who->source : NULL};
    return v;
}

/* Sets rec's PEX evaluation against the rules of `platform`'s AMI, read in the open
 * transaction. */
static lda_err evaluate(db_conn *c, const char *platform, json_t *rec)
{
    int ami = 0;
    json_t *arr = NULL;
    lda_err e = prevention_rules_load(c, platform, &ami, &arr);
    if (e) return e;
    pex_rule *rules = NULL;
    size_t n = 0;
    if (!pex_rules_from_json(arr, &rules, &n)) e = LDA_EINTERNAL;
    json_decref(arr);
    if (!e) pex_annotate(rec, rules, n, ami);
    free(rules);
    return e;
}

void prevention_cases_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    case_view v = view_of(r, scope);
    json_t *f = JCHECK(json_object());
    static const char *const FILTERS[] = {"platform", "stage", "household", "updated_since"};
    for (size_t i = 0; i < sizeof FILTERS / sizeof FILTERS[0]; i++) {
        const char *val = query_get(&r->query, FILTERS[i]);
        if (val) json_object_set_new(f, FILTERS[i], JCHECK(json_string(val)));
    }
    lda_err e =
        prevention_case_list(c, &v, f, resource_limit(r), query_get(&r->query, "cursor"), &json);
    json_decref(f);
    if (!e) resource_audit_page(r, "prevention_case", json);
    resource_answer_list(r, c, e, json);
}

void prevention_cases_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    prevention_case_validate(r->body, V_CREATE, &ctx, errors);
    const json_t *household = json_object_get(r->body, "household");
    if (r->who->role == ROLE_PARTNER && json_is_string(household))
        schema_error(errors, "", "household", "a partner gives the household inline, as an object");
    if (resource_invalid(r, errors, "The prevention case is not valid.")) return;
    const char *platform = schema_str(r->body, "platform");
    if (!http_in_scope(r, platform)) {
        problem_send(r, 403, "This token may not create prevention cases on that platform.", NULL);
        return;
    }
    char key[SECRET_HASH_HEX] = "", *household_in = NULL;
    if (json_is_object(household)) {
        const json_t *head = json_object_get(household, "head");
        household_person_key(household_key(), schema_str(head, "last_name"),
                             schema_str(head, "first_name"), schema_str(head, "birth_date"), key);
        household_in = json_dumps(household, JSON_COMPACT);
    }
    db_conn *c = resource_db(r);
    if (!c) {
        free(household_in);
        return;
    }
    const char *scope = resource_scope(r);
    case_view v = view_of(r, scope);
    json_t *rec = JCHECK(json_deep_copy(r->body));
    if (household_in) json_object_del(rec, "household");
    store_doc d = {0};
    const char *bad = NULL;
    char created_household[37] = "";
    lda_err e = prevention_tx_begin(c, false);
    if (!e) e = evaluate(c, platform, rec);
    if (!e) {
        char *in = json_dumps(rec, JSON_COMPACT);
        e = prevention_case_create(c, in, household_in, household_in ? key : NULL, r->who->token_id,
                                   r->who->role_name, &v, &d, &bad, created_household);
        free(in);
    }
    if (!e) e = store_commit(c);
    if (e) store_doc_free(&d);
    json_decref(rec);
    free(household_in);
    if (e == LDA_EINVALID && bad) {
        db_release(c);
        json_t *errs = JCHECK(json_array());
        schema_error(errs, "", bad, "no such household on this platform in your scope");
        problem_send(r, 422, "The prevention case is not valid.", errs);
        return;
    }
    if (!e) {
        if (*created_household) resource_audit(r, "create", "household", created_household, 201);
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, "create", "prevention_case",
                       json_string_value(json_object_get(doc, "id")), 201);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/prevention-cases");
}

void prevention_cases_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    case_view v = view_of(r, scope);
    store_doc d = {0};
    lda_err e = prevention_case_get(c, r->params[0], &v, &d);
    if (!e) resource_audit(r, "read", "prevention_case", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    case_view v = {scope, NULL, false, NULL};
    lda_err e = prevention_case_get(c, r->params[0], &v, d);
    return e;
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    (void)r;
    (void)c;
    (void)stored;
    bool debt = !json_is_null(json_object_get(merged, "debt_eur")),
         on = !json_is_null(json_object_get(merged, "debt_on"));
    if (debt != on)
        schema_error(errors, "", debt ? "debt_on" : "debt_eur",
                     "debt_eur and debt_on go together (the debt and the date it was known)");
    return true;
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    json_t *rec = JCHECK(json_deep_copy(merged));
    lda_err e = prevention_tx_begin(c, false);
    if (!e) e = evaluate(c, schema_str(merged, "platform"), rec);
    if (!e) {
        char *m = json_dumps(rec, JSON_COMPACT);
        e = prevention_case_update(c, r->params[0], m, version, out);
        free(m);
    }
    if (!e) e = store_commit(c);
    if (e) {
        store_rollback(c);
        store_doc_free(out);
    }
    json_decref(rec);
    return e;
}

void prevention_cases_patch(lda_req *r)
{
    static const patch_flow flow = {
        PREVENTION_CASE_FIELDS, "prevention case", "prevention_case", load, check, save};
    resource_patch(r, &flow);
}

/* ---- the stage history ---------------------------------------------------------------- */

void prevention_stages_create(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    schema_validate(PREVENTION_STAGE_FIELDS, r->body, V_CREATE, &ctx, "", errors);
    if (resource_invalid(r, errors, "The stage is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *from = NULL, *from_on = NULL;
    const char *to = schema_str(r->body, "stage"), *on = schema_str(r->body, "on");
    store_doc d = {0};
    lda_err e = store_begin(c);
    if (!e) e = prevention_case_lock(c, r->params[0], scope, &from, &from_on);
    stage_check st = STAGE_OK;
    if (!e) {
        int32_t since = -1;
        if (from_on) parse_date(from_on, &since);
        st = prevention_stage_check(from, since, to, schema_date(r->body, "on"));
    }
    if (!e && st == STAGE_OK) {
        e = prevention_case_stage(c, r->params[0], from, to, on, schema_str(r->body, "note"),
                                  r->who->token_id, r->who->role_name, &d);
        if (!e) e = store_commit(c);
    }
    free(from);
    free(from_on);
    if (!e && st != STAGE_OK) {
        db_release(c);
        if (st == STAGE_NOT_FORWARD)
            problem_send(r, 409,
                         "A procedure only moves forward: this stage is not after the case's "
                         "current stage.",
                         NULL);
        else {
            json_t *errs = JCHECK(json_array());
            schema_error(errs, "", "on", "must not be before the date of the current stage");
            problem_send(r, 422, "The stage is not valid.", errs);
        }
        return;
    }
    if (e) store_doc_free(&d);
    if (!e) resource_audit(r, "transition", "prevention_case", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

void prevention_stages_list(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = prevention_stage_list(c, r->params[0], scope, resource_limit(r),
                                      query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit(r, "read", "prevention_case", r->params[0], 200);
    resource_answer_list(r, c, e, json);
}
