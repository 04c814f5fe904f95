/*
 * batch_axes (store) — the batch upserts of the prevention and housing records pushed by
 * SIAO systems (docs/prevention-and-housing.md), on the model of store/batch_store.h: valid
 * records (with "idx") go to PostgreSQL as one jsonb array, upserted by (source,
 * external_id) — by (case, horizon) for follow-ups — and a record whose content is unchanged
 * is not rewritten.
 *
 * The rules that need stored data (a stage only moves forward, capacity, overlaps, the
 * first action under follow-ups...) are checked by the domain before the upsert, on what the
 * *_lookup functions read in the batch's transaction with the rows concerned locked. A record
 * the domain refused carries its errors in "reject" (a JSON array): the upsert skips it and
 * reports it with those errors.
 */
#ifndef LDA_STORE_BATCH_AXES_STORE_H
#define LDA_STORE_BATCH_AXES_STORE_H

#include "store/batch_store.h"

/* What each record of a batch needs, read with the rows concerned locked: a JSON array of
 * objects with "idx" (caller json_decrefs). A record with nothing stored may be absent.
 *
 * cases:      {idx, stage, stage_on} of the case already pushed with that external_id;
 * actions:    {idx, case_id, platform, action_case, stored_on, others_first, follow_ups}
 *             (case_id null: no such case in scope; action_case/stored_on: the action already
 *             pushed; others_first: the first of the case's other actions; follow_ups: count);
 * follow-ups: {idx, case_id, first_action_on, evicted_on, follow_ups: [{at_months,
 *             situation}]};
 * offers:     {idx, stays: [{entered_on, left_on}]} of the offer already pushed;
 * placements: {idx, referral_id, offer_id, referral, offer (as placement_context), offer_stays,
 *             referral_stays ([{id, entered_on, left_on}], without the record's own stored
 *             placement), placement_id, placement_referral, placement_offer (that stored
 *             placement's)}. */
lda_err prevention_case_lookup(db_conn *c, const char *source, const json_t *records, json_t **out);
lda_err prevention_action_lookup(db_conn *c, const char *source, const json_t *records,
                                 json_t **out);
lda_err prevention_follow_up_lookup(db_conn *c, const char *source, const json_t *records,
                                    json_t **out);
lda_err housing_offer_lookup(db_conn *c, const char *source, const json_t *records, json_t **out);
lda_err placement_lookup(db_conn *c, const char *source, const json_t *records, json_t **out);

/* Takes the share lock on the PEX rules for the rest of the transaction. */
lda_err prevention_rules_share(db_conn *c);

/* The upserts. Cases: a record whose household is not found, or stored on another platform,
 * is rejected; a new case or a new stage records a stage event. Actions, offers and
 * placements: a record stored on a platform outside `scope` is rejected; an action's partner
 * must serve the case's platform. Follow-ups: every record carries case_id and due_on. */
lda_err prevention_case_upsert_send(db_conn *c, const char *source, const char *token_id,
                                    const char *role, const json_t *records, batch_pending *p);
lda_err prevention_action_upsert_send(db_conn *c, const char *source, const char *scope,
                                      const json_t *records, batch_pending *p);
lda_err prevention_follow_up_upsert_send(db_conn *c, const char *source, const json_t *records,
                                         batch_pending *p);
lda_err housing_offer_upsert_send(db_conn *c, const char *source, const char *scope,
                                  const char *token_id, const json_t *records, batch_pending *p);
lda_err placement_upsert_send(db_conn *c, const char *source, const char *scope,
                              const char *token_id, const json_t *records, batch_pending *p);

#endif
