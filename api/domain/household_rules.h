/*
 * household (domain) — the fields of a household and of its head, and the
 * person_key: HMAC-SHA-256 under the pseudonymisation key of the head's normalised last
 * name, first name and birth date, so that the same person is recognised across referrals
 * and sources whatever the case, accents or spacing of their names.
 */
#ifndef LDA_DOMAIN_HOUSEHOLD_RULES_H
#define LDA_DOMAIN_HOUSEHOLD_RULES_H

#include "core/secret.h"
#include "domain/schema.h"

extern const lda_field HOUSEHOLD_FIELDS[];

/* Validates a household object (create or patch), errors under `ptr`. */
bool household_validate(const json_t *in, vmode mode, const vctx *ctx, const char *ptr,
                        json_t *errors);

/* Folds a name for matching: Unicode compatibility decomposition, accents (combining
 * marks) removed, lower case, and everything that is not a letter or a digit dropped
 * ("Lée-Anne  D'Hôtel" → "leeanne", "dhotel"). Caller frees. */
char *household_fold_name(const char *name);

/* person_key of (last, first, birth_date "YYYY-MM-DD") under key. */
void household_person_key(const char *key, const char *last, const char *first,
                          const char *birth_date, char out[SECRET_HASH_HEX]);

/* Sets the process-wide pseudonymisation key (copied). */
void household_set_key(const char *key);
const char *household_key(void);

#endif
