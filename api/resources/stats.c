/*
 * Statistics (SPEC §6): /v1/stats/activity, /v1/observatory/youth and its series.
 * Roles: analyst (its platforms if scoped), coordinator (its platforms), admin.
 * Counts come raw from store/stats; here they go through disclosure control and are
 * rendered as JSON or as long-format CSV (section,code,label_fr,count,share,status).
 */
#include "core/mem.h"
#include "core/parse.h"
#include "domain/disclosure.h"
#include "domain/vocab.h"
#include "resources/resource.h"
#include "store/stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- a report being built: JSON document and CSV rows side by side ------------------ */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void sput(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->buf = xrealloc(b->buf, b->cap);
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

/* One CSV field, quoted when it must be (RFC 4180). */
static void csv_field(sbuf *b, const char *s, bool last)
{
    if (s && strpbrk(s, ",\"\r\n")) {
        sput(b, "\"", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"') sput(b, "\"", 1);
            sput(b, p, 1);
        }
        sput(b, "\"", 1);
    } else if (s)
        sput(b, s, strlen(s));
    sput(b, last ? "\r\n" : ",", last ? 2 : 1);
}

typedef struct {
    json_t *doc;
    sbuf csv;
    sdc sdc;
    json_t *statuses; /* optional: headline key -> "V" | "A" | "D" */
} report;

static void note_status(report *rp, const char *key, cell_status st)
{
    char v[2] = {(char)st, 0};
    if (rp->statuses) json_object_set_new(rp->statuses, key, JCHECK(json_string(v)));
}

static const char *NOT_COLLECTED_LABEL = "Non renseigné";

static const char *label_of(const char *vocab_name, const char *code)
{
    if (!strcmp(code, "not_collected")) return NOT_COLLECTED_LABEL;
    const char *l = vocab_name ? vocab_label(vocab_find(vocab_name), code) : NULL;
    return l ? l : code;
}

static void csv_row(report *rp, const char *section, const char *code, const char *label,
                    const char *count, const char *share, cell_status st)
{
    char status[2] = {(char)st, 0};
    csv_field(&rp->csv, section, false);
    csv_field(&rp->csv, code, false);
    csv_field(&rp->csv, label, false);
    csv_field(&rp->csv, count, false);
    csv_field(&rp->csv, share, false);
    csv_field(&rp->csv, status, true);
}

static json_t *count_value(long n, cell_status st)
{
    return st == CELL_V ? JCHECK(json_integer(n)) : JCHECK(json_null());
}

/* A headline count: published or hidden by the primary rule. */
static cell_status headline_count(report *rp, json_t *obj, const char *key, const char *label,
                                  long n)
{
    cell_status st = sdc_count(&rp->sdc, n);
    json_object_set_new(obj, key, count_value(n, st));
    char num[32];
    snprintf(num, sizeof num, "%ld", n);
    csv_row(rp, "headline", key, label, st == CELL_V ? num : NULL, NULL, st);
    note_status(rp, key, st);
    return st;
}

/* A rate num/den: hidden when either is (with the status of the hidden one). The
 * numerator's own status is computed here (it is a count of requests too) but not
 * counted in the suppression totals unless it is also published. */
static void headline_rate(report *rp, json_t *obj, const char *key, const char *label, long num,
                          cell_status num_st, long den, cell_status den_st)
{
    cell_status st = num_st != CELL_V ? num_st : den_st;
    json_t *v;
    char share[40] = "";
    if (st == CELL_V && den > 0) {
        double x = (double)num / (double)den;
        v = JCHECK(json_real(x));
        snprintf(share, sizeof share, "%.17g", x);
    } else
        v = JCHECK(json_null());
    json_object_set_new(obj, key, v);
    csv_row(rp, "headline", key, label, NULL, *share ? share : NULL, st);
    note_status(rp, key, st);
}

/* A breakdown from {code: n}: every code of the vocabulary (zeros included) then any other
 * code present (not_collected...), in that order; or, for `ordered` codes (years, ages),
 * those given. Cells: {code, label_fr, count, share, status}; share of `total`. */
