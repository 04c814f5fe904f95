/* POST /v1/households and PATCH /v1/households/{id}: the body parsed, validated, and what the
 * handlers do with a valid one without the database (person_key, merge, the adults rule). */
#include "domain/household_rules.h"
#include "fuzz.h"

#include <stdlib.h>

/* A stored household as lda_household_json renders it. */
static const char STORED[] =
    "{\"id\":\"3f8e2a61-5b7c-4d2e-9a1f-0c6b8d4e7f12\",\"platform\":\"artois\","
    "\"external_ref\":\"SIAO-2025-004512\",\"composition\":\"single_parent\",\"adults\":1,"
    "\"children\":2,\"head\":{\"last_name\":\"Dupont\",\"first_name\":\"L\xc3\xa9"
    "a\",\"birth_date\":\"2001-03-14\",\"sex\":\"female\",\"age_band\":\"18_24\"},"
    "\"resources\":[\"rsa\"],\"housing_situation\":\"hosted_by_third_party\","
    "\"vulnerabilities\":[],\"person_key\":null,\"erased_at\":null,"
    "\"created_at\":\"2025-03-10T15:02:11+01:00\",\"updated_at\":\"2025-03-10T15:02:11+01:00\"}";

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

static void person_key_of(const json_t *h)
{
    const json_t *head = json_object_get(h, "head");
    char key[SECRET_HASH_HEX];
    household_person_key(household_key(), schema_str(head, "last_name"),
                         schema_str(head, "first_name"), schema_str(head, "birth_date"), key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = fuzz_body(data, size);
    if (!body) return 0;

    /* create */
    json_t *errors = json_array();
    bool ok = household_validate(body, V_CREATE, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        FUZZ_CHECK(json_integer_value(json_object_get(body, "adults")) >= 1);
        person_key_of(body);
        free(json_dumps(body, JSON_COMPACT));
    }
    json_decref(errors);

    /* patch: the fields, then the merged household */
    errors = json_array();
    ok = schema_validate(HOUSEHOLD_FIELDS, body, V_PATCH, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        json_t *merged = schema_merge(HOUSEHOLD_FIELDS, stored, body);
        const json_t *head = json_object_get(merged, "head");
        FUZZ_CHECK(json_is_string(json_object_get(head, "last_name")));
        FUZZ_CHECK(json_is_string(json_object_get(head, "birth_date")));
        person_key_of(merged);
        free(json_dumps(merged, JSON_COMPACT));
        json_decref(merged);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
