#include "store/audit.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/doc.h"
#include "store/page.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define FLUSH_MS 200

typedef struct {
    char at[40];
    char token_id[37];
    const char *role;
    const char *action;
    const char *resource_type;
    char resource_id[37];
    char request_id[129];
    int status;
} event;

static struct {
    pthread_mutex_t lock;     /* guards the queue */
    pthread_mutex_t flushing; /* one flush at a time, in order */
    pthread_cond_t wake;
    event *items;
    size_t count, cap;
    size_t max;     /* LDA_AUDIT_QUEUE_MAX */
    size_t writing; /* events taken by the flush being written (still counted) */
    long refused, written, write_failures;
    bool stop;
    bool running;
    pthread_t thread;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .flushing = PTHREAD_MUTEX_INITIALIZER,
       .wake = PTHREAD_COND_INITIALIZER,
       .max = 100000};

static db_stmt S_INSERT = {
    "audit_insert",
    "INSERT INTO audit_event (at, token_id, role, action, resource_type, resource_id,"
    " request_id, status)"
    " SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[],"
    " $6::uuid[], $7::text[], $8::smallint[])",
    0};

void audit_record(const audit_actor *by, const char *action, const char *resource_type,
                  const char *resource_id, int status)
{
    event e;
    memset(&e, 0, sizeof e);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(e.at, sizeof e.at, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(e.at + n, sizeof e.at - n, ".%06ldZ", (long)tv.tv_usec);
    if (by->token_id) snprintf(e.token_id, sizeof e.token_id, "%s", by->token_id);
    e.role = by->role;
    e.action = action;
    e.resource_type = resource_type;
    if (resource_id) snprintf(e.resource_id, sizeof e.resource_id, "%s", resource_id);
    snprintf(e.request_id, sizeof e.request_id, "%s", by->request_id ? by->request_id : "");
    e.status = status;

    pthread_mutex_lock(&q.lock);
    if (q.count == q.cap) {
        q.cap = q.cap ? q.cap * 2 : 256;
        q.items = xrealloc(q.items, q.cap * sizeof *q.items);
    }
    q.items[q.count++] = e;
    pthread_mutex_unlock(&q.lock);
}

bool audit_queue_full(void) { return !audit_room(1); }

bool audit_admit(void)
{
    if (!audit_queue_full()) return true;
    audit_count_refusal();
    return false;
}

bool audit_room(size_t n)
{
    pthread_mutex_lock(&q.lock);
    bool room = q.count + q.writing + n <= q.max;
    pthread_mutex_unlock(&q.lock);
    return room;
}

void audit_count_refusal(void)
{
    pthread_mutex_lock(&q.lock);
    q.refused++;
    pthread_mutex_unlock(&q.lock);
}

void audit_get_stats(audit_stats *out)
{
    pthread_mutex_lock(&q.lock);
    *out = (audit_stats){(long)(q.count + q.writing), (long)q.max, q.refused, q.written,
                         q.write_failures};
    pthread_mutex_unlock(&q.lock);
}

/* Appends one element of a PostgreSQL array literal: NULL or a double-quoted value
 * (values here are ids, codes and timestamps: quoted anyway for safety). */
static void put_elem(buf_t *b, const char *v, bool first)
{
    if (!first) buf_puts(b, ",");
    if (!v || !*v) {
        buf_puts(b, "NULL");
        return;
    }
    buf_puts(b, "\"");
    for (const char *p = v; *p; p++) {
        char ch[3] = {0};
        if (*p == '"' || *p == '\\') {
            ch[0] = '\\';
            ch[1] = *p;
        } else
            ch[0] = *p;
        buf_puts(b, ch);
    }
    buf_puts(b, "\"");
}

lda_err audit_flush(db_conn *c)
{
    pthread_mutex_lock(&q.flushing);
    pthread_mutex_lock(&q.lock);
    event *items = q.items;
    size_t count = q.count;
    q.items = NULL;
    q.count = q.cap = 0;
    q.writing = count;
    pthread_mutex_unlock(&q.lock);
    if (!count) {
        pthread_mutex_unlock(&q.flushing);
        return LDA_OK;
    }
    buf_t cols[8];
    memset(cols, 0, sizeof cols);
    for (int k = 0; k < 8; k++) buf_puts(&cols[k], "{");
    for (size_t i = 0; i < count; i++) {
        event *e = &items[i];
        char status[12];
        snprintf(status, sizeof status, "%d", e->status);
        const char *vals[8] = {e->at,          e->token_id,   e->role, e->action, e->resource_type,
                               e->resource_id, e->request_id, status};
        for (int k = 0; k < 8; k++) put_elem(&cols[k], vals[k], i == 0);
    }
    const char *params[8];
    for (int k = 0; k < 8; k++) {
        buf_puts(&cols[k], "}");
        params[k] = cols[k].data;
    }
    lda_err err;
    PGresult *r = db_exec(c, &S_INSERT, 8, params, &err);
    PQclear(r);
    for (int k = 0; k < 8; k++) free(cols[k].data);
    pthread_mutex_lock(&q.lock);
    q.writing = 0;
    if (err) {
        /* put them back in front, to be retried by the next flush: never dropped */
        q.write_failures++;
        event *merged = xmalloc((count + q.count + 1) * sizeof *merged);
        memcpy(merged, items, count * sizeof *merged);
        if (q.count) memcpy(merged + count, q.items, q.count * sizeof *merged);
        free(q.items);
        q.items = merged;
        q.count += count;
        q.cap = q.count + 1;
    } else
        q.written += (long)count;
    pthread_mutex_unlock(&q.lock);
    free(items);
    pthread_mutex_unlock(&q.flushing);
    return err;
}

static void *writer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        struct timespec ts = clock_deadline_in(FLUSH_MS);
        if (!q.stop) pthread_cond_timedwait(&q.wake, &q.lock, &ts);
        bool stop = q.stop;
        size_t pending = q.count;
        pthread_mutex_unlock(&q.lock);
        if (pending) {
            db_conn *c = NULL;
            if (db_acquire(&c) == LDA_OK) {
                audit_flush(c);
                db_release(c);
            }
        }
        if (stop) break;
    }
    return NULL;
}

