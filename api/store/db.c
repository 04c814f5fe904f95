#include "store/db.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STATEMENTS  512
#define ACQUIRE_WAIT_MS 5000
/* A statistics request waits at most this long for one of their places: it holds its
 * worker thread meanwhile, and the other connections of that thread wait behind it. */
#define STATS_WAIT_MS 1000
/* A connection idle this long is checked with a round trip (an empty query, answered by
 * the server without planning anything) before it is lent; within this time the check is
 * a poll of its socket, which costs no round trip. */
#define IDLE_CHECK_MS 5000
/* How long that round trip may take before the connection is given up. */
#define CHECK_WAIT_MS 1000
/* After a result or a statement this large, the connection is closed when it comes back
 * to the pool: libpq keeps its input and output buffers at the largest message they held. */
#define RECYCLE_BYTES ((size_t)2 << 20)
/* "database connection failed" is logged at most once per this time (with a count). */
#define FAIL_LOG_MS 1000

struct db_pool_s;

struct db_conn {
    struct db_pool_s *owner;
    PGconn *pg;
    bool busy;
    bool stats;            /* leased for statistics (counted against their limit) */
    bool recycle;          /* close at release: a very large result or statement went by */
    long long released_ms; /* when it last came back to the pool */
    unsigned char prepared[MAX_STATEMENTS];
    char sqlstate[6];
    char *scope; /* lda.scope set on this connection (NULL: not set: RLS denies) */
};

typedef struct db_pool_s {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    db_conn *slots;
    int size;
    char *url;
    char options[256];
    char connect_timeout[16];
    /* While the database is down (the last attempt to connect failed), one request at a
     * time tries again and the others needing a new connection wait for its outcome. */
    bool down;
    bool probing;
    pthread_cond_t probed;
    long long last_fail_log_ms;
    long fails_unlogged;
    long reconnects, connect_failures, checks, recycled;
    bool ever_connected;
    /* statistics: at most stats_max leases at once */
    int stats_max, stats_in_use;
    long stats_refused;
} db_pool;

/* The primary (every write and most reads) and, with LDA_DATABASE_URL_READ, a read replica
 * for the statistics. */
static db_pool primary = {.lock = PTHREAD_MUTEX_INITIALIZER,
                          .freed = PTHREAD_COND_INITIALIZER,
                          .probed = PTHREAD_COND_INITIALIZER};
static db_pool replica = {.lock = PTHREAD_MUTEX_INITIALIZER,
                          .freed = PTHREAD_COND_INITIALIZER,
                          .probed = PTHREAD_COND_INITIALIZER};

static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stmt_count;

static void pool_init(db_pool *pool, const lda_config *cfg, const char *url)
{
    pool->size = (int)cfg->db_pool;
    pool->slots = xcalloc((size_t)pool->size, sizeof *pool->slots);
    for (int i = 0; i < pool->size; i++) pool->slots[i].owner = pool;
    pool->url = xstrdup(url);
    snprintf(
        pool->options, sizeof pool->options,
        "-c statement_timeout=%ld -c lock_timeout=%ld -c idle_in_transaction_session_timeout=%ld"
        " -c TimeZone=Europe/Paris -c DateStyle=ISO -c IntervalStyle=iso_8601"
        /* short statements: JIT compilation (tens of ms) would cost more than it saves */
        " -c jit=off",
        cfg->statement_timeout_ms, cfg->statement_timeout_ms / 2 + 1,
        cfg->statement_timeout_ms * 4);
    snprintf(pool->connect_timeout, sizeof pool->connect_timeout, "%ld", cfg->db_connect_timeout_s);
    pool->stats_max = (int)cfg->stats_concurrency;
}

lda_err db_pool_start(const lda_config *cfg)
{
    pool_init(&primary, cfg, cfg->database_url);
    if (cfg->database_url_read) pool_init(&replica, cfg, cfg->database_url_read);
    return LDA_OK;
}

