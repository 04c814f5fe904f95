/* Actions on a prevention case (/v1/prevention-cases/{id}/actions, /v1/prevention-actions/{id})
 * and the follow-ups of the household's situation (/v1/prevention-cases/{id}/follow-ups):
 * admin and coordinator. The case is locked while its rules are checked, so that its first
 * action (from which the follow-ups are dated) cannot move under a follow-up. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/prevention_rules.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/prevention_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t ctx_date(const json_t *ctx, const char *name)
{
    int32_t d = schema_date(ctx, name);
    return d < 0 ? -1 : d;
}

static const char MOVES[] = "This case has follow-ups, dated from its first action: an action "
                            "cannot change the date of its first action.";

/* The case's rules on an action (`action`: as it will be stored), with the case locked in
 * the open transaction: a usable partner (422), the first action kept when there are
 * follow-ups (409). `stored_on`: the action's date before a PATCH (-1 for a new one).
 * Answers the problem itself and returns false when the action is refused. */
static bool action_allowed(lda_req *r, db_conn *c, const char *case_id, const char *except,
                           const json_t *action, int32_t stored_on)
{
    const char *scope = resource_scope(r);
    json_t *ctx = NULL;
    lda_err e = prevention_case_context(c, case_id, scope, except, &ctx);
    const char *partner = schema_str(action, "partner");
    if (!e && partner) {
        e = prevention_partner_usable(c, partner, schema_str(ctx, "platform"));
        if (e == LDA_ENOTFOUND) {
            json_decref(ctx);
            json_t *errs = JCHECK(json_array());
            schema_error(errs, "", "partner", "no such partner on the case's platform");
            problem_send(r, 422, "The action is not valid.", errs);
            return false;
        }
    }
    if (e) {
        json_decref(ctx);
        problem_send_err(r, e, NULL);
        return false;
    }
    int32_t others = ctx_date(ctx, "first_action_on");
    int32_t current = stored_on >= 0 && (others < 0 || stored_on < others) ? stored_on : others;
    bool moves = json_array_size(json_object_get(ctx, "follow_ups")) > 0 &&
                 prevention_first_action_moves(current, others, schema_date(action, "done_on"));
    json_decref(ctx);
    if (moves) {
        problem_send(r, 409, MOVES, NULL);
        return false;
    }
    return true;
}

