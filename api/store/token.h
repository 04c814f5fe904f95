/*
 * token — api_token rows: create (the secret is returned once, only its hash is stored),
 * list, revoke, and the look-up behind authentication.
 */
#ifndef LDA_STORE_TOKEN_H
#define LDA_STORE_TOKEN_H

#include "core/err.h"
#include "http/request.h"
#include "store/db.h"

#include <jansson.h>
#include <stdint.h>

/* Who creates or revokes a token, for the audit event written in the same statement: the
 * admin's token id, role and request id, or {NULL, NULL, "cli"} for the command line. */
typedef struct {
    const char *token_id, *role, *request_id;
} token_actor;

/* Creates a token from a validated input object {role, name, platforms?, source?,
 * expires_at?}, with its audit event. *json = the Token rendering plus "token" (the
 * secret); caller frees. */
lda_err token_create(db_conn *c, const json_t *in, const token_actor *by, char **json);

/* {"items":[Token...],"next_cursor"} after `cursor` (NULL: first page). */
lda_err token_list_json(db_conn *c, int limit, const char *cursor, char **json);

/* Sets revoked_at (kept when already revoked), with its audit event; LDA_ENOTFOUND when no
 * such token. */
lda_err token_revoke(db_conn *c, const char *id, const token_actor *by);

/*
 * The registered partner a partner token refers as: binds it to `partner_id` when it has
 * none yet and that partner exists within `scope` (text[] literal, NULL: all); then
 * *bound = the token's partner (caller frees; NULL when it still has none).
 */
lda_err token_bind_partner(db_conn *c, const char *token_id, const char *partner_id,
                           const char *scope, char **bound);

typedef struct {
    lda_principal who;
    int64_t expires_at; /* unix seconds; 0: never */
    bool revoked;
} token_row;

/* Finds the token whose SHA-256 is hash_hex. LDA_ENOTFOUND when none. */
lda_err token_lookup(db_conn *c, const char *hash_hex, token_row *out);

/* Role bit of a role name (0 when unknown) and back. */
role_bit token_role_bit(const char *name);
const char *token_role_name(role_bit r);

#endif
