/* domain/batch_body and the token form: what is decided about a body or a token before
 * anything is parsed or looked up. */
#include "check.h"
#include "core/secret.h"
#include "domain/batch_body.h"

#include <stdlib.h>

static batch_body_result scan(const char *body, bool ndjson, size_t max, batch_body *b)
{
    return batch_body_scan(body, strlen(body), ndjson, max, b);
}

TEST(a_json_array_is_cut_into_its_records)
{
    batch_body b;
    const char *body = " [ {\"a\":\"x,]}\\\"\"} , [1,[2]],\n  3 ,\"s]\" ] \n";
    CHECK(scan(body, false, 10, &b) == BATCH_BODY_OK);
    CHECK(b.count == 4);
    if (b.count == 4) {
        CHECK(!strncmp(body + b.items[0].off, "{\"a\":\"x,]}\\\"\"}", b.items[0].len));
        CHECK(b.items[0].len == strlen("{\"a\":\"x,]}\\\"\"}"));
        CHECK(!strncmp(body + b.items[1].off, "[1,[2]]", b.items[1].len) && b.items[1].len == 7);
        CHECK(b.items[2].line == 2 && b.items[2].col == 3);
        CHECK(!strncmp(body + b.items[3].off, "\"s]\"", b.items[3].len));
    }
    batch_body_free(&b);
    CHECK(scan("[]", false, 10, &b) == BATCH_BODY_OK && b.count == 0);
    batch_body_free(&b);
}

TEST(a_body_that_is_not_an_array_or_not_well_formed_is_refused)
{
    batch_body b;
    CHECK(scan("{\"a\":1}", false, 10, &b) == BATCH_BODY_NOT_ARRAY);
    CHECK(scan("", false, 10, &b) == BATCH_BODY_MALFORMED);
    CHECK(scan("[1,]", false, 10, &b) == BATCH_BODY_MALFORMED && b.err_col == 4);
    CHECK(scan("[,1]", false, 10, &b) == BATCH_BODY_MALFORMED);
    CHECK(scan("[1 2", false, 10, &b) == BATCH_BODY_MALFORMED);
    CHECK(scan("[1] x", false, 10, &b) == BATCH_BODY_MALFORMED && b.err_col == 5);
    CHECK(scan("[\"unterminated]", false, 10, &b) == BATCH_BODY_MALFORMED);
    CHECK(scan("[1}", false, 10, &b) == BATCH_BODY_MALFORMED);
}

TEST(records_are_counted_before_any_is_parsed_and_counting_stops_at_the_limit)
{
    batch_body b;
    /* 11 records then garbage: too many, whatever follows */
    CHECK(scan("[{},{},{},{},{},{},{},{},{},{},{}, not json", false, 10, &b) ==
          BATCH_BODY_TOO_MANY);
    CHECK(b.count == 0 && b.items == NULL);
    CHECK(scan("[{},{},{},{},{},{},{},{},{},{}]", false, 10, &b) == BATCH_BODY_OK && b.count == 10);
    batch_body_free(&b);
    /* NDJSON: blank lines skipped, trailing spaces and CR trimmed, then counted */
    CHECK(scan("{}\r\n\n  \n{\"a\":1}  \nx\n", true, 10, &b) == BATCH_BODY_OK && b.count == 3);
    if (b.count == 3) CHECK(b.items[1].len == 7 && b.items[2].line == 5);
    batch_body_free(&b);
    size_t n = 1 << 20;
    char *lines = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) memcpy(lines + 2 * i, "x\n", 2);
    lines[2 * n] = '\0';
    CHECK(batch_body_scan(lines, 2 * n, true, 10000, &b) == BATCH_BODY_TOO_MANY);
    free(lines);
}

TEST(a_record_is_parsed_alone_and_refused_when_too_large_or_too_deep)
{
    batch_body b;
    const char *body =
        "[{\"a\":1}, {\"b\":\"0123456789\"}, "
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], {\"c\":1,\"c\":2}]";
    CHECK(scan(body, false, 10, &b) == BATCH_BODY_OK && b.count == 4);
    json_t *rec = NULL;
    int line = 0, col = 0;
    CHECK(batch_body_record(&b, 0, 100, &rec, &line, &col) == BATCH_RECORD_OK &&
          json_integer_value(json_object_get(rec, "a")) == 1);
    json_decref(rec);
    CHECK(batch_body_record(&b, 1, 10, &rec, &line, &col) == BATCH_RECORD_TOO_LARGE && !rec);
    CHECK(batch_body_record(&b, 2, 1000, &rec, &line, &col) == BATCH_RECORD_MALFORMED && !rec);
    CHECK(batch_body_record(&b, 3, 1000, &rec, &line, &col) == BATCH_RECORD_MALFORMED &&
          line == 1 && col > 60);
    batch_body_free(&b);
}

TEST(a_rejected_record_lists_a_bounded_number_of_errors)
{
    json_t *errors = json_array();
    for (int i = 0; i < 300; i++) {
        char field[32];
        snprintf(field, sizeof field, "/u%d", i);
        json_array_append_new(errors,
                              json_pack("{s:s, s:s}", "field", field, "message", "unknown field"));
    }
    char longer[400];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    json_object_set_new(json_array_get(errors, 0), "message", json_string(longer));
    batch_errors_cap(errors);
    CHECK(json_array_size(errors) == BATCH_ERRORS_PER_RECORD);
    CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 18), "field")), "/u18");
    CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 19), "message")),
              "281 more errors in this record are not listed");
    const char *cut = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
    CHECK(cut && strlen(cut) == BATCH_ERROR_TEXT_MAX + 3 &&
          !strcmp(cut + BATCH_ERROR_TEXT_MAX, "\xe2\x80\xa6"));
    json_decref(errors);
}

TEST(only_the_issued_token_form_is_looked_up)
{
    char t[SECRET_TOKEN_LEN];
    secret_token_new(t);
    CHECK(secret_token_well_formed(t, strlen(t)));
    CHECK(!secret_token_well_formed(t, strlen(t) - 1));
    CHECK(!secret_token_well_formed("lda_", 4));
    char bad[SECRET_TOKEN_LEN];
    memcpy(bad, t, sizeof bad);
    bad[10] = '.';
    CHECK(!secret_token_well_formed(bad, strlen(bad)));
    memcpy(bad, t, sizeof bad);
    bad[0] = 'L';
    CHECK(!secret_token_well_formed(bad, strlen(bad)));
    const char *parts[] = {"ab", "c"};
    size_t lens[] = {2, 1};
    char h1[SECRET_HASH_HEX], h2[SECRET_HASH_HEX];
    secret_sha256_parts_hex((const void *const *)parts, lens, 2, h1);
    secret_sha256_hex("abc", 3, h2);
    CHECK_STR(h1, h2);
}

int main(void)
{
    RUN(a_json_array_is_cut_into_its_records);
    RUN(a_body_that_is_not_an_array_or_not_well_formed_is_refused);
    RUN(records_are_counted_before_any_is_parsed_and_counting_stops_at_the_limit);
    RUN(a_record_is_parsed_alone_and_refused_when_too_large_or_too_deep);
    RUN(a_rejected_record_lists_a_bounded_number_of_errors);
    RUN(only_the_issued_token_form_is_looked_up);
    return check_summary();
}
