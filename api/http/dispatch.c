/*
 * The middleware chain (see dispatch.h). Order matters and is fixed: nothing that costs
 * memory or a database round trip happens before what refuses a request for free.
 */
#include "http/dispatch.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/parse.h"
#include "http/auth.h"
#include "http/metrics.h"
#include "http/problem.h"
#include "http/route.h"

#include <ctype.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_MAX_DEPTH 32

static atomic_bool shutting_down;
static bool (*admit)(void); /* false: authenticated requests wait (the audit queue is full) */

void dispatch_set_admission(bool (*fn)(void)) { admit = fn; }

void dispatch_set_shutting_down(void) { atomic_store(&shutting_down, true); }

/* ---- before the body ------------------------------------------------------------------ */

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

/* True when the Content-Type is `want` (parameters such as charset=utf-8 allowed). */
static bool content_type_is(const char *ct, const char *want)
{
    if (!ct) return false;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n)) return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static bool is_write(const lda_req *r)
{
    return !strcmp(r->method, "POST") || !strcmp(r->method, "PATCH") || !strcmp(r->method, "PUT");
}

/* The body this route accepts here: batch routes take LDA_MAX_BATCH_BYTES, on the batch
 * listener when there is one (on the main listener they then take what single-record routes
 * take); every other route LDA_MAX_BODY_BYTES (a route that takes no body reads none and
 * discards up to that much). */
static size_t body_limit(const lda_req *r)
{
    const lda_config *cfg = r->cfg;
    bool batch_here = r->listener == LISTEN_BATCH || !cfg->batch_listen;
    if (r->route->body == BODY_BATCH && batch_here) return (size_t)cfg->max_batch_bytes;
    return (size_t)cfg->max_body_bytes;
}

/* The body's framing: a Content-Length that is a number, and never with Transfer-Encoding
 * (the two together are how requests are smuggled past proxies). */
static bool check_framing(lda_req *r)
{
    const char *cl = http_req_header(r, "Content-Length");
    const char *te = http_req_header(r, "Transfer-Encoding");
    long declared = 0;
    if (cl && !parse_long(cl, 0, LONG_MAX, &declared)) {
        problem_send(r, 400, "The Content-Length header is not a number.", NULL);
        return false;
    }
    if (cl && te) {
        problem_send(r, 400, "Content-Length and Transfer-Encoding may not come together.", NULL);
        return false;
    }
    r->body_expected = declared > 0 || te != NULL;
    r->body_limit = body_limit(r);
    r->body_kept = r->route->body != BODY_NONE && is_write(r);
    return true;
}

/* Limits that the headers alone decide, before any byte of the body is read. */
static bool check_declared_body(lda_req *r)
{
    const char *cl = http_req_header(r, "Content-Length");
    long declared = 0;
    if (cl) parse_long(cl, 0, LONG_MAX, &declared); /* checked by check_framing */
    if ((unsigned long)declared > r->body_limit) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "The request body is larger than this route accepts (%zu bytes at most%s).",
                 r->body_limit,
                 r->route->body == BODY_BATCH && r->body_limit == (size_t)r->cfg->max_body_bytes &&
                         r->cfg->batch_listen
                     ? " on this listener; batches take more on the batch listener"
                     : "");
        problem_send(r, 413, detail, NULL);
        return false;
    }
    if (!r->body_kept || !r->body_expected) return true;
    const char *ct = http_req_header(r, "Content-Type");
    bool json_ct = content_type_is(ct, "application/json");
    if (r->route->body == BODY_BATCH && !json_ct && !content_type_is(ct, "application/x-ndjson")) {
        problem_send(r, 415, "Send application/json or application/x-ndjson.", NULL);
        return false;
    }
    if (r->route->body == BODY_JSON && !json_ct) {
        problem_send(r, 415, "Send the body as application/json.", NULL);
        return false;
    }
    return true;
}

/* The RateLimit and RateLimit-Policy fields of the IETF httpapi draft (structured fields):
 * the policy is the token's bucket (q requests, refilled in w seconds), r what is left of
 * it, t the seconds until it is full again. */
static void set_rate_headers(lda_req *r, const auth_rate *rate)
{
    if (!rate->on) return;
    char v[96];
    snprintf(v, sizeof v, "\"token\";q=%ld;w=%ld", rate->quota, rate->window_s);
    http_set_header(r, "RateLimit-Policy", v);
    snprintf(v, sizeof v, "\"token\";r=%ld;t=%ld", rate->remaining, rate->reset_s);
    http_set_header(r, "RateLimit", v);
}

static bool authenticate(lda_req *r)
{
    int retry = 1;
    auth_rate rate;
    lda_err e = auth_authenticate(r, &r->principal, &rate, &retry);
    set_rate_headers(r, &rate);
    if (e == LDA_ERATELIMIT) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry);
        http_set_header(r, "Retry-After", v);
    }
    if (e) {
        problem_send_err(r, e, NULL);
        return false;
    }
    r->who = &r->principal;
    if (!(r->route->roles & r->who->role)) {
        problem_send(r, 403, NULL, NULL);
        return false;
    }
    return true;
}

