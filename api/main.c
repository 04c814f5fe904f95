/*
 * lda-api — one binary, subcommands: serve (default), migrate, version.
 * Exit status: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/server.h"
#include "resources/resource.h"
#include "resources/route_table.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "domain/token_rules.h"
#include "domain/webhook_rules.h"
#include "http/longpoll.h"
#include "store/audit.h"
#include "store/change.h"
#include "store/token_store.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/purge.h"
#include "store/seed.h"
#include "store/stats_store.h"
#include "worker/deliver.h"
#include "worker/purge_daily.h"

#include <curl/curl.h>

#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>
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
static int cmd_token(const lda_config *cfg, int argc, char **argv);
static int cmd_seed(const lda_config *cfg, int argc, char **argv);
static int cmd_purge(const lda_config *cfg, int argc, char **argv);

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
    {"token", cmd_token, "create, list or revoke API tokens",
     "lda-api token create --role ROLE --name NAME [--platform CODE]... [--source NAME]\n"
     "                         [--expires-at RFC3339]\n"
     "       lda-api token list\n"
     "       lda-api token revoke ID\n\n"
     "create prints the new token alone on stdout (it is shown only once; the database\n"
     "keeps its SHA-256). ROLE is admin, coordinator, partner, siao or analyst;\n"
     "coordinator, partner and siao need --platform (repeatable); siao needs --source.\n"},
    {"seed-demo", cmd_seed, "load the deterministic demo data into an empty database",
     "lda-api seed-demo [--scale N]\n\n"
     "Fills an empty, migrated database with synthetic data (no real person): the\n"
     "referrals of 2019-2022 that reproduce the department's activity report, and SIAO\n"
     "requests 2019-2025 for the youth observatory. --scale N (1..1000, default 1)\n"
     "multiplies the SIAO requests, for benchmarks (N=100: millions of rows).\n"},
    {"purge", cmd_purge, "remove the data past its retention period (audited)",
     "lda-api purge [--dry-run] [--as-of YYYY-MM-DD]\n\n"
     "Counts (--dry-run) or removes, kind by kind, the rows past their retention period\n"
     "(LDA_RETENTION_*: SIAO requests after reception, closed referrals with their events,\n"
     "measures and placements after closing, prevention cases after their last activity,\n"
     "households with their last referral or case, audit events), in batches of one\n"
     "transaction each: safe to interrupt (Ctrl-C stops after the current batch) and to run\n"
     "again. Removing writes one audit event with the counts. The statistics keep what the\n"
     "removed rows counted. --as-of: the periods end on that day instead of today (not a\n"
     "later day). One purge at a time per database: exit status 1 when another runs.\n"
     "The service runs it daily at LDA_PURGE_HOUR.\n"},
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

static int cmd_migrate(const lda_config *cfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rc = need_url(cfg);
    if (rc) return rc;
    PGconn *pg = db_connect_owner(cfg);
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

static int token_create_cli(int argc, char **argv)
{
    json_t *in = JCHECK(json_object());
    json_t *platforms = JCHECK(json_array());
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        const char *key = !strcmp(opt, "--role")         ? "role"
                          : !strcmp(opt, "--name")       ? "name"
                          : !strcmp(opt, "--source")     ? "source"
                          : !strcmp(opt, "--expires-at") ? "expires_at"
                          : !strcmp(opt, "--platform")   ? "platforms"
                                                         : NULL;
        if (!key || !val) {
            fprintf(stderr, "token create: unknown option or missing value: %s\n", opt);
            json_decref(platforms);
            json_decref(in);
            return 2;
        }
        if (!strcmp(key, "platforms"))
            json_array_append_new(platforms, JCHECK(json_string(val)));
        else
            json_object_set_new(in, key, JCHECK(json_string(val)));
        i++;
    }
    json_object_set_new(in, "platforms", platforms);
    if (!json_object_get(in, "name")) {
        const char *role = json_string_value(json_object_get(in, "role"));
        json_object_set_new(in, "name", JCHECK(json_string(role ? role : "token")));
    }
    json_t *errors = JCHECK(json_array());
    vctx ctx = {today_paris()};
    if (!token_validate(in, &ctx, errors)) {
        size_t k;
        json_t *err;
        json_array_foreach(errors, k, err) fprintf(
            stderr, "token create: %s %s\n", json_string_value(json_object_get(err, "field")) + 1,
            json_string_value(json_object_get(err, "message")));
        json_decref(errors);
        json_decref(in);
        return 2;
    }
    json_decref(errors);
    db_conn *c = NULL;
    char *json = NULL;
    lda_err e = db_acquire(&c);
    static const audit_actor CLI = {NULL, NULL, "cli"};
    if (!e) e = token_create(c, in, &CLI, &json);
    db_release(c);
    json_decref(in);
    if (e) {
        fprintf(stderr, "token create: failed (%s)\n", lda_err_name(e));
        return 1;
    }
    json_t *t = json_loads(json, 0, NULL);
    printf("%s\n", json_string_value(json_object_get(t, "token")));
    json_decref(t);
    free(json);
    return 0;
}

static int token_list_cli(void)
{
    db_conn *c = NULL;
    lda_err e = db_acquire(&c);
    const char *cursor = NULL;
    char *owned = NULL;
    while (!e) {
        char *json = NULL;
        e = token_list_json(c, 500, cursor, &json);
        if (e) break;
        json_t *page = json_loads(json, 0, NULL);
        free(json);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(page, "items"), i, t)
        {
            char *line = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", line);
            free(line);
        }
        free(owned);
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        owned = next ? xstrdup(next) : NULL;
        cursor = owned;
        json_decref(page);
        if (!cursor) break;
    }
    free(owned);
    db_release(c);
    if (e) fprintf(stderr, "token list: failed (%s)\n", lda_err_name(e));
    return e ? 1 : 0;
}

static int cmd_token(const lda_config *cfg, int argc, char **argv)
{
    int rc = need_url(cfg);
    if (rc) return rc;
    if (argc < 1) {
        fprintf(stderr, "token: expected create, list or revoke (see lda-api token --help)\n");
        return 2;
    }
    if (!strcmp(argv[0], "revoke") && (argc != 2 || !is_uuid(argv[1]))) {
        fprintf(stderr, "token revoke: expected one token id (a UUID)\n");
        return 2;
    }
    db_pool_start(cfg);
    if (!strcmp(argv[0], "create"))
        rc = token_create_cli(argc, argv);
    else if (!strcmp(argv[0], "list"))
        rc = token_list_cli();
    else if (!strcmp(argv[0], "revoke")) {
        db_conn *c = NULL;
        lda_err e = db_acquire(&c);
        static const audit_actor CLI = {NULL, NULL, "cli"};
        if (!e) e = token_revoke(c, argv[1], &CLI);
        db_release(c);
        if (e == LDA_ENOTFOUND)
            fprintf(stderr, "token revoke: no token %s\n", argv[1]);
        else if (e)
            fprintf(stderr, "token revoke: failed (%s)\n", lda_err_name(e));
        rc = e == LDA_ENOTFOUND ? 1 : e ? 1 : 0;
    } else {
        fprintf(stderr, "token: unknown action '%s'\n", argv[0]);
        rc = 2;
    }
    db_pool_stop();
    return rc;
}

static bool load_pseudonym_key(const lda_config *cfg, PGconn *pg);

static int cmd_seed(const lda_config *cfg, int argc, char **argv)
{
    int rc = need_url(cfg);
    if (rc) return rc;
    long scale = 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc && parse_long(argv[i + 1], 1, 1000, &scale))
            i++;
        else {
            fprintf(stderr, "seed-demo: expected --scale N with N from 1 to 1000\n");
            return 2;
        }
    }
    PGconn *pg = db_connect_owner(cfg);
    if (!pg) return 1;
    int version = 0;
    rc = 1;
    if (migrate_current_version(pg, &version) == LDA_OK && version < migrate_expected_version())
        fprintf(stderr, "seed-demo: the schema is behind: run lda-api migrate first\n");
    else if (load_pseudonym_key(cfg, pg))
        rc = seed_demo(pg, household_key(), scale) == LDA_OK ? 0 : 1;
    PQfinish(pg);
    return rc;
}

static atomic_bool purge_stop;
static void purge_on_signal(int sig)
{
    (void)sig;
    atomic_store(&purge_stop, true);
}

static void purge_print(const purge_plan *p, const purge_counts *n, bool dry)
{
    printf("purge as of %s%s\n", p->as_of, dry ? " (dry run: nothing removed)" : "");
    printf("%-24s %-44s %10s\n", "kind", "retention", dry ? "past it" : "removed");
    lda_config periods = {.retention_siao_request_months = p->siao_request_months,
                          .retention_referral_months = p->referral_months,
                          .retention_prevention_months = p->prevention_months,
                          .retention_audit_months = p->audit_months};
    for (int i = 0; i < RETENTION_KIND_COUNT; i++) {
        char period[64];
        snprintf(period, sizeof period, "%ld months after %s",
                 retention_months(&periods, RETENTION_KINDS[i].name), RETENTION_KINDS[i].after);
        printf("%-24s %-44s %10lld\n", RETENTION_KINDS[i].name, period, n->n[i]);
    }
}

static int cmd_purge(const lda_config *cfg, int argc, char **argv)
{
    int rc = need_url(cfg);
    if (rc) return rc;
    bool dry = false;
    const char *as_of = NULL;
    for (int i = 0; i < argc; i++) {
        int32_t day;
        if (!strcmp(argv[i], "--dry-run"))
            dry = true;
        else if (!strcmp(argv[i], "--as-of") && i + 1 < argc && parse_date(argv[i + 1], &day) &&
                 day <= today_paris())
            as_of = argv[++i];
        else {
            fprintf(stderr, "purge: expected [--dry-run] [--as-of YYYY-MM-DD] (a day not after "
                            "today)\n");
            return 2;
        }
    }
    db_pool_start(cfg);
    PGconn *pg = purge_connect();
    if (!pg) {
        db_pool_stop();
        return 1;
    }
    purge_plan plan;
    purge_plan_init(&plan, cfg, as_of);
    purge_counts n;
    lda_err e;
    if (dry)
        e = purge_due(pg, &plan, &n);
    else if ((e = purge_lock(pg)) == LDA_ECONFLICT)
        fprintf(stderr, "purge: another purge is running on this database\n");
    else if (!e) {
        struct sigaction sa = {.sa_handler = purge_on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        bool skipped;
        e = purge_execute(pg, &plan, false, &purge_stop, &n, &skipped);
        purge_unlock(pg);
    }
    PQfinish(pg);
    db_pool_stop();
    if (e) {
        if (e != LDA_ECONFLICT) fprintf(stderr, "purge: failed (%s)\n", lda_err_name(e));
        return 1;
    }
    purge_print(&plan, &n, dry);
    if (atomic_load(&purge_stop)) fprintf(stderr, "purge: interrupted; run it again to go on\n");
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

/* LDA_PSEUDONYM_KEY; the random key the migrations stored in the database only with
 * LDA_DEV_DATABASE_KEY=true (development: the key then lives beside the data it protects). */
