/*
 * referral (domain) — the fields of a referral, its status machine, and the
 * fields of partners and support measures.
 *
 *   received ──> assessing ──> orientation_proposed ──> accompanied ──> accompaniment_ended
 *      │             │                 │
 *      └─────────────┴─────────────────┴──> reoriented | no_follow_up
 */
#ifndef LDA_DOMAIN_REFERRAL_RULES_H
#define LDA_DOMAIN_REFERRAL_RULES_H

#include "domain/schema.h"

extern const lda_field REFERRAL_FIELDS[];
extern const lda_field TRANSITION_FIELDS[];
extern const lda_field MEASURE_FIELDS[];
extern const lda_field PARTNER_FIELDS[];

/* True when a referral may go from `from` to `to`. */
bool referral_transition_allowed(const char *from, const char *to);

/* Validates a referral (create: `household` is a UUID or an inline household object;
 * patch: household, platform and status cannot change). */
bool referral_validate(const json_t *in, vmode mode, const vctx *ctx, json_t *errors);

/* Validates a measure. `merged` is the measure as it will be stored (for patch: the stored
 * one with the patch applied) for the cross-field rules; head_birth is the head's birth
 * date (days since epoch, -1 when unknown) for the ENVAUL rule. */
bool measure_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                      int32_t head_birth, json_t *errors);

#endif
