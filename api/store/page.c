#include "store/page.h"
#include "core/cursor.h"
#include "core/mem.h"

#include <jansson.h>
#include <stdlib.h>

lda_err page_render(const PGresult *r, int limit, char **json)
{
    long count = atol(PQgetvalue(r, 0, 1));
    json_t *arr = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    if (!arr) return LDA_EINTERNAL;
    char *next = NULL;
    if (count > limit) {
        json_array_remove(arr, (size_t)limit);
        next = cursor_encode(PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
    }
    json_t *page = JCHECK(json_pack("{s:o, s:s?}", "items", arr, "next_cursor", next));
    free(next);
    *json = json_dumps(page, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(page);
    if (!*json) lda_oom();
    return LDA_OK;
}

lda_err page_cursor(const char *cursor, char **key, char **id)
{
    *key = *id = NULL;
    if (!cursor) return LDA_OK;
    return cursor_decode(cursor, key, id) ? LDA_OK : LDA_EINVALID;
}
