/*
 * Batch ingestion (SPEC §5): POST /v1/{siao-requests,households,referrals}/batch.
 *
 * One flow for the three kinds: parse (JSON array or NDJSON, at most 10 000 records),
 * validate every record with the same rules as the single-record routes, then — in one
 * transaction with the Idempotency-Key row when there is one — upsert the valid records
 * with one set-based statement and answer {created, updated, unchanged, rejected}.
 * ?atomic=true: any rejected record means nothing is stored (422).
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
#include "store/audit.h"
#include "store/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stands for an NDJSON line that is not JSON (already in `rejected`); the name cannot be a
 * member of a valid record. */
#define MALFORMED_LINE "\x01malformed"

/* Records of the body: a JSON array, or one JSON object per line (NDJSON). A line that
 * is not JSON becomes a rejected record; a malformed array is a 400. */
static json_t *parse_records(lda_req *r, json_t *rejected)
{
    const char *ct = http_req_header(r, "Content-Type");
    bool ndjson = ct && !strncasecmp(ct, "application/x-ndjson", 20);
    if (!ndjson) {
        json_error_t jerr;
        json_t *a = json_loadb(r->raw_body ? r->raw_body : "", r->raw_body_len,
                               JSON_REJECT_DUPLICATES, &jerr);
        if (!a) {
            char detail[160];
            snprintf(detail, sizeof detail, "Malformed JSON at line %d, column %d.", jerr.line,
                     jerr.column);
            problem_send(r, 400, detail, NULL);
            return NULL;
        }
        if (!json_is_array(a)) {
            json_decref(a);
            problem_send(r, 400, "A batch is a JSON array of records (or NDJSON).", NULL);
            return NULL;
        }
        return a;
    }
    json_t *a = JCHECK(json_array());
    const char *p = r->raw_body ? r->raw_body : "", *end = p + r->raw_body_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t len = (size_t)(stop - p);
        while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len) {
            json_t *rec = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
            if (!rec) {
                json_array_append_new(
                    rejected,
                    JCHECK(json_pack("{s:I, s:n, s:[{s:s, s:s}]}", "index",
                                     (json_int_t)json_array_size(a), "external_id", "errors",
                                     "field", "", "message", "malformed JSON line")));
                rec = JCHECK(json_pack("{s:b}", MALFORMED_LINE, 1));
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

static int by_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* SHA-256 of a record as it will be stored, so that equal records hash equal however they
 * were written: null, absent and empty sets all mean "not collected"; sets are sorted;
 * timestamps are the instant they stand for, whatever the offset. */
static void content_hash(const json_t *rec, char out[SECRET_HASH_HEX])
{
    json_t *copy = JCHECK(json_deep_copy(rec));
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(copy, tmp, k, v)
    {
        int64_t us;
        if (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0))
            json_object_del(copy, k);
        else if (json_is_string(v) && parse_timestamp(json_string_value(v), &us))
            json_object_set_new(copy, k, json_integer((json_int_t)us));
        else if (json_is_array(v)) {
            size_t n = json_array_size(v);
            bool strings = true;
            for (size_t i = 0; i < n; i++) strings &= json_is_string(json_array_get(v, i));
            if (strings) {
                json_t **items = xmalloc(n * sizeof *items);
                for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(v, i));
                qsort(items, n, sizeof *items, by_string);
                json_array_clear(v);
                for (size_t i = 0; i < n; i++) json_array_append_new(v, items[i]);
                free(items);
            }
        }
    }
    char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (!text) lda_oom();
    secret_sha256_hex(text, strlen(text), out);
    free(text);
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

void resource_batch(lda_req *r, const batch_kind *k)
{
    const char *source = batch_source(r);
    if (!source) return;
    bool atomic = query_get(&r->query, "atomic") && !strcmp(query_get(&r->query, "atomic"), "true");
    json_t *rejected = JCHECK(json_array());
    json_t *records = parse_records(r, rejected);
    if (!records) {
        json_decref(rejected);
        return;
    }
    size_t n = json_array_size(records);
    if (n > BATCH_MAX_RECORDS) {
        char detail[96];
        snprintf(detail, sizeof detail, "A batch holds at most %d records; this one has %zu.",
                 BATCH_MAX_RECORDS, n);
        problem_send(r, 413, detail, NULL);
        goto done_early;
    }

    /* validate every record; keep the valid ones with their index and content hash */
    vctx ctx = {today_paris()};
    json_t *valid = JCHECK(json_array());
    json_t *seen = JCHECK(json_object());
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(records, i);
        if (json_object_get(rec, MALFORMED_LINE)) continue; /* already rejected */
        json_t *errors = JCHECK(json_array());
        if (!json_is_object(rec))
            json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "", "message",
                                                           "must be an object")));
        else {
            k->validate(r, rec, &ctx, errors);
            const char *platform = json_string_value(json_object_get(rec, "platform"));
            if (platform && !http_in_scope(r, platform))
                schema_error(errors, "", "platform", "outside this token's platforms");
            const char *ext = json_string_value(json_object_get(rec, "external_id"));
            if (ext && json_object_get(seen, ext))
                schema_error(errors, "", "external_id", "appears twice in this batch");
            else if (ext && !json_array_size(errors))
                json_object_set_new(seen, ext, json_true());
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
    json_decref(seen);
    sort_rejected(rejected);

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
    if (!e && json_array_size(valid)) {
        char *text = json_dumps(valid, JSON_COMPACT);
        if (!text) lda_oom();
        e = k->write(r, c, source, text, (long)json_array_size(valid), rejected, &counts);
        free(text);
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
    (void)r;
    return siao_request_validate(rec, ctx, errors);
}

static lda_err siao_write(lda_req *r, db_conn *c, const char *source, const char *records, long n,
                          json_t *rejected, batch_counts *out)
{
    char *scope = resource_scope(r);
    lda_err e = siao_request_upsert(c, source, scope, records, n, rejected, out);
    free(scope);
    return e;
}

void siao_requests_batch(lda_req *r)
{
    static const batch_kind kind = {"siao_request", siao_validate, NULL, siao_write};
    resource_batch(r, &kind);
}

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

static lda_err household_batch_write(lda_req *r, db_conn *c, const char *source,
                                     const char *records, long n, json_t *rejected,
                                     batch_counts *out)
{
    char *scope = resource_scope(r);
    lda_err e = household_upsert(c, source, scope, r->who->token_id, records, n, rejected, out);
    free(scope);
    return e;
}

void households_batch(lda_req *r)
{
    static const batch_kind kind = {"household", household_batch_validate, household_batch_prepare,
                                    household_batch_write};
    resource_batch(r, &kind);
}

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

static lda_err referral_batch_write(lda_req *r, db_conn *c, const char *source, const char *records,
                                    long n, json_t *rejected, batch_counts *out)
{
    return referral_upsert(c, source, r->who->token_id, r->who->role_name, records, n, rejected,
                           out);
}

void referrals_batch(lda_req *r)
{
    static const batch_kind kind = {"referral", referral_batch_validate, NULL,
                                    referral_batch_write};
    resource_batch(r, &kind);
}