static bool load_pseudonym_key(const lda_config *cfg, PGconn *pg)
{
    if (cfg->pseudonym_key) {
        household_set_key(cfg->pseudonym_key);
        return true;
    }
    if (!cfg->dev_database_key) {
        log_error("LDA_PSEUDONYM_KEY is required: 32 or more random characters, kept secret and "
                  "stable (LDA_DEV_DATABASE_KEY=true uses a key kept in the database, for "
                  "development only)");
        return false;
    }
    char *key = NULL;
    if (migrate_dev_key(pg, &key) == LDA_OK) {
        household_set_key(key);
        free(key);
        return true;
    }
    log_error("no pseudonymisation key in the database: run lda-api migrate");
    return false;
}

/* Checks the schema and durability before serving; retries a few seconds if PostgreSQL
 * is still starting. */
static int preflight(const lda_config *cfg)
{
    PGconn *pg = NULL;
    for (int attempt = 0; attempt < 10 && !pg; attempt++) {
        pg = db_connect_owner(cfg);
        if (!pg) sleep(1);
    }
    if (!pg) return 1;
    int version = 0;
    lda_err e = migrate_current_version(pg, &version);
    int expected = migrate_expected_version();
    int rc = 0;
    bool behind = !e && version < expected;
    if (behind)
        log_json(LOG_ERROR, "the database schema is behind this build: run `lda-api migrate`",
                 json_pack("{s:i, s:i}", "schema_version", version, "expected", expected));
    if (e || behind || !load_pseudonym_key(cfg, pg)) {
        rc = 1;
    } else if (stats_settings_write(pg, cfg->stats_min_cell, (int)cfg->stats_max_noise)) {
        log_error("could not record the disclosure-control settings in the database");
        rc = 1;
    } else if (!db_durable(pg)) {
        if (cfg->allow_unsafe_durability)
            log_warn("serving without durability because LDA_ALLOW_UNSAFE_DURABILITY=true");
        else
            rc = 1;
    }
    PQfinish(pg);
    return rc;
}

