/*
 * The housing offer without the database: the bodies of POST /v1/housing-offers (and its
 * PATCH, against the offer's placements), POST /v1/placements (and its PATCH, against a fixed
 * referral and offer with their stays) and POST/PATCH /v1/fluidity-meetings parsed and
 * validated as the handlers do.
 *
 * Input: one byte for the body ('o' offer, 'p' placement, 'm' meeting; other bytes by value),
 * then the body.
 */
#include "core/parse.h"
#include "domain/housing_rules.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static const char OFFER[] =
    "{\"id\":\"6d4b2a19-8c7e-4f3a-a1b5-3e9c7d2f0a86\",\"platform\":\"lens_henin\","
    "\"kind\":\"youth_shared_flat\",\"landlord_kind\":\"social\",\"typology\":\"room\","
    "\"capacity\":3,\"available_from\":\"2025-01-15\",\"available_to\":null,\"label\":null}";
static const char PLACEMENT[] =
    "{\"id\":\"1a8c6e42-9b3d-4f7a-8e2c-5d1b0a9f7e63\",\"referral\":"
    "\"7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e\",\"offer\":\"6d4b2a19-8c7e-4f3a-a1b5-3e9c7d2f0a86\","
    "\"platform\":\"lens_henin\",\"entered_on\":\"2025-06-02\",\"left_on\":null,"
    "\"exit_reason\":null}";
static const char MEETING[] =
    "{\"id\":\"3c9e1a57-6b2d-4f8e-9a3c-7e5d1b9f2a40\",\"platform\":\"lens_henin\","
    "\"held_on\":\"2025-05-20\",\"landlords_present\":[\"Pas-de-Calais Habitat\"],"
    "\"households_presented\":[\"7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e\"],\"proposals_made\":2,"
    "\"proposals_accepted\":1}";

static json_t *stored_offer, *stored_placement, *stored_meeting;
static stay stays[3];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    stored_offer = json_loads(OFFER, 0, NULL);
    stored_placement = json_loads(PLACEMENT, 0, NULL);
    stored_meeting = json_loads(MEETING, 0, NULL);
    if (!stored_offer || !stored_placement || !stored_meeting) abort();
    int32_t a, b;
    if (!parse_date("2025-02-01", &a) || !parse_date("2025-06-02", &b)) abort();
    stays[0] = (stay){a, b};
    stays[1] = (stay){a + 10, -1};
    stays[2] = (stay){b, b + 100};
    return 0;
}

static int32_t day_or(const json_t *obj, const char *name)
{
    int32_t d = schema_date(obj, name);
    return d < 0 ? -1 : d;
}

/* Validates `body` on create, then as a PATCH of `stored` (fields on the patch, the rules
 * between fields on the merged resource); `check` runs on each valid result. */
static void both(const lda_field *fields, const json_t *stored, json_t *body,
                 bool (*validate)(const json_t *, const json_t *, vmode, const vctx *, json_t *),
                 void (*check)(const json_t *))
{
    json_t *errors = json_array();
    bool ok = validate(body, body, V_CREATE, fuzz_ctx(), errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) check(body);
    json_decref(errors);
    errors = json_array();
    ok = schema_validate(fields, body, V_PATCH, fuzz_ctx(), "", errors);
    fuzz_check_errors(errors, 0, ok);
    if (ok) {
        json_t *merged = schema_merge(fields, stored, body), *none = json_object();
        ok = validate(none, merged, V_PATCH, fuzz_ctx(), errors);
        fuzz_check_errors(errors, 0, ok);
        if (ok) check(merged);
        json_decref(none);
        json_decref(merged);
    }
    json_decref(errors);
}

static void offer_check(const json_t *o)
{
    json_t *errors = json_array();
    int capacity = (int)json_integer_value(json_object_get(o, "capacity"));
    bool ok = housing_offer_holds(capacity, day_or(o, "available_from"), day_or(o, "available_to"),
                                  stays, 3, errors);
    fuzz_check_errors(errors, 0, ok);
    json_decref(errors);
}

static void placement_check_all(const json_t *p)
{
    int32_t received, from;
    FUZZ_CHECK(parse_date("2025-01-10", &received) && parse_date("2025-01-01", &from));
    stay s = {day_or(p, "entered_on"), day_or(p, "left_on")};
    FUZZ_CHECK(s.from >= 0 && (s.to < 0 || s.to >= s.from));
    for (int housed = 0; housed < 2; housed++)
        for (int capacity = 1; capacity <= 3; capacity++) {
            placement_ctx c = {"lens_henin",
                               received,
                               housed,
                               capacity == 2 ? "artois" : "lens_henin",
                               capacity,
                               from,
                               capacity == 3 ? from + 200 : -1,
                               stays,
                               3,
                               stays,
                               1};
            json_t *errors = json_array();
            const char *why = NULL;
            placement_result r = placement_check(&c, s, errors, &why);
            FUZZ_CHECK((r == PLACEMENT_INVALID) == (json_array_size(errors) > 0));
            FUZZ_CHECK((r == PLACEMENT_CONFLICT) == (why != NULL));
            if (r == PLACEMENT_INVALID) fuzz_check_errors(errors, 0, false);
            json_decref(errors);
        }
}

static void meeting_check(const json_t *m)
{
    FUZZ_CHECK(json_integer_value(json_object_get(m, "proposals_accepted")) <=
               json_integer_value(json_object_get(m, "proposals_made")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    json_t *body = fuzz_body(data + 1, size - 1);
    if (!body) return 0;
    static const char KINDS[] = "opm";
    const char *k = memchr(KINDS, data[0], 3);
    switch (k ? (int)(k - KINDS) : data[0] % 3) {
    case 0:
        both(HOUSING_OFFER_FIELDS, stored_offer, body, housing_offer_validate, offer_check);
        break;
    case 1:
        both(PLACEMENT_FIELDS, stored_placement, body, placement_validate, placement_check_all);
        break;
    default:
        both(FLUIDITY_MEETING_FIELDS, stored_meeting, body, fluidity_meeting_validate,
             meeting_check);
    }
    json_decref(body);
    return 0;
}
