/* /v1/fluidity-meetings — the State-led meetings with the social landlords of a territory:
 * landlords present, households presented (referrals of the platform), proposals made and
 * accepted. Admin and coordinator; audited (a meeting names the referrals presented). */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/housing_rules.h"
#include "domain/vocab.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/housing_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every household presented must be a referral of the meeting's platform in the caller's
 * scope, received on or before the meeting: appends an error per one that is not (the ids
 * that are not UUIDs have their own error). */
static lda_err presented_ok(lda_req *r, db_conn *c, const json_t *m, json_t *errors)
{
    const json_t *list = json_object_get(m, "households_presented");
    json_t *uuids = JCHECK(json_array());
    for (size_t i = 0; json_is_array(list) && i < json_array_size(list); i++)
        if (is_uuid(json_string_value(json_array_get(list, i))))
            json_array_append(uuids, json_array_get(list, i));
    if (!json_array_size(uuids) || !schema_str(m, "platform")) {
        json_decref(uuids);
        return LDA_OK;
    }
    char *ids = json_dumps(uuids, JSON_COMPACT);
    const char *scope = resource_scope(r);
    json_decref(uuids);
    json_t *found = NULL;
    lda_err e = fluidity_referrals(c, ids, schema_str(m, "platform"), scope, &found);
    free(ids);
    if (e) return e;
    int32_t held = schema_date(m, "held_on");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *id = json_string_value(json_array_get(list, i));
        if (!is_uuid(id)) continue;
        const json_t *received = NULL;
        const char *key;
        json_t *v;
        json_object_foreach(found, key, v) if (!strcasecmp(key, id)) received = v;
        char at[24];
        snprintf(at, sizeof at, "%zu", i);
        int32_t on = -1;
        if (!received)
            schema_error(errors, "/households_presented", at,
                         "no such referral on the meeting's platform in your scope");
        else if (parse_date(json_string_value(received), &on) && held >= 0 && on > held)
            schema_error(errors, "/households_presented", at,
                         "this referral was received after the meeting");
    }
    json_decref(found);
    return LDA_OK;
}

/* Records the audit event of a meeting read or written (it names the referrals presented). */
static void audit_meeting(lda_req *r, const char *action, const char *json, int status)
{
    json_t *doc = json_loads(json, 0, NULL);
    resource_audit(r, action, "fluidity_meeting", json_string_value(json_object_get(doc, "id")),
                   status);
    json_decref(doc);
}

void fluidity_meetings_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    json_t *f = JCHECK(json_object());
    static const char *const F[] = {"platform", "held_from", "held_to"};
    for (size_t i = 0; i < sizeof F / sizeof F[0]; i++) {
        const char *val = query_get(&r->query, F[i]);
        if (val) json_object_set_new(f, F[i], JCHECK(json_string(val)));
    }
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = fluidity_meeting_list(c, scope, f, resource_limit(r),
                                      query_get(&r->query, "cursor"), &json);
    json_decref(f);
    if (!e) resource_audit_page(r, "fluidity_meeting", json);
    resource_answer_list(r, c, e, json);
}

void fluidity_meetings_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    fluidity_meeting_validate(r->body, r->body, V_CREATE, &ctx, errors);
    const char *platform = schema_str(r->body, "platform");
    bool known = vocab_has(vocab_find("platform"), platform);
    if (known && !http_in_scope(r, platform)) {
        if (resource_invalid(r, errors, "The fluidity meeting is not valid.")) return;
        problem_send(r, 403, "This token may not record meetings on that platform.", NULL);
        return;
    }
    /* on its platform, the households presented are checked even when other fields are not
     * valid, so that the answer lists every error */
    if (!known && resource_invalid(r, errors, "The fluidity meeting is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) {
        json_decref(errors);
        return;
    }
    lda_err e = presented_ok(r, c, r->body, errors);
    if (e) {
        json_decref(errors);
        resource_answer(r, c, e, 201, NULL);
        return;
    }
    if (resource_invalid(r, errors, "The fluidity meeting is not valid.")) {
        db_release(c);
        return;
    }
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    e = fluidity_meeting_create(c, in, r->who->token_id, &d);
    free(in);
    if (!e) audit_meeting(r, "create", d.json, 201);
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/fluidity-meetings");
}

void fluidity_meetings_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    lda_err e = fluidity_meeting_get(c, r->params[0], scope, &d);
    if (!e) audit_meeting(r, "read", d.json, 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = fluidity_meeting_get(c, r->params[0], scope, d);
    return e;
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    (void)stored;
    vctx ctx = {today_paris()};
    json_t *none = JCHECK(json_object());
    fluidity_meeting_validate(none, merged, V_PATCH, &ctx, errors);
    json_decref(none);
    lda_err e = presented_ok(r, c, merged, errors);
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    return true;
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = fluidity_meeting_update(c, r->params[0], m, version, out);
    free(m);
    return e;
}

void fluidity_meetings_patch(lda_req *r)
{
    static const patch_flow flow = {
        FLUIDITY_MEETING_FIELDS, "fluidity meeting", "fluidity_meeting", load, check, save};
    resource_patch(r, &flow);
}
