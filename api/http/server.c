/*
 * The HTTP server: libmicrohttpd in epoll mode with a fixed pool of worker threads, and
 * our own access handler in place of ulfius's.
 *
 * Why not ulfius's handler: it copies every request body into memory (up to one limit for
 * the whole instance) before any code of ours can look at the request, so a client with
 * no token could make the service hold LDA_MAX_BATCH_BYTES per connection. libmicrohttpd
 * calls its access handler once the headers are in and before the body: here that first
 * call runs dispatch_begin (route, limits, token), and a refused request is answered at
 * once without its body ever being read; an accepted one has its body kept only up to its
 * route's limit. Handlers still get ulfius's request and response structures (headers map,
 * body, ulfius_set_*_response), filled and answered here.
 *
 * Listeners: LDA_LISTEN, and optionally LDA_BATCH_LISTEN (the only one where batch routes
 * take LDA_MAX_BATCH_BYTES) and LDA_METRICS_LISTEN (/metrics without a token), each its own
 * daemon with the same handler. Shutdown: on SIGTERM or SIGINT stop accepting, let requests
 * in flight finish, then stop.
 */
#include "http/server.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/dispatch.h"
#include "http/longpoll.h"
#include "http/metrics.h"
#include "http/problem.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#define TRIM_EVERY_S     10
#define TRIM_ABOVE_BYTES ((size_t)8 << 20)
/* A chunked body that goes on this far past its route's limit is cut (connection closed)
 * instead of being read to its end for a 413. */
#define DRAIN_PAST_LIMIT ((size_t)16 << 20)
/* A request refused from its headers (nothing of its body is ever kept) whose Content-Length
 * announces at most this much has its body read and discarded before the answer: closing a
 * connection with unread data resets it, and an ordinary client still writing its body may
 * then lose the answer. A caller with a valid token (refused for its role or its body's size)
 * gets this for up to the largest body any route takes plus DRAIN_PAST_LIMIT. Beyond, and for
 * any client that waits for "100 Continue", the answer is sent at once and the connection
 * closed: a client that sends a large body after that is the one that loses, not the
 * service. */
#define DRAIN_REFUSED_MAX ((size_t)4 << 20)

typedef struct {
    listener_kind kind;
    const lda_config *cfg;
    const char *listen;
    const struct sockaddr_in *addr;
    long threads;
    struct MHD_Daemon *daemon;
} listener;

/* One request, from its first line to the end of its answer. */
typedef struct {
    lda_req r;
    struct _u_request u;
    struct _u_response res;
    struct timespec started;
    bool begun, answered;
    bool counted;     /* in lda_http_requests_in_flight */
    size_t drain_max; /* a refused request's body read and discarded up to this */
    size_t cap;       /* allocated bytes of u.binary_body */
} exchange;

/* ---- libmicrohttpd callbacks ------------------------------------------------------------ */

/* The request line is in: the exchange starts, with the target exactly as sent. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    listener *l = cls;
    exchange *x = xcalloc(1, sizeof *x);
    clock_gettime(CLOCK_MONOTONIC, &x->started);
    if (ulfius_init_request(&x->u) != U_OK || ulfius_init_response(&x->res) != U_OK) lda_oom();
    x->u.http_url = o_strdup(uri);
    x->u.url_path = o_strndup(uri, strcspn(uri, "?"));
    if (!x->u.http_url || !x->u.url_path) lda_oom();
    x->r.listener = l->kind;
    x->r.cfg = l->cfg;
    longpoll_track(&x->u, con, x->u.url_path); /* a long poll will need its connection */
    return x;
}

/* Headers as ulfius keeps them: a repeated header's values joined by commas. */
static enum MHD_Result put_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct _u_map *map = cls;
    if (!key) return MHD_YES;
    const char *had = u_map_get(map, key);
    if (had) {
        char *joined = xasprintf("%s,%s", had, value ? value : "");
        u_map_put(map, key, joined);
        free(joined);
    } else
        u_map_put(map, key, value ? value : "");
    return MHD_YES;
}

static void begin(exchange *x, struct MHD_Connection *con, const char *method, const char *version)
{
    x->begun = true;
    x->u.http_verb = o_strdup(method);
    x->u.http_protocol = o_strdup(version);
    if (!x->u.http_verb || !x->u.http_protocol) lda_oom();
    MHD_get_connection_values(con, MHD_HEADER_KIND, put_header, x->u.map_header);
    MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, put_header, x->u.map_url);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    lda_req *r = &x->r;
    r->u = &x->u;
    r->res = &x->res;
    r->method = x->u.http_verb;
    r->path = x->u.url_path;
    r->url = x->u.http_url;
    r->client = ci ? ci->client_addr : NULL;
    dispatch_begin(r);
}

/* Body bytes: kept up to the route's limit when the route reads its body, else only
 * counted. False when the client is to be cut off. */
