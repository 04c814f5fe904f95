#include "http/server.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/mem.h"
#include "http/auth.h"
#include "http/longpoll.h"
#include "http/metrics.h"
#include "http/problem.h"
#include "http/route.h"

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <limits.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#define JSON_MAX_DEPTH   32
#define TRIM_EVERY_S     10
#define TRIM_ABOVE_BYTES ((size_t)8 << 20)

static atomic_bool shutting_down;

/* ---- middleware steps ------------------------------------------------------------ */

static void set_request_id(lda_req *r)
{
    const char *given = http_req_header(r, "X-Request-Id");
    size_t n = given ? strlen(given) : 0;
    bool ok = n > 0 && n <= 128;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)given[i]) || strchr("-_.:", given[i]);
    if (ok) {
        memcpy(r->request_id, given, n + 1);
        return;
    }
    unsigned char raw[12];
    if (RAND_bytes(raw, sizeof raw) != 1) lda_oom();
    for (size_t i = 0; i < sizeof raw; i++) snprintf(r->request_id + 2 * i, 3, "%02x", raw[i]);
}

static bool json_too_deep(const json_t *v, int depth)
{
    if (depth > JSON_MAX_DEPTH) return true;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) if (json_too_deep(c, depth + 1)) return true;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) if (json_too_deep(c, depth + 1)) return true;
    }
    return false;
}

/* True when the Content-Type is `want` (parameters such as charset=utf-8 allowed). */
static bool content_type_is(const char *ct, const char *want)
{
    if (!ct) return false;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n)) return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static bool check_body_limit(lda_req *r)
{
    long limit =
        r->route && r->route->body == BODY_BATCH ? r->cfg->max_batch_bytes : r->cfg->max_body_bytes;
    const char *cl = http_req_header(r, "Content-Length");
    long declared = -1;
    if (cl && !parse_long(cl, 0, LONG_MAX, &declared)) declared = -1;
    if (declared > limit) {
        problem_send(r, 413, "The request body is larger than this route accepts.", NULL);
        return false;
    }
    if (r->raw_body_len > (size_t)limit) {
        problem_send(r, 413, "The request body is larger than this route accepts.", NULL);
        return false;
    }
    /* never a body shorter than announced (a truncated body must not reach a handler) */
    if (cl && (declared < 0 || (size_t)declared != r->raw_body_len)) {
        problem_send(r, 400, "The body does not match its Content-Length.", NULL);
        return false;
    }
    return true;
}

static bool authenticate(lda_req *r, lda_principal *who)
{
    int retry = 1;
    lda_err e = auth_authenticate(r, who, &retry);
    if (e == LDA_ERATELIMIT) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry);
        http_set_header(r, "Retry-After", v);
    }
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    r->who = who;
    if (!(r->route->roles & who->role)) {
        problem_send(r, 403, NULL, NULL);
        return false;
    }
    return true;
}

static bool parse_body(lda_req *r)
{
    bool is_write =
        !strcmp(r->method, "POST") || !strcmp(r->method, "PATCH") || !strcmp(r->method, "PUT");
    if (r->route->body == BODY_NONE || !is_write) return true;
    const char *ct = http_req_header(r, "Content-Type");
    bool json_ct = content_type_is(ct, "application/json");
    if (r->route->body == BODY_BATCH) {
        if (!json_ct && !content_type_is(ct, "application/x-ndjson")) {
            problem_send(r, 415, "Send application/json or application/x-ndjson.", NULL);
            return false;
        }
        return true; /* the batch handler parses records itself */
    }
    if (!json_ct) {
        problem_send(r, 415, "Send the body as application/json.", NULL);
        return false;
    }
    if (r->raw_body_len == 0) {
        problem_send(r, 400, "A JSON body is required.", NULL);
        return false;
    }
    json_error_t jerr;
    r->body = json_loadb(r->raw_body, r->raw_body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!r->body) {
        char detail[200];
        snprintf(detail, sizeof detail, "Malformed JSON at line %d, column %d.", jerr.line,
                 jerr.column);
        problem_send(r, 400, detail, NULL);
        return false;
    }
    if (json_too_deep(r->body, 1)) {
        problem_send(r, 400, "The JSON body is nested too deeply.", NULL);
        return false;
    }
    return true;
}

