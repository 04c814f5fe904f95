/*
 * metrics — Prometheus text exposition: requests by route and status, a latency
 * histogram per route, the database pool (in use, idle, size) and reconnections, and the
 * read replica's lag when there is one.
 * Counters are lock-free; labels are route patterns, never concrete paths (no ids, so no
 * personal data and bounded cardinality).
 */
#ifndef LDA_HTTP_METRICS_H
#define LDA_HTTP_METRICS_H

#include <stddef.h>

/* Records one answered request. route_index: index in ROUTES, or -1 when none matched. */
void metrics_observe(int route_index, int status, double seconds);

/* The exposition text; caller frees. */
char *metrics_render(size_t *len);

/* Gauge of requests in flight, maintained by the dispatcher. */
void metrics_inflight_add(int delta);
long metrics_inflight(void);

#endif