static void breakdown(report *rp, const char *section, const char *vocab_name, const json_t *raw,
                      const char *const *ordered, size_t nordered, long total, cell_status total_st)
{
    const vocab *v = vocab_name ? vocab_find(vocab_name) : NULL;
    size_t cap = json_object_size(raw) + nordered + (v ? v->ncodes : 0) + 1, n = 0;
    sdc_cell *cells = xcalloc(cap, sizeof *cells);
    if (ordered)
        for (size_t i = 0; i < nordered && n < cap; i++)
            snprintf(cells[n++].code, sizeof cells[0].code, "%s", ordered[i]);
    else if (v)
        for (size_t i = 0; i < v->ncodes && n < cap; i++)
            snprintf(cells[n++].code, sizeof cells[0].code, "%s", v->codes[i].code);
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)raw, k, val)
    {
        size_t i = 0;
        while (i < n && strcmp(cells[i].code, k)) i++;
        if (i == n && n < cap) snprintf(cells[n++].code, sizeof cells[0].code, "%s", k);
        if (i < n) cells[i].count = (long)json_integer_value(val);
    }
    sdc_breakdown(&rp->sdc, cells, n);
    json_t *arr = JCHECK(json_array());
    for (size_t i = 0; i < n; i++) {
        const char *label = label_of(vocab_name, cells[i].code);
        bool pub = cells[i].status == CELL_V;
        bool share_ok = pub && total_st == CELL_V && total > 0;
        double share = share_ok ? (double)cells[i].count / (double)total : 0;
        char st[2] = {(char)cells[i].status, 0};
        json_array_append_new(
            arr,
            JCHECK(json_pack("{s:s, s:s, s:o, s:o, s:s}", "code", cells[i].code, "label_fr", label,
                             "count", count_value(cells[i].count, cells[i].status), "share",
                             share_ok ? json_real(share) : json_null(), "status", st)));
        char num[32], sh[40];
        snprintf(num, sizeof num, "%ld", cells[i].count);
        snprintf(sh, sizeof sh, "%.17g", share);
        csv_row(rp, section, cells[i].code, label, pub ? num : NULL, share_ok ? sh : NULL,
                cells[i].status);
    }
    json_object_set_new(rp->doc, section, arr);
    free(cells);
}

/* ---- parameters ---------------------------------------------------------------------- */

typedef struct {
    char from[11], to[11];
    char *platforms; /* text[] literal, NULL: all */
    int age_min, age_max;
    bool csv;
    json_t *filters; /* echo of the filters, for the document */
} stats_params;

/* Reads from/to/platform/ami/age_min/age_max/format (already type-checked by the route),
 * applies the caller's scope. False when it answered (422/403). */
