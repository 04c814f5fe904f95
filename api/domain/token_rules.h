/* token (domain) — what a token creation request must satisfy. */
#ifndef LDA_DOMAIN_TOKEN_RULES_H
#define LDA_DOMAIN_TOKEN_RULES_H

#include "domain/schema.h"

extern const lda_field TOKEN_FIELDS[];

/* Field rules plus the cross-field ones: scoped roles need platforms, admins have none,
 * siao needs a source and only siao has one, expires_at in the future. */
bool token_validate(const json_t *in, const vctx *ctx, json_t *errors);

#endif
