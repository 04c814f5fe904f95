#include "domain/disclosure.h"

cell_status sdc_count(sdc *s, long count)
{
    if (count > 0 && count < s->threshold) {
        s->primary++;
        return CELL_A;
    }
    return CELL_V;
}

void sdc_breakdown(sdc *s, sdc_cell *cells, size_t n)
{
    size_t hidden = 0;
    for (size_t i = 0; i < n; i++) {
        cells[i].status = sdc_count(s, cells[i].count);
        if (cells[i].status != CELL_V) hidden++;
    }
    if (hidden != 1) return;
    /* the smallest non-zero published cell (ties: the first) */
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (cells[i].status == CELL_V && cells[i].count > 0 &&
            (best == n || cells[i].count < cells[best].count))
            best = i;
    if (best < n) {
        cells[best].status = CELL_D;
        s->secondary++;
    }
}
