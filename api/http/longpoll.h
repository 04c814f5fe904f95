/*
 * longpoll — answers that wait for something to happen without holding a worker thread.
 *
 * libmicrohttpd's worker threads each serve many connections; a handler that blocked until
 * an event arrives would stall all of them. A waiting answer is therefore a chunked
 * response whose body is produced later: its status and headers go out at once, then the
 * connection is suspended (MHD_suspend_connection, from the response's content reader,
 * as libmicrohttpd allows) and leaves the worker's event loop. A wake-up (longpoll_wake_all,
 * e.g. from the change feed's notifier), the waiter's deadline or the server's shutdown
 * resumes it; the content reader then runs the waiter's poll function again on the worker
 * thread, which either produces the body or lets it wait on.
 *
 * A handler gets ulfius's request, not libmicrohttpd's connection: the server tells this
 * module the connection of each request whose path starts with the prefix given to
 * longpoll_init (longpoll_track), and forgets it when the request is done (longpoll_untrack).
 * Waiters are bounded (longpoll_init);
 * a suspended connection still counts against the connection limits and is not timed out
 * by libmicrohttpd (the waiter's deadline bounds it instead).
 */
#ifndef LDA_HTTP_LONGPOLL_H
#define LDA_HTTP_LONGPOLL_H

#include "core/err.h"
#include "http/request.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * What a waiting answer does when woken, on a worker thread: returns true with the body to
 * send (*body: malloc'd, taken) or false to keep waiting. `final`: it must answer now (its
 * deadline passed or the server is stopping).
 */
typedef bool (*longpoll_fn)(void *ctx, bool final, char **body, size_t *len);

/* Before the server starts: at most `max_waiters` waiting answers; connections are
 * remembered for the paths starting with `path_prefix`; a woken waiter polls again at most
 * every `min_interval_ms`. */
void longpoll_init(long max_waiters, const char *path_prefix, long min_interval_ms);

struct _u_request;
/* The server: req's connection is con (kept when path has the prefix); req is done. */
void longpoll_track(const struct _u_request *req, struct MHD_Connection *con, const char *path);
void longpoll_untrack(const struct _u_request *req);

/*
 * Makes r's answer a waiting one: 200 with `content_type`, its body from `fn(ctx, ...)`
 * once it returns true (at the latest at `deadline_ms`, CLOCK_MONOTONIC milliseconds).
 * Takes ctx (released with free_ctx when the answer is done or abandoned). Returns
 * LDA_EUNAVAILABLE, without taking ctx, when the waiters are at their cap, the server is
 * stopping, or the connection is unknown.
 */
lda_err longpoll_answer(lda_req *r, const char *content_type, long long deadline_ms, longpoll_fn fn,
                        void (*free_ctx)(void *), void *ctx);

/* Every waiter polls again (rate-limited per waiter). Any thread. */
void longpoll_wake_all(void);

/* True once longpoll_stop has begun: answer at once instead of waiting. */
bool longpoll_stopping(void);

/* Waiting answers right now. */
size_t longpoll_waiting(void);

/* Stops accepting waiters, makes every waiter answer now, and waits (at most grace_ms)
 * until they are done. Call after the daemon stopped accepting, before it is stopped
 * (libmicrohttpd must not be stopped with suspended connections). */
void longpoll_stop(long grace_ms);

#endif