static void pool_stop(db_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->size; i++) {
        if (pool->slots[i].pg) {
            PQfinish(pool->slots[i].pg);
            pool->slots[i].pg = NULL;
        }
        free(pool->slots[i].scope);
    }
    free(pool->slots);
    pool->slots = NULL;
    free(pool->url);
    pool->url = NULL;
    pool->size = 0;
    pthread_mutex_unlock(&pool->lock);
}

void db_pool_stop(void)
{
    pool_stop(&primary);
    pool_stop(&replica);
}

/* libpq prints notices and messages received between statements on stderr as plain text;
 * log them as JSON lines instead, with their severity and SQLSTATE only (the text can hold
 * data). */
static void log_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    log_json(LOG_WARN, "database notice",
             json_pack("{s:s, s:s}", "severity", sev ? sev : "", "sqlstate", st ? st : ""));
}

/* Opens a connection as lda_app. NULL on failure (logged without the URL). */
static PGconn *open_conn(const char *url, const char *options, const char *connect_timeout)
{
    const char *keys[] = {"dbname",     "options",         "connect_timeout",
                          "keepalives", "keepalives_idle", "application_name",
                          NULL};
    const char *vals[] = {url, options, connect_timeout, "1", "30", "lda-api", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeReceiver(pg, log_notice, NULL);
    PGresult *r = PQexec(pg, "SET ROLE lda_app");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        log_json(LOG_ERROR, "cannot SET ROLE lda_app (is the schema migrated?)", NULL);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static void drop_conn(db_conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    free(c->scope);
    c->scope = NULL;
}

/*
 * False when the server has closed this idle connection since its last use (a restart, an
 * administrator's pg_terminate_backend): it sends a FATAL message, then end of file, which
 * libpq would only notice at the next statement, failing it. Whatever is readable is read
 * (PQconsumeInput never blocks; end of file makes the status bad); a connection that still
 * has input after that is not trusted either. This costs a poll, no round trip.
 */
static bool conn_alive(PGconn *pg)
{
    for (int round = 0; round < 2; round++) {
        if (PQstatus(pg) != CONNECTION_OK) return false;
        struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
        if (poll(&p, 1, 0) == 0) return true;
        if (!PQconsumeInput(pg)) return false;
    }
    return false;
}

/*
 * A round trip on a connection that idled IDLE_CHECK_MS or more: an empty query, with at
 * most CHECK_WAIT_MS for its answer. It catches what the poll cannot see: a server that
 * went away without closing (a failover, a dropped network path), or one whose goodbye is
 * still on its way.
 */
static bool conn_answers(PGconn *pg)
{
    if (!PQsendQuery(pg, "")) return false;
    long long deadline = clock_mono_ms() + CHECK_WAIT_MS;
    bool ok = true;
    for (;;) {
        if (!PQconsumeInput(pg)) return false;
        if (!PQisBusy(pg)) break;
        long long left = deadline - clock_mono_ms();
        struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) return false; /* no answer in time */
    }
    PGresult *r;
    while ((r = PQgetResult(pg))) {
        if (PQresultStatus(r) != PGRES_EMPTY_QUERY) ok = false;
        PQclear(r);
    }
    return ok && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) == PQTRANS_IDLE;
}

/* Logs a failed connection attempt, at most once per FAIL_LOG_MS. Under pool->lock. */
static void note_failure(db_pool *pool)
{
    pool->connect_failures++;
    pool->fails_unlogged++;
    long long now = clock_mono_ms();
    if (now - pool->last_fail_log_ms < FAIL_LOG_MS) return;
    log_json(LOG_WARN, "database connection failed",
             json_pack("{s:I}", "attempts", (json_int_t)pool->fails_unlogged));
    pool->fails_unlogged = 0;
    pool->last_fail_log_ms = now;
}