static bool read_params(lda_req *r, stats_params *p)
{
    memset(p, 0, sizeof *p);
    const char *from = query_get(&r->query, "from"), *to = query_get(&r->query, "to");
    int32_t f, t;
    if (!from) from = "2019-01-01";
    char today[11];
    format_date(today_paris(), today);
    if (!to) to = today;
    parse_date(from, &f);
    parse_date(to, &t);
    json_t *errors = JCHECK(json_array());
    if (f > t)
        json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "to", "message",
                                                       "must not be before from")));
    long age_min = 18, age_max = 25;
    if (query_get(&r->query, "age_min"))
        parse_long(query_get(&r->query, "age_min"), 0, 120, &age_min);
    if (query_get(&r->query, "age_max"))
        parse_long(query_get(&r->query, "age_max"), 0, 120, &age_max);
    if (age_min > age_max)
        json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "age_max", "message",
                                                       "must not be below age_min")));
    const char *format = query_get(&r->query, "format");
    if (resource_invalid(r, errors, "Some statistics parameters are not valid.")) return false;
    snprintf(p->from, sizeof p->from, "%s", from);
    snprintf(p->to, sizeof p->to, "%s", to);
    p->age_min = (int)age_min;
    p->age_max = (int)age_max;
    const char *accept = http_req_header(r, "Accept");
    p->csv = format ? !strcmp(format, "csv") : (accept && strstr(accept, "text/csv") != NULL);

    /* platforms: those asked (repeatable), within the AMI asked, within the caller's scope */
    long ami = 0;
    if (query_get(&r->query, "ami")) parse_long(query_get(&r->query, "ami"), 1, 2, &ami);
    const vocab *pv = vocab_find("platform");
    json_t *chosen = JCHECK(json_array());
    bool any_asked = query_get(&r->query, "platform") != NULL;
    for (size_t i = 0; i < pv->ncodes; i++) {
        const char *code = pv->codes[i].code;
        bool asked = !any_asked;
        for (size_t k = 0; query_get_nth(&r->query, "platform", k); k++)
            if (!strcmp(query_get_nth(&r->query, "platform", k), code)) asked = true;
        if (!asked) continue;
        if (!http_in_scope(r, code)) {
            if (any_asked) {
                json_decref(chosen);
                problem_send(r, 403, "This token's statistics cover only its own platforms.", NULL);
                return false;
            }
            continue;
        }
        bool ami_ok = !ami || (ami == 1 ? !strcmp(code, "artois") || !strcmp(code, "lens_henin")
                                        : strcmp(code, "artois") && strcmp(code, "lens_henin"));
        if (!ami_ok) continue;
        json_array_append_new(chosen, JCHECK(json_string(code)));
    }
    bool all = json_array_size(chosen) == pv->ncodes;
    size_t cap = 3;
    for (size_t i = 0; i < json_array_size(chosen); i++)
        cap += json_string_length(json_array_get(chosen, i)) + 1;
    char *lit = xmalloc(cap), *q = lit;
    *q++ = '{';
    for (size_t i = 0; i < json_array_size(chosen); i++) {
        if (i) *q++ = ',';
        size_t n = json_string_length(json_array_get(chosen, i));
        memcpy(q, json_string_value(json_array_get(chosen, i)), n);
        q += n;
    }
    *q++ = '}';
    *q = '\0';
    if (all) {
        free(lit);
        lit = NULL;
    }
    p->platforms = lit;
    p->filters = JCHECK(json_pack("{s:s, s:s, s:o, s:o}", "from", p->from, "to", p->to, "platforms",
                                  chosen, "ami", ami ? json_integer(ami) : json_null()));
    return true;
}

static void params_free(stats_params *p)
{
    free(p->platforms);
    json_decref(p->filters);
}

static void report_init(report *rp, const lda_req *r)
{
    memset(rp, 0, sizeof *rp);
    rp->doc = JCHECK(json_object());
    rp->sdc.threshold = r->cfg->stats_min_cell;
    static const char header[] = "section,code,label_fr,count,share,status\r\n";
    sput(&rp->csv, header, sizeof header - 1);
}

/* Answers the report (JSON or CSV) and frees it. */
static void report_send(lda_req *r, report *rp, bool csv, const char *filename)
{
    json_object_set_new(
        rp->doc, "suppression",
        JCHECK(json_pack("{s:I, s:i, s:i}", "threshold", (json_int_t)rp->sdc.threshold, "primary",
                         rp->sdc.primary, "secondary", rp->sdc.secondary)));
    if (csv) {
        char disp[128];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", filename);
        http_set_header(r, "Content-Disposition", disp);
        http_send_body(r, 200, "text/csv; charset=utf-8", rp->csv.buf, rp->csv.len);
        json_decref(rp->doc);
    } else
        http_send_json(r, 200, rp->doc);
    free(rp->csv.buf);
}

static long geti(const json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(o, k));
}

/* The three endpoints' common start: parameters (answers 422/403 itself), the store query
 * of `kind` on the read pool (answers 503/500 itself), its JSON. NULL when it answered;
 * otherwise the caller frees p (params_free) and the result (json_decref). */
typedef enum { RAW_ACTIVITY, RAW_YOUTH, RAW_SERIES } raw_kind;