void audit_start(long queue_max)
{
    q.max = (size_t)queue_max;
    q.stop = false;
    if (pthread_create(&q.thread, NULL, writer, NULL) == 0) q.running = true;
}

void audit_stop(void)
{
    if (!q.running) return;
    pthread_mutex_lock(&q.lock);
    q.stop = true;
    pthread_cond_signal(&q.wake);
    pthread_mutex_unlock(&q.lock);
    pthread_join(q.thread, NULL);
    q.running = false;
    if (q.count)
        log_json(LOG_WARN, "audit events not written at shutdown",
                 json_pack("{s:I}", "count", (json_int_t)q.count));
    free(q.items);
    q.items = NULL;
    q.count = q.cap = 0;
}

static db_stmt S_LIST = {
    "audit_list",
    "WITH page AS (SELECT * FROM audit_event"
    "  WHERE ($1::uuid IS NULL OR token_id = $1::uuid)"
    "    AND ($2::text IS NULL OR resource_type = $2)"
    "    AND ($3::uuid IS NULL OR resource_id = $3::uuid)"
    "    AND ($4::timestamptz IS NULL OR at >= $4::timestamptz)"
    "    AND ($5::timestamptz IS NULL OR at < $5::timestamptz)"
    "    AND ($8::timestamptz IS NULL OR at <= $8::timestamptz)"
    "    AND ($6::bigint IS NULL OR id > $6::bigint)"
    "  ORDER BY id LIMIT $7::int + 1)"
    " SELECT coalesce(json_agg(json_build_object('id', id, 'at', at, 'token_id', token_id,"
    "  'role', role, 'action', action, 'resource_type', resource_type, 'resource_id', resource_id,"
    "  'request_id', request_id, 'status', status, 'counts', counts) ORDER BY id), '[]')::text,"
    "  count(*), (array_agg(id::text ORDER BY id))[$7::int],"
    "  (array_agg(id::text ORDER BY id))[$7::int] FROM page",
    0};

lda_err audit_list_json(db_conn *c, const char *token_id, const char *resource_type,
                        const char *resource_id, const char *from, const char *to_excl,
                        const char *to_incl, int limit, const char *cursor, char **json)
{
    char *key, *id;
    if (page_cursor(cursor, &key, &id)) return LDA_EINVALID;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {token_id, resource_type, resource_id, from, to_excl, key, lim, to_incl};
    lda_err e = store_page(c, &S_LIST, 8, params, limit, json);
    free(key);
    free(id);
    return e;
}
