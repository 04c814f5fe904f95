#include "core/log.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static log_level min_level = LOG_INFO;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level lvl) { min_level = lvl; }

bool log_enabled(log_level lvl) { return lvl >= min_level; }

void log_json(log_level lvl, const char *msg, json_t *fields)
{
    if (!log_enabled(lvl)) {
        json_decref(fields);
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", (long)(tv.tv_usec / 1000));

    json_t *line =
        JCHECK(json_pack("{s:s, s:s, s:s}", "time", ts, "level", LEVEL_NAMES[lvl], "msg", msg));
    if (fields) json_object_update(line, fields);
    json_decref(fields);
    char *text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    if (!text) lda_oom();
    pthread_mutex_lock(&out_lock);
    fputs(text, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
    free(text);
}