static json_t *fetch_raw(lda_req *r, stats_params *p, raw_kind kind, const char *granularity)
{
    if (!read_params(r, p)) return NULL;
    db_conn *c = resource_db_read(r);
    if (!c) {
        params_free(p);
        return NULL;
    }
    char *raw_text = NULL;
    lda_err e =
        kind == RAW_ACTIVITY ? stats_activity(c, p->from, p->to, p->platforms, &raw_text)
        : kind == RAW_YOUTH
            ? stats_youth(c, p->from, p->to, p->platforms, p->age_min, p->age_max, &raw_text)
            : stats_youth_series(c, p->from, p->to, p->platforms, p->age_min, p->age_max,
                                 granularity, &raw_text);
    db_release(c);
    json_t *raw = e ? NULL : json_loads(raw_text, 0, NULL);
    free(raw_text);
    if (!raw) {
        params_free(p);
        problem_send_err(r, e ? e : LDA_EINTERNAL, NULL);
        return NULL;
    }
    if (kind != RAW_ACTIVITY) {
        json_object_set_new(p->filters, "age_min", json_integer(p->age_min));
        json_object_set_new(p->filters, "age_max", json_integer(p->age_max));
    }
    return raw;
}

/* ---- handlers --------------------------------------------------------------------------- */

void stats_activity_get(lda_req *r)
{
    stats_params p;
    json_t *raw = fetch_raw(r, &p, RAW_ACTIVITY, NULL);
    if (!raw) return;
    report rp;
    report_init(&rp, r);
    json_object_set(rp.doc, "filters", p.filters);
    long total = geti(raw, "referrals_received");
    cell_status total_st =
        headline_count(&rp, rp.doc, "referrals_received", "Saisines reçues", total);

    /* outcomes: a breakdown of the total (accompanied + reoriented + no_follow_up +
     * in_progress = referrals_received), plus housed_or_maintained within accompanied */
    sdc_cell oc[4] = {{"accompanied", geti(raw, "accompanied"), CELL_V},
                      {"reoriented", geti(raw, "reoriented"), CELL_V},
                      {"no_follow_up", geti(raw, "no_follow_up"), CELL_V},
                      {"in_progress", geti(raw, "in_progress"), CELL_V}};
    static const char *const OUT_LABELS[] = {"Accompagnés", "Réorientés", "Sans suite", "En cours"};
    sdc_breakdown(&rp.sdc, oc, 4);
    json_t *outcomes = JCHECK(json_object());
    for (int i = 0; i < 4; i++) {
        json_object_set_new(outcomes, oc[i].code, count_value(oc[i].count, oc[i].status));
        char num[32];
        snprintf(num, sizeof num, "%ld", oc[i].count);
        csv_row(&rp, "outcomes", oc[i].code, OUT_LABELS[i], oc[i].status == CELL_V ? num : NULL,
                NULL, oc[i].status);
    }
    long housed = geti(raw, "housed_or_maintained");
    cell_status hst = sdc_count(&rp.sdc, housed);
    if (hst == CELL_V && oc[0].status != CELL_V && housed > 0) {
        /* accompanied - housed would be the other part: hide it too */
        hst = CELL_D;
        rp.sdc.secondary++;
    }
    json_object_set_new(outcomes, "housed_or_maintained", count_value(housed, hst));
    {
        char num[32];
        snprintf(num, sizeof num, "%ld", housed);
        csv_row(&rp, "outcomes", "housed_or_maintained", "Logés ou maintenus dans le logement",
                hst == CELL_V ? num : NULL, NULL, hst);
    }
    json_object_set_new(rp.doc, "outcomes", outcomes);

    breakdown(&rp, "by_housing_situation", "housing_situation",
              json_object_get(raw, "by_housing_situation"), NULL, 0, total, total_st);
    breakdown(&rp, "by_referrer_kind", "partner_kind", json_object_get(raw, "by_referrer_kind"),
              NULL, 0, total, total_st);
    breakdown(&rp, "by_platform", "platform", json_object_get(raw, "by_platform"), NULL, 0, total,
              total_st);
    /* years of the period, in order */
    int y0 = atoi(p.from), y1 = atoi(p.to);
    size_t ny = (size_t)y1 - (size_t)y0 + 1; /* from <= to: checked */
    char(*years)[8] = xcalloc(ny, sizeof *years);
    const char **yp = xcalloc(ny, sizeof *yp);
    for (size_t i = 0; i < ny; i++) {
        snprintf(years[i], sizeof years[i], "%d", y0 + (int)i);
        yp[i] = years[i];
    }
    breakdown(&rp, "by_year", NULL, json_object_get(raw, "by_year"), yp, ny, total, total_st);
    free(yp);
    free(years);
    long measures = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(raw, "measures_by_kind"), k, v) measures +=
        (long)json_integer_value(v);
    breakdown(&rp, "measures_by_kind", "measure_kind", json_object_get(raw, "measures_by_kind"),
              NULL, 0, measures, sdc_count(&(sdc){rp.sdc.threshold, 0, 0}, measures));
    json_decref(raw);
    params_free(&p);
    report_send(r, &rp, p.csv, "activite");
}

