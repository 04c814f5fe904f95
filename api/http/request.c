#include "http/request.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

const char *http_req_header(const lda_req *r, const char *name)
{
    return u_map_get_case(r->u->map_header, name);
}

void http_set_header(lda_req *r, const char *name, const char *value)
{
    u_map_put(r->res->map_header, name, value);
}

void http_send_body(lda_req *r, int status, const char *content_type, const char *body, size_t len)
{
    ulfius_set_binary_body_response(r->res, (unsigned int)status, body, len);
    http_set_header(r, "Content-Type", content_type);
    r->status = status;
}

void http_send_json_text(lda_req *r, int status, const char *text, size_t len)
{
    http_send_body(r, status, "application/json", text, len);
}

void http_send_json(lda_req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) lda_oom();
    http_send_json_text(r, status, text, strlen(text));
    free(text);
}

void http_send_no_content(lda_req *r)
{
    ulfius_set_empty_body_response(r->res, 204);
    r->status = 204;
}

bool http_in_scope(const lda_req *r, const char *platform)
{
    return identity_in_scope(r->who, platform);
}
