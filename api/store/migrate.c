#include "store/migrate.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/embedded.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Any constant works; it only has to be the same for every migrator. */
#define MIGRATE_LOCK_KEY "421900062"

const char MIGRATE_VERSION_SQL[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";

static int version_of(const char *name) { return atoi(name); }

int migrate_expected_version(void)
{
    return EMBEDDED_MIGRATION_COUNT
               ? version_of(EMBEDDED_MIGRATIONS[EMBEDDED_MIGRATION_COUNT - 1].name)
               : 0;
}

static lda_err exec_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    lda_err e = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? LDA_OK : LDA_EDB;
    if (e != LDA_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* The primary message of a migration's own SQL holds no personal data: it helps
         * the operator fix the migration. DETAIL is never printed. */
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        log_json(LOG_ERROR, "migration statement failed",
                 json_pack("{s:s, s:s}", "sqlstate", state ? state : "", "error",
                           msg ? msg : PQerrorMessage(pg)));
    }
    PQclear(r);
    return e;
}

lda_err migrate_current_version(PGconn *pg, int *version)
{
    *version = 0;
    PGresult *r = PQexec(pg, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return LDA_EUNAVAILABLE;
    }
    bool exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!exists) return LDA_OK;
    r = PQexec(pg, MIGRATE_VERSION_SQL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return LDA_EDB;
    }
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return LDA_OK;
}

lda_err migrate_apply(PGconn *pg, int *applied)
{
    *applied = 0;
    lda_err e = exec_ok(pg, "SET client_min_messages = warning");
    if (e) return e;
    e = exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
    if (e) return e;
    e = exec_ok(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())");
    int current = 0;
    if (!e) e = migrate_current_version(pg, &current);
    for (size_t i = 0; !e && i < EMBEDDED_MIGRATION_COUNT; i++) {
        const embedded_migration *m = &EMBEDDED_MIGRATIONS[i];
        int v = version_of(m->name);
        if (v <= current) continue;
        if ((e = exec_ok(pg, "BEGIN"))) break;
        e = exec_ok(pg, m->sql);
        if (!e) {
            char vbuf[16];
            snprintf(vbuf, sizeof vbuf, "%d", v);
            const char *params[] = {vbuf, m->name};
            PGresult *r =
                PQexecParams(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                             NULL, params, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) e = LDA_EDB;
            PQclear(r);
        }
        if (!e) e = exec_ok(pg, "COMMIT");
        if (e) {
            exec_ok(pg, "ROLLBACK");
            log_json(LOG_ERROR, "migration failed", json_pack("{s:s}", "migration", m->name));
            break;
        }
        (*applied)++;
        log_json(LOG_INFO, "migration applied", json_pack("{s:s}", "migration", m->name));
    }
    /* The service reads the version to refuse a schema that is behind. */
    if (!e) e = exec_ok(pg, "GRANT SELECT ON schema_migrations TO lda_app");
    /* A demo load interrupted before its last step leaves the observatory's rollups off
     * (migration 010): the statistics stay exact on the raw rows, and this rebuilds them. */
    if (!e)
        e = exec_ok(pg, "SELECT lda_observatory_rebuild() FROM observatory_state"
                        " WHERE NOT current");
    exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    return e;
}

lda_err migrate_dev_key(PGconn *pg, char **key)
{
    PGresult *r = PQexec(pg, "SELECT value FROM app_secret WHERE name = 'pseudonym_key'");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    *key = ok ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return ok ? LDA_OK : LDA_EDB;
}
