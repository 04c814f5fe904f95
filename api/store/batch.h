/*
 * batch (store) — set-based upserts of pushed records, and the idempotency keys that make
 * a retried batch safe (SPEC §5).
 *
 * Records reach PostgreSQL as one jsonb array (each with "idx", its index in the request,
 * and "content_hash") and are upserted by (source, external_id) in one statement: a record
 * whose content_hash is unchanged is not rewritten and counts as "unchanged".
 */
#ifndef LDA_STORE_BATCH_H
#define LDA_STORE_BATCH_H

#include "store/db.h"

#include <jansson.h>

typedef struct {
    long created, updated, unchanged;
} batch_counts;

/* Records whose stored row lies outside `scope` (text[] literal; NULL: all) are not
 * touched and are appended to `rejected`. */
lda_err siao_request_upsert(db_conn *c, const char *source, const char *scope, const char *records,
                            long n, json_t *rejected, batch_counts *out);

/* Households: records whose person already has an active household on the platform under
 * another identifier are not written and are appended to `rejected` ({index, external_id,
 * errors}). */
lda_err household_upsert(db_conn *c, const char *source, const char *scope, const char *token_id,
                         const char *records, long n, json_t *rejected, batch_counts *out);

/* Referrals: a record whose household (household_external_id of the same source, or a
 * household id, on the record's platform) does not exist, or whose partner is unknown, is
 * rejected. New referrals start `received` with their first event. */
lda_err referral_upsert(db_conn *c, const char *source, const char *token_id, const char *role,
                        const char *records, long n, json_t *rejected, batch_counts *out);

/* Shared by the upserts: runs `s`, whose row is (created, updated, problems json array of
 * {idx, ...}); each problem becomes a rejection with the errors why(problem) returns. */
lda_err batch_run(db_conn *c, db_stmt *s, int np, const char *const *p, const char *records, long n,
                  json_t *rejected, batch_counts *out, json_t *(*why)(const json_t *problem));
json_t *batch_foreign_why(const json_t *problem);

typedef enum { IDEM_NEW, IDEM_REPLAY, IDEM_MISMATCH } idem_state;

/* Inside an open transaction: claims (token_id, key) for this request, waiting for a
 * concurrent holder of the same key to finish. IDEM_REPLAY sets *status and *response
 * (caller frees) to the first answer; IDEM_MISMATCH: the key was used with another body. */
lda_err idem_claim(db_conn *c, const char *token_id, const char *key, const char *route,
                   const char *request_hash, idem_state *state, int *status, char **response);
/* Records the answer of the claimed key (same transaction). */
lda_err idem_complete(db_conn *c, const char *token_id, const char *key, int status,
                      const char *response);

/* Reads back pushed requests: source NULL = every source (admin). */
lda_err siao_request_list(db_conn *c, const char *source, const char *scope,
                          const char *updated_since, int limit, const char *cursor, char **json);

#endif
