/* Files compiled into the binary at build time (see cmake/embed.cmake). */
#ifndef LDA_STORE_EMBEDDED_H
#define LDA_STORE_EMBEDDED_H
#include <stddef.h>

typedef struct {
    const char *name; /* file name, e.g. "002_platforms.sql"; its number is the version */
    const char *sql;  /* NUL-terminated text */
} embedded_migration;

extern const embedded_migration EMBEDDED_MIGRATIONS[]; /* sorted by name */
extern const size_t EMBEDDED_MIGRATION_COUNT;
extern const char *const EMBEDDED_OPENAPI; /* openapi.yaml, NUL-terminated */
extern const size_t EMBEDDED_OPENAPI_LEN;
/* db/seed: the demo data (two scripts: the case data, then eviction prevention and the housing
 * offer), the SIAO request generator (one statement with
 * $1 first, $2 last request number, $3 scale) and the number of requests at a scale ($1). */
extern const char *const EMBEDDED_SEED_DEMO;
extern const char *const EMBEDDED_SEED_AXES;
extern const char *const EMBEDDED_SEED_SIAO;
extern const char *const EMBEDDED_SEED_SIAO_COUNT;

#endif
