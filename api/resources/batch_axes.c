/*
 * Batch push of the prevention and housing records (docs/prevention-and-housing.md), through
 * the one batch flow of resources/batch.c: POST /v1/prevention-cases/batch,
 * /v1/prevention-actions/batch, /v1/prevention-follow-ups/batch, /v1/housing-offers/batch,
 * /v1/placements/batch.
 *
 * Each record is validated with the rules of its single-record route; a record names what
 * it belongs to by id or by the external_id its source gave it (household_external_id,
 * case_external_id, referral_external_id, offer_external_id). The rules that need stored data
 * are checked here, with the domain's functions, on what the store's lookups read with the
 * rows locked; a refused record carries its errors to the upsert, which reports it.
 */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/housing_rules.h"
#include "domain/prevention_rules.h"
#include "resources/batch.h"
#include "resources/resource.h"
#include "store/batch_axes_store.h"
#include "store/platform.h"
#include "store/prevention_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL_UUID "00000000-0000-0000-0000-000000000000"

/* ---- record helpers ------------------------------------------------------------------- */

/* An external identifier member: a string of 1 to 100 characters (`required`: present). */
static void check_external(const json_t *rec, const char *name, bool required, json_t *errors)
{
    const json_t *v = json_object_get(rec, name);
    if (!v && !required) return;
    if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 100)
        schema_error(errors, "", name,
                     v ? "must be a string of 1 to 100 characters" : "is required");
}

/*
 * A copy of rec for the single-record validator: without external_id and the `ref`
 * alternatives (`ref` by id or `ref`_external_id), `ref` replaced by a stand-in id when only
 * the external one is given. Checks that exactly one of the two is given.
 */
static json_t *single_record(const json_t *rec, const char *ref, json_t *errors)
{
    char ext[48];
    snprintf(ext, sizeof ext, "%s_external_id", ref);
    json_t *copy = JCHECK(json_deep_copy(rec));
    json_object_del(copy, "external_id");
    json_object_del(copy, ext);
    bool by_id = json_object_get(rec, ref) != NULL, by_ext = json_object_get(rec, ext) != NULL;
    if (by_id && by_ext) {
        char msg[96];
        snprintf(msg, sizeof msg, "give %s or %s, not both", ref, ext);
        schema_error(errors, "", ext, msg);
    }
    if (!by_id && by_ext) json_object_set_new(copy, ref, json_string(NIL_UUID));
    check_external(rec, ext, false, errors);
    return copy;
}

/* The lookup answer (an array of {idx, ...}) as an object keyed by idx (caller decrefs). */
static json_t *by_idx(const json_t *rows)
{
    json_t *map = JCHECK(json_object());
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(row, "idx")));
        json_object_set(map, k, row);
    }
    return map;
}

static const json_t *row_of(const json_t *map, const json_t *rec)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(rec, "idx")));
    return json_object_get(map, k);
}

/* Refuses a record with one error (its errors travel to the upsert, which reports them). */
static void refuse(json_t *rec, const char *field, const char *message)
{
    json_object_set_new(rec, "reject",
                        JCHECK(json_pack("[{s:s, s:s}]", "field", field, "message", message)));
}

/* The valid records of a chunk are the batch's own parsed records: they are completed in
 * place before they are sent (the send hook takes them const, as the upsert only reads). */
static json_t *mutable_records(const json_t *records) { return (json_t *)records; }

static int32_t day(const json_t *obj, const char *name)
{
    int32_t d = schema_date(obj, name);
    return d < 0 ? -1 : d;
}

/* ---- prevention cases ----------------------------------------------------------------- */

static bool case_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *copy = single_record(rec, "household", errors);
    if (json_is_object(json_object_get(rec, "household")))
        schema_error(errors, "", "household",
                     "in a batch, push the household first and give household_external_id");
    else
        prevention_case_validate(copy, V_CREATE, ctx, errors);
    json_decref(copy);
    check_external(rec, "external_id", true, errors);
    return json_array_size(errors) == 0;
}

