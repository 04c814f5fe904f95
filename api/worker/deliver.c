#include "worker/deliver.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "domain/webhook_rules.h"
#include "store/change.h"
#include "store/db.h"
#include "store/webhook_store.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define ANSWER_CAP       (64 * 1024) /* bytes of a receiver's answer read at most */
#define CLAIM_EVERY_MS   500         /* when nothing else happens */
#define ENQUEUE_EVERY_MS 1000        /* also catches endpoints enabled again */
#define PURGE_EVERY_MS   (10 * 60 * 1000)
#define CONNECT_MAX_MS   5000L
#define LEASE_MARGIN_S   5

/* One attempt in flight. */
typedef struct {
    webhook_job job;
    CURL *easy;
    struct curl_slist *headers;
    size_t received;
    bool capped;  /* the answer was longer than ANSWER_CAP */
    bool blocked; /* the address was refused (not public, origin not allowed) */
    bool allowed; /* the origin is in LDA_WEBHOOK_ALLOW */
    long long started_ms;
} attempt;

static struct {
    const lda_config *cfg;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    atomic_bool woken;
    pthread_mutex_t lock; /* guards multi for curl_multi_wakeup */
    CURLM *multi;
    attempt **inflight;
    int ninflight;
    long long enqueued_horizon;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .enqueued_horizon = -1};

/* ---- one attempt ---------------------------------------------------------------------- */

static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    attempt *a = arg;
    a->received += size * n;
    if (a->received > ANSWER_CAP) {
        a->capped = true;
        return 0; /* stop reading: the status is all that counts */
    }
    return size * n;
}

/* The socket libcurl connects: refused when the address is not public, unless the origin
 * is allowed by the operator. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    attempt *a = arg;
    if (!a->allowed && !webhook_address_public(&addr->addr)) {
        a->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static void attempt_free(attempt *a)
{
    if (!a) return;
    if (a->easy) {
        curl_multi_remove_handle(w.multi, a->easy);
        curl_easy_cleanup(a->easy);
    }
    curl_slist_free_all(a->headers);
    free(a->job.url);
    free(a->job.body);
    free(a->job.secret);
    free(a->job.previous_secret);
}

/* The webhook-signature header value: one signature per valid secret. False when no
 * secret can be opened (the sealing key changed). */
static bool signature_header(const webhook_job *j, const char *msg_id, long long ts, char *out,
                             size_t outlen)
{
    const char *sealed[2] = {j->secret, j->previous_secret};
    size_t used = (size_t)snprintf(out, outlen, "webhook-signature: ");
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (!sealed[i]) continue;
        char *secret = secret_open(webhook_key(), j->endpoint, sealed[i]);
        char sig[WEBHOOK_SIGNATURE_LEN];
        bool ok = secret && webhook_sign(secret, msg_id, ts, j->body, strlen(j->body), sig);
        if (secret) {
            OPENSSL_cleanse(secret, strlen(secret));
            free(secret);
        }
        if (!ok) continue;
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", n++ ? " " : "", sig);
    }
    return n > 0;
}

