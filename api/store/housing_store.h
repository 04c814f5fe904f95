/*
 * housing (store) — housing offers, placements of referrals in them, fluidity meetings
 * (docs/prevention-and-housing.md). As in casefile.h: scopes are text[] literals (NULL:
 * every platform), a row outside the scope is LDA_ENOTFOUND, inputs are validated JSON
 * passed as one jsonb parameter, updates are guarded by row_version. `source` (may be NULL)
 * restricts reads to what that source pushed (siao read-back).
 *
 * The capacity and overlap rules are checked by the domain on what the *_context functions
 * return, read in a transaction with the rows concerned locked (FOR UPDATE), so that two
 * concurrent placements cannot both take the last place.
 */
#ifndef LDA_STORE_HOUSING_STORE_H
#define LDA_STORE_HOUSING_STORE_H

#include "store/doc.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- offers ---- */
lda_err housing_offer_create(db_conn *c, const char *in, const char *token_id, store_doc *out);
lda_err housing_offer_get(db_conn *c, const char *id, const char *scope, const char *source,
                          store_doc *out);
/* filters: platform, kind, typology, available_on, updated_since (each may be absent). */
lda_err housing_offer_list(db_conn *c, const char *scope, const char *source, const json_t *filters,
                           int limit, const char *cursor, char **json);
lda_err housing_offer_update(db_conn *c, const char *id, const char *merged, long version,
                             store_doc *out);
/* Locks the offer (in scope) and returns its placements as [{entered_on, left_on}]. */
lda_err housing_offer_stays(db_conn *c, const char *id, const char *scope, json_t **stays);

/* ---- placements ---- */

/* Locks the referral and the offer and returns what the placement rules need:
 * {referral: {platform, received_on, housed} | null, offer: {platform, capacity,
 * available_from, available_to} | null, offer_stays, referral_stays: [{entered_on,
 * left_on}]}, the stays without placement `except` (may be NULL). A referral or offer
 * outside the scope is null. Caller json_decrefs. */
lda_err placement_context(db_conn *c, const char *referral_id, const char *offer_id,
                          const char *scope, const char *except, json_t **ctx);
/* `in`: validated, with "platform" (the offer's). */
lda_err placement_create(db_conn *c, const char *in, const char *token_id, store_doc *out);
lda_err placement_get(db_conn *c, const char *id, const char *scope, const char *source,
                      store_doc *out);
/* filters: platform, offer, referral, current ("true"/"false"), updated_since. */
lda_err placement_list(db_conn *c, const char *scope, const char *source, const json_t *filters,
                       int limit, const char *cursor, char **json);
lda_err placement_update(db_conn *c, const char *id, const char *merged, long version,
                         store_doc *out);
/* True in *needed when the referral has placements and no measure other than `except_measure`
 * whose housing outcome is accessed or maintained (a measure losing its housing outcome
 * would leave placements of a referral that does not count as housed). */
lda_err placement_needs_housing(db_conn *c, const char *referral_id, const char *except_measure,
                                bool *needed);

/* ---- fluidity meetings ---- */

/* The referrals of `ids` (a JSON array text) on `platform` in scope: {id: received_on}.
 * Caller json_decrefs. */
lda_err fluidity_referrals(db_conn *c, const char *ids, const char *platform, const char *scope,
                           json_t **found);
lda_err fluidity_meeting_create(db_conn *c, const char *in, const char *token_id, store_doc *out);
lda_err fluidity_meeting_get(db_conn *c, const char *id, const char *scope, store_doc *out);
/* filters: platform, held_from, held_to. */
lda_err fluidity_meeting_list(db_conn *c, const char *scope, const json_t *filters, int limit,
                              const char *cursor, char **json);
/* Replaces the meeting's fields and the households presented. */
lda_err fluidity_meeting_update(db_conn *c, const char *id, const char *merged, long version,
                                store_doc *out);

#endif
