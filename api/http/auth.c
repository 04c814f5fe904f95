/*
 * Authentication (see auth.h). Four small tables, each under its own lock:
 *
 *   known    valid tokens by hash: the row is trusted CACHE_TTL_MS (a revocation made by
 *            another instance takes effect within that time; at once in this process), and
 *            the hash itself is remembered KNOWN_MS so that its owner is never throttled
 *            for what other clients of its address do;
 *   unknown  hashes the database does not hold, for NEGATIVE_TTL_MS (tokens are 256 random
 *            bits: one that was unknown cannot be issued later);
 *   buckets  the per-token rate limit, by token id, never evicted while not full (a full
 *            bucket is the same as a new one);
 *   addrs    per client address, the budget of look-ups that found nothing.
 */
#include "http/auth.h"
#include "core/clock.h"
#include "core/secret.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define KNOWN_SLOTS     1024
#define CACHE_TTL_MS    2000
#define KNOWN_MS        (3600 * 1000)
#define UNKNOWN_SLOTS   4096
#define NEGATIVE_TTL_MS (60 * 1000)
#define BUCKET_SLOTS    4096
#define BUCKET_PROBE    16
#define ADDR_SLOTS      4096

typedef struct {
    bool used;
    char hash[SECRET_HASH_HEX];
    long long fetched_ms; /* the row below is trusted until fetched_ms + CACHE_TTL_MS */
    long long seen_ms;    /* last time this hash was found valid */
    lda_credential row;
} known_entry;

typedef struct {
    char hash[SECRET_HASH_HEX];
    long long until_ms;
} unknown_entry;

typedef struct {
    char token_id[37];
    double tokens;
    long long at_ms;
} bucket;

typedef struct {
    unsigned char addr[16];
    double tokens;
    long long at_ms;
} addr_budget;

static struct {
    pthread_mutex_t lock;
    known_entry known[KNOWN_SLOTS];
    unknown_entry unknown[UNKNOWN_SLOTS];
    bucket buckets[BUCKET_SLOTS];
    addr_budget addrs[ADDR_SLOTS];
    double rps, burst;           /* per token */
    double fail_rps, fail_burst; /* per address */
    uint64_t seed;               /* keys the address hash: no chosen collisions */
    auth_lookup_fn lookup;
    auth_stats stats;
} st = {.lock = PTHREAD_MUTEX_INITIALIZER};

void auth_init(const lda_config *cfg, auth_lookup_fn lookup)
{
    st.lookup = lookup;
    st.rps = (double)cfg->rate_limit_rps;
    st.burst = (double)cfg->rate_limit_burst;
    st.fail_rps = (double)cfg->auth_fail_rps;
    st.fail_burst = (double)cfg->auth_fail_burst;
    if (RAND_bytes((unsigned char *)&st.seed, sizeof st.seed) != 1) st.seed = 0x9e3779b97f4a7c15u;
}

void auth_shutdown(void) { auth_cache_clear(); }

void auth_cache_clear(void)
{
    pthread_mutex_lock(&st.lock);
    for (size_t i = 0; i < KNOWN_SLOTS; i++) st.known[i].fetched_ms = 0; /* re-read, still known */
    pthread_mutex_unlock(&st.lock);
}

void auth_get_stats(auth_stats *out)
{
    pthread_mutex_lock(&st.lock);
    *out = st.stats;
    pthread_mutex_unlock(&st.lock);
}

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static size_t slot_of(const char *hash, size_t slots)
{
    return (size_t)(fnv(hash, 16, 0xcbf29ce484222325u) % slots);
}

/* The bearer token of the Authorization header and its length, or NULL. */
static const char *bearer(const lda_req *r, size_t *len)
{
    const char *h = http_req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return NULL;
    h += 7;
    while (*h == ' ') h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ') n--;
    *len = n;
    return h;
}

