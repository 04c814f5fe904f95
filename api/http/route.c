#include "http/route.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lda_route *table; /* installed once, before any request */
static size_t table_n;

void route_table_set(const lda_route *routes, size_t count)
{
    table = routes;
    table_n = count;
}

const lda_route *route_table(size_t *count)
{
    *count = table_n;
    return table;
}

/* Matches one pattern against a path, segment by segment; "{x}" takes one non-empty
 * segment. Fills params (copies) only on success. */
static bool pattern_match(const char *pattern, const char *path, char *params[4])
{
    const char *p = pattern, *s = path;
    char *found[4] = {0};
    int n = 0;
    bool ok = true;
    while (*p && ok) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(s, "/");
            if (!close || len == 0 || n == 4)
                ok = false;
            else {
                found[n++] = xstrndup(s, len);
                s += len;
                p = close + 1;
            }
        } else if (*p == *s) {
            p++;
            s++;
        } else
            ok = false;
    }
    if (ok && *s) ok = false;
    for (int i = 0; i < 4; i++) {
        if (ok)
            params[i] = found[i];
        else
            free(found[i]);
    }
    return ok;
}

/* Number of "{x}" segments of a pattern. */
static int templated(const char *pattern)
{
    int n = 0;
    for (const char *p = pattern; *p; p++) n += *p == '{';
    return n;
}

match_result route_match(const char *method, const char *path, const lda_route **route,
                         char *params[4], char *allow, size_t allowlen)
{
    const char *m = strcmp(method, "HEAD") ? method : "GET";
    bool path_known = false;
    allow[0] = '\0';
    /* A concrete path wins over a templated one (as in OpenAPI): /v1/households/batch is
     * that path, not the household "batch". Only the patterns with the fewest parameters
     * among those matching the path are considered. */
    int fewest = 5;
    for (size_t i = 0; i < table_n; i++) {
        char *tmp[4] = {0};
        if (!pattern_match(table[i].pattern, path, tmp)) continue;
        for (int k = 0; k < 4; k++) free(tmp[k]);
        if (templated(table[i].pattern) < fewest) fewest = templated(table[i].pattern);
    }
    for (size_t i = 0; i < table_n; i++) {
        char *tmp[4] = {0};
        if (templated(table[i].pattern) != fewest) continue;
        if (!pattern_match(table[i].pattern, path, tmp)) continue;
        if (!strcmp(table[i].method, m)) {
            memcpy(params, tmp, sizeof tmp);
            *route = &table[i];
            return MATCH_OK;
        }
        for (int k = 0; k < 4; k++) free(tmp[k]);
        path_known = true;
        if (!strstr(allow, table[i].method)) {
            size_t used = strlen(allow);
            snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", table[i].method);
        }
    }
    if (path_known && strstr(allow, "GET") && !strstr(allow, "HEAD")) {
        size_t used = strlen(allow);
        snprintf(allow + used, allowlen - used, ", HEAD");
    }
    return path_known ? MATCH_WRONG_METHOD : MATCH_NONE;
}
