/*
 * lda-api — one binary, subcommands: serve (default), migrate, version.
 * Exit status: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/auth.h"
#include "http/server.h"
#include "store/db.h"
#include "store/migrate.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>
#include <yder.h>

typedef struct {
    const char *name;
    int (*run)(const lda_config *cfg, int argc, char **argv);
    const char *summary;
    const char *usage;
} command;

static int cmd_serve(const lda_config *cfg, int argc, char **argv);
static int cmd_migrate(const lda_config *cfg, int argc, char **argv);
static int cmd_version(const lda_config *cfg, int argc, char **argv);

static const command COMMANDS[] = {
    {"serve", cmd_serve, "serve the HTTP API (the default)",
     "lda-api serve\n\n"
     "Serves the API on LDA_LISTEN with LDA_THREADS workers and LDA_DB_POOL database\n"
     "connections. Refuses to start when the database schema is behind this build\n"
     "(run `lda-api migrate`) or PostgreSQL runs without durability (fsync,\n"
     "full_page_writes, synchronous_commit). SIGTERM or SIGINT: stop accepting, finish\n"
     "the requests in flight, exit 0.\n"},
    {"migrate", cmd_migrate, "apply the database migrations that are missing",
     "lda-api migrate\n\n"
     "Applies the SQL migrations compiled into this binary (db/migrations) that the\n"
     "database of LDA_DATABASE_URL has not applied yet, in order, each in a transaction.\n"},
    {"version", cmd_version, "print the version and the schema version it needs",
     "lda-api version\n"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_help(void)
{
    printf("lda-api — Logement d'abord (Pas-de-Calais) JSON API\n\n"
           "Usage: lda-api [COMMAND] [--help]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    printf("\n");
    config_print_help();
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
    return false;
}

static const char *env(const char *name) { return getenv(name); }

static int need_url(const lda_config *cfg)
{
    if (cfg->database_url) return 0;
    fprintf(stderr, "LDA_DATABASE_URL: required (a libpq URL such as "
                    "postgresql://user:password@127.0.0.1:5432/lda); `./dev run` starts a "
                    "private cluster for you\n");
    return 2;
}

static PGconn *connect_owner(const char *url)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {url, "5", "lda-api", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        log_json(LOG_ERROR, "cannot connect to the database",
                 json_pack("{s:s}", "hint", "check LDA_DATABASE_URL and that PostgreSQL runs"));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static int cmd_migrate(const lda_config *cfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rc = need_url(cfg);
    if (rc) return rc;
    PGconn *pg = connect_owner(cfg->database_url);
    if (!pg) return 1;
    int applied = 0, version = 0;
    lda_err e = migrate_apply(pg, &applied);
    if (!e) e = migrate_current_version(pg, &version);
    PQfinish(pg);
    if (e) return 1;
    log_json(LOG_INFO, "schema up to date",
             json_pack("{s:i, s:i}", "applied", applied, "schema_version", version));
    return 0;
}

static int cmd_version(const lda_config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    printf("lda-api %s (schema %d)\n", LDA_VERSION, migrate_expected_version());
    return 0;
}

/* PostgreSQL must not acknowledge a write it could lose (issue: durability). */
static bool durable(PGconn *pg)
{
    static const char *const settings[] = {"fsync", "full_page_writes", "synchronous_commit"};
    bool ok = true;
    for (size_t i = 0; i < 3; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT current_setting('%s')", settings[i]);
        PGresult *r = PQexec(pg, sql);
        const char *v = PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?";
        if (strcmp(v, "on") && !(i == 2 && (!strcmp(v, "remote_apply") || !strcmp(v, "remote_write")))) {
            log_json(LOG_ERROR, "PostgreSQL is not durable",
                     json_pack("{s:s, s:s}", "setting", settings[i], "value", v));
            ok = false;
        }
        PQclear(r);
    }
    return ok;
}

/* Checks the schema and durability before serving; retries a few seconds if PostgreSQL
 * is still starting. */
static int preflight(const lda_config *cfg)
{
    PGconn *pg = NULL;
    for (int attempt = 0; attempt < 10 && !pg; attempt++) {
        pg = connect_owner(cfg->database_url);
        if (!pg) sleep(1);
    }
    if (!pg) return 1;
    int version = 0;
    lda_err e = migrate_current_version(pg, &version);
    int expected = migrate_expected_version();
    int rc = 0;
    if (e) rc = 1;
    else if (version < expected) {
        log_json(LOG_ERROR, "the database schema is behind this build: run `lda-api migrate`",
                 json_pack("{s:i, s:i}", "schema_version", version, "expected", expected));
        rc = 1;
    } else if (!durable(pg)) {
        if (cfg->allow_unsafe_durability)
            log_warn("serving without durability because LDA_ALLOW_UNSAFE_DURABILITY=true");
        else rc = 1;
    }
    PQfinish(pg);
    return rc;
}

static void yder_to_log(void *cls, const char *app, const time_t date, const unsigned long level,
                        const char *message)
{
    (void)cls;
    (void)app;
    (void)date;
    log_json(level <= Y_LOG_LEVEL_ERROR ? LOG_ERROR : LOG_WARN, "http server",
             json_pack("{s:s}", "detail", message));
}

static int cmd_serve(const lda_config *cfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rc = need_url(cfg);
    if (rc) return rc;

    /* Signals are blocked before any thread exists: only server_run's sigwait sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = preflight(cfg))) return rc;
    y_init_logs("lda-api", Y_LOG_MODE_CALLBACK, Y_LOG_LEVEL_WARNING, NULL, NULL);
    y_set_logs_callback(yder_to_log, NULL, NULL);
    ulfius_global_init();
    db_pool_start(cfg);
    auth_init(cfg);
    rc = server_run(cfg);
    auth_shutdown();
    db_pool_stop();
    ulfius_global_close();
    y_close_logs();
    return rc;
}

int main(int argc, char **argv)
{
    /* Dates "fall on the day they have in Europe/Paris" (SPEC §3). */
    setenv("TZ", "Europe/Paris", 1);
    tzset();

    const command *cmd = &COMMANDS[0];
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        cmd = NULL;
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[1], COMMANDS[i].name)) cmd = &COMMANDS[i];
        if (!cmd) {
            fprintf(stderr, "lda-api: unknown command '%s' (see lda-api --help)\n", argv[1]);
            return 2;
        }
        first = 2;
    } else if (wants_help(argc, argv)) {
        print_help();
        return 0;
    }
    if (wants_help(argc - first + 1, argv + first - 1)) {
        printf("Usage: %s", cmd->usage);
        printf("\n");
        config_print_help();
        return 0;
    }

    lda_config cfg;
    char msg[256];
    if (!config_load(&cfg, env, msg, sizeof msg)) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    log_set_level(cfg.log_level);
    int rc = cmd->run(&cfg, argc - first, argv + first);
    config_free(&cfg);
    return rc;
}
