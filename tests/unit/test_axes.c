/* domain: eviction prevention (stage order, PEX eligibility, rules overlapping, follow-up dates
 * and consistency, the first action) and the housing offer (stays, capacity, placements,
 * meetings). */
#include "check.h"
#include "core/parse.h"
#include "domain/housing_rules.h"
#include "domain/prevention_rules.h"
#include "domain/vocab.h"

#include <stdlib.h>

static int32_t d(const char *s)
{
    int32_t v = -1;
    parse_date(s, &v);
    return v;
}

static vctx today(void)
{
    vctx c = {today_paris()};
    return c;
}

static bool has_error(const json_t *errors, const char *field)
{
    for (size_t i = 0; i < json_array_size(errors); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(errors, i), "field")), field))
            return true;
    return false;
}

/* ---- eviction prevention ---- */

TEST(stages_follow_the_legal_order_of_the_vocabulary)
{
    const vocab *v = vocab_find("procedure_stage");
    CHECK(v && v->ncodes == 7);
    for (size_t i = 0; i < v->ncodes; i++) CHECK(prevention_stage_rank(v->codes[i].code) == (int)i);
    CHECK(prevention_stage_rank("payment_order") == 0);
    CHECK(prevention_stage_rank("eviction_carried_out") == 6);
    CHECK(prevention_stage_rank("nope") == -1 && prevention_stage_rank(NULL) == -1);
}

TEST(a_procedure_moves_forward_may_skip_never_goes_back)
{
    int32_t on = d("2024-05-01");
    CHECK(prevention_stage_check("payment_order", on, "summons", on) == STAGE_OK);
    CHECK(prevention_stage_check("summons", on, "order_to_leave", on + 30) == STAGE_OK);
    CHECK(prevention_stage_check("judgment", on, "judgment", on + 1) == STAGE_NOT_FORWARD);
    CHECK(prevention_stage_check("judgment", on, "summons", on + 1) == STAGE_NOT_FORWARD);
    CHECK(prevention_stage_check("eviction_carried_out", on, "judgment", on) == STAGE_NOT_FORWARD);
    CHECK(prevention_stage_check("summons", on, "judgment", on - 1) == STAGE_DATE_BEFORE);
    CHECK(prevention_stage_check("summons", -1, "judgment", on) == STAGE_OK);
}

static pex_rule rule(const char *id, int ami, const char *from, const char *to, long min, long max)
{
    pex_rule r;
    snprintf(r.id, sizeof r.id, "%s", id);
    r.ami = ami;
    r.valid_from = d(from);
    r.valid_to = to ? d(to) : -1;
    r.debt_min = min;
    r.debt_max = max;
    return r;
}

TEST(pex_eligibility_is_the_debt_against_the_rule_of_the_ami_on_the_debt_date)
{
    pex_rule rules[] = {rule("a", 1, "2022-01-01", NULL, 1500, 4000),
                        rule("b", 2, "2023-01-01", "2023-12-31", 1000, -1)};
    const pex_rule *applied = NULL;
    int32_t on = d("2024-03-01");
    CHECK(pex_evaluate(rules, 2, 1, 2500, on, &applied) == PEX_WITHIN && applied == &rules[0]);
    CHECK(pex_evaluate(rules, 2, 1, 1500, on, &applied) == PEX_WITHIN); /* bounds inclusive */
    CHECK(pex_evaluate(rules, 2, 1, 4000, on, &applied) == PEX_WITHIN);
    CHECK(pex_evaluate(rules, 2, 1, 1499, on, &applied) == PEX_BELOW && applied == &rules[0]);
    CHECK(pex_evaluate(rules, 2, 1, 4001, on, &applied) == PEX_ABOVE);
    CHECK(pex_evaluate(rules, 2, 1, 2500, d("2021-12-31"), &applied) == PEX_NO_RULE && !applied);
    CHECK(pex_evaluate(rules, 2, 2, 99999, d("2023-06-01"), &applied) == PEX_WITHIN); /* open max */
    CHECK(pex_evaluate(rules, 2, 2, 2000, d("2024-01-01"), &applied) == PEX_NO_RULE); /* closed */
    CHECK(pex_evaluate(rules, 2, 1, -1, on, &applied) == PEX_DEBT_UNKNOWN);
    CHECK(pex_evaluate(rules, 2, 1, 2000, -1, &applied) == PEX_DEBT_UNKNOWN);
    CHECK_STR(pex_status_code(PEX_ABOVE), "above_criteria");
    for (pex_status s = PEX_WITHIN; s <= PEX_DEBT_UNKNOWN; s++)
        CHECK(vocab_has(vocab_find("pex_eligibility"), pex_status_code(s)));
}

