/*
 * purge — removes the rows past their retention period (migration 017): counts them (the dry
 * run) or deletes them batch by batch, each batch one transaction through a function that
 * runs with the owner's rights, so that a purge cut short at any moment leaves consistent
 * data and the next run goes on. One run at a time across every instance (an advisory lock).
 * Each run writes one audit event with its counts, never data.
 *
 * Every function takes a connection of its own (db_connect_dedicated: lda_app), used by one
 * thread.
 */
#ifndef LDA_STORE_PURGE_H
#define LDA_STORE_PURGE_H

#include "core/config.h"
#include "core/err.h"
#include "domain/retention.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

/* db_connect_dedicated with the purge's statement timeout (10 minutes: one batch may delete
 * many rows). NULL when the database cannot be reached; the caller PQfinish()es it. */
PGconn *purge_connect(void);

typedef struct {
    char as_of[11]; /* YYYY-MM-DD: the day the periods end (today, or an earlier day) */
    long siao_request_months, referral_months, prevention_months, audit_months;
    int batch; /* roots (requests, referrals, cases...) per transaction */
} purge_plan;

/* Rows per kind, in the order of RETENTION_KINDS. */
typedef struct {
    long long n[32];
} purge_counts;

/* The plan of cfg's periods as of `as_of` (NULL: today in Europe/Paris). */
void purge_plan_init(purge_plan *p, const lda_config *cfg, const char *as_of);

/* Counts, per kind, the rows past their period (what purge_execute would remove now). */
lda_err purge_due(PGconn *pg, const purge_plan *p, purge_counts *out);

/* Takes the purge lock of the database for this session: LDA_ECONFLICT when another
 * session (instance, cron) holds it. purge_unlock releases it. */
lda_err purge_lock(PGconn *pg);
void purge_unlock(PGconn *pg);

/*
 * Removes the rows past their period, batch by batch, until none is left or *stop becomes
 * true (checked between batches; stop may be NULL), then writes the run's audit event.
 * Needs purge_lock. `scheduled` (the service's daily run): does nothing and sets *skipped
 * when a run already finished for as_of. *out: the rows removed per kind.
 */
lda_err purge_execute(PGconn *pg, const purge_plan *p, bool scheduled, atomic_bool *stop,
                      purge_counts *out, bool *skipped);

#endif
