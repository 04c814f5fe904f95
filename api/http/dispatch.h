/*
 * dispatch — the fixed chain every request goes through, in two steps around its body:
 *
 *   dispatch_begin   once the request line and headers are in, before any byte of the body
 *                    is read: request id and default headers → CORS preflight → route (404,
 *                    405) → framing (400) → authentication (401, 403, 429) → body limits from
 *                    the headers (413, 415) → query string (400, 422) → audit queue (503). A
 *                    request refused here never has its body kept.
 *   dispatch_finish  once the body is in (kept only up to the route's limit): 413 for what
 *                    went over, the JSON body (400), then the handler.
 *   dispatch_done    after the answer is queued: the log line and the metrics.
 *
 * http/server.c calls them from libmicrohttpd's callbacks; handlers never see this file.
 */
#ifndef LDA_HTTP_DISPATCH_H
#define LDA_HTTP_DISPATCH_H

#include "http/request.h"

#include <time.h>

/* Runs the steps that need no body. On return r->status != 0 when it answered (refused). */
void dispatch_begin(lda_req *r);

/* Runs the rest (body checks and the handler); always answers. */
void dispatch_finish(lda_req *r);

/* Logs the request and counts it (and no longer in flight: the server counted it in when
 * its handler or its answer began); `started` is when its first line was read. */
void dispatch_done(lda_req *r, const struct timespec *started);

/* Frees what the dispatcher allocated in r (path parameters, query, JSON body). */
void dispatch_release(lda_req *r);

/* What decides whether an authenticated request may start (false: 503 with Retry-After):
 * the audit queue's room, handed in at start-up. NULL: always. */
void dispatch_set_admission(bool (*admit)(void));

/* From now on every answer carries Connection: close (the server is draining). */
void dispatch_set_shutting_down(void);

#endif
