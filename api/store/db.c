#include "store/db.h"
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
#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  1000

struct db_pool_s;

struct db_conn {
    struct db_pool_s *owner;
    PGconn *pg;
    bool busy;
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
    /* shared backoff after a failed connection attempt */
    long long retry_after_ms;
    long backoff_ms;
    long reconnects, connect_failures;
    bool ever_connected;
} db_pool;

/* The primary (every write and most reads) and, with LDA_DATABASE_URL_READ, a read replica
 * for the statistics. */
static db_pool primary = {.lock = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER};
static db_pool replica = {.lock = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER};

static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stmt_count;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    pool->backoff_ms = BACKOFF_MIN_MS;
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
 * has input after that is not trusted either. Such a connection is replaced before use.
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

static lda_err acquire_from(db_pool *pool, db_conn **out)
{
    *out = NULL;
    pthread_mutex_lock(&pool->lock);
    db_conn *c = NULL;
    long long deadline = now_ms() + ACQUIRE_WAIT_MS;
    for (;;) {
        /* prefer a connected free slot */
        for (int i = 0; i < pool->size && !c; i++)
            if (!pool->slots[i].busy && pool->slots[i].pg) c = &pool->slots[i];
        for (int i = 0; i < pool->size && !c; i++)
            if (!pool->slots[i].busy) c = &pool->slots[i];
        if (c) break;
        long long left = deadline - now_ms();
        if (left <= 0) {
            pthread_mutex_unlock(&pool->lock);
            log_json(LOG_WARN, "database pool exhausted", NULL);
            return LDA_EUNAVAILABLE;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&pool->freed, &pool->lock, &ts);
    }
    c->busy = true;
    pthread_mutex_unlock(&pool->lock);

    /* The slot is ours now: replace its connection if the server closed it while idle. */
    if (c->pg && !conn_alive(c->pg)) {
        log_json(LOG_WARN, "database connection closed while idle; reconnecting", NULL);
        drop_conn(c);
    }
    bool need_connect = c->pg == NULL;
    if (need_connect) {
        pthread_mutex_lock(&pool->lock);
        bool backing_off = now_ms() < pool->retry_after_ms;
        if (backing_off) {
            c->busy = false;
            pthread_cond_signal(&pool->freed);
        }
        pthread_mutex_unlock(&pool->lock);
        if (backing_off) return LDA_EUNAVAILABLE;

        PGconn *pg = open_conn(pool->url, pool->options, pool->connect_timeout);
        pthread_mutex_lock(&pool->lock);
        if (!pg) {
            pool->connect_failures++;
            pool->retry_after_ms = now_ms() + pool->backoff_ms;
            pool->backoff_ms =
                pool->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pool->backoff_ms * 2;
            c->busy = false;
            pthread_cond_signal(&pool->freed);
            pthread_mutex_unlock(&pool->lock);
            log_json(LOG_WARN, "database connection failed", NULL);
            return LDA_EUNAVAILABLE;
        }
        if (pool->ever_connected) pool->reconnects++;
        pool->ever_connected = true;
        pool->backoff_ms = BACKOFF_MIN_MS;
        pool->retry_after_ms = 0;
        pthread_mutex_unlock(&pool->lock);
        c->pg = pg;
        memset(c->prepared, 0, sizeof c->prepared);
        free(c->scope);
        c->scope = NULL;
    }
    c->sqlstate[0] = '\0';
    *out = c;
    return LDA_OK;
}

lda_err db_acquire(db_conn **out) { return acquire_from(&primary, out); }

lda_err db_acquire_read(db_conn **out)
{
    return acquire_from(replica.size ? &replica : &primary, out);
}

lda_err db_set_scope(db_conn *c, const char *scope)
{
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
    pthread_mutex_lock(&c->owner->lock);
    c->busy = false;
    pthread_cond_signal(&c->owner->freed);
    pthread_mutex_unlock(&c->owner->lock);
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
    lda_err e = LDA_EDB;
    if (st) {
        if (!strcmp(st, "57014") || !strcmp(st, "55P03") || !strcmp(st, "40P01") ||
            !strcmp(st, "40001") || !strncmp(st, "08", 2) || !strcmp(st, "57P01") ||
            !strcmp(st, "57P03") || !strcmp(st, "53300"))
            e = LDA_EUNAVAILABLE; /* timeout, lock, deadlock, serialization, shutdown */
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
    PGresult *r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
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
    lda_err e = acquire_from(&replica, &c);
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
    if (replay_lsn && !acquire_from(&primary, &c)) {
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