/* The request's Origin when LDA_CORS_ORIGINS lists it (or lists "*"), else NULL. */
static const char *cors_origin(const lda_req *r)
{
    const char *origin = http_req_header(r, "Origin");
    const char *list = r->cfg->cors_origins;
    if (!origin || !list) return NULL;
    size_t n = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t len = strcspn(p, ",");
        size_t l = len;
        while (l && p[l - 1] == ' ') l--;
        if ((l == 1 && *p == '*') || (l == n && !strncmp(p, origin, n))) return origin;
        p += len;
    }
    return NULL;
}

/* CORS headers on every answer to an allowed origin; preflight requests answered here. */
static bool cors(lda_req *r)
{
    const char *origin = cors_origin(r);
    if (origin) {
        http_set_header(r, "Access-Control-Allow-Origin", origin);
        http_set_header(r, "Vary", "Origin");
        http_set_header(
            r, "Access-Control-Expose-Headers",
            "ETag, Location, X-Request-Id, Retry-After, Idempotent-Replayed, Content-Disposition");
    }
    if (strcmp(r->method, "OPTIONS")) return false;
    const lda_route *route = NULL;
    char *params[4] = {0}, allow[128];
    match_result m = route_match("GET", r->path, &route, params, allow, sizeof allow);
    for (int i = 0; i < 4; i++) free(params[i]);
    if (m == MATCH_NONE) return false; /* 404 below */
    if (m == MATCH_OK) snprintf(allow, sizeof allow, "GET, HEAD");
    /* every method of the path */
    char methods[128] = "";
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const lda_route *rt = NULL;
        char *pp[4] = {0}, al[128];
        if (route_match(ROUTES[i].method, r->path, &rt, pp, al, sizeof al) == MATCH_OK &&
            rt == &ROUTES[i] && !strstr(methods, ROUTES[i].method)) {
            size_t used = strlen(methods);
            snprintf(methods + used, sizeof methods - used, "%s%s", used ? ", " : "",
                     ROUTES[i].method);
        }
        for (int k = 0; k < 4; k++) free(pp[k]);
    }
    size_t used = strlen(methods);
    snprintf(methods + used, sizeof methods - used, "%sOPTIONS", used ? ", " : "");
    http_set_header(r, "Allow", methods);
    if (origin) {
        http_set_header(r, "Access-Control-Allow-Methods", methods);
        http_set_header(
            r, "Access-Control-Allow-Headers",
            "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-Id, Accept");
        http_set_header(r, "Access-Control-Max-Age", "600");
    }
    http_send_no_content(r);
    return true;
}

static int handle(lda_req *r)
{
    char allow[128];
    if (cors(r)) return -1;
    match_result m = route_match(r->method, r->path, &r->route, r->params, allow, sizeof allow);
    if (m == MATCH_NONE) {
        problem_send(r, 404, "No route matches this path.", NULL);
        return -1;
    }
    if (m == MATCH_WRONG_METHOD) {
        http_set_header(r, "Allow", allow);
        char detail[200];
        snprintf(detail, sizeof detail, "This path accepts %s.", allow);
        problem_send(r, 405, detail, NULL);
        return -1;
    }
    int index = (int)(r->route - ROUTES);
    if (!check_body_limit(r)) return index;

    lda_principal who;
    if (r->route->roles && !authenticate(r, &who)) return index;

    if (!query_parse(r->u->http_url, &r->query)) {
        problem_send(r, 400, "The query string is not well encoded.", NULL);
        return index;
    }
    json_t *errors = JCHECK(json_array());
    if (!query_check(&r->query, r->route->query, errors)) {
        problem_send(r, 422, "Some query parameters are not valid.", errors);
        return index;
    }
    json_decref(errors);
    if (!parse_body(r)) return index;
    r->route->handler(r);
    r->who = NULL; /* `who` lives on this stack frame */
    return index;
}

