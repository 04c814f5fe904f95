/* POST /v1/partners and PATCH /v1/partners/{id}: the body parsed, validated, merged. */
#include "domain/referral_rules.h"
#include "fuzz.h"

#include <stdlib.h>

static const char STORED[] =
    "{\"id\":\"5a2b8c7d-1e3f-4a5b-9c6d-7e8f9a0b1c2d\",\"name\":\"CCAS de Lens\","
    "\"kind\":\"ccas\",\"platform\":\"lens_henin\",\"created_at\":\"2025-01-06T09:00:00+01:00\","
    "\"updated_at\":\"2025-01-06T09:00:00+01:00\"}";

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
    json_t *errors = json_array();
    bool ok = schema_validate(PARTNER_FIELDS, body, V_CREATE, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        FUZZ_CHECK(schema_str(body, "name") && schema_str(body, "kind"));
        free(json_dumps(body, JSON_COMPACT));
    }
    json_decref(errors);

    errors = json_array();
    ok = schema_validate(PARTNER_FIELDS, body, V_PATCH, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        json_t *merged = schema_merge(PARTNER_FIELDS, stored, body);
        FUZZ_CHECK(schema_str(merged, "name") && schema_str(merged, "kind"));
        free(json_dumps(merged, JSON_COMPACT));
        json_decref(merged);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
