/*
 * route — what a route is and how a request finds its route. The one routing table
 * (resources/routes.c) names every route: method, path pattern, the roles it allows
 * (0 = public), its body kind, the query parameters it accepts and its handler; main hands
 * it to the server at start-up (route_table_set), so HTTP knows no handler by name.
 */
#ifndef LDA_HTTP_ROUTE_H
#define LDA_HTTP_ROUTE_H

#include "http/query.h"
#include "http/request.h"

typedef enum { BODY_NONE, BODY_JSON, BODY_BATCH } body_kind;

typedef void (*lda_handler)(lda_req *r);

typedef struct lda_route {
    const char *method;
    const char *pattern; /* "/v1/platforms/{code}" */
    unsigned roles;      /* role_bit mask; 0: public */
    body_kind body;
    const qparam *query; /* accepted query parameters; NULL: none */
    lda_handler handler;
} lda_route;

/* Installs the routing table (before the server starts; kept, not copied). */
void route_table_set(const lda_route *routes, size_t count);
/* The table installed, and its size. */
const lda_route *route_table(size_t *count);

typedef enum { MATCH_NONE, MATCH_OK, MATCH_WRONG_METHOD } match_result;

/*
 * Finds the route of the installed table for method + path. On MATCH_OK *route is set and params[]
 * receive copies of the path parameters (caller frees). On MATCH_WRONG_METHOD, `allow` receives the
 * comma-separated methods the path accepts.
 */
match_result route_match(const char *method, const char *path, const lda_route **route,
                         char *params[4], char *allow, size_t allowlen);

#endif