static int dispatch(const struct _u_request *u, struct _u_response *res, void *data)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_inflight_add(1);

    lda_req r;
    memset(&r, 0, sizeof r);
    r.u = u;
    r.res = res;
    r.cfg = data;
    r.method = u->http_verb ? u->http_verb : "";
    r.path = u->url_path ? u->url_path : "/";
    r.raw_body = u->binary_body;
    r.raw_body_len = u->binary_body_length;
    set_request_id(&r);
    http_set_header(&r, "X-Request-Id", r.request_id);
    http_set_header(&r, "Cache-Control", "no-store");
    if (atomic_load(&shutting_down)) http_set_header(&r, "Connection", "close");

    int index = handle(&r);
    if (!r.status) problem_send(&r, 500, NULL, NULL);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    metrics_observe(index, r.status, secs);
    if (log_enabled(LOG_INFO))
        log_json(LOG_INFO, "request",
                 json_pack("{s:s, s:s, s:s, s:i, s:f}", "request_id", r.request_id, "method",
                           r.method, "route", r.route ? r.route->pattern : "unmatched", "status",
                           r.status, "duration_ms", secs * 1000.0));
    for (int i = 0; i < 4; i++) free(r.params[i]);
    query_free(&r.query);
    json_decref(r.body);
    metrics_inflight_add(-1);
    return U_CALLBACK_COMPLETE;
}

/* ---- start and shutdown ----------------------------------------------------------- */

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

int server_run(const lda_config *cfg)
{
    /* One malloc arena for all threads (glibc otherwise creates up to 8 per core as threads
     * contend, each keeping the size of its peak): resident memory follows the working set
     * instead of creeping up after the load has gone. MALLOC_ARENA_MAX, when set, wins. */
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);

    struct _u_instance inst;
    if (ulfius_init_instance(&inst, ntohs(cfg->listen_addr.sin_port), NULL, NULL) != U_OK) {
        log_error("cannot initialise the HTTP server");
        return 1;
    }
    /* ulfius truncates silently at this size: one byte more than the largest body any route
     * accepts (single-record or batch, whichever limit is higher) lets check_body_limit()
     * see the overflow and answer 413. */
    long largest =
        cfg->max_batch_bytes > cfg->max_body_bytes ? cfg->max_batch_bytes : cfg->max_body_bytes;
    inst.max_post_body_size = (size_t)largest + 1;
    inst.check_utf8 = 0; /* we validate ourselves; ulfius would drop values silently */
    inst.allowed_post_processor = U_POST_PROCESS_NONE;
    ulfius_set_default_endpoint(&inst, dispatch, (void *)cfg);

    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL}, /* first, to catch everything */
        /* ulfius's own callbacks, wrapped so that a long poll can find its connection */
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)longpoll_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)longpoll_uri_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)&cfg->listen_addr},
        {MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip, NULL},
        /* per connection: headers and the read buffer (bodies go to ulfius in pieces); 64 KB
         * keeps 256 connections within ~16 MB (128 KB cost ~50 MB of RSS in total) */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME; /* long polls (http/longpoll.c) */
    if (ulfius_start_framework_with_mhd_options(&inst, flags, ops) != U_OK) {
        log_json(LOG_ERROR, "cannot listen", json_pack("{s:s}", "listen", cfg->listen));
        ulfius_clean_instance(&inst);
        return 1;
    }
    log_json(LOG_INFO, "listening",
             json_pack("{s:s, s:I, s:I}", "listen", cfg->listen, "threads",
                       (json_int_t)cfg->threads, "db_pool", (json_int_t)cfg->db_pool));

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

    atomic_store(&shutting_down, true);
    MHD_socket lsock = MHD_quiesce_daemon(inst.mhd_daemon);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
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
    ulfius_stop_framework(&inst);
    ulfius_clean_instance(&inst);
    log_info("stopped");
    return 0;
}
