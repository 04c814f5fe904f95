/* batch (resources) — the shared batch flow and the description of a kind of record. */
#ifndef LDA_RESOURCES_BATCH_H
#define LDA_RESOURCES_BATCH_H

#include "domain/schema.h"
#include "http/request.h"
#include "store/batch.h"

typedef struct {
    const char *audit_type;
    /* The record's rules (same as the single-record route); errors relative to it. */
    bool (*validate)(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors);
    /* Completes a valid record in place before it is written (e.g. its person_key);
     * NULL: written as pushed. */
    void (*prepare)(json_t *rec);
    /* Sends the upsert of valid records (a chunk of what batch_validate returns) in the open
     * transaction, without waiting: resource_batch collects the answer with batch_wait. */
    lda_err (*send)(lda_req *r, db_conn *c, const char *source, const json_t *records,
                    batch_pending *p);
    /* Valid records per statement; 0: all the records of a batch in one statement. */
    size_t chunk;
} batch_kind;

/* SIAO requests per statement: PostgreSQL writes one chunk while the next is validated.
 * Each statement also runs the statement-level triggers of siao_request (the observatory's
 * rollups), whose cost grows with the number of statements: large chunks, so that a usual
 * push is one statement and only the largest batches overlap (measured: bench/run.mjs). */
#define BATCH_SIAO_CHUNK 5000

/* The flow of POST /v1/{siao-requests,households,referrals}/batch. */
void resource_batch(lda_req *r, const batch_kind *k);

/* The three kinds of record. */
extern const batch_kind BATCH_SIAO_REQUESTS, BATCH_HOUSEHOLDS, BATCH_REFERRALS;
/* Those of eviction prevention and the housing offer (resources/batch_axes.c). */
extern const batch_kind BATCH_PREVENTION_CASES, BATCH_PREVENTION_ACTIONS,
    BATCH_PREVENTION_FOLLOW_UPS, BATCH_HOUSING_OFFERS, BATCH_PLACEMENTS;

/*
 * The records of a batch body: a JSON array, or (ndjson) one JSON value per line, blank
 * lines skipped. An NDJSON line that is not JSON is appended to `rejected` ({index,
 * external_id: null, errors}) and keeps its index in the result. Returns a new array (caller
 * json_decrefs), or NULL when the JSON body is malformed or not an array, with the detail of
 * the 400 in `detail`. Pure: no HTTP, no database.
 */
json_t *batch_parse(const char *body, size_t len, bool ndjson, json_t *rejected, char *detail,
                    size_t detail_size);

/*
 * Validates the records batch_parse returned with k's rules, the caller's platforms
 * (r->who only) and external_id unique in the batch: appends each invalid record to
 * `rejected` ({index, external_id, errors}, sorted by index), and returns a new array
 * (caller json_decrefs) of the valid ones, completed in place with k->prepare, "idx" and
 * "content_hash". Uses no HTTP and no database.
 */
json_t *batch_validate(lda_req *r, const batch_kind *k, json_t *records, json_t *rejected);

#endif
