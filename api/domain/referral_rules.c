#include "domain/referral_rules.h"
#include "core/parse.h"
#include "domain/household_rules.h"

#include <string.h>

static const lda_field CONCERTATION_FIELDS[] = {
    {"held_on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"household_present", FT_BOOL, F_REQUIRED, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* `household` is checked apart (a UUID or an object): described here as a UUID. */
const lda_field REFERRAL_FIELDS[] = {
    {"household", FT_UUID, F_REQUIRED | F_CREATE_ONLY, 0, 0, NULL, NULL, NULL, NULL},
    {"platform", FT_CODE, F_REQUIRED | F_CREATE_ONLY, 0, 0, "platform", NULL, NULL, NULL},
    {"partner", FT_UUID, F_NULLABLE, 0, 0, NULL, NULL, NULL, NULL},
    {"referrer_kind", FT_CODE, F_NULLABLE, 0, 0, "partner_kind", NULL, NULL, NULL},
    {"referrer_name", FT_STRING, F_NULLABLE, 1, 200, NULL, NULL, NULL, NULL},
    {"received_on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"has_social_note", FT_BOOL, 0, 0, 0, NULL, NULL, NULL, NULL},
    {"reasons", FT_CODES, 0, 1, 10, "referral_reason", NULL, NULL, NULL},
    {"decision_note", FT_STRING, F_NULLABLE, 0, 4000, NULL, NULL, NULL, NULL},
    {"concertation", FT_OBJECT, F_NULLABLE, 0, 0, NULL, CONCERTATION_FIELDS, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field TRANSITION_FIELDS[] = {
    {"to", FT_CODE, F_REQUIRED, 0, 0, "referral_status", NULL, NULL, NULL},
    {"on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"note", FT_STRING, 0, 0, 4000, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field MEASURE_FIELDS[] = {
    {"kind", FT_CODE, F_REQUIRED, 0, 0, "measure_kind", NULL, NULL, NULL},
    {"operator", FT_STRING, F_REQUIRED, 1, 200, NULL, NULL, NULL, NULL},
    {"started_on", FT_DATE, F_REQUIRED, 0, 0, NULL, NULL, NULL, NULL},
    {"ended_on", FT_DATE, F_NULLABLE | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"end_reason", FT_CODE, F_NULLABLE, 0, 0, "measure_end_reason", NULL, NULL, NULL},
    {"housing_outcome", FT_CODE, F_NULLABLE, 0, 0, "housing_outcome", NULL, NULL, NULL},
    {"housing_type", FT_CODE, F_NULLABLE, 0, 0, "housing_type", NULL, NULL, NULL},
    {"housing_on", FT_DATE, F_NULLABLE | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field PARTNER_FIELDS[] = {
    {"name", FT_STRING, F_REQUIRED, 1, 200, NULL, NULL, NULL, NULL},
    {"kind", FT_CODE, F_REQUIRED, 0, 0, "partner_kind", NULL, NULL, NULL},
    {"platform", FT_CODE, F_NULLABLE, 0, 0, "platform", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct {
    const char *from, *to;
} TRANSITIONS[] = {
    {"received", "assessing"},
    {"assessing", "orientation_proposed"},
    {"orientation_proposed", "accompanied"},
    {"accompanied", "accompaniment_ended"},
    {"received", "reoriented"},
    {"received", "no_follow_up"},
    {"assessing", "reoriented"},
    {"assessing", "no_follow_up"},
    {"orientation_proposed", "reoriented"},
    {"orientation_proposed", "no_follow_up"},
};

bool referral_transition_allowed(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof TRANSITIONS / sizeof TRANSITIONS[0]; i++)
        if (!strcmp(TRANSITIONS[i].from, from) && !strcmp(TRANSITIONS[i].to, to)) return true;
    return false;
}

bool referral_validate(const json_t *in, vmode mode, const vctx *ctx, json_t *errors)
{
    size_t before = json_array_size(errors);
    const json_t *household = json_object_get(in, "household");
    if (mode == V_CREATE && household && !json_is_string(household)) {
        /* the rest is validated with a stand-in id; the household on its own */
        json_t *rest = json_deep_copy(in);
        json_object_set_new(rest, "household", json_string("00000000-0000-0000-0000-000000000000"));
        schema_validate(REFERRAL_FIELDS, rest, mode, ctx, "", errors);
        json_decref(rest);
        if (json_is_object(household)) {
            household_validate(household, V_CREATE, ctx, "/household", errors);
            const char *hp = schema_str(household, "platform"), *rp = schema_str(in, "platform");
            if (hp && rp && strcmp(hp, rp))
                schema_error(errors, "/household", "platform", "must be the referral's platform");
        } else
            schema_error(errors, "", "household", "must be a household id or a household object");
    } else
        schema_validate(REFERRAL_FIELDS, in, mode, ctx, "", errors);
    const json_t *partner = json_object_get(in, "partner");
    if (partner && !json_is_null(partner) &&
        ((json_object_get(in, "referrer_kind") &&
          !json_is_null(json_object_get(in, "referrer_kind"))) ||
         (json_object_get(in, "referrer_name") &&
          !json_is_null(json_object_get(in, "referrer_name")))))
        schema_error(errors, "", "partner",
                     "give either a registered partner or referrer_kind/referrer_name, not both");
    const json_t *conc = json_object_get(in, "concertation");
    int32_t held = json_is_object(conc) ? schema_date(conc, "held_on") : -1;
    int32_t received = schema_date(in, "received_on");
    if (held >= 0 && received >= 0 && held < received)
        schema_error(errors, "/concertation", "held_on", "must not be before received_on");
    return json_array_size(errors) == before;
}

bool measure_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                      int32_t head_birth, json_t *errors)
{
    size_t before = json_array_size(errors);
    if (!schema_validate(MEASURE_FIELDS, in, mode, ctx, "", errors)) return false;
    int32_t started = schema_date(merged, "started_on"), ended = schema_date(merged, "ended_on");
    int32_t housing_on = schema_date(merged, "housing_on");
    if (started >= 0 && ended >= 0 && ended < started)
        schema_error(errors, "", "ended_on", "must not be before started_on");
    if (schema_str(merged, "end_reason") && ended < 0)
        schema_error(errors, "", "end_reason", "needs ended_on");
    if (started >= 0 && housing_on >= 0 && housing_on < started)
        schema_error(errors, "", "housing_on", "must not be before started_on");
    const char *outcome = schema_str(merged, "housing_outcome");
    if ((schema_str(merged, "housing_type") || housing_on >= 0) &&
        (!outcome || !strcmp(outcome, "none")))
        schema_error(errors, "", "housing_outcome",
                     "must be accessed or maintained when housing_type or housing_on is given");
    const char *kind = schema_str(merged, "kind");
    if (kind && !strcmp(kind, "envaul") && started >= 0) {
        if (head_birth < 0)
            schema_error(errors, "", "kind",
                         "envaul needs the head's birth date (under 25 on started_on)");
        else if (age_on(head_birth, started) >= 25)
            schema_error(errors, "", "kind",
                         "envaul is only for a head of household under 25 on started_on");
    }
    return json_array_size(errors) == before;
}
