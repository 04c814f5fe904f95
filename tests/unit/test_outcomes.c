/* survival and cohort: the Kaplan–Meier estimator on hand-computed examples, the horizons,
 * the rounding and the publication rule of estimates, and the closure of hidden counts. */
#include "check.h"
#include "domain/cohort.h"
#include "domain/survival.h"

#define NEAR(a, b) ((a) - (b) < 1e-9 && (b) - (a) < 1e-9)

/* Eight cases (days): 3, 5+, 7, 7, 9+, 11, 12+, 15 (+ censored). By hand:
 *   t = 3:  8 at risk, 1 event   S = 7/8                 = 0.875
 *   t = 7:  6 at risk, 2 events  S = 7/8 x 4/6           = 0.583333...
 *   t = 11: 3 at risk, 1 event   S = 7/12 x 2/3          = 0.388888...
 *   t = 15: 1 at risk, 1 event   S = 0
 * so 1 - S reaches 0.25 at 7, 0.5 at 11 (3 at risk), 0.75 at 15. */
static const int T8[] = {15, 5, 7, 3, 12, 7, 9, 11};
static const bool E8[] = {true, false, true, true, false, true, false, true};

TEST(kaplan_meier_matches_the_hand_computed_curve)
{
    surv_curve c;
    surv_fit(T8, E8, 8, &c);
    CHECK(c.n == 8 && c.nsteps == 4);
    CHECK(c.step_t[0] == 3 && c.step_n[0] == 8 && c.step_d[0] == 1 && NEAR(c.step_s[0], 0.875));
    CHECK(c.step_t[1] == 7 && c.step_n[1] == 6 && c.step_d[1] == 2);
    CHECK(NEAR(c.step_s[1], 7.0 / 12.0));
    CHECK(c.step_t[2] == 11 && c.step_n[2] == 3 && NEAR(c.step_s[2], 7.0 / 18.0));
    CHECK(c.step_t[3] == 15 && c.step_n[3] == 1 && NEAR(c.step_s[3], 0.0));
    long at;
    CHECK(NEAR(surv_at(&c, 0, &at), 1.0) && at == 8 && NEAR(surv_at(&c, 2, NULL), 1.0));
    CHECK(NEAR(surv_at(&c, 3, &at), 0.875) && at == 8);
    CHECK(NEAR(surv_at(&c, 10, &at), 7.0 / 12.0) && at == 6);
    CHECK(NEAR(surv_at(&c, 100, &at), 0.0) && at == 1);
    CHECK(surv_events(&c, 2) == 0 && surv_events(&c, 7) == 3 && surv_events(&c, 99) == 5);
    CHECK(surv_at_risk(&c, 0) == 8 && surv_at_risk(&c, 10) == 3 && surv_at_risk(&c, 16) == 0);
    int t;
    long n;
    CHECK(surv_quantile(&c, 0.25, &t, &n) && t == 7 && n == 6);
    CHECK(surv_quantile(&c, 0.5, &t, &n) && t == 11 && n == 3);
    CHECK(surv_quantile(&c, 0.75, &t, &n) && t == 15 && n == 1);
    surv_free(&c);
}

TEST(a_case_censored_at_an_event_time_is_still_at_risk_and_never_a_failure)
{
    /* 2, 2+, 4: at 2, 3 at risk and 1 event (S = 2/3); at 4, 1 at risk (S = 0) */
    const int t[] = {2, 2, 4};
    const bool e[] = {true, false, true};
    surv_curve c;
    surv_fit(t, e, 3, &c);
    CHECK(c.nsteps == 2 && c.step_n[0] == 3 && NEAR(c.step_s[0], 2.0 / 3.0));
    CHECK(c.step_n[1] == 1 && NEAR(c.step_s[1], 0.0));
    surv_free(&c);
    /* all censored: no step, S stays 1, no quantile */
    const bool none[] = {false, false, false};
    surv_fit(t, none, 3, &c);
    int q;
    long n;
    CHECK(c.nsteps == 0 && NEAR(surv_at(&c, 1000, NULL), 1.0) && !surv_quantile(&c, 0.5, &q, &n));
    surv_free(&c);
    /* no case at all; a negative time counts as 0 */
    surv_fit(NULL, NULL, 0, &c);
    CHECK(c.n == 0 && surv_at_risk(&c, 0) == 0 && NEAR(surv_at(&c, 5, NULL), 1.0));
    surv_free(&c);
    const int neg[] = {-3};
    const bool yes[] = {true};
    surv_fit(neg, yes, 1, &c);
    CHECK(c.nsteps == 1 && c.step_t[0] == 0 && NEAR(surv_at(&c, 0, NULL), 0.0));
    surv_free(&c);
}

