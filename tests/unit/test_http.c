/* http/query, http/route, http/problem: request parsing and error rendering, no socket. */
#include "check.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/route.h"
#include "resources/route_table.h"

#include <stdlib.h>

TEST(query_is_decoded_strictly)
{
    qlist q;
    CHECK(query_parse("/v1/x?platform=artois&name=L%C3%A9a+D&empty=", &q));
    CHECK(q.count == 3);
    CHECK_STR(query_get(&q, "platform"), "artois");
    CHECK_STR(query_get(&q, "name"), "Léa D");
    CHECK_STR(query_get(&q, "empty"), "");
    query_free(&q);
    CHECK(!query_parse("/v1/x?a=%ZZ", &q));
    CHECK(!query_parse("/v1/x?a=%00", &q));
    CHECK(!query_parse("/v1/x?a=%C3", &q)); /* truncated UTF-8 */
    CHECK(!query_parse("/v1/x?a=%2", &q));
    CHECK(query_parse("/v1/x", &q) && q.count == 0);
    query_free(&q);
}

TEST(query_check_lists_every_problem)
{
    static const qparam spec[] = {{"limit", Q_LONG, 1, 500, NULL, false, NULL},
                                  {"platform", Q_CODE, 0, 0, "platform", true, NULL},
                                  {"from", Q_DATE, 0, 0, NULL, false, NULL},
                                  QPARAM_END};
    qlist q;
    json_t *errors = json_array();
    CHECK(query_parse("/x?limit=100000&platform=artois&platform=paris&from=2023-02-30&x=1&limit=2",
                      &q));
    CHECK(!query_check(&q, spec, errors));
    CHECK(json_array_size(errors) == 5); /* limit range, paris, from, x, limit twice */
    CHECK_STR(query_get_nth(&q, "platform", 1), "paris");
    json_decref(errors);
    query_free(&q);
    errors = json_array();
    CHECK(query_parse("/x?limit=500&platform=artois&platform=lens_henin", &q));
    CHECK(query_check(&q, spec, errors) && json_array_size(errors) == 0);
    json_decref(errors);
    query_free(&q);
}

TEST(routes_match_and_report_allowed_methods)
{
    const lda_route *route = NULL;
    char *params[4] = {0}, allow[128];
    CHECK(route_match("GET", "/v1/platforms/artois", &route, params, allow, sizeof allow) ==
          MATCH_OK);
    CHECK_STR(route->pattern, "/v1/platforms/{code}");
    CHECK_STR(params[0], "artois");
    free(params[0]);
    params[0] = NULL;
    CHECK(route_match("HEAD", "/v1/platforms", &route, params, allow, sizeof allow) == MATCH_OK);
    CHECK(route_match("DELETE", "/v1/platforms", &route, params, allow, sizeof allow) ==
          MATCH_WRONG_METHOD);
    CHECK_STR(allow, "GET, HEAD");
    CHECK(route_match("GET", "/v1/platforms/", &route, params, allow, sizeof allow) == MATCH_NONE);
    CHECK(route_match("GET", "/v1/platforms/a/b", &route, params, allow, sizeof allow) ==
          MATCH_NONE);
    CHECK(route_match("GET", "/nope", &route, params, allow, sizeof allow) == MATCH_NONE);
}

TEST(no_table_no_route)
{
    const lda_route *route = NULL;
    char *params[4] = {0}, allow[128];
    size_t n = 1;
    route_table_set(NULL, 0);
    CHECK(route_table(&n) == NULL && n == 0);
    CHECK(route_match("GET", "/v1/platforms", &route, params, allow, sizeof allow) == MATCH_NONE);
    route_table_set(ROUTES, ROUTE_COUNT);
    CHECK(route_table(&n) == ROUTES && n == ROUTE_COUNT);
    CHECK(route_match("GET", "/v1/platforms", &route, params, allow, sizeof allow) == MATCH_OK);
}

TEST(every_route_is_unique)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        for (size_t k = i + 1; k < ROUTE_COUNT; k++)
            CHECK(strcmp(ROUTES[i].method, ROUTES[k].method) ||
                  strcmp(ROUTES[i].pattern, ROUTES[k].pattern));
}

TEST(problems_follow_rfc9457)
{
    json_t *errors =
        json_pack("[{s:s, s:s}]", "field", "/head/birth_date", "message", "must be a date");
    json_t *p =
        problem_build(422, "The household is not valid.", "/v1/households", "rid-1", errors);
    CHECK_STR(json_string_value(json_object_get(p, "type")), "/problems/validation");
    CHECK_STR(json_string_value(json_object_get(p, "title")), "Validation failed");
    CHECK(json_integer_value(json_object_get(p, "status")) == 422);
    CHECK_STR(json_string_value(json_object_get(p, "instance")), "/v1/households");
    CHECK_STR(json_string_value(json_object_get(p, "request_id")), "rid-1");
    CHECK(json_array_size(json_object_get(p, "errors")) == 1);
    json_decref(p);
    p = problem_build(503, NULL, NULL, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(p, "type")), "/problems/unavailable");
    CHECK(json_string_length(json_object_get(p, "detail")) > 0);
    json_decref(p);
    CHECK(problem_status(LDA_ENOTFOUND) == 404 && problem_status(LDA_EPRECONDITION) == 412);
    CHECK(problem_status(LDA_EDB) == 500 && problem_status(LDA_EUNAVAILABLE) == 503);
}

int main(void)
{
    route_table_set(ROUTES, ROUTE_COUNT); /* as main hands it to the server */
    RUN(query_is_decoded_strictly);
    RUN(query_check_lists_every_problem);
    RUN(routes_match_and_report_allowed_methods);
    RUN(no_table_no_route);
    RUN(every_route_is_unique);
    RUN(problems_follow_rfc9457);
    return check_summary();
}
