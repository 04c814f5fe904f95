/*
 * resource — the handlers (one file per resource) and the two steps every handler that
 * reads the database shares: lease a connection, answer a store result.
 */
#ifndef LDA_RESOURCES_RESOURCE_H
#define LDA_RESOURCES_RESOURCE_H

#include "http/problem.h"
#include "http/request.h"
#include "store/db.h"

/* Leases a database connection; on failure answers 503 and returns NULL. */
db_conn *resource_db(lda_req *r);

/* Answers `status` with `json` (taken and freed) when e is LDA_OK, else the problem for e.
 * Releases `c` (may be NULL) first. */
void resource_answer(lda_req *r, db_conn *c, lda_err e, int status, char *json);

/* The validated ?limit= (default 50). */
int resource_limit(const lda_req *r);

/* health.c */
void healthz_get(lda_req *r);
void readyz_get(lda_req *r);
void metrics_get(lda_req *r);
void openapi_get(lda_req *r);
/* reference.c */
void platforms_list(lda_req *r);
void platforms_get(lda_req *r);
void funding_list(lda_req *r);
void vocabularies_get(lda_req *r);
/* tokens.c */
void tokens_create(lda_req *r);
void tokens_list(lda_req *r);
void tokens_revoke(lda_req *r);
void audit_events_list(lda_req *r);

#endif
