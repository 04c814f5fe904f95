/*
 * token — api_token rows: create (the secret is returned once, only its hash is stored),
 * list, revoke, and the look-up behind authentication.
 */
#ifndef LDA_STORE_TOKEN_STORE_H
#define LDA_STORE_TOKEN_STORE_H

#include "core/err.h"
#include "core/identity.h"
#include "store/audit.h"
#include "store/db.h"

#include <jansson.h>
#include <stdint.h>

/* Who creates or revokes a token (the audit event is written in the same statement): the
 * admin's token id, role and request id, or {NULL, NULL, "cli"} for the command line. */

/* Creates a token from a validated input object {role, name, platforms?, source?,
 * expires_at?}, with its audit event. *json = the Token rendering plus "token" (the
 * secret); caller frees. */
lda_err token_create(db_conn *c, const json_t *in, const audit_actor *by, char **json);

/* {"items":[Token...],"next_cursor"} after `cursor` (NULL: first page). */
lda_err token_list_json(db_conn *c, int limit, const char *cursor, char **json);

/* Sets revoked_at (kept when already revoked), with its audit event; LDA_ENOTFOUND when no
 * such token. */
lda_err token_revoke(db_conn *c, const char *id, const audit_actor *by);

/*
 * The registered partner a partner token refers as: binds it to `partner_id` when it has
 * none yet and that partner exists within `scope` (text[] literal, NULL: all); then
 * *bound = the token's partner (caller frees; NULL when it still has none).
 */
lda_err token_bind_partner(db_conn *c, const char *token_id, const char *partner_id,
                           const char *scope, char **bound);

/* Finds the token whose SHA-256 is hash_hex (its principal's scope built). LDA_ENOTFOUND
 * when none. */
lda_err token_lookup(db_conn *c, const char *hash_hex, lda_credential *out);

/* token_lookup on a connection leased from the pool for the look-up: what authentication
 * is handed at start-up (it knows no pool). LDA_EUNAVAILABLE when no connection. */
lda_err token_lookup_pooled(const char *hash_hex, lda_credential *out);

#endif
