/*
 * route_table — THE routing table: every route of the service (method, pattern, roles,
 * body kind, query parameters, handler), in the order of openapi.yaml. main hands it to the
 * server (http/server.h) at start-up.
 */
#ifndef LDA_RESOURCES_ROUTE_TABLE_H
#define LDA_RESOURCES_ROUTE_TABLE_H

#include "http/route.h"

extern const lda_route ROUTES[];
extern const size_t ROUTE_COUNT;

#endif
