#include "store/change.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Events examined per page at most: a reader that sees few of them (a partner) gets
 * has_more and asks again, instead of one statement scanning the whole feed. */
#define SCAN_LIMIT     2000
#define PENDING_MAX    64
#define TICK_FAST_MS   10  /* while positions move or wait to be settled */
#define TICK_IDLE_MS   250 /* the longest pause, reached by doubling when nothing moves */
#define PURGE_EVERY_MS 60000
#define PURGE_ROUNDS   50 /* of 1 000 commits each, per minute */

static db_stmt S_PAGE = {
    "change_page",
    "WITH scan AS ("
    "  SELECT c.position, e.id, e AS ev FROM change_commit c JOIN change_event e ON e.xid = c.xid"
    "   WHERE c.position >= $1::bigint AND c.position <= $3::bigint"
    "     AND (c.position > $1::bigint OR e.id > $2::bigint)"
    "   ORDER BY c.position, e.id LIMIT $9::int),"
    " vis AS ("
    "  SELECT * FROM scan s"
    "   WHERE lda_change_visible((s.ev).platform, (s.ev).resource_type, (s.ev).source,"
    "                            (s.ev).created_by, $4, $5::text[], $6::uuid, $7)"
    "     AND ($8::text[] IS NULL OR (s.ev).type = ANY ($8::text[]))"
    "   ORDER BY position, id LIMIT $10::int + 1),"
    " page AS (SELECT * FROM vis ORDER BY position, id LIMIT $10::int)"
    " SELECT $11::bool AND ($1::bigint, $2::bigint) <"
    "          (SELECT purged_position, purged_id FROM change_state),"
    "  coalesce((SELECT json_agg(lda_change_json(p.ev) ORDER BY p.position, p.id) FROM page p),"
    "           '[]')::text,"
    "  (SELECT count(*) FROM vis), (SELECT count(*) FROM scan),"
    "  (SELECT position FROM page ORDER BY position DESC, id DESC LIMIT 1),"
    "  (SELECT id FROM page ORDER BY position DESC, id DESC LIMIT 1),"
    "  (SELECT position FROM scan ORDER BY position DESC, id DESC LIMIT 1),"
    "  (SELECT id FROM scan ORDER BY position DESC, id DESC LIMIT 1)",
    0};

static int64_t col_i64(const PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? 0 : strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

lda_err change_page(db_conn *c, const change_viewer *v, bool has_cursor, int64_t after_pos,
                    int64_t after_id, long long horizon, const char *types, int limit,
                    change_page_t *out)
{
    memset(out, 0, sizeof *out);
    char pos[24], id[24], hz[24], scan[16], lim[16];
    snprintf(pos, sizeof pos, "%" PRId64, after_pos);
    snprintf(id, sizeof id, "%" PRId64, after_id);
    snprintf(hz, sizeof hz, "%lld", horizon < 0 ? 0 : horizon);
    snprintf(scan, sizeof scan, "%d", SCAN_LIMIT);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {pos,
                       id,
                       hz,
                       v->role,
                       v->scope,
                       v->token,
                       v->source,
                       types,
                       scan,
                       lim,
                       has_cursor ? "true" : "false"};
    lda_err e;
    PGresult *r = db_exec(c, &S_PAGE, 11, p, &e);
    if (!r) return e;
    out->expired = PQgetvalue(r, 0, 0)[0] == 't';
    if (out->expired) {
        PQclear(r);
        return LDA_OK;
    }
    out->items = xstrdup(PQgetvalue(r, 0, 1));
    long visible = strtol(PQgetvalue(r, 0, 2), NULL, 10);
    long scanned = strtol(PQgetvalue(r, 0, 3), NULL, 10);
    out->count = visible > limit ? limit : (int)visible;
    if (visible > limit) { /* a full page, more visible events after it */
        out->has_more = true;
        out->next_pos = col_i64(r, 4);
        out->next_id = col_i64(r, 5);
    } else if (scanned >= SCAN_LIMIT) { /* examined as much as one page may */
        out->has_more = true;
        out->next_pos = col_i64(r, 6);
        out->next_id = col_i64(r, 7);
    } else { /* everything final has been read */
        out->next_pos = horizon < 0 ? 0 : horizon;
        out->next_id = CHANGE_CURSOR_END;
    }
    if (out->next_pos < after_pos || (out->next_pos == after_pos && out->next_id < after_id)) {
        out->next_pos = after_pos; /* never backwards (another instance's horizon was ahead) */
        out->next_id = after_id;
    }
    PQclear(r);
    return LDA_OK;
}

/* ---- the clock ------------------------------------------------------------------------ */

typedef struct {
    long long last; /* change_position's last value read in one statement... */
    char *holders;  /* ...and the transactions committing events in the next one:
                     * ",vxid,vxid," (virtual transaction ids) */
} pending_t;

static struct {
    pthread_t thread;
    bool running;
    atomic_bool stop;
    atomic_llong horizon;
    void (*on_advance)(long long);
    long retention_days;
    pending_t pending[PENDING_MAX];
    int npending;
    long long prev_last; /* -1: none yet */
} clk = {.horizon = -1, .prev_last = -1};

long long change_horizon(void) { return atomic_load(&clk.horizon); }

static void pending_clear(void)
{
    for (int i = 0; i < clk.npending; i++) free(clk.pending[i].holders);
    clk.npending = 0;
}

/* True when one of the comma-separated vxids of `now` is in `holders` (",a,b,"). */
static bool still_held(const char *holders, const char *now)
{
    for (const char *p = now; *p;) {
        size_t n = strcspn(p, ",");
        char item[48];
        if (n > 0 && n + 3 <= sizeof item) {
            item[0] = ',';
            memcpy(item + 1, p, n);
            item[n + 1] = ',';
            item[n + 2] = '\0';
            if (strstr(holders, item)) return true;
        }
        p += n;
        if (*p == ',') p++;
    }
    return false;
}

/*
 * One step of the horizon (migration 013 explains why it is safe): read, in one statement, L
 * and the transactions committing events (the holders of lda_change_seal's advisory lock in
 * this database); L of the previous step pairs with these holders (this statement ran after
 * it was read); a pair is settled once none of its holders is running any more. Returns
 * false on a database error; *busy tells whether positions moved or wait to be settled.
 */
static bool tick(PGconn *pg, bool *busy)
{
    PGresult *r = PQexec(pg, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END,"
                             " coalesce((SELECT string_agg(virtualtransaction, ',') FROM pg_locks"
                             "  WHERE locktype = 'advisory' AND classid = 421900 AND objid = 13"
                             "   AND objsubid = 2 AND database = (SELECT oid FROM pg_database"
                             "    WHERE datname = current_database())), '')"
                             " FROM change_position");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        log_json(LOG_WARN, "change clock: query failed",
                 json_pack("{s:s}", "sqlstate", st ? st : ""));
        PQclear(r);
        return false;
    }
    long long last = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    bool moved = last != clk.prev_last;
    const char *now = PQgetvalue(r, 0, 1);
    if (clk.prev_last > atomic_load(&clk.horizon)) { /* a pair below the horizon settles nothing */
        if (clk.npending == PENDING_MAX) free(clk.pending[--clk.npending].holders);
        clk.pending[clk.npending++] = (pending_t){clk.prev_last, xasprintf(",%s,", now)};
    }
    clk.prev_last = last;
    long long h = atomic_load(&clk.horizon), settled = h;
    int keep = 0;
    for (int i = 0; i < clk.npending; i++) {
        if (!still_held(clk.pending[i].holders, now)) {
            if (clk.pending[i].last > settled) settled = clk.pending[i].last;
            free(clk.pending[i].holders);
        } else
            clk.pending[keep++] = clk.pending[i];
    }
    clk.npending = keep;
    PQclear(r);
    if (settled > h) {
        atomic_store(&clk.horizon, settled);
        if (clk.on_advance) clk.on_advance(settled);
    }
    /* a pair always waits one more step for its holders, even on an idle database */
    *busy = moved || last > settled;
    return true;
}

