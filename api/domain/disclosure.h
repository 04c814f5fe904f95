/*
 * disclosure — statistical disclosure control of published counts (SPEC §6), as INSEE
 * does for data on persons. Pure functions over arrays of cells.
 *
 *  primary:   a count from 1 to threshold-1 is hidden (status A); zero is never hidden;
 *  secondary: in a breakdown, if exactly one cell is hidden, the next smallest non-zero
 *             published cell is hidden too (status D), so that no hidden cell can be
 *             recovered by subtracting the others from the total;
 *  rates:     a rate or share whose numerator or denominator is hidden is hidden.
 */
#ifndef LDA_DOMAIN_DISCLOSURE_H
#define LDA_DOMAIN_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { CELL_V = 'V', CELL_A = 'A', CELL_D = 'D' } cell_status;

typedef struct {
    char code[48];
    long count;
    cell_status status;
} sdc_cell;

typedef struct {
    long threshold;
    int primary, secondary; /* cells hidden so far, by rule */
} sdc;

/* Applies the primary rule to one count; returns its status. */
cell_status sdc_count(sdc *s, long count);

/* Applies the primary then the secondary rule to a breakdown. */
void sdc_breakdown(sdc *s, sdc_cell *cells, size_t n);

/* True when a value with this status is published. */
static inline bool sdc_published(cell_status st) { return st == CELL_V; }

#endif
