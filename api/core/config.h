/*
 * config — the service's settings, read from the environment once, before any thread
 * starts, validated, then handed around as an immutable struct.
 */
#ifndef LDA_CORE_CONFIG_H
#define LDA_CORE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

typedef struct {
    char *database_url;      /* LDA_DATABASE_URL (NULL when unset) */
    char *database_url_read; /* LDA_DATABASE_URL_READ (optional replica) */
    char *listen;            /* LDA_LISTEN, "host:port" */
    struct sockaddr_in listen_addr;
    char *batch_listen; /* LDA_BATCH_LISTEN: the batch routes' own listener (NULL: none) */
    struct sockaddr_in batch_listen_addr;
    char *metrics_listen; /* LDA_METRICS_LISTEN: /metrics without a token (NULL: none) */
    struct sockaddr_in metrics_listen_addr;
    long threads;                   /* LDA_THREADS: HTTP worker threads */
    long db_pool;                   /* LDA_DB_POOL: PostgreSQL connections */
    log_level log_level;            /* LDA_LOG_LEVEL */
    long stats_min_cell;            /* LDA_STATS_MIN_CELL */
    long stats_max_noise;           /* LDA_STATS_MAX_NOISE */
    char *pseudonym_key;            /* LDA_PSEUDONYM_KEY */
    bool dev_database_key;          /* LDA_DEV_DATABASE_KEY: the database's key when no key */
    char *cors_origins;             /* LDA_CORS_ORIGINS, comma-separated (NULL: no CORS) */
    long max_body_bytes;            /* LDA_MAX_BODY_BYTES */
    long max_batch_bytes;           /* LDA_MAX_BATCH_BYTES */
    long statement_timeout_ms;      /* LDA_STATEMENT_TIMEOUT_MS */
    long db_connect_timeout_s;      /* LDA_DB_CONNECT_TIMEOUT_S */
    long connection_timeout_s;      /* LDA_CONNECTION_TIMEOUT_S: idle HTTP connections */
    long max_connections;           /* LDA_MAX_CONNECTIONS */
    long max_connections_per_ip;    /* LDA_MAX_CONNECTIONS_PER_IP (0: no cap) */
    long rate_limit_rps;            /* LDA_RATE_LIMIT_RPS per token (0: off) */
    long rate_limit_burst;          /* LDA_RATE_LIMIT_BURST */
    long auth_fail_rps;             /* LDA_AUTH_FAIL_RPS: unknown-token look-ups per address */
    long auth_fail_burst;           /* LDA_AUTH_FAIL_BURST */
    long stats_concurrency;         /* LDA_STATS_CONCURRENCY (0: half the pool) */
    long audit_queue_max;           /* LDA_AUDIT_QUEUE_MAX: 503 beyond */
    bool publish_coordinator_email; /* LDA_PUBLISH_COORDINATOR_EMAIL */
    long shutdown_grace_s;          /* LDA_SHUTDOWN_GRACE_S: drain deadline on SIGTERM */
    bool allow_unsafe_durability;   /* LDA_ALLOW_UNSAFE_DURABILITY: tests only */
    char *web_dir;                  /* LDA_WEB_DIR: pages and assets of /docs and /observatory */
    /* the change feed and webhooks */
    long changes_retention_days; /* LDA_CHANGES_RETENTION_DAYS: events kept */
    long changes_max_waiters;    /* LDA_CHANGES_MAX_WAITERS: long polls waiting at once */
    char *webhook_key;           /* LDA_WEBHOOK_KEY: seals signing secrets (NULL: derived) */
    char *webhook_allow;         /* LDA_WEBHOOK_ALLOW: origins allowed over http / privately */
    long webhook_concurrency;    /* LDA_WEBHOOK_CONCURRENCY: deliveries in flight (0: none) */
    long webhook_timeout_s;      /* LDA_WEBHOOK_TIMEOUT_S: one attempt, connection included */
    long webhook_retry_base_ms;  /* LDA_WEBHOOK_RETRY_BASE_MS: first retry delay, doubled */
    long webhook_give_up_s;      /* LDA_WEBHOOK_GIVE_UP_S: failing this long disables */
    /* retention */
    long retention_siao_request_months; /* LDA_RETENTION_SIAO_REQUEST_MONTHS */
    long retention_referral_months;     /* LDA_RETENTION_REFERRAL_MONTHS: after closing */
    long retention_prevention_months;   /* LDA_RETENTION_PREVENTION_MONTHS: after last activity */
    long retention_audit_months;        /* LDA_RETENTION_AUDIT_MONTHS */
    long purge_hour;                    /* LDA_PURGE_HOUR: 0..23, -1: off */
} lda_config;

/*
 * Reads every setting from `getenv_fn` (getenv in production, a stub in tests) into *out.
 * On a bad value returns false and writes one line naming the variable into msg.
 * On success the caller owns *out and releases it with config_free().
 */
bool config_load(lda_config *out, const char *(*getenv_fn)(const char *), char *msg, size_t msglen);
void config_free(lda_config *c);

/* One line per setting ("LDA_THREADS  default 8  (1..256)  HTTP worker threads"). */
void config_print_help(void);

#endif
