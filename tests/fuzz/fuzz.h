/*
 * fuzz — what the libFuzzer targets of tests/fuzz/ share: the process set up as the service
 * sets itself up (TZ, pseudonymisation key), the request body parsed as the dispatcher parses
 * it, and the checks every validation result must pass (well-formed errors that render as a
 * problem document). A broken check aborts, which libFuzzer reports as a crash.
 */
#ifndef LDA_TESTS_FUZZ_H
#define LDA_TESTS_FUZZ_H

#include "domain/schema.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Aborts with the condition's text when it does not hold. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond);                                         \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* Once per process (from LLVMFuzzerInitialize): TZ=Europe/Paris and a pseudonymisation key,
 * as api/main.c sets them. */
void fuzz_init(void);

/* The validation context: today, Europe/Paris, read once. */
const vctx *fuzz_ctx(void);

/* The request body as the dispatcher parses it (json_loadb, duplicate keys rejected), or
 * NULL where it answers 400. The nesting depth limit is not applied: batch records do not
 * go through it, so the validators must cope with any depth jansson accepts. Caller
 * json_decrefs. */
json_t *fuzz_body(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (caller frees), or NULL when it holds a NUL byte
 * (a URL or a header cannot). */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* Checks a validator's result: the errors appended after index `before` are
 * {"field": "" or a JSON pointer, "message": non-empty}, `ok` is true exactly when there are
 * none, and the 422 problem document they make renders and parses back. Does not take
 * `errors`. */
void fuzz_check_errors(const json_t *errors, size_t before, bool ok);

/* Renders a problem document (`errors` stolen) and checks it parses back as an object with
 * the same status. */
void fuzz_check_problem(int status, const char *detail, json_t *errors);

#endif
