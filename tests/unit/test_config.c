/* core/config: the configuration table. */
#include "check.h"
#include "core/config.h"

#include <arpa/inet.h>

static const char *const *fake_env;

static const char *lookup(const char *name)
{
    for (const char *const *p = fake_env; p && *p; p += 2)
        if (!strcmp(p[0], name)) return p[1];
    return NULL;
}

static bool load(const char *const *env, lda_config *c, char *msg)
{
    fake_env = env;
    return config_load(c, lookup, msg, 256);
}

TEST(defaults_are_safe)
{
    lda_config c;
    char msg[256];
    const char *const env[] = {NULL};
    CHECK(load(env, &c, msg));
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK(c.threads == 8 && c.db_pool == 8 && c.stats_min_cell == 11);
    CHECK(c.max_body_bytes == 1048576 && c.max_batch_bytes == 33554432);
    CHECK(c.database_url == NULL && c.pseudonym_key == NULL);
    CHECK(!c.allow_unsafe_durability);
    config_free(&c);
}

TEST(bad_values_name_the_variable)
{
    lda_config c;
    char msg[256];
    const char *const threads[] = {"LDA_THREADS", "abc", NULL};
    CHECK(!load(threads, &c, msg));
    CHECK(strstr(msg, "LDA_THREADS") == msg);
    CHECK(strchr(msg, '\n') == NULL);
    const char *const zero[] = {"LDA_DB_POOL", "0", NULL};
    CHECK(!load(zero, &c, msg) && strstr(msg, "LDA_DB_POOL"));
    const char *const listen[] = {"LDA_LISTEN", "localhost", NULL};
    CHECK(!load(listen, &c, msg) && strstr(msg, "LDA_LISTEN"));
    const char *const level[] = {"LDA_LOG_LEVEL", "loud", NULL};
    CHECK(!load(level, &c, msg) && strstr(msg, "LDA_LOG_LEVEL"));
    const char *const key[] = {"LDA_PSEUDONYM_KEY", "short", NULL};
    CHECK(!load(key, &c, msg) && strstr(msg, "LDA_PSEUDONYM_KEY"));
    const char *const big[] = {"LDA_MAX_BODY_BYTES", "999999999999", NULL};
    CHECK(!load(big, &c, msg) && strstr(msg, "LDA_MAX_BODY_BYTES"));
}

TEST(values_are_read)
{
    lda_config c;
    char msg[256];
    const char *const env[] = {"LDA_THREADS",
                               "4",
                               "LDA_LISTEN",
                               "127.0.0.1:9999",
                               "LDA_LOG_LEVEL",
                               "warn",
                               "LDA_DATABASE_URL",
                               "postgresql://x",
                               NULL};
    CHECK(load(env, &c, msg));
    CHECK(c.threads == 4 && c.log_level == LOG_WARN);
    CHECK(ntohs(c.listen_addr.sin_port) == 9999);
    CHECK_STR(c.database_url, "postgresql://x");
    config_free(&c);
}

TEST(cors_any_origin_is_refused)
{
    lda_config c;
    char msg[256];
    static const char *const bad[] = {"*",
                                      "https://a.example.org, *",
                                      "a.example.org",
                                      "https://a.example.org/path",
                                      "https://*.example.org",
                                      "ftp://a.example.org"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const env[] = {"LDA_CORS_ORIGINS", bad[i], NULL};
        msg[0] = '\0';
        CHECK(!load(env, &c, msg) && strstr(msg, "LDA_CORS_ORIGINS"));
    }
    const char *const good[] = {"LDA_CORS_ORIGINS",
                                "https://app.example.org, http://127.0.0.1:5173", NULL};
    CHECK(load(good, &c, msg));
    config_free(&c);
}

TEST(hardening_defaults)
{
    lda_config c;
    char msg[256];
    const char *const env[] = {"LDA_DB_POOL", "6", NULL};
    CHECK(load(env, &c, msg));
    CHECK(c.max_connections_per_ip == 1024 && c.auth_fail_rps == 10 && c.auth_fail_burst == 100);
    CHECK(c.stats_concurrency == 3); /* half the pool */
    CHECK(c.audit_queue_max == 100000 && !c.publish_coordinator_email);
    CHECK(c.batch_listen == NULL && c.metrics_listen == NULL);
    config_free(&c);
    const char *const listeners[] = {"LDA_BATCH_LISTEN", "127.0.0.1:9001", "LDA_METRICS_LISTEN",
                                     "127.0.0.1:9002", NULL};
    CHECK(load(listeners, &c, msg));
    CHECK(ntohs(c.batch_listen_addr.sin_port) == 9001 &&
          ntohs(c.metrics_listen_addr.sin_port) == 9002);
    CHECK(ntohs(c.listen_addr.sin_port) == 8080);
    config_free(&c);
    const char *const bad[] = {"LDA_BATCH_LISTEN", "nowhere", NULL};
    CHECK(!load(bad, &c, msg) && strstr(msg, "LDA_BATCH_LISTEN"));
}

TEST(retention_settings_have_safe_defaults_and_floors)
{
    lda_config c;
    char msg[256];
    const char *const none[] = {NULL};
    CHECK(load(none, &c, msg));
    CHECK(c.retention_siao_request_months == 60 && c.retention_referral_months == 24);
    CHECK(c.retention_prevention_months == 24 && c.retention_audit_months == 12);
    CHECK(c.purge_hour == -1); /* off unless the deployment sets an hour */
    config_free(&c);
    const char *const hour[] = {"LDA_PURGE_HOUR", "4", NULL};
    CHECK(load(hour, &c, msg) && c.purge_hour == 4);
    config_free(&c);
    const char *const off[] = {"LDA_PURGE_HOUR", "off", NULL};
    CHECK(load(off, &c, msg) && c.purge_hour == -1);
    config_free(&c);
    const char *const bad_hour[] = {"LDA_PURGE_HOUR", "24", NULL};
    CHECK(!load(bad_hour, &c, msg) && strstr(msg, "LDA_PURGE_HOUR") == msg);
    const char *const word[] = {"LDA_PURGE_HOUR", "never", NULL};
    CHECK(!load(word, &c, msg) && strstr(msg, "LDA_PURGE_HOUR") == msg);
    const char *const short_siao[] = {"LDA_RETENTION_SIAO_REQUEST_MONTHS", "11", NULL};
    CHECK(!load(short_siao, &c, msg) && strstr(msg, "LDA_RETENTION_SIAO_REQUEST_MONTHS") == msg);
    const char *const short_audit[] = {"LDA_RETENTION_AUDIT_MONTHS", "5", NULL};
    CHECK(!load(short_audit, &c, msg) && strstr(msg, "LDA_RETENTION_AUDIT_MONTHS") == msg);
    const char *const ok[] = {"LDA_RETENTION_REFERRAL_MONTHS", "12", NULL};
    CHECK(load(ok, &c, msg) && c.retention_referral_months == 12);
    config_free(&c);
}

int main(void)
{
    RUN(defaults_are_safe);
    RUN(bad_values_name_the_variable);
    RUN(values_are_read);
    RUN(cors_any_origin_is_refused);
    RUN(hardening_defaults);
    RUN(retention_settings_have_safe_defaults_and_floors);
    return check_summary();
}
