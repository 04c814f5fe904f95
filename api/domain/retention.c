#include "domain/retention.h"
#include "core/parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const retention_kind RETENTION_KINDS[] = {
    {"siao_requests", "reception"},
    {"referrals", "closing"},
    {"referral_events", "their referral's closing"},
    {"measures", "their referral's closing"},
    {"placements", "their referral's closing"},
    {"fluidity_presentations", "their referral's closing"},
    {"prevention_cases", "last activity"},
    {"prevention_stage_events", "their case's last activity"},
    {"prevention_actions", "their case's last activity"},
    {"prevention_follow_ups", "their case's last activity"},
    {"households", "their last referral or case"},
    {"audit_events", "recording"},
};
const int RETENTION_KIND_COUNT = (int)(sizeof RETENTION_KINDS / sizeof RETENTION_KINDS[0]);

long retention_months(const lda_config *cfg, const char *kind)
{
    if (!strcmp(kind, "siao_requests")) return cfg->retention_siao_request_months;
    if (!strcmp(kind, "audit_events")) return cfg->retention_audit_months;
    if (!strncmp(kind, "prevention_", 11)) return cfg->retention_prevention_months;
    for (int i = 0; i < RETENTION_KIND_COUNT; i++)
        if (!strcmp(kind, RETENTION_KINDS[i].name)) return cfg->retention_referral_months;
    return 0;
}

static bool leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int32_t retention_cutoff(int32_t day, long months)
{
    char buf[64];
    format_date(day, buf);
    long y = 0, m = 0, d = 0;
    if (sscanf(buf, "%ld-%ld-%ld", &y, &m, &d) != 3) return day;
    long total = y * 12 + (m - 1) - months;
    y = total / 12;
    m = total % 12 + 1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long last = mdays[m - 1] + (m == 2 && leap(y));
    if (d > last) d = last;
    snprintf(buf, sizeof buf, "%04ld-%02ld-%02ld", y, m, d);
    int32_t out = day;
    return parse_date(buf, &out) ? out : day;
}

bool retention_daily_due(long purge_hour, int hour_now, int32_t today, int32_t last_day)
{
    return purge_hour >= 0 && hour_now == purge_hour && last_day != today;
}
