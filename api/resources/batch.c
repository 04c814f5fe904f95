/*
 * Batch ingestion: POST /v1/{siao-requests,households,referrals}/batch.
 *
 * One flow for the three kinds: parse (JSON array or NDJSON, at most 10 000 records),
 * validate every record with the same rules as the single-record routes, then — in one
 * transaction with the Idempotency-Key row when there is one — upsert the valid records
 * with set-based statements and answer {created, updated, unchanged, rejected}.
 * ?atomic=true: any rejected record means nothing is stored (422).
 *
 * Speed (bench/run.mjs, docs/performance.md): large SIAO batches are written in chunks, the
 * next chunk validated while PostgreSQL writes the previous one; the content hash is
 * computed without copying the record.
 */
#include "core/mem.h"
#include "core/parse.h"
#include "core/secret.h"
#include "domain/batch_body.h"
#include "domain/household_rules.h"
#include "domain/referral_rules.h"
#include "domain/siao.h"
#include "resources/resource.h"
#include "resources/batch.h"
#include "http/route.h"
#include "store/audit.h"
#include "store/batch_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool batch_open(batch_records *b, const char *body, size_t len, bool ndjson, size_t record_max,
                int *status, char *detail, size_t detail_size)
{
    memset(b, 0, sizeof *b);
    b->record_max = record_max;
    switch (batch_body_scan(body, len, ndjson, BATCH_MAX_RECORDS, &b->body)) {
    case BATCH_BODY_OK:
        return true;
    case BATCH_BODY_TOO_MANY:
        *status = 413;
        snprintf(detail, detail_size, "A batch holds at most %d records; this one has more.",
                 BATCH_MAX_RECORDS);
        return false;
    case BATCH_BODY_NOT_ARRAY:
        *status = 400;
        snprintf(detail, detail_size, "A batch is a JSON array of records (or NDJSON).");
        return false;
    case BATCH_BODY_MALFORMED:
        break;
    }
    *status = 400;
    snprintf(detail, detail_size, "Malformed JSON at line %d, column %d.", b->body.err_line,
             b->body.err_col);
    return false;
}

void batch_close(batch_records *b) { batch_body_free(&b->body); }

/* Appends a rejected record to the report: its index, its external_id when it is one (a
 * string of 1 to 100 characters), its errors bounded by batch_errors_cap, or once the
 * report holds BATCH_REPORT_ERRORS_MAX errors, one error saying so. Steals errors. */
static void reject(batch_records *b, json_t *rejected, size_t index, const json_t *rec,
                   json_t *errors)
{
    const json_t *e = json_object_get(rec, "external_id");
    const char *ext =
        json_is_string(e) && json_string_length(e) >= 1 && json_string_length(e) <= 100
            ? json_string_value(e)
            : NULL;
    batch_errors_cap(errors);
    if (b->errors_listed + json_array_size(errors) > BATCH_REPORT_ERRORS_MAX) {
        json_decref(errors);
        errors = JCHECK(json_pack("[{s:s, s:s}]", "field", "", "message",
                                  "not valid; this report lists no more errors"));
    }
    b->errors_listed += json_array_size(errors);
    json_array_append_new(rejected, JCHECK(json_pack("{s:I, s:s?, s:o}", "index", (json_int_t)index,
                                                     "external_id", ext, "errors", errors)));
}

static int by_index(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "index"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "index"));
    return (x > y) - (x < y);
}

static void sort_rejected(json_t *rejected)
{
    size_t n = json_array_size(rejected);
    json_t **items = xmalloc((n + 1) * sizeof *items);
    for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(rejected, i));
    qsort(items, n, sizeof *items, by_index);
    json_array_clear(rejected);
    for (size_t i = 0; i < n; i++) json_array_append_new(rejected, items[i]);
    free(items);
}

/* 422 for an atomic batch with rejected records: every error with its record's index in
 * the pointer, and the same `rejected` list as a report. Nothing was stored. */
static void send_atomic_failure(lda_req *r, json_t *rejected)
{
    json_t *errors = JCHECK(json_array());
    size_t i;
    json_t *rj;
    json_array_foreach(rejected, i, rj)
    {
        size_t kx;
        json_t *err;
        json_array_foreach(json_object_get(rj, "errors"), kx, err)
        {
            char *field =
                xasprintf("/%lld%s", (long long)json_integer_value(json_object_get(rj, "index")),
                          json_string_value(json_object_get(err, "field")));
            json_array_append_new(errors, JCHECK(json_pack("{s:s, s:O}", "field", field, "message",
                                                           json_object_get(err, "message"))));
            free(field);
        }
    }
    problem_send_with(r, 422, "Atomic batch: some records are not valid, nothing was stored.",
                      errors, json_pack("{s:O}", "rejected", rejected));
}

