#include "core/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s) return false;
    const char *p = s;
    if (*p == '-') p++;
    if (!*p) return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return false;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno || *end) return false;
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Validates y-m-d through timegm's normalisation: a date that does not exist comes back
 * different. */
static bool civil_to_epoch(int y, int m, int d, int hh, int mi, int ss, time_t *t)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    tm.tm_sec = ss;
    time_t v = timegm(&tm);
    if (tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d || tm.tm_hour != hh ||
        tm.tm_min != mi || tm.tm_sec != ss)
        return false;
    *t = v;
    return true;
}

bool parse_date(const char *s, int32_t *days)
{
    int y, m, d;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) return false;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31) return false;
    time_t t = 0;
    if (!civil_to_epoch(y, m, d, 0, 0, 0, &t)) return false;
    *days = (int32_t)(t / 86400);
    return true;
}

void format_date(int32_t days, char *buf)
{
    time_t t = (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

bool parse_timestamp(const char *s, int64_t *epoch_us)
{
    int y, mo, d, hh, mi, ss;
    if (!s || strlen(s) < 20) return false;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &ss))
        return false;
    if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 ||
        ss > 59)
        return false;
    const char *p = s + 19;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (n < 6) frac_us += (*p - '0') * scale;
            scale /= 10;
            n++;
            p++;
        }
        if (n == 0 || n > 9) return false;
    }
    int offset_s;
    if (*p == 'Z' || *p == 'z') {
        offset_s = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (strlen(p) != 6 || p[3] != ':' || !digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) ||
            oh > 23 || om > 59)
            return false;
        offset_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else
        return false;
    if (*p) return false;
    time_t t = 0;
    if (!civil_to_epoch(y, mo, d, hh, mi, ss, &t)) return false;
    *epoch_us = ((int64_t)t - offset_s) * 1000000 + frac_us;
    return true;
}

bool is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

int32_t today_paris(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    time_t t = 0;
    civil_to_epoch(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0, &t);
    return (int32_t)(t / 86400);
}

int age_on(int32_t birth, int32_t on)
{
    time_t tb = (time_t)birth * 86400, to = (time_t)on * 86400;
    struct tm b, o;
    gmtime_r(&tb, &b);
    gmtime_r(&to, &o);
    int age = o.tm_year - b.tm_year;
    if (o.tm_mon < b.tm_mon || (o.tm_mon == b.tm_mon && o.tm_mday < b.tm_mday)) age--;
    return age;
}