static attempt *attempt_new(webhook_job *job)
{
    attempt *a = xcalloc(1, sizeof *a);
    a->job = *job;
    memset(job, 0, sizeof *job); /* taken */
    a->started_ms = clock_mono_ms();
    webhook_origin o;
    const char *why;
    a->allowed =
        webhook_url_parse(a->job.url, &o, &why) && webhook_origin_allowed(w.cfg->webhook_allow, &o);

    char msg_id[48], hdr[160], sig[256];
    snprintf(msg_id, sizeof msg_id, "msg_%s", a->job.id);
    long long ts = (long long)time(NULL);
    if (!signature_header(&a->job, msg_id, ts, sig, sizeof sig)) {
        log_json(LOG_ERROR, "webhook secret cannot be opened (was LDA_WEBHOOK_KEY changed?)",
                 json_pack("{s:s}", "endpoint", a->job.endpoint));
        return a; /* no easy handle: recorded as failed by the caller */
    }
    a->headers = curl_slist_append(a->headers, "Content-Type: application/json");
    snprintf(hdr, sizeof hdr, "webhook-id: %s", msg_id);
    a->headers = curl_slist_append(a->headers, hdr);
    snprintf(hdr, sizeof hdr, "webhook-timestamp: %lld", ts);
    a->headers = curl_slist_append(a->headers, hdr);
    a->headers = curl_slist_append(a->headers, sig);
    a->headers = curl_slist_append(a->headers, "User-Agent: lda-api-webhooks/" LDA_VERSION);
    a->headers = curl_slist_append(a->headers, "Expect:"); /* no 100-continue round trip */

    CURL *e = curl_easy_init();
    if (!e || !a->headers) lda_oom();
    long timeout_ms = w.cfg->webhook_timeout_s * 1000L;
    curl_easy_setopt(e, CURLOPT_URL, a->job.url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, a->allowed ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never through a proxy of the environment */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CONNECT_MAX_MS ? timeout_ms : CONNECT_MAX_MS);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->job.body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(a->job.body));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, a);
    curl_easy_setopt(e, CURLOPT_PRIVATE, a);
    a->easy = e;
    curl_multi_add_handle(w.multi, e);
    return a;
}

/* The error code recorded for a failed attempt (never the library's message, which may
 * hold the URL). */
static const char *error_code(const attempt *a, CURLcode rc, long status)
{
    if (!a->easy) return "secret";
    if (a->blocked) return "blocked_address";
    switch (rc) {
    case CURLE_OK:
        return status ? "http_status" : NULL;
    case CURLE_WRITE_ERROR:
        return a->capped ? "answer_too_large" : "network";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "dns";
    case CURLE_COULDNT_CONNECT:
        return "connect";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "protocol";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return "tls";
    default:
        return "network";
    }
}

/* Records the outcome of a finished attempt. False when the database is unreachable. */
static bool finish(PGconn *pg, attempt *a, CURLcode rc)
{
    long status = 0;
    if (a->easy) curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
    bool answered = a->easy && (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && a->capped));
    bool ok = answered && status >= 200 && status < 300;
    bool gone = answered && status == 410;
    const char *err = ok ? NULL : error_code(a, answered ? CURLE_OK : rc, status);
    double jitter;
    unsigned char r[4];
    secret_random(r, sizeof r);
    jitter = (double)((unsigned)r[0] << 16 | (unsigned)r[1] << 8 | r[2]) / 16777216.0;
    long retry = webhook_retry_delay_ms(a->job.attempts, w.cfg->webhook_retry_base_ms, jitter);
    long duration = (long)(clock_mono_ms() - a->started_ms);
    if (!ok)
        log_json(LOG_INFO, "webhook delivery failed",
                 json_pack("{s:s, s:s, s:s, s:i, s:i}", "delivery", a->job.id, "endpoint",
                           a->job.endpoint, "error", err ? err : "", "status", (int)status,
                           "attempt", a->job.attempts));
    return webhook_record(pg, a->job.id, ok, answered ? (int)status : 0, err, duration, retry,
                          w.cfg->webhook_give_up_s, gone) == LDA_OK;
}

/* ---- the loop ------------------------------------------------------------------------- */

static void drop_inflight(int i)
{
    attempt_free(w.inflight[i]);
    free(w.inflight[i]);
    w.inflight[i] = w.inflight[--w.ninflight];
}

static void release_all(PGconn *pg)
{
    const char **ids = xcalloc((size_t)w.ninflight + 1, sizeof *ids);
    for (int i = 0; i < w.ninflight; i++) ids[i] = w.inflight[i]->job.id;
    if (pg) webhook_release_leases(pg, ids, w.ninflight);
    free(ids);
    while (w.ninflight) drop_inflight(w.ninflight - 1);
}

