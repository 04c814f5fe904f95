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
    /* Upserts the valid records (jsonb array text) in the open transaction. */
    lda_err (*write)(lda_req *r, db_conn *c, const char *source, const char *records, long n,
                     json_t *rejected, batch_counts *out);
} batch_kind;

void resource_batch(lda_req *r, const batch_kind *k);

#endif
