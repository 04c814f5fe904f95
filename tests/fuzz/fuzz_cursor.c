/*
 * Pagination cursors (?cursor=): decoding any text is safe, a decoded cursor encodes back to
 * one that decodes the same, and every cursor the service can hand out as next_cursor is
 * accepted back. The input is tried as a cursor, then as the sort key of a page's last item
 * (the longest keys are partner names: 1 to 200 characters without control characters but
 * tab and line breaks), with a UUID for the item's id.
 */
#include "core/cursor.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define ID "7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static void round_trip(const char *key, const char *id)
{
    char *cursor = cursor_encode(key, id);
    char *k = NULL, *i = NULL;
    FUZZ_CHECK(cursor_decode(cursor, &k, &i));
    FUZZ_CHECK(!strcmp(k, key) && !strcmp(i, id));
    free(k);
    free(i);
    free(cursor);
}

/* What FT_STRING accepts with max 200: valid UTF-8 (jansson's check), 1..200 characters,
 * no control character but \t \n \r. */
static bool partner_name(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (!j) return false;
    json_decref(j);
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
        if ((c & 0xC0) != 0x80) chars++;
    }
    return chars >= 1 && chars <= 200;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    if (!s) return 0;
    char *key = NULL, *id = NULL;
    if (cursor_decode(s, &key, &id)) {
        FUZZ_CHECK(key && id);
        round_trip(key, id);
        free(key);
        free(id);
    }
    if (partner_name(s, size)) round_trip(s, ID);
    free(s);
    return 0;
}
