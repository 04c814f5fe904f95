/* domain: vocabularies, field-description validation, person_key, status machine. */
#include "check.h"
#include "core/parse.h"
#include "domain/household_rules.h"
#include "domain/referral_rules.h"
#include "domain/token_rules.h"
#include "domain/vocab.h"

#include <stdlib.h>

static vctx today(void)
{
    vctx c = {today_paris()};
    return c;
}

static json_t *household(void)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:{s:s, s:s, s:s, s:s}, s:s, s:[s]}", "platform",
                     "artois", "composition", "single_person", "adults", 1, "children", 0, "head",
                     "last_name", "Dupont", "first_name", "Léa", "birth_date", "1990-05-02", "sex",
                     "female", "housing_situation", "street", "resources", "rsa");
}

TEST(vocabularies_accept_unknown_where_the_spec_says)
{
    const char *with[] = {"composition",       "sex",           "resource",
                          "housing_situation", "vulnerability", "siao_need"};
    for (size_t i = 0; i < 6; i++) CHECK(vocab_has(vocab_find(with[i]), "unknown"));
    CHECK(!vocab_has(vocab_find("referral_status"), "unknown"));
    CHECK_STR(vocab_label(vocab_find("housing_situation"), "hosted_by_third_party"),
              "Hébergé chez des tiers");
    CHECK(vocab_find("nope") == NULL && !vocab_has(NULL, "x"));
}

TEST(valid_household_passes)
{
    json_t *h = household(), *errors = json_array();
    vctx c = today();
    CHECK(household_validate(h, V_CREATE, &c, "", errors));
    CHECK(json_array_size(errors) == 0);
    json_decref(h);
    json_decref(errors);
}

TEST(every_error_is_listed_with_its_pointer)
{
    json_t *h = household(), *errors = json_array();
    json_object_set_new(json_object_get(h, "head"), "birth_date", json_string("2999-01-01"));
    json_object_set_new(h, "composition", json_string("tribe"));
    json_object_set_new(h, "nickname", json_string("x"));
    json_object_set_new(h, "adults", json_string("1"));
    json_object_del(h, "housing_situation");
    vctx c = today();
    CHECK(!household_validate(h, V_CREATE, &c, "", errors));
    const char *expect[] = {"/head/birth_date", "/composition", "/nickname", "/adults",
                            "/housing_situation"};
    for (size_t i = 0; i < 5; i++) {
        bool found = false;
        for (size_t k = 0; k < json_array_size(errors); k++)
            found |= !strcmp(json_string_value(json_object_get(json_array_get(errors, k), "field")),
                             expect[i]);
        CHECK(found);
    }
    CHECK(json_array_size(errors) == 5);
    json_decref(h);
    json_decref(errors);
}

TEST(patch_allows_partial_head_but_not_null_required)
{
    json_t *p = json_pack("{s:{s:s}}", "head", "first_name", "Léo"), *errors = json_array();
    vctx c = today();
    CHECK(household_validate(p, V_PATCH, &c, "", errors));
    json_decref(p);
    p = json_pack("{s:n}", "composition");
    CHECK(!household_validate(p, V_PATCH, &c, "", errors));
    json_decref(p);
    json_decref(errors);
}

TEST(names_fold_case_accents_and_spacing)
{
    char *a = household_fold_name("Léa-Marie  D'Hôtel"),
         *b = household_fold_name("LEA MARIE DHOTEL");
    CHECK_STR(a, "leamariedhotel");
    CHECK_STR(a, b);
    free(a);
    free(b);
    char k1[SECRET_HASH_HEX], k2[SECRET_HASH_HEX], k3[SECRET_HASH_HEX];
    household_person_key("key-1", "Dupont", "Éloïse", "1990-01-02", k1);
    household_person_key("key-1", " DUPONT", "eloise", "1990-01-02", k2);
    household_person_key("key-2", "Dupont", "Éloïse", "1990-01-02", k3);
    CHECK_STR(k1, k2);
    CHECK(strcmp(k1, k3) != 0);
    CHECK(strlen(k1) == 64);
}

TEST(status_machine_matches_the_spec)
{
    const char *s[] = {"received",    "assessing",           "orientation_proposed",
                       "accompanied", "accompaniment_ended", "reoriented",
                       "no_follow_up"};
    int allowed = 0;
    for (int i = 0; i < 7; i++)
        for (int k = 0; k < 7; k++) allowed += referral_transition_allowed(s[i], s[k]);
    CHECK(allowed == 10);
    CHECK(referral_transition_allowed("orientation_proposed", "accompanied"));
    CHECK(!referral_transition_allowed("accompanied", "reoriented"));
    CHECK(!referral_transition_allowed("received", "accompanied"));
    CHECK(!referral_transition_allowed("received", "received"));
}

TEST(envaul_only_under_25_and_dates_in_order)
{
    vctx c = today();
    int32_t birth;
    parse_date("1994-01-01", &birth);
    json_t *m =
        json_pack("{s:s, s:s, s:s}", "kind", "envaul", "operator", "X", "started_on", "2024-01-01");
    json_t *errors = json_array();
    CHECK(!measure_validate(m, m, V_CREATE, &c, birth, errors));
    CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 0), "field")), "/kind");
    json_decref(errors);
    parse_date("2000-01-02", &birth);
    errors = json_array();
    CHECK(measure_validate(m, m, V_CREATE, &c, birth, errors));
    json_object_set_new(m, "ended_on", json_string("2023-12-31"));
    CHECK(!measure_validate(m, m, V_CREATE, &c, birth, errors));
    json_decref(errors);
    json_decref(m);
}

TEST(token_rules)
{
    vctx c = today();
    json_t *t = json_pack("{s:s, s:s}", "role", "siao", "name", "x"), *errors = json_array();
    CHECK(!token_validate(t, &c, errors));
    CHECK(json_array_size(errors) == 2); /* platforms and source */
    json_decref(t);
    json_decref(errors);
    t = json_pack("{s:s, s:s, s:[s], s:s}", "role", "siao", "name", "x", "platforms", "artois",
                  "source", "siao62");
    errors = json_array();
    CHECK(token_validate(t, &c, errors));
    json_decref(t);
    json_decref(errors);
}

int main(void)
{
    RUN(vocabularies_accept_unknown_where_the_spec_says);
    RUN(valid_household_passes);
    RUN(every_error_is_listed_with_its_pointer);
    RUN(patch_allows_partial_head_but_not_null_required);
    RUN(names_fold_case_accents_and_spacing);
    RUN(status_machine_matches_the_spec);
    RUN(envaul_only_under_25_and_dates_in_order);
    RUN(token_rules);
    return check_summary();
}
