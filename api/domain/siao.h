/*
 * siao (domain) — an SIAO request as pushed by a source system, and the batch
 * records of households and referrals: their field descriptions and rules.
 */
#ifndef LDA_DOMAIN_SIAO_H
#define LDA_DOMAIN_SIAO_H

#include "core/secret.h"
#include "domain/schema.h"

#define BATCH_MAX_RECORDS 10000

extern const lda_field SIAO_REQUEST_FIELDS[];

/* Field rules plus: age or birth_year (if both, they must agree), the derived age within
 * 0..120. */
bool siao_request_validate(const json_t *in, const vctx *ctx, json_t *errors);

/* The age a request stands for: `age`, or the year of received_at (Europe/Paris) minus
 * birth_year; -1 when neither is given. `in` must be valid. */
int siao_request_age(const json_t *in);

/* The person_key stored for the one a source sent: HMAC-SHA-256 under the service's key of the
 * source, a unit separator (0x1F) and the value sent, as lower-case hex. A source's own keys
 * never reach the database. */
void siao_person_key(const char *key, const char *source, const char *sent,
                     char out[SECRET_HASH_HEX]);

#endif
