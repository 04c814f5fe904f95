/* domain/webhook_rules and core/secret: the URL and address policy, the retry schedule, the
 * Standard Webhooks signature, sealed secrets. */
#include "check.h"
#include "core/parse.h"
#include "core/secret.h"
#include "domain/webhook_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

static bool v4_public(const char *a)
{
    struct sockaddr_in s = {.sin_family = AF_INET};
    inet_pton(AF_INET, a, &s.sin_addr);
    return webhook_address_public((struct sockaddr *)&s);
}

static bool v6_public(const char *a)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return webhook_address_public((struct sockaddr *)&s);
}

TEST(only_public_addresses_are_public)
{
    const char *refused4[] = {"127.0.0.1",   "10.0.0.8",    "172.16.5.4",      "172.31.255.255",
                              "192.168.1.1", "169.254.1.1", "169.254.169.254", "100.64.0.1",
                              "0.0.0.0",     "224.0.0.1",   "255.255.255.255", "192.0.2.10",
                              "198.18.0.1"};
    for (size_t i = 0; i < sizeof refused4 / sizeof *refused4; i++) CHECK(!v4_public(refused4[i]));
    CHECK(v4_public("93.184.216.34") && v4_public("8.8.8.8") && v4_public("172.32.0.1"));
    const char *refused6[] = {"::1",           "::",          "fe80::1",          "fd12:3456::1",
                              "ff02::1",       "2001:db8::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3",
                              "64:ff9b::a00:1"};
    for (size_t i = 0; i < sizeof refused6 / sizeof *refused6; i++) CHECK(!v6_public(refused6[i]));
    CHECK(v6_public("2606:4700:4700::1111") && v6_public("::ffff:93.184.216.34"));
}

TEST(urls_are_parsed_strictly)
{
    webhook_origin o;
    const char *why;
    CHECK(webhook_url_parse("https://Hooks.Example.org/a?b=1", &o, &why));
    CHECK_STR(o.scheme, "https");
    CHECK_STR(o.host, "hooks.example.org");
    CHECK(o.port == 443);
    CHECK(webhook_url_parse("http://127.0.0.1:9000", &o, &why) && o.port == 9000);
    CHECK(webhook_url_parse("https://[2606:4700::1111]:8443/x", &o, &why) && o.port == 8443);
    CHECK_STR(o.host, "2606:4700::1111");
    const char *bad[] = {"ftp://x.org/",      "https://",           "https://u:p@x.org/",
                         "https://x.org/#f",  "https://x.org:0/",   "https://x.org:65536/",
                         "https://x.org:8a/", "https://[::1/",      "https://[zz::1]/",
                         "https://x org/",    "https://x.org/\x01", "https://exa_mple.org/",
                         "//x.org/",          "https:/x.org"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!webhook_url_parse(bad[i], &o, &why));
}

