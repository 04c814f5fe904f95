/*
 * cursor — opaque pagination cursors: a keyset position (the sort key and the id of the
 * last item of a page) serialised as JSON and encoded base64url. Decoding is strict: a
 * cursor that was not produced by cursor_encode is rejected.
 */
#ifndef LDA_CORE_CURSOR_H
#define LDA_CORE_CURSOR_H

#include <stdbool.h>

/* Encodes (key, id) as a cursor; caller frees. */
char *cursor_encode(const char *key, const char *id);

/* Decodes a cursor into copies of key and id (caller frees both). False when malformed. */
bool cursor_decode(const char *cursor, char **key, char **id);

#endif
