/*
 * Eviction prevention without the database: the bodies of POST /v1/prevention-cases (and its
 * PATCH), POST .../stages, POST .../actions (and PATCH /v1/prevention-actions/{id}), POST
 * .../follow-ups and POST/PATCH /v1/prevention-rules parsed and validated as the handlers do;
 * a valid body then goes through the domain's rules (stage order from every stage, the PEX
 * evaluation, rules overlapping, follow-up dates and consistency).
 *
 * Input: one byte for the body ('c' case, 'p' case patch, 's' stage, 'a' action, 'f' follow-up,
 * 'r' rule; other bytes by value), then the body.
 */
#include "core/parse.h"
#include "domain/prevention_rules.h"
#include "domain/vocab.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static const char RULES[] =
    "[{\"id\":\"5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61\",\"ami\":1,\"valid_from\":\"2022-01-01\","
    "\"valid_to\":null,\"debt_min_eur\":1500,\"debt_max_eur\":4000},"
    "{\"id\":\"5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e62\",\"ami\":2,\"valid_from\":\"2023-01-01\","
    "\"valid_to\":\"2024-12-31\",\"debt_min_eur\":0,\"debt_max_eur\":null}]";

/* A stored case and rule as their renderings give them (for the PATCH merges). */
static const char CASE[] =
    "{\"id\":\"9b3d5f71-2c4e-4a8b-9d6f-0e1a2b3c4d5e\",\"household\":"
    "\"3f8e2a61-5b7c-4d2e-9a1f-0c6b8d4e7f12\",\"platform\":\"artois\",\"landlord_kind\":\"social\","
    "\"debt_eur\":2840,\"debt_on\":\"2025-02-28\",\"stage\":\"judgment\",\"stage_on\":\"2025-04-"
    "15\"}";
static const char RULE[] = "{\"id\":\"5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61\",\"ami\":1,"
                           "\"valid_from\":\"2022-01-01\",\"valid_to\":null,\"debt_min_eur\":1500,"
                           "\"debt_max_eur\":4000,\"note\":null}";

static pex_rule *rules;
static size_t nrules;
static json_t *stored_case, *stored_rule;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    json_t *arr = json_loads(RULES, 0, NULL);
    if (!arr || !pex_rules_from_json(arr, &rules, &nrules)) abort();
    json_decref(arr);
    stored_case = json_loads(CASE, 0, NULL);
    stored_rule = json_loads(RULE, 0, NULL);
    if (!stored_case || !stored_rule) abort();
    return 0;
}

static void evaluate(json_t *rec)
{
    for (int ami = 0; ami <= 3; ami++) {
        pex_annotate(rec, rules, nrules, ami);
        FUZZ_CHECK(vocab_has(vocab_find("pex_eligibility"), schema_str(rec, "pex_status")));
    }
}

static void case_body(json_t *body, vmode mode)
{
    json_t *errors = json_array();
    bool ok = prevention_case_validate(body, mode, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok && mode == V_CREATE) {
        FUZZ_CHECK(prevention_stage_rank(schema_str(body, "stage")) >= 0);
        evaluate(body);
    }
    if (ok && mode == V_PATCH) {
        json_t *merged = schema_merge(PREVENTION_CASE_FIELDS, stored_case, body);
        evaluate(merged);
        json_decref(merged);
    }
    json_decref(errors);
}

static void stage_body(json_t *body)
{
    json_t *errors = json_array();
    bool ok = schema_validate(PREVENTION_STAGE_FIELDS, body, V_CREATE, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        const vocab *stages = vocab_find("procedure_stage");
        int32_t on; /* any day a valid body holds, before 1970 too (negative) */
        FUZZ_CHECK(parse_date(schema_str(body, "on"), &on));
        for (size_t i = 0; i < stages->ncodes; i++) {
            stage_check st = prevention_stage_check(stages->codes[i].code, on - 1,
                                                    schema_str(body, "stage"), on);
            FUZZ_CHECK((st == STAGE_OK) ==
                       ((int)i < prevention_stage_rank(schema_str(body, "stage"))));
        }
    }
    json_decref(errors);
}

