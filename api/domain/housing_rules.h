/*
 * housing (domain) — the housing offer (docs/prevention-and-housing.md): the fields of an
 * offer, of a placement and of a fluidity meeting, and the rules, as pure functions:
 *
 *   - a placement is a stay [entered_on, left_on): the day it leaves, the place is free;
 *   - an offer never holds more households at once than its capacity, and its availability
 *     covers the day each placement enters;
 *   - a household (referral) is in one place at a time, on its own platform, not before it
 *     was referred, and only once its housing is recorded (a measure whose housing outcome is
 *     accessed or maintained), so that a referral with a placement always counts as housed
 *     or maintained;
 *   - a meeting accepts no more proposals than it made, nor than the households it presented.
 */
#ifndef LDA_DOMAIN_HOUSING_RULES_H
#define LDA_DOMAIN_HOUSING_RULES_H

#include "domain/schema.h"

#include <stddef.h>
#include <stdint.h>

extern const lda_field HOUSING_OFFER_FIELDS[];
extern const lda_field PLACEMENT_FIELDS[];
extern const lda_field FLUIDITY_MEETING_FIELDS[];

/* Each validates the fields of `in` (a body or a patch) and the rules between fields on
 * `merged` (the resource as it will be stored: `in` itself on create). */
bool housing_offer_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                            json_t *errors);
bool placement_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                        json_t *errors);
bool fluidity_meeting_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                               json_t *errors);

/* A stay in an offer, in days since the epoch: [from, to); to -1: not left. */
typedef struct {
    int32_t from, to;
} stay;

/* True when the two stays share a day. */
bool stay_overlap(stay a, stay b);

/* The most stays of xs present on one day of `within` (a stay too). */
int stay_peak(const stay *xs, size_t n, stay within);

/* What the placement rules need to know about a placement's referral and offer. */
typedef struct {
    const char *referral_platform;
    int32_t received_on; /* the referral's */
    bool housed;         /* the referral has a measure with housing accessed or maintained */
    const char *offer_platform;
    int capacity;
    int32_t available_from, available_to; /* available_to -1: open */
    const stay *offer_stays;              /* the offer's other placements */
    size_t n_offer;
    const stay *referral_stays; /* the referral's other placements */
    size_t n_referral;
} placement_ctx;

typedef enum {
    PLACEMENT_OK,
    PLACEMENT_INVALID,  /* errors appended (422) */
    PLACEMENT_CONFLICT, /* *why set: the data does not allow it (409) */
} placement_result;

/* Checks a placement `s` (already valid on its own) against its context. */
placement_result placement_check(const placement_ctx *c, stay s, json_t *errors, const char **why);

/* Reads [{entered_on, left_on}] into a new array of stays (caller frees *out; NULL when
 * empty). False when an item is malformed. */
bool stays_from_json(const json_t *arr, stay **out, size_t *n);

/* Fills a placement context from its JSON form ({referral: {platform, received_on, housed},
 * offer: {platform, capacity, available_from, available_to}, offer_stays, referral_stays};
 * referral and offer present). The stays are allocated (caller frees c->offer_stays and
 * c->referral_stays); the strings point into `ctx`. False when malformed. */
bool placement_ctx_from_json(const json_t *ctx, placement_ctx *c);

/* Checks an offer's capacity and availability (days; available_to -1: open) against the
 * placements it holds: appends errors (422) on capacity, available_from or available_to. */
bool housing_offer_holds(int capacity, int32_t available_from, int32_t available_to,
                         const stay *stays, size_t n, json_t *errors);

#endif
