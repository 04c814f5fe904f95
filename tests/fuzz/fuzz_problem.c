/*
 * The problem+json renderer (problem_render): any status, the request path as the client
 * sent it (any bytes: it is the `instance`), a request id and a detail, errors and extra
 * members as the handlers build them. The document always renders and parses back.
 *
 * Input, by lines: status, path, request id, detail, then the rest: a JSON array of errors
 * or an object of extra members (anything else: none). A request id the dispatcher would
 * not keep (1..128 of [A-Za-z0-9-_.:]) is replaced as it is there; a detail that is not
 * valid UTF-8 is dropped: details are written by the service.
 */
#include "core/parse.h"
#include "fuzz.h"
#include "http/problem.h"

#include <ctype.h>
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

/* The next line of [*p, end) as a new string (NUL bytes cut it short). */
static char *next_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *line = strndup(*p, (size_t)(stop - *p));
    if (!line) abort();
    *p = nl ? nl + 1 : end;
    return line;
}

static bool request_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i])) return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *status_s = next_line(&p, end), *path = next_line(&p, end), *rid = next_line(&p, end),
         *detail = next_line(&p, end);
    long status = 500;
    if (!parse_long(status_s, 100, 599, &status)) status = 500;
    json_t *detail_j = json_string(detail);
    json_t *rest = json_loadb(p, (size_t)(end - p), JSON_REJECT_DUPLICATES, NULL);
    json_t *errors = json_is_array(rest) ? json_incref(rest) : NULL;
    json_t *extra = json_is_object(rest) ? json_incref(rest) : NULL;

    char *text =
        problem_render((int)status, detail_j ? detail : NULL, path,
                       request_id_ok(rid) ? rid : "0123456789abcdef01234567", errors, extra);
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(doc));
    if (!extra) {
        FUZZ_CHECK(json_integer_value(json_object_get(doc, "status")) == status);
        FUZZ_CHECK(json_is_string(json_object_get(doc, "type")));
        FUZZ_CHECK(json_is_string(json_object_get(doc, "detail")));
    }
    json_decref(doc);
    free(text);
    json_decref(rest);
    json_decref(detail_j);
    free(status_s);
    free(path);
    free(rid);
    free(detail);
    return 0;
}
