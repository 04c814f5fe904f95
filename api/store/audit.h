/*
 * audit — the audit log of reads and writes of personal data (SPEC §4).
 *
 * Events are queued in memory by the request and written by a background thread in one
 * multi-row INSERT at least every 200 ms (and on shutdown), so that auditing a read costs
 * no round trip. What a crash can lose: the events of the last ~200 ms before a SIGKILL or
 * power loss (never data, only their audit lines). GET /v1/audit-events flushes first, so
 * it always shows every event of this process.
 */
#ifndef LDA_STORE_AUDIT_H
#define LDA_STORE_AUDIT_H

#include "core/err.h"
#include "http/request.h"
#include "store/db.h"

/* Starts the writer thread (its own connection from the pool's settings). */
void audit_start(const char *database_url);
/* Flushes what is queued and stops the writer. */
void audit_stop(void);

/* Queues one event. resource_id may be NULL. Never fails (drops and counts past 100 000
 * queued events while the database is down). */
void audit_record(const lda_req *r, const char *action, const char *resource_type,
                  const char *resource_id, int status);

/* Writes what is queued now, through `c`. */
lda_err audit_flush(db_conn *c);

/* Events dropped because the queue was full. */
long audit_dropped(void);

/* Lists events by id: filters may be NULL; from inclusive, to_excl exclusive, to_incl
 * inclusive (timestamps, or dates meaning midnight in Europe/Paris). */
lda_err audit_list_json(db_conn *c, const char *token_id, const char *resource_type,
                        const char *resource_id, const char *from, const char *to_excl,
                        const char *to_incl, int limit, const char *cursor, char **json);

#endif
