#include "http/metrics.h"
#include "core/mem.h"
#include "http/auth.h"
#include "http/route.h"
#include "store/audit.h"
#include "store/db.h"
#include "http/longpoll.h"
#include "store/change.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 128
#define NSTATUS    600
static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

typedef struct {
    atomic_long by_status[NSTATUS];
    atomic_long bucket[NBUCKETS + 1]; /* last: +Inf */
    atomic_llong sum_us;
    atomic_long count;
} route_metrics;

static route_metrics M[MAX_ROUTES + 1]; /* last slot: unmatched */
static atomic_long inflight;

void metrics_inflight_add(int delta)
{
    atomic_fetch_add_explicit(&inflight, delta, memory_order_relaxed);
}
long metrics_inflight(void) { return atomic_load(&inflight); }

void metrics_observe(int route_index, int status, double seconds)
{
    route_metrics *m = &M[route_index < 0 || route_index >= MAX_ROUTES ? MAX_ROUTES : route_index];
    if (status >= 100 && status < NSTATUS)
        atomic_fetch_add_explicit(&m->by_status[status], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKETS && seconds > BUCKETS[b]) b++;
    atomic_fetch_add_explicit(&m->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (long long)(seconds * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *s, const char *fmt, ...)
{
    va_list ap, sizing;
    va_start(ap, fmt);
    va_copy(sizing, ap);
    int n = vsnprintf(NULL, 0, fmt, sizing); /* the length, then the text */
    va_end(sizing);
    if (n < 0) lda_oom();
    if (s->len + (size_t)n + 1 > s->cap) {
        s->cap = (s->len + (size_t)n + 1) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

static void route_label(size_t i, char *out, size_t outlen)
{
    if (i >= ROUTE_COUNT)
        snprintf(out, outlen, "method=\"\",route=\"unmatched\"");
    else
        snprintf(out, outlen, "method=\"%s\",route=\"%s\"", ROUTES[i].method, ROUTES[i].pattern);
}

/* The read replica's gauges, when LDA_DATABASE_URL_READ names one (two small statements). */
static void put_replica(sbuf *s)
{
    db_replica_status rs;
    db_replica_status_get(&rs);
    if (!rs.configured) return;
    put(s,
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
    put(s,
        "# HELP lda_db_replica_lag_seconds Age of the last transaction the replica replayed, "
        "while it has WAL left to replay (0: it has replayed all it received).\n"
        "# TYPE lda_db_replica_lag_seconds gauge\n"
        "lda_db_replica_lag_seconds %s\n",
        seconds);
    if (rs.lag_bytes >= 0)
        put(s,
            "# HELP lda_db_replica_lag_bytes WAL written by the primary and not yet replayed by "
            "the replica.\n"
            "# TYPE lda_db_replica_lag_bytes gauge\n"
            "lda_db_replica_lag_bytes %lld\n",
            rs.lag_bytes);
}

char *metrics_render(size_t *len)
{
    sbuf s = {xmalloc(16384), 0, 16384};
    char label[256];
    size_t nroutes = ROUTE_COUNT < MAX_ROUTES ? ROUTE_COUNT : MAX_ROUTES;

    put(&s, "# HELP lda_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE lda_http_requests_total counter\n");
    for (size_t i = 0; i <= nroutes; i++) {
        route_metrics *m = &M[i == nroutes ? MAX_ROUTES : i];
        route_label(i, label, sizeof label);
        for (int st = 100; st < NSTATUS; st++) {
            long v = atomic_load_explicit(&m->by_status[st], memory_order_relaxed);
            if (v) put(&s, "lda_http_requests_total{%s,status=\"%d\"} %ld\n", label, st, v);
        }
    }
    put(&s, "# HELP lda_http_request_duration_seconds Time to answer, by route.\n"
            "# TYPE lda_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= nroutes; i++) {
        route_metrics *m = &M[i == nroutes ? MAX_ROUTES : i];
        long count = atomic_load_explicit(&m->count, memory_order_relaxed);
        if (!count) continue;
        route_label(i, label, sizeof label);
        long cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += atomic_load_explicit(&m->bucket[b], memory_order_relaxed);
            put(&s, "lda_http_request_duration_seconds_bucket{%s,le=\"%g\"} %ld\n", label,
                BUCKETS[b], cum);
        }
        cum += atomic_load_explicit(&m->bucket[NBUCKETS], memory_order_relaxed);
        put(&s, "lda_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %ld\n", label, cum);
        put(&s, "lda_http_request_duration_seconds_sum{%s} %.6f\n", label,
            (double)atomic_load_explicit(&m->sum_us, memory_order_relaxed) / 1e6);
        put(&s, "lda_http_request_duration_seconds_count{%s} %ld\n", label, cum);
    }
    db_pool_stats ps;
    db_pool_get_stats(&ps);
    put(&s,
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
        "lda_db_connect_failures_total %ld\n"
        "# HELP lda_http_requests_in_flight Requests being handled.\n"
        "# TYPE lda_http_requests_in_flight gauge\n"
        "lda_http_requests_in_flight %ld\n",
        ps.in_use, ps.size - ps.in_use, ps.size, ps.connected, ps.reconnects, ps.connect_failures,
        metrics_inflight());
    put_replica(&s);
    put(&s,
        "# HELP lda_changes_waiting Long polls of GET /v1/changes waiting for an event.\n"
        "# TYPE lda_changes_waiting gauge\n"
        "lda_changes_waiting %zu\n"
        "# HELP lda_changes_horizon Last commit position of the change feed known final.\n"
        "# TYPE lda_changes_horizon gauge\n"
        "lda_changes_horizon %lld\n",
        longpoll_waiting(), change_horizon());
    put(&s,
        "# HELP lda_db_checks_total Pooled connections checked with a round trip after idling.\n"
        "# TYPE lda_db_checks_total counter\n"
        "lda_db_checks_total %ld\n"
        "# HELP lda_db_recycled_total Connections closed after a very large result (memory).\n"
        "# TYPE lda_db_recycled_total counter\n"
        "lda_db_recycled_total %ld\n"
        "# HELP lda_stats_in_flight Statistics requests holding a connection.\n"
        "# TYPE lda_stats_in_flight gauge\n"
        "lda_stats_in_flight %d\n"
        "# HELP lda_stats_refused_total Statistics requests refused (503) at their concurrency "
        "limit.\n"
        "# TYPE lda_stats_refused_total counter\n"
        "lda_stats_refused_total %ld\n",
        ps.checks, ps.recycled, ps.stats_in_flight, ps.stats_refused);
    auth_stats as;
    auth_get_stats(&as);
    put(&s,
        "# HELP lda_auth_total Authentications by outcome: malformed (refused without a look-up),"
        " lookup (database look-ups), unknown (look-ups that found nothing), negative_cache"
        " (unknown tokens answered from memory), throttled (client address over its budget of"
        " unknown tokens), rate_limited (token over its rate).\n"
        "# TYPE lda_auth_total counter\n"
        "lda_auth_total{outcome=\"malformed\"} %ld\n"
        "lda_auth_total{outcome=\"lookup\"} %ld\n"
        "lda_auth_total{outcome=\"unknown\"} %ld\n"
        "lda_auth_total{outcome=\"negative_cache\"} %ld\n"
        "lda_auth_total{outcome=\"throttled\"} %ld\n"
        "lda_auth_total{outcome=\"rate_limited\"} %ld\n",
        as.malformed, as.lookups, as.unknown, as.negative, as.throttled, as.rate_limited);
    audit_stats au;
    audit_get_stats(&au);
    put(&s,
        "# HELP lda_audit_queue_events Audit events waiting to be written.\n"
        "# TYPE lda_audit_queue_events gauge\n"
        "lda_audit_queue_events %ld\n"
        "# HELP lda_audit_queue_max Audit events that may wait before requests answer 503.\n"
        "# TYPE lda_audit_queue_max gauge\n"
        "lda_audit_queue_max %ld\n"
        "# HELP lda_audit_refused_total Requests answered 503 because the audit queue was full.\n"
        "# TYPE lda_audit_refused_total counter\n"
        "lda_audit_refused_total %ld\n"
        "# HELP lda_audit_written_total Audit events written.\n"
        "# TYPE lda_audit_written_total counter\n"
        "lda_audit_written_total %ld\n"
        "# HELP lda_audit_write_failures_total Failed writes of the audit queue (retried).\n"
        "# TYPE lda_audit_write_failures_total counter\n"
        "lda_audit_write_failures_total %ld\n",
        au.queued, au.queue_max, au.refused, au.written, au.write_failures);
    *len = s.len;
    return s.buf;
}
