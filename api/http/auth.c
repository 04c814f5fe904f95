/*
 * Authentication with a small cache: a token's row is looked up once and kept CACHE_TTL_MS,
 * so that most requests cost no extra round trip, while a revocation made anywhere takes
 * effect within that time (at once in this process: auth_cache_clear). Expiry is checked
 * on every request against the cached expires_at. The per-token rate limit is a token
 * bucket kept beside the cached entry.
 */
#include "http/auth.h"
#include "core/secret.h"
#include "store/db.h"
#include "store/token.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CACHE_SLOTS  1024
#define CACHE_TTL_MS 2000

typedef struct {
    bool used;
    bool known; /* false: negative entry (no such token) */
    char hash[SECRET_HASH_HEX];
    long long fetched_ms;
    token_row row;
    double tokens; /* rate-limit bucket */
    long long bucket_ms;
} entry;

static struct {
    pthread_mutex_t lock;
    entry slots[CACHE_SLOTS];
    double rps, burst;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void auth_init(const lda_config *cfg)
{
    cache.rps = (double)cfg->rate_limit_rps;
    cache.burst = (double)cfg->rate_limit_burst;
}

void auth_shutdown(void) { auth_cache_clear(); }

void auth_cache_clear(void)
{
    pthread_mutex_lock(&cache.lock);
    memset(cache.slots, 0, sizeof cache.slots);
    pthread_mutex_unlock(&cache.lock);
}

static size_t slot_of(const char *hash)
{
    size_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h * 16 + (size_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return h % CACHE_SLOTS;
}

/* The bearer token of the Authorization header, or NULL. */
static const char *bearer(const lda_req *r)
{
    const char *h = http_req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return NULL;
    h += 7;
    while (*h == ' ') h++;
    size_t n = strlen(h);
    return n >= 8 && n <= 256 ? h : NULL;
}

/* Takes one request from the bucket; false (and the wait) when empty. Under cache.lock. */
static bool take(entry *e, long long now, int *retry_after_s)
{
    if (cache.rps <= 0) return true;
    if (!e->bucket_ms) {
        e->tokens = cache.burst;
        e->bucket_ms = now;
    }
    e->tokens += (double)(now - e->bucket_ms) / 1000.0 * cache.rps;
    if (e->tokens > cache.burst) e->tokens = cache.burst;
    e->bucket_ms = now;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return true;
    }
    int wait = (int)((1.0 - e->tokens) / cache.rps) + 1;
    *retry_after_s = wait;
    return false;
}

/* The store gives expires_at in whole seconds, rounded to the nearest: a token is refused
 * from half a second before that value, so never after its real expiry (at most a second
 * before it). */
static bool expired(int64_t expires_at)
{
    if (!expires_at) return false;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    return now_ms >= expires_at * 1000 - 500;
}

static lda_err check_row(const token_row *row)
{
    if (row->revoked) return LDA_EUNAUTHORIZED;
    if (expired(row->expires_at)) return LDA_EUNAUTHORIZED;
    if (!row->who.role) return LDA_EUNAUTHORIZED;
    return LDA_OK;
}

lda_err auth_authenticate(const lda_req *r, lda_principal *who, int *retry_after_s)
{
    const char *token = bearer(r);
    if (!token) return LDA_EUNAUTHORIZED;
    char hash[SECRET_HASH_HEX];
    secret_sha256_hex(token, strlen(token), hash);
    size_t s = slot_of(hash);
    long long now = now_ms();

    pthread_mutex_lock(&cache.lock);
    entry *e = &cache.slots[s];
    if (e->used && secret_equal(e->hash, hash, 64) && now - e->fetched_ms < CACHE_TTL_MS) {
        lda_err err = e->known ? check_row(&e->row) : LDA_EUNAUTHORIZED;
        if (!err && !take(e, now, retry_after_s)) err = LDA_ERATELIMIT;
        if (!err) *who = e->row.who;
        pthread_mutex_unlock(&cache.lock);
        return err;
    }
    pthread_mutex_unlock(&cache.lock);

    db_conn *c = NULL;
    lda_err err = db_acquire(&c);
    if (err) return err;
    token_row row;
    err = token_lookup(c, hash, &row);
    db_release(c);
    if (err && err != LDA_ENOTFOUND) return err;
    bool known = err == LDA_OK;

    pthread_mutex_lock(&cache.lock);
    e = &cache.slots[s];
    bool same = e->used && secret_equal(e->hash, hash, 64);
    double tokens = same ? e->tokens : 0;
    long long bucket_ms = same ? e->bucket_ms : 0;
    memset(e, 0, sizeof *e);
    e->used = true;
    e->known = known;
    memcpy(e->hash, hash, sizeof hash);
    e->fetched_ms = now;
    e->tokens = tokens;
    e->bucket_ms = bucket_ms;
    if (known) e->row = row;
    err = known ? check_row(&e->row) : LDA_EUNAUTHORIZED;
    if (!err && !take(e, now, retry_after_s)) err = LDA_ERATELIMIT;
    if (!err) *who = e->row.who;
    pthread_mutex_unlock(&cache.lock);
    return err;
}
