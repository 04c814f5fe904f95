#include "domain/retention.h"
#include "core/parse.h"
#include "domain/schema.h"

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

/* The day (Europe/Paris: the process runs with TZ=Europe/Paris) of a timestamp. */
static bool paris_day(const char *ts, int32_t *day)
{
    int64_t us;
    if (!ts || !parse_timestamp(ts, &us)) return false;
    time_t t = (time_t)(us / 1000000 - (us % 1000000 < 0));
    struct tm tm;
    if (!localtime_r(&t, &tm)) return false;
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return parse_date(buf, day);
}

bool retention_check_siao_request(const json_t *in, int32_t today, long months, json_t *errors)
{
    int32_t day;
    if (months <= 0 || !paris_day(json_string_value(json_object_get(in, "received_at")), &day))
        return true;
    int32_t cutoff = retention_cutoff(today, months);
    if (day >= cutoff) return true;
    char msg[160], date[16];
    format_date(cutoff, date);
    snprintf(msg, sizeof msg,
             "is older than the retention period of SIAO requests (%ld months: before %s): not "
             "stored",
             months, date);
    schema_error(errors, "", "received_at", msg);
    return false;
}

bool retention_daily_due(long purge_hour, int hour_now, int32_t today, int32_t last_day)
{
    return purge_hour >= 0 && hour_now == purge_hour && last_day != today;
}
