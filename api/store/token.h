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

/* Creates a token from a validated input object {role, name, platforms?, source?,
 * expires_at?}. *json = the Token rendering plus "token" (the secret); caller frees. */
lda_err token_create(db_conn *c, const json_t *in, char **json);

/* {"items":[Token...],"next_cursor"} after `cursor` (NULL: first page). */
lda_err token_list_json(db_conn *c, int limit, const char *cursor, char **json);

/* Sets revoked_at (kept when already revoked); LDA_ENOTFOUND when no such token. */
lda_err token_revoke(db_conn *c, const char *id);

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
