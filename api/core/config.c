/*
 * The configuration table: one row per environment variable, with its parser, default and
 * range. Adding a setting is adding a row.
 */
#include "core/config.h"
#include "core/mem.h"
#include "core/parse.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_STRING, K_LONG, K_BOOL, K_LOGLEVEL, K_LISTEN, K_HOUR } kind;

/* Where a K_LISTEN setting keeps its parsed address, by the offset of its text. */
static struct sockaddr_in *listen_addr_of(lda_config *c, size_t offset)
{
    if (offset == offsetof(lda_config, batch_listen)) return &c->batch_listen_addr;
    if (offset == offsetof(lda_config, metrics_listen)) return &c->metrics_listen_addr;
    return &c->listen_addr;
}

typedef struct {
    const char *env;
    kind kind;
    size_t offset;
    const char *def; /* NULL: unset */
    long min, max;
    const char *help;
} setting;

#define OFF(f) offsetof(lda_config, f)

static const setting SETTINGS[] = {
    {"LDA_DATABASE_URL", K_STRING, OFF(database_url), NULL, 0, 0,
     "libpq URL of the database (required by serve and migrate)"},
    {"LDA_DATABASE_URL_READ", K_STRING, OFF(database_url_read), NULL, 0, 0,
     "libpq URL of a read replica (optional)"},
    {"LDA_LISTEN", K_LISTEN, OFF(listen), "127.0.0.1:8080", 0, 0, "address:port to listen on"},
    {"LDA_BATCH_LISTEN", K_LISTEN, OFF(batch_listen), NULL, 0, 0,
     "address:port of a second listener for the SIAO systems, the only one where batch routes"
     " take LDA_MAX_BATCH_BYTES (unset: batch routes take it on LDA_LISTEN)"},
    {"LDA_METRICS_LISTEN", K_LISTEN, OFF(metrics_listen), NULL, 0, 0,
     "address:port serving /metrics without a token, for the monitoring network (unset:"
     " /metrics needs an admin token)"},
    {"LDA_THREADS", K_LONG, OFF(threads), "8", 1, 256, "HTTP worker threads"},
    {"LDA_DB_POOL", K_LONG, OFF(db_pool), "8", 1, 256, "PostgreSQL connections"},
    {"LDA_LOG_LEVEL", K_LOGLEVEL, OFF(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"LDA_STATS_MIN_CELL", K_LONG, OFF(stats_min_cell), "11", 1, 1000,
     "disclosure control: published counts from 1 to this minus 1 are hidden"},
    {"LDA_STATS_MAX_NOISE", K_LONG, OFF(stats_max_noise), "2", 1, 5,
     "disclosure control: the cell-key method's largest noise on a published count"},
    {"LDA_PSEUDONYM_KEY", K_STRING, OFF(pseudonym_key), NULL, 32, 1024,
     "HMAC key of person keys (32 characters or more, secret and stable): required by serve and "
     "seed-demo"},
    {"LDA_DEV_DATABASE_KEY", K_BOOL, OFF(dev_database_key), "false", 0, 0,
     "development only: without LDA_PSEUDONYM_KEY, use a random key kept in the database"},
    {"LDA_CORS_ORIGINS", K_STRING, OFF(cors_origins), NULL, 0, 0,
     "comma-separated origins allowed by CORS (each scheme://host[:port]; * is refused)"},
    {"LDA_MAX_BODY_BYTES", K_LONG, OFF(max_body_bytes), "1048576", 1024, 67108864,
     "largest body of a single-record route"},
    {"LDA_MAX_BATCH_BYTES", K_LONG, OFF(max_batch_bytes), "33554432", 1024, 1073741824,
     "largest body of a batch route"},
    {"LDA_STATEMENT_TIMEOUT_MS", K_LONG, OFF(statement_timeout_ms), "5000", 100, 600000,
     "PostgreSQL statement_timeout of the service's sessions"},
    {"LDA_DB_CONNECT_TIMEOUT_S", K_LONG, OFF(db_connect_timeout_s), "2", 1, 60,
     "how long opening a PostgreSQL connection may take"},
    {"LDA_CONNECTION_TIMEOUT_S", K_LONG, OFF(connection_timeout_s), "30", 1, 3600,
     "idle HTTP connection timeout"},
    {"LDA_MAX_CONNECTIONS", K_LONG, OFF(max_connections), "2048", 16, 100000,
     "concurrent HTTP connections"},
    {"LDA_MAX_CONNECTIONS_PER_IP", K_LONG, OFF(max_connections_per_ip), "1024", 0, 100000,
     "concurrent HTTP connections per client address (0: no cap)"},
    {"LDA_RATE_LIMIT_RPS", K_LONG, OFF(rate_limit_rps), "200", 0, 1000000,
     "requests per second allowed per token (0: no limit)"},
    {"LDA_RATE_LIMIT_BURST", K_LONG, OFF(rate_limit_burst), "400", 1, 10000000,
     "burst allowed above the per-token rate"},
    {"LDA_AUTH_FAIL_RPS", K_LONG, OFF(auth_fail_rps), "10", 0, 100000,
     "look-ups of unknown tokens per second per client address (0: no limit)"},
    {"LDA_AUTH_FAIL_BURST", K_LONG, OFF(auth_fail_burst), "100", 1, 1000000,
     "burst of look-ups of unknown tokens allowed per client address"},
    {"LDA_STATS_CONCURRENCY", K_LONG, OFF(stats_concurrency), "0", 0, 256,
     "statistics requests served at once (0: half of LDA_DB_POOL, at least 1)"},
    {"LDA_AUDIT_QUEUE_MAX", K_LONG, OFF(audit_queue_max), "100000", 100, 10000000,
     "audit events waiting to be written before writes answer 503"},
    {"LDA_PUBLISH_COORDINATOR_EMAIL", K_BOOL, OFF(publish_coordinator_email), "false", 0, 0,
     "show the coordinators' e-mail addresses on the public platform routes"},
    {"LDA_SHUTDOWN_GRACE_S", K_LONG, OFF(shutdown_grace_s), "20", 1, 600,
     "how long SIGTERM waits for requests in flight"},
    {"LDA_WEB_DIR", K_STRING, OFF(web_dir), NULL, 0, 4096,
     "folder of the /docs and /observatory pages (unset: web/ beside the binary's build folder)"},
    {"LDA_ALLOW_UNSAFE_DURABILITY", K_BOOL, OFF(allow_unsafe_durability), "false", 0, 0,
     "serve even if PostgreSQL runs without fsync (tests only)"},
    /* the change feed and webhooks */
    {"LDA_CHANGES_RETENTION_DAYS", K_LONG, OFF(changes_retention_days), "30", 1, 3650,
     "days the change feed keeps its events (an older cursor answers 410)"},
    {"LDA_CHANGES_MAX_WAITERS", K_LONG, OFF(changes_max_waiters), "256", 0, 100000,
     "long polls of GET /v1/changes waiting at once (beyond: 503; 0: never wait)"},
    {"LDA_WEBHOOK_KEY", K_STRING, OFF(webhook_key), NULL, 32, 1024,
     "key sealing the webhook signing secrets (at least 32 characters; unset: derived from "
     "the pseudonymisation key)"},
    {"LDA_WEBHOOK_ALLOW", K_STRING, OFF(webhook_allow), NULL, 0, 4096,
     "comma-separated origins (scheme://host:port) webhooks may use over http or in a "
     "private or loopback range"},
    {"LDA_WEBHOOK_CONCURRENCY", K_LONG, OFF(webhook_concurrency), "8", 0, 256,
     "webhook deliveries in flight at once (0: this instance delivers none)"},
    {"LDA_WEBHOOK_TIMEOUT_S", K_LONG, OFF(webhook_timeout_s), "10", 1, 60,
     "time allowed for one delivery attempt, connection included"},
    {"LDA_WEBHOOK_RETRY_BASE_MS", K_LONG, OFF(webhook_retry_base_ms), "5000", 10, 3600000,
     "delay before the first retry of a failed delivery, doubled at each attempt (1 h at most)"},
    {"LDA_WEBHOOK_GIVE_UP_S", K_LONG, OFF(webhook_give_up_s), "86400", 1, 2592000,
     "a delivery failing this long is given up and its endpoint disabled"},
    /* retention (docs/security.md): what `lda-api purge` and the daily run remove */
    {"LDA_RETENTION_SIAO_REQUEST_MONTHS", K_LONG, OFF(retention_siao_request_months), "60", 12,
     1200, "months a SIAO request is kept after its reception"},
    {"LDA_RETENTION_REFERRAL_MONTHS", K_LONG, OFF(retention_referral_months), "24", 12, 1200,
     "months a closed referral (events, measures, placements; its household when nothing else "
     "keeps it) is kept after it closed"},
    {"LDA_RETENTION_PREVENTION_MONTHS", K_LONG, OFF(retention_prevention_months), "24", 12, 1200,
     "months an eviction prevention case is kept after its last activity or follow-up"},
    {"LDA_RETENTION_AUDIT_MONTHS", K_LONG, OFF(retention_audit_months), "12", 6, 120,
     "months an audit event is kept"},
    {"LDA_PURGE_HOUR", K_HOUR, OFF(purge_hour), "off", 0, 23,
     "hour of the day (Europe/Paris, 0..23) at which the service purges what is past its "
     "retention period once a day, or off (then run lda-api purge from cron)"},
};

static bool parse_listen(const char *v, struct sockaddr_in *sa)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) return false;
    char host[64];
    size_t hl = (size_t)(colon - v);
    if (hl >= sizeof host) return false;
    memcpy(host, v, hl);
    host[hl] = '\0';
    long port;
    if (!parse_long(colon + 1, 1, 65535, &port)) return false;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

