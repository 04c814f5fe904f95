/*
 * Batch ingestion (SPEC §5): POST /v1/{siao-requests,households,referrals}/batch.
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
#include "domain/household.h"
#include "domain/referral.h"
#include "domain/siao.h"
#include "resources/resource.h"
#include "resources/batch.h"
#include "http/route.h"
#include "domain/retention.h"
#include "store/audit.h"
#include "store/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stands for an NDJSON line that is not JSON (already in `rejected`): a string holding a NUL
 * byte, which the parser never produces (JSON_ALLOW_NUL is not given), so that no record
 * pushed can pass for it. */
static json_t *malformed_line(void) { return JCHECK(json_stringn("", 1)); }

static bool is_malformed_line(const json_t *rec)
{
    return json_is_string(rec) && json_string_length(rec) == 1 && !*json_string_value(rec);
}

json_t *batch_parse(const char *body, size_t len, bool ndjson, json_t *rejected, char *detail,
                    size_t detail_size)
{
    if (!ndjson) {
        json_error_t jerr;
        json_t *a = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!a) {
            snprintf(detail, detail_size, "Malformed JSON at line %d, column %d.", jerr.line,
                     jerr.column);
            return NULL;
        }
        if (!json_is_array(a)) {
            json_decref(a);
            snprintf(detail, detail_size, "A batch is a JSON array of records (or NDJSON).");
            return NULL;
        }
        return a;
    }
    json_t *a = JCHECK(json_array());
    const char *p = body, *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n) {
            json_t *rec = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL);
            if (!rec) {
                json_array_append_new(
                    rejected,
                    JCHECK(json_pack("{s:I, s:n, s:[{s:s, s:s}]}", "index",
                                     (json_int_t)json_array_size(a), "external_id", "errors",
                                     "field", "", "message", "malformed JSON line")));
                rec = malformed_line();
            }
            json_array_append_new(a, rec);
        }
        p = stop + 1;
    }
    return a;
}

static void reject(json_t *rejected, size_t index, const json_t *rec, json_t *errors)
{
    const char *ext = json_string_value(json_object_get(rec, "external_id"));
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

/* ---- content hash ------------------------------------------------------------------ */

/* The canonical text of a record is what jansson's json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * prints for the record once normalised (see content_hash); db/seed/siao.sql builds the same
 * text in SQL. It is written here straight into a buffer, without copying the record. */
typedef struct {
    char *buf; /* starts on the caller's stack (heap false) */
    size_t len, cap;
    bool heap;
} canon_buf;

static void canon_put(canon_buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        char *grown = b->heap ? xrealloc(b->buf, b->cap) : xmalloc(b->cap);
        if (!b->heap) memcpy(grown, b->buf, b->len);
        b->buf = grown;
        b->heap = true;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

/* A string as jansson escapes it (valid UTF-8 in, no JSON_ESCAPE_SLASH / JSON_ENSURE_ASCII). */
static void canon_string(canon_buf *b, const char *s, size_t n)
{
    canon_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        canon_put(b, s + run, i - run);
        run = i + 1;
        char esc[8];
        const char *text = esc;
        size_t len = 2;
        switch (ch) {
        case '"':
            text = "\\\"";
            break;
        case '\\':
            text = "\\\\";
            break;
        case '\b':
            text = "\\b";
            break;
        case '\f':
            text = "\\f";
            break;
        case '\n':
            text = "\\n";
            break;
        case '\r':
            text = "\\r";
            break;
        case '\t':
            text = "\\t";
            break;
        default:
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04X", ch);
        }
        canon_put(b, text, len);
    }
    canon_put(b, s + run, n - run);
    canon_put(b, "\"", 1);
}

static void canon_integer(canon_buf *b, long long v)
{
    char num[24];
    canon_put(b, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

typedef struct {
    const char *key;
    size_t len;
    const json_t *value;
} canon_member;

static int by_key(const void *a, const void *b)
{
    const canon_member *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Any value as json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) prints it. */
static void canon_value(canon_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        canon_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        canon_integer(b, (long long)json_integer_value(v));
        return;
    case JSON_TRUE:
        canon_put(b, "true", 4);
        return;
    case JSON_FALSE:
        canon_put(b, "false", 5);
        return;
    case JSON_NULL:
        canon_put(b, "null", 4);
        return;
    case JSON_ARRAY: {
        canon_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) canon_put(b, ",", 1);
            canon_value(b, json_array_get(v, i));
        }
        canon_put(b, "]", 1);
        return;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        canon_member *m = xmalloc((n + 1) * sizeof *m);
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it), i++)
            m[i] = (canon_member){json_object_iter_key(it), json_object_iter_key_len(it),
                                  json_object_iter_value(it)};
        qsort(m, n, sizeof *m, by_key);
        canon_put(b, "{", 1);
        for (i = 0; i < n; i++) {
            if (i) canon_put(b, ",", 1);
            canon_string(b, m[i].key, m[i].len);
            canon_put(b, ":", 1);
            canon_value(b, m[i].value);
        }
        canon_put(b, "}", 1);
        free(m);
        return;
    }
    default: { /* a real: validated records hold none, but print it as jansson would */
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) lda_oom();
        canon_put(b, text, strlen(text));
        free(text);
    }
    }
}