/* A token bucket refilled at `rate` per second up to `cap`: takes one when it can. */
static bool take(double *tokens, long long *at_ms, double rate, double cap, long long now)
{
    if (!*at_ms) {
        *tokens = cap;
        *at_ms = now;
    }
    *tokens += (double)(now - *at_ms) / 1000.0 * rate;
    if (*tokens > cap) *tokens = cap;
    *at_ms = now;
    if (*tokens < 1.0) return false;
    *tokens -= 1.0;
    return true;
}

static bool bucket_full(const bucket *b, long long now)
{
    return !b->at_ms || b->tokens + (double)(now - b->at_ms) / 1000.0 * st.rps >= st.burst;
}

/* The bucket of a token id (created full when absent). Under st.lock. */
static bucket *bucket_of(const char *token_id, long long now)
{
    size_t h = (size_t)(fnv(token_id, strlen(token_id), 0xcbf29ce484222325u) % BUCKET_SLOTS);
    bucket *reuse = NULL, *oldest = NULL;
    for (size_t k = 0; k < BUCKET_PROBE; k++) {
        bucket *b = &st.buckets[(h + k) % BUCKET_SLOTS];
        if (!strcmp(b->token_id, token_id)) return b;
        if (!reuse && (!b->token_id[0] || bucket_full(b, now))) reuse = b;
        if (!oldest || b->at_ms < oldest->at_ms) oldest = b;
    }
    /* All probed buckets in use by other tokens spending their budget (more than
     * BUCKET_PROBE such tokens on one hash chain): the least recently used one starts over. */
    bucket *b = reuse ? reuse : oldest;
    memset(b, 0, sizeof *b);
    snprintf(b->token_id, sizeof b->token_id, "%s", token_id);
    return b;
}

/* Spends one request of the token's rate; fills *rate. Under st.lock. */
static lda_err spend(const lda_credential *row, long long now, auth_rate *rate, int *retry_after_s)
{
    memset(rate, 0, sizeof *rate);
    if (st.rps <= 0) return LDA_OK;
    bucket *b = bucket_of(row->who.token_id, now);
    bool ok = take(&b->tokens, &b->at_ms, st.rps, st.burst, now);
    rate->on = true;
    rate->quota = (long)st.burst;
    rate->window_s = (long)((st.burst + st.rps - 1) / st.rps);
    rate->remaining = (long)b->tokens;
    double to_full = (st.burst - b->tokens) / st.rps;
    rate->reset_s = (long)to_full + (to_full > (double)(long)to_full);
    if (ok) return LDA_OK;
    st.stats.rate_limited++;
    *retry_after_s = (int)((1.0 - b->tokens) / st.rps) + 1;
    return LDA_ERATELIMIT;
}

/* The store gives expires_at in whole seconds, rounded to the nearest: a token is refused
 * from half a second before that value, so never after its real expiry (at most a second
 * before it). */
static bool expired(int64_t expires_at)
{
    if (!expires_at) return false;
    return clock_wall_ms() >= expires_at * 1000 - 500;
}

static lda_err check_row(const lda_credential *row)
{
    if (row->revoked || expired(row->expires_at) || !row->who.role) return LDA_EUNAUTHORIZED;
    return LDA_OK;
}

