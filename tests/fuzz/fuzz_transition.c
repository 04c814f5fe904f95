/* POST /v1/referrals/{id}/transitions: the body parsed and validated; a valid `to` is then
 * checked against the status machine from every status. */
#include "domain/referral_rules.h"
#include "domain/vocab.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = fuzz_body(data, size);
    if (!body) return 0;
    json_t *errors = json_array();
    bool ok = schema_validate(TRANSITION_FIELDS, body, V_CREATE, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        const char *to = schema_str(body, "to");
        const vocab *statuses = vocab_find("referral_status");
        FUZZ_CHECK(to && schema_str(body, "on") && vocab_has(statuses, to));
        for (size_t i = 0; i < statuses->ncodes; i++)
            (void)referral_transition_allowed(statuses->codes[i].code, to);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