/* SHA-256 of a record as it will be stored, so that equal records hash equal however they
 * were written: null, absent and empty sets all mean "not collected"; sets are sorted;
 * timestamps are the instant they stand for, whatever the offset. The text hashed is the
 * record's canonical form: its members sorted by key, without the null ones and the empty
 * arrays, top-level strings that are timestamps as epoch microseconds, top-level arrays of
 * strings sorted (strcmp); nested values as they are. */
static void content_hash(const json_t *rec, char out[SECRET_HASH_HEX])
{
    size_t n = json_object_size(rec), kept = 0;
    canon_member stack[32], *m = n <= 32 ? stack : xmalloc(n * sizeof *m);
    for (void *it = json_object_iter((json_t *)rec); it;
         it = json_object_iter_next((json_t *)rec, it)) {
        const json_t *v = json_object_iter_value(it);
        if (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) continue;
        m[kept++] = (canon_member){json_object_iter_key(it), json_object_iter_key_len(it), v};
    }
    qsort(m, kept, sizeof *m, by_key);
    char text_stack[1024];
    canon_buf b = {text_stack, 0, sizeof text_stack, false};
    canon_put(&b, "{", 1);
    for (size_t i = 0; i < kept; i++) {
        const json_t *v = m[i].value;
        int64_t us;
        if (i) canon_put(&b, ",", 1);
        canon_string(&b, m[i].key, m[i].len);
        canon_put(&b, ":", 1);
        if (json_is_string(v) && parse_timestamp(json_string_value(v), &us))
            canon_integer(&b, (long long)us);
        else if (json_is_array(v)) {
            size_t len = json_array_size(v), k;
            for (k = 0; k < len && json_is_string(json_array_get(v, k)); k++) {
            }
            if (k < len) {
                canon_value(&b, v);
                continue;
            }
            const json_t *small[16], **items = len <= 16 ? small : xmalloc(len * sizeof *items);
            for (k = 0; k < len; k++) items[k] = json_array_get(v, k);
            qsort(items, len, sizeof *items, by_string);
            canon_put(&b, "[", 1);
            for (k = 0; k < len; k++) {
                if (k) canon_put(&b, ",", 1);
                canon_value(&b, items[k]);
            }
            canon_put(&b, "]", 1);
            if (items != small) free(items);
        } else
            canon_value(&b, v);
    }
    canon_put(&b, "}", 1);
    secret_sha256_hex(b.buf, b.len, out);
    if (b.heap) free(b.buf);
    if (m != stack) free(m);
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

/* Validates records [from, to): appends the invalid ones to `rejected` (unsorted) and
 * returns a new array of the valid ones, completed in place. */
static json_t *validate_range(lda_req *r, const batch_kind *k, batch_checker *chk, json_t *records,
                              size_t from, size_t to, json_t *rejected)
{
    json_t *valid = JCHECK(json_array());
    for (size_t i = from; i < to; i++) {
        json_t *rec = json_array_get(records, i);
        if (is_malformed_line(rec)) continue; /* already rejected */
        json_t *errors = JCHECK(json_array());
        if (!json_is_object(rec))
            json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "", "message",
                                                           "must be an object")));
        else {
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
            reject(rejected, i, rec, errors);
            continue;
        }
        json_decref(errors);
        char hash[SECRET_HASH_HEX];
        content_hash(rec, hash);
        /* the parsed record is ours: completed in place, not copied */
        if (k->prepare) k->prepare(rec);
        json_object_set_new(rec, "idx", json_integer((json_int_t)i));
        json_object_set_new(rec, "content_hash", JCHECK(json_string(hash)));
        json_array_append(valid, rec);
    }
    return valid;
}

