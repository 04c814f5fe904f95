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

/* Runs until SIGTERM/SIGINT (which the caller has blocked in every thread before calling).
 * Returns the process exit status: 0 after a clean drain. */
int server_run(const lda_config *cfg);

#endif