/* The status the breakdown `section` of raw gives to `code` (disclosure computed apart). */
static cell_status cell_status_in(const report *rp, const json_t *raw, const char *section,
                                  const char *vocab_name, const char *code)
{
    const vocab *v = vocab_find(vocab_name);
    const json_t *m = json_object_get(raw, section);
    size_t cap = json_object_size(m) + v->ncodes + 1, n = 0;
    sdc_cell *cells = xcalloc(cap, sizeof *cells);
    for (size_t i = 0; i < v->ncodes; i++)
        snprintf(cells[n++].code, sizeof cells[0].code, "%s", v->codes[i].code);
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)m, k, val)
    {
        size_t i = 0;
        while (i < n && strcmp(cells[i].code, k)) i++;
        if (i == n && n < cap) snprintf(cells[n++].code, sizeof cells[0].code, "%s", k);
        if (i < n) cells[i].count = (long)json_integer_value(val);
    }
    sdc scratch = {rp->sdc.threshold, 0, 0};
    sdc_breakdown(&scratch, cells, n);
    cell_status st = CELL_V;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cells[i].code, code)) st = cells[i].status;
    free(cells);
    return st;
}

/* The headline figures of the observatory into obj; counts suppression. When raw holds the
 * by_response breakdown, the unmet rate is hidden whenever its numerator's cell there is. */
static void youth_headline(report *rp, json_t *obj, const json_t *raw)
{
    long total = geti(raw, "requests_total"), youth = geti(raw, "youth_requests");
    cell_status tst = headline_count(rp, obj, "requests_total", "Demandes (tous âges)", total);
    cell_status yst = headline_count(rp, obj, "youth_requests", "Demandes des jeunes", youth);
    headline_rate(rp, obj, "youth_share", "Part des jeunes dans les demandes", youth, yst, total,
                  tst);
    headline_count(rp, obj, "youth_persons", "Jeunes demandeurs (personnes distinctes)",
                   geti(raw, "youth_persons"));
    headline_count(rp, obj, "repeat_persons", "Jeunes ayant demandé deux fois ou plus",
                   geti(raw, "repeat_persons"));
    sdc shadow = {rp->sdc.threshold, 0, 0}; /* numerators: status only, not published */
    long unmet = geti(raw, "unmet"), af = geti(raw, "alternatives_false"),
         ak = geti(raw, "alternatives_known");
    cell_status unmet_st = sdc_count(&shadow, unmet);
    if (unmet_st == CELL_V && json_object_get(raw, "by_response"))
        unmet_st = cell_status_in(rp, raw, "by_response", "siao_response", "no_place_available");
    headline_rate(rp, obj, "unmet_rate", "Part des demandes sans place disponible", unmet, unmet_st,
                  youth, yst);
    headline_rate(rp, obj, "no_alternative_share", "Part sans autre solution connue", af,
                  sdc_count(&shadow, af), ak, sdc_count(&shadow, ak));
}