TEST(horizons_and_rounding)
{
    CHECK(cohort_horizon_days(1) == 30 && cohort_horizon_days(3) == 91);
    CHECK(cohort_horizon_days(6) == 183 && cohort_horizon_days(12) == 365);
    CHECK(cohort_horizon_days(24) == 731);
    CHECK(cohort_round_days(0) == 0 && cohort_round_days(3) == 0 && cohort_round_days(4) == 7);
    CHECK(cohort_round_days(66) == 63 && cohort_round_days(67) == 70);
    CHECK(NEAR(cohort_round_share(7.0 / 12.0), 0.58) && NEAR(cohort_round_share(0.125), 0.13));
    CHECK(NEAR(cohort_round_share(1.0), 1.0) && NEAR(cohort_round_share(0.004), 0.0));
}

TEST(an_estimate_needs_a_published_count_twice_the_threshold_and_enough_at_risk)
{
    CHECK(cohort_estimate_ok(true, 22, 11, 11, 11) && cohort_estimate_ok(true, 22, 22, 0, 11));
    CHECK(!cohort_estimate_ok(true, 21, 21, 11, 11));  /* fewer than 2 x threshold cases */
    CHECK(!cohort_estimate_ok(true, 40, 10, 12, 11));  /* too few at risk where it is read */
    CHECK(!cohort_estimate_ok(true, 40, 30, 3, 11));   /* a share telling a small count */
    CHECK(!cohort_estimate_ok(false, 40, 40, 12, 11)); /* its count is hidden */
}

TEST(hidden_counts_are_closed_under_every_family)
{
    /* a 2 x 2 table: rows {0, 1} and {2, 3}, columns {0, 2} and {1, 3}. Hiding cell 0
     * hides the smallest other of its row (1), then of its column (2); cell 3 is then
     * the only one unhidden of its row and of its column: hidden too. */
    const long n[] = {3, 20, 15, 40};
    bool hidden[] = {true, false, false, false};
    const size_t members[] = {0, 1, 2, 3, 0, 2, 1, 3};
    const size_t start[] = {0, 2, 4, 6, 8};
    CHECK(cohort_close(n, hidden, members, start, 4) == 3);
    CHECK(hidden[1] && hidden[2] && hidden[3]);
    /* zeros are never hidden as a second cell; ties go to the first of the family */
    const long z[] = {5, 0, 12, 12};
    bool h2[] = {true, false, false, false};
    const size_t m2[] = {0, 1, 2, 3};
    const size_t s2[] = {0, 4};
    CHECK(cohort_close(z, h2, m2, s2, 1) == 1 && !h2[1] && h2[2] && !h2[3]);
    /* nothing hidden: nothing to do */
    bool h3[] = {false, false, false, false};
    CHECK(cohort_close(z, h3, m2, s2, 1) == 0);
}

int main(void)
{
    RUN(kaplan_meier_matches_the_hand_computed_curve);
    RUN(a_case_censored_at_an_event_time_is_still_at_risk_and_never_a_failure);
    RUN(horizons_and_rounding);
    RUN(an_estimate_needs_a_published_count_twice_the_threshold_and_enough_at_risk);
    RUN(hidden_counts_are_closed_under_every_family);
    return check_summary();
}