TEST(registration_wants_https_to_a_public_host_unless_allowed)
{
    const char *why;
    CHECK(webhook_url_allowed("https://hooks.example.org/x", NULL, &why));
    CHECK(webhook_url_allowed("https://93.184.216.34/x", NULL, &why));
    const char *refused[] = {"http://hooks.example.org/x",
                             "https://127.0.0.1/x",
                             "https://10.0.0.1/x",
                             "https://[::1]/x",
                             "https://localhost/x",
                             "https://localhost./x",
                             "https://a.localhost/x",
                             "https://nas.local/x",
                             "https://db.internal/x",
                             "https://intranet/x",
                             "https://127.1/x",
                             "https://0x7f000001/x"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        CHECK(!webhook_url_allowed(refused[i], NULL, &why));
    /* the operator's list: exact origins (scheme, host, port) */
    const char *allow = "http://127.0.0.1:9000, https://10.0.0.5";
    CHECK(webhook_url_allowed("http://127.0.0.1:9000/hook", allow, &why));
    CHECK(webhook_url_allowed("https://10.0.0.5:443/hook", allow, &why));
    CHECK(!webhook_url_allowed("http://127.0.0.1:9001/hook", allow, &why));
    CHECK(!webhook_url_allowed("https://127.0.0.1:9000/hook", allow, &why));
    CHECK(!webhook_url_allowed("http://10.0.0.5/hook", allow, &why));
}

TEST(retries_double_up_to_an_hour_with_a_tenth_of_jitter)
{
    CHECK(webhook_retry_delay_ms(1, 5000, 0.5) == 5000);
    CHECK(webhook_retry_delay_ms(2, 5000, 0.5) == 10000);
    CHECK(webhook_retry_delay_ms(5, 5000, 0.5) == 80000);
    CHECK(webhook_retry_delay_ms(40, 5000, 0.5) == WEBHOOK_RETRY_MAX_MS);
    CHECK(webhook_retry_delay_ms(1000000, 5000, 0.5) == WEBHOOK_RETRY_MAX_MS);
    CHECK(webhook_retry_delay_ms(1, 5000, 0) == 4500);
    CHECK(webhook_retry_delay_ms(1, 5000, 0.999999) <= 5500);
    CHECK(webhook_retry_delay_ms(0, 10, 0.5) == 10);
}

TEST(signatures_follow_standard_webhooks)
{
    /* computed independently: base64(HMAC-SHA-256(base64decode(secret after "whsec_"),
     * "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}")) with Python's hmac */
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw1yjhZ5Wzh5E=";
    const char *body = "{\"test\": 2432232314}";
    char sig[WEBHOOK_SIGNATURE_LEN];
    CHECK(
        webhook_sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig));
    CHECK_STR(sig, "v1,fojoGdHETSG0+DvXBWCBUe+N52vX+OHhQNGNsAGtkn4=");
    CHECK(!webhook_sign("whsec_short", "m", 1, body, strlen(body), sig));
    CHECK(!webhook_sign("nope_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw1yjhZ5Wzh5E=", "m", 1, body, 1, sig));
    char fresh[WEBHOOK_SECRET_LEN], other[WEBHOOK_SECRET_LEN];
    webhook_secret_new(fresh);
    webhook_secret_new(other);
    unsigned char key[64];
    CHECK(strncmp(fresh, "whsec_", 6) == 0 && strcmp(fresh, other) != 0);
    CHECK(webhook_secret_key(fresh, key) == WEBHOOK_SECRET_BYTES);
}

TEST(base64_is_decoded_strictly)
{
    unsigned char out[16];
    CHECK(secret_b64_decode("aGk=", 4, out) == 2 && out[0] == 'h' && out[1] == 'i');
    CHECK(secret_b64_decode("aGk", 3, out) == -1);
    CHECK(secret_b64_decode("a=Gk", 4, out) == -1);
    CHECK(secret_b64_decode("aG-_", 4, out) == -1);
    CHECK(secret_b64_decode("", 0, out) == 0);
}

TEST(sealed_secrets_open_only_with_their_key_and_row)
{
    unsigned char key[32], other[32];
    secret_random(key, sizeof key);
    secret_random(other, sizeof other);
    const char *id = "0d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a";
    char *sealed = secret_seal(key, id, "whsec_abc");
    char *again = secret_seal(key, id, "whsec_abc");
    CHECK(strncmp(sealed, "v1.", 3) == 0 && !strstr(sealed, "whsec"));
    CHECK(strcmp(sealed, again) != 0); /* a fresh nonce each time */
    char *plain = secret_open(key, id, sealed);
    CHECK_STR(plain, "whsec_abc");
    free(plain);
    CHECK(secret_open(other, id, sealed) == NULL);
    CHECK(secret_open(key, "another-row", sealed) == NULL);
    sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
    CHECK(secret_open(key, id, sealed) == NULL);
    CHECK(secret_open(key, id, "v2.xxxx") == NULL && secret_open(key, id, "v1.") == NULL);
    free(sealed);
    free(again);
}

int main(void)
{
    RUN(only_public_addresses_are_public);
    RUN(urls_are_parsed_strictly);
    RUN(registration_wants_https_to_a_public_host_unless_allowed);
    RUN(retries_double_up_to_an_hour_with_a_tenth_of_jitter);
    RUN(signatures_follow_standard_webhooks);
    RUN(base64_is_decoded_strictly);
    RUN(sealed_secrets_open_only_with_their_key_and_row);
    return check_summary();
}
