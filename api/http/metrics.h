/*
 * metrics — the HTTP layer's part of the Prometheus text exposition: requests by route and
 * status, a latency histogram per route, requests in flight, long polls waiting, and
 * authentication outcomes. GET /metrics (resources/health.c) adds the database pool, the
 * read replica, the change feed and the audit queue.
 * Counters are lock-free; labels are route patterns, never concrete paths (no ids, so no
 * personal data and bounded cardinality).
 */
#ifndef LDA_HTTP_METRICS_H
#define LDA_HTTP_METRICS_H

#include "core/buf.h"

#include <stddef.h>

/* Records one answered request. route_index: index in the routing table, or -1 when none
 * matched. */
void metrics_observe(int route_index, int status, double seconds);

/* Appends the HTTP layer's metric families to `out`. */
void metrics_render(buf_t *out);

/* Gauge of requests in flight, maintained by the dispatcher. */
void metrics_inflight_add(int delta);
long metrics_inflight(void);

#endif
