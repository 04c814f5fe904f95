#include "domain/housing_rules.h"
#include "core/mem.h"
#include "core/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const lda_field HOUSING_OFFER_FIELDS[] = {
    {"platform", FT_CODE, F_REQUIRED | F_CREATE_ONLY, 0, 0, "platform", NULL, NULL, NULL},
    {"kind", FT_CODE, F_REQUIRED, 0, 0, "housing_offer_kind", NULL, NULL, NULL},
    {"landlord_kind", FT_CODE, F_REQUIRED, 0, 0, "landlord_kind", NULL, NULL, NULL},
    {"typology", FT_CODE, F_REQUIRED, 0, 0, "typology", NULL, NULL, NULL},
    {"capacity", FT_INT, F_REQUIRED, 1, 200, NULL, NULL, NULL, NULL},
    {"available_from", FT_DATE, F_REQUIRED, 0, 0, NULL, NULL, NULL, NULL},
    {"available_to", FT_DATE, F_NULLABLE, 0, 0, NULL, NULL, NULL, NULL},
    {"label", FT_STRING, F_NULLABLE, 1, 200, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field PLACEMENT_FIELDS[] = {
    {"referral", FT_UUID, F_REQUIRED | F_CREATE_ONLY, 0, 0, NULL, NULL, NULL, NULL},
    {"offer", FT_UUID, F_REQUIRED | F_CREATE_ONLY, 0, 0, NULL, NULL, NULL, NULL},
    {"entered_on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"left_on", FT_DATE, F_NULLABLE | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"exit_reason", FT_CODE, F_NULLABLE, 0, 0, "placement_exit_reason", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field FLUIDITY_MEETING_FIELDS[] = {
    {"platform", FT_CODE, F_REQUIRED | F_CREATE_ONLY, 0, 0, "platform", NULL, NULL, NULL},
    {"held_on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"landlords_present", FT_STRINGS, 0, 0, 30, NULL, NULL, NULL, NULL},
    {"households_presented", FT_STRINGS, 0, 0, 200, NULL, NULL, NULL, NULL},
    {"proposals_made", FT_INT, F_REQUIRED, 0, 1000, NULL, NULL, NULL, NULL},
    {"proposals_accepted", FT_INT, F_REQUIRED, 0, 1000, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

bool housing_offer_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                            json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(HOUSING_OFFER_FIELDS, in, mode, ctx, "", errors);
    int32_t from = schema_date(merged, "available_from"), to = schema_date(merged, "available_to");
    if (from >= 0 && to >= 0 && to < from)
        schema_error(errors, "", "available_to", "must not be before available_from");
    return json_array_size(errors) == before;
}

bool placement_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                        json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(PLACEMENT_FIELDS, in, mode, ctx, "", errors);
    int32_t entered = schema_date(merged, "entered_on"), left = schema_date(merged, "left_on");
    if (entered >= 0 && left >= 0 && left < entered)
        schema_error(errors, "", "left_on", "must not be before entered_on");
    if (schema_str(merged, "exit_reason") && left < 0)
        schema_error(errors, "", "exit_reason", "needs left_on");
    return json_array_size(errors) == before;
}

bool fluidity_meeting_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                               json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(FLUIDITY_MEETING_FIELDS, in, mode, ctx, "", errors);
    const json_t *presented = json_object_get(merged, "households_presented");
    for (size_t i = 0; json_is_array(presented) && i < json_array_size(presented); i++) {
        const char *id = json_string_value(json_array_get(presented, i));
        char at[24];
        snprintf(at, sizeof at, "%zu", i);
        if (!id) continue; /* not a string: the field's own error */
        if (!is_uuid(id)) {
            schema_error(errors, "/households_presented", at, "must be a referral id (UUID)");
            continue;
        }
        /* the same id written in another case (an exact repeat is the field's own error) */
        for (size_t k = 0; k < i; k++) {
            const char *other = json_string_value(json_array_get(presented, k));
            if (other && strcmp(id, other) && !strcasecmp(id, other)) {
                schema_error(errors, "/households_presented", at, "is repeated");
                break;
            }
        }
    }
    const json_t *made = json_object_get(merged, "proposals_made"),
                 *accepted = json_object_get(merged, "proposals_accepted");
    const json_t *all = json_object_get(merged, "households_presented");
    if (json_is_integer(made) && json_is_integer(accepted)) {
        if (json_integer_value(accepted) > json_integer_value(made))
            schema_error(errors, "", "proposals_accepted", "must not exceed proposals_made");
        else if (json_array_size(all) > 0 &&
                 json_integer_value(accepted) > (json_int_t)json_array_size(all))
            schema_error(errors, "", "proposals_accepted",
                         "must not exceed the number of households presented");
    }
    return json_array_size(errors) == before;
}

/* ---- stays ---------------------------------------------------------------------------- */

static bool covers(stay s, int32_t day) { return s.from <= day && (s.to < 0 || day < s.to); }

static bool empty(stay s) { return s.to >= 0 && s.to <= s.from; }

bool stay_overlap(stay a, stay b)
{
    if (empty(a) || empty(b)) return false;
    return (a.to < 0 || b.from < a.to) && (b.to < 0 || a.from < b.to);
}

int stay_peak(const stay *xs, size_t n, stay within)
{
    if (empty(within)) return 0;
    int peak = 0;
    /* the count only rises on the first day of `within` or on a stay's first day */
    for (size_t i = 0; i <= n; i++) {
        int32_t day = i < n ? xs[i].from : within.from;
        if (!covers(within, day)) continue;
        int count = 0;
        for (size_t k = 0; k < n; k++) count += covers(xs[k], day);
        if (count > peak) peak = count;
    }
    return peak;
}

static int32_t day_or(const json_t *obj, const char *name, int32_t none)
{
    int32_t d = schema_date(obj, name);
    return d < 0 ? none : d;
}

bool stays_from_json(const json_t *arr, stay **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr)) return false;
    size_t count = json_array_size(arr);
    if (!count) return true;
    stay *xs = xcalloc(count, sizeof *xs);
    for (size_t i = 0; i < count; i++) {
        const json_t *o = json_array_get(arr, i);
        xs[i].from = day_or(o, "entered_on", -1);
        xs[i].to = day_or(o, "left_on", -1);
        if (xs[i].from < 0) {
            free(xs);
            return false;
        }
    }
    *out = xs;
    *n = count;
    return true;
}

