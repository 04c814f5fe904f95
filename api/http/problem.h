/*
 * problem — the one place where an error becomes an answer: RFC 9457
 * application/problem+json with type, title, status, detail, instance, request_id and,
 * for validation, errors [{field, message}]. Details are written by the service, never
 * copied from PostgreSQL or from the input.
 */
#ifndef LDA_HTTP_PROBLEM_H
#define LDA_HTTP_PROBLEM_H

#include "core/err.h"
#include "http/request.h"

/* The HTTP status of an lda_err. */
int problem_status(lda_err e);

/* Builds the problem document; `errors` (may be NULL) is stolen. `instance` (the request
 * path) may hold any byte: when it is not valid UTF-8, the bytes outside printable ASCII are
 * percent-encoded. Caller json_decrefs. */
json_t *problem_build(int status, const char *detail, const char *instance, const char *request_id,
                      json_t *errors);

/* The problem document as compact JSON text: problem_build, then the members of `extra`
 * (may be NULL) merged in. `errors` and `extra` are stolen. Pure. Caller frees. */
char *problem_render(int status, const char *detail, const char *instance, const char *request_id,
                     json_t *errors, json_t *extra);

/* Answers with a problem document; `errors` (may be NULL) is stolen. Adds Retry-After on
 * 503 and 429, WWW-Authenticate on 401. */
void problem_send(lda_req *r, int status, const char *detail, json_t *errors);

/* problem_send with extra members merged into the document (`extra` stolen, may be NULL),
 * e.g. {"existing_id": ...} on a duplicate household. */
void problem_send_with(lda_req *r, int status, const char *detail, json_t *errors, json_t *extra);

/* problem_send(r, problem_status(e), detail or a generic detail for e, NULL). */
void problem_send_err(lda_req *r, lda_err e, const char *detail);

#endif
