/*
 * resource — the handlers (one file per resource) and the two steps every handler that
 * reads the database shares: lease a connection, answer a store result.
 */
#ifndef LDA_RESOURCES_RESOURCE_H
#define LDA_RESOURCES_RESOURCE_H

#include "http/problem.h"
#include "http/request.h"
#include "domain/schema.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/doc.h"

/* Leases a database connection with the caller's row-level-security scope set; on failure
 * answers 503 and returns NULL. */
db_conn *resource_db(lda_req *r);
/* The same from the read replica when LDA_DATABASE_URL_READ is set (statistics). */
db_conn *resource_db_read(lda_req *r);

/* Answers `status` with `json` (taken and freed) when e is LDA_OK, else the problem for e.
 * Releases `c` (may be NULL) first. */
void resource_answer(lda_req *r, db_conn *c, lda_err e, int status, char *json);

/* resource_answer for a list: LDA_EINVALID there can only come from a cursor whose content
 * PostgreSQL rejected, and answers 422 naming `cursor`. */
void resource_answer_list(lda_req *r, db_conn *c, lda_err e, char *json);

/* The caller's scope as a PostgreSQL text[] literal, or NULL for every platform: the one
 * value of the request (built once, when its token was read; core/identity.h), the same
 * that resource_db gives the connection's row-level security. */
const char *resource_scope(const lda_req *r);

/* True when path parameter i is a UUID; else answers 404 and returns false. */
bool resource_uuid_param(lda_req *r, int i);

/* True when the If-Match header is absent, "*", or lists the ETag of `version`;
 * else answers 412 and returns false. */
bool resource_if_match(lda_req *r, long version);

/* Answers a resource: ETag from d->version, Location prefix+id on 201; or the problem for
 * e. Releases c and frees d. */
void resource_send_doc(lda_req *r, db_conn *c, lda_err e, int status, char *json, long version,
                       const char *location_prefix);

/* 422 with the collected errors (stolen) when there are any: returns true when it answered. */
bool resource_invalid(lda_req *r, json_t *errors, const char *detail);

/* The caller as the audit log names it (token id, role, request id). */
audit_actor resource_actor(const lda_req *r);
/* Queues one audit event of the caller (store/audit.h: never fails, never drops). */
void resource_audit(const lda_req *r, const char *action, const char *resource_type,
                    const char *resource_id, int status);

/* Records one audit event per item id of a JSON list page (action "list"). */
void resource_audit_page(lda_req *r, const char *type, const char *page_json);

/*
 * The one PATCH flow: validate the patch against `fields`, read the stored resource in the
 * caller's scope (404), compare If-Match with its version (412), merge, apply the
 * resource's own rules to the merged result, write it guarded by the version read (412 if
 * it changed meanwhile), answer 200 with the new ETag, audit.
 */
typedef struct {
    const lda_field *fields;
    const char *what;       /* "partner": used in messages */
    const char *audit_type; /* NULL: not audited */
    lda_err (*load)(lda_req *r, db_conn *c, store_doc *d);
    /* Cross-field and permission rules on the merged resource: append to errors (422), or
     * answer another problem itself and return false. */
    bool (*check)(lda_req *r, db_conn *c, const json_t *stored, const json_t *merged,
                  json_t *errors);
    lda_err (*save)(lda_req *r, db_conn *c, const json_t *merged, long version, store_doc *out);
} patch_flow;
void resource_patch(lda_req *r, const patch_flow *f);

/* The validated ?limit= (default 50). */
int resource_limit(const lda_req *r);

/* health.c */
void healthz_get(lda_req *r);
void readyz_get(lda_req *r);
void metrics_get(lda_req *r);
void openapi_get(lda_req *r);
/* reference.c */
/* Loads the reference data into memory (start-up; a failure is retried by the first
 * request). */