static lda_err case_send(lda_req *r, db_conn *c, const char *source, const json_t *records,
                         batch_pending *p)
{
    json_t *recs = mutable_records(records), *arr = NULL, *amis = NULL, *rows = NULL, *map = NULL;
    pex_rule *rules = NULL;
    size_t n = 0;
    int ami = 0;
    lda_err e = prevention_rules_share(c);
    if (!e) e = prevention_rules_load(c, NULL, &ami, &arr);
    if (!e && !pex_rules_from_json(arr, &rules, &n)) e = LDA_EINTERNAL;
    if (!e) e = platform_amis(c, &amis);
    if (!e) e = prevention_case_lookup(c, source, recs, &rows);
    if (e) goto done;
    map = by_idx(rows);
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        const char *platform = schema_str(rec, "platform");
        pex_annotate(rec, rules, n, (int)json_integer_value(json_object_get(amis, platform)));
        const json_t *stored = row_of(map, rec);
        if (!stored) continue;
        const char *from = schema_str(stored, "stage"), *to = schema_str(rec, "stage");
        int32_t from_on = day(stored, "stage_on"), to_on = day(rec, "stage_on");
        if (!strcmp(from, to)) {
            if (from_on != to_on)
                refuse(rec, "/stage_on", "a stage already reached keeps its date");
        } else {
            stage_check st = prevention_stage_check(from, from_on, to, to_on);
            if (st == STAGE_NOT_FORWARD)
                refuse(rec, "/stage",
                       "a procedure only moves forward: this stage is not after the stored one");
            else if (st == STAGE_DATE_BEFORE)
                refuse(rec, "/stage_on", "must not be before the date of the stored stage");
        }
    }
    e = prevention_case_upsert_send(c, source, r->who->token_id, r->who->role_name, recs, p);
done:
    json_decref(map);
    json_decref(rows);
    json_decref(amis);
    json_decref(arr);
    free(rules);
    return e;
}

const batch_kind BATCH_PREVENTION_CASES = {"prevention_case", case_validate, NULL, case_send, 0};

void prevention_cases_batch(lda_req *r) { resource_batch(r, &BATCH_PREVENTION_CASES); }

/* Checks the case a record names (by id, or a stand-in for case_external_id) and removes it
 * from the copy given to the single-record validator. */
static void case_reference(json_t *copy, json_t *errors)
{
    const json_t *id = json_object_get(copy, "case");
    if (!id)
        schema_error(errors, "", "case", "is required (or case_external_id)");
    else if (!json_is_string(id) || !is_uuid(json_string_value(id)))
        schema_error(errors, "", "case", "must be a UUID");
    json_object_del(copy, "case");
}

/* ---- prevention actions --------------------------------------------------------------- */

static bool action_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *copy = single_record(rec, "case", errors);
    case_reference(copy, errors);
    prevention_action_validate(copy, V_CREATE, ctx, errors);
    json_decref(copy);
    check_external(rec, "external_id", true, errors);
    return json_array_size(errors) == 0;
}

static const char NO_CASE[] = "no such prevention case in this token's scope";

static lda_err action_send(lda_req *r, db_conn *c, const char *source, const json_t *records,
                           batch_pending *p)
{
    json_t *recs = mutable_records(records), *rows = NULL;
    lda_err e = prevention_action_lookup(c, source, recs, &rows);
    if (e) return e;
    json_t *map = by_idx(rows);
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        const json_t *ctx = row_of(map, rec);
        const char *case_id = ctx ? schema_str(ctx, "case_id") : NULL;
        const char *stored_case = ctx ? schema_str(ctx, "action_case") : NULL;
        if (!case_id) {
            refuse(rec, json_object_get(rec, "case") ? "/case" : "/case_external_id", NO_CASE);
            continue;
        }
        if (stored_case && strcmp(stored_case, case_id)) {
            refuse(rec, "/case", "an action pushed before stays on its case");
            continue;
        }
        int32_t others = day(ctx, "others_first"), stored_on = day(ctx, "stored_on");
        int32_t current = stored_on >= 0 && (others < 0 || stored_on < others) ? stored_on : others;
        if (json_integer_value(json_object_get(ctx, "follow_ups")) > 0 &&
            prevention_first_action_moves(current, others, day(rec, "done_on"))) {
            refuse(rec, "/done_on",
                   "this case has follow-ups, dated from its first action: the date of its "
                   "first action cannot change");
            continue;
        }
        json_object_set_new(rec, "case_id", JCHECK(json_string(case_id)));
    }
    json_decref(map);
    json_decref(rows);
    const char *scope = resource_scope(r);
    e = prevention_action_upsert_send(c, source, scope, recs, p);
    return e;
}