/* The source records are pushed as: the siao token's, or ?source= for an admin. */
static const char *batch_source(lda_req *r)
{
    if (r->who->role == ROLE_SIAO) {
        if (query_get(&r->query, "source") &&
            strcmp(query_get(&r->query, "source"), r->who->source)) {
            problem_send(r, 403, "A siao token pushes only as its own source.", NULL);
            return NULL;
        }
        return r->who->source;
    }
    const char *s = query_get(&r->query, "source");
    if (!s) {
        json_t *errors = JCHECK(json_pack("[{s:s, s:s}]", "field", "source", "message",
                                          "an admin names the source it pushes as"));
        problem_send(r, 422, "The batch needs a source.", errors);
        return NULL;
    }
    return s;
}

/* What validation carries from one record of a batch to the next. */
typedef struct {
    vctx ctx;
    json_t *seen; /* the external_ids of the valid records so far */
} batch_checker;

/* Validates records [from, to), parsing each in turn: appends the invalid ones to
 * `rejected` (unsorted) and frees them; returns a new array of the valid ones, completed in
 * place. NULL (b->malformed and b->detail set) when a record of a JSON array does not parse:
 * the whole body is then malformed. */
static json_t *validate_range(lda_req *r, const batch_kind *k, batch_checker *chk, batch_records *b,
                              size_t from, size_t to, json_t *rejected)
{
    json_t *valid = JCHECK(json_array());
    for (size_t i = from; i < to; i++) {
        json_t *rec = NULL;
        int line = 0, col = 0;
        batch_record_result got = batch_body_record(&b->body, i, b->record_max, &rec, &line, &col);
        if (got == BATCH_RECORD_TOO_LARGE) {
            char msg[96];
            snprintf(msg, sizeof msg, "larger than the %zu bytes a record may take", b->record_max);
            reject(b, rejected, i, NULL,
                   JCHECK(json_pack("[{s:s, s:s}]", "field", "", "message", msg)));
            continue;
        }
        if (got == BATCH_RECORD_MALFORMED && b->body.ndjson) {
            reject(
                b, rejected, i, NULL,
                JCHECK(json_pack("[{s:s, s:s}]", "field", "", "message", "malformed JSON line")));
            continue;
        }
        if (got == BATCH_RECORD_MALFORMED) {
            b->malformed = true;
            snprintf(b->detail, sizeof b->detail, "Malformed JSON at line %d, column %d.", line,
                     col);
            json_decref(valid);
            return NULL;
        }
        json_t *errors = JCHECK(json_array());
        if (!json_is_object(rec))
            json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "", "message",
                                                           "must be an object")));
        else if (json_object_size(rec) > BATCH_RECORD_MEMBERS_MAX) {
            char msg[96];
            snprintf(msg, sizeof msg, "has %zu members: no record has more than %d",
                     json_object_size(rec), BATCH_RECORD_MEMBERS_MAX);
            json_array_append_new(errors,
                                  JCHECK(json_pack("{s:s, s:s}", "field", "", "message", msg)));
        } else {
            k->validate(r, rec, &chk->ctx, errors);
            const char *platform = json_string_value(json_object_get(rec, "platform"));
            if (platform && !http_in_scope(r, platform))
                schema_error(errors, "", "platform", "outside this token's platforms");
            const char *ext = json_string_value(json_object_get(rec, "external_id"));
            if (ext && json_object_get(chk->seen, ext))
                schema_error(errors, "", "external_id", "appears twice in this batch");
            else if (ext && !json_array_size(errors))
                json_object_set_new(chk->seen, ext, json_true());
        }
        if (json_array_size(errors)) {
            reject(b, rejected, i, rec, errors);
            json_decref(rec);
            continue;
        }
        json_decref(errors);
        char hash[SECRET_HASH_HEX];
        batch_content_hash(rec, hash);
        /* the parsed record is ours: completed in place, not copied */
        if (k->prepare) k->prepare(rec);
        json_object_set_new(rec, "idx", json_integer((json_int_t)i));
        json_object_set_new(rec, "content_hash", JCHECK(json_string(hash)));
        json_array_append_new(valid, rec);
    }
    return valid;
}

