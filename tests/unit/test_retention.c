/* domain/retention: cut-offs, the daily schedule, SIAO requests older than their period. */
#include "check.h"
#include "core/parse.h"
#include "domain/retention.h"

static int32_t day(const char *s)
{
    int32_t d = 0;
    parse_date(s, &d);
    return d;
}

static const char *fmt(int32_t d)
{
    static char buf[16];
    format_date(d, buf);
    return buf;
}

TEST(cutoff_goes_back_whole_months_and_clamps_the_day)
{
    CHECK_STR(fmt(retention_cutoff(day("2025-01-01"), 24)), "2023-01-01");
    CHECK_STR(fmt(retention_cutoff(day("2025-01-01"), 12)), "2024-01-01");
    CHECK_STR(fmt(retention_cutoff(day("2024-03-31"), 1)), "2024-02-29");
    CHECK_STR(fmt(retention_cutoff(day("2023-03-31"), 1)), "2023-02-28");
    CHECK_STR(fmt(retention_cutoff(day("2024-02-29"), 12)), "2023-02-28");
    CHECK_STR(fmt(retention_cutoff(day("2025-05-15"), 60)), "2020-05-15");
    CHECK_STR(fmt(retention_cutoff(day("2025-01-31"), 13)), "2023-12-31");
    CHECK_STR(fmt(retention_cutoff(day("2025-06-30"), 0)), "2025-06-30");
}

TEST(every_kind_has_a_period)
{
    lda_config c = {.retention_siao_request_months = 60,
                    .retention_referral_months = 24,
                    .retention_prevention_months = 36,
                    .retention_audit_months = 12};
    for (int i = 0; i < RETENTION_KIND_COUNT; i++)
        CHECK(retention_months(&c, RETENTION_KINDS[i].name) > 0);
    CHECK(retention_months(&c, "siao_requests") == 60);
    CHECK(retention_months(&c, "measures") == 24);
    CHECK(retention_months(&c, "households") == 24);
    CHECK(retention_months(&c, "prevention_follow_ups") == 36);
    CHECK(retention_months(&c, "audit_events") == 12);
    CHECK(retention_months(&c, "tokens") == 0);
}

TEST(daily_run_at_its_hour_once_a_day)
{
    int32_t today = day("2025-03-10");
    CHECK(retention_daily_due(3, 3, today, -1));
    CHECK(!retention_daily_due(3, 3, today, today)); /* done today */
    CHECK(retention_daily_due(3, 3, today, today - 1));
    CHECK(!retention_daily_due(3, 2, today, -1));
    CHECK(!retention_daily_due(3, 14, today, -1)); /* not at start-up after the hour */
    CHECK(!retention_daily_due(-1, 3, today, -1)); /* off */
    CHECK(retention_daily_due(0, 0, today, -1));
}

int main(void)
{
    RUN(cutoff_goes_back_whole_months_and_clamps_the_day);
    RUN(every_kind_has_a_period);
    RUN(daily_run_at_its_hour_once_a_day);
    return check_summary();
}