static bool apply(lda_config *c, const setting *s, const char *v, char *msg, size_t msglen)
{
    char *field = (char *)c + s->offset;
    switch (s->kind) {
    case K_STRING:
        if (s->min > 0 && (long)strlen(v) < s->min) {
            snprintf(msg, msglen, "%s: must be at least %ld characters", s->env, s->min);
            return false;
        }
        if (s->max > 0 && (long)strlen(v) > s->max) {
            snprintf(msg, msglen, "%s: must be at most %ld characters", s->env, s->max);
            return false;
        }
        *(char **)field = *v ? xstrdup(v) : NULL;
        return true;
    case K_LONG:
        if (!parse_long(v, s->min, s->max, (long *)field)) {
            snprintf(msg, msglen, "%s: expected a whole number from %ld to %ld", s->env, s->min,
                     s->max);
            return false;
        }
        return true;
    case K_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "1"))
            *(bool *)field = true;
        else if (!strcmp(v, "false") || !strcmp(v, "0"))
            *(bool *)field = false;
        else {
            snprintf(msg, msglen, "%s: expected true or false", s->env);
            return false;
        }
        return true;
    case K_LOGLEVEL: {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, names[i])) {
                *(log_level *)field = (log_level)i;
                return true;
            }
        snprintf(msg, msglen, "%s: expected debug, info, warn or error", s->env);
        return false;
    }
    case K_HOUR:
        if (!strcmp(v, "off")) {
            *(long *)field = -1;
            return true;
        }
        if (!parse_long(v, s->min, s->max, (long *)field)) {
            snprintf(msg, msglen, "%s: expected off or an hour from %ld to %ld", s->env, s->min,
                     s->max);
            return false;
        }
        return true;
    case K_LISTEN:
        if (!parse_listen(v, listen_addr_of(c, s->offset))) {
            snprintf(msg, msglen, "%s: expected an IPv4 address and port, e.g. 127.0.0.1:8080",
                     s->env);
            return false;
        }
        *(char **)field = xstrdup(v);
        return true;
    }
    return false;
}

