#include "domain/stats_grid.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool grid_parse(const char *from, const char *to, grid_period *out, const char **field,
                const char **message)
{
    int y0 = atoi(from), m0 = atoi(from + 5), d0 = atoi(from + 8);
    int y1 = atoi(to), m1 = atoi(to + 5), d1 = atoi(to + 8);
    *field = NULL;
    *message = NULL;
    if (d0 != 1) {
        *field = "from";
        *message = "must be the first day of a month: statistics cover whole months";
        return false;
    }
    if (d1 != month_days(y1, m1)) {
        *field = "to";
        *message = "must be the last day of a month: statistics cover whole months";
        return false;
    }
    out->first = y0 * 12 + m0 - 1;
    out->last = y1 * 12 + m1 - 1;
    if (out->last < out->first) {
        *field = "to";
        *message = "must not be before from";
        return false;
    }
    if (out->first == out->last)
        out->kind = GRID_MONTH;
    else if ((m0 - 1) % 3 == 0 && out->last == out->first + 2)
        out->kind = GRID_QUARTER;
    else if (m0 == 1 && m1 == 12 && y0 == y1)
        out->kind = GRID_YEAR;
    else if (m0 == 1 && m1 == 12 && y1 - y0 < GRID_MAX_YEARS)
        out->kind = GRID_YEARS;
    else {
        *field = "to";
        *message = m0 == 1 && m1 == 12
                       ? "a range of calendar years covers 100 years at most"
                       : "from and to must cover one month, one quarter, one calendar year or "
                         "whole calendar years (from YYYY-01-01 to YYYY-12-31)";
        return false;
    }
    return true;
}

/* Writes "YYYY-MM-DD" (years 0..9999) into out[11]. */
static void put_date(char out[11], int y, int m, int d)
{
    unsigned v[3] = {(unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u};
    out[0] = (char)('0' + v[0] / 1000);
    out[1] = (char)('0' + v[0] / 100 % 10);
    out[2] = (char)('0' + v[0] / 10 % 10);
    out[3] = (char)('0' + v[0] % 10);
    out[4] = out[7] = '-';
    out[5] = (char)('0' + v[1] / 10);
    out[6] = (char)('0' + v[1] % 10);
    out[8] = (char)('0' + v[2] / 10);
    out[9] = (char)('0' + v[2] % 10);
    out[10] = '\0';
}

void grid_month_date(int month, char out[11]) { put_date(out, month / 12, month % 12 + 1, 1); }

void grid_bounds(const grid_period *p, char m0[11], char m1[11])
{
    grid_month_date(p->first, m0);
    grid_month_date(p->last + 1, m1);
}

void grid_last_day(const grid_period *p, char out[11])
{
    int y = p->last / 12, m = p->last % 12 + 1;
    put_date(out, y, m, month_days(y, m));
}

const char *grid_kind_name(grid_kind k)
{
    switch (k) {
    case GRID_MONTH:
        return "month";
    case GRID_QUARTER:
        return "quarter";
    case GRID_YEAR:
        return "year";
    case GRID_YEARS:
        break;
    }
    return "years";
}

/* The month index starting the granularity's period that holds month m. */
static int trunc_month(int m, grid_kind g)
{
    return g == GRID_YEAR ? m - m % 12 : g == GRID_QUARTER ? m - m % 3 : m;
}

static int span(grid_kind g) { return g == GRID_YEAR ? 12 : g == GRID_QUARTER ? 3 : 1; }

size_t grid_points(const grid_period *p, grid_kind granularity, grid_point **out)
{
    size_t n = 0, cap = (size_t)(p->last - p->first) / (size_t)span(granularity) + 2;
    *out = xcalloc(cap, sizeof **out);
    for (int m = trunc_month(p->first, granularity); m <= p->last && n < cap;
         m += span(granularity)) {
        grid_point *x = &(*out)[n++];
        grid_month_date(m, x->start);
        memcpy(x->label, x->start, 7); /* YYYY-MM */
        if (granularity == GRID_YEAR)
            x->label[4] = '\0';
        else if (granularity == GRID_QUARTER) {
            x->label[5] = 'Q';
            x->label[6] = (char)('1' + m % 12 / 3);
        }
        int a = m < p->first ? p->first : m, b = m + span(granularity) - 1;
        if (b > p->last) b = p->last;
        x->sub.first = a;
        x->sub.last = b;
        x->sub.kind = a == b ? GRID_MONTH : b - a == 2 ? GRID_QUARTER : GRID_YEAR;
    }
    return n;
}