static bool take_body(exchange *x, const char *data, size_t n)
{
    lda_req *r = &x->r;
    r->body_seen += n;
    if (r->status) return r->body_seen <= x->drain_max;
    if (!r->body_kept) return r->body_seen <= r->body_limit + DRAIN_PAST_LIMIT;
    if (r->body_over || x->u.binary_body_length + n > r->body_limit) {
        r->body_over = true;
        return r->body_seen <= r->body_limit + DRAIN_PAST_LIMIT;
    }
    size_t need = x->u.binary_body_length + n;
    if (need > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        while (cap < need) cap *= 2;
        if (cap > r->body_limit) cap = r->body_limit;
        x->u.binary_body = xrealloc(x->u.binary_body, cap);
        x->cap = cap;
    }
    memcpy((char *)x->u.binary_body + x->u.binary_body_length, data, n);
    x->u.binary_body_length = need;
    return true;
}

static enum MHD_Result add_headers(struct MHD_Response *m, const struct _u_map *map)
{
    const char **keys = u_map_enum_keys(map);
    for (size_t i = 0; keys && keys[i]; i++)
        if (MHD_add_response_header(m, keys[i], u_map_get(map, keys[i])) != MHD_YES) return MHD_NO;
    return MHD_YES;
}

/* Counts the request in flight (what a drain on SIGTERM waits for): from its handler, or
 * its answer, on; an upload still coming in is not counted. */
static void count_in_flight(exchange *x)
{
    if (x->counted) return;
    x->counted = true;
    metrics_inflight_add(1);
}

/* Hands the answer the dispatcher built to libmicrohttpd; then logs and counts it. */
static enum MHD_Result answer(exchange *x, struct MHD_Connection *con)
{
    count_in_flight(x);
    struct _u_response *res = &x->res;
    struct MHD_Response *m;
    if (res->stream_callback) {
        m = MHD_create_response_from_callback(res->stream_size, res->stream_block_size,
                                              res->stream_callback, res->stream_user_data,
                                              res->stream_callback_free);
        res->stream_callback = NULL; /* libmicrohttpd owns the stream now */
        res->stream_callback_free = NULL;
        res->stream_user_data = NULL;
    } else if (res->binary_body && res->binary_body_length) {
        m = MHD_create_response_from_buffer(res->binary_body_length, res->binary_body,
                                            MHD_RESPMEM_MUST_FREE);
        res->binary_body = NULL;
        res->binary_body_length = 0;
    } else
        m = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!m) lda_oom();
    enum MHD_Result ret = add_headers(m, res->map_header);
    if (ret == MHD_YES) ret = MHD_queue_response(con, (unsigned)x->r.status, m);
    MHD_destroy_response(m);
    x->answered = true;
    dispatch_done(&x->r, &x->started);
    x->counted = false;
    return ret;
}

/* How much of a refused request's body is read and discarded before the answer (0: answer
 * at once): see DRAIN_REFUSED_MAX. */
static size_t drain_max(const lda_req *r)
{
    const char *expect = http_req_header(r, "Expect");
    if (expect && !strcasecmp(expect, "100-continue")) return 0;
    if (!r->who) return DRAIN_REFUSED_MAX;
    size_t largest =
        (size_t)(r->cfg->max_batch_bytes > r->cfg->max_body_bytes ? r->cfg->max_batch_bytes
                                                                  : r->cfg->max_body_bytes);
    return largest + DRAIN_PAST_LIMIT;
}

/* True when a refused request's whole body may be read before the answer. */
static bool drainable(const exchange *x)
{
    const lda_req *r = &x->r;
    const char *cl = http_req_header(r, "Content-Length");
    if (!cl || http_req_header(r, "Transfer-Encoding")) return false;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return end && *end == '\0' && end != cl && n <= x->drain_max;
}

/*
 * libmicrohttpd's access handler: called once when the headers are in (no body read yet),
 * then once per piece of body, then once more when the body is complete.
 */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *size, void **con_cls)
{
    (void)cls;
    (void)url;
    exchange *x = *con_cls;
    if (!x) return MHD_NO;
    if (!x->begun) {
        begin(x, con, method, version);
        /* Refused with a large body on its way: answer now, and libmicrohttpd closes the
         * connection after the answer without reading the body. */
        x->drain_max = drain_max(&x->r);
        if (x->r.status && x->r.body_expected && !drainable(x)) return answer(x, con);
        return MHD_YES;
    }
    if (x->answered) {
        *size = 0;
        return MHD_YES;
    }
    if (*size) {
        bool keep_going = take_body(x, data, *size);
        *size = 0;
        return keep_going ? MHD_YES : MHD_NO;
    }
    if (!x->r.status) {
        x->r.raw_body = x->u.binary_body;
        x->r.raw_body_len = x->u.binary_body_length;
        count_in_flight(x);
        dispatch_finish(&x->r);
        if (!x->r.status) problem_send(&x->r, 500, NULL, NULL);
    }
    return answer(x, con);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    exchange *x = *con_cls;
    if (!x) return;
    if (x->counted) metrics_inflight_add(-1); /* aborted before its answer */
    longpoll_untrack(&x->u);
    dispatch_release(&x->r);
    ulfius_clean_request(&x->u);
    ulfius_clean_response(&x->res);
    free(x);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages (client errors, resource limits), as JSON log lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    log_json(LOG_WARN, "http server", json_pack("{s:s}", "detail", msg));
}

