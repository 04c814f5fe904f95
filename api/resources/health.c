/* Operational routes: liveness, readiness, metrics and the OpenAPI document. */
#include "core/buf.h"
#include "core/clock.h"
#include "http/metrics.h"
#include "resources/resource.h"
#include "store/audit.h"
#include "store/change.h"
#include "store/embedded.h"
#include "store/migrate.h"
#include "store/platform.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void healthz_get(lda_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_send_json_text(r, 200, body, sizeof body - 1);
}

/* Readiness is asked by load balancers, often, without a token: a success is kept
 * READY_CACHE_MS, so that polling it costs the pool at most one round trip a second. A
 * failure is not kept: the next request asks again (the pool lets one attempt at a time
 * reach a database that is down), so readiness comes back as soon as the database does. */
#define READY_CACHE_MS 1000

static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool ok;
    int version;
    int64_t at_ms;
} ready;

static lda_err schema_version_cached(int *version)
{
    pthread_mutex_lock(&ready_mu);
    bool fresh = ready.ok && clock_mono_ms() - ready.at_ms < READY_CACHE_MS;
    *version = ready.version;
    pthread_mutex_unlock(&ready_mu);
    if (fresh) return LDA_OK;
    db_conn *c = NULL;
    lda_err e = db_acquire(&c);
    if (!e) {
        e = schema_version(c, version);
        db_release(c);
    }
    pthread_mutex_lock(&ready_mu);
    ready.ok = !e;
    ready.version = *version;
    ready.at_ms = clock_mono_ms();
    pthread_mutex_unlock(&ready_mu);
    return e;
}

void readyz_get(lda_req *r)
{
    int version = 0;
    lda_err e = schema_version_cached(&version);
    if (e) {
        problem_send(r, 503, "The database is not reachable.", NULL);
        return;
    }
    int expected = migrate_expected_version();
    if (version < expected) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "The database schema is at version %d; this build needs %d: run lda-api migrate.",
                 version, expected);
        problem_send(r, 503, detail, NULL);
        return;
    }
    char body[80];
    int n = snprintf(body, sizeof body, "{\"status\":\"ready\",\"schema_version\":%d}", version);
    http_send_json_text(r, 200, body, (size_t)n);
}

/* ---- GET /metrics: the HTTP layer's families, then the store's ------------------------- */

/* The read replica's gauges, when LDA_DATABASE_URL_READ names one (two small statements). */
static void put_replica(buf_t *s)
{
    db_replica_status rs;
    db_replica_status_get(&rs);
    if (!rs.configured) return;
    buf_printf(s,
               "# HELP lda_db_replica_up Whether the read replica answered this scrape.\n"
               "# TYPE lda_db_replica_up gauge\n"
               "lda_db_replica_up %d\n",
               rs.up ? 1 : 0);
    if (!rs.up) return;
    char seconds[32];
    if (isnan(rs.lag_seconds))
        snprintf(seconds, sizeof seconds, "NaN");
    else
        snprintf(seconds, sizeof seconds, "%.3f", rs.lag_seconds);
    buf_printf(s,
               "# HELP lda_db_replica_lag_seconds Age of the last transaction the replica "
               "replayed, while it has WAL left to replay (0: it has replayed all it received).\n"
               "# TYPE lda_db_replica_lag_seconds gauge\n"
               "lda_db_replica_lag_seconds %s\n",
               seconds);
    if (rs.lag_bytes >= 0)
        buf_printf(s,
                   "# HELP lda_db_replica_lag_bytes WAL written by the primary and not yet "
                   "replayed by the replica.\n"
                   "# TYPE lda_db_replica_lag_bytes gauge\n"
                   "lda_db_replica_lag_bytes %lld\n",
                   rs.lag_bytes);
}

