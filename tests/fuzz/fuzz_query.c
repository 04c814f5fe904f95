/*
 * Query strings: the request URL split and percent-decoded (query_parse), then checked
 * against the parameters of every route of the routing table (query_check), as the
 * dispatcher does. Decoded names and values are valid UTF-8 without NUL bytes; what a route
 * accepts, its handler can read (limits parse, cursors decode); errors render as a 422.
 * Input: the URL (path, '?', query string), up to a NUL byte.
 */
#include "core/cursor.h"
#include "core/parse.h"
#include "fuzz.h"
#include "http/problem.h"
#include "http/route.h"
#include "resources/route_table.h"

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

static bool utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* What a handler does with the parameters a route accepted. */
static void read_back(const qlist *q, const qparam *spec)
{
    for (const qparam *p = spec; p->name; p++) {
        const char *v = query_get(q, p->name);
        if (!v) continue;
        long l;
        char *k = NULL, *id = NULL;
        switch (p->type) {
        case Q_LONG:
            FUZZ_CHECK(parse_long(v, p->min, p->max, &l));
            break;
        case Q_CURSOR:
            FUZZ_CHECK(cursor_decode(v, &k, &id));
            free(k);
            free(id);
            break;
        default:
            break;
        }
        if (p->repeatable)
            for (size_t i = 0; query_get_nth(q, p->name, i); i++)
                FUZZ_CHECK(utf8(query_get_nth(q, p->name, i)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_cstring(data, size);
    if (!url) return 0;
    qlist q;
    if (!query_parse(url, &q)) {
        FUZZ_CHECK(q.count == 0 && q.items == NULL);
        free(url);
        return 0;
    }
    for (size_t i = 0; i < q.count; i++) {
        FUZZ_CHECK(q.items[i].name[0] != '\0');
        FUZZ_CHECK(utf8(q.items[i].name) && utf8(q.items[i].value));
    }
    int rendered = 0;
    for (size_t r = 0; r < ROUTE_COUNT; r++) {
        const qparam *spec = ROUTES[r].query;
        bool again = false; /* each list of parameters once */
        for (size_t k = 0; k < r; k++) again |= ROUTES[k].query == spec;
        if (again) continue;
        json_t *errors = json_array();
        bool ok = query_check(&q, spec, errors);
        FUZZ_CHECK(ok == (json_array_size(errors) == 0));
        FUZZ_CHECK(ok || q.count > 0);
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e)
        {
            FUZZ_CHECK(json_is_string(json_object_get(e, "field")));
            FUZZ_CHECK(json_is_string(json_object_get(e, "message")));
        }
        if (ok && spec)
            read_back(&q, spec);
        else if (!ok && !rendered++) /* once per input: the renderer has its own target */
            fuzz_check_problem(422, "Some query parameters are not valid.", json_incref(errors));
        json_decref(errors);
    }
    query_free(&q);
    free(url);
    return 0;
}
