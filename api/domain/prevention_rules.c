#include "domain/prevention_rules.h"
#include "core/mem.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "domain/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* `household` is checked apart (a UUID or an object): described here as a UUID. */
const lda_field PREVENTION_CASE_FIELDS[] = {
    {"household", FT_UUID, F_REQUIRED | F_CREATE_ONLY, 0, 0, NULL, NULL, NULL, NULL},
    {"platform", FT_CODE, F_REQUIRED | F_CREATE_ONLY, 0, 0, "platform", NULL, NULL, NULL},
    {"landlord_kind", FT_CODE, F_REQUIRED, 0, 0, "landlord_kind", NULL, NULL, NULL},
    {"debt_eur", FT_INT, F_NULLABLE, 0, 10000000, NULL, NULL, NULL, NULL},
    {"debt_on", FT_DATE, F_NULLABLE | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"stage", FT_CODE, F_REQUIRED | F_CREATE_ONLY, 0, 0, "procedure_stage", NULL, NULL, NULL},
    {"stage_on", FT_DATE, F_REQUIRED | F_CREATE_ONLY | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field PREVENTION_STAGE_FIELDS[] = {
    {"stage", FT_CODE, F_REQUIRED, 0, 0, "procedure_stage", NULL, NULL, NULL},
    {"on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"note", FT_STRING, 0, 0, 4000, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field PREVENTION_ACTION_FIELDS[] = {
    {"kind", FT_CODE, F_REQUIRED, 0, 0, "prevention_action_kind", NULL, NULL, NULL},
    {"done_on", FT_DATE, F_REQUIRED | F_NOT_FUTURE, 0, 0, NULL, NULL, NULL, NULL},
    {"partner", FT_UUID, F_NULLABLE, 0, 0, NULL, NULL, NULL, NULL},
    {"outcome_notes", FT_STRING, F_NULLABLE, 0, 4000, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field PREVENTION_FOLLOW_UP_FIELDS[] = {
    {"at_months", FT_INT, F_REQUIRED, 6, 24, NULL, NULL, NULL, NULL},
    {"situation", FT_CODE, F_REQUIRED, 0, 0, "follow_up_situation", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field PREVENTION_RULE_FIELDS[] = {
    {"ami", FT_INT, F_REQUIRED | F_CREATE_ONLY, 1, 2, NULL, NULL, NULL, NULL},
    {"valid_from", FT_DATE, F_REQUIRED, 0, 0, NULL, NULL, NULL, NULL},
    {"valid_to", FT_DATE, F_NULLABLE, 0, 0, NULL, NULL, NULL, NULL},
    {"debt_min_eur", FT_INT, F_REQUIRED, 0, 10000000, NULL, NULL, NULL, NULL},
    {"debt_max_eur", FT_INT, F_NULLABLE, 0, 10000000, NULL, NULL, NULL, NULL},
    {"note", FT_STRING, F_NULLABLE, 1, 1000, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- cases and stages ----------------------------------------------------------------- */

static bool present(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return v && !json_is_null(v);
}

bool prevention_case_validate(const json_t *in, vmode mode, const vctx *ctx, json_t *errors)
{
    size_t before = json_array_size(errors);
    const json_t *household = json_object_get(in, "household");
    if (mode == V_CREATE && household && !json_is_string(household)) {
        /* the rest is validated with a stand-in id; the household on its own */
        json_t *rest = JCHECK(json_deep_copy(in));
        json_object_set_new(rest, "household", json_string("00000000-0000-0000-0000-000000000000"));
        schema_validate(PREVENTION_CASE_FIELDS, rest, mode, ctx, "", errors);
        json_decref(rest);
        if (json_is_object(household)) {
            household_validate(household, V_CREATE, ctx, "/household", errors);
            const char *hp = schema_str(household, "platform"), *cp = schema_str(in, "platform");
            if (hp && cp && strcmp(hp, cp))
                schema_error(errors, "/household", "platform", "must be the case's platform");
        } else
            schema_error(errors, "", "household", "must be a household id or a household object");
    } else
        schema_validate(PREVENTION_CASE_FIELDS, in, mode, ctx, "", errors);
    /* on create both or neither; a patch may change one of them (checked on the result) */
    if (mode == V_CREATE && present(in, "debt_eur") != present(in, "debt_on"))
        schema_error(errors, "", present(in, "debt_eur") ? "debt_on" : "debt_eur",
                     "debt_eur and debt_on go together (the debt and the date it was known)");
    return json_array_size(errors) == before;
}

int prevention_stage_rank(const char *stage)
{
    const vocab *v = vocab_find("procedure_stage");
    if (!stage) return -1;
    for (size_t i = 0; i < v->ncodes; i++)
        if (!strcmp(v->codes[i].code, stage)) return (int)i;
    return -1;
}

stage_check prevention_stage_check(const char *from, int32_t from_on, const char *to, int32_t to_on)
{
    if (prevention_stage_rank(to) <= prevention_stage_rank(from)) return STAGE_NOT_FORWARD;
    if (from_on >= 0 && to_on < from_on) return STAGE_DATE_BEFORE;
    return STAGE_OK;
}

/* ---- PEX eligibility ------------------------------------------------------------------ */

const char *pex_status_code(pex_status s)
{
    switch (s) {
    case PEX_WITHIN:
        return "within_criteria";
    case PEX_BELOW:
        return "below_criteria";
    case PEX_ABOVE:
        return "above_criteria";
    case PEX_NO_RULE:
        return "no_rule";
    case PEX_DEBT_UNKNOWN:
        break;
    }
    return "debt_unknown";
}

static bool rule_covers(const pex_rule *r, int32_t day)
{
    return day >= r->valid_from && (r->valid_to < 0 || day <= r->valid_to);
}

pex_status pex_evaluate(const pex_rule *rules, size_t n, int ami, long debt, int32_t debt_on,
                        const pex_rule **applied)
{
    *applied = NULL;
    if (debt < 0 || debt_on < 0) return PEX_DEBT_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        if (rules[i].ami == ami && rule_covers(&rules[i], debt_on)) {
            *applied = &rules[i];
            break;
        }
    if (!*applied) return PEX_NO_RULE;
    if (debt < (*applied)->debt_min) return PEX_BELOW;
    if ((*applied)->debt_max >= 0 && debt > (*applied)->debt_max) return PEX_ABOVE;
    return PEX_WITHIN;
}

void pex_annotate(json_t *rec, const pex_rule *rules, size_t n, int ami)
{
    const json_t *debt = json_object_get(rec, "debt_eur");
    const pex_rule *applied = NULL;
    pex_status st =
        pex_evaluate(rules, n, ami, json_is_integer(debt) ? (long)json_integer_value(debt) : -1,
                     schema_date(rec, "debt_on"), &applied);
    json_object_set_new(rec, "pex_status", JCHECK(json_string(pex_status_code(st))));
    json_object_set_new(rec, "pex_rule", applied ? JCHECK(json_string(applied->id)) : json_null());
}

const pex_rule *pex_rule_overlap(const pex_rule *rules, size_t n, const pex_rule *candidate,
                                 const char *skip_id)
{
    for (size_t i = 0; i < n; i++) {
        const pex_rule *r = &rules[i];
        if (r->ami != candidate->ami || (skip_id && !strcmp(r->id, skip_id))) continue;
        bool r_before = r->valid_to >= 0 && r->valid_to < candidate->valid_from;
        bool r_after = candidate->valid_to >= 0 && r->valid_from > candidate->valid_to;
        if (!r_before && !r_after) return r;
    }
    return NULL;
}

static int32_t date_or(const json_t *obj, const char *name, int32_t none)
{
    int32_t d = schema_date(obj, name);
    return d < 0 ? none : d;
}

void pex_rule_from_object(const json_t *obj, pex_rule *out)
{
    const char *id = schema_str(obj, "id");
    snprintf(out->id, sizeof out->id, "%s", id ? id : "");
    out->ami = (int)json_integer_value(json_object_get(obj, "ami"));
    out->valid_from = date_or(obj, "valid_from", 0);
    out->valid_to = date_or(obj, "valid_to", -1);
    out->debt_min = (long)json_integer_value(json_object_get(obj, "debt_min_eur"));
    const json_t *max = json_object_get(obj, "debt_max_eur");
    out->debt_max = json_is_integer(max) ? (long)json_integer_value(max) : -1;
}

bool pex_rules_from_json(const json_t *arr, pex_rule **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr)) return false;
    size_t count = json_array_size(arr);
    pex_rule *rules = xcalloc(count + 1, sizeof *rules);
    for (size_t i = 0; i < count; i++) {
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o) || !json_is_integer(json_object_get(o, "ami")) ||
            schema_date(o, "valid_from") < 0 ||
            !json_is_integer(json_object_get(o, "debt_min_eur"))) {
            free(rules);
            return false;
        }
        pex_rule_from_object(o, &rules[i]);
    }
    *out = rules;
    *n = count;
    return true;
}

bool prevention_rule_validate(const json_t *in, const json_t *merged, vmode mode, const vctx *ctx,
                              json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(PREVENTION_RULE_FIELDS, in, mode, ctx, "", errors);
    int32_t from = schema_date(merged, "valid_from"), to = schema_date(merged, "valid_to");
    if (from >= 0 && to >= 0 && to < from)
        schema_error(errors, "", "valid_to", "must not be before valid_from");
    const json_t *min = json_object_get(merged, "debt_min_eur"),
                 *max = json_object_get(merged, "debt_max_eur");
    if (json_is_integer(min) && json_is_integer(max) &&
        json_integer_value(max) < json_integer_value(min))
        schema_error(errors, "", "debt_max_eur", "must not be below debt_min_eur");
    return json_array_size(errors) == before;
}

/* ---- actions and follow-ups ----------------------------------------------------------- */

bool prevention_action_validate(const json_t *in, vmode mode, const vctx *ctx, json_t *errors)
{
    return schema_validate(PREVENTION_ACTION_FIELDS, in, mode, ctx, "", errors);
}

bool prevention_first_action_moves(int32_t current, int32_t others, int32_t new_on)
{
    int32_t after = others >= 0 && others < new_on ? others : new_on;
    return after != current;
}

bool prevention_follow_up_horizon(long months)
{
    return months == 6 || months == 12 || months == 24;
}

int32_t prevention_follow_up_due(int32_t first_action, int months)
{
    time_t t = (time_t)first_action * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon + months; /* m: 0-based, may exceed 11 */
    y += m / 12;
    m %= 12;
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int last = DAYS[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    struct tm out = {0};
    out.tm_year = y - 1900;
    out.tm_mon = m;
    out.tm_mday = tm.tm_mday < last ? tm.tm_mday : last;
    return (int32_t)(timegm(&out) / 86400);
}

bool prevention_follow_up_validate(const json_t *in, const vctx *ctx, json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(PREVENTION_FOLLOW_UP_FIELDS, in, V_CREATE, ctx, "", errors);
    const json_t *m = json_object_get(in, "at_months");
    if (json_is_integer(m) && json_integer_value(m) >= 6 && json_integer_value(m) <= 24 &&
        !prevention_follow_up_horizon((long)json_integer_value(m)))
        schema_error(errors, "", "at_months", "must be 6, 12 or 24");
    return json_array_size(errors) == before;
}

static bool has_left(const char *situation)
{
    return !strcmp(situation, "evicted") || !strcmp(situation, "rehoused") ||
           !strcmp(situation, "left_without_solution");
}

/* Whether `later` may follow `earlier` (situations at an earlier and a later horizon). */
static const char *sequence_conflict(const char *earlier, const char *later)
{
    if (has_left(earlier) && !strcmp(later, "maintained"))
        return "the household had already left its home at an earlier follow-up: it cannot be "
               "maintained later";
    if (!strcmp(earlier, "evicted") && !strcmp(later, "procedure_pending"))
        return "the household was evicted at an earlier follow-up: the procedure cannot be "
               "pending later";
    return NULL;
}

const char *prevention_follow_up_conflict(const follow_up_obs *others, size_t n, int months,
                                          const char *situation, int32_t due_on, int32_t evicted_on)
{
    if (evicted_on >= 0 && evicted_on <= due_on &&
        (!strcmp(situation, "maintained") || !strcmp(situation, "procedure_pending")))
        return "the eviction was carried out before this follow-up was due: the household "
               "cannot be maintained, nor its procedure pending";
    for (size_t i = 0; i < n; i++) {
        if (others[i].months == months || !others[i].situation) continue;
        const char *why = others[i].months < months
                              ? sequence_conflict(others[i].situation, situation)
                              : sequence_conflict(situation, others[i].situation);
        if (why) return why;
    }
    return NULL;
}