/*
 * Opens the connection of slot c, which the caller holds. While the database is down only
 * one request at a time tries (the probe); the others wait for its outcome and fail with it,
 * or go on to connect when it succeeded. So once PostgreSQL accepts connections the very
 * next request connects, and while it is down requests fail as fast as it refuses them.
 */
static lda_err connect_slot(db_pool *pool, db_conn *c)
{
    pthread_mutex_lock(&pool->lock);
    while (pool->down && pool->probing) {
        long long generation = pool->connect_failures + pool->reconnects;
        pthread_cond_wait(&pool->probed, &pool->lock);
        if (pool->down && pool->connect_failures + pool->reconnects != generation) {
            pthread_mutex_unlock(&pool->lock);
            return LDA_EUNAVAILABLE; /* the probe we waited for failed */
        }
    }
    bool probe = pool->down;
    if (probe) pool->probing = true;
    pthread_mutex_unlock(&pool->lock);

    PGconn *pg = open_conn(pool->url, pool->options, pool->connect_timeout);

    pthread_mutex_lock(&pool->lock);
    if (probe) pool->probing = false;
    if (!pg) {
        pool->down = true;
        note_failure(pool);
    } else {
        if (pool->ever_connected) pool->reconnects++;
        pool->ever_connected = true;
        pool->down = false;
    }
    pthread_cond_broadcast(&pool->probed);
    pthread_mutex_unlock(&pool->lock);
    if (!pg) return LDA_EUNAVAILABLE;
    c->pg = pg;
    memset(c->prepared, 0, sizeof c->prepared);
    free(c->scope);
    c->scope = NULL;
    return LDA_OK;
}

