#include "http/metrics.h"
#include "http/auth.h"
#include "http/longpoll.h"
#include "http/route.h"

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

static void route_label(size_t i, char *out, size_t outlen)
{
    size_t nroutes;
    const lda_route *routes = route_table(&nroutes);
    if (i >= nroutes)
        snprintf(out, outlen, "method=\"\",route=\"unmatched\"");
    else
        snprintf(out, outlen, "method=\"%s\",route=\"%s\"", routes[i].method, routes[i].pattern);
}

void metrics_render(buf_t *s)
{
    char label[256];
    size_t count;
    route_table(&count);
    size_t nroutes = count < MAX_ROUTES ? count : MAX_ROUTES;

    buf_printf(s, "# HELP lda_http_requests_total HTTP requests answered, by route and status.\n"
                  "# TYPE lda_http_requests_total counter\n");
    for (size_t i = 0; i <= nroutes; i++) {
        route_metrics *m = &M[i == nroutes ? MAX_ROUTES : i];
        route_label(i, label, sizeof label);
        for (int st = 100; st < NSTATUS; st++) {
            long v = atomic_load_explicit(&m->by_status[st], memory_order_relaxed);
            if (v) buf_printf(s, "lda_http_requests_total{%s,status=\"%d\"} %ld\n", label, st, v);
        }
    }
    buf_printf(s, "# HELP lda_http_request_duration_seconds Time to answer, by route.\n"
                  "# TYPE lda_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= nroutes; i++) {
        route_metrics *m = &M[i == nroutes ? MAX_ROUTES : i];
        long n = atomic_load_explicit(&m->count, memory_order_relaxed);
        if (!n) continue;
        route_label(i, label, sizeof label);
        long cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += atomic_load_explicit(&m->bucket[b], memory_order_relaxed);
            buf_printf(s, "lda_http_request_duration_seconds_bucket{%s,le=\"%g\"} %ld\n", label,
                       BUCKETS[b], cum);
        }
        cum += atomic_load_explicit(&m->bucket[NBUCKETS], memory_order_relaxed);
        buf_printf(s, "lda_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %ld\n", label, cum);
        buf_printf(s, "lda_http_request_duration_seconds_sum{%s} %.6f\n", label,
                   (double)atomic_load_explicit(&m->sum_us, memory_order_relaxed) / 1e6);
        buf_printf(s, "lda_http_request_duration_seconds_count{%s} %ld\n", label, cum);
    }
    buf_printf(s,
               "# HELP lda_http_requests_in_flight Requests being handled.\n"
               "# TYPE lda_http_requests_in_flight gauge\n"
               "lda_http_requests_in_flight %ld\n"
               "# HELP lda_changes_waiting Long polls of GET /v1/changes waiting for an event.\n"
               "# TYPE lda_changes_waiting gauge\n"
               "lda_changes_waiting %zu\n",
               metrics_inflight(), longpoll_waiting());
    auth_stats as;
    auth_get_stats(&as);
    buf_printf(
        s,
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
}
