#include "http/route.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

match_result route_match(const char *method, const char *path, const lda_route **route,
                         char *params[4], char *allow, size_t allowlen)
{
    const char *m = strcmp(method, "HEAD") ? method : "GET";
    bool path_known = false;
    allow[0] = '\0';
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        char *tmp[4] = {0};
        if (!pattern_match(ROUTES[i].pattern, path, tmp)) continue;
        if (!strcmp(ROUTES[i].method, m)) {
            memcpy(params, tmp, sizeof tmp);
            *route = &ROUTES[i];
            return MATCH_OK;
        }
        for (int k = 0; k < 4; k++) free(tmp[k]);
        path_known = true;
        if (!strstr(allow, ROUTES[i].method)) {
            size_t used = strlen(allow);
            snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", ROUTES[i].method);
        }
    }
    if (path_known && strstr(allow, "GET") && !strstr(allow, "HEAD")) {
        size_t used = strlen(allow);
        snprintf(allow + used, allowlen - used, ", HEAD");
    }
    return path_known ? MATCH_WRONG_METHOD : MATCH_NONE;
}