/* Gives slot c back (no connection work). */
static void give_back(db_conn *c)
{
    db_pool *pool = c->owner;
    pthread_mutex_lock(&pool->lock);
    c->busy = false;
    if (c->stats) {
        c->stats = false;
        pool->stats_in_use--;
    }
    c->released_ms = clock_mono_ms();
    pthread_cond_broadcast(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

/* Waits until cond(pool) holds or the deadline passes. Under pool->lock. */
static bool wait_until(db_pool *pool, long long deadline)
{
    long long left = deadline - clock_mono_ms();
    if (left <= 0) return false;
    struct timespec ts = clock_deadline_in(left);
    pthread_cond_timedwait(&pool->freed, &pool->lock, &ts);
    return true;
}

/*
 * Leases a slot of `pool`: waits at most ACQUIRE_WAIT_MS for one (0 with `no_wait`), and,
 * for statistics, for one of their stats_max places. The slot's connection is checked
 * (a poll; a round trip after IDLE_CHECK_MS of idleness) and replaced when it is gone.
 */
static lda_err acquire_from(db_pool *pool, db_conn **out, bool stats, bool no_wait)
{
    *out = NULL;
    pthread_mutex_lock(&pool->lock);
    db_conn *c = NULL;
    long long deadline = clock_mono_ms() + (no_wait ? 0 : stats ? STATS_WAIT_MS : ACQUIRE_WAIT_MS);
    for (;;) {
        bool stats_ok = !stats || pool->stats_in_use < pool->stats_max;
        /* prefer a connected free slot */
        for (int i = 0; stats_ok && i < pool->size && !c; i++)
            if (!pool->slots[i].busy && pool->slots[i].pg) c = &pool->slots[i];
        for (int i = 0; stats_ok && !no_wait && i < pool->size && !c; i++)
            if (!pool->slots[i].busy) c = &pool->slots[i];
        if (c) break;
        if (!wait_until(pool, deadline)) {
            if (stats && !stats_ok) pool->stats_refused++;
            pthread_mutex_unlock(&pool->lock);
            if (!no_wait)
                log_json(LOG_WARN,
                         stats && !stats_ok ? "statistics at their concurrency limit"
                                            : "database pool exhausted",
                         NULL);
            return LDA_EUNAVAILABLE;
        }
    }
    c->busy = true;
    if (stats) {
        c->stats = true;
        pool->stats_in_use++;
    }
    pthread_mutex_unlock(&pool->lock);

    /* The slot is ours now: replace its connection if the server closed it while idle. */
    if (c->pg) {
        bool idle_long = clock_mono_ms() - c->released_ms >= IDLE_CHECK_MS;
        bool ok = conn_alive(c->pg);
        if (ok && idle_long) {
            pthread_mutex_lock(&pool->lock);
            pool->checks++;
            pthread_mutex_unlock(&pool->lock);
            ok = conn_answers(c->pg);
        }
        if (!ok) {
            log_json(LOG_WARN, "database connection closed while idle; reconnecting", NULL);
            drop_conn(c);
        }
    }
    if (!c->pg && (no_wait || connect_slot(pool, c) != LDA_OK)) {
        give_back(c);
        return LDA_EUNAVAILABLE;
    }
    c->sqlstate[0] = '\0';
    c->recycle = false;
    *out = c;
    return LDA_OK;
}

lda_err db_acquire(db_conn **out) { return acquire_from(&primary, out, false, false); }

lda_err db_acquire_read(db_conn **out)
{
    return acquire_from(replica.size ? &replica : &primary, out, true, false);
}

lda_err db_try_acquire(db_conn **out) { return acquire_from(&primary, out, false, true); }

lda_err db_set_scope(db_conn *c, const lda_principal *who)
{
    /* lda.scope's form of the caller's one scope value: "{a,b}" → "a,b" */
    const char *literal = identity_scope(who);
    char scope[SCOPE_LITERAL_MAX];
    if (!who)
        scope[0] = '\0';
    else if (!literal)
        snprintf(scope, sizeof scope, "*");
    else
        snprintf(scope, sizeof scope, "%.*s", (int)strlen(literal) - 2, literal + 1);
    if (c->scope && !strcmp(c->scope, scope)) return LDA_OK;
    static db_stmt S_SCOPE = {"set_scope", "SELECT set_config('lda.scope', $1, false)", 0};
    const char *p[] = {scope};
    lda_err e;
    PGresult *r = db_exec(c, &S_SCOPE, 1, p, &e);
    if (!r) return e;
    PQclear(r);
    free(c->scope);
    c->scope = xstrdup(scope);
    return LDA_OK;
}

void db_release(db_conn *c)
{
    if (!c) return;
    if (c->pg) {
        if (PQstatus(c->pg) != CONNECTION_OK)
            drop_conn(c);
        else {
            PGTransactionStatusType ts = PQtransactionStatus(c->pg);
            if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
                PGresult *r = PQexec(c->pg, "ROLLBACK");
                if (PQresultStatus(r) != PGRES_COMMAND_OK) drop_conn(c);
                PQclear(r);
            } else if (ts != PQTRANS_IDLE)
                drop_conn(c); /* active or unknown: unusable */
        }
    }
    if (c->pg && c->recycle) {
        drop_conn(c); /* its buffers hold the size of the largest message: give it back */
        pthread_mutex_lock(&c->owner->lock);
        c->owner->recycled++;
        pthread_mutex_unlock(&c->owner->lock);
    }
    give_back(c);
}

void db_note_size(db_conn *c, size_t bytes)
{
    if (bytes >= RECYCLE_BYTES) c->recycle = true;
}

static int stmt_slot(db_stmt *s)
{
    int slot = __atomic_load_n(&s->slot, __ATOMIC_ACQUIRE);
    if (slot) return slot;
    pthread_mutex_lock(&stmt_lock);
    if (!s->slot) {
        int n = atomic_fetch_add(&stmt_count, 1) + 1;
        if (n >= MAX_STATEMENTS) {
            log_json(LOG_ERROR, "too many prepared statements", NULL);
            abort();
        }
        __atomic_store_n(&s->slot, n, __ATOMIC_RELEASE);
    }
    slot = s->slot;
    pthread_mutex_unlock(&stmt_lock);
    return slot;
}

lda_err db_error_from_result(db_conn *c, const PGresult *res)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", st ? st : "");
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        log_json(LOG_WARN, "database connection lost", NULL);
        if (c->pg) drop_conn(c);
        return LDA_EUNAVAILABLE;
    }
    if (!st) {
        /* an error of libpq's own (no SQLSTATE: the connection broke while the answer was
         * read): the connection is not trusted again */
        log_json(LOG_WARN, "database connection error", NULL);
        drop_conn(c);
        return LDA_EUNAVAILABLE;
    }
    lda_err e = LDA_EDB;
    if (st) {
        if (!strcmp(st, "55P03") || !strcmp(st, "40P01") || !strcmp(st, "40001") ||
            !strncmp(st, "08", 2) || !strncmp(st, "57", 2) || !strcmp(st, "53300"))
            e = LDA_EUNAVAILABLE; /* lock, deadlock, serialization, connection, timeout or
                                   * shutdown, crash of another backend, starting up */
        else if (!strcmp(st, "23505") || !strcmp(st, "23P01"))
            e = LDA_ECONFLICT;
        else if (!strncmp(st, "23", 2) || !strncmp(st, "22", 2))
            e = LDA_EINVALID;
    }
    if (e == LDA_EDB || e == LDA_EUNAVAILABLE)
        log_json(e == LDA_EDB ? LOG_ERROR : LOG_WARN, "database error",
                 json_pack("{s:s}", "sqlstate", c->sqlstate));
    return e;
}

