/* Operational routes: liveness, readiness, metrics and the OpenAPI document. */
#include "http/metrics.h"
#include "resources/resource.h"
#include "store/embedded.h"
#include "store/migrate.h"
#include "store/platform.h"

#include <stdio.h>
#include <stdlib.h>

void healthz_get(lda_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_send_json_text(r, 200, body, sizeof body - 1);
}

void readyz_get(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    int version = 0;
    lda_err e = schema_version(c, &version);
    db_release(c);
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
