/*
 * outcomes (store) — the referrals behind GET /v1/stats/outcomes, one row each, read from
 * the facts that migration 016 keeps current (docs/outcomes.md). No identifier, no date: a
 * month, a platform, a record key, breakdown codes and, for each measure, a time in days
 * and a state. Disclosure control and the survival curves are the caller's.
 */
#ifndef LDA_STORE_OUTCOMES_H
#define LDA_STORE_OUTCOMES_H

#include "store/db.h"

#include <stddef.h>

/* The four measures, in this order everywhere. */
enum { OC_SUPPORT, OC_HOUSING, OC_RETENTION, OC_RETURN, OC_NMEASURES };

/* A measure's state: the event happened, closed without it, still open (censored), or the
 * case is not in the measure's population. */
typedef enum { OC_EVENT = 'E', OC_CLOSED = 'X', OC_OPEN = 'C', OC_NONE = 0 } oc_state;

typedef struct {
    char month[11]; /* first day of the month received */
    char platform[32];
    long rk;       /* the referral's record key */
    char kind[16]; /* measure kind of its latest measure, or none */
    char composition[24];
    char age_band[16]; /* head's age band on received_on, or not_collected */
    char history[12];  /* first_time | returning */
    int t[OC_NMEASURES];
    oc_state s[OC_NMEASURES];
} oc_case;

/* The observation date ("YYYY-MM-DD"). */
lda_err outcomes_as_of(db_conn *c, char out[11]);

/* The referrals received in the whole months [m0, m1) and the observation date they are
 * observed up to ("YYYY-MM-DD"). *out is allocated (caller frees). */
lda_err outcomes_cases(db_conn *c, const char *m0, const char *m1, char as_of[11], oc_case **out,
                       size_t *count);

#endif