PGresult *db_exec(db_conn *c, db_stmt *stmt, int nparams, const char *const *params, lda_err *err)
{
    int slot = stmt_slot(stmt);
    char name[16];
    snprintf(name, sizeof name, "s%d", slot);
    if (!c->prepared[slot]) {
        PGresult *p = PQprepare(c->pg, name, stmt->sql, nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            *err = db_error_from_result(c, p);
            if (*err == LDA_EDB)
                log_json(LOG_ERROR, "prepare failed", json_pack("{s:s}", "statement", stmt->name));
            PQclear(p);
            return NULL;
        }
        PQclear(p);
        c->prepared[slot] = 1;
    }
    size_t sent = 0;
    for (int i = 0; i < nparams; i++) sent += params[i] ? strlen(params[i]) : 0;
    db_note_size(c, sent);
    PGresult *r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    if (r) db_note_size(c, PQresultMemorySize(r));
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *err = LDA_OK;
        return r;
    }
    *err = db_error_from_result(c, r);
    if (*err == LDA_EDB)
        log_json(LOG_ERROR, "statement failed", json_pack("{s:s}", "statement", stmt->name));
    PQclear(r);
    return NULL;
}

lda_err db_command(db_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    lda_err e = PQresultStatus(r) == PGRES_COMMAND_OK ? LDA_OK : db_error_from_result(c, r);
    PQclear(r);
    return e;
}

PGconn *db_pgconn(db_conn *c) { return c->pg; }

const char *db_last_sqlstate(const db_conn *c) { return c->sqlstate; }

void db_pool_get_stats(db_pool_stats *out)
{
    db_pool *pool = &primary;
    pthread_mutex_lock(&pool->lock);
    memset(out, 0, sizeof *out);
    out->size = pool->size;
    for (int i = 0; i < pool->size; i++) {
        if (pool->slots[i].busy) out->in_use++;
        if (pool->slots[i].pg) out->connected++;
    }
    out->reconnects = pool->reconnects;
    out->connect_failures = pool->connect_failures;
    out->checks = pool->checks;
    out->recycled = pool->recycled;
    out->stats_in_flight = pool->stats_in_use;
    out->stats_refused = pool->stats_refused;
    pthread_mutex_unlock(&pool->lock);
}

