#include "worker/purge_daily.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"
#include "domain/retention.h"
#include "store/db.h"
#include "store/purge.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#define FIRST_LOOK_S  2   /* after start-up */
#define LOOK_EVERY_S  30  /* then */
#define RETRY_AFTER_S 600 /* after a failed run */

static struct {
    pthread_t thread;
    bool running;
    atomic_bool stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    const lda_config *cfg;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* Sleeps `seconds` or until retention_stop. */
static void nap(long seconds)
{
    struct timespec ts = clock_deadline_in(seconds * 1000);
    pthread_mutex_lock(&w.lock);
    while (!atomic_load(&w.stop))
        if (pthread_cond_timedwait(&w.wake, &w.lock, &ts)) break;
    pthread_mutex_unlock(&w.lock);
}

static int hour_now(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm); /* the process runs with TZ=Europe/Paris */
    return tm.tm_hour;
}

/* One daily run; false when it failed (to be tried again later). */
static bool run_once(void)
{
    PGconn *pg = purge_connect();
    if (!pg) return false;
    purge_plan plan;
    purge_plan_init(&plan, w.cfg, NULL);
    lda_err e = purge_lock(pg);
    if (e == LDA_ECONFLICT) {
        log_info("daily purge: another instance is purging");
        PQfinish(pg);
        return true;
    }
    purge_counts n;
    bool skipped = false;
    if (!e) e = purge_execute(pg, &plan, true, &w.stop, &n, &skipped);
    purge_unlock(pg);
    PQfinish(pg);
    if (e) {
        log_json(LOG_WARN, "daily purge failed", json_pack("{s:s}", "error", lda_err_name(e)));
        return false;
    }
    if (skipped) return true;
    json_t *counts = json_object();
    for (int i = 0; i < RETENTION_KIND_COUNT; i++)
        json_object_set_new(counts, RETENTION_KINDS[i].name, json_integer(n.n[i]));
    log_json(LOG_INFO, "daily purge done",
             json_pack("{s:s, s:o}", "as_of", plan.as_of, "removed", counts));
    return true;
}

static void *daily_main(void *arg)
{
    (void)arg;
    int32_t last_day = -1;
    nap(FIRST_LOOK_S);
    while (!atomic_load(&w.stop)) {
        int32_t today = today_paris();
        if (retention_daily_due(w.cfg->purge_hour, hour_now(), today, last_day)) {
            if (run_once())
                last_day = today;
            else {
                nap(RETRY_AFTER_S);
                continue;
            }
        }
        nap(LOOK_EVERY_S);
    }
    return NULL;
}

void retention_start(const lda_config *cfg)
{
    if (cfg->purge_hour < 0) return;
    w.cfg = cfg;
    atomic_store(&w.stop, false);
    if (pthread_create(&w.thread, NULL, daily_main, NULL) == 0) w.running = true;
}

void retention_stop(void)
{
    if (!w.running) return;
    pthread_mutex_lock(&w.lock);
    atomic_store(&w.stop, true);
    pthread_cond_signal(&w.wake);
    pthread_mutex_unlock(&w.lock);
    pthread_join(w.thread, NULL);
    w.running = false;
}
