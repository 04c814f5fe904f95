/*
 * POST /v1/{siao-requests,households,referrals,...}/batch without the database: the body cut
 * into records (JSON array or NDJSON), then every record parsed and validated, as
 * resource_batch does before it writes. Every record ends up either valid or rejected, once,
 * with at most BATCH_ERRORS_PER_RECORD errors.
 *
 * The content hash of each valid record is checked against the reference definition (the one
 * resource_batch used first): json_dumps(JSON_COMPACT | JSON_SORT_KEYS) of the record without
 * its null members and empty arrays, top-level timestamps as epoch microseconds, top-level
 * arrays of strings sorted; stored hashes must keep matching re-pushed records.
 *
 * Input: one byte for the kind ('s' siao requests, 'h' households, 'r' referrals, 'c'
 * prevention cases, 'a' their actions, 'f' their follow-ups, 'o' housing offers, 'p'
 * placements; other bytes by value), one for the format and caller ('j' JSON, 'n' NDJSON; upper
 * case: a coordinator of artois instead of an admin), then the body.
 */
#include "core/parse.h"
#include "core/secret.h"
#include "domain/siao.h"
#include "fuzz.h"
#include "resources/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lda_principal admin, coordinator;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    strcpy(admin.token_id, "00000000-0000-4000-8000-000000000001");
    admin.role = ROLE_ADMIN;
    admin.role_name = "admin";
    strcpy(coordinator.token_id, "00000000-0000-4000-8000-000000000002");
    coordinator.role = ROLE_COORDINATOR;
    coordinator.role_name = "coordinator";
    coordinator.nplatforms = 1;
    strcpy(coordinator.platforms[0], "artois");
    identity_scope_build(&admin);
    identity_scope_build(&coordinator);
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The text whose hash is the content hash of a record that batch_validate completed (without
 * what it added). Caller frees. */
static char *reference_text(const batch_kind *kind, const json_t *valid)
{
    json_t *copy = json_deep_copy(valid);
    json_object_del(copy, "idx");
    json_object_del(copy, "content_hash");
    if (kind == &BATCH_HOUSEHOLDS) json_object_del(copy, "person_key"); /* added by prepare */
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
                json_t **items = malloc(n * sizeof *items);
                for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(v, i));
                qsort(items, n, sizeof *items, by_string);
                json_array_clear(v);
                for (size_t i = 0; i < n; i++) json_array_append_new(v, items[i]);
                free(items);
            }
        }
    }
    char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    FUZZ_CHECK(text != NULL);
    json_decref(copy);
    return text;
}

static const batch_kind *kind_of(uint8_t c)
{
    static const batch_kind *const KINDS[] = {
        &BATCH_SIAO_REQUESTS,    &BATCH_HOUSEHOLDS,         &BATCH_REFERRALS,
        &BATCH_PREVENTION_CASES, &BATCH_PREVENTION_ACTIONS, &BATCH_PREVENTION_FOLLOW_UPS,
        &BATCH_HOUSING_OFFERS,   &BATCH_PLACEMENTS,
    };
    static const char LETTERS[] = "shrcafop";
    const char *k = memchr(LETTERS, c, sizeof LETTERS - 1);
    return KINDS[k ? k - LETTERS : c % 8];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const batch_kind *k = kind_of(data[0]);
    bool ndjson = data[1] == 'n' || data[1] == 'N';
    bool scoped = data[1] >= 'A' && data[1] <= 'Z';
    const char *body = (const char *)data + 2;
    size_t len = size - 2;

    char detail[160] = "";
    int status = 0;
    batch_records b;
    if (!batch_open(&b, body, len, ndjson, 1 << 20, &status, detail, sizeof detail)) {
        FUZZ_CHECK(status == 400 || status == 413);
        FUZZ_CHECK(status == 413 || !ndjson);
        fuzz_check_problem(status, detail, NULL);
        return 0;
    }
    size_t n = b.body.count;
    FUZZ_CHECK(n <= BATCH_MAX_RECORDS);
    json_t *rejected = json_array();

    lda_req r;
    memset(&r, 0, sizeof r);
    r.who = scoped ? &coordinator : &admin;
    json_t *valid = batch_validate(&r, k, &b, rejected);
    if (!valid) {
        /* a record of a JSON array does not parse: the whole body is 400 */
        FUZZ_CHECK(!ndjson && b.malformed && b.detail[0]);
        fuzz_check_problem(400, b.detail, NULL);
        goto done;
    }

    /* every index once, valid or rejected; rejections sorted, with well-formed errors */
    char *seen = calloc(n + 1, 1);
    size_t i;
    json_t *item;
    json_int_t last = -1;
    json_array_foreach(rejected, i, item)
    {
        json_int_t idx = json_integer_value(json_object_get(item, "index"));
        FUZZ_CHECK(json_is_integer(json_object_get(item, "index")));
        FUZZ_CHECK(idx >= 0 && (size_t)idx < n && idx > last && !seen[idx]);
        seen[idx] = 1;
        last = idx;
        const json_t *errors = json_object_get(item, "errors");
        FUZZ_CHECK(json_array_size(errors) > 0 &&
                   json_array_size(errors) <= BATCH_ERRORS_PER_RECORD);
        fuzz_check_errors(errors, 0, false);
    }
    json_array_foreach(valid, i, item)
    {
        json_int_t idx = json_integer_value(json_object_get(item, "idx"));
        FUZZ_CHECK(idx >= 0 && (size_t)idx < n && !seen[idx]);
        seen[idx] = 1;
        char hash[SECRET_HASH_HEX], *text = reference_text(k, item);
        secret_sha256_hex(text, strlen(text), hash);
        if (strcmp(json_string_value(json_object_get(item, "content_hash")), hash))
            fprintf(stderr, "record %lld: content_hash is not the SHA-256 of %s\n", (long long)idx,
                    text);
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(item, "content_hash")), hash));
        free(text);
        /* follow-ups are identified by their case and horizon: no external_id */
        if (k != &BATCH_PREVENTION_FOLLOW_UPS)
            FUZZ_CHECK(json_is_string(json_object_get(item, "external_id")));
        if (k == &BATCH_HOUSEHOLDS) FUZZ_CHECK(json_is_string(json_object_get(item, "person_key")));
    }
    for (size_t x = 0; x < n; x++) FUZZ_CHECK(seen[x]);
    free(seen);

    /* what is sent to PostgreSQL, and the answer */
    free(json_dumps(valid, JSON_COMPACT));
    json_t *answer = json_pack("{s:I, s:I, s:I, s:O}", "created", (json_int_t)0, "updated",
                               (json_int_t)0, "unchanged", (json_int_t)0, "rejected", rejected);
    FUZZ_CHECK(answer != NULL);
    char *text = json_dumps(answer, JSON_COMPACT | JSON_PRESERVE_ORDER);
    FUZZ_CHECK(text != NULL);
    free(text);
    json_decref(answer);
    json_decref(valid);
done:
    json_decref(rejected);
    batch_close(&b);
    return 0;
}
