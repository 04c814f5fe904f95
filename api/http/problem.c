#include "http/problem.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int status;
    const char *slug;
    const char *title;
} problem_kind;

static const problem_kind KINDS[] = {
    {400, "bad-request", "Bad request"},
    {401, "unauthorized", "Unauthorized"},
    {403, "forbidden", "Forbidden"},
    {404, "not-found", "Not found"},
    {405, "method-not-allowed", "Method not allowed"},
    {409, "conflict", "Conflict"},
    {412, "precondition-failed", "Precondition failed"},
    {413, "payload-too-large", "Payload too large"},
    {415, "unsupported-media-type", "Unsupported media type"},
    {422, "validation", "Validation failed"},
    {429, "rate-limited", "Too many requests"},
    {500, "internal", "Internal server error"},
    {503, "unavailable", "Service unavailable"},
    {410, "gone", "Gone"}, /* after 500: kind_of falls back on KINDS[11] */
};

static const problem_kind *kind_of(int status)
{
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (KINDS[i].status == status) return &KINDS[i];
    return &KINDS[11]; /* internal */
}

int problem_status(lda_err e)
{
    switch (e) {
    case LDA_OK:
        return 200;
    case LDA_EINVALID:
        return 422;
    case LDA_EBADREQUEST:
        return 400;
    case LDA_ENOTFOUND:
        return 404;
    case LDA_ECONFLICT:
        return 409;
    case LDA_EPRECONDITION:
        return 412;
    case LDA_EFORBIDDEN:
        return 403;
    case LDA_EUNAUTHORIZED:
        return 401;
    case LDA_ETOOLARGE:
        return 413;
    case LDA_EMEDIATYPE:
        return 415;
    case LDA_ERATELIMIT:
        return 429;
    case LDA_EUNAVAILABLE:
        return 503;
    case LDA_EDB:
    case LDA_EINTERNAL:
        return 500;
    }
    return 500;
}

static const char *generic_detail(int status)
{
    switch (status) {
    case 401:
        return "A valid bearer token is required in the Authorization header.";
    case 403:
        return "This token's role may not use this operation.";
    case 404:
        return "No such resource.";
    case 409:
        return "The request conflicts with the current state of the resource.";
    case 412:
        return "The resource has changed since the ETag given in If-Match.";
    case 429:
        return "Too many requests for this token; retry after the delay given.";
    case 503:
        return "The database is unavailable; retry shortly.";
    case 500:
        return "An unexpected error occurred; it has been logged with the request id.";
    default:
        return kind_of(status)->title;
    }
}

/* The request path as the `instance` member: as sent when it is valid UTF-8; else (a raw
 * path may hold any byte, and json_string refuses invalid UTF-8) with every byte outside
 * printable ASCII percent-encoded. */
static json_t *instance_json(const char *path)
{
    json_t *s = json_string(path);
    if (s) return s;
    static const char hex[] = "0123456789ABCDEF";
    char *enc = xmalloc(3 * strlen(path) + 1), *e = enc;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (*c > 0x20 && *c < 0x7f) {
            *e++ = (char)*c;
        } else {
            *e++ = '%';
            *e++ = hex[*c >> 4];
            *e++ = hex[*c & 15];
        }
    }
    *e = '\0';
    s = JCHECK(json_string(enc));
    free(enc);
    return s;
}

json_t *problem_build(int status, const char *detail, const char *instance, const char *request_id,
                      json_t *errors)
{
    const problem_kind *k = kind_of(status);
    char type[64];
    snprintf(type, sizeof type, "/problems/%s", k->slug);
    json_t *p = JCHECK(json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", k->title, "status",
                                 status, "detail", detail ? detail : generic_detail(status)));
    if (instance) json_object_set_new(p, "instance", instance_json(instance));
    if (request_id) json_object_set_new(p, "request_id", JCHECK(json_string(request_id)));
    if (errors) json_object_set_new(p, "errors", errors);
    return p;
}

void problem_send(lda_req *r, int status, const char *detail, json_t *errors)
{
    problem_send_with(r, status, detail, errors, NULL);
}

char *problem_render(int status, const char *detail, const char *instance, const char *request_id,
                     json_t *errors, json_t *extra)
{
    json_t *p = problem_build(status, detail, instance, request_id, errors);
    if (extra) json_object_update(p, extra);
    json_decref(extra);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text) lda_oom();
    return text;
}

void problem_send_with(lda_req *r, int status, const char *detail, json_t *errors, json_t *extra)
{
    char *text = problem_render(status, detail, r->path, r->request_id, errors, extra);
    if (status == 503) http_set_header(r, "Retry-After", "1");
    if (status == 401) http_set_header(r, "WWW-Authenticate", "Bearer realm=\"lda-api\"");
    http_send_body(r, status, "application/problem+json", text, strlen(text));
    free(text);
}

void problem_send_err(lda_req *r, lda_err e, const char *detail)
{
    problem_send(r, problem_status(e), detail, NULL);
}