static void *deliver_main(void *arg)
{
    (void)arg;
    PGconn *pg = NULL;
    long long next_claim = 0, next_enqueue = 0, next_purge = clock_mono_ms() + 60000, backoff = 100;
    long lease = w.cfg->webhook_timeout_s + LEASE_MARGIN_S;
    while (!atomic_load(&w.stop)) {
        if (!pg || PQstatus(pg) != CONNECTION_OK) {
            PQfinish(pg);
            pg = db_connect_dedicated();
            if (!pg) {
                struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000};
                nanosleep(&ts, NULL);
                backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
                continue;
            }
            backoff = 100;
            w.enqueued_horizon = -1;
        }
        bool work = atomic_exchange(&w.woken, false);
        long long h = change_horizon();
        if (h > w.enqueued_horizon || work || clock_mono_ms() >= next_enqueue) {
            long created = 0;
            if (h >= 0 && webhook_enqueue(pg, h, &created) == LDA_OK) {
                w.enqueued_horizon = h;
                if (created) next_claim = 0;
            }
            next_enqueue = clock_mono_ms() + ENQUEUE_EVERY_MS;
        }
        int free_slots = (int)w.cfg->webhook_concurrency - w.ninflight;
        if (free_slots > 0 && clock_mono_ms() >= next_claim) {
            webhook_job *jobs = NULL;
            int n = 0;
            if (webhook_claim(pg, free_slots, lease, &jobs, &n) == LDA_OK) {
                for (int i = 0; i < n; i++) {
                    attempt *a = attempt_new(&jobs[i]);
                    if (!a->easy) { /* cannot sign: recorded as a failed attempt */
                        finish(pg, a, CURLE_OK);
                        attempt_free(a);
                        free(a);
                        continue;
                    }
                    w.inflight[w.ninflight++] = a;
                }
                free(jobs); /* the members were taken */
            }
            next_claim = clock_mono_ms() + CLAIM_EVERY_MS;
        }
        int running = 0, numfds = 0;
        curl_multi_perform(w.multi, &running);
        CURLMsg *m;
        int left;
        bool finished = false;
        while ((m = curl_multi_info_read(w.multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            attempt *a = (attempt *)priv;
            CURLcode rc = m->data.result;
            finish(pg, a, rc);
            for (int i = 0; i < w.ninflight; i++)
                if (w.inflight[i] == a) {
                    drop_inflight(i);
                    break;
                }
            finished = true;
        }
        if (finished) next_claim = 0; /* the next of the same resource may go now */
        if (clock_mono_ms() >= next_purge) {
            webhook_purge(pg, w.cfg->changes_retention_days);
            next_purge = clock_mono_ms() + PURGE_EVERY_MS;
        }
        if (!finished && !atomic_load(&w.woken))
            curl_multi_poll(w.multi, NULL, 0, w.ninflight ? 50 : 200, &numfds);
    }
    release_all(pg);
    PQfinish(pg);
    return NULL;
}

void deliver_start(const lda_config *cfg)
{
    if (cfg->webhook_concurrency <= 0) return;
    w.cfg = cfg;
    w.multi = curl_multi_init();
    if (!w.multi) lda_oom();
    w.inflight = xcalloc((size_t)cfg->webhook_concurrency, sizeof *w.inflight);
    atomic_store(&w.stop, false);
    if (pthread_create(&w.thread, NULL, deliver_main, NULL) == 0) w.running = true;
}

void deliver_wake(void)
{
    atomic_store(&w.woken, true);
    pthread_mutex_lock(&w.lock);
    if (w.multi) curl_multi_wakeup(w.multi);
    pthread_mutex_unlock(&w.lock);
}

void deliver_stop(void)
{
    if (!w.running) return;
    atomic_store(&w.stop, true);
    deliver_wake();
    pthread_join(w.thread, NULL);
    w.running = false;
    pthread_mutex_lock(&w.lock);
    curl_multi_cleanup(w.multi);
    w.multi = NULL;
    pthread_mutex_unlock(&w.lock);
    free(w.inflight);
    w.inflight = NULL;
}