void prevention_actions_list(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = prevention_action_list(c, r->params[0], scope, resource_limit(r),
                                       query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit_page(r, "prevention_action", json);
    resource_answer_list(r, c, e, json);
}

void prevention_actions_create(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    prevention_action_validate(r->body, V_CREATE, &ctx, errors);
    if (resource_invalid(r, errors, "The action is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    lda_err e = store_begin(c);
    if (e) {
        resource_answer(r, c, e, 201, NULL);
        return;
    }
    if (!action_allowed(r, c, r->params[0], NULL, r->body, -1)) {
        db_release(c);
        return;
    }
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    e = prevention_action_create(c, r->params[0], in, &d);
    free(in);
    if (!e) e = store_commit(c);
    if (e) store_doc_free(&d);
    if (!e) {
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, "create", "prevention_action",
                       json_string_value(json_object_get(doc, "id")), 201);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/prevention-actions");
}

void prevention_actions_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    lda_err e = prevention_action_get(c, r->params[0], scope, &d);
    if (!e) resource_audit(r, "read", "prevention_action", r->params[0], 200);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err action_load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = prevention_action_get(c, r->params[0], scope, d);
    return e;
}

/* Opens the transaction the save commits: the case stays locked from the check on. */
static bool action_check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                         json_t *errors)
{
    (void)errors;
    lda_err e = store_begin(c);
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    return action_allowed(r, c, schema_str(stored, "case"), r->params[0], merged,
                          schema_date(stored, "done_on"));
}

static lda_err action_save(lda_req *r, db_conn *c, const json_t *merged, long version,
                           store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = prevention_action_update(c, r->params[0], m, version, out);
    free(m);
    if (!e) e = store_commit(c);
    if (e) {
        store_rollback(c);
        store_doc_free(out);
    }
    return e;
}

void prevention_actions_patch(lda_req *r)
{
    static const patch_flow flow = {PREVENTION_ACTION_FIELDS,
                                    "action",
                                    "prevention_action",
                                    action_load,
                                    action_check,
                                    action_save};
    resource_patch(r, &flow);
}

/* ---- follow-ups ----------------------------------------------------------------------- */

void prevention_follow_ups_list(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = prevention_follow_up_list(c, r->params[0], scope, resource_limit(r),
                                          query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit_page(r, "prevention_follow_up", json);
    resource_answer_list(r, c, e, json);
}

/* The rules of a follow-up against its case's context: 409 without an action (*why), else
 * 422 errors (not due yet, inconsistent situation). *due receives the due date. */
static void follow_up_rules(const json_t *ctx, const json_t *body, int32_t today, json_t *errors,
                            const char **why, char due[11])
{
    *why = NULL;
    due[0] = '\0';
    int32_t first = ctx_date(ctx, "first_action_on");
    if (first < 0) {
        *why = "This case has no action yet: its follow-ups are dated from its first action.";
        return;
    }
    int months = (int)json_integer_value(json_object_get(body, "at_months"));
    int32_t due_on = prevention_follow_up_due(first, months);
    format_date(due_on, due);
    if (due_on > today) {
        char msg[96];
        snprintf(msg, sizeof msg, "this follow-up is due on %s: it cannot be recorded before", due);
        schema_error(errors, "", "at_months", msg);
        return;
    }
    const json_t *list = json_object_get(ctx, "follow_ups");
    size_t n = json_array_size(list);
    follow_up_obs *others = xcalloc(n + 1, sizeof *others);
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(list, i);
        others[i].months = (int)json_integer_value(json_object_get(f, "at_months"));
        others[i].situation = schema_str(f, "situation");
    }
    const char *conflict = prevention_follow_up_conflict(
        others, n, months, schema_str(body, "situation"), due_on, ctx_date(ctx, "evicted_on"));
    free(others);
    if (conflict) schema_error(errors, "", "situation", conflict);
}

void prevention_follow_ups_create(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    json_t *errors = JCHECK(json_array());
    vctx vc = {today_paris()};
    prevention_follow_up_validate(r->body, &vc, errors);
    if (resource_invalid(r, errors, "The follow-up is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    json_t *ctx = NULL;
    lda_err e = store_begin(c);
    if (!e) e = prevention_case_context(c, r->params[0], scope, NULL, &ctx);
    if (e) {
        resource_answer(r, c, e, 201, NULL);
        return;
    }
    const char *why = NULL;
    char due[11];
    errors = JCHECK(json_array());
    follow_up_rules(ctx, r->body, vc.today, errors, &why, due);
    json_decref(ctx);
    if (why) {
        json_decref(errors);
        db_release(c);
        problem_send(r, 409, why, NULL);
        return;
    }
    if (resource_invalid(r, errors, "The follow-up is not valid.")) {
        db_release(c);
        return;
    }
    store_doc d = {0};
    bool created = false;
    e = prevention_follow_up_put(c, r->params[0],
                                 (int)json_integer_value(json_object_get(r->body, "at_months")),
                                 due, schema_str(r->body, "situation"), &d, &created);
    if (!e) e = store_commit(c);
    if (e) store_doc_free(&d);
    if (!e) {
        json_t *doc = json_loads(d.json, 0, NULL);
        resource_audit(r, created ? "create" : "update", "prevention_follow_up",
                       json_string_value(json_object_get(doc, "id")), created ? 201 : 200);
        json_decref(doc);
    }
    resource_send_doc(r, c, e, created ? 201 : 200, d.json, d.version, NULL);
}
