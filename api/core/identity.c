#include "core/identity.h"

#include <string.h>

const char *const IDENTITY_ROLE_NAMES[ROLE_COUNT] = {"admin", "coordinator", "partner", "siao",
                                                     "analyst"};

role_bit identity_role_bit(const char *name)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        if (name && !strcmp(name, IDENTITY_ROLE_NAMES[i])) return (role_bit)(1u << i);
    return (role_bit)0;
}

const char *identity_role_name(role_bit r)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        if (r == (role_bit)(1u << i)) return IDENTITY_ROLE_NAMES[i];
    return "unknown";
}

bool identity_role_scoped(role_bit r)
{
    return r == ROLE_COORDINATOR || r == ROLE_PARTNER || r == ROLE_SIAO;
}

bool identity_sees_all(const lda_principal *who)
{
    return who && (who->role == ROLE_ADMIN || (who->role == ROLE_ANALYST && who->nplatforms == 0));
}

bool identity_in_scope(const lda_principal *who, const char *platform)
{
    if (!who) return false;
    if (identity_sees_all(who)) return true;
    for (size_t i = 0; i < who->nplatforms; i++)
        if (!strcmp(who->platforms[i], platform)) return true;
    return false;
}

void identity_scope_build(lda_principal *who)
{
    who->scope[0] = '\0';
    if (identity_sees_all(who)) return;
    char *p = who->scope;
    *p++ = '{';
    for (size_t i = 0; i < who->nplatforms; i++) {
        if (i) *p++ = ',';
        size_t n = strnlen(who->platforms[i], PLATFORM_CODE_MAX - 1);
        memcpy(p, who->platforms[i], n);
        p += n;
    }
    *p++ = '}';
    *p = '\0';
}

const char *identity_scope(const lda_principal *who)
{
    return who && who->scope[0] ? who->scope : NULL;
}
