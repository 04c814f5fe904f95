/* POST /v1/tokens: the body parsed and validated; a valid one's platforms rendered as the
 * PostgreSQL array the store sends. */
#include "domain/token_rules.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

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
    bool ok = token_validate(body, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        char *platforms = schema_pg_array(body, "platforms");
        FUZZ_CHECK(!platforms || (platforms[0] == '{' && platforms[strlen(platforms) - 1] == '}'));
        free(platforms);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