const batch_kind BATCH_PREVENTION_ACTIONS = {"prevention_action", action_validate, NULL,
                                             action_send, 0};

void prevention_actions_batch(lda_req *r) { resource_batch(r, &BATCH_PREVENTION_ACTIONS); }

/* ---- follow-ups ----------------------------------------------------------------------- */

static bool follow_up_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *copy = single_record(rec, "case", errors);
    case_reference(copy, errors);
    prevention_follow_up_validate(copy, ctx, errors);
    json_decref(copy);
    if (json_object_get(rec, "external_id"))
        schema_error(errors, "", "external_id",
                     "unknown field (a follow-up is identified by its case and horizon)");
    return json_array_size(errors) == 0;
}

/* A follow-up record against its case's follow-ups so far (`list`, updated when it is
 * accepted): the rules of the single-record route. */
static void follow_up_rules(json_t *rec, const json_t *ctx, json_t *list, int32_t today)
{
    int32_t first = day(ctx, "first_action_on");
    int months = (int)json_integer_value(json_object_get(rec, "at_months"));
    if (first < 0) {
        refuse(rec, "/case",
               "this case has no action yet: its follow-ups are dated from its "
               "first action");
        return;
    }
    int32_t due = prevention_follow_up_due(first, months);
    char due_s[11];
    format_date(due, due_s);
    if (due > today) {
        char msg[96];
        snprintf(msg, sizeof msg, "this follow-up is due on %s: it cannot be recorded before",
                 due_s);
        refuse(rec, "/at_months", msg);
        return;
    }
    size_t n = json_array_size(list);
    follow_up_obs *others = xcalloc(n + 1, sizeof *others);
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(list, i);
        others[i].months = (int)json_integer_value(json_object_get(f, "at_months"));
        others[i].situation = schema_str(f, "situation");
        if (json_is_true(json_object_get(f, "batch")) && others[i].months == months) {
            free(others);
            refuse(rec, "/at_months", "appears twice for this case in this batch");
            return;
        }
    }
    const char *why = prevention_follow_up_conflict(others, n, months, schema_str(rec, "situation"),
                                                    due, day(ctx, "evicted_on"));
    free(others);
    if (why) {
        refuse(rec, "/situation", why);
        return;
    }
    json_object_set_new(rec, "case_id", JCHECK(json_string(schema_str(ctx, "case_id"))));
    json_object_set_new(rec, "due_on", JCHECK(json_string(due_s)));
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), "at_months")) == months)
            json_array_remove(list, i--);
    json_array_append_new(list,
                          JCHECK(json_pack("{s:i, s:O, s:b}", "at_months", months, "situation",
                                           json_object_get(rec, "situation"), "batch", 1)));
}

static lda_err follow_up_send(lda_req *r, db_conn *c, const char *source, const json_t *records,
                              batch_pending *p)
{
    (void)r;
    json_t *recs = mutable_records(records), *rows = NULL;
    lda_err e = prevention_follow_up_lookup(c, source, recs, &rows);
    if (e) return e;
    json_t *map = by_idx(rows), *cases = JCHECK(json_object());
    int32_t today = today_paris();
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        const json_t *ctx = row_of(map, rec);
        const char *case_id = ctx ? schema_str(ctx, "case_id") : NULL;
        if (!case_id) {
            refuse(rec, json_object_get(rec, "case") ? "/case" : "/case_external_id", NO_CASE);
            continue;
        }
        json_t *list = json_object_get(cases, case_id);
        if (!list) {
            list = JCHECK(json_deep_copy(json_object_get(ctx, "follow_ups")));
            json_object_set_new(cases, case_id, list);
        }
        follow_up_rules(rec, ctx, list, today);
    }
    json_decref(cases);
    json_decref(map);
    json_decref(rows);
    return prevention_follow_up_upsert_send(c, source, recs, p);
}

