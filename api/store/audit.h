/*
 * audit — the audit log of reads and writes of personal data.
 *
 * Events are queued in memory by the request and written by a background thread in one
 * multi-row INSERT at least every 200 ms (and on shutdown), so that auditing a read costs
 * no round trip. What a crash can lose: the events of the last ~200 ms before a SIGKILL or
 * power loss (never data, only their audit lines). GET /v1/audit-events flushes first, so
 * it always shows every event of this process. While the database does not take them, the
 * events wait; past LDA_AUDIT_QUEUE_MAX the service pushes back (503) instead of dropping.
 */
#ifndef LDA_STORE_AUDIT_H
#define LDA_STORE_AUDIT_H

#include "core/err.h"
#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>

/* Who acted, as the audit log names it: the token id and role (both NULL for no token) and
 * the request id ("cli" for the command line). token_id and request_id are copied; role is
 * a static name (identity_role_name). */
typedef struct {
    const char *token_id, *role, *request_id;
} audit_actor;

/* Starts the writer thread; `queue_max` events may wait to be written (LDA_AUDIT_QUEUE_MAX)
 * before audit_queue_full() says so. */
void audit_start(long queue_max);
/* Flushes what is queued and stops the writer. */
void audit_stop(void);

/* Queues one event. resource_id may be NULL. Never fails and never drops an event: the
 * dispatcher refuses new work while the queue is full (audit_queue_full), and a batch
 * checks audit_room before it commits, so the queue stays within the limit plus what the
 * requests already admitted add. */
void audit_record(const audit_actor *by, const char *action, const char *resource_type,
                  const char *resource_id, int status);

/* True when the queue holds its limit: new authenticated requests answer 503. */
bool audit_queue_full(void);
/* False (and the refusal counted) when the queue holds its limit: what the HTTP layer asks
 * before it admits an authenticated request. */
bool audit_admit(void);
/* True when n more events fit under the limit (a batch about to commit its records). */
bool audit_room(size_t n);
/* Counts a request refused because the audit queue was full (metrics). */
void audit_count_refusal(void);

typedef struct {
    long queued, queue_max, refused, written, write_failures;
} audit_stats;
void audit_get_stats(audit_stats *out);

/* Writes what is queued now, through `c`. */
lda_err audit_flush(db_conn *c);

/* Lists events by id: filters may be NULL; from inclusive, to_excl exclusive, to_incl
 * inclusive (timestamps, or dates meaning midnight in Europe/Paris). */
lda_err audit_list_json(db_conn *c, const char *token_id, const char *resource_type,
                        const char *resource_id, const char *from, const char *to_excl,
                        const char *to_incl, int limit, const char *cursor, char **json);

#endif
