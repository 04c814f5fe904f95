#include "resources/resource.h"
#include "core/mem.h"
#include "core/parse.h"
#include "store/audit.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

static db_conn *lease(lda_req *r, lda_err (*acquire)(db_conn **))
{
    db_conn *c = NULL;
    lda_err e = acquire(&c);
    if (!e) e = db_set_scope(c, r->who);
    if (e) {
        db_release(c);
        problem_send_err(r, e, NULL);
        return NULL;
    }
    return c;
}

db_conn *resource_db(lda_req *r) { return lease(r, db_acquire); }

db_conn *resource_db_read(lda_req *r) { return lease(r, db_acquire_read); }

void resource_answer(lda_req *r, db_conn *c, lda_err e, int status, char *json)
{
    db_release(c);
    if (e == LDA_OK && json)
        http_send_json_text(r, status, json, strlen(json));
    else
        problem_send_err(r, e ? e : LDA_EINTERNAL, NULL);
    free(json);
}

const char *resource_scope(const lda_req *r) { return identity_scope(r->who); }

int resource_limit(const lda_req *r)
{
    long limit = 50;
    const char *v = query_get(&r->query, "limit");
    if (v) parse_long(v, 1, 500, &limit); /* already validated by the route's qparams */
    return (int)limit;
}

bool resource_uuid_param(lda_req *r, int i)
{
    if (r->params[i] && is_uuid(r->params[i])) return true;
    problem_send(r, 404, NULL, NULL);
    return false;
}

bool resource_if_match(lda_req *r, long version)
{
    const char *h = http_req_header(r, "If-Match");
    if (!h) return true;
    char etag[32];
    snprintf(etag, sizeof etag, "\"%ld\"", version);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '*') return true;
        if (!strncmp(p, "W/", 2)) p += 2;
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ') n--;
        if (n == strlen(etag) && !strncmp(p, etag, n)) return true;
        p += strcspn(p, ",");
    }
    problem_send(r, 412, NULL, NULL);
    return false;
}

void resource_send_doc(lda_req *r, db_conn *c, lda_err e, int status, char *json, long version,
                       const char *location_prefix)
{
    if (!e && json) {
        char etag[32];
        snprintf(etag, sizeof etag, "\"%ld\"", version);
        http_set_header(r, "ETag", etag);
        if (status == 201 && location_prefix) {
            json_t *d = json_loads(json, 0, NULL);
            char *loc =
                xasprintf("%s/%s", location_prefix, json_string_value(json_object_get(d, "id")));
            http_set_header(r, "Location", loc);
            free(loc);
            json_decref(d);
        }
    }
    resource_answer(r, c, e, status, json);
}

bool resource_invalid(lda_req *r, json_t *errors, const char *detail)
{
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        return false;
    }
    problem_send(r, 422, detail, errors);
    return true;
}

audit_actor resource_actor(const lda_req *r)
{
    return (audit_actor){r->who ? r->who->token_id : NULL, r->who ? r->who->role_name : NULL,
                         r->request_id};
}

void resource_audit(const lda_req *r, const char *action, const char *resource_type,
                    const char *resource_id, int status)
{
    audit_actor by = resource_actor(r);
    audit_record(&by, action, resource_type, resource_id, status);
}

void resource_audit_page(lda_req *r, const char *type, const char *page_json)
{
    json_t *page = json_loads(page_json, 0, NULL);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(page, "items"), i, item)
        resource_audit(r, "list", type, json_string_value(json_object_get(item, "id")), 200);
    json_decref(page);
}

void resource_patch(lda_req *r, const patch_flow *f)
{
    if (!resource_uuid_param(r, 0)) return;
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    schema_validate(f->fields, r->body, V_PATCH, &ctx, "", errors);
    char detail[96];
    snprintf(detail, sizeof detail, "The %s change is not valid.", f->what);
    if (resource_invalid(r, errors, detail)) return;
    db_conn *c = resource_db(r);
    if (!c) return;
    store_doc d = {0};
    json_t *stored = NULL, *merged = NULL;
    lda_err e = f->load(r, c, &d);
    if (e || !resource_if_match(r, d.version)) goto done;
    stored = json_loads(d.json, 0, NULL);
    if (!stored) {
        e = LDA_EINTERNAL;
        goto done;
    }
    merged = schema_merge(f->fields, stored, r->body);
    errors = JCHECK(json_array());
    if (f->check && !f->check(r, c, stored, merged, errors)) {
        json_decref(errors);
        goto done;
    }
    if (resource_invalid(r, errors, detail)) goto done;
    store_doc out = {0};
    e = f->save(r, c, merged, d.version, &out);
    if (r->status) goto done; /* save answered (e.g. 409 with details) */
    if (!e && f->audit_type) resource_audit(r, "update", f->audit_type, r->params[0], 200);
    store_doc_free(&d);
    json_decref(stored);
    json_decref(merged);
    resource_send_doc(r, c, e, 200, out.json, out.version, NULL);
    return;
done:
    store_doc_free(&d);
    json_decref(stored);
    json_decref(merged);
    db_release(c);
    if (!r->status) problem_send_err(r, e ? e : LDA_EINTERNAL, NULL);
}

void resource_answer_list(lda_req *r, db_conn *c, lda_err e, char *json)
{
    if (e == LDA_EINVALID) {
        db_release(c);
        free(json);
        problem_send(r, 422, "Some query parameters are not valid.",
                     JCHECK(json_pack("[{s:s, s:s}]", "field", "cursor", "message",
                                      "not a cursor returned by this list (next_cursor)")));
        return;
    }
    resource_answer(r, c, e, 200, json);
}