json_t *batch_validate(lda_req *r, const batch_kind *k, batch_records *b, json_t *rejected)
{
    batch_checker chk = {{today_paris()}, JCHECK(json_object())};
    json_t *valid = validate_range(r, k, &chk, b, 0, b->body.count, rejected);
    json_decref(chk.seen);
    sort_rejected(rejected);
    return valid;
}

/* The records valid[from, to) as a new array. */
static json_t *slice(const json_t *valid, size_t from, size_t to)
{
    json_t *part = JCHECK(json_array());
    for (size_t i = from; i < to; i++) json_array_append(part, json_array_get(valid, i));
    return part;
}

/*
 * Writes the batch in the open transaction, k->chunk records per statement: while
 * PostgreSQL writes one chunk, the next is parsed, validated (when `valid` is NULL) and
 * prepared. `valid`: the records batch_validate already kept (atomic batches); NULL: parse
 * and validate the records of b here. LDA_EBADREQUEST when a record of a JSON array turns
 * out not to parse (b->detail): the caller rolls back and answers 400.
 */
static lda_err write_chunks(lda_req *r, const batch_kind *k, db_conn *c, const char *source,
                            batch_records *b, json_t *valid, json_t *rejected, batch_counts *counts)
{
    size_t n = valid ? json_array_size(valid) : b->body.count;
    size_t step = k->chunk ? k->chunk : n;
    batch_checker chk = {{today_paris()}, valid ? NULL : JCHECK(json_object())};
    batch_pending pending = {0};
    json_t *sent = NULL; /* the chunk PostgreSQL is writing */
    lda_err e = LDA_OK;
    for (size_t from = 0; from < n && !e; from += step) {
        size_t to = from + step < n ? from + step : n;
        json_t *chunk =
            valid ? slice(valid, from, to) : validate_range(r, k, &chk, b, from, to, rejected);
        e = batch_wait(c, &pending, rejected, counts);
        json_decref(sent); /* that chunk is written: its records are no longer needed */
        sent = NULL;
        if (!chunk) {
            e = LDA_EBADREQUEST;
            break;
        }
        if (!e && json_array_size(chunk)) {
            e = k->send(r, c, source, chunk, &pending);
            sent = chunk;
        } else
            json_decref(chunk);
    }
    lda_err last = batch_wait(c, &pending, rejected, counts);
    json_decref(sent);
    json_decref(chk.seen);
    return e ? e : last;
}

/* SHA-256 of what makes two batch requests the same one (route, source, atomic,
 * Content-Type, body byte for byte), without copying the body. */
static void request_hash(const lda_req *r, const char *source, bool atomic,
                         char out[SECRET_HASH_HEX])
{
    const char *ct = http_req_header(r, "Content-Type");
    char *material =
        xasprintf("%s\x1f%s\x1f%d\x1f%s\x1f", r->route->pattern, source, atomic, ct ? ct : "");
    const void *parts[] = {material, r->raw_body ? r->raw_body : ""};
    const size_t lens[] = {strlen(material), r->raw_body_len};
    secret_sha256_parts_hex(parts, lens, 2, out);
    free(material);
}