const batch_kind BATCH_PREVENTION_FOLLOW_UPS = {"prevention_follow_up", follow_up_validate, NULL,
                                                follow_up_send, 0};

void prevention_follow_ups_batch(lda_req *r) { resource_batch(r, &BATCH_PREVENTION_FOLLOW_UPS); }

/* ---- housing offers ------------------------------------------------------------------- */

static bool offer_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *copy = JCHECK(json_deep_copy(rec));
    json_object_del(copy, "external_id");
    housing_offer_validate(copy, copy, V_CREATE, ctx, errors);
    json_decref(copy);
    check_external(rec, "external_id", true, errors);
    return json_array_size(errors) == 0;
}

static lda_err offer_send(lda_req *r, db_conn *c, const char *source, const json_t *records,
                          batch_pending *p)
{
    json_t *recs = mutable_records(records), *rows = NULL;
    lda_err e = housing_offer_lookup(c, source, recs, &rows);
    if (e) return e;
    json_t *map = by_idx(rows);
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        const json_t *stored = row_of(map, rec);
        stay *stays = NULL;
        size_t n = 0;
        if (!stored || !stays_from_json(json_object_get(stored, "stays"), &stays, &n)) continue;
        json_t *errors = JCHECK(json_array());
        if (!housing_offer_holds((int)json_integer_value(json_object_get(rec, "capacity")),
                                 day(rec, "available_from"), day(rec, "available_to"), stays, n,
                                 errors))
            json_object_set(rec, "reject", errors);
        json_decref(errors);
        free(stays);
    }
    json_decref(map);
    json_decref(rows);
    const char *scope = resource_scope(r);
    e = housing_offer_upsert_send(c, source, scope, r->who->token_id, recs, p);
    return e;
}

const batch_kind BATCH_HOUSING_OFFERS = {"housing_offer", offer_validate, NULL, offer_send, 0};

void housing_offers_batch(lda_req *r) { resource_batch(r, &BATCH_HOUSING_OFFERS); }

/* ---- placements ----------------------------------------------------------------------- */

static bool placement_rec_validate(lda_req *r, const json_t *rec, const vctx *ctx, json_t *errors)
{
    (void)r;
    json_t *referral = single_record(rec, "referral", errors);
    json_t *copy = single_record(referral, "offer", errors);
    json_decref(referral);
    placement_validate(copy, copy, V_CREATE, ctx, errors);
    json_decref(copy);
    check_external(rec, "external_id", true, errors);
    return json_array_size(errors) == 0;
}

/* The stays of `set` (an object: key → [from, to]) but `skip` as a new array (caller frees). */
static stay *stays_of(const json_t *set, const char *skip, size_t *n)
{
    stay *xs = xcalloc(json_object_size(set) + 1, sizeof *xs);
    const char *key;
    json_t *v;
    *n = 0;
    json_object_foreach((json_t *)set, key, v)
    {
        if (skip && !strcmp(key, skip)) continue;
        xs[*n].from = (int32_t)json_integer_value(json_array_get(v, 0));
        xs[(*n)++].to = (int32_t)json_integer_value(json_array_get(v, 1));
    }
    return xs;
}

/* Adds the stored stays of a lookup row to sets[owner id] (key: the placement id; the set is
 * created even when empty, so that the records accepted can be added to it). */
static void add_stored(json_t *sets, const char *owner, const json_t *list)
{
    if (!owner) return;
    json_t *set = json_object_get(sets, owner);
    if (!set) json_object_set_new(sets, owner, set = JCHECK(json_object()));
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) json_object_set_new(
        set, schema_str(s, "id"),
        JCHECK(json_pack("[i, i]", (int)day(s, "entered_on"), (int)day(s, "left_on"))));
}

