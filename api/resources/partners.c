/* /v1/partners — referring organisations. Reads: admin, coordinator, partner; writes:
 * admin, coordinator (on its platforms, or with no platform). */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/referral_rules.h"
#include "resources/resource.h"
#include "store/casefile.h"

#include <stdlib.h>

/* A coordinator may write partners of its platforms or with none. */
static bool platform_writable(lda_req *r, const json_t *doc)
{
    const char *p = json_string_value(json_object_get(doc, "platform"));
    if (!p || http_in_scope(r, p)) return true;
    problem_send(r, 403, "This token may not write partners of that platform.", NULL);
    return false;
}

void partners_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e =
        partner_list(c, scope, query_get(&r->query, "platform"), query_get(&r->query, "kind"),
                     resource_limit(r), query_get(&r->query, "cursor"), &json);
    resource_answer_list(r, c, e, json);
}

void partners_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    schema_validate(PARTNER_FIELDS, r->body, V_CREATE, &ctx, "", errors);
    if (resource_invalid(r, errors, "The partner is not valid.")) return;
    if (!platform_writable(r, r->body)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    lda_err e = partner_create(c, in, &d);
    free(in);
    resource_send_doc(r, c, e, 201, d.json, d.version, "/v1/partners");
}

void partners_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    store_doc d = {0};
    lda_err e = partner_get(c, r->params[0], scope, &d);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    const char *scope = resource_scope(r);
    lda_err e = partner_get(c, r->params[0], scope, d);
    return e;
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    (void)c;
    (void)errors;
    if (r->who->role != ROLE_ADMIN && !json_string_value(json_object_get(stored, "platform"))) {
        problem_send(r, 403, "Only an admin changes a partner with no platform.", NULL);
        return false;
    }
    return platform_writable(r, stored) && platform_writable(r, merged);
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = partner_update(c, r->params[0], m, version, out);
    free(m);
    return e;
}

void partners_patch(lda_req *r)
{
    static const patch_flow flow = {PARTNER_FIELDS, "partner", NULL, load, check, save};
    resource_patch(r, &flow);
}
