/*
 * request — what a handler receives and the few ways it answers.
 *
 * The dispatcher (http/server.c) has already, before a handler runs: matched the route,
 * set X-Request-Id, enforced the body limit, authenticated the caller against the route's
 * roles, validated the query string against the route's parameters, and parsed a JSON
 * body (Content-Type, duplicate keys, depth). A handler parses its input into domain
 * structs, calls the store, and renders exactly one answer.
 */
#ifndef LDA_HTTP_REQUEST_H
#define LDA_HTTP_REQUEST_H

#include "core/config.h"
#include "core/identity.h"
#include "core/err.h"
#include "http/query.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct _u_request;
struct _u_response;
struct lda_route;
struct sockaddr;

/* The listener a request came in on (LDA_LISTEN, LDA_BATCH_LISTEN, LDA_METRICS_LISTEN). */
typedef enum { LISTEN_MAIN = 0, LISTEN_BATCH, LISTEN_METRICS } listener_kind;

typedef struct lda_req {
    const struct _u_request *u;
    struct _u_response *res;
    const struct lda_route *route;
    const lda_config *cfg;
    char request_id[129];
    const char *method;
    const char *path;
    const char *url; /* the request target as sent: path and query string */
    char *params[4]; /* path parameters, in pattern order */
    qlist query;
    json_t *body;         /* parsed JSON body (routes that take one), owned here */
    const char *raw_body; /* the body bytes (not NUL-terminated) */
    size_t raw_body_len;
    const lda_principal *who; /* NULL on public routes */
    int status;               /* the status answered */
    /* Set by the dispatcher before the body is read (http/dispatch.c): */
    listener_kind listener;
    const struct sockaddr *client; /* the peer's address (owned by libmicrohttpd) */
    int route_index;               /* index in ROUTES, -1 when none matched */
    size_t body_limit;             /* bytes of body this route accepts */
    bool body_expected;            /* the request announces a body (Content-Length > 0, chunked) */
    bool body_kept;                /* the route reads its body (else it is discarded) */
    bool body_over;                /* more than body_limit bytes came (413) */
    size_t body_seen;              /* body bytes received, kept or not */
    lda_principal principal;       /* storage of *who */
} lda_req;

/* A header of the request, or NULL. Case-insensitive. */
const char *http_req_header(const lda_req *r, const char *name);

/* Sets a response header (copied). */
void http_set_header(lda_req *r, const char *name, const char *value);

/* Answers `status` with a JSON body; `body` is stolen. */
void http_send_json(lda_req *r, int status, json_t *body);
/* Answers `status` with JSON text already serialised (e.g. built by PostgreSQL). */
void http_send_json_text(lda_req *r, int status, const char *text, size_t len);
/* Answers `status` with any body and content type (bytes are copied). */
void http_send_body(lda_req *r, int status, const char *content_type, const char *body, size_t len);
/* Answers 204 with no body. */
void http_send_no_content(lda_req *r);

/* True when the caller's scope covers `platform` (admins and unscoped analysts: all). */
bool http_in_scope(const lda_req *r, const char *platform);

#endif
