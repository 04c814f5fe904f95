/*
 * The routing table: every route of the service, in one place. roles = 0 is public.
 * Keep it in the order of openapi.yaml.
 */
#include "http/route.h"
#include "resources/resource.h"

static const qparam Q_FUNDING[] = {{"ami", Q_LONG, 1, 2, NULL, false}, QPARAM_END};

const lda_route ROUTES[] = {
    {"GET", "/healthz", 0, BODY_NONE, NULL, healthz_get},
    {"GET", "/readyz", 0, BODY_NONE, NULL, readyz_get},
    {"GET", "/metrics", 0, BODY_NONE, NULL, metrics_get},
    {"GET", "/openapi.yaml", 0, BODY_NONE, NULL, openapi_get},
    {"GET", "/v1/vocabularies", 0, BODY_NONE, NULL, vocabularies_get},
    {"GET", "/v1/platforms", 0, BODY_NONE, NULL, platforms_list},
    {"GET", "/v1/platforms/{code}", 0, BODY_NONE, NULL, platforms_get},
    {"GET", "/v1/funding", 0, BODY_NONE, Q_FUNDING, funding_list},
};

const size_t ROUTE_COUNT = sizeof ROUTES / sizeof ROUTES[0];