TEST(pex_annotate_writes_the_status_and_the_rule_id)
{
    pex_rule rules[] = {
        rule("5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61", 1, "2022-01-01", NULL, 1500, 4000)};
    json_t *rec = json_pack("{s:i, s:s}", "debt_eur", 5200, "debt_on", "2024-01-02");
    pex_annotate(rec, rules, 1, 1);
    CHECK_STR(json_string_value(json_object_get(rec, "pex_status")), "above_criteria");
    CHECK_STR(json_string_value(json_object_get(rec, "pex_rule")),
              "5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61");
    pex_annotate(rec, rules, 1, 2); /* another AMI: no rule */
    CHECK_STR(json_string_value(json_object_get(rec, "pex_status")), "no_rule");
    CHECK(json_is_null(json_object_get(rec, "pex_rule")));
    json_decref(rec);
}

TEST(rules_of_one_ami_never_overlap)
{
    pex_rule rules[] = {rule("a", 1, "2022-01-01", "2022-12-31", 1500, 4000),
                        rule("b", 1, "2023-01-01", NULL, 1500, 4000)};
    pex_rule c = rule("", 1, "2021-01-01", "2021-12-31", 0, -1);
    CHECK(pex_rule_overlap(rules, 2, &c, NULL) == NULL); /* before */
    c = rule("", 1, "2021-06-01", "2022-01-01", 0, -1);
    CHECK(pex_rule_overlap(rules, 2, &c, NULL) == &rules[0]); /* one day in common */
    c = rule("", 1, "2030-01-01", NULL, 0, -1);
    CHECK(pex_rule_overlap(rules, 2, &c, NULL) == &rules[1]); /* open rule */
    c = rule("", 2, "2022-06-01", NULL, 0, -1);
    CHECK(pex_rule_overlap(rules, 2, &c, NULL) == NULL); /* another AMI */
    c = rule("a", 1, "2022-01-01", "2022-12-31", 100, 200);
    CHECK(pex_rule_overlap(rules, 2, &c, "a") == NULL); /* itself, changed */
    c = rule("a", 1, "2022-01-01", "2023-01-01", 100, 200);
    CHECK(pex_rule_overlap(rules, 2, &c, "a") == &rules[1]);
}

TEST(rules_read_from_json_and_validated)
{
    json_t *arr = json_loads("[{\"id\":\"x\",\"ami\":1,\"valid_from\":\"2022-01-01\","
                             "\"valid_to\":null,\"debt_min_eur\":1500,\"debt_max_eur\":null}]",
                             0, NULL);
    pex_rule *rules = NULL;
    size_t n = 0;
    CHECK(pex_rules_from_json(arr, &rules, &n) && n == 1);
    CHECK(rules[0].valid_to == -1 && rules[0].debt_max == -1 && rules[0].debt_min == 1500);
    free(rules);
    json_decref(arr);
    arr = json_loads("[{\"ami\":1}]", 0, NULL);
    CHECK(!pex_rules_from_json(arr, &rules, &n));
    json_decref(arr);

    vctx c = today();
    json_t *r = json_pack("{s:i, s:s, s:s, s:i, s:i}", "ami", 1, "valid_from", "2024-01-01",
                          "valid_to", "2023-12-31", "debt_min_eur", 4000, "debt_max_eur", 1500);
    json_t *errors = json_array();
    CHECK(!prevention_rule_validate(r, r, V_CREATE, &c, errors));
    CHECK(has_error(errors, "/valid_to") && has_error(errors, "/debt_max_eur"));
    json_decref(errors);
    errors = json_array();
    json_t *patch = json_pack("{s:i}", "ami", 2);
    CHECK(!prevention_rule_validate(patch, r, V_PATCH, &c, errors)); /* the AMI never changes */
    CHECK(has_error(errors, "/ami"));
    json_decref(patch);
    json_decref(errors);
    json_decref(r);
}

