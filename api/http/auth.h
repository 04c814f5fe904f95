/*
 * auth — who is calling: the bearer token of the Authorization header, checked against
 * the hashes stored in api_token, plus the per-token rate limit. The dispatcher calls it
 * for every non-public route, before any byte of the body is read.
 *
 * What a caller without a valid token can make it cost is bounded: a token that is not of
 * the form the service issues is refused without any look-up; an unknown token is
 * remembered (negative cache) so asking again costs nothing; and the look-ups that found
 * nothing are rate-limited per client address (429 beyond), while the tokens this process
 * has recently seen valid keep authenticating from that address. The rate-limit buckets of
 * the tokens are kept apart from the look-up caches, so that no flood evicts a token's
 * budget.
 */
#ifndef LDA_HTTP_AUTH_H
#define LDA_HTTP_AUTH_H

#include "core/config.h"
#include "core/err.h"
#include "http/request.h"

/* How a token is looked up: by the hex SHA-256 of the bearer token, filling *out;
 * LDA_ENOTFOUND when no token has that hash, another error when it could not be asked.
 * Handed in at start-up (the store's token_lookup_pooled): HTTP knows no database. */
typedef lda_err (*auth_lookup_fn)(const char *hash_hex, lda_credential *out);

void auth_init(const lda_config *cfg, auth_lookup_fn lookup);
void auth_shutdown(void);

/* The per-token rate limit as the RateLimit headers tell it (quota, remaining, seconds to
 * a full budget); `on` false when there is no limit. */
typedef struct {
    bool on;
    long quota, window_s, remaining, reset_s;
} auth_rate;

/*
 * Fills *who from the request's Authorization header and *rate with the caller's budget.
 * LDA_EUNAUTHORIZED: missing, malformed, unknown, expired or revoked token;
 * LDA_ERATELIMIT: over the token's rate, or the client address is over its budget of
 * failed look-ups (*retry_after_s set); LDA_EUNAVAILABLE: the database could not be asked.
 */
lda_err auth_authenticate(const lda_req *r, lda_principal *who, auth_rate *rate,
                          int *retry_after_s);

/* Forgets cached look-ups (after a revocation through the API). Budgets are kept. */
void auth_cache_clear(void);

typedef struct {
    long malformed;    /* refused without a look-up: not of the issued form */
    long lookups;      /* token look-ups in the database */
    long unknown;      /* look-ups that found nothing */
    long negative;     /* unknown tokens answered from the negative cache */
    long throttled;    /* refused because the client address was over its budget */
    long rate_limited; /* refused because the token was over its rate */
} auth_stats;
void auth_get_stats(auth_stats *out);

#endif
