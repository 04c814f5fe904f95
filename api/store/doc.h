/*
 * doc — one resource as PostgreSQL rendered it: its JSON text and its row_version (the
 * ETag). Statements that return a doc select (json::text, row_version).
 */
#ifndef LDA_STORE_DOC_H
#define LDA_STORE_DOC_H

#include "core/err.h"
#include "store/db.h"

typedef struct {
    char *json;
    long version;
} store_doc;

/* Runs `s`; LDA_ENOTFOUND when it returns no row. On success the caller owns out->json. */
lda_err store_one(db_conn *c, db_stmt *s, int n, const char *const *params, store_doc *out);

void store_doc_free(store_doc *d);

/* Runs an optimistic update statement ($1 id, $2 merged jsonb, $3 the row_version read):
 * no row means the resource changed meanwhile, LDA_EPRECONDITION. */
lda_err store_update(db_conn *c, db_stmt *s, const char *id, const char *merged, long version,
                     store_doc *out);

/* Runs a keyset list statement (see store/page.h) and renders the page. */
lda_err store_page(db_conn *c, db_stmt *s, int n, const char *const *params, int limit,
                   char **json);

/* Runs a statement for its effect; *rows = rows affected or returned (may be NULL). */
lda_err store_exec(db_conn *c, db_stmt *s, int n, const char *const *params, int *rows);

/* Runs a statement that locks rows (FOR UPDATE) and reads others, in an open transaction, as
 * db_exec does: once for its locks, then again for what it reads. Under READ COMMITTED a
 * statement that waited for a lock still reads the other rows as of its own start, missing
 * what the holder of the lock committed (the place it just took); the second run starts after
 * the locks are held and sees it. */
PGresult *store_exec_locked(db_conn *c, db_stmt *s, int n, const char *const *params, lda_err *err);

/* A transaction on c, for writes whose rules the domain checks between statements (the rows
 * read locked). db_release() rolls back a transaction left open. */
lda_err store_begin(db_conn *c);
lda_err store_commit(db_conn *c);
void store_rollback(db_conn *c);

#endif
