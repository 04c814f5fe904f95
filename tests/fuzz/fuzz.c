#include "fuzz.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "http/problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static vctx ctx;

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

void fuzz_init(void)
{
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    household_set_key("fuzz-pseudonymisation-key-0123456789abcdef");
    ctx.today = today_paris();
}

const vctx *fuzz_ctx(void) { return &ctx; }

json_t *fuzz_body(const uint8_t *data, size_t size)
{
    if (size == 0) return NULL;
    return json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
}

char *fuzz_cstring(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size)) return NULL;
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_check_problem(int status, const char *detail, json_t *errors)
{
    char *text = problem_render(status, detail, "/v1/fuzz", "fuzz-request", errors, NULL);
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(doc));
    FUZZ_CHECK(json_integer_value(json_object_get(doc, "status")) == status);
    FUZZ_CHECK(json_is_string(json_object_get(doc, "type")));
    FUZZ_CHECK(json_is_string(json_object_get(doc, "title")));
    FUZZ_CHECK(json_is_string(json_object_get(doc, "detail")));
    json_decref(doc);
    free(text);
}

void fuzz_check_errors(const json_t *errors, size_t before, bool ok)
{
    FUZZ_CHECK(json_is_array(errors));
    size_t n = json_array_size(errors);
    FUZZ_CHECK(n >= before);
    FUZZ_CHECK(ok == (n == before));
    for (size_t i = before; i < n; i++) {
        const json_t *e = json_array_get(errors, i);
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *message = json_string_value(json_object_get(e, "message"));
        FUZZ_CHECK(json_object_size(e) == 2);
        FUZZ_CHECK(field && (field[0] == '\0' || field[0] == '/'));
        FUZZ_CHECK(message && message[0]);
    }
    if (n > before)
        fuzz_check_problem(422, "The resource is not valid.", json_copy((json_t *)errors));
}
