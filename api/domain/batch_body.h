/*
 * batch_body — a batch body cut into its records before any of them is parsed, so that
 * what a body costs is known (and refused) before it costs memory: a body holding more than
 * the record limit is refused after counting, without parsing a record; each record is
 * then parsed on its own, when its turn comes, and a record larger than the single-record
 * limit is rejected without being parsed. Pure: no HTTP, no database.
 *
 * A JSON array is cut by a scanner that follows strings and brackets only (what lies inside
 * a record is left to jansson when the record is parsed); NDJSON is cut at line ends, blank
 * lines skipped.
 */
#ifndef LDA_DOMAIN_BATCH_BODY_H
#define LDA_DOMAIN_BATCH_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Errors listed per rejected record in a batch report, at most (the last one says how many
 * more there were). */
#define BATCH_ERRORS_PER_RECORD 20
/* Characters of an error's field or message kept in a batch report (longer: cut, marked). */
#define BATCH_ERROR_TEXT_MAX 200
/* Errors listed in a whole batch report, at most: past them, a rejected record is still
 * listed (index, external_id), with one error saying its errors are not listed. */
#define BATCH_REPORT_ERRORS_MAX 20000
/* Members a record may have: a record with more is rejected with one error, without being
 * checked member by member (no kind of record has near that many fields). */
#define BATCH_RECORD_MEMBERS_MAX 64

typedef struct {
    size_t off, len; /* the record's text in the body */
    int line, col;   /* where it starts (1-based), for error positions */
} batch_slice;

typedef enum {
    BATCH_BODY_OK,
    BATCH_BODY_MALFORMED, /* not well-formed JSON where the scanner can tell (400) */
    BATCH_BODY_NOT_ARRAY, /* JSON, but not an array (400) */
    BATCH_BODY_TOO_MANY,  /* more than the record limit (413), counted to limit + 1 only */
} batch_body_result;

typedef struct {
    const char *body;
    size_t len;
    bool ndjson;
    batch_slice *items; /* `count` records, in order */
    size_t count;
    int err_line, err_col; /* BATCH_BODY_MALFORMED: where */
} batch_body;

/*
 * Cuts `body` into at most `max_records` records. On BATCH_BODY_OK the caller releases
 * out with batch_body_free(); on any other result nothing is held.
 */
batch_body_result batch_body_scan(const char *body, size_t len, bool ndjson, size_t max_records,
                                  batch_body *out);
void batch_body_free(batch_body *b);

typedef enum {
    BATCH_RECORD_OK,        /* *rec: a new reference */
    BATCH_RECORD_TOO_LARGE, /* over record_max bytes: not parsed */
    BATCH_RECORD_MALFORMED, /* does not parse, or nested deeper than the JSON depth limit */
} batch_record_result;

/*
 * Parses record i (duplicate keys refused). BATCH_RECORD_MALFORMED also fills *line and
 * *col with the position of the error in the body.
 */
batch_record_result batch_body_record(const batch_body *b, size_t i, size_t record_max,
                                      json_t **rec, int *line, int *col);

/*
 * Bounds one rejected record's error list for the report: at most BATCH_ERRORS_PER_RECORD
 * errors (the last then says how many were left out), fields and messages cut at
 * BATCH_ERROR_TEXT_MAX characters (marked with "…"). Modifies `errors` in place.
 */
void batch_errors_cap(json_t *errors);

#endif
