/* batch (resources) — the shared batch flow and the description of a kind of record. */
#ifndef LDA_RESOURCES_BATCH_H
#define LDA_RESOURCES_BATCH_H

#include "core/secret.h"
#include "domain/batch_body.h"
#include "domain/schema.h"
#include "http/request.h"
#include "store/batch_store.h"

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

/* The records of a batch body, cut without being parsed (domain/batch_body.h); each is
 * parsed when it is validated, and freed as soon as it is rejected or written. */
typedef struct {
    batch_body body;
    size_t record_max;    /* bytes a record may take: the single-record limit */
    bool malformed;       /* a record of a JSON array does not parse: the body is 400 */
    char detail[160];     /* then, where */
    size_t errors_listed; /* errors in the report so far (BATCH_REPORT_ERRORS_MAX) */
} batch_records;

/*
 * Cuts a batch body (a JSON array, or one JSON value per line for ndjson) into at most
 * BATCH_MAX_RECORDS records. False, with the status (400 not a batch, 413 too many records)
 * and the detail of the problem, when it cannot be one; else the caller batch_close()s b.
 * Pure: no HTTP, no database.
 */
bool batch_open(batch_records *b, const char *body, size_t len, bool ndjson, size_t record_max,
                int *status, char *detail, size_t detail_size);
void batch_close(batch_records *b);

/*
 * Parses and validates every record of b with k's rules, the caller's platforms (r->who
 * only) and external_id unique in the batch: appends each invalid record to `rejected`
 * ({index, external_id, errors}, sorted by index; an NDJSON line that is not JSON or a
 * record over b->record_max is one too), and returns a new array (caller json_decrefs) of
 * the valid ones, completed in place with k->prepare, "idx" and "content_hash". NULL when a
 * record of a JSON array does not parse (b->malformed, b->detail). No HTTP, no database.
 */
json_t *batch_validate(lda_req *r, const batch_kind *k, batch_records *b, json_t *rejected);

/* SHA-256 of a record as it will be stored (resources/batch_hash.c): null, absent and empty
 * sets all mean "not collected"; sets are sorted; timestamps are the instant they stand for,
 * whatever the offset. */
void batch_content_hash(const json_t *rec, char out[SECRET_HASH_HEX]);

#endif
