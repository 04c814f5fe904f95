/* Operational routes: liveness, readiness, metrics and the OpenAPI document. */
#include "http/metrics.h"
#include "resources/resource.h"
#include "store/embedded.h"
#include "store/migrate.h"
#include "store/platform.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void healthz_get(lda_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_send_json_text(r, 200, body, sizeof body - 1);
}

/* Readiness is asked by load balancers, often, without a token: a success is kept
 * READY_CACHE_MS, so that polling it costs the pool at most one round trip a second. A
 * failure is not kept: the next request asks again (the pool lets one attempt at a time
 * reach a database that is down), so readiness comes back as soon as the database does. */
#define READY_CACHE_MS 1000

static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool ok;
    int version;
    int64_t at_ms;
} ready;

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static lda_err schema_version_cached(int *version)
{
    pthread_mutex_lock(&ready_mu);
    bool fresh = ready.ok && mono_ms() - ready.at_ms < READY_CACHE_MS;
    *version = ready.version;
    pthread_mutex_unlock(&ready_mu);
    if (fresh) return LDA_OK;
    db_conn *c = NULL;
    lda_err e = db_acquire(&c);
    if (!e) {
        e = schema_version(c, version);
        db_release(c);
    }
    pthread_mutex_lock(&ready_mu);
    ready.ok = !e;
    ready.version = *version;
    ready.at_ms = mono_ms();
    pthread_mutex_unlock(&ready_mu);
    return e;
}

void readyz_get(lda_req *r)
{
    int version = 0;
    lda_err e = schema_version_cached(&version);
    if (e) {
        problem_send(r, 503, "The database is not reachable.", NULL);
        return;
    }
    int expected = migrate_expected_version();
    if (version < expected) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "The database schema is at version %d; this build needs %d: run lda-api migrate.",
                 version, expected);
        problem_send(r, 503, detail, NULL);
        return;
    }
    char body[80];
    int n = snprintf(body, sizeof body, "{\"status\":\"ready\",\"schema_version\":%d}", version);
    http_send_json_text(r, 200, body, (size_t)n);
}

void metrics_get(lda_req *r)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    http_send_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

void openapi_get(lda_req *r)
{
    http_send_body(r, 200, "application/yaml", EMBEDDED_OPENAPI, EMBEDDED_OPENAPI_LEN);
}