/* The request's Origin when LDA_CORS_ORIGINS lists it, else NULL. */
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
        if (l == n && !strncmp(p, origin, n)) return origin;
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
        http_set_header(r, "Access-Control-Expose-Headers",
                        "ETag, Location, X-Request-Id, Retry-After, Idempotent-Replayed, "
                        "Content-Disposition, RateLimit, RateLimit-Policy");
    }
    if (strcmp(r->method, "OPTIONS")) return false;
    const lda_route *route = NULL;
    char *params[4] = {0}, allow[128];
    match_result m = route_match("GET", r->path, &route, params, allow, sizeof allow);
    for (int i = 0; i < 4; i++) free(params[i]);
    if (m == MATCH_NONE) return false; /* 404 below */
    /* every method of the path */
    char methods[128] = "";
    size_t nroutes;
    const lda_route *routes = route_table(&nroutes);
    for (size_t i = 0; i < nroutes; i++) {
        const lda_route *rt = NULL;
        char *pp[4] = {0}, al[128];
        if (route_match(routes[i].method, r->path, &rt, pp, al, sizeof al) == MATCH_OK &&
            rt == &routes[i] && !strstr(methods, routes[i].method)) {
            size_t used = strlen(methods);
            snprintf(methods + used, sizeof methods - used, "%s%s", used ? ", " : "",
                     routes[i].method);
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

/* The metrics listener serves /metrics (without a token) and /healthz, nothing else. */
static bool served_here(const lda_req *r)
{
    if (r->listener != LISTEN_METRICS) return true;
    return !strcmp(r->route->pattern, "/metrics") || !strcmp(r->route->pattern, "/healthz");
}

void dispatch_begin(lda_req *r)
{
    char allow[128];
    r->route_index = -1;
    set_request_id(r);
    http_set_header(r, "X-Request-Id", r->request_id);
    http_set_header(r, "Cache-Control", "no-store");
    http_set_header(r, "X-Content-Type-Options", "nosniff");
    if (atomic_load(&shutting_down)) http_set_header(r, "Connection", "close");

    if (r->listener != LISTEN_METRICS && cors(r)) return;
    match_result m = route_match(r->method, r->path, &r->route, r->params, allow, sizeof allow);
    if (m == MATCH_OK && !served_here(r)) m = MATCH_NONE;
    if (m == MATCH_NONE) {
        r->route = NULL;
        problem_send(r, 404, "No route matches this path.", NULL);
        return;
    }
    if (m == MATCH_WRONG_METHOD) {
        http_set_header(r, "Allow", allow);
        char detail[200];
        snprintf(detail, sizeof detail, "This path accepts %s.", allow);
        problem_send(r, 405, detail, NULL);
        return;
    }
    size_t nroutes;
    r->route_index = (int)(r->route - route_table(&nroutes));
    if (!check_framing(r)) return;
    if (r->route->roles && r->listener != LISTEN_METRICS && !authenticate(r)) return;
    if (!check_declared_body(r)) return;
    if (!query_parse(r->url, &r->query)) {
        problem_send(r, 400, "The query string is not well encoded.", NULL);
        return;
    }
    json_t *errors = JCHECK(json_array());
    if (!query_check(&r->query, r->route->query, errors)) {
        problem_send(r, 422, "Some query parameters are not valid.", errors);
        return;
    }
    json_decref(errors);
    /* Every authenticated operation may leave audit events: when the queue is full (the
     * database has not taken them for a while), push back rather than drop them. */
    if (r->who && admit && !admit()) {
        problem_send(r, 503, "The audit log is behind; retry shortly.", NULL);
        return;
    }
}

/* ---- after the body ------------------------------------------------------------------- */

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

static bool parse_body(lda_req *r)
{
    /* batch handlers parse their records themselves, one at a time */
    if (!r->body_kept || r->route->body != BODY_JSON) return true;
    if (r->raw_body_len == 0) {
        const char *ct = http_req_header(r, "Content-Type");
        if (!content_type_is(ct, "application/json")) {
            problem_send(r, 415, "Send the body as application/json.", NULL);
            return false;
        }
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

void dispatch_finish(lda_req *r)
{
    if (r->body_over || r->body_seen > r->body_limit) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "The request body is larger than this route accepts (%zu bytes at most).",
                 r->body_limit);
        problem_send(r, 413, detail, NULL);
        return;
    }
    if (r->body_kept && r->route->body == BODY_BATCH && r->raw_body_len == 0) {
        const char *ct = http_req_header(r, "Content-Type");
        if (!content_type_is(ct, "application/json") &&
            !content_type_is(ct, "application/x-ndjson")) {
            problem_send(r, 415, "Send application/json or application/x-ndjson.", NULL);
            return;
        }
    }
    if (!parse_body(r)) return;
    r->route->handler(r);
}

void dispatch_done(lda_req *r, const struct timespec *started)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs =
        (double)(t1.tv_sec - started->tv_sec) + (double)(t1.tv_nsec - started->tv_nsec) / 1e9;
    metrics_observe(r->route_index, r->status, secs);
    if (log_enabled(LOG_INFO))
        log_json(LOG_INFO, "request",
                 json_pack("{s:s, s:s, s:s, s:i, s:f}", "request_id", r->request_id, "method",
                           r->method, "route", r->route ? r->route->pattern : "unmatched", "status",
                           r->status, "duration_ms", secs * 1000.0));
    metrics_inflight_add(-1);
}

void dispatch_release(lda_req *r)
{
    for (int i = 0; i < 4; i++) {
        free(r->params[i]);
        r->params[i] = NULL;
    }
    query_free(&r->query);
    json_decref(r->body);
    r->body = NULL;
    r->who = NULL;
}
