/*
 * identity — who is calling, below HTTP: the roles, the authenticated principal, its
 * platform scope and the rule of which roles are scoped. The store fills a principal from
 * a token row, HTTP checks a route's roles against it, the audit names its token and role,
 * and every query reads its scope: all of them from this one description.
 */
#ifndef LDA_CORE_IDENTITY_H
#define LDA_CORE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Roles as bits, so a route can allow several. */
typedef enum {
    ROLE_ADMIN = 1u << 0,
    ROLE_COORDINATOR = 1u << 1,
    ROLE_PARTNER = 1u << 2,
    ROLE_SIAO = 1u << 3,
    ROLE_ANALYST = 1u << 4,
} role_bit;
#define ROLES_ANY  (ROLE_ADMIN | ROLE_COORDINATOR | ROLE_PARTNER | ROLE_SIAO | ROLE_ANALYST)
#define ROLE_COUNT 5

#define MAX_SCOPE_PLATFORMS 16
#define PLATFORM_CODE_MAX   32
/* "{a,b,...}": the braces, the codes and their commas, the NUL */
#define SCOPE_LITERAL_MAX (MAX_SCOPE_PLATFORMS * PLATFORM_CODE_MAX + 3)

/* The authenticated caller. */
typedef struct {
    char token_id[37]; /* UUID */
    role_bit role;
    const char *role_name; /* static */
    char source[65];       /* siao tokens: the source they push as */
    size_t nplatforms;
    char platforms[MAX_SCOPE_PLATFORMS][PLATFORM_CODE_MAX];
    /* The platforms it may see as one PostgreSQL text[] literal ("{a,b}"), or "" for every
     * platform (admins, unscoped analysts): built once by identity_scope_build, read by
     * every query. */
    char scope[SCOPE_LITERAL_MAX];
} lda_principal;

/* A token as the store reads it: the principal it authenticates and whether it still may. */
typedef struct {
    lda_principal who;
    int64_t expires_at; /* unix seconds; 0: never */
    bool revoked;
} lda_credential;

/* Role bit of a role name (0 when unknown) and back ("unknown" for anything but one bit). */
role_bit identity_role_bit(const char *name);
const char *identity_role_name(role_bit r);

/* The names of the roles, in bit order (ROLE_COUNT of them). */
extern const char *const IDENTITY_ROLE_NAMES[ROLE_COUNT];

/* True for the roles whose tokens are bound to platforms (coordinator, partner, siao): they
 * need at least one. Admins have none; analysts may have some. */
bool identity_role_scoped(role_bit r);

/* True when the principal sees every platform (admins; analysts given no platform). */
bool identity_sees_all(const lda_principal *who);

/* True when `who` (NULL: nobody) may see `platform`. */
bool identity_in_scope(const lda_principal *who, const char *platform);

/* Fills who->scope from its role and platforms (once, when the principal is read). */
void identity_scope_build(lda_principal *who);

/* The scope as a text[] literal, or NULL for every platform. NULL for a NULL `who` too
 * (public routes: their queries are not scoped; db_set_scope gives such a session no
 * platform). */
const char *identity_scope(const lda_principal *who);

#endif