void resource_batch(lda_req *r, const batch_kind *k)
{
    const char *source = batch_source(r);
    if (!source) return;
    bool atomic = query_get(&r->query, "atomic") && !strcmp(query_get(&r->query, "atomic"), "true");
    const char *ct = http_req_header(r, "Content-Type");
    bool ndjson = ct && !strncasecmp(ct, "application/x-ndjson", 20);
    char detail[160];
    int status = 400;
    batch_records b;
    /* counted before anything is parsed: a body of more records than a batch holds costs
     * nothing more than its scan */
    if (!batch_open(&b, r->raw_body, r->raw_body_len, ndjson, (size_t)r->cfg->max_body_bytes,
                    &status, detail, sizeof detail)) {
        problem_send(r, status, detail, NULL);
        return;
    }
    json_t *rejected = JCHECK(json_array());
    json_t *valid = NULL;
    db_conn *c = NULL;
    char *body = NULL;
    batch_counts counts = {0, 0, 0, JCHECK(json_array())};

    /* atomic: nothing is written unless every record is valid, so all are validated first;
     * otherwise each chunk is validated while PostgreSQL writes the previous one */
    if (atomic) {
        valid = batch_validate(r, k, &b, rejected);
        if (!valid) {
            problem_send(r, 400, b.detail, NULL);
            goto done;
        }
        if (json_array_size(rejected)) {
            send_atomic_failure(r, rejected);
            goto done;
        }
    }

    /* write, with the idempotency key in the same transaction */
    const char *idem = http_req_header(r, "Idempotency-Key");
    if (idem && (strlen(idem) < 1 || strlen(idem) > 200)) {
        json_t *errors = JCHECK(json_pack("[{s:s, s:s}]", "field", "Idempotency-Key", "message",
                                          "must be 1 to 200 characters"));
        problem_send(r, 422, "The Idempotency-Key header is not valid.", errors);
        goto done;
    }
    c = resource_db(r);
    if (!c) goto done;
    lda_err e = db_command(c, "BEGIN");
    if (!e && idem) {
        char hash[SECRET_HASH_HEX], *replay = NULL;
        int replay_status = 0;
        request_hash(r, source, atomic, hash);
        idem_state st;
        e = idem_claim(c, r->who->token_id, idem, r->route->pattern, hash, &st, &replay_status,
                       &replay);
        if (!e && st == IDEM_MISMATCH) {
            problem_send(r, 422, "This Idempotency-Key was used with another request body.", NULL);
            goto done;
        }
        if (!e && st == IDEM_REPLAY) {
            http_set_header(r, "Idempotent-Replayed", "true");
            http_send_json_text(r, replay_status, replay, strlen(replay));
            free(replay);
            goto done;
        }
    }
    if (!e) {
        e = write_chunks(r, k, c, source, &b, valid, rejected, &counts);
        sort_rejected(rejected);
    }
    if (e == LDA_EBADREQUEST) {
        problem_send(r, 400, b.detail, NULL);
        goto done;
    }
    if (!e && atomic && json_array_size(rejected)) {
        /* rejections found while writing (clashes, foreign rows): all or nothing */
        send_atomic_failure(r, rejected);
        goto done;
    }
    /* every record written gets its audit event: refuse (nothing is committed) rather than
     * commit records whose events could not be queued */
    size_t touched = json_array_size(counts.touched);
    if (!e && !audit_room(touched + 1)) {
        audit_count_refusal();
        problem_send(r, 503, "The audit log is behind; retry shortly.", NULL);
        goto done;
    }
    if (!e) {
        json_t *answer =
            JCHECK(json_pack("{s:I, s:I, s:I, s:O}", "created", (json_int_t)counts.created,
                             "updated", (json_int_t)counts.updated, "unchanged",
                             (json_int_t)counts.unchanged, "rejected", rejected));
        body = json_dumps(answer, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(answer);
        if (!body) lda_oom();
        if (idem) e = idem_complete(c, r->who->token_id, idem, 200, body);
    }
    if (!e) e = db_command(c, "COMMIT");
    if (e) {
        problem_send_err(r, e, NULL);
        goto done;
    }
    resource_audit(r, "batch", k->audit_type, NULL, 200);
    for (size_t i = 0; i < touched; i++)
        resource_audit(r, "batch", k->audit_type,
                       json_string_value(json_array_get(counts.touched, i)), 200);
    http_send_json_text(r, 200, body, strlen(body));
done:
    if (c) db_release(c); /* rolls back what was not committed */
    free(body);
    json_decref(counts.touched);
    json_decref(valid);
    json_decref(rejected);
    batch_close(&b);
}

/* ---- the three kinds ------------------------------------------------------------------ */

static bool siao_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    return siao_request_validate(rec, ctx, errors);
}

static lda_err siao_send(lda_req *r, db_conn *c, const char *source, const json_t *records,
                         batch_pending *p)
{
    /* the person keys are stored re-keyed, never as sent (the content hash, computed
     * before, is of the record as sent) */
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec)
    {
        const char *sent = json_string_value(json_object_get(rec, "person_key"));
        if (!sent) continue;
        char key[SECRET_HASH_HEX];
        siao_person_key(household_key(), source, sent, key);
        json_object_set_new((json_t *)rec, "person_key", JCHECK(json_string(key)));
    }
    const char *scope = resource_scope(r);
    lda_err e = siao_request_upsert_send(c, source, scope, records, p);
    return e;
}

const batch_kind BATCH_SIAO_REQUESTS = {"siao_request", siao_validate, NULL, siao_send,
                                        BATCH_SIAO_CHUNK};

void siao_requests_batch(lda_req *r) { resource_batch(r, &BATCH_SIAO_REQUESTS); }

