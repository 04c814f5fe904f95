/*
 * schema — a resource's fields described once, as data (type, required, codes, ranges,
 * who may see them), and the one validator that reads those descriptions. Single-record
 * writes, PATCHes and the batch endpoints all validate through schema_validate(), so a
 * rule is never written twice. Pure: no I/O, safe to fuzz.
 */
#ifndef LDA_DOMAIN_SCHEMA_H
#define LDA_DOMAIN_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    FT_STRING, /* text, length in characters within [min, max] */
    FT_INT,    /* integer within [min, max] */
    FT_BOOL,
    FT_DATE,      /* YYYY-MM-DD */
    FT_TIMESTAMP, /* RFC 3339 with offset */
    FT_UUID,
    FT_CODE,    /* one code of `vocab` */
    FT_CODES,   /* array of distinct codes of `vocab`, [min, max] items */
    FT_STRINGS, /* array of distinct strings of 1..200 characters, [min, max] items */
    FT_OBJECT,  /* nested object described by `sub` */
} field_type;

enum {
    F_REQUIRED = 1u << 0,    /* must be present on create */
    F_NULLABLE = 1u << 1,    /* null accepted (means "not collected") */
    F_NOT_FUTURE = 1u << 2,  /* dates: not after today (Europe/Paris) */
    F_CREATE_ONLY = 1u << 3, /* rejected by PATCH */
    F_IDENTITY = 1u << 4,    /* personal data: only roles that may see identity get it */
    F_MERGE = 1u << 5,       /* FT_OBJECT: a PATCH merges into the stored object (else replaces) */
};

typedef struct lda_field {
    const char *name;
    field_type type;
    unsigned flags;
    long min, max;                    /* see field_type; both 0: no bound */
    const char *vocab;                /* FT_CODE / FT_CODES */
    const struct lda_field *sub;      /* FT_OBJECT: fields, terminated by a {NULL} entry */
    bool (*check)(const char *value); /* FT_STRING: extra rule (e.g. a pattern) */
    const char *check_msg;
} lda_field;

typedef enum { V_CREATE, V_PATCH } vmode;

typedef struct {
    int32_t today; /* days since epoch, Europe/Paris: for F_NOT_FUTURE */
} vctx;

/*
 * Validates `value` (must be an object) against `fields` (terminated by {NULL}).
 * Appends one {"field": JSON pointer, "message"} per problem to `errors`, pointers
 * prefixed by `ptr` (e.g. "" or "/household"). Unknown members are errors.
 * V_PATCH: nothing is required and F_CREATE_ONLY fields are rejected.
 * Returns true when no error was added.
 */
bool schema_validate(const lda_field *fields, const json_t *value, vmode mode, const vctx *ctx,
                     const char *ptr, json_t *errors);

/* The object a PATCH produces: `stored` (a rendering of the resource) with `patch` applied:
 * members replaced, null clears, FT_OBJECT fields flagged F_MERGE merged member by member.
 * Returns a new reference. */
json_t *schema_merge(const lda_field *fields, const json_t *stored, const json_t *patch);

/* Appends {"field": ptr+name, "message": msg} to errors. */
void schema_error(json_t *errors, const char *ptr, const char *name, const char *msg);

/* Days since epoch of a date member already validated (or -1 when absent/null). */
int32_t schema_date(const json_t *obj, const char *name);

/* A string member, or NULL when absent or null. */
const char *schema_str(const json_t *obj, const char *name);

/* Renders the codes array of `obj[name]` as a PostgreSQL text[] literal ("{a,b}"),
 * or NULL when absent/null. Items are quoted and escaped. Caller frees. */
char *schema_pg_array(const json_t *obj, const char *name);

#endif
