/*
 * stats_grid — the periods statistics may be asked for: whole months, as one month, one
 * quarter, one calendar year or a range of whole calendar years. Any other `from`/`to` is
 * refused, so that no two questions differ by a few days (docs/statistics.md). Pure.
 */
#ifndef LDA_DOMAIN_STATS_GRID_H
#define LDA_DOMAIN_STATS_GRID_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { GRID_MONTH, GRID_QUARTER, GRID_YEAR, GRID_YEARS } grid_kind;

/* Months first..last inclusive, as year * 12 + (month - 1). */
typedef struct {
    int first, last;
    grid_kind kind;
} grid_period;

#define GRID_MAX_YEARS 100 /* the longest range of years */

/* Parses from/to (YYYY-MM-DD, already checked as dates). False on a period off the grid:
 * *field is "from" or "to" and *message says why (static texts). */
bool grid_parse(const char *from, const char *to, grid_period *out, const char **field,
                const char **message);

/* "YYYY-MM-01" of a month index. */
void grid_month_date(int month, char out[11]);

/* The period's bounds: the first day of its first month, the first day after its last. */
void grid_bounds(const grid_period *p, char m0[11], char m1[11]);

/* The last day of the period, "YYYY-MM-DD". */
void grid_last_day(const grid_period *p, char out[11]);

/* The number of calendar years a period covers (1 unless GRID_YEARS). */
static inline int grid_nyears(const grid_period *p) { return p->last / 12 - p->first / 12 + 1; }

/* "month", "quarter", "year" for a granularity; "years" for a range. */
const char *grid_kind_name(grid_kind k);

/* One point of a series: the granularity's period that contains it (start, label) and
 * its part within the asked period (a grid period itself). */
typedef struct {
    char start[11];  /* first day of the granularity's period */
    char label[16];  /* "2024", "2024-Q2", "2024-03" */
    grid_period sub; /* the part of the asked period it covers */
} grid_point;

/* The points of a series of `granularity` (GRID_MONTH, GRID_QUARTER or GRID_YEAR) over p;
 * *out is allocated (caller frees). Returns the number of points. */
size_t grid_points(const grid_period *p, grid_kind granularity, grid_point **out);

#endif
