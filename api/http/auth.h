/*
 * auth — who is calling: the bearer token of the Authorization header, checked against
 * the hashes stored in api_token (through a short-lived cache), plus the per-token rate
 * limit. The dispatcher calls it for every non-public route, before the handler.
 */
#ifndef LDA_HTTP_AUTH_H
#define LDA_HTTP_AUTH_H

#include "core/config.h"
#include "core/err.h"
#include "http/request.h"

void auth_init(const lda_config *cfg);
void auth_shutdown(void);

/*
 * Fills *who from the request's Authorization header.
 * LDA_EUNAUTHORIZED: missing, malformed, unknown, expired or revoked token (or a token in
 * the query string); LDA_ERATELIMIT: over the rate (*retry_after_s set);
 * LDA_EUNAVAILABLE: the database could not be asked.
 */
lda_err auth_authenticate(const lda_req *r, lda_principal *who, int *retry_after_s);

/* Forgets cached look-ups (after a revocation through the API). */
void auth_cache_clear(void);

#endif
