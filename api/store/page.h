/*
 * page — keyset pagination shared by every list. A list statement returns one row:
 * (items JSON array of at most limit+1 items, item count, sort key of item #limit,
 * id of item #limit); page_render() turns it into {"items", "next_cursor"}.
 * Keyset (not OFFSET) pages are stable under concurrent inserts: each item is returned
 * exactly once however the table grows.
 */
#ifndef LDA_STORE_PAGE_H
#define LDA_STORE_PAGE_H

#include "core/err.h"
#include <libpq-fe.h>

/* Caller frees *json. */
lda_err page_render(const PGresult *r, int limit, char **json);

/* Decodes `cursor` (NULL: first page) into key/id copies (NULL when no cursor).
 * LDA_EINVALID for a malformed cursor. Caller frees both. */
lda_err page_cursor(const char *cursor, char **key, char **id);

#endif