/* The key sealing webhook secrets: LDA_WEBHOOK_KEY, else derived from the pseudonymisation
 * key (kept apart from the database only when LDA_PSEUDONYM_KEY is set). */
static void load_webhook_key(const lda_config *cfg)
{
    webhook_key_set(cfg->webhook_key ? cfg->webhook_key : household_key());
    if (!cfg->webhook_key && !cfg->pseudonym_key)
        log_warn("webhook secrets are sealed with a key kept in the database: set "
                 "LDA_WEBHOOK_KEY (or LDA_PSEUDONYM_KEY) in production");
}

/* The change feed's horizon moved: long polls and deliveries look again. */
static void on_changes(long long horizon)
{
    (void)horizon;
    longpoll_wake_all();
    deliver_wake();
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
    curl_global_init(CURL_GLOBAL_DEFAULT);
    db_pool_start(cfg);
    audit_start(cfg->audit_queue_max);
    reference_load(cfg);
    load_webhook_key(cfg);
    longpoll_init(cfg->changes_max_waiters, "/v1/changes", 250);
    change_clock_start(cfg, on_changes);
    deliver_start(cfg);
    retention_start(cfg);
    server_wiring wiring = {ROUTES, ROUTE_COUNT, token_lookup_pooled, audit_admit};
    rc = server_run(cfg, &wiring);
    retention_stop();
    deliver_stop();
    change_clock_stop();
    audit_stop();
    db_pool_stop();
    curl_global_cleanup();
    ulfius_global_close();
    y_close_logs();
    return rc;
}

int main(int argc, char **argv)
{
    /* Dates "fall on the day they have in Europe/Paris". */
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