/* The database pool, the replica, the change feed's horizon and the audit queue. */
static void put_store(buf_t *s)
{
    db_pool_stats ps;
    db_pool_get_stats(&ps);
    buf_printf(s,
               "# HELP lda_db_pool_connections Database pool slots by state.\n"
               "# TYPE lda_db_pool_connections gauge\n"
               "lda_db_pool_connections{state=\"in_use\"} %d\n"
               "lda_db_pool_connections{state=\"idle\"} %d\n"
               "# HELP lda_db_pool_size Database pool size.\n"
               "# TYPE lda_db_pool_size gauge\n"
               "lda_db_pool_size %d\n"
               "# HELP lda_db_pool_connected Pool slots holding an open connection.\n"
               "# TYPE lda_db_pool_connected gauge\n"
               "lda_db_pool_connected %d\n"
               "# HELP lda_db_reconnections_total Connections re-opened after a failure.\n"
               "# TYPE lda_db_reconnections_total counter\n"
               "lda_db_reconnections_total %ld\n"
               "# HELP lda_db_connect_failures_total Failed connection attempts.\n"
               "# TYPE lda_db_connect_failures_total counter\n"
               "lda_db_connect_failures_total %ld\n",
               ps.in_use, ps.size - ps.in_use, ps.size, ps.connected, ps.reconnects,
               ps.connect_failures);
    put_replica(s);
    buf_printf(s,
               "# HELP lda_changes_horizon Last commit position of the change feed known final.\n"
               "# TYPE lda_changes_horizon gauge\n"
               "lda_changes_horizon %lld\n",
               change_horizon());
    buf_printf(s,
               "# HELP lda_db_checks_total Pooled connections checked with a round trip after "
               "idling.\n"
               "# TYPE lda_db_checks_total counter\n"
               "lda_db_checks_total %ld\n"
               "# HELP lda_db_recycled_total Connections closed after a very large result "
               "(memory).\n"
               "# TYPE lda_db_recycled_total counter\n"
               "lda_db_recycled_total %ld\n"
               "# HELP lda_stats_in_flight Statistics requests holding a connection.\n"
               "# TYPE lda_stats_in_flight gauge\n"
               "lda_stats_in_flight %d\n"
               "# HELP lda_stats_refused_total Statistics requests refused (503) at their "
               "concurrency limit.\n"
               "# TYPE lda_stats_refused_total counter\n"
               "lda_stats_refused_total %ld\n",
               ps.checks, ps.recycled, ps.stats_in_flight, ps.stats_refused);
    audit_stats au;
    audit_get_stats(&au);
    buf_printf(s,
               "# HELP lda_audit_queue_events Audit events waiting to be written.\n"
               "# TYPE lda_audit_queue_events gauge\n"
               "lda_audit_queue_events %ld\n"
               "# HELP lda_audit_queue_max Audit events that may wait before requests answer "
               "503.\n"
               "# TYPE lda_audit_queue_max gauge\n"
               "lda_audit_queue_max %ld\n"
               "# HELP lda_audit_refused_total Requests answered 503 because the audit queue was "
               "full.\n"
               "# TYPE lda_audit_refused_total counter\n"
               "lda_audit_refused_total %ld\n"
               "# HELP lda_audit_written_total Audit events written.\n"
               "# TYPE lda_audit_written_total counter\n"
               "lda_audit_written_total %ld\n"
               "# HELP lda_audit_write_failures_total Failed writes of the audit queue "
               "(retried).\n"
               "# TYPE lda_audit_write_failures_total counter\n"
               "lda_audit_write_failures_total %ld\n",
               au.queued, au.queue_max, au.refused, au.written, au.write_failures);
}

void metrics_get(lda_req *r)
{
    buf_t s = {0};
    buf_reserve(&s, 16384);
    metrics_render(&s);
    put_store(&s);
    size_t len = 0;
    char *text = buf_steal(&s, &len);
    http_send_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

void openapi_get(lda_req *r)
{
    http_send_body(r, 200, "application/yaml", EMBEDDED_OPENAPI, EMBEDDED_OPENAPI_LEN);
}
