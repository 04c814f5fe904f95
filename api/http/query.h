/*
 * query — the query string, parsed strictly and checked against what a route accepts
 * (query parameters are validated like bodies; nothing is silently ignored).
 */
#ifndef LDA_HTTP_QUERY_H
#define LDA_HTTP_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    Q_STRING,    /* text of 1 to 200 bytes, no control characters */
    Q_LONG,      /* integer in [min, max] */
    Q_DATE,      /* YYYY-MM-DD */
    Q_TIMESTAMP, /* RFC 3339 with offset, or a date (start of that day, Europe/Paris) */
    Q_UUID,
    Q_CODE,   /* a code of the enumeration named `vocab` */
    Q_BOOL,   /* true | false */
    Q_CURSOR, /* opaque pagination cursor (must decode and hold what min, a qcursor, says) */
    Q_CHOICE, /* one of `choices` (NULL-terminated) */
} qtype;

/* What a list's cursor holds (Q_CURSOR): its sort key and row id, each checked for its type
 * here, so that a crafted cursor never reaches PostgreSQL (which would log the bad value). */
typedef enum {
    QC_ANY = 0,   /* only decoded */
    QC_TIME_UUID, /* a timestamptz as PostgreSQL prints it, a UUID */
    QC_TEXT_UUID, /* any text, a UUID */
    QC_DATE_UUID, /* YYYY-MM-DD, a UUID */
    QC_INT_INT,   /* two non-negative integers */
} qcursor;

typedef struct {
    const char *name;
    qtype type;
    long min, max;     /* Q_LONG: bounds; Q_CURSOR: min is the qcursor kind */
    const char *vocab; /* Q_CODE */
    bool repeatable;
    const char *const *choices; /* Q_CHOICE */
} qparam;

#define QPARAM_END                                                                                 \
    {                                                                                              \
        NULL, Q_STRING, 0, 0, NULL, false, NULL                                                    \
    }

typedef struct {
    char *name;
    char *value;
} qpair;

typedef struct {
    qpair *items;
    size_t count;
} qlist;

/* Splits and percent-decodes the query part of `url` (the text after '?'; no '?' = empty).
 * Returns false for a malformed encoding (bad %XX, NUL byte, invalid UTF-8). */
bool query_parse(const char *url, qlist *out);
void query_free(qlist *q);

/* Checks every pair against `spec` (terminated by QPARAM_END): unknown names, repeated
 * non-repeatable names and bad values are appended to `errors` as {field, message} with
 * field = the parameter name. Returns true when none. */
bool query_check(const qlist *q, const qparam *spec, json_t *errors);

/* The first value of `name`, or NULL. */
const char *query_get(const qlist *q, const char *name);
/* The i-th value of `name` (for repeatable parameters), or NULL past the end. */
const char *query_get_nth(const qlist *q, const char *name, size_t i);

#endif
