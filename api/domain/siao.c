#include "domain/siao.h"
#include "core/mem.h"
#include "core/parse.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const lda_field SIAO_REQUEST_FIELDS[] = {
    {"external_id", FT_STRING, F_REQUIRED, 1, 100, NULL, NULL, NULL, NULL},
    {"received_at", FT_TIMESTAMP, F_REQUIRED, 0, 0, NULL, NULL, NULL, NULL},
    {"platform", FT_CODE, F_REQUIRED, 0, 0, "platform", NULL, NULL, NULL},
    {"channel", FT_CODE, F_REQUIRED, 0, 0, "siao_channel", NULL, NULL, NULL},
    {"person_key", FT_STRING, F_NULLABLE, 1, 128, NULL, NULL, NULL, NULL},
    {"age", FT_INT, F_NULLABLE, 0, 120, NULL, NULL, NULL, NULL},
    {"birth_year", FT_INT, F_NULLABLE, 1880, 2100, NULL, NULL, NULL, NULL},
    {"sex", FT_CODE, F_NULLABLE, 0, 0, "sex", NULL, NULL, NULL},
    {"composition", FT_CODE, F_NULLABLE, 0, 0, "composition", NULL, NULL, NULL},
    {"situation", FT_CODE, F_NULLABLE, 0, 0, "housing_situation", NULL, NULL, NULL},
    {"resources", FT_CODES, F_NULLABLE, 0, 20, "resource", NULL, NULL, NULL},
    {"needs", FT_CODES, F_NULLABLE, 0, 20, "siao_need", NULL, NULL, NULL},
    {"response", FT_CODE, F_NULLABLE, 0, 0, "siao_response", NULL, NULL, NULL},
    {"alternatives_known", FT_BOOL, F_NULLABLE, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static int paris_year(const char *timestamp)
{
    int64_t us;
    if (!parse_timestamp(timestamp, &us)) return -1;
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm); /* the process runs with TZ=Europe/Paris */
    return tm.tm_year + 1900;
}

int siao_request_age(const json_t *in)
{
    const json_t *age = json_object_get(in, "age");
    if (json_is_integer(age)) return (int)json_integer_value(age);
    const json_t *by = json_object_get(in, "birth_year");
    if (!json_is_integer(by)) return -1;
    return paris_year(schema_str(in, "received_at")) - (int)json_integer_value(by);
}

bool siao_request_validate(const json_t *in, const vctx *ctx, json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(SIAO_REQUEST_FIELDS, in, V_CREATE, ctx, "", errors);
    /* the rules between fields, on the values that are well formed */
    int64_t us;
    bool has_time = json_is_string(json_object_get(in, "received_at")) &&
                    parse_timestamp(schema_str(in, "received_at"), &us);
    if (has_time && us / 1000000 > (int64_t)time(NULL) + 300)
        schema_error(errors, "", "received_at", "must not be in the future");
    const json_t *age = json_object_get(in, "age"), *by = json_object_get(in, "birth_year");
    if (has_time && json_is_integer(by) && json_integer_value(by) >= 1880 &&
        json_integer_value(by) <= 2100) {
        int derived = paris_year(schema_str(in, "received_at")) - (int)json_integer_value(by);
        if (derived < 0 || derived > 120)
            schema_error(errors, "", "birth_year", "gives an age outside 0..120 at received_at");
        else if (json_is_integer(age) && json_integer_value(age) != derived &&
                 json_integer_value(age) != derived - 1)
            schema_error(errors, "", "age", "does not agree with birth_year");
    }
    return json_array_size(errors) == before;
}

void siao_person_key(const char *key, const char *source, const char *sent,
                     char out[SECRET_HASH_HEX])
{
    size_t ns = strlen(source), nv = strlen(sent);
    char *msg = xmalloc(ns + nv + 2);
    memcpy(msg, source, ns);
    msg[ns] = '\x1f';
    memcpy(msg + ns + 1, sent, nv + 1);
    secret_hmac_hex(key, strlen(key), msg, ns + 1 + nv, out);
    free(msg);
}
