/*
 * prevention (store) — prevention cases, their stage history, actions and follow-ups, and
 * the PEX eligibility rules (docs/prevention-and-housing.md). As in casefile.h: scopes are
 * text[] literals (NULL: every platform), a row outside the scope is LDA_ENOTFOUND, inputs
 * are validated JSON passed as one jsonb parameter, updates are guarded by row_version.
 *
 * Writes that evaluate the PEX eligibility run in a transaction opened by
 * prevention_tx_begin(): the rules are read under a share lock, so that a rule written
 * meanwhile (which re-evaluates every case of its AMI under an exclusive lock) cannot leave
 * a case evaluated against rules that no longer hold.
 */
#ifndef LDA_STORE_PREVENTION_STORE_H
#define LDA_STORE_PREVENTION_STORE_H

#include "store/doc.h"

#include <jansson.h>
#include <stdbool.h>

/* What a caller sees of the cases. */
typedef struct {
    const char *scope;      /* platforms */
    const char *created_by; /* partner tokens: only the cases they created (NULL: all) */
    bool partner_view;      /* the partner's view: no household id */
    const char *source;     /* siao tokens: only what their source pushed (NULL: all) */
} case_view;

/* BEGIN, and the rules locked: `exclusive` for a rule write (and the re-evaluation of the
 * cases), else shared (a case write). */
lda_err prevention_tx_begin(db_conn *c, bool exclusive);

/* ---- rules ---- */

/* The rules (rendered) of the AMI of `platform` (NULL: every rule), and that AMI in *ami. A
 * new array in *rules (caller json_decrefs). LDA_EINVALID: no such platform. */
lda_err prevention_rules_load(db_conn *c, const char *platform, int *ami, json_t **rules);
lda_err prevention_rule_get(db_conn *c, const char *id, store_doc *out);
lda_err prevention_rule_list(db_conn *c, const char *ami, int limit, const char *cursor,
                             char **json);
lda_err prevention_rule_create(db_conn *c, const char *in, store_doc *out);
lda_err prevention_rule_update(db_conn *c, const char *id, const char *merged, long version,
                               store_doc *out);
/* The cases of an AMI as [{id, debt_eur, debt_on, pex_status, pex_rule}] (caller
 * json_decrefs), and the new evaluations [{id, pex_status, pex_rule}] written. */
lda_err prevention_cases_of_ami(db_conn *c, int ami, json_t **cases);
lda_err prevention_cases_set_pex(db_conn *c, const char *changes);

/* ---- cases ---- */

/* Creates the case (`in`: validated, with "pex_status" and "pex_rule" added) and its first
 * stage event, in the open transaction; its household is `household_id`, or `household_in`
 * (a validated household, attached to the person's active household on that platform when
 * there is one). *bad_field = "household" (LDA_EINVALID) when household_id is not a
 * household of the case's platform in scope. household_created: the id of a household
 * created inline, or "". */
lda_err prevention_case_create(db_conn *c, const char *in, const char *household_in,
                               const char *person_key, const char *token_id, const char *role,
                               const case_view *v, store_doc *out, const char **bad_field,
                               char household_created[37]);
lda_err prevention_case_get(db_conn *c, const char *id, const case_view *v, store_doc *out);
/* filters: platform, stage, household, updated_since (strings, each may be absent). */
lda_err prevention_case_list(db_conn *c, const case_view *v, const json_t *filters, int limit,
                             const char *cursor, char **json);
/* `merged`: the whole case after the patch, with pex_status and pex_rule. */
lda_err prevention_case_update(db_conn *c, const char *id, const char *merged, long version,
                               store_doc *out);
/* Locks the case (in scope) for a stage change: its stage and the date of that stage
 * (caller frees both). */
lda_err prevention_case_lock(db_conn *c, const char *id, const char *scope, char **stage,
                             char **stage_on);
/* Moves the locked case to `to` on `on` and records the event. */
lda_err prevention_case_stage(db_conn *c, const char *id, const char *from, const char *to,
                              const char *on, const char *note, const char *token_id,
                              const char *role, store_doc *out);
lda_err prevention_stage_list(db_conn *c, const char *id, const char *scope, int limit,
                              const char *cursor, char **json);

/* ---- actions and follow-ups ---- */

/* What the rules of an action or a follow-up need about its case, read with the case locked
 * (in scope): {platform, first_action_on, evicted_on, follow_ups: [{at_months, situation}]}.
 * `except_action`: an action left out of first_action_on (the one a PATCH changes; may be
 * NULL). Caller json_decrefs. */
lda_err prevention_case_context(db_conn *c, const char *id, const char *scope,
                                const char *except_action, json_t **ctx);
/* LDA_OK when `partner` is a partner of `platform` or of every platform, else LDA_ENOTFOUND. */
lda_err prevention_partner_usable(db_conn *c, const char *partner, const char *platform);
lda_err prevention_action_create(db_conn *c, const char *case_id, const char *in, store_doc *out);
lda_err prevention_action_get(db_conn *c, const char *id, const char *scope, store_doc *out);
lda_err prevention_action_list(db_conn *c, const char *case_id, const char *scope, int limit,
                               const char *cursor, char **json);
lda_err prevention_action_update(db_conn *c, const char *id, const char *merged, long version,
                                 store_doc *out);
/* Records the follow-up at `months` (due on due_on), replacing the one at that horizon:
 * *created says which. */
lda_err prevention_follow_up_put(db_conn *c, const char *case_id, int months, const char *due_on,
                                 const char *situation, store_doc *out, bool *created);
lda_err prevention_follow_up_list(db_conn *c, const char *case_id, const char *scope, int limit,
                                  const char *cursor, char **json);

#endif
