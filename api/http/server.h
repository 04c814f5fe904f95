/*
 * server — the HTTP server: ulfius on libmicrohttpd with epoll and a fixed pool of worker
 * threads (never a thread per connection), one dispatcher that runs the middleware chain
 * (request id → route → limits → auth → query/body → handler → log + metrics), and a
 * designed shutdown: on SIGTERM or SIGINT stop accepting, let requests in flight finish,
 * then stop.
 */
#ifndef LDA_HTTP_SERVER_H
#define LDA_HTTP_SERVER_H

#include "core/config.h"
#include "http/auth.h"
#include "http/route.h"

/* What the server is handed at start-up (by main): HTTP knows no resource and no store. */
typedef struct {
    const lda_route *routes; /* the routing table (resources/route_table.c) */
    size_t nroutes;
    auth_lookup_fn token_lookup; /* a token by its hash (store/token_store.c) */
    bool (*admit)(void);         /* may an authenticated request start (the audit queue) */
} server_wiring;

/* Runs until SIGTERM/SIGINT (which the caller has blocked in every thread before calling).
 * Installs the wiring first (routes, authentication, admission) and takes authentication
 * down at the end. Returns the process exit status: 0 after a clean drain. */
int server_run(const lda_config *cfg, const server_wiring *w);

#endif