static void action_body(json_t *body)
{
    for (int m = 0; m < 2; m++) {
        json_t *errors = json_array();
        bool ok = prevention_action_validate(body, m ? V_PATCH : V_CREATE, fuzz_ctx(), errors);
        fuzz_check_errors(errors, 0, ok);
        if (ok && !m) {
            int32_t on;
            FUZZ_CHECK(parse_date(schema_str(body, "done_on"), &on));
            if (on >= 1) { /* the rule's days are 1970 on (a negative day reads as "none") */
                FUZZ_CHECK(!prevention_first_action_moves(on, on, on + 1));
                FUZZ_CHECK(prevention_first_action_moves(on, on, on - 1));
            }
        }
        json_decref(errors);
    }
}

static void follow_up_body(json_t *body)
{
    json_t *errors = json_array();
    bool ok = prevention_follow_up_validate(body, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        int months = (int)json_integer_value(json_object_get(body, "at_months"));
        FUZZ_CHECK(prevention_follow_up_horizon(months));
        static const char *const FIRSTS[] = {"2020-01-31", "2020-02-29", "2021-08-31",
                                             "2024-12-31"};
        const vocab *sit = vocab_find("follow_up_situation");
        for (size_t i = 0; i < sizeof FIRSTS / sizeof FIRSTS[0]; i++) {
            int32_t first;
            FUZZ_CHECK(parse_date(FIRSTS[i], &first));
            int32_t due = prevention_follow_up_due(first, months);
            FUZZ_CHECK(due > first && due <= first + 31 * months);
            for (size_t k = 0; k < sit->ncodes; k++) {
                follow_up_obs others[] = {{6, sit->codes[k].code}, {24, sit->codes[k].code}};
                const char *why = prevention_follow_up_conflict(
                    others, 2, months, schema_str(body, "situation"), due, due - (int32_t)k);
                FUZZ_CHECK(!why || *why);
            }
        }
    }
    json_decref(errors);
}

static void rule_body(json_t *body)
{
    json_t *errors = json_array();
    bool ok = prevention_rule_validate(body, body, V_CREATE, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    json_decref(errors);
    if (ok) {
        pex_rule candidate;
        pex_rule_from_object(body, &candidate);
        FUZZ_CHECK(candidate.valid_to < 0 || candidate.valid_to >= candidate.valid_from);
        (void)pex_rule_overlap(rules, nrules, &candidate, NULL);
    }
    /* as a PATCH: the fields on the patch, the rules between them on the merged rule */
    errors = json_array();
    ok = schema_validate(PREVENTION_RULE_FIELDS, body, V_PATCH, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        json_t *merged = schema_merge(PREVENTION_RULE_FIELDS, stored_rule, body),
               *none = json_object();
        size_t before = json_array_size(errors);
        ok = prevention_rule_validate(none, merged, V_PATCH, fuzz_ctx(), errors);
        fuzz_check_errors(errors, before, ok);
        if (ok) {
            json_t *arr = json_pack("[O]", merged);
            pex_rule *one = NULL;
            size_t n = 0;
            FUZZ_CHECK(pex_rules_from_json(arr, &one, &n) && n == 1);
            (void)pex_rule_overlap(rules, nrules, one, one->id);
            free(one);
            json_decref(arr);
        }
        json_decref(none);
        json_decref(merged);
    }
    json_decref(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    json_t *body = fuzz_body(data + 1, size - 1);
    if (!body) return 0;
    static const char KINDS[] = "cpsafr";
    const char *k = memchr(KINDS, data[0], 6);
    switch (k ? (int)(k - KINDS) : data[0] % 6) {
    case 0:
        case_body(body, V_CREATE);
        break;
    case 1:
        case_body(body, V_PATCH);
        break;
    case 2:
        stage_body(body);
        break;
    case 3:
        action_body(body);
        break;
    case 4:
        follow_up_body(body);
        break;
    default:
        rule_body(body);
    }
    json_decref(body);
    return 0;
}