TEST(a_case_gives_its_debt_with_its_date_and_its_household_on_its_platform)
{
    vctx c = today();
    json_t *k =
        json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "household",
                  "3f8e2a61-5b7c-4d2e-9a1f-0c6b8d4e7f12", "platform", "artois", "landlord_kind",
                  "social", "debt_eur", 2000, "stage", "judgment", "stage_on", "2024-02-01");
    json_t *errors = json_array();
    CHECK(!prevention_case_validate(k, V_CREATE, &c, errors) && has_error(errors, "/debt_on"));
    json_decref(errors);
    json_object_set_new(k, "debt_on", json_string("2024-01-15"));
    errors = json_array();
    CHECK(prevention_case_validate(k, V_CREATE, &c, errors));
    json_decref(errors);
    json_object_set_new(k, "landlord_kind", json_string("association"));
    json_object_set_new(k, "stage", json_string("eviction"));
    json_object_set_new(k, "household", json_pack("{s:s}", "platform", "lens_henin"));
    errors = json_array();
    CHECK(!prevention_case_validate(k, V_CREATE, &c, errors));
    CHECK(has_error(errors, "/landlord_kind") && has_error(errors, "/stage"));
    CHECK(has_error(errors, "/household/platform") && has_error(errors, "/household/head"));
    json_decref(errors);
    json_t *patch = json_pack("{s:s, s:s}", "stage", "summons", "platform", "artois");
    errors = json_array();
    CHECK(!prevention_case_validate(patch, V_PATCH, &c, errors));
    CHECK(has_error(errors, "/stage") && has_error(errors, "/platform"));
    json_decref(errors);
    json_decref(patch);
    json_decref(k);
}

