#include "domain/token_rules.h"
#include "core/identity.h"
#include "core/parse.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

static bool source_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || strchr("_.-", s[i])))
            return false;
    return true;
}

const lda_field TOKEN_FIELDS[] = {
    {"role", FT_CODE, F_REQUIRED, 0, 0, "role", NULL, NULL, NULL},
    {"name", FT_STRING, F_REQUIRED, 1, 200, NULL, NULL, NULL, NULL},
    {"platforms", FT_CODES, 0, 0, 5, "platform", NULL, NULL, NULL},
    {"source", FT_STRING, F_NULLABLE, 1, 64, NULL, NULL, source_ok,
     "must match ^[a-z0-9][a-z0-9_.-]{0,63}$"},
    {"expires_at", FT_TIMESTAMP, F_NULLABLE, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

bool token_validate(const json_t *in, const vctx *ctx, json_t *errors)
{
    if (!schema_validate(TOKEN_FIELDS, in, V_CREATE, ctx, "", errors)) return false;
    const char *role = schema_str(in, "role");
    size_t nplat = json_array_size(json_object_get(in, "platforms"));
    bool scoped = identity_role_scoped(identity_role_bit(role));
    if (scoped && nplat == 0)
        schema_error(errors, "", "platforms", "this role needs at least one platform");
    if (!strcmp(role, "admin") && nplat)
        schema_error(errors, "", "platforms", "an admin token covers every platform: give none");
    bool has_source = schema_str(in, "source") != NULL;
    if (!strcmp(role, "siao") && !has_source)
        schema_error(errors, "", "source", "is required for a siao token");
    if (strcmp(role, "siao") && has_source)
        schema_error(errors, "", "source", "is only for siao tokens");
    int64_t exp;
    const char *e = schema_str(in, "expires_at");
    if (e && parse_timestamp(e, &exp) && exp / 1000000 <= (int64_t)time(NULL))
        schema_error(errors, "", "expires_at", "must be in the future");
    return json_array_size(errors) == 0;
}