void reference_load(const lda_config *cfg);
void platforms_list(lda_req *r);
void platforms_get(lda_req *r);
void funding_list(lda_req *r);
void vocabularies_get(lda_req *r);
/* tokens.c */
void tokens_create(lda_req *r);
void tokens_list(lda_req *r);
void tokens_revoke(lda_req *r);
void audit_events_list(lda_req *r);
/* partners.c */
void partners_list(lda_req *r);
void partners_create(lda_req *r);
void partners_get(lda_req *r);
void partners_patch(lda_req *r);
/* households.c */
void households_list(lda_req *r);
void households_create(lda_req *r);
void households_get(lda_req *r);
void households_patch(lda_req *r);
void households_delete(lda_req *r);
/* referrals.c */
void referrals_list(lda_req *r);
void referrals_create(lda_req *r);
void referrals_get(lda_req *r);
void referrals_patch(lda_req *r);
void referrals_transition(lda_req *r);
void referrals_events(lda_req *r);
/* measures.c */
void measures_list(lda_req *r);
void measures_create(lda_req *r);
void measures_get(lda_req *r);
void measures_patch(lda_req *r);
/* prevention.c, prevention_actions.c, pex_rules.c: eviction prevention */
void prevention_cases_list(lda_req *r);
void prevention_cases_create(lda_req *r);
void prevention_cases_get(lda_req *r);
void prevention_cases_patch(lda_req *r);
void prevention_stages_list(lda_req *r);
void prevention_stages_create(lda_req *r);
void prevention_actions_list(lda_req *r);
void prevention_actions_create(lda_req *r);
void prevention_actions_get(lda_req *r);
void prevention_actions_patch(lda_req *r);
void prevention_follow_ups_list(lda_req *r);
void prevention_follow_ups_create(lda_req *r);
void prevention_rules_list(lda_req *r);
void prevention_rules_create(lda_req *r);
void prevention_rules_get(lda_req *r);
void prevention_rules_patch(lda_req *r);
/* housing.c, fluidity.c: the housing offer */
void housing_offers_list(lda_req *r);
void housing_offers_create(lda_req *r);
void housing_offers_get(lda_req *r);
void housing_offers_patch(lda_req *r);
void placements_list(lda_req *r);
void placements_create(lda_req *r);
void placements_get(lda_req *r);
void placements_patch(lda_req *r);
void fluidity_meetings_list(lda_req *r);
void fluidity_meetings_create(lda_req *r);
void fluidity_meetings_get(lda_req *r);
void fluidity_meetings_patch(lda_req *r);
/* batch_axes.c: their batch push */
void prevention_cases_batch(lda_req *r);
void prevention_actions_batch(lda_req *r);
void prevention_follow_ups_batch(lda_req *r);
void housing_offers_batch(lda_req *r);
void placements_batch(lda_req *r);
/* web.c */
void docs_get(lda_req *r);
void observatory_page_get(lda_req *r);
void prevention_page_get(lda_req *r);
void housing_page_get(lda_req *r);
void outcomes_page_get(lda_req *r);
void assets_get(lda_req *r);
void vendor_get(lda_req *r);
/* stats.c */
void stats_activity_get(lda_req *r);
void observatory_youth_get(lda_req *r);
void observatory_series_get(lda_req *r);
/* stats_prevention.c, stats_housing.c */
void stats_prevention_get(lda_req *r);
void stats_housing_get(lda_req *r);

/* stats_outcomes.c */
void stats_outcomes_get(lda_req *r);
/* batch.c */
void siao_requests_batch(lda_req *r);
void siao_requests_list(lda_req *r);
void households_batch(lda_req *r);
void referrals_batch(lda_req *r);
/* changes.c */
void changes_get(lda_req *r);
/* webhooks.c */
void webhooks_create(lda_req *r);
void webhooks_list(lda_req *r);
void webhooks_get(lda_req *r);
void webhooks_patch(lda_req *r);
void webhooks_delete(lda_req *r);
void webhooks_rotate(lda_req *r);
void webhooks_deliveries(lda_req *r);
void webhooks_replay(lda_req *r);

#endif
