/* POST /v1/referrals (household by id or inline) and PATCH /v1/referrals/{id}: the body
 * parsed, validated, and the database-free part of what the handlers do with a valid one. */
#include "core/parse.h"
#include "domain/household_rules.h"
#include "domain/referral_rules.h"
#include "fuzz.h"

#include <stdlib.h>

/* A stored referral as lda_referral_json renders it. */
static const char STORED[] =
    "{\"id\":\"7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e\",\"household\":"
    "\"3f8e2a61-5b7c-4d2e-9a1f-0c6b8d4e7f12\",\"platform\":\"artois\",\"partner\":null,"
    "\"referrer_kind\":\"ccas\",\"referrer_name\":\"CCAS de B\xc3\xa9thune\","
    "\"received_on\":\"2025-03-10\",\"has_social_note\":true,\"reasons\":[\"homelessness\"],"
    "\"status\":\"assessing\",\"status_dates\":{\"received\":\"2025-03-10\","
    "\"assessing\":\"2025-03-12\"},\"concertation\":null,\"decision_note\":null,"
    "\"created_at\":\"2025-03-10T15:02:11+01:00\",\"updated_at\":\"2025-03-12T10:12:00+01:00\"}";

static json_t *stored;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    stored = json_loads(STORED, 0, NULL);
    if (!stored) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = fuzz_body(data, size);
    if (!body) return 0;

    /* create */
    json_t *errors = json_array();
    bool ok = referral_validate(body, V_CREATE, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        FUZZ_CHECK(schema_str(body, "platform") != NULL);
        const json_t *household = json_object_get(body, "household");
        FUZZ_CHECK(json_is_string(household) || json_is_object(household));
        if (json_is_object(household)) {
            const json_t *head = json_object_get(household, "head");
            char key[SECRET_HASH_HEX];
            household_person_key(household_key(), schema_str(head, "last_name"),
                                 schema_str(head, "first_name"), schema_str(head, "birth_date"),
                                 key);
            free(json_dumps(household, JSON_COMPACT));
        }
        free(json_dumps(body, JSON_COMPACT));
    }
    json_decref(errors);

    /* patch: the fields, then the merged referral (its cross-field rules need the database) */
    errors = json_array();
    ok = schema_validate(REFERRAL_FIELDS, body, V_PATCH, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        json_t *merged = schema_merge(REFERRAL_FIELDS, stored, body);
        int32_t day; /* a day, before 1970 too (a valid body may hold one) */
        FUZZ_CHECK(parse_date(schema_str(merged, "received_on"), &day));
        const json_t *conc = json_object_get(merged, "concertation");
        FUZZ_CHECK(json_is_null(conc) || parse_date(schema_str(conc, "held_on"), &day));
        free(json_dumps(merged, JSON_COMPACT));
        json_decref(merged);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
