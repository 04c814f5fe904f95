/* /v1/referrals — referrals (saisines), their transitions and timeline.
 * Partners create referrals (household inline) and read the status of those they created. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "domain/referral_rules.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/casefile.h"
#include "store/token_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the caller sees of referrals: partners the status of those their token created,
 * siao tokens those their source pushed, the others everything in scope. */
static referral_view view_of(const lda_req *r, const char *scope)
{
    bool partner = r->who->role == ROLE_PARTNER;
    referral_view v = {scope, partner ? r->who->token_id : NULL, partner,
                       r->who->role == ROLE_SIAO ? r->who->source : NULL};
    return v;
}

void referrals_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    referral_view v = view_of(r, scope);
    json_t *f = JCHECK(json_object());
    static const char *const FILTERS[] = {"platform",     "status",        "partner",
                                          "household",    "received_from", "received_to",
                                          "updated_since"};
    for (size_t i = 0; i < sizeof FILTERS / sizeof FILTERS[0]; i++) {
        const char *val = query_get(&r->query, FILTERS[i]);
        if (val) json_object_set_new(f, FILTERS[i], JCHECK(json_string(val)));
    }
    lda_err e = referral_list(c, &v, f, resource_limit(r), query_get(&r->query, "cursor"), &json);
    json_decref(f);
    if (!e) resource_audit_page(r, "referral", json);
    resource_answer_list(r, c, e, json);
}

void referrals_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    referral_validate(r->body, V_CREATE, &ctx, errors);
    /* ReferralInput: these are absent or set on creation (null is for PATCH and batches) */
    static const char *const NOT_NULL[] = {"partner", "referrer_kind", "referrer_name"};
    for (size_t i = 0; i < sizeof NOT_NULL / sizeof NOT_NULL[0]; i++)
        if (json_is_null(json_object_get(r->body, NOT_NULL[i])))
            schema_error(errors, "", NOT_NULL[i], "must not be null");
    const json_t *household = json_object_get(r->body, "household");
    if (r->who->role == ROLE_PARTNER && json_is_string(household))
        schema_error(errors, "", "household", "a partner gives the household inline, as an object");
    if (resource_invalid(r, errors, "The referral is not valid.")) return;
    const char *platform = schema_str(r->body, "platform");
    if (!http_in_scope(r, platform)) {
        problem_send(r, 403, "This token may not create referrals on that platform.", NULL);
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
    char *in = json_dumps(r->body, JSON_COMPACT);
    /* A partner token refers as one organisation: the first registered partner it names
     * (then bound to the token); naming another is refused. */
    const char *named = schema_str(r->body, "partner");
    if (r->who->role == ROLE_PARTNER && named) {
        char *bound = NULL;
        lda_err be = token_bind_partner(c, r->who->token_id, named, scope, &bound);
        bool other = !be && bound && strcmp(bound, named);
        free(bound);
        if (be || other) {
            db_release(c);
            free(household_in);
            free(in);
            if (be)
                problem_send_err(r, be, NULL);
            else
                problem_send(r, 403,
                             "A partner token refers as the organisation it stands for: the "
                             "first registered partner it named.",
                             NULL);
            return;
        }
    }
    referral_view v = view_of(r, scope);
    store_doc d = {0};
    const char *bad = NULL;
    char created_household[37];
    lda_err e = referral_create(c, in, household_in, household_in ? key : NULL, r->who->token_id,
                                r->who->role_name, &v, &d, &bad, created_household);
    free(in);
    free(household_in);
    if (e == LDA_EINVALID && bad) {
        db_release(c);
        json_t *errs = JCHECK(json_array());
        schema_error(errs, "", bad,
                     !strcmp(bad, "household") ? "no such household on this platform in your scope"
                                               : "no such partner in your scope");
        problem_send(r, 422, "The referral is not valid.", errs);
        return;
    }
    if (!e) {
        if (*created_household) resource_audit(r, "create", "household", created_household, 201);
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, "create", "referral", json_string_value(json_object_get(doc, "id")), 201);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/referrals");
}

void referrals_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    referral_view v = view_of(r, scope);
    store_doc d = {0};
    lda_err e = referral_get(c, r->params[0], &v, &d);
    if (!e) resource_audit(r, "read", "referral", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    referral_view v = {scope, NULL, false, NULL};
    lda_err e = referral_get(c, r->params[0], &v, d);
    return e;
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    (void)r;
    (void)stored;
    const json_t *partner = json_object_get(merged, "partner");
    if (json_is_string(partner)) {
        if (!json_is_null(json_object_get(merged, "referrer_kind")) ||
            !json_is_null(json_object_get(merged, "referrer_name")))
            schema_error(
                errors, "", "partner",
                "give either a registered partner or referrer_kind/referrer_name, not both");
        else if (!json_equal(partner, json_object_get(stored, "partner"))) {
            const char *scope = resource_scope(r);
            store_doc d = {0};
            lda_err e = partner_get(c, json_string_value(partner), scope, &d);
            store_doc_free(&d);
            if (e == LDA_ENOTFOUND)
                schema_error(errors, "", "partner", "no such partner in your scope");
            else if (e) {
                problem_send_err(r, e, NULL);
                return false;
            }
        }
    }
    const json_t *conc = json_object_get(merged, "concertation");
    int32_t held = json_is_object(conc) ? schema_date(conc, "held_on") : -1;
    int32_t received = schema_date(merged, "received_on");
    if (held >= 0 && received >= 0 && held < received)
        schema_error(errors, "/concertation", "held_on", "must not be before received_on");
    /* the reception stays on or before every later status date */
    const char *status;
    json_t *date;
    json_object_foreach(json_object_get(stored, "status_dates"), status, date)
    {
        int32_t d;
        if (strcmp(status, "received") && parse_date(json_string_value(date), &d) && received > d) {
            schema_error(errors, "", "received_on", "must not be after the date of a later status");
            break;
        }
    }
    return true;
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = referral_update(c, r->params[0], m, version, out);
    free(m);
    return e;
}

void referrals_patch(lda_req *r)
{
    static const patch_flow flow = {REFERRAL_FIELDS, "referral", "referral", load, check, save};
    resource_patch(r, &flow);
}

void referrals_transition(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    schema_validate(TRANSITION_FIELDS, r->body, V_CREATE, &ctx, "", errors);
    if (resource_invalid(r, errors, "The transition is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    referral_view v = {scope, NULL, false, NULL};
    store_doc d = {0};
    const char *why = NULL;
    lda_err e = referral_transition(c, r->params[0], schema_str(r->body, "to"),
                                    schema_str(r->body, "on"), schema_str(r->body, "note"),
                                    r->who->token_id, r->who->role_name, &v, &d, &why);
    if (e == LDA_ECONFLICT || e == LDA_EINVALID) {
        db_release(c);
        if (e == LDA_ECONFLICT)
            problem_send(r, 409, why, NULL);
        else {
            json_t *errs = JCHECK(json_array());
            schema_error(errs, "", "on", "must not be before the date of the current status");
            problem_send(r, 422, "The transition is not valid.", errs);
        }
        return;
    }
    if (!e) resource_audit(r, "transition", "referral", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

void referrals_events(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = referral_events(c, r->params[0], scope, resource_limit(r),
                                query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit(r, "read", "referral", r->params[0], 200);
    resource_answer_list(r, c, e, json);
}
