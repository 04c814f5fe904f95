/*
 * prevention (domain) — eviction prevention (docs/prevention-and-housing.md): the fields of a
 * prevention case, of a stage change, of an action, of a follow-up and of the PEX mobile
 * team's eligibility rule; and the rules, as pure functions:
 *
 *   - a procedure only moves forward, in the legal order of the stages (a stage may be
 *     skipped, never gone back to), each stage dated on or after the one before;
 *   - the PEX eligibility of a case: its tenant debt against the rule of its AMI in force on
 *     the debt's date (a case outside the bounds is stored, and flagged);
 *   - rules of one AMI never overlap in time;
 *   - a follow-up is the household's situation 6, 12 or 24 months after the case's first
 *     action: it is due on that date (months added as PostgreSQL adds them: the day is kept,
 *     or the last day of a shorter month), never recorded before, and consistent with the
 *     other follow-ups and with an eviction carried out.
 */
#ifndef LDA_DOMAIN_PREVENTION_RULES_H
#define LDA_DOMAIN_PREVENTION_RULES_H

#include "domain/schema.h"

#include <stddef.h>
#include <stdint.h>

extern const lda_field PREVENTION_CASE_FIELDS[];
extern const lda_field PREVENTION_STAGE_FIELDS[];
extern const lda_field PREVENTION_ACTION_FIELDS[];
extern const lda_field PREVENTION_FOLLOW_UP_FIELDS[];
extern const lda_field PREVENTION_RULE_FIELDS[];

/* ---- cases and stages ---- */

/* Validates a case. Create: `household` is a UUID or an inline household object on the
 * case's platform; the stage and its date are given. Patch (the patch itself): household,
 * platform, stage and stage_on cannot change. Both: debt_eur and debt_on go together. */
bool prevention_case_validate(const json_t *in, vmode mode, const vctx *ctx, json_t *errors);

/* The rank of a stage in the procedure (0 = payment_order), -1 for an unknown code. */
int prevention_stage_rank(const char *stage);

typedef enum {
    STAGE_OK,
    STAGE_NOT_FORWARD, /* the same stage or an earlier one: 409 */
    STAGE_DATE_BEFORE, /* dated before the current stage: 422 on `on` */
} stage_check;

/* Whether a case at stage `from` (reached on from_on, days; -1 unknown) may move to `to`
 * on to_on. */
stage_check prevention_stage_check(const char *from, int32_t from_on, const char *to,
                                   int32_t to_on);

/* ---- the PEX mobile team's eligibility ---- */

typedef struct {
    char id[37];
    int ami;
    int32_t valid_from, valid_to; /* days; valid_to -1: open */
    long debt_min, debt_max;      /* euros, inclusive; debt_max -1: no upper bound */
} pex_rule;

typedef enum {
    PEX_WITHIN,
    PEX_BELOW,
    PEX_ABOVE,
    PEX_NO_RULE,
    PEX_DEBT_UNKNOWN,
} pex_status;

/* The code of a status (vocabulary pex_eligibility). */
const char *pex_status_code(pex_status s);

/* The eligibility of a debt (euros, -1 unknown) known on debt_on (days) for a case of AMI
 * `ami`, against `rules`; *applied receives the rule in force (NULL when none). */
pex_status pex_evaluate(const pex_rule *rules, size_t n, int ami, long debt, int32_t debt_on,
                        const pex_rule **applied);

/* The rule of `rules` (other than the one whose id is `skip_id`, may be NULL) of the same
 * AMI whose period meets candidate's, or NULL. */
const pex_rule *pex_rule_overlap(const pex_rule *rules, size_t n, const pex_rule *candidate,
                                 const char *skip_id);

/* Reads rules rendered as JSON ([{id, ami, valid_from, valid_to, debt_min_eur, debt_max_eur}])
 * into a new array (caller frees *out). False when an item is malformed. */
bool pex_rules_from_json(const json_t *arr, pex_rule **out, size_t *n);

/* Sets rec's "pex_status" and "pex_rule" (an id or null) from its debt_eur and debt_on, for a
 * case of AMI `ami`. */
void pex_annotate(json_t *rec, const pex_rule *rules, size_t n, int ami);

/* A rule object (as validated; a merged PATCH result) as a pex_rule. */
void pex_rule_from_object(const json_t *obj, pex_rule *out);

/* Validates a rule: the fields (on `in`) and, on `merged` (the rule as it will be stored),
 * valid_to on or after valid_from and debt_max_eur at least debt_min_eur. */
bool prevention_rule_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                              json_t *errors);

/* ---- actions and follow-ups ---- */

/* Validates an action (create or patch: the patch's fields). */
bool prevention_action_validate(const json_t *in, vmode mode, const vctx *ctx, json_t *errors);

/* Whether an action dated new_on changes the first action of its case (days, -1: none):
 * `current` is the case's first action now, `others` the first of its other actions (all of
 * them for a new action; all but the one a PATCH changes). */
bool prevention_first_action_moves(int32_t current, int32_t others, int32_t new_on);

/* True for the follow-up horizons: 6, 12 and 24 months. */
bool prevention_follow_up_horizon(long months);

/* The day a follow-up at `months` after the first action (days) is due. */
int32_t prevention_follow_up_due(int32_t first_action, int months);

/* Validates a follow-up's fields (at_months one of the horizons). */
bool prevention_follow_up_validate(const json_t *in, const vctx *ctx, json_t *errors);

typedef struct {
    int months;
    const char *situation;
} follow_up_obs;

/* Why a follow-up (`months`, `situation`, due on due_on) cannot be recorded beside the case's
 * other follow-ups (`others`; one at the same horizon is the one replaced and is ignored)
 * and its eviction (the date of eviction_carried_out, days, or -1): a static message, or
 * NULL when it is consistent. The household has left its home from a follow-up saying so
 * (evicted, rehoused, left without solution) or from the eviction on: a later situation
 * cannot be "maintained"; after an eviction, nor "procedure pending". */
const char *prevention_follow_up_conflict(const follow_up_obs *others, size_t n, int months,
                                          const char *situation, int32_t due_on,
                                          int32_t evicted_on);

#endif