bool placement_ctx_from_json(const json_t *ctx, placement_ctx *c)
{
    memset(c, 0, sizeof *c);
    const json_t *ref = json_object_get(ctx, "referral"), *off = json_object_get(ctx, "offer");
    if (!json_is_object(ref) || !json_is_object(off)) return false;
    c->referral_platform = schema_str(ref, "platform");
    c->received_on = day_or(ref, "received_on", -1);
    c->housed = json_is_true(json_object_get(ref, "housed"));
    c->offer_platform = schema_str(off, "platform");
    c->capacity = (int)json_integer_value(json_object_get(off, "capacity"));
    c->available_from = day_or(off, "available_from", -1);
    c->available_to = day_or(off, "available_to", -1);
    stay *os = NULL, *rs = NULL;
    if (!c->referral_platform || !c->offer_platform || c->received_on < 0 ||
        c->available_from < 0 ||
        !stays_from_json(json_object_get(ctx, "offer_stays"), &os, &c->n_offer) ||
        !stays_from_json(json_object_get(ctx, "referral_stays"), &rs, &c->n_referral)) {
        free(os);
        return false;
    }
    c->offer_stays = os;
    c->referral_stays = rs;
    return true;
}

placement_result placement_check(const placement_ctx *c, stay s, json_t *errors, const char **why)
{
    *why = NULL;
    size_t before = json_array_size(errors);
    if (strcmp(c->offer_platform, c->referral_platform))
        schema_error(errors, "", "offer", "must be an offer of the referral's platform");
    if (s.from < c->received_on)
        schema_error(errors, "", "entered_on", "must not be before the referral's received_on");
    if (s.from < c->available_from || (c->available_to >= 0 && s.from > c->available_to))
        schema_error(errors, "", "entered_on",
                     "must be within the offer's availability (available_from to available_to)");
    if (json_array_size(errors) > before) return PLACEMENT_INVALID;
    if (!c->housed) {
        *why = "The referral's housing is not recorded: a placement needs a measure of the "
               "referral whose housing_outcome is accessed or maintained.";
        return PLACEMENT_CONFLICT;
    }
    for (size_t i = 0; i < c->n_referral; i++)
        if (stay_overlap(c->referral_stays[i], s)) {
            *why = "The household is already placed elsewhere on some of these dates.";
            return PLACEMENT_CONFLICT;
        }
    if (!empty(s) && stay_peak(c->offer_stays, c->n_offer, s) + 1 > c->capacity) {
        *why = "The offer is full on some of these dates: it holds no more households at once "
               "than its capacity.";
        return PLACEMENT_CONFLICT;
    }
    return PLACEMENT_OK;
}

bool housing_offer_holds(int capacity, int32_t available_from, int32_t available_to,
                         const stay *stays, size_t n, json_t *errors)
{
    size_t before = json_array_size(errors);
    bool early = false, late = false;
    for (size_t i = 0; i < n; i++) {
        early |= stays[i].from < available_from;
        late |= available_to >= 0 && stays[i].from > available_to;
    }
    if (early)
        schema_error(errors, "", "available_from", "a placement enters the offer before this date");
    if (late)
        schema_error(errors, "", "available_to", "a placement enters the offer after this date");
    stay all = {INT32_MIN / 2, -1};
    int peak = stay_peak(stays, n, all);
    if (peak > capacity) {
        char msg[120];
        snprintf(msg, sizeof msg, "must be at least %d: the offer holds %d households at once",
                 peak, peak);
        schema_error(errors, "", "capacity", msg);
    }
    return json_array_size(errors) == before;
}
