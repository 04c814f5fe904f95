/*
 * platform — the five territorial platforms and the funding figures (reference data).
 * Both are rendered to JSON by PostgreSQL and passed through as text.
 */
#ifndef LDA_STORE_PLATFORM_H
#define LDA_STORE_PLATFORM_H

#include "core/err.h"
#include "store/db.h"
#include "store/doc.h"

#include <jansson.h>
#include <stddef.h>

/* *json = {"items":[...],"next_cursor":null}; caller frees. */
lda_err platform_list_json(db_conn *c, char **json);
/* One platform (with its row_version for the ETag), or LDA_ENOTFOUND. */
lda_err platform_get(db_conn *c, const char *code, store_doc *out);
/* *json = funding list, optionally for one AMI (NULL: all); caller frees. */
lda_err funding_list_json(db_conn *c, const char *ami, char **json);

/* A platform and its AMI (the platform table's `ami`). */
typedef struct {
    char code[32];
    int ami;
} platform_ami;

/* Every platform with its AMI, by AMI then code (byte order): the one place that reads which
 * platform belongs to which AMI. *out: caller frees. */
lda_err platform_amis_load(db_conn *c, platform_ami **out, size_t *n);

/* The same as a JSON object {code: ami}; caller frees with json_decref. */
lda_err platform_amis(db_conn *c, json_t **out);

/* The applied schema version (readiness). */
lda_err schema_version(db_conn *c, int *version);

#endif
