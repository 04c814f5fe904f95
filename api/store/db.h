/*
 * db — the PostgreSQL connection pool. A fixed number of slots, each holding one libpq
 * connection, leased to one request at a time. Connections are opened lazily and dropped to
 * the lda_app role. A pooled connection is checked before it is lent (a poll of its socket;
 * a round trip when it has been idle a few seconds) and replaced when the server is gone.
 * While the database is down one request at a time tries to connect and the others fail
 * with it (LDA_EUNAVAILABLE, 503) instead of hanging; the first request after PostgreSQL
 * accepts connections again connects. A connection that carried a very large result or
 * statement is closed when it comes back (libpq keeps its buffers at their largest).
 *
 * Statements are prepared lazily, once per connection, the first time they are used.
 */
#ifndef LDA_STORE_DB_H
#define LDA_STORE_DB_H

#include "core/config.h"
#include "core/err.h"
#include "core/identity.h"

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct db_conn db_conn;

/* A prepared statement: declare one static instance per SQL text. `slot` is private. */
typedef struct {
    const char *name; /* unique, e.g. "platform_get" */
    const char *sql;  /* $1.. parameters, all passed as text */
    int slot;         /* assigned on first use; leave 0 */
} db_stmt;

/* Builds the pool (no connection is opened yet). Call once before threads start. */
lda_err db_pool_start(const lda_config *cfg);
/* Closes every connection. Call after the last request has finished. */
void db_pool_stop(void);

/* Leases a connected slot. Waits for a free slot at most a few seconds. Returns
 * LDA_EUNAVAILABLE when the database cannot be reached. The caller must db_release(). */
lda_err db_acquire(db_conn **out);
/* Sets the platform scope row-level security applies to the statements on c, from the
 * caller's scope (who->scope; NULL who: no platform, what public routes read): the session
 * setting lda.scope is "*" (every platform), "" (none) or the codes separated by commas.
 * Costs a round trip only when it differs from the scope the connection already has. */
lda_err db_set_scope(db_conn *c, const lda_principal *who);

/* As db_acquire, from the read replica (LDA_DATABASE_URL_READ) when there is one, else from
 * the primary. For read-only statements that tolerate replication lag: the statistics. At
 * most LDA_STATS_CONCURRENCY such leases exist at once (the others wait like for a slot,
 * then LDA_EUNAVAILABLE), so statistics never hold the whole pool. */
lda_err db_acquire_read(db_conn **out);

/* As db_acquire, but only an idle connected slot, without waiting (LDA_EUNAVAILABLE when
 * there is none): for work that may as well be skipped (refreshing a cache). */
lda_err db_try_acquire(db_conn **out);

/* Tells the pool that a message of `bytes` went through c (statements run by db_exec are
 * counted already): from RECYCLE_BYTES on, the connection is closed at release. */
void db_note_size(db_conn *c, size_t bytes);

/* Returns the slot: rolls back an open transaction, drops a broken connection. */
void db_release(db_conn *c);

/*
 * Runs a prepared statement with text parameters (NULL entries are SQL NULL).
 * Returns the result (caller PQclear()s it) when it succeeded, else NULL with *err set:
 * LDA_EUNAVAILABLE (connection lost, statement or lock timeout), LDA_ECONFLICT (unique or
 * exclusion violation), LDA_EINVALID (check or foreign-key violation), LDA_EDB otherwise.
 * Only the SQLSTATE is logged, never the message or DETAIL (they can hold data).
 */
PGresult *db_exec(db_conn *c, db_stmt *stmt, int nparams, const char *const *params, lda_err *err);

/* Runs a fixed command with no parameter (BEGIN, COMMIT, ROLLBACK, SAVEPOINT...). */
lda_err db_command(db_conn *c, const char *sql);

/* The raw connection, for COPY. */
PGconn *db_pgconn(db_conn *c);

/* The SQLSTATE of the last failed db_exec on c ("" if none). */
const char *db_last_sqlstate(const db_conn *c);

/* Maps a failed result and its connection to an lda_err (and logs the SQLSTATE). */
lda_err db_error_from_result(db_conn *c, const PGresult *res);

typedef struct {
    int size, in_use, connected, stats_in_flight;
    long reconnects, connect_failures, checks, recycled, stats_refused;
} db_pool_stats;
void db_pool_get_stats(db_pool_stats *out);

/* The read replica (LDA_DATABASE_URL_READ) as /metrics reports it. */
typedef struct {
    bool configured; /* a replica URL is set */
    bool up;         /* it answered just now */
    /* seconds since the replica replayed its last transaction, while it holds WAL it has not
     * replayed yet (0 when it has replayed all it received); NAN when it holds some but has
     * replayed no transaction since it started; -1 when it did not answer */
    double lag_seconds;
    /* bytes of WAL the primary has written that the replica has not replayed; -1 unknown */
    long long lag_bytes;
} db_replica_status;
/* Asks the replica, then the primary (one leased connection each, in turn). Call it from
 * a request thread: it may wait for a connection like any statement. */
void db_replica_status_get(db_replica_status *out);
/* A connection of its own (not from the pool) to the primary, as lda_app with the pool's
 * session settings, for a background thread (LISTEN, a delivery worker). NULL when the
 * database cannot be reached or db_pool_start has not run. The caller PQfinish()es it. */
PGconn *db_connect_dedicated(void);

/* A connection as LDA_DATABASE_URL's own user (the schema's owner), for the commands that
 * migrate, seed or check the database before serving: connect timeout at least 5 s. NULL
 * (logged) when the database cannot be reached. The caller PQfinish()es it. */
PGconn *db_connect_owner(const lda_config *cfg);

/* True when PostgreSQL acknowledges no write it could lose (fsync, full_page_writes,
 * synchronous_commit); each setting that is off is logged. */
bool db_durable(PGconn *pg);

/* Convenience: the first cell of the first row, or NULL. */
const char *db_value(const PGresult *r);

#endif
