/*
 * migrate — applies the SQL files of db/migrations (compiled into the binary) in order,
 * each once, each in its own transaction, recorded in schema_migrations.
 */
#ifndef LDA_STORE_MIGRATE_H
#define LDA_STORE_MIGRATE_H

#include "core/err.h"
#include <libpq-fe.h>

/* The version the binary expects: the number of the last embedded migration. */
int migrate_expected_version(void);

/* Applies what is missing on `pg` (a connection as the owner role, not lda_app).
 * *applied = how many were applied now. Logs each. Serialised by an advisory lock. */
lda_err migrate_apply(PGconn *pg, int *applied);

/* The highest applied version (0 for an empty database). */
lda_err migrate_current_version(PGconn *pg, int *version);

/* The SQL that reads the applied version, for the pool's readiness check. */
extern const char MIGRATE_VERSION_SQL[];

/* The development pseudonymisation key the migrations keep in the database (caller frees). */
lda_err migrate_dev_key(PGconn *pg, char **key);

#endif