json_t *batch_validate(lda_req *r, const batch_kind *k, json_t *records, json_t *rejected)
{
    batch_checker chk = {{today_paris()}, JCHECK(json_object())};
    json_t *valid = validate_range(r, k, &chk, records, 0, json_array_size(records), rejected);
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
 * PostgreSQL writes one chunk, the next is validated (when `valid` is NULL) and prepared,
 * and the records of the previous one are released. `valid`: the records batch_validate
 * already kept (atomic batches); NULL: validate `records` here.
 */
static lda_err write_chunks(lda_req *r, const batch_kind *k, db_conn *c, const char *source,
                            json_t *records, json_t *valid, json_t *rejected, batch_counts *counts)
{
    size_t n = json_array_size(valid ? valid : records);
    size_t step = k->chunk ? k->chunk : n, sent_from = 0, sent_to = 0;
    batch_checker chk = {{today_paris()}, valid ? NULL : JCHECK(json_object())};
    batch_pending pending = {0};
    json_t *sent = NULL; /* the chunk PostgreSQL is writing */
    lda_err e = LDA_OK;
    for (size_t from = 0; from < n && !e; from += step) {
        size_t to = from + step < n ? from + step : n;
        json_t *chunk = valid ? slice(valid, from, to)
                              : validate_range(r, k, &chk, records, from, to, rejected);
        e = batch_wait(c, &pending, rejected, counts);
        json_decref(sent);
        sent = NULL;
        if (!valid) /* that chunk is written: its records are no longer needed */
            for (size_t i = sent_from; i < sent_to; i++)
                json_array_set_new(records, i, json_null());
        if (!e && json_array_size(chunk)) {
            e = k->send(r, c, source, chunk, &pending);
            sent = chunk;
            sent_from = from;
            sent_to = to;
        } else
            json_decref(chunk);
    }
    lda_err last = batch_wait(c, &pending, rejected, counts);
    json_decref(sent);
    json_decref(chk.seen);
    return e ? e : last;
}

void resource_batch(lda_req *r, const batch_kind *k)
{
    const char *source = batch_source(r);
    if (!source) return;
    bool atomic = query_get(&r->query, "atomic") && !strcmp(query_get(&r->query, "atomic"), "true");
    const char *ct = http_req_header(r, "Content-Type");
    bool ndjson = ct && !strncasecmp(ct, "application/x-ndjson", 20);
    char detail[160];
    json_t *rejected = JCHECK(json_array());
    json_t *records = batch_parse(r->raw_body ? r->raw_body : "", r->raw_body_len, ndjson, rejected,
                                  detail, sizeof detail);
    if (!records) {
        problem_send(r, 400, detail, NULL);
        json_decref(rejected);
        return;
    }
    size_t n = json_array_size(records);
    if (n > BATCH_MAX_RECORDS) {
        snprintf(detail, sizeof detail, "A batch holds at most %d records; this one has %zu.",
                 BATCH_MAX_RECORDS, n);
        problem_send(r, 413, detail, NULL);
        goto done_early;
    }

    /* atomic: nothing is written unless every record is valid, so all are validated first;
     * otherwise each chunk is validated while PostgreSQL writes the previous one */
    json_t *valid = atomic ? batch_validate(r, k, records, rejected) : NULL;
    if (atomic && json_array_size(rejected)) {
        send_atomic_failure(r, rejected);
        json_decref(valid);
        goto done_early;
    }

    /* write, with the idempotency key in the same transaction */
    const char *idem = http_req_header(r, "Idempotency-Key");
    if (idem && (strlen(idem) < 1 || strlen(idem) > 200)) {
        json_t *errors = JCHECK(json_pack("[{s:s, s:s}]", "field", "Idempotency-Key", "message",
                                          "must be 1 to 200 characters"));
        problem_send(r, 422, "The Idempotency-Key header is not valid.", errors);
        json_decref(valid);
        goto done_early;
    }
    db_conn *c = resource_db(r);
    if (!c) {
        json_decref(valid);
        goto done_early;
    }
    lda_err e = db_command(c, "BEGIN");
    char request_hash[SECRET_HASH_HEX];
    char *replay = NULL, *body = NULL;
    int replay_status = 0;
    if (!e && idem) {
        char *material =
            xasprintf("%s\x1f%s\x1f%d\x1f%s\x1f", r->route->pattern, source, atomic,
                      http_req_header(r, "Content-Type") ? http_req_header(r, "Content-Type") : "");
        size_t ml = strlen(material);
        char *all = xmalloc(ml + r->raw_body_len + 1);
        memcpy(all, material, ml);
        if (r->raw_body_len) memcpy(all + ml, r->raw_body, r->raw_body_len);
        secret_sha256_hex(all, ml + r->raw_body_len, request_hash);
        free(all);
        free(material);
        idem_state st;
        e = idem_claim(c, r->who->token_id, idem, r->route->pattern, request_hash, &st,
                       &replay_status, &replay);
        if (!e && st == IDEM_MISMATCH) {
            db_command(c, "ROLLBACK");
            db_release(c);
            problem_send(r, 422, "This Idempotency-Key was used with another request body.", NULL);
            json_decref(valid);
            goto done_early;
        }
        if (!e && st == IDEM_REPLAY) {
            db_command(c, "ROLLBACK");
            db_release(c);
            http_set_header(r, "Idempotent-Replayed", "true");
            http_send_json_text(r, replay_status, replay, strlen(replay));
            free(replay);
            json_decref(valid);
            goto done_early;
        }
    }
    batch_counts counts = {0, 0, 0};
    if (!e) {
        e = write_chunks(r, k, c, source, records, valid, rejected, &counts);
        sort_rejected(rejected);
    }
    if (!e && atomic && json_array_size(rejected)) {
        /* rejections found while writing (clashes, foreign rows): all or nothing */
        db_command(c, "ROLLBACK");
        db_release(c);
        json_decref(valid);
        send_atomic_failure(r, rejected);
        goto done_early;
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
    if (e) db_command(c, "ROLLBACK");
    db_release(c);
    json_decref(valid);
    if (e)
        problem_send_err(r, e, NULL);
    else {
        audit_record(r, "batch", k->audit_type, NULL, 200);
        http_send_json_text(r, 200, body, strlen(body));
    }
    free(body);
done_early:
    json_decref(records);
    json_decref(rejected);
}

/* ---- the three kinds ------------------------------------------------------------------ */

static bool siao_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    bool ok = siao_request_validate(rec, ctx, errors);
    return retention_check_siao_request(rec, ctx->today, r->cfg->retention_siao_request_months,
                                        errors) &&
           ok;
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
    char *scope = resource_scope(r);
    lda_err e = siao_request_upsert_send(c, source, scope, records, p);
    free(scope);
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
    char *scope = resource_scope(r), *json = NULL;
    lda_err e = siao_request_list(c, source, scope, query_get(&r->query, "updated_since"),
                                  resource_limit(r), query_get(&r->query, "cursor"), &json);
    free(scope);
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
    char *scope = resource_scope(r);
    lda_err e = household_upsert_send(c, source, scope, r->who->token_id, records, p);
    free(scope);
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
