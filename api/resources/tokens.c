/* Token management (admin) and the audit log. */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/token_rules.h"
#include "http/auth.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/token_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tokens_create(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    if (!token_validate(r->body, &ctx, errors)) {
        problem_send(r, 422, "The token request is not valid.", errors);
        return;
    }
    json_decref(errors);
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    audit_actor by = resource_actor(r);
    lda_err e = token_create(c, r->body, &by, &json);
    if (!e) {
        json_t *t = json_loads(json, 0, NULL);
        char *loc = xasprintf("/v1/tokens/%s", json_string_value(json_object_get(t, "id")));
        http_set_header(r, "Location", loc);
        free(loc);
        json_decref(t);
    }
    resource_answer(r, c, e, 201, json);
}

void tokens_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    lda_err e = token_list_json(c, resource_limit(r), query_get(&r->query, "cursor"), &json);
    resource_answer_list(r, c, e, json);
}

void tokens_revoke(lda_req *r)
{
    if (!is_uuid(r->params[0])) {
        problem_send(r, 404, NULL, NULL);
        return;
    }
    db_conn *c = resource_db(r);
    if (!c) return;
    audit_actor by = resource_actor(r);
    lda_err e = token_revoke(c, r->params[0], &by);
    db_release(c);
    if (e) {
        problem_send_err(r, e, NULL);
        return;
    }
    auth_cache_clear();
    http_send_no_content(r);
}

/* `from`/`to` are inclusive; a date means the whole day in Europe/Paris (PostgreSQL reads
 * a date as midnight in the session's TimeZone). */
void audit_events_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    audit_flush(c);
    const char *to = query_get(&r->query, "to");
    int32_t d;
    char next_day[11] = "";
    bool to_is_date = to && parse_date(to, &d);
    if (to_is_date) format_date(d + 1, next_day);
    char *json = NULL;
    lda_err e =
        audit_list_json(c, query_get(&r->query, "token_id"), query_get(&r->query, "resource_type"),
                        query_get(&r->query, "resource_id"), query_get(&r->query, "from"),
                        to_is_date ? next_day : NULL, to_is_date ? NULL : to, resource_limit(r),
                        query_get(&r->query, "cursor"), &json);
    resource_answer_list(r, c, e, json);
}
