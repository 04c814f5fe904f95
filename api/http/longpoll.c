#include "http/longpoll.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#define STREAM_BLOCK 16384

/* The libmicrohttpd connection of a request (for the paths that may wait). */
typedef struct conn_entry {
    const struct _u_request *req;
    struct MHD_Connection *conn;
    struct conn_entry *next;
} conn_entry;

typedef struct waiter {
    struct MHD_Connection *conn;
    longpoll_fn fn;
    void (*free_ctx)(void *);
    void *ctx;
    long long deadline_ms, last_poll_ms;
    bool suspended; /* out of the worker's event loop: only we may resume it */
    bool woken;     /* something happened since its last poll */
    bool final;     /* answer now (shutdown) */
    char *body;
    size_t len, sent;
    struct waiter *prev, *next;
} waiter;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t tick; /* the timer thread's wake-up */
    conn_entry *conns;
    waiter *head;
    size_t count;
    long max;
    long min_interval_ms;
    char prefix[64];
    bool stopping, timer_running;
    pthread_t timer;
} lp = {.lock = PTHREAD_MUTEX_INITIALIZER, .tick = PTHREAD_COND_INITIALIZER};

/* ---- the connection of a request --------------------------------------------------- */

void longpoll_track(const struct _u_request *req, struct MHD_Connection *con, const char *path)
{
    if (!lp.prefix[0] || !path || strncmp(path, lp.prefix, strlen(lp.prefix))) return;
    conn_entry *e = xmalloc(sizeof *e);
    e->req = req;
    e->conn = con;
    pthread_mutex_lock(&lp.lock);
    e->next = lp.conns;
    lp.conns = e;
    pthread_mutex_unlock(&lp.lock);
}

void longpoll_untrack(const struct _u_request *req)
{
    pthread_mutex_lock(&lp.lock);
    for (conn_entry **p = &lp.conns; *p; p = &(*p)->next)
        if ((*p)->req == req) {
            conn_entry *e = *p;
            *p = e->next;
            free(e);
            break;
        }
    pthread_mutex_unlock(&lp.lock);
}

/* ---- waiting ------------------------------------------------------------------------ */

/* Resumes w if it is suspended (lock held). */
static void resume(waiter *w)
{
    if (!w->suspended) return;
    w->suspended = false;
    MHD_resume_connection(w->conn);
}

static void unlink_waiter(waiter *w)
{
    if (w->prev) w->prev->next = w->next;
    if (w->next) w->next->prev = w->prev;
    if (lp.head == w) lp.head = w->next;
    lp.count--;
}

/* libmicrohttpd's content reader: runs on the connection's worker thread. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    waiter *w = cls;
    for (;;) {
        if (w->body) {
            if (w->sent == w->len) return MHD_CONTENT_READER_END_OF_STREAM;
            size_t n = w->len - w->sent < max ? w->len - w->sent : max;
            memcpy(buf, w->body + w->sent, n);
            w->sent += n;
            return (ssize_t)n;
        }
        pthread_mutex_lock(&lp.lock);
        long long now = clock_mono_ms();
        bool final = w->final || now >= w->deadline_ms;
        bool due = w->woken && now >= w->last_poll_ms + lp.min_interval_ms;
        if (!final && !due) {
            /* out of the event loop until resume() */
            w->suspended = true;
            MHD_suspend_connection(w->conn);
            pthread_cond_signal(&lp.tick);
            pthread_mutex_unlock(&lp.lock);
            return 0;
        }
        w->woken = false;
        w->last_poll_ms = now;
        pthread_mutex_unlock(&lp.lock);
        char *body = NULL;
        size_t len = 0;
        if (w->fn(w->ctx, final, &body, &len) || final) {
            if (!body) return MHD_CONTENT_READER_END_WITH_ERROR;
            w->body = body;
            w->len = len;
        }
    }
}

/* libmicrohttpd's response destructor: the answer is done, or the client went away. */
static void reader_free(void *cls)
{
    waiter *w = cls;
    pthread_mutex_lock(&lp.lock);
    unlink_waiter(w);
    pthread_mutex_unlock(&lp.lock);
    free(w->body);
    w->free_ctx(w->ctx);
    free(w);
}

/* Resumes the waiters whose deadline passed or whose wake-up is due; sleeps until the
 * next one. */
