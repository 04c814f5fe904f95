/*
 * casefile — the store of case management: partners, households, referrals and
 * their events, support measures. Every function takes the caller's scope: a PostgreSQL
 * text[] literal of platform codes ("{artois,lens_henin}"), or NULL for every platform;
 * a row outside the scope is LDA_ENOTFOUND, exactly as if it did not exist.
 * Inputs are JSON objects already validated by the domain layer, passed to PostgreSQL
 * as one jsonb parameter. Updates are guarded by the row_version read before (optimistic
 * concurrency): a row changed meanwhile is LDA_EPRECONDITION.
 */
#ifndef LDA_STORE_CASEFILE_H
#define LDA_STORE_CASEFILE_H

#include "store/doc.h"

#include <jansson.h>

/* ---- partners ---- */
lda_err partner_create(db_conn *c, const char *in, store_doc *out);
lda_err partner_get(db_conn *c, const char *id, const char *scope, store_doc *out);
lda_err partner_list(db_conn *c, const char *scope, const char *platform, const char *kind,
                     int limit, const char *cursor, char **json);
/* `merged` is the full partner after the patch; `version` the row_version it was read at. */
lda_err partner_update(db_conn *c, const char *id, const char *merged, long version,
                       store_doc *out);

/* ---- households ---- */
/* LDA_ECONFLICT with *existing_id (caller frees) when the person already has an active
 * household on that platform. */
lda_err household_create(db_conn *c, const char *in, const char *person_key, const char *created_by,
                         bool identity, store_doc *out, char **existing_id);
lda_err household_get(db_conn *c, const char *id, const char *scope, bool identity, store_doc *out);
/* source (may be NULL): only the households pushed by that source (siao read-back). */
lda_err household_get_from(db_conn *c, const char *id, const char *scope, const char *source,
                           bool identity, store_doc *out);
lda_err household_list(db_conn *c, const char *scope, const char *source, const char *platform,
                       const char *updated_since, bool identity, int limit, const char *cursor,
                       char **json);
lda_err household_update(db_conn *c, const char *id, const char *merged, const char *person_key,
                         long version, bool identity, store_doc *out, char **existing_id);
/* Erases identity (names, birth date, external_ref, person_key); idempotent. */
lda_err household_erase(db_conn *c, const char *id, const char *scope);
/* The household a new record (a prevention case) gives inline: created, or the person's
 * active household on that platform when there is one (*created false). `in` is a validated
 * household; LDA_EUNAVAILABLE when a concurrent erasure raced the insert. */
lda_err household_attach_inline(db_conn *c, const char *in, const char *person_key,
                                const char *created_by, char id[37], bool *created);
/* LDA_OK when household `id` is in `scope` and on `platform`, else LDA_ENOTFOUND. */
lda_err household_on_platform(db_conn *c, const char *id, const char *scope, const char *platform);
/* The head's birth date ("YYYY-MM-DD", caller frees; NULL when erased) of a referral's
 * household. */
lda_err referral_head_birth(db_conn *c, const char *referral_id, const char *scope,
                            char **birth_date);

/* ---- referrals ---- */
typedef struct {
    const char *scope;      /* platforms */
    const char *created_by; /* partner tokens see only what they created (NULL: all) */
    bool status_only;       /* the partner's status view */
    const char *source;     /* siao tokens read back only what their source pushed */
} referral_view;

/* Creates the referral, its first event and, when `household_in` is given, its household
 * (attached to the person's existing active household on that platform if there is one),
 * in one transaction. LDA_EINVALID with *bad_field = "household" (unknown, out of scope or
 * on another platform) or "partner" (unknown or out of scope). household_created receives
 * the id of the household created inline ("" when none was created). */
lda_err referral_create(db_conn *c, const char *in, const char *household_in,
                        const char *person_key, const char *token_id, const char *role,
                        const referral_view *v, store_doc *out, const char **bad_field,
                        char household_created[37]);
lda_err referral_get(db_conn *c, const char *id, const referral_view *v, store_doc *out);
/* *any = whether household `household_id` has a referral on another platform than
 * `platform` (a referral stays on its platform, so its household stays there too). */
lda_err referral_elsewhere(db_conn *c, const char *household_id, const char *platform, bool *any);
/* LDA_OK when the referral exists in `scope`, else LDA_ENOTFOUND (or a database error). */
lda_err referral_visible(db_conn *c, const char *id, const char *scope);
lda_err referral_list(db_conn *c, const referral_view *v, const json_t *filters, int limit,
                      const char *cursor, char **json);
lda_err referral_update(db_conn *c, const char *id, const char *merged, long version,
                        store_doc *out);
/* LDA_ECONFLICT with *why set (static text) when the transition is not allowed;
 * LDA_EINVALID when `on` is before the current status's date. */
lda_err referral_transition(db_conn *c, const char *id, const char *to, const char *on,
                            const char *note, const char *token_id, const char *role,
                            const referral_view *v, store_doc *out, const char **why);
lda_err referral_events(db_conn *c, const char *id, const char *scope, int limit,
                        const char *cursor, char **json);

/* ---- measures ---- */
lda_err measure_create(db_conn *c, const char *referral_id, const char *in, const char *scope,
                       store_doc *out);
lda_err measure_get(db_conn *c, const char *id, const char *scope, store_doc *out);
lda_err measure_list(db_conn *c, const char *referral_id, const char *scope, int limit,
                     const char *cursor, char **json);
lda_err measure_update(db_conn *c, const char *id, const char *merged, long version,
                       store_doc *out);
/* The referral id of a measure (for the ENVAUL rule on PATCH); caller frees. */
lda_err measure_referral(db_conn *c, const char *id, const char *scope, char **referral_id);

#endif
