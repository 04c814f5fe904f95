#include "core/cursor.h"
#include "core/mem.h"
#include "core/secret.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Longer than any cursor cursor_encode makes: the longest sort key is a partner name, 200
 * characters (up to 800 bytes of UTF-8, 1 200 if every one were escaped as \uXXXX), which
 * with its id makes at most ~1 660 characters of base64url. */
#define CURSOR_MAX 2048

char *cursor_encode(const char *key, const char *id)
{
    json_t *a = JCHECK(json_pack("[s, s]", key, id));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!text) lda_oom();
    size_t n = strlen(text);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    secret_b64url_encode((const unsigned char *)text, n, out);
    free(text);
    return out;
}

bool cursor_decode(const char *cursor, char **key, char **id)
{
    size_t len = strlen(cursor);
    if (len == 0 || len > CURSOR_MAX) return false;
    unsigned char *raw = xmalloc(len + 4);
    long n = secret_b64url_decode(cursor, len, raw);
    bool ok = false;
    if (n > 0) {
        json_t *a = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_array(a) && json_array_size(a) == 2 && json_is_string(json_array_get(a, 0)) &&
            json_is_string(json_array_get(a, 1))) {
            *key = xstrdup(json_string_value(json_array_get(a, 0)));
            *id = xstrdup(json_string_value(json_array_get(a, 1)));
            ok = true;
        }
        json_decref(a);
    }
    free(raw);
    return ok;
}