static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lp.lock);
    while (!lp.stopping) {
        long long now = clock_mono_ms(), next = now + 1000;
        for (waiter *w = lp.head; w; w = w->next) {
            if (!w->suspended) continue;
            long long due = w->deadline_ms;
            if (w->woken && w->last_poll_ms + lp.min_interval_ms < due)
                due = w->last_poll_ms + lp.min_interval_ms;
            if (due <= now)
                resume(w);
            else if (due < next)
                next = due;
        }
        struct timespec ts = clock_deadline_in(next - now);
        pthread_cond_timedwait(&lp.tick, &lp.lock, &ts);
    }
    pthread_mutex_unlock(&lp.lock);
    return NULL;
}

void longpoll_init(long max_waiters, const char *path_prefix, long min_interval_ms)
{
    pthread_mutex_lock(&lp.lock);
    lp.max = max_waiters;
    lp.min_interval_ms = min_interval_ms;
    snprintf(lp.prefix, sizeof lp.prefix, "%s", path_prefix ? path_prefix : "");
    lp.stopping = false;
    pthread_mutex_unlock(&lp.lock);
    if (!lp.timer_running && pthread_create(&lp.timer, NULL, timer_main, NULL) == 0)
        lp.timer_running = true;
}

lda_err longpoll_answer(lda_req *r, const char *content_type, long long deadline_ms, longpoll_fn fn,
                        void (*free_ctx)(void *), void *ctx)
{
    pthread_mutex_lock(&lp.lock);
    struct MHD_Connection *conn = NULL;
    for (conn_entry *e = lp.conns; e; e = e->next)
        if (e->req == r->u) conn = e->conn;
    if (!conn || lp.stopping || !lp.timer_running || (long)lp.count >= lp.max) {
        pthread_mutex_unlock(&lp.lock);
        return LDA_EUNAVAILABLE;
    }
    waiter *w = xcalloc(1, sizeof *w);
    w->conn = conn;
    w->fn = fn;
    w->free_ctx = free_ctx;
    w->ctx = ctx;
    w->deadline_ms = deadline_ms;
    w->last_poll_ms = clock_mono_ms(); /* the handler has just polled */
    w->next = lp.head;
    if (lp.head) lp.head->prev = w;
    lp.head = w;
    lp.count++;
    pthread_mutex_unlock(&lp.lock);

    if (ulfius_set_stream_response(r->res, 200, reader, reader_free, U_STREAM_SIZE_UNKNOWN,
                                   STREAM_BLOCK, w) != U_OK) {
        pthread_mutex_lock(&lp.lock);
        unlink_waiter(w);
        pthread_mutex_unlock(&lp.lock);
        free(w);
        return LDA_EUNAVAILABLE;
    }
    http_set_header(r, "Content-Type", content_type);
    r->status = 200;
    return LDA_OK;
}

void longpoll_wake_all(void)
{
    pthread_mutex_lock(&lp.lock);
    long long now = clock_mono_ms();
    for (waiter *w = lp.head; w; w = w->next) {
        w->woken = true;
        if (now >= w->last_poll_ms + lp.min_interval_ms) resume(w);
    }
    pthread_cond_signal(&lp.tick);
    pthread_mutex_unlock(&lp.lock);
}

bool longpoll_stopping(void)
{
    pthread_mutex_lock(&lp.lock);
    bool s = lp.stopping;
    pthread_mutex_unlock(&lp.lock);
    return s;
}

size_t longpoll_waiting(void)
{
    pthread_mutex_lock(&lp.lock);
    size_t n = lp.count;
    pthread_mutex_unlock(&lp.lock);
    return n;
}

void longpoll_stop(long grace_ms)
{
    pthread_mutex_lock(&lp.lock);
    lp.stopping = true;
    for (waiter *w = lp.head; w; w = w->next) {
        w->final = true;
        resume(w);
    }
    pthread_cond_signal(&lp.tick);
    pthread_mutex_unlock(&lp.lock);
    if (lp.timer_running) {
        pthread_join(lp.timer, NULL);
        lp.timer_running = false;
    }
    long long until = clock_mono_ms() + grace_ms;
    while (longpoll_waiting() && clock_mono_ms() < until) usleep(10000);
    /* a waiter suspended after the loop above (its reader was running) is resumed here:
     * libmicrohttpd must not stop with suspended connections */
    pthread_mutex_lock(&lp.lock);
    size_t left = lp.count;
    for (waiter *w = lp.head; w; w = w->next) {
        w->final = true;
        resume(w);
    }
    pthread_mutex_unlock(&lp.lock);
    if (left)
        log_json(LOG_WARN, "long polls still open at shutdown",
                 json_pack("{s:I}", "count", (json_int_t)left));
}