static void purge(PGconn *pg, long days)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT lda_change_purge(now() - interval '%ld days', 1000)", days);
    long total = 0;
    for (int round = 0; round < PURGE_ROUNDS && !atomic_load(&clk.stop); round++) {
        PGresult *r = PQexec(pg, sql);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        long n = ok ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        if (!ok) {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            log_json(LOG_WARN, "change purge failed", json_pack("{s:s}", "sqlstate", st ? st : ""));
        }
        PQclear(r);
        total += n;
        if (n == 0) break;
    }
    if (total)
        log_json(LOG_INFO, "change events purged",
                 json_pack("{s:I, s:I}", "events", (json_int_t)total, "retention_days",
                           (json_int_t)days));
}

static void *clock_main(void *arg)
{
    (void)arg;
    PGconn *pg = NULL;
    long long next_purge = clock_mono_ms() + 5000, backoff = 100, pause = TICK_FAST_MS;
    while (!atomic_load(&clk.stop)) {
        if (!pg) {
            pg = db_connect_dedicated();
            if (!pg) {
                struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000};
                nanosleep(&ts, NULL);
                backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
                continue;
            }
            backoff = 100;
            clk.prev_last = -1; /* pairs must come from one connection's statements */
            pending_clear();
        }
        bool busy = false;
        if (!tick(pg, &busy) && PQstatus(pg) != CONNECTION_OK) {
            PQfinish(pg);
            pg = NULL;
            continue;
        }
        if (clock_mono_ms() >= next_purge) {
            purge(pg, clk.retention_days);
            next_purge = clock_mono_ms() + PURGE_EVERY_MS;
        }
        /* polled, not notified: a NOTIFY in every writing transaction would serialise their
         * commits (migration 013) */
        pause = busy ? TICK_FAST_MS : (pause * 2 > TICK_IDLE_MS ? TICK_IDLE_MS : pause * 2);
        struct timespec ts = {0, pause * 1000000L};
        nanosleep(&ts, NULL);
    }
    PQfinish(pg);
    pending_clear();
    return NULL;
}

void change_clock_start(const lda_config *cfg, void (*on_advance)(long long))
{
    clk.on_advance = on_advance;
    clk.retention_days = cfg->changes_retention_days;
    atomic_store(&clk.stop, false);
    if (pthread_create(&clk.thread, NULL, clock_main, NULL) == 0) clk.running = true;
}

void change_clock_stop(void)
{
    if (!clk.running) return;
    atomic_store(&clk.stop, true);
    pthread_join(clk.thread, NULL);
    clk.running = false;
}
