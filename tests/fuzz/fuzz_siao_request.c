/* One SIAO request record (the records of POST /v1/siao-requests/batch): parsed and
 * validated; a valid one stands for an age in 0..120, or none. */
#include "domain/siao.h"
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
    bool ok = siao_request_validate(body, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        int age = siao_request_age(body);
        FUZZ_CHECK(age >= -1 && age <= 120);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