/* ---- start and shutdown ----------------------------------------------------------------- */

static bool listen_on(listener *l)
{
    const lda_config *cfg = l->cfg;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL}, /* first, to catch everything */
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, l},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)l->addr},
        {MHD_OPTION_THREAD_POOL_SIZE, l->threads, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip, NULL},
        /* per connection: headers and the read buffer (bodies come to on_access in pieces);
         * 64 KB keeps 256 connections within ~16 MB (128 KB cost ~50 MB of RSS in total) */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME; /* long polls (http/longpoll.c) */
    l->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_access, l, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (!l->daemon) {
        log_json(LOG_ERROR, "cannot listen", json_pack("{s:s}", "listen", l->listen));
        return false;
    }
    static const char *const NAMES[] = {"main", "batch", "metrics"};
    log_json(LOG_INFO, "listening",
             json_pack("{s:s, s:s, s:I, s:I}", "listen", l->listen, "listener", NAMES[l->kind],
                       "threads", (json_int_t)l->threads, "db_pool", (json_int_t)cfg->db_pool));
    return true;
}

static void stop_accepting(listener *ls, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!ls[i].daemon) continue;
        MHD_socket s = MHD_quiesce_daemon(ls[i].daemon);
        if (s != MHD_INVALID_SOCKET) close(s);
    }
}

static void stop_all(listener *ls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ls[i].daemon) MHD_stop_daemon(ls[i].daemon);
}

/* Serves until a signal, then drains (see server.h). */
static int serve(const lda_config *cfg)
{
    /* One malloc arena for all threads (glibc otherwise creates up to 8 per core as threads
     * contend, each keeping the size of its peak): resident memory follows the working set
     * instead of creeping up after the load has gone. MALLOC_ARENA_MAX, when set, wins. */
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);

    long side_threads = cfg->threads / 2 > 2 ? cfg->threads / 2 : 2;
    listener ls[3];
    size_t n = 0;
    ls[n++] = (listener){LISTEN_MAIN, cfg, cfg->listen, &cfg->listen_addr, cfg->threads, NULL};
    if (cfg->batch_listen)
        ls[n++] = (listener){LISTEN_BATCH, cfg, cfg->batch_listen, &cfg->batch_listen_addr,
                             side_threads, NULL};
    if (cfg->metrics_listen)
        ls[n++] = (listener){
            LISTEN_METRICS, cfg, cfg->metrics_listen, &cfg->metrics_listen_addr, 1, NULL};
    for (size_t i = 0; i < n; i++)
        if (!listen_on(&ls[i])) {
            stop_all(ls, n);
            return 1;
        }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* Wait for SIGTERM or SIGINT. Meanwhile, every TRIM_EVERY_S, when the allocator holds
     * more than TRIM_ABOVE_BYTES of free memory (after a large batch, say), hand it back to
     * the system: glibc would keep it for as long as the process lives. */
    int sig;
    const struct timespec every = {TRIM_EVERY_S, 0};
    while ((sig = sigtimedwait(&set, NULL, &every)) < 0)
        if (errno == EAGAIN && mallinfo2().fordblks > TRIM_ABOVE_BYTES) malloc_trim(0);
    log_json(LOG_INFO, "shutting down", json_pack("{s:i}", "signal", sig));

    dispatch_set_shutting_down();
    stop_accepting(ls, n);
    /* Long polls answer now with what they have (never stop with a suspended connection). */
    longpoll_stop(cfg->shutdown_grace_s * 1000L);
    /* Let requests in flight finish, within the grace period. */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (metrics_inflight() == 0) break;
        if (now.tv_sec - start.tv_sec >= cfg->shutdown_grace_s) {
            log_warn("grace period over with requests in flight");
            break;
        }
        usleep(10000);
    }
    usleep(200000); /* let the last answers be written out */
    stop_all(ls, n);
    log_info("stopped");
    return 0;
}

int server_run(const lda_config *cfg, const server_wiring *w)
{
    route_table_set(w->routes, w->nroutes);
    dispatch_set_admission(w->admit);
    auth_init(cfg, w->token_lookup);
    int rc = serve(cfg);
    auth_shutdown();
    return rc;
}