void siao_requests_list(lda_req *r)
{
    const char *asked = query_get(&r->query, "source");
    if (r->who->role == ROLE_SIAO && asked && strcmp(asked, r->who->source)) {
        problem_send(r, 403, "A siao token reads back only its own source.", NULL);
        return;
    }
    const char *source = r->who->role == ROLE_SIAO ? r->who->source : asked;
    db_conn *c = resource_db(r);
    if (!c) return;
    const char *scope = resource_scope(r);
    char *json = NULL;
    lda_err e = siao_request_list(c, source, scope, query_get(&r->query, "updated_since"),
                                  resource_limit(r), query_get(&r->query, "cursor"), &json);
    if (!e) resource_audit_page(r, "siao_request", json);
    resource_answer_list(r, c, e, json);
}

/* Households: the single-record fields, `external_id` for `external_ref`; person_key added. */
static bool household_batch_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *copy = JCHECK(json_deep_copy(rec));
    const json_t *ext = json_object_get(rec, "external_id");
    json_object_del(copy, "external_id");
    if (json_object_get(copy, "external_ref"))
        schema_error(errors, "", "external_ref", "give external_id in a batch");
    json_object_del(copy, "external_ref");
    household_validate(copy, V_CREATE, ctx, "", errors);
    json_decref(copy);
    if (!json_is_string(ext) || json_string_length(ext) < 1 || json_string_length(ext) > 100)
        schema_error(errors, "", "external_id",
                     ext ? "must be a string of 1 to 100 characters" : "is required");
    return json_array_size(errors) == 0;
}

static void household_batch_prepare(json_t *rec)
{
    const json_t *head = json_object_get(rec, "head");
    char key[SECRET_HASH_HEX];
    household_person_key(household_key(), schema_str(head, "last_name"),
                         schema_str(head, "first_name"), schema_str(head, "birth_date"), key);
    json_object_set_new(rec, "person_key", JCHECK(json_string(key)));
}

static lda_err household_batch_send(lda_req *r, db_conn *c, const char *source,
                                    const json_t *records, batch_pending *p)
{
    const char *scope = resource_scope(r);
    lda_err e = household_upsert_send(c, source, scope, r->who->token_id, records, p);
    return e;
}

/* One statement for the whole batch: a person twice in the batch is found within it. */
const batch_kind BATCH_HOUSEHOLDS = {"household", household_batch_validate, household_batch_prepare,
                                     household_batch_send, 0};

void households_batch(lda_req *r) { resource_batch(r, &BATCH_HOUSEHOLDS); }

/* Referrals: the single-record fields with `household` as an id, or `household_external_id`
 * naming a household pushed by the same source; plus `external_id`. */
static bool referral_batch_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *copy = JCHECK(json_deep_copy(rec));
    const json_t *ext = json_object_get(rec, "external_id"),
                 *hext = json_object_get(rec, "household_external_id");
    json_object_del(copy, "external_id");
    json_object_del(copy, "household_external_id");
    bool has_id = json_object_get(rec, "household") != NULL;
    if (!has_id && hext)
        json_object_set_new(copy, "household", json_string("00000000-0000-0000-0000-000000000000"));
    if (json_is_object(json_object_get(rec, "household")))
        schema_error(errors, "", "household",
                     "in a batch, push the household first and give household_external_id");
    else
        referral_validate(copy, V_CREATE, ctx, errors);
    json_decref(copy);
    if (has_id && hext)
        schema_error(errors, "", "household_external_id",
                     "give household or household_external_id, not both");
    if (hext &&
        (!json_is_string(hext) || json_string_length(hext) < 1 || json_string_length(hext) > 100))
        schema_error(errors, "", "household_external_id",
                     "must be a string of 1 to 100 characters");
    if (!json_is_string(ext) || json_string_length(ext) < 1 || json_string_length(ext) > 100)
        schema_error(errors, "", "external_id",
                     ext ? "must be a string of 1 to 100 characters" : "is required");
    return json_array_size(errors) == 0;
}

static lda_err referral_batch_send(lda_req *r, db_conn *c, const char *source,
                                   const json_t *records, batch_pending *p)
{
    return referral_upsert_send(c, source, r->who->token_id, r->who->role_name, records, p);
}

const batch_kind BATCH_REFERRALS = {"referral", referral_batch_validate, NULL, referral_batch_send,
                                    0};

void referrals_batch(lda_req *r) { resource_batch(r, &BATCH_REFERRALS); }