/* The client address as 16 bytes (IPv4 mapped), or false when there is none. */
static bool addr_key(const struct sockaddr *sa, unsigned char out[16])
{
    memset(out, 0, 16);
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

/* The failure budget of an address. Under st.lock. A slot held by another address that is
 * still spending is shared (the conservative choice: the seed keeps collisions unchosen). */
static addr_budget *addr_of(const unsigned char key[16], long long now)
{
    addr_budget *a = &st.addrs[fnv(key, 16, st.seed) % ADDR_SLOTS];
    if (memcmp(a->addr, key, 16)) {
        bool idle = !a->at_ms ||
                    a->tokens + (double)(now - a->at_ms) / 1000.0 * st.fail_rps >= st.fail_burst;
        if (idle) {
            memset(a, 0, sizeof *a);
            memcpy(a->addr, key, 16);
        }
    }
    return a;
}

/* Takes one look-up from the address's budget; false when it has none. Under st.lock. */
static bool addr_take(const unsigned char key[16], long long now)
{
    addr_budget *a = addr_of(key, now);
    return take(&a->tokens, &a->at_ms, st.fail_rps, st.fail_burst, now);
}

/* Gives a look-up back (the token was valid). Under st.lock. */
static void addr_refund(const unsigned char key[16], long long now)
{
    addr_budget *a = addr_of(key, now);
    if (!memcmp(a->addr, key, 16) && a->tokens + 1.0 <= st.fail_burst) a->tokens += 1.0;
}

lda_err auth_authenticate(const lda_req *r, lda_principal *who, auth_rate *rate, int *retry_after_s)
{
    memset(rate, 0, sizeof *rate);
    size_t len = 0;
    const char *token = bearer(r, &len);
    if (!token || !secret_token_well_formed(token, len)) {
        pthread_mutex_lock(&st.lock);
        st.stats.malformed++;
        pthread_mutex_unlock(&st.lock);
        return LDA_EUNAUTHORIZED;
    }
    char hash[SECRET_HASH_HEX];
    secret_sha256_hex(token, len, hash);
    unsigned char addr[16];
    bool has_addr = addr_key(r->client, addr);
    long long now = clock_mono_ms();

    pthread_mutex_lock(&st.lock);
    known_entry *k = &st.known[slot_of(hash, KNOWN_SLOTS)];
    bool is_known = k->used && secret_equal(k->hash, hash, 64);
    if (is_known && now - k->fetched_ms < CACHE_TTL_MS) {
        lda_err err = check_row(&k->row);
        if (!err) err = spend(&k->row, now, rate, retry_after_s);
        if (!err) *who = k->row.who;
        pthread_mutex_unlock(&st.lock);
        return err;
    }
    unknown_entry *u = &st.unknown[slot_of(hash, UNKNOWN_SLOTS)];
    if (!is_known && u->until_ms > now && secret_equal(u->hash, hash, 64)) {
        st.stats.negative++;
        pthread_mutex_unlock(&st.lock);
        return LDA_EUNAUTHORIZED;
    }
    /* A token not known valid spends one of its address's look-ups before it is looked up
     * (given back if it turns out valid), so concurrent requests cannot overdraw the budget. */
    bool charged = !(is_known && now - k->seen_ms < KNOWN_MS) && has_addr && st.fail_rps > 0;
    if (charged && !addr_take(addr, now)) {
        st.stats.throttled++;
        *retry_after_s = st.fail_rps >= 1 ? 1 : (int)(1.0 / st.fail_rps) + 1;
        pthread_mutex_unlock(&st.lock);
        return LDA_ERATELIMIT;
    }
    st.stats.lookups++;
    pthread_mutex_unlock(&st.lock);

    lda_credential row;
    lda_err err = st.lookup(hash, &row);
    if (err && err != LDA_ENOTFOUND) return err;
    bool found = err == LDA_OK;

    pthread_mutex_lock(&st.lock);
    if (!found) {
        st.stats.unknown++;
        u = &st.unknown[slot_of(hash, UNKNOWN_SLOTS)];
        memcpy(u->hash, hash, sizeof hash);
        u->until_ms = now + NEGATIVE_TTL_MS;
        k = &st.known[slot_of(hash, KNOWN_SLOTS)];
        if (k->used && secret_equal(k->hash, hash, 64)) k->used = false; /* deleted row */
        pthread_mutex_unlock(&st.lock);
        return LDA_EUNAUTHORIZED;
    }
    k = &st.known[slot_of(hash, KNOWN_SLOTS)];
    memset(k, 0, sizeof *k);
    k->used = true;
    memcpy(k->hash, hash, sizeof hash);
    k->fetched_ms = now;
    k->row = row;
    err = check_row(&k->row);
    if (!err) k->seen_ms = now;
    if (!err && charged) addr_refund(addr, now);
    if (!err) err = spend(&k->row, now, rate, retry_after_s);
    if (!err) *who = k->row.who;
    pthread_mutex_unlock(&st.lock);
    return err;
}
