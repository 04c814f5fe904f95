/*
 * The routing table: every route of the service, in one place. roles = 0 is public.
 * Keep it in the order of openapi.yaml.
 */
#include "resources/route_table.h"
#include "resources/resource.h"

static const char *const FORMATS[] = {"json", "csv", NULL};
static const char *const GRANULARITIES[] = {"month", "quarter", "year", NULL};
static const char *const COHORT_GRANULARITIES[] = {"quarter", "year", NULL};
static const char *const AUDIT_TYPES[] = {"household",
                                          "referral",
                                          "measure",
                                          "siao_request",
                                          "token",
                                          "partner",
                                          "prevention_case",
                                          "prevention_action",
                                          "prevention_follow_up",
                                          "housing_offer",
                                          "placement",
                                          "fluidity_meeting",
                                          "retention",
                                          NULL};

/* limit and cursor; `kind` (a qcursor) says what the list's cursor holds: its sort key, id */
#define Q_PAGE(kind)                                                                               \
    {"limit", Q_LONG, 1, 500, NULL, false, NULL}, { "cursor", Q_CURSOR, kind, 0, NULL, false, NULL }

static const qparam Q_FUNDING[] = {{"ami", Q_LONG, 1, 2, NULL, false, NULL}, QPARAM_END};
static const qparam Q_TOKENS[] = {Q_PAGE(QC_TIME_UUID), QPARAM_END};
static const qparam Q_EVENTS[] = {Q_PAGE(QC_INT_INT), QPARAM_END};
static const qparam Q_MEASURES[] = {Q_PAGE(QC_DATE_UUID), QPARAM_END};
static const qparam Q_PARTNERS[] = {Q_PAGE(QC_TEXT_UUID),
                                    {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                    {"kind", Q_CODE, 0, 0, "partner_kind", false, NULL},
                                    QPARAM_END};
static const qparam Q_HOUSEHOLDS[] = {Q_PAGE(QC_TIME_UUID),
                                      {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                      {"updated_since", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                      QPARAM_END};
static const qparam Q_REFERRALS[] = {Q_PAGE(QC_TIME_UUID),
                                     {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                     {"status", Q_CODE, 0, 0, "referral_status", false, NULL},
                                     {"partner", Q_UUID, 0, 0, NULL, false, NULL},
                                     {"household", Q_UUID, 0, 0, NULL, false, NULL},
                                     {"received_from", Q_DATE, 0, 0, NULL, false, NULL},
                                     {"received_to", Q_DATE, 0, 0, NULL, false, NULL},
                                     {"updated_since", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                     QPARAM_END};

/* eviction prevention and the housing offer */
static const qparam Q_RULES[] = {
    Q_PAGE(QC_DATE_UUID), {"ami", Q_LONG, 1, 2, NULL, false, NULL}, QPARAM_END};
static const qparam Q_CASES[] = {Q_PAGE(QC_TIME_UUID),
                                 {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                 {"stage", Q_CODE, 0, 0, "procedure_stage", false, NULL},
                                 {"household", Q_UUID, 0, 0, NULL, false, NULL},
                                 {"updated_since", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                 QPARAM_END};
static const qparam Q_STAGES[] = {Q_PAGE(QC_INT_INT), QPARAM_END};
static const qparam Q_ACTIONS[] = {Q_PAGE(QC_DATE_UUID), QPARAM_END};
static const qparam Q_FOLLOW_UPS[] = {Q_PAGE(QC_INT_INT), QPARAM_END};
static const qparam Q_OFFERS[] = {Q_PAGE(QC_TIME_UUID),
                                  {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                  {"kind", Q_CODE, 0, 0, "housing_offer_kind", false, NULL},
                                  {"typology", Q_CODE, 0, 0, "typology", false, NULL},
                                  {"available_on", Q_DATE, 0, 0, NULL, false, NULL},
                                  {"updated_since", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                  QPARAM_END};
static const qparam Q_PLACEMENTS[] = {Q_PAGE(QC_TIME_UUID),
                                      {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                      {"offer", Q_UUID, 0, 0, NULL, false, NULL},
                                      {"referral", Q_UUID, 0, 0, NULL, false, NULL},
                                      {"current", Q_BOOL, 0, 0, NULL, false, NULL},
                                      {"updated_since", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                      QPARAM_END};
static const qparam Q_MEETINGS[] = {Q_PAGE(QC_DATE_UUID),
                                    {"platform", Q_CODE, 0, 0, "platform", false, NULL},
                                    {"held_from", Q_DATE, 0, 0, NULL, false, NULL},
                                    {"held_to", Q_DATE, 0, 0, NULL, false, NULL},
                                    QPARAM_END};

static const qparam Q_BATCH[] = {{"atomic", Q_BOOL, 0, 0, NULL, false, NULL},
                                 {"source", Q_STRING, 0, 0, NULL, false, NULL},
                                 QPARAM_END};
static const qparam Q_SIAO[] = {Q_PAGE(QC_TIME_UUID),
                                {"source", Q_STRING, 0, 0, NULL, false, NULL},
                                {"updated_since", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                QPARAM_END};

#define Q_STATS_COMMON                                                                             \
    {"from", Q_DATE, 0, 0, NULL, false, NULL}, {"to", Q_DATE, 0, 0, NULL, false, NULL},            \
        {"platform", Q_CODE, 0, 0, "platform", false, NULL},                                       \
        {"ami", Q_LONG, 1, 2, NULL, false, NULL},                                                  \
    {                                                                                              \
        "format", Q_CHOICE, 0, 0, NULL, false, FORMATS                                             \
    }
static const qparam Q_ACTIVITY[] = {Q_STATS_COMMON, QPARAM_END};
static const qparam Q_YOUTH[] = {
    Q_STATS_COMMON, {"age_band", Q_CODE, 0, 0, "age_band", false, NULL}, QPARAM_END};
static const qparam Q_SERIES[] = {Q_STATS_COMMON,
                                  {"age_band", Q_CODE, 0, 0, "age_band", false, NULL},
                                  {"granularity", Q_CHOICE, 0, 0, NULL, false, GRANULARITIES},
                                  QPARAM_END};
static const qparam Q_OUTCOMES[] = {
    Q_STATS_COMMON, {"granularity", Q_CHOICE, 0, 0, NULL, false, COHORT_GRANULARITIES}, QPARAM_END};

/* the change feed and webhooks */
static const qparam Q_CHANGES[] = {{"after", Q_CURSOR, QC_INT_INT, 0, NULL, false, NULL},
                                   {"types", Q_STRING, 0, 0, NULL, true, NULL},
                                   {"limit", Q_LONG, 1, 500, NULL, false, NULL},
                                   {"wait", Q_LONG, 0, 60, NULL, false, NULL},
                                   QPARAM_END};
static const qparam Q_WEBHOOKS[] = {Q_PAGE(QC_TIME_UUID), QPARAM_END};
static const qparam Q_ROTATE[] = {{"overlap_seconds", Q_LONG, 0, 604800, NULL, false, NULL},
                                  QPARAM_END};
static const qparam Q_DELIVERIES[] = {
    Q_PAGE(QC_INT_INT), {"state", Q_CODE, 0, 0, "webhook_delivery_state", false, NULL}, QPARAM_END};

#define CASE  (ROLE_ADMIN | ROLE_COORDINATOR)
#define STATS (ROLE_ADMIN | ROLE_COORDINATOR | ROLE_ANALYST)
#define PUSH  (ROLE_ADMIN | ROLE_SIAO)
#define FEED  (ROLE_ADMIN | ROLE_COORDINATOR | ROLE_PARTNER | ROLE_SIAO)
static const qparam Q_AUDIT[] = {Q_PAGE(QC_INT_INT),
                                 {"token_id", Q_UUID, 0, 0, NULL, false, NULL},
                                 {"resource_type", Q_CHOICE, 0, 0, NULL, false, AUDIT_TYPES},
                                 {"resource_id", Q_UUID, 0, 0, NULL, false, NULL},
                                 {"from", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                 {"to", Q_TIMESTAMP, 0, 0, NULL, false, NULL},
                                 QPARAM_END};

const lda_route ROUTES[] = {
    {"GET", "/healthz", 0, BODY_NONE, NULL, healthz_get},
    {"GET", "/readyz", 0, BODY_NONE, NULL, readyz_get},
    {"GET", "/metrics", ROLE_ADMIN, BODY_NONE, NULL, metrics_get}, /* open on LDA_METRICS_LISTEN */
    {"GET", "/openapi.yaml", 0, BODY_NONE, NULL, openapi_get},
    {"GET", "/docs", 0, BODY_NONE, NULL, docs_get},
    {"GET", "/observatory", 0, BODY_NONE, NULL, observatory_page_get},
    {"GET", "/prevention", 0, BODY_NONE, NULL, prevention_page_get},
    {"GET", "/housing", 0, BODY_NONE, NULL, housing_page_get},
    {"GET", "/outcomes", 0, BODY_NONE, NULL, outcomes_page_get},
    {"GET", "/assets/{name}", 0, BODY_NONE, NULL, assets_get},
    {"GET", "/vendor/{name}", 0, BODY_NONE, NULL, vendor_get},
    {"GET", "/v1/vocabularies", 0, BODY_NONE, NULL, vocabularies_get},
    {"GET", "/v1/platforms", 0, BODY_NONE, NULL, platforms_list},
    {"GET", "/v1/platforms/{code}", 0, BODY_NONE, NULL, platforms_get},
    {"GET", "/v1/funding", 0, BODY_NONE, Q_FUNDING, funding_list},
    {"POST", "/v1/tokens", ROLE_ADMIN, BODY_JSON, NULL, tokens_create},
    {"GET", "/v1/tokens", ROLE_ADMIN, BODY_NONE, Q_TOKENS, tokens_list},
    {"DELETE", "/v1/tokens/{id}", ROLE_ADMIN, BODY_NONE, NULL, tokens_revoke},
    {"GET", "/v1/audit-events", ROLE_ADMIN, BODY_NONE, Q_AUDIT, audit_events_list},
    {"GET", "/v1/partners", CASE | ROLE_PARTNER, BODY_NONE, Q_PARTNERS, partners_list},
    {"POST", "/v1/partners", CASE, BODY_JSON, NULL, partners_create},
    {"GET", "/v1/partners/{id}", CASE | ROLE_PARTNER, BODY_NONE, NULL, partners_get},
    {"PATCH", "/v1/partners/{id}", CASE, BODY_JSON, NULL, partners_patch},
    {"POST", "/v1/households/batch", PUSH, BODY_BATCH, Q_BATCH, households_batch},
    {"GET", "/v1/households", CASE | ROLE_SIAO, BODY_NONE, Q_HOUSEHOLDS, households_list},
    {"POST", "/v1/households", CASE, BODY_JSON, NULL, households_create},
    {"GET", "/v1/households/{id}", CASE | ROLE_SIAO, BODY_NONE, NULL, households_get},
    {"PATCH", "/v1/households/{id}", CASE, BODY_JSON, NULL, households_patch},
    {"DELETE", "/v1/households/{id}", ROLE_ADMIN, BODY_NONE, NULL, households_delete},
    {"POST", "/v1/referrals/batch", PUSH, BODY_BATCH, Q_BATCH, referrals_batch},
    {"GET", "/v1/referrals", CASE | ROLE_PARTNER | ROLE_SIAO, BODY_NONE, Q_REFERRALS,
     referrals_list},
    {"POST", "/v1/referrals", CASE | ROLE_PARTNER, BODY_JSON, NULL, referrals_create},
    {"GET", "/v1/referrals/{id}", CASE | ROLE_PARTNER | ROLE_SIAO, BODY_NONE, NULL, referrals_get},
    {"PATCH", "/v1/referrals/{id}", CASE, BODY_JSON, NULL, referrals_patch},
    {"POST", "/v1/referrals/{id}/transitions", CASE, BODY_JSON, NULL, referrals_transition},
    {"GET", "/v1/referrals/{id}/events", CASE, BODY_NONE, Q_EVENTS, referrals_events},
    {"GET", "/v1/referrals/{id}/measures", CASE, BODY_NONE, Q_MEASURES, measures_list},
    {"POST", "/v1/referrals/{id}/measures", CASE, BODY_JSON, NULL, measures_create},
    {"GET", "/v1/measures/{id}", CASE, BODY_NONE, NULL, measures_get},
    {"PATCH", "/v1/measures/{id}", CASE, BODY_JSON, NULL, measures_patch},
    /* eviction prevention */
    {"GET", "/v1/prevention-rules", 0, BODY_NONE, Q_RULES, prevention_rules_list},
    {"POST", "/v1/prevention-rules", ROLE_ADMIN, BODY_JSON, NULL, prevention_rules_create},
    {"GET", "/v1/prevention-rules/{id}", 0, BODY_NONE, NULL, prevention_rules_get},
    {"PATCH", "/v1/prevention-rules/{id}", ROLE_ADMIN, BODY_JSON, NULL, prevention_rules_patch},
    {"POST", "/v1/prevention-cases/batch", PUSH, BODY_BATCH, Q_BATCH, prevention_cases_batch},
    {"GET", "/v1/prevention-cases", CASE | ROLE_PARTNER | ROLE_SIAO, BODY_NONE, Q_CASES,
     prevention_cases_list},
    {"POST", "/v1/prevention-cases", CASE | ROLE_PARTNER, BODY_JSON, NULL, prevention_cases_create},
    {"GET", "/v1/prevention-cases/{id}", CASE | ROLE_PARTNER | ROLE_SIAO, BODY_NONE, NULL,
     prevention_cases_get},
    {"PATCH", "/v1/prevention-cases/{id}", CASE, BODY_JSON, NULL, prevention_cases_patch},
    {"GET", "/v1/prevention-cases/{id}/stages", CASE, BODY_NONE, Q_STAGES, prevention_stages_list},
    {"POST", "/v1/prevention-cases/{id}/stages", CASE, BODY_JSON, NULL, prevention_stages_create},
    {"GET", "/v1/prevention-cases/{id}/actions", CASE, BODY_NONE, Q_ACTIONS,
     prevention_actions_list},
    {"POST", "/v1/prevention-cases/{id}/actions", CASE, BODY_JSON, NULL, prevention_actions_create},
    {"GET", "/v1/prevention-cases/{id}/follow-ups", CASE, BODY_NONE, Q_FOLLOW_UPS,
     prevention_follow_ups_list},
    {"POST", "/v1/prevention-cases/{id}/follow-ups", CASE, BODY_JSON, NULL,
     prevention_follow_ups_create},
    {"POST", "/v1/prevention-actions/batch", PUSH, BODY_BATCH, Q_BATCH, prevention_actions_batch},
    {"GET", "/v1/prevention-actions/{id}", CASE, BODY_NONE, NULL, prevention_actions_get},
    {"PATCH", "/v1/prevention-actions/{id}", CASE, BODY_JSON, NULL, prevention_actions_patch},
    {"POST", "/v1/prevention-follow-ups/batch", PUSH, BODY_BATCH, Q_BATCH,
     prevention_follow_ups_batch},
    /* the housing offer */
    {"POST", "/v1/housing-offers/batch", PUSH, BODY_BATCH, Q_BATCH, housing_offers_batch},
    {"GET", "/v1/housing-offers", CASE | ROLE_SIAO, BODY_NONE, Q_OFFERS, housing_offers_list},
    {"POST", "/v1/housing-offers", CASE, BODY_JSON, NULL, housing_offers_create},
    {"GET", "/v1/housing-offers/{id}", CASE | ROLE_SIAO, BODY_NONE, NULL, housing_offers_get},
    {"PATCH", "/v1/housing-offers/{id}", CASE, BODY_JSON, NULL, housing_offers_patch},
    {"POST", "/v1/placements/batch", PUSH, BODY_BATCH, Q_BATCH, placements_batch},
    {"GET", "/v1/placements", CASE | ROLE_SIAO, BODY_NONE, Q_PLACEMENTS, placements_list},
    {"POST", "/v1/placements", CASE, BODY_JSON, NULL, placements_create},
    {"GET", "/v1/placements/{id}", CASE | ROLE_SIAO, BODY_NONE, NULL, placements_get},
    {"PATCH", "/v1/placements/{id}", CASE, BODY_JSON, NULL, placements_patch},
    {"GET", "/v1/fluidity-meetings", CASE, BODY_NONE, Q_MEETINGS, fluidity_meetings_list},
    {"POST", "/v1/fluidity-meetings", CASE, BODY_JSON, NULL, fluidity_meetings_create},
    {"GET", "/v1/fluidity-meetings/{id}", CASE, BODY_NONE, NULL, fluidity_meetings_get},
    {"PATCH", "/v1/fluidity-meetings/{id}", CASE, BODY_JSON, NULL, fluidity_meetings_patch},
    {"POST", "/v1/siao-requests/batch", PUSH, BODY_BATCH, Q_BATCH, siao_requests_batch},
    {"GET", "/v1/siao-requests", PUSH, BODY_NONE, Q_SIAO, siao_requests_list},
    {"GET", "/v1/stats/activity", STATS, BODY_NONE, Q_ACTIVITY, stats_activity_get},
    {"GET", "/v1/stats/outcomes", STATS, BODY_NONE, Q_OUTCOMES, stats_outcomes_get},
    {"GET", "/v1/observatory/youth", STATS, BODY_NONE, Q_YOUTH, observatory_youth_get},
    {"GET", "/v1/observatory/youth/series", STATS, BODY_NONE, Q_SERIES, observatory_series_get},
    {"GET", "/v1/stats/prevention", STATS, BODY_NONE, Q_ACTIVITY, stats_prevention_get},
    {"GET", "/v1/stats/housing", STATS, BODY_NONE, Q_ACTIVITY, stats_housing_get},
    {"GET", "/v1/changes", FEED, BODY_NONE, Q_CHANGES, changes_get},
    {"POST", "/v1/webhooks", FEED, BODY_JSON, NULL, webhooks_create},
    {"GET", "/v1/webhooks", FEED, BODY_NONE, Q_WEBHOOKS, webhooks_list},
    {"GET", "/v1/webhooks/{id}", FEED, BODY_NONE, NULL, webhooks_get},
    {"PATCH", "/v1/webhooks/{id}", FEED, BODY_JSON, NULL, webhooks_patch},
    {"DELETE", "/v1/webhooks/{id}", FEED, BODY_NONE, NULL, webhooks_delete},
    {"POST", "/v1/webhooks/{id}/rotate-secret", FEED, BODY_NONE, Q_ROTATE, webhooks_rotate},
    {"GET", "/v1/webhooks/{id}/deliveries", FEED, BODY_NONE, Q_DELIVERIES, webhooks_deliveries},
    {"POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/replay", FEED, BODY_NONE, NULL,
     webhooks_replay},
};

const size_t ROUTE_COUNT = sizeof ROUTES / sizeof ROUTES[0];