TEST(follow_ups_are_due_months_after_the_first_action_as_postgresql_adds_months)
{
    char buf[11];
    struct {
        const char *first;
        int months;
        const char *due;
    } cases[] = {
        {"2021-03-15", 6, "2021-09-15"},  {"2021-08-31", 6, "2022-02-28"},
        {"2023-08-31", 6, "2024-02-29"},  {"2021-12-31", 12, "2022-12-31"},
        {"2020-02-29", 12, "2021-02-28"}, {"2020-02-29", 24, "2022-02-28"},
        {"2019-10-31", 24, "2021-10-31"}, {"2022-07-01", 6, "2023-01-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        format_date(prevention_follow_up_due(d(cases[i].first), cases[i].months), buf);
        CHECK_STR(buf, cases[i].due);
    }
    CHECK(prevention_follow_up_horizon(6) && prevention_follow_up_horizon(12) &&
          prevention_follow_up_horizon(24));
    CHECK(!prevention_follow_up_horizon(18) && !prevention_follow_up_horizon(0));
    vctx c = today();
    json_t *f = json_pack("{s:i, s:s}", "at_months", 18, "situation", "evicted");
    json_t *errors = json_array();
    CHECK(!prevention_follow_up_validate(f, &c, errors) && has_error(errors, "/at_months"));
    json_decref(errors);
    json_decref(f);
}

TEST(a_follow_up_agrees_with_the_others_and_with_the_eviction)
{
    int32_t due = d("2022-06-01");
    follow_up_obs six_evicted[] = {{6, "evicted"}};
    follow_up_obs six_rehoused[] = {{6, "rehoused"}};
    follow_up_obs twelve_maintained[] = {{12, "maintained"}};
    follow_up_obs six_pending[] = {{6, "procedure_pending"}};
    CHECK(prevention_follow_up_conflict(six_evicted, 1, 12, "maintained", due, -1) != NULL);
    CHECK(prevention_follow_up_conflict(six_evicted, 1, 12, "procedure_pending", due, -1) != NULL);
    CHECK(prevention_follow_up_conflict(six_evicted, 1, 12, "rehoused", due, -1) == NULL);
    CHECK(prevention_follow_up_conflict(six_rehoused, 1, 12, "maintained", due, -1) != NULL);
    CHECK(prevention_follow_up_conflict(six_rehoused, 1, 12, "procedure_pending", due, -1) == NULL);
    /* an earlier horizon recorded after a later one is checked against it too */
    CHECK(prevention_follow_up_conflict(twelve_maintained, 1, 6, "evicted", due, -1) != NULL);
    CHECK(prevention_follow_up_conflict(twelve_maintained, 1, 6, "procedure_pending", due, -1) ==
          NULL);
    /* the one it replaces does not count */
    CHECK(prevention_follow_up_conflict(six_evicted, 1, 6, "maintained", due, -1) == NULL);
    CHECK(prevention_follow_up_conflict(six_pending, 1, 12, "maintained", due, -1) == NULL);
    /* an eviction carried out on or before the due date */
    CHECK(prevention_follow_up_conflict(NULL, 0, 6, "maintained", due, due) != NULL);
    CHECK(prevention_follow_up_conflict(NULL, 0, 6, "procedure_pending", due, due - 10) != NULL);
    CHECK(prevention_follow_up_conflict(NULL, 0, 6, "procedure_pending", due, due + 1) == NULL);
    CHECK(prevention_follow_up_conflict(NULL, 0, 6, "evicted", due, due) == NULL);
    CHECK(prevention_follow_up_conflict(NULL, 0, 6, "unknown", due, due) == NULL);
}

TEST(the_first_action_moves_only_when_its_date_changes)
{
    int32_t first = d("2024-03-01");
    CHECK(!prevention_first_action_moves(first, first, first + 10)); /* a later new action */
    CHECK(prevention_first_action_moves(first, first, first - 1));   /* an earlier one */
    CHECK(prevention_first_action_moves(-1, -1, first));             /* the first ever */
    /* a PATCH of the first action (others start later) */
    CHECK(prevention_first_action_moves(first, first + 20, first + 5));
    CHECK(!prevention_first_action_moves(first, first + 20, first));
    /* the first action moved past the next one: the next one becomes the first */
    CHECK(prevention_first_action_moves(first, first + 20, first + 40));
    /* a PATCH of another action */
    CHECK(!prevention_first_action_moves(first, first, first + 3));
}

/* ---- the housing offer ---- */

TEST(stays_leave_the_place_free_on_their_last_day)
{
    stay a = {d("2024-01-01"), d("2024-03-01")}, b = {d("2024-03-01"), -1};
    CHECK(!stay_overlap(a, b)); /* left on the day the other enters */
    stay c = {d("2024-02-28"), d("2024-03-02")};
    CHECK(stay_overlap(a, c) && stay_overlap(b, c));
    stay empty = {d("2024-02-01"), d("2024-02-01")};
    CHECK(!stay_overlap(a, empty));
    stay open1 = {d("2020-01-01"), -1}, open2 = {d("2025-01-01"), -1};
    CHECK(stay_overlap(open1, open2));
}

TEST(the_peak_counts_the_most_households_present_on_one_day)
{
    stay xs[] = {{d("2024-01-01"), d("2024-04-01")},
                 {d("2024-02-01"), d("2024-03-01")},
                 {d("2024-03-01"), -1}};
    stay all = {d("2000-01-01"), -1};
    CHECK(stay_peak(xs, 3, all) == 2);
    stay feb = {d("2024-02-10"), d("2024-02-11")};
    CHECK(stay_peak(xs, 3, feb) == 2);
    stay later = {d("2024-05-01"), -1};
    CHECK(stay_peak(xs, 3, later) == 1);
    CHECK(stay_peak(NULL, 0, later) == 0);
}

static placement_ctx ctx(const stay *offer, size_t no, const stay *ref, size_t nr)
{
    placement_ctx c = {"artois", d("2024-01-10"), true, "artois", 2, d("2024-01-01"),
                       -1,       offer,           no,   ref,      nr};
    return c;
}

TEST(a_placement_fits_its_referral_and_its_offer)
{
    stay offer[] = {{d("2024-02-01"), -1}, {d("2024-03-01"), d("2024-06-01")}};
    stay none[1];
    const char *why = NULL;
    json_t *errors = json_array();
    placement_ctx c = ctx(offer, 1, none, 0);
    stay s = {d("2024-02-15"), -1};
    CHECK(placement_check(&c, s, errors, &why) == PLACEMENT_OK && !why);
    c = ctx(offer, 2, none, 0); /* two places, both taken from 1 March to 1 June */
    CHECK(placement_check(&c, s, errors, &why) == PLACEMENT_CONFLICT && why);
    stay after = {d("2024-06-01"), -1};
    CHECK(placement_check(&c, after, errors, &why) == PLACEMENT_OK);
    c = ctx(offer, 1, offer, 1); /* the household is already in its place */
    CHECK(placement_check(&c, s, errors, &why) == PLACEMENT_CONFLICT);
    c = ctx(offer, 0, none, 0);
    c.housed = false;
    CHECK(placement_check(&c, s, errors, &why) == PLACEMENT_CONFLICT);
    CHECK(json_array_size(errors) == 0);
    c = ctx(offer, 0, none, 0);
    c.offer_platform = "lens_henin";
    stay early = {d("2023-12-01"), -1};
    CHECK(placement_check(&c, early, errors, &why) == PLACEMENT_INVALID);
    CHECK(has_error(errors, "/offer") && has_error(errors, "/entered_on"));
    json_decref(errors);
    errors = json_array();
    c = ctx(offer, 0, none, 0);
    c.available_to = d("2024-02-01");
    CHECK(placement_check(&c, s, errors, &why) == PLACEMENT_INVALID);
    json_decref(errors);
}

TEST(an_offer_keeps_room_and_time_for_its_placements)
{
    stay xs[] = {{d("2024-02-01"), -1}, {d("2024-03-01"), d("2024-06-01")}};
    json_t *errors = json_array();
    CHECK(housing_offer_holds(2, d("2024-01-01"), -1, xs, 2, errors));
    CHECK(!housing_offer_holds(1, d("2024-02-15"), d("2024-02-20"), xs, 2, errors));
    CHECK(has_error(errors, "/capacity") && has_error(errors, "/available_from") &&
          has_error(errors, "/available_to"));
    json_decref(errors);
}

TEST(placement_and_offer_fields)
{
    vctx c = today();
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "referral", "7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e",
                  "offer", "6d4b2a19-8c7e-4f3a-a1b5-3e9c7d2f0a86", "entered_on", "2024-03-01",
                  "left_on", "2024-02-01", "exit_reason", "permanent_housing");
    json_t *errors = json_array();
    CHECK(!placement_validate(p, p, V_CREATE, &c, errors) && has_error(errors, "/left_on"));
    json_decref(errors);
    json_object_del(p, "left_on");
    errors = json_array();
    CHECK(!placement_validate(p, p, V_CREATE, &c, errors) && has_error(errors, "/exit_reason"));
    json_decref(errors);
    json_decref(p);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "platform", "artois", "kind",
                  "youth_shared_flat", "landlord_kind", "social", "typology", "room", "capacity", 0,
                  "available_from", "2024-03-01", "available_to", "2024-02-01");
    errors = json_array();
    CHECK(!housing_offer_validate(o, o, V_CREATE, &c, errors));
    CHECK(has_error(errors, "/capacity"));
    json_decref(errors);
    json_object_set_new(o, "capacity", json_integer(3));
    errors = json_array();
    CHECK(!housing_offer_validate(o, o, V_CREATE, &c, errors) &&
          has_error(errors, "/available_to"));
    json_decref(errors);
    json_decref(o);
}

