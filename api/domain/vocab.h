/*
 * vocab — every enumeration of the product described once as data.
 *
 * Validation, rendering, the batch path and GET /v1/vocabularies all read these
 * tables: a code is never spelled twice in the C sources.
 */
#ifndef LDA_DOMAIN_VOCAB_H
#define LDA_DOMAIN_VOCAB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *code;     /* lower-case snake_case, English */
    const char *label_fr; /* French label shown to people */
} vocab_code;

typedef struct {
    const char *name;     /* e.g. "housing_situation" */
    const char *label_fr; /* what the enumeration is, in French */
    const vocab_code *codes;
    size_t ncodes;
} vocab;

/* All enumerations, in a stable order (the order of the vocabularies of openapi.yaml). */
extern const vocab VOCABS[];
extern const size_t VOCAB_COUNT;

/* The enumeration called `name`, or NULL. */
const vocab *vocab_find(const char *name);

/* True when `code` is one of v's codes. NULL-safe. */
bool vocab_has(const vocab *v, const char *code);

/* The French label of `code` in v, or NULL. */
const char *vocab_label(const vocab *v, const char *code);

/* The ages (inclusive) of an age band of the `age_band` enumeration; false for another code. */
bool vocab_age_band_range(const char *code, int *lo, int *hi);

#endif
