/* core/parse, core/cursor, core/secret: strict parsing of outside text. */
#include "check.h"
#include "core/cursor.h"
#include "core/parse.h"
#include "core/secret.h"

#include <stdlib.h>
#include <string.h>

TEST(parse_long_accepts_whole_numbers_in_range)
{
    long v = 0;
    CHECK(parse_long("42", 1, 100, &v) && v == 42);
    CHECK(parse_long("-5", -10, 10, &v) && v == -5);
    CHECK(!parse_long("101", 1, 100, &v));
    CHECK(!parse_long("4 2", 1, 100, &v));
    CHECK(!parse_long(" 42", 1, 100, &v));
    CHECK(!parse_long("42abc", 1, 100, &v));
    CHECK(!parse_long("", 1, 100, &v));
    CHECK(!parse_long("-", -1, 100, &v));
    CHECK(!parse_long("99999999999999999999999", 0, 100, &v));
    CHECK(!parse_long("+3", 0, 100, &v));
}

TEST(parse_date_rejects_impossible_dates)
{
    int32_t d;
    CHECK(parse_date("2024-02-29", &d));
    CHECK(!parse_date("2023-02-29", &d));
    CHECK(!parse_date("2023-13-01", &d));
    CHECK(!parse_date("2023-04-31", &d));
    CHECK(!parse_date("2023-4-01", &d));
    CHECK(!parse_date("1899-12-31", &d));
    CHECK(!parse_date("2023-01-01T00:00:00Z", &d));
    CHECK(parse_date("1970-01-02", &d) && d == 1);
    char buf[11];
    format_date(d, buf);
    CHECK_STR(buf, "1970-01-02");
}

TEST(parse_timestamp_needs_an_offset)
{
    int64_t us;
    CHECK(parse_timestamp("1970-01-01T00:00:01Z", &us) && us == 1000000);
    CHECK(parse_timestamp("1970-01-01T01:00:01+01:00", &us) && us == 1000000);
    CHECK(parse_timestamp("1970-01-01T00:00:01.5Z", &us) && us == 1500000);
    CHECK(!parse_timestamp("1970-01-01T00:00:01", &us));
    CHECK(!parse_timestamp("1970-01-01", &us));
    CHECK(!parse_timestamp("1970-01-01T25:00:00Z", &us));
    CHECK(!parse_timestamp("1970-02-30T00:00:00Z", &us));
    CHECK(!parse_timestamp("1970-01-01T00:00:00+1:00", &us));
}

TEST(uuid_and_age)
{
    CHECK(is_uuid("8f14e45f-ceea-467f-a9c4-1b6c0d3a1e2b"));
    CHECK(!is_uuid("8f14e45f-ceea-467f-a9c4-1b6c0d3a1e2"));
    CHECK(!is_uuid("8f14e45fxceea-467f-a9c4-1b6c0d3a1e2b"));
    CHECK(!is_uuid("' OR 1=1 --"));
    int32_t b, on;
    parse_date("2000-03-15", &b);
    parse_date("2025-03-14", &on);
    CHECK(age_on(b, on) == 24);
    parse_date("2025-03-15", &on);
    CHECK(age_on(b, on) == 25);
}

TEST(base64url_is_unpadded_and_strict)
{
    /* RFC 4648 test vectors, without padding, and their decoding back */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        char out[16];
        unsigned char back[16];
        size_t n = strlen(plain[i]);
        CHECK(secret_b64url_encode((const unsigned char *)plain[i], n, out) == strlen(coded[i]));
        CHECK(!strcmp(out, coded[i]));
        CHECK(secret_b64url_decode(coded[i], strlen(coded[i]), back) == (long)n);
        CHECK(!memcmp(back, plain[i], n));
    }
    /* the url alphabet: bytes 0xfb 0xff are "-_8" */
    static const unsigned char hi[] = {0xfb, 0xff};
    char out[8];
    CHECK(secret_b64url_encode(hi, 2, out) == 3 && !strcmp(out, "-_8"));
    unsigned char back[8];
    CHECK(secret_b64url_decode("Zm9v=", 5, back) == -1); /* padding */
    CHECK(secret_b64url_decode("Zm9v+", 5, back) == -1); /* the standard alphabet */
    CHECK(secret_b64url_decode("Zm+v", 4, back) == -1);
    CHECK(secret_b64url_decode("Zm9vY", 5, back) == -1); /* a length no encoding has */
    CHECK(secret_b64url_decode("Zm\0v", 4, back) == -1); /* a nul inside */
}

TEST(cursor_round_trips_and_rejects_garbage)
{
    char *c = cursor_encode("2024-01-01 10:00:00+01", "8f14e45f-ceea-467f-a9c4-1b6c0d3a1e2b");
    char *k = NULL, *id = NULL;
    CHECK(cursor_decode(c, &k, &id));
    CHECK_STR(k, "2024-01-01 10:00:00+01");
    CHECK_STR(id, "8f14e45f-ceea-467f-a9c4-1b6c0d3a1e2b");
    free(k);
    free(id);
    free(c);
    CHECK(!cursor_decode("not a cursor!", &k, &id));
    CHECK(!cursor_decode("", &k, &id));
    CHECK(!cursor_decode("eyJhIjoxfQ", &k, &id)); /* {"a":1}: valid base64, wrong shape */
}

TEST(tokens_are_long_random_and_hashed)
{
    char a[SECRET_TOKEN_LEN], b[SECRET_TOKEN_LEN], h[SECRET_HASH_HEX];
    secret_token_new(a);
    secret_token_new(b);
    CHECK(strlen(a) == 47 && !strncmp(a, "lda_", 4));
    CHECK(strcmp(a, b) != 0);
    secret_sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 2 */
    secret_hmac_hex("Jefe", 4, "what do ya want for nothing?", 28, h);
    CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
    RUN(parse_long_accepts_whole_numbers_in_range);
    RUN(parse_date_rejects_impossible_dates);
    RUN(parse_timestamp_needs_an_offset);
    RUN(uuid_and_age);
    RUN(base64url_is_unpadded_and_strict);
    RUN(cursor_round_trips_and_rejects_garbage);
    RUN(tokens_are_long_random_and_hashed);
    return check_summary();
}