void observatory_youth_get(lda_req *r)
{
    stats_params p;
    json_t *raw = fetch_raw(r, &p, RAW_YOUTH, NULL);
    if (!raw) return;
    report rp;
    report_init(&rp, r);
    json_object_set(rp.doc, "filters", p.filters);
    youth_headline(&rp, rp.doc, raw);
    long youth = geti(raw, "youth_requests");
    cell_status yst = sdc_count(&(sdc){rp.sdc.threshold, 0, 0}, youth);
    breakdown(&rp, "by_sex", "sex", json_object_get(raw, "by_sex"), NULL, 0, youth, yst);
    char ages[121][4];
    const char *ap[121];
    size_t na = 0;
    for (int a = p.age_min; a <= p.age_max; a++, na++) {
        snprintf(ages[na], sizeof ages[na], "%d", a);
        ap[na] = ages[na];
    }
    breakdown(&rp, "by_age", NULL, json_object_get(raw, "by_age"), ap, na, youth, yst);
    breakdown(&rp, "by_situation", "housing_situation", json_object_get(raw, "by_situation"), NULL,
              0, youth, yst);
    breakdown(&rp, "by_need", "siao_need", json_object_get(raw, "by_need"), NULL, 0, youth, yst);
    breakdown(&rp, "by_response", "siao_response", json_object_get(raw, "by_response"), NULL, 0,
              youth, yst);
    breakdown(&rp, "by_channel", "siao_channel", json_object_get(raw, "by_channel"), NULL, 0, youth,
              yst);
    breakdown(&rp, "by_platform", "platform", json_object_get(raw, "by_platform"), NULL, 0, youth,
              yst);
    json_decref(raw);
    params_free(&p);
    report_send(r, &rp, p.csv, "observatoire-jeunes");
}

static const char *const SERIES_KEYS[] = {"requests_total",      "youth_requests", "youth_share",
                                          "youth_persons",       "repeat_persons", "unmet_rate",
                                          "no_alternative_share"};
#define NSERIES (sizeof SERIES_KEYS / sizeof SERIES_KEYS[0])

void observatory_series_get(lda_req *r)
{
    const char *g = query_get(&r->query, "granularity"); /* checked by the route */
    if (!g) g = "month";
    stats_params p;
    json_t *raw = fetch_raw(r, &p, RAW_SERIES, g);
    if (!raw) return;
    report rp;
    report_init(&rp, r);
    free(rp.csv.buf);
    rp.csv = (sbuf){NULL, 0, 0};
    sput(&rp.csv, "period,period_start", 19);
    for (size_t i = 0; i < NSERIES; i++) {
        sput(&rp.csv, ",", 1);
        sput(&rp.csv, SERIES_KEYS[i], strlen(SERIES_KEYS[i]));
        sput(&rp.csv, ",", 1);
        sput(&rp.csv, SERIES_KEYS[i], strlen(SERIES_KEYS[i]));
        sput(&rp.csv, "_status", 7);
    }
    sput(&rp.csv, "\r\n", 2);
    json_object_set(rp.doc, "filters", p.filters);
    json_object_set_new(rp.doc, "granularity", JCHECK(json_string(g)));
    json_t *items = JCHECK(json_array());
    size_t i;
    json_t *row;
    json_array_foreach(raw, i, row)
    {
        const char *start = json_string_value(json_object_get(row, "period_start"));
        char period[16];
        int y = atoi(start), m = atoi(start + 5);
        if (!strcmp(g, "year"))
            snprintf(period, sizeof period, "%d", y);
        else if (!strcmp(g, "quarter"))
            snprintf(period, sizeof period, "%d-Q%d", y, (m - 1) / 3 + 1);
        else
            snprintf(period, sizeof period, "%d-%02d", y, m);
        json_t *item = JCHECK(json_pack("{s:s, s:s}", "period", period, "period_start", start));
        /* reuse the headline builder; its CSV rows go to a scratch buffer */
        sbuf keep = rp.csv;
        memset(&rp.csv, 0, sizeof rp.csv);
        rp.statuses = JCHECK(json_object());
        youth_headline(&rp, item, row);
        free(rp.csv.buf);
        rp.csv = keep;
        csv_field(&rp.csv, period, false);
        csv_field(&rp.csv, start, false);
        for (size_t k = 0; k < NSERIES; k++) {
            json_t *v = json_object_get(item, SERIES_KEYS[k]);
            char val[40] = "";
            if (json_is_integer(v))
                snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                snprintf(val, sizeof val, "%.17g", json_real_value(v));
            csv_field(&rp.csv, *val ? val : NULL, false);
            csv_field(&rp.csv, json_string_value(json_object_get(rp.statuses, SERIES_KEYS[k])),
                      k == NSERIES - 1);
        }
        json_decref(rp.statuses);
        rp.statuses = NULL;
        json_array_append_new(items, item);
    }
    json_object_set_new(rp.doc, "items", items);
    json_decref(raw);
    params_free(&p);
    report_send(r, &rp, p.csv, "observatoire-jeunes-series");
}
