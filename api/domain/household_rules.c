#include "domain/household_rules.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

static const lda_field HEAD_FIELDS[] = {
    {"last_name", FT_STRING, F_REQUIRED | F_IDENTITY, 1, 100, NULL, NULL, NULL, NULL},
    {"first_name", FT_STRING, F_REQUIRED | F_IDENTITY, 1, 100, NULL, NULL, NULL, NULL},
    {"birth_date", FT_DATE, F_REQUIRED | F_IDENTITY | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"sex", FT_CODE, F_REQUIRED, 0, 0, "sex", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field HOUSEHOLD_FIELDS[] = {
    {"platform", FT_CODE, F_REQUIRED, 0, 0, "platform", NULL, NULL, NULL},
    {"external_ref", FT_STRING, F_NULLABLE, 1, 100, NULL, NULL, NULL, NULL},
    {"composition", FT_CODE, F_REQUIRED, 0, 0, "composition", NULL, NULL, NULL},
    {"adults", FT_INT, F_REQUIRED, 0, 20, NULL, NULL, NULL, NULL},
    {"children", FT_INT, F_REQUIRED, 0, 30, NULL, NULL, NULL, NULL},
    {"head", FT_OBJECT, F_REQUIRED | F_MERGE, 0, 0, NULL, HEAD_FIELDS, NULL, NULL},
    {"resources", FT_CODES, 0, 0, 20, "resource", NULL, NULL, NULL},
    {"housing_situation", FT_CODE, F_REQUIRED, 0, 0, "housing_situation", NULL, NULL, NULL},
    {"vulnerabilities", FT_CODES, 0, 0, 20, "vulnerability", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

bool household_validate(const json_t *in, vmode mode, const vctx *ctx, const char *ptr,
                        json_t *errors)
{
    size_t before = json_array_size(errors);
    if (!schema_validate(HOUSEHOLD_FIELDS, in, mode, ctx, ptr, errors)) return false;
    /* a household has at least one adult: its head */
    const json_t *adults = json_object_get(in, "adults");
    if (adults && json_integer_value(adults) < 1)
        schema_error(errors, ptr, "adults", "must be at least 1 (the head of household)");
    return json_array_size(errors) == before;
}

char *household_fold_name(const char *name)
{
    size_t dlen = 0;
    uint8_t *dec = u8_normalize(UNINORM_NFKD, (const uint8_t *)name, strlen(name), NULL, &dlen);
    if (!dec) lda_oom();
    size_t llen = 0;
    uint8_t *low = u8_tolower(dec, dlen, NULL, UNINORM_NFKD, NULL, &llen);
    free(dec);
    if (!low) lda_oom();
    char *out = xmalloc(llen + 1);
    size_t o = 0;
    const uint8_t *p = low, *end = low + llen;
    while (p < end) {
        ucs4_t uc;
        int n = u8_mbtouc(&uc, p, (size_t)(end - p));
        if (n <= 0) break;
        if ((uc_is_property_alphabetic(uc) || uc_is_property_numeric(uc)) &&
            !uc_is_general_category(uc, UC_CATEGORY_M)) {
            memcpy(out + o, p, (size_t)n);
            o += (size_t)n;
        }
        p += n;
    }
    out[o] = '\0';
    free(low);
    return out;
}

void household_person_key(const char *key, const char *last, const char *first,
                          const char *birth_date, char out[SECRET_HASH_HEX])
{
    char *l = household_fold_name(last), *f = household_fold_name(first);
    char *msg = xasprintf("%s\x1f%s\x1f%s", l, f, birth_date);
    secret_hmac_hex(key, strlen(key), msg, strlen(msg), out);
    free(l);
    free(f);
    free(msg);
}

static char *process_key;

void household_set_key(const char *key)
{
    free(process_key);
    process_key = xstrdup(key);
}

const char *household_key(void) { return process_key; }
