/* /v1/webhooks — endpoints that receive the change feed as Standard Webhooks deliveries.
 * Admins, coordinators, siao and partner tokens register endpoints; each endpoint belongs
 * to the token that created it (admins see every one) and receives the events that token
 * may see, of the types and platforms it asks for. The signing secret is shown once, at
 * creation and at each rotation. */
#include "core/mem.h"
#include "core/parse.h"
#include "core/secret.h"
#include "domain/webhook_rules.h"
#include "resources/resource.h"
#include "store/change.h"
#include "store/webhook_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The token whose endpoints the caller reaches: NULL (all) for an admin. */
static const char *owner_of(const lda_req *r)
{
    return r->who->role == ROLE_ADMIN ? NULL : r->who->token_id;
}

/* 403 unless every platform of `doc` is in the caller's scope. */
static bool platforms_in_scope(lda_req *r, const json_t *doc)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "platforms"), i, p)
    {
        if (!http_in_scope(r, json_string_value(p))) {
            problem_send(r, 403, "This token may not receive the events of that platform.", NULL);
            return false;
        }
    }
    return true;
}

/* A version 4 UUID from the secure random source. */
static void uuid_new(char out[37])
{
    unsigned char b[16];
    secret_random(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* The endpoint with its new secret, shown this once. Takes d. */
static void send_with_secret(lda_req *r, db_conn *c, lda_err e, int status, store_doc *d,
                             const char *secret)
{
    if (!e && d->json) {
        json_t *doc = json_loads(d->json, 0, NULL);
        if (!doc) lda_oom();
        json_object_set_new(doc, "secret", JCHECK(json_string(secret)));
        free(d->json);
        d->json = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!d->json) lda_oom();
    }
    resource_send_doc(r, c, e, status, d->json, d->version, "/v1/webhooks");
}

void webhooks_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    webhook_validate(r->body, false, r->cfg->webhook_allow, &ctx, errors);
    if (resource_invalid(r, errors, "The webhook is not valid.")) return;
    if (!platforms_in_scope(r, r->body)) return;
    /* the endpoint starts after the last final commit: unknown for the first milliseconds */
    long long horizon = change_horizon();
    if (horizon < 0) {
        problem_send(r, 503, "The change feed is starting; retry shortly.", NULL);
        return;
    }
    char id[37], secret[WEBHOOK_SECRET_LEN];
    uuid_new(id);
    webhook_secret_new(secret);
    char *sealed = secret_seal(webhook_key(), id, secret);
    db_conn *c = resource_db(r);
    if (!c) {
        free(sealed);
        return;
    }
    char *in = json_dumps(r->body, JSON_COMPACT);
    store_doc d = {0};
    lda_err e = webhook_create(c, id, r->who->token_id, in, sealed, horizon, &d);
    free(in);
    free(sealed);
    send_with_secret(r, c, e, 201, &d, secret);
}

void webhooks_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    lda_err e =
        webhook_list(c, owner_of(r), resource_limit(r), query_get(&r->query, "cursor"), &json);
    resource_answer_list(r, c, e, json);
}

void webhooks_get(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    store_doc d = {0};
    lda_err e = webhook_get(c, r->params[0], owner_of(r), &d);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

static lda_err load(lda_req *r, db_conn *c, store_doc *d)
{
    return webhook_get(c, r->params[0], owner_of(r), d);
}

static bool check(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors)
{
    (void)c;
    (void)stored;
    const char *url = schema_str(r->body, "url"), *why = NULL;
    if (url && !webhook_url_allowed(url, r->cfg->webhook_allow, &why))
        schema_error(errors, "", "url", why);
    return platforms_in_scope(r, merged);
}

static lda_err save(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out)
{
    char *m = json_dumps(merged, JSON_COMPACT);
    lda_err e = webhook_update(c, r->params[0], owner_of(r), m, version, out);
    free(m);
    return e;
}

void webhooks_patch(lda_req *r)
{
    static const patch_flow flow = {WEBHOOK_PATCH_FIELDS, "webhook", NULL, load, check, save};
    resource_patch(r, &flow);
}

void webhooks_delete(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    lda_err e = webhook_delete(c, r->params[0], owner_of(r));
    db_release(c);
    if (e)
        problem_send_err(r, e, NULL);
    else
        http_send_no_content(r);
}

void webhooks_rotate(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    long overlap = WEBHOOK_OVERLAP_DEFAULT;
    const char *o = query_get(&r->query, "overlap_seconds");
    if (o) parse_long(o, 0, WEBHOOK_OVERLAP_MAX, &overlap);
    char secret[WEBHOOK_SECRET_LEN];
    webhook_secret_new(secret);
    char *sealed = secret_seal(webhook_key(), r->params[0], secret);
    db_conn *c = resource_db(r);
    if (!c) {
        free(sealed);
        return;
    }
    store_doc d = {0};
    lda_err e = webhook_rotate(c, r->params[0], owner_of(r), sealed, overlap, &d);
    free(sealed);
    send_with_secret(r, c, e, 200, &d, secret);
}

void webhooks_deliveries(lda_req *r)
{
    if (!resource_uuid_param(r, 0)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    lda_err e = webhook_deliveries(c, r->params[0], owner_of(r), query_get(&r->query, "state"),
                                   resource_limit(r), query_get(&r->query, "cursor"), &json);
    resource_answer_list(r, c, e, json);
}

void webhooks_replay(lda_req *r)
{
    if (!resource_uuid_param(r, 0) || !resource_uuid_param(r, 1)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    store_doc d = {0};
    lda_err e = webhook_replay(c, r->params[0], owner_of(r), r->params[1], &d);
    resource_answer(r, c, e, 202, d.json);
}
