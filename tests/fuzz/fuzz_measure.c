/* POST /v1/referrals/{id}/measures and PATCH /v1/measures/{id}: the body parsed and
 * validated, with and without the head's birth date, and a patch merged into a stored
 * measure then checked by the cross-field rules, as the handlers do. */
#include "core/parse.h"
#include "domain/referral_rules.h"
#include "fuzz.h"

#include <stdlib.h>

/* A stored measure as lda_measure_json renders it. */
static const char STORED[] =
    "{\"id\":\"9e4f1a2b-3c5d-4e6f-8a7b-0c1d2e3f4a5b\",\"referral\":"
    "\"7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e\",\"kind\":\"adsl\",\"operator\":\"La Vie Active\","
    "\"started_on\":\"2025-03-28\",\"ended_on\":null,\"end_reason\":null,"
    "\"housing_outcome\":null,\"housing_type\":null,\"housing_on\":null,"
    "\"created_at\":\"2025-03-28T16:40:05+01:00\",\"updated_at\":\"2025-03-28T16:40:05+01:00\"}";

static json_t *stored;
static int32_t births[2] = {-1, 0};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    stored = json_loads(STORED, 0, NULL);
    if (!stored || !parse_date("2003-05-01", &births[1])) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = fuzz_body(data, size);
    if (!body) return 0;
    for (int b = 0; b < 2; b++) {
        /* create */
        json_t *errors = json_array();
        bool ok = measure_validate(body, body, V_CREATE, fuzz_ctx(), births[b], errors);
        fuzz_check_errors(errors, 0, ok);
        if (ok) free(json_dumps(body, JSON_COMPACT));
        json_decref(errors);

        /* patch: the fields on the patch, the cross-field rules on the merged measure */
        errors = json_array();
        ok = schema_validate(MEASURE_FIELDS, body, V_PATCH, fuzz_ctx(), "", errors);
        fuzz_check_errors(errors, 0, ok);
        if (ok) {
            json_t *merged = schema_merge(MEASURE_FIELDS, stored, body);
            json_t *none = json_object();
            size_t before = json_array_size(errors);
            ok = measure_validate(none, merged, V_PATCH, fuzz_ctx(), births[b], errors);
            fuzz_check_errors(errors, before, ok);
            json_decref(none);
            free(json_dumps(merged, JSON_COMPACT));
            json_decref(merged);
        }
        json_decref(errors);
    }
    json_decref(body);
    return 0;
}