const char *db_value(const PGresult *r)
{
    if (!r || PQntuples(r) < 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) return NULL;
    return PQgetvalue(r, 0, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Read replica status, for /metrics. Two statements: the replica's own view of its replay,
 * then the primary's WAL position (the replica cannot see how far the primary has gone). */

static db_stmt S_REPLICA_REPLAY = {
    "replica_replay",
    "SELECT pg_is_in_recovery(),"
    /* nothing received and left to replay: not behind, whatever the last commit's age */
    " CASE WHEN NOT pg_is_in_recovery()"
    "        OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0"
    "      ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END,"
    " pg_last_wal_replay_lsn()",
    0};
static db_stmt S_PRIMARY_WAL_AHEAD = {
    "primary_wal_ahead",
    "SELECT greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn))::bigint", 0};

void db_replica_status_get(db_replica_status *out)
{
    memset(out, 0, sizeof *out);
    out->lag_seconds = -1;
    out->lag_bytes = -1;
    if (!replica.size) return;
    out->configured = true;
    db_conn *c = NULL;
    char *replay_lsn = NULL;
    lda_err e = acquire_from(&replica, &c, false, false);
    if (!e) {
        PGresult *r = db_exec(c, &S_REPLICA_REPLAY, 0, NULL, &e);
        if (r && PQntuples(r) == 1) {
            out->up = true;
            /* NULL: WAL is waiting but no transaction was replayed since the replica started */
            out->lag_seconds = PQgetisnull(r, 0, 1) ? NAN : strtod(PQgetvalue(r, 0, 1), NULL);
            if (out->lag_seconds < 0) out->lag_seconds = 0; /* clocks a little apart */
            if (!strcmp(PQgetvalue(r, 0, 0), "t") && !PQgetisnull(r, 0, 2))
                replay_lsn = xstrdup(PQgetvalue(r, 0, 2));
            else if (strcmp(PQgetvalue(r, 0, 0), "t"))
                out->lag_bytes = 0; /* not a standby (the primary itself, or a copy) */
        }
        PQclear(r);
    }
    db_release(c);
    c = NULL;
    if (replay_lsn && !acquire_from(&primary, &c, false, false)) {
        const char *p[] = {replay_lsn};
        PGresult *r = db_exec(c, &S_PRIMARY_WAL_AHEAD, 1, p, &e);
        const char *v = db_value(r);
        if (v) out->lag_bytes = strtoll(v, NULL, 10);
        PQclear(r);
    }
    db_release(c);
    free(replay_lsn);
}

PGconn *db_connect_dedicated(void)
{
    return primary.url ? open_conn(primary.url, primary.options, primary.connect_timeout) : NULL;
}

/* ---- one-off connections of the commands ------------------------------------------------ */

PGconn *db_connect_owner(const lda_config *cfg)
{
    char timeout[24]; /* LDA_DB_CONNECT_TIMEOUT_S, at least 5 s for these one-off commands */
    snprintf(timeout, sizeof timeout, "%ld",
             cfg->db_connect_timeout_s > 5 ? cfg->db_connect_timeout_s : 5);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {cfg->database_url, timeout, "lda-api", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        log_json(LOG_ERROR, "cannot connect to the database",
                 json_pack("{s:s}", "hint", "check LDA_DATABASE_URL and that PostgreSQL runs"));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

bool db_durable(PGconn *pg)
{
    static const char *const settings[] = {"fsync", "full_page_writes", "synchronous_commit"};
    bool ok = true;
    for (size_t i = 0; i < 3; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT current_setting('%s')", settings[i]);
        PGresult *r = PQexec(pg, sql);
        const char *v = PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?";
        if (strcmp(v, "on") &&
            !(i == 2 && (!strcmp(v, "remote_apply") || !strcmp(v, "remote_write")))) {
            log_json(LOG_ERROR, "PostgreSQL is not durable",
                     json_pack("{s:s, s:s}", "setting", settings[i], "value", v));
            ok = false;
        }
        PQclear(r);
    }
    return ok;
}
