/*
 * retention — the service's daily purge (LDA_PURGE_HOUR): one thread that, once a day at or
 * after that hour (Europe/Paris), runs what `lda-api purge` runs, with a connection of its
 * own. Several instances may run it: the purge lock lets one at a time in, and a run done
 * for the day makes the others skip it. Off: nothing starts (run `lda-api purge` from cron).
 */
#ifndef LDA_WORKER_PURGE_DAILY_H
#define LDA_WORKER_PURGE_DAILY_H

#include "core/config.h"

/* Starts the thread (needs db_pool_start). Does nothing when LDA_PURGE_HOUR is off. */
void retention_start(const lda_config *cfg);
/* Stops it: a run in progress stops after its current batch and is audited. */
void retention_stop(void);

#endif
