/*
 * platform — the five territorial platforms and the funding figures (reference data).
 * Both are rendered to JSON by PostgreSQL and passed through as text.
 */
#ifndef LDA_STORE_PLATFORM_H
#define LDA_STORE_PLATFORM_H

#include "core/err.h"
#include "store/db.h"
#include "store/doc.h"

/* *json = {"items":[...],"next_cursor":null}; caller frees. */
lda_err platform_list_json(db_conn *c, char **json);
/* One platform (with its row_version for the ETag), or LDA_ENOTFOUND. */
lda_err platform_get(db_conn *c, const char *code, store_doc *out);
/* *json = funding list, optionally for one AMI (NULL: all); caller frees. */
lda_err funding_list_json(db_conn *c, const char *ami, char **json);

/* The applied schema version (readiness). */
lda_err schema_version(db_conn *c, int *version);

#endif