TEST(a_meeting_accepts_no_more_than_it_proposed_and_presented)
{
    vctx c = today();
    json_t *m = json_pack(
        "{s:s, s:s, s:[s, s], s:i, s:i}", "platform", "artois", "held_on", "2024-05-01",
        "households_presented", "7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e",
        "7C1D9E4B-2A3F-4B8C-8D5E-6F0A1B2C3D4E", "proposals_made", 3, "proposals_accepted", 3);
    json_t *errors = json_array();
    CHECK(!fluidity_meeting_validate(m, m, V_CREATE, &c, errors));
    CHECK(has_error(errors, "/households_presented/1")); /* the same referral twice */
    CHECK(has_error(errors, "/proposals_accepted"));     /* 3 accepted, 2 presented */
    json_decref(errors);
    json_array_set_new(json_object_get(m, "households_presented"), 1, json_string("x"));
    json_object_set_new(m, "proposals_accepted", json_integer(4));
    errors = json_array();
    CHECK(!fluidity_meeting_validate(m, m, V_CREATE, &c, errors));
    CHECK(has_error(errors, "/households_presented/1") && has_error(errors, "/proposals_accepted"));
    json_decref(errors);
    json_object_set_new(m, "households_presented", json_array());
    json_object_set_new(m, "proposals_accepted", json_integer(2));
    errors = json_array();
    CHECK(fluidity_meeting_validate(m, m, V_CREATE, &c, errors)); /* none listed: no bound */
    json_decref(errors);
    json_decref(m);
}

int main(void)
{
    RUN(stages_follow_the_legal_order_of_the_vocabulary);
    RUN(a_procedure_moves_forward_may_skip_never_goes_back);
    RUN(pex_eligibility_is_the_debt_against_the_rule_of_the_ami_on_the_debt_date);
    RUN(pex_annotate_writes_the_status_and_the_rule_id);
    RUN(rules_of_one_ami_never_overlap);
    RUN(rules_read_from_json_and_validated);
    RUN(a_case_gives_its_debt_with_its_date_and_its_household_on_its_platform);
    RUN(follow_ups_are_due_months_after_the_first_action_as_postgresql_adds_months);
    RUN(a_follow_up_agrees_with_the_others_and_with_the_eviction);
    RUN(the_first_action_moves_only_when_its_date_changes);
    RUN(stays_leave_the_place_free_on_their_last_day);
    RUN(the_peak_counts_the_most_households_present_on_one_day);
    RUN(a_placement_fits_its_referral_and_its_offer);
    RUN(an_offer_keeps_room_and_time_for_its_placements);
    RUN(placement_and_offer_fields);
    RUN(a_meeting_accepts_no_more_than_it_proposed_and_presented);
    return check_summary();
}
