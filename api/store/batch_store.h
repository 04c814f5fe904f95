/*
 * batch (store) — set-based upserts of pushed records, and the idempotency keys that make
 * a retried batch safe.
 *
 * Every function takes the valid records of a batch: a JSON array of objects, each with
 * "idx" (its index in the request; increasing) and "content_hash". They reach PostgreSQL in
 * one statement (SIAO requests as one array per column, households and referrals as one
 * jsonb array) and are upserted by (source, external_id): a record whose content is
 * unchanged is not rewritten and counts as "unchanged".
 */
#ifndef LDA_STORE_BATCH_STORE_H
#define LDA_STORE_BATCH_STORE_H

#include "store/db.h"

#include <jansson.h>

typedef struct {
    long created, updated, unchanged;
    json_t *touched; /* ids of the rows created or updated (for the audit log), appended */
} batch_counts;

/*
 * An upsert is sent without waiting for its answer (libpq's asynchronous API), so that the
 * caller can prepare the next chunk of records while PostgreSQL writes this one; then
 * batch_wait() collects the answer. At most one upsert is pending on a connection, and the
 * records must stay alive until batch_wait() returns.
 */
typedef struct {
    const json_t *records;                 /* the records sent */
    json_t *(*why)(const json_t *problem); /* the errors of a rejection it reports */
    const char *name;                      /* for the log */
} batch_pending;

/* Records whose stored row lies outside `scope` (text[] literal; NULL: all) are not
 * touched and are reported (appended to `rejected` by batch_wait). Chunks of one batch may
 * be sent one after the other: records are independent of each other (external_id is
 * unique in a batch). */
lda_err siao_request_upsert_send(db_conn *c, const char *source, const char *scope,
                                 const json_t *records, batch_pending *p);

/* Households: records whose person already has an active household on the platform under
 * another identifier, or appears twice among `records`, are not written and are reported
 * ({index, external_id, errors}). Send all the records of a batch at once. */
lda_err household_upsert_send(db_conn *c, const char *source, const char *scope,
                              const char *token_id, const json_t *records, batch_pending *p);

/* Referrals: a record whose household (household_external_id of the same source, or a
 * household id, on the record's platform) does not exist, or whose partner is unknown, is
 * rejected. New referrals start `received` with their first event. */
lda_err referral_upsert_send(db_conn *c, const char *source, const char *token_id, const char *role,
                             const json_t *records, batch_pending *p);

/* Waits for the answer of the upsert p: adds its created, updated and unchanged records to
 * *out and appends its rejections to `rejected` (in the order PostgreSQL reports them). On
 * failure the transaction is aborted: the caller rolls back. */
lda_err batch_wait(db_conn *c, batch_pending *p, json_t *rejected, batch_counts *out);

/* Sends `sql` with text parameters on c without waiting (used by the upserts). */
lda_err batch_send(db_conn *c, const char *sql, int np, const char *const *params,
                   const json_t *records, json_t *(*why)(const json_t *), const char *name,
                   batch_pending *p);
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
