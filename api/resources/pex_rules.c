/* /v1/prevention-rules — the PEX mobile team's eligibility rule per AMI and period, as data.
 * Reading is public (reference data); writing is for admins. A rule written re-evaluates
 * every case of its AMI in the same transaction, under an exclusive lock on the rules. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/prevention_rules.h"
#include "resources/resource.h"
#include "store/prevention_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char OVERLAP[] = "Another rule of this AMI covers part of this period: close it "
                              "first (valid_to), so that one rule holds on each day.";

/* In the open (exclusive) transaction: refuses a rule whose period meets another of its AMI
 * (*overlap true), else writes it with `write` and re-evaluates the cases of its AMI. */
static lda_err write_rule(db_conn *c, const json_t *rule, const char *self_id,
                          lda_err (*write)(lda_req *, db_conn *, void *), lda_req *r, void *arg,
                          bool *overlap)
{
    *overlap = false;
    int ami = 0;
    json_t *arr = NULL, *cases = NULL, *changes = NULL;
    pex_rule *rules = NULL;
    size_t n = 0;
    lda_err e = prevention_rules_load(c, NULL, &ami, &arr);
    if (e) return e;
    pex_rule candidate;
    pex_rule_from_object(rule, &candidate);
    if (!pex_rules_from_json(arr, &rules, &n)) {
        e = LDA_EINTERNAL;
        goto done;
    }
    if (pex_rule_overlap(rules, n, &candidate, self_id)) {
        *overlap = true;
        goto done;
    }
    if ((e = write(r, c, arg))) goto done;
    /* the rules as they are now, then every case of the AMI against them */
    json_decref(arr);
    free(rules);
    rules = NULL;
    arr = NULL;
    if ((e = prevention_rules_load(c, NULL, &ami, &arr))) goto done;
    if (!pex_rules_from_json(arr, &rules, &n)) {
        e = LDA_EINTERNAL;
        goto done;
    }
    if ((e = prevention_cases_of_ami(c, candidate.ami, &cases))) goto done;
    changes = JCHECK(json_array());
    size_t i;
    json_t *k;
    json_array_foreach(cases, i, k)
    {
        json_t *before = JCHECK(
            json_pack("[O, O]", json_object_get(k, "pex_status"), json_object_get(k, "pex_rule")));
        pex_annotate(k, rules, n, candidate.ami);
        json_t *after = JCHECK(
            json_pack("[O, O]", json_object_get(k, "pex_status"), json_object_get(k, "pex_rule")));
        if (!json_equal(before, after))
            json_array_append_new(
                changes, JCHECK(json_pack("{s:O, s:O, s:O}", "id", json_object_get(k, "id"),
                                          "pex_status", json_object_get(k, "pex_status"),
                                          "pex_rule", json_object_get(k, "pex_rule"))));
        json_decref(before);
        json_decref(after);
    }
    if (json_array_size(changes)) {
        char *text = json_dumps(changes, JSON_COMPACT);
        e = prevention_cases_set_pex(c, text);
        free(text);
    }
done:
    json_decref(changes);
    json_decref(cases);
    json_decref(arr);
    free(rules);
    return e;
}

void prevention_rules_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    lda_err e = prevention_rule_list(c, query_get(&r->query, "ami"), resource_limit(r),
                                     query_get(&r->query, "cursor"), &json);
    resource_answer_list(r, c, e, json);
}

void prevention_rules_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    store_doc d = {0};
    lda_err e = prevention_rule_get(c, r->params[0], &d);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

typedef struct {
    const char *in;
    store_doc *out;
    const char *id;
    long version;
} rule_write;

static lda_err insert(lda_req *r, db_conn *c, void *arg)
{
    (void)r;
    rule_write *w = arg;
    return prevention_rule_create(c, w->in, w->out);
}

void prevention_rules_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    prevention_rule_validate(r->body, r->body, V_CREATE, &ctx, errors);
    if (resource_invalid(r, errors, "The rule is not valid.")) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    rule_write w = {in, &d, NULL, 0};
    bool overlap = false;
    lda_err e = prevention_tx_begin(c, true);
    if (!e) e = write_rule(c, r->body, NULL, insert, r, &w, &overlap);
    if (!e && !overlap) e = store_commit(c);
    free(in);
    if (e || overlap) store_doc_free(&d);
    if (!e && overlap) {
        db_release(c);
        problem_send(r, 409, OVERLAP, NULL);
        return;
    }
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/prevention-rules");
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    return prevention_rule_get(c, r->params[0], d);
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    (void)r;
    (void)c;
    (void)stored;
    vctx ctx = {today_paris()};
    json_t *none = JCHECK(json_object());
    prevention_rule_validate(none, merged, V_PATCH, &ctx, errors);
    json_decref(none);
    return true;
}

static lda_err update(lda_req *r, db_conn *c, void *arg)
{
    (void)r;
    rule_write *w = arg;
    return prevention_rule_update(c, w->id, w->in, w->version, w->out);
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    rule_write w = {m, out, r->params[0], version};
    bool overlap = false;
    lda_err e = prevention_tx_begin(c, true);
    if (!e) e = write_rule(c, merged, r->params[0], update, r, &w, &overlap);
    if (!e && !overlap) e = store_commit(c);
    free(m);
    if (e || overlap) {
        store_rollback(c);
        store_doc_free(out);
    }
    if (!e && overlap) problem_send(r, 409, OVERLAP, NULL);
    return e;
}

void prevention_rules_patch(lda_req *r)
{
    static const patch_flow flow = {PREVENTION_RULE_FIELDS, "rule", NULL, load, check, save};
    resource_patch(r, &flow);
}