/* Each origin of LDA_CORS_ORIGINS is scheme://host[:port]: "*" (any site could then read
 * answers with a token its page holds) and anything else are refused at start-up. */
static bool cors_origins_valid(const char *list, char *msg, size_t msglen)
{
    if (!list) return true;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t len = strcspn(p, ",");
        size_t l = len;
        while (l && p[l - 1] == ' ') l--;
        if (!l) break;
        /* the scheme's length (0: none), then nothing but a host and a port after it */
        size_t scheme = l > 7 && !strncmp(p, "http://", 7)    ? 7
                        : l > 8 && !strncmp(p, "https://", 8) ? 8
                                                              : 0;
        bool clean = scheme > 0;
        for (size_t i = 0; i < l; i++)
            if (p[i] == '*' || p[i] == ' ' || (unsigned char)p[i] < 0x21 ||
                (unsigned char)p[i] > 0x7e)
                clean = false;
        if (!clean || memchr(p + scheme, '/', l - scheme)) {
            snprintf(
                msg, msglen,
                "LDA_CORS_ORIGINS: each origin must be scheme://host[:port] (\"*\" is refused)");
            return false;
        }
        p += len;
    }
    return true;
}

bool config_load(lda_config *out, const char *(*getenv_fn)(const char *), char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0]; i++) {
        const setting *s = &SETTINGS[i];
        const char *v = getenv_fn(s->env);
        if (!v) v = s->def;
        if (!v) continue;
        if (!apply(out, s, v, msg, msglen)) {
            config_free(out);
            return false;
        }
    }
    if (out->rate_limit_burst < out->rate_limit_rps) out->rate_limit_burst = out->rate_limit_rps;
    if (out->auth_fail_burst < out->auth_fail_rps) out->auth_fail_burst = out->auth_fail_rps;
    if (!out->stats_concurrency) out->stats_concurrency = out->db_pool / 2 ? out->db_pool / 2 : 1;
    if (!cors_origins_valid(out->cors_origins, msg, msglen)) {
        config_free(out);
        return false;
    }
    return true;
}

void config_free(lda_config *c)
{
    for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0]; i++) {
        const setting *s = &SETTINGS[i];
        if (s->kind == K_STRING || s->kind == K_LISTEN) {
            char **p = (char **)((char *)c + s->offset);
            free(*p);
            *p = NULL;
        }
    }
}

void config_print_help(void)
{
    printf("Environment:\n");
    for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0]; i++) {
        const setting *s = &SETTINGS[i];
        printf("  %-28s %s", s->env, s->help);
        if (s->def) printf(" (default %s)", s->def);
        if (s->kind == K_LONG) printf(" [%ld..%ld]", s->min, s->max);
        if (s->kind == K_HOUR) printf(" [off, %ld..%ld]", s->min, s->max);
        printf("\n");
    }
}