static void placement_rules(json_t *rec, const json_t *ctx, json_t *offers, json_t *referrals)
{
    const char *referral_id = schema_str(ctx, "referral_id"),
               *offer_id = schema_str(ctx, "offer_id");
    if (!referral_id) {
        refuse(rec, json_object_get(rec, "referral") ? "/referral" : "/referral_external_id",
               "no such referral in this token's scope");
        return;
    }
    if (!offer_id) {
        refuse(rec, json_object_get(rec, "offer") ? "/offer" : "/offer_external_id",
               "no such housing offer in this token's scope");
        return;
    }
    const char *was_referral = schema_str(ctx, "placement_referral"),
               *was_offer = schema_str(ctx, "placement_offer"),
               *self = schema_str(ctx, "placement_id");
    if (was_referral && (strcmp(was_referral, referral_id) || strcmp(was_offer, offer_id))) {
        refuse(rec, "/offer", "a placement pushed before keeps its referral and its offer");
        return;
    }
    json_t *ctxj =
        JCHECK(json_pack("{s:O, s:O, s:[], s:[]}", "referral", json_object_get(ctx, "referral"),
                         "offer", json_object_get(ctx, "offer"), "offer_stays", "referral_stays"));
    placement_ctx pc;
    if (!placement_ctx_from_json(ctxj, &pc)) {
        json_decref(ctxj);
        refuse(rec, "", "refused");
        return;
    }
    size_t no = 0, nr = 0;
    stay *os = stays_of(json_object_get(offers, offer_id), self, &no);
    stay *rs = stays_of(json_object_get(referrals, referral_id), self, &nr);
    pc.offer_stays = os;
    pc.n_offer = no;
    pc.referral_stays = rs;
    pc.n_referral = nr;
    int32_t left = day(rec, "left_on");
    stay s = {day(rec, "entered_on"), left};
    json_t *errors = JCHECK(json_array());
    const char *why = NULL;
    placement_result res = placement_check(&pc, s, errors, &why);
    if (res == PLACEMENT_INVALID)
        json_object_set(rec, "reject", errors);
    else if (res == PLACEMENT_CONFLICT)
        refuse(rec, "", why);
    else {
        json_object_set_new(rec, "referral_id", JCHECK(json_string(referral_id)));
        json_object_set_new(rec, "offer_id", JCHECK(json_string(offer_id)));
        json_object_set_new(rec, "platform", JCHECK(json_string(pc.offer_platform)));
        /* its stay now counts for the records after it */
        char key[40];
        snprintf(key, sizeof key, "new-%lld",
                 (long long)json_integer_value(json_object_get(rec, "idx")));
        json_t *pair = JCHECK(json_pack("[i, i]", (int)s.from, (int)s.to));
        json_object_set(json_object_get(offers, offer_id), self ? self : key, pair);
        json_object_set(json_object_get(referrals, referral_id), self ? self : key, pair);
        json_decref(pair);
    }
    json_decref(errors);
    free(os);
    free(rs);
    json_decref(ctxj);
}

static lda_err placement_send(lda_req *r, db_conn *c, const char *source, const json_t *records,
                              batch_pending *p)
{
    json_t *recs = mutable_records(records), *rows = NULL;
    lda_err e = placement_lookup(c, source, recs, &rows);
    if (e) return e;
    json_t *map = by_idx(rows), *offers = JCHECK(json_object()), *referrals = JCHECK(json_object());
    size_t i;
    json_t *row, *rec;
    json_array_foreach(rows, i, row)
    {
        add_stored(offers, schema_str(row, "offer_id"), json_object_get(row, "offer_stays"));
        add_stored(referrals, schema_str(row, "referral_id"),
                   json_object_get(row, "referral_stays"));
    }
    json_array_foreach(recs, i, rec)
    {
        const json_t *ctx = row_of(map, rec);
        if (!ctx) {
            refuse(rec, "", "refused");
            continue;
        }
        placement_rules(rec, ctx, offers, referrals);
    }
    json_decref(referrals);
    json_decref(offers);
    json_decref(map);
    json_decref(rows);
    const char *scope = resource_scope(r);
    e = placement_upsert_send(c, source, scope, r->who->token_id, recs, p);
    return e;
}

const batch_kind BATCH_PLACEMENTS = {"placement", placement_rec_validate, NULL, placement_send, 0};

void placements_batch(lda_req *r) { resource_batch(r, &BATCH_PLACEMENTS); }
