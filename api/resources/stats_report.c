#include "resources/stats_report.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

void csv_field(buf_t *b, const char *s, bool last)
{
    if (s && strpbrk(s, ",\"\r\n")) {
        buf_add(b, "\"", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"') buf_add(b, "\"", 1);
            buf_add(b, p, 1);
        }
        buf_add(b, "\"", 1);
    } else if (s)
        buf_add(b, s, strlen(s));
    buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

published pub_count(sdc_figure f) { return (published){(double)f.value, true, f.status}; }

published pub_rate(published num, published den)
{
    if (num.status == SDC_HIDDEN || den.status == SDC_HIDDEN || den.value <= 0)
        return (published){0, false, SDC_HIDDEN};
    sdc_status st = num.status == SDC_EXACT && den.status == SDC_EXACT ? SDC_EXACT : SDC_PERTURBED;
    return (published){num.value / den.value, false, st};
}

json_t *pub_json(published v)
{
    if (v.status == SDC_HIDDEN) return JCHECK(json_null());
    return v.is_count ? JCHECK(json_integer((json_int_t)v.value)) : JCHECK(json_real(v.value));
}

void pub_text(published v, char *buf, size_t cap)
{
    if (v.status == SDC_HIDDEN)
        buf[0] = '\0';
    else if (v.is_count)
        snprintf(buf, cap, "%lld", (long long)v.value);
    else
        snprintf(buf, cap, "%.17g", v.value);
}

static void csv_row(stats_report *rp, const char *section, const char *code, const char *label,
                    const char *count, const char *share, sdc_status st)
{
    char status[2] = {(char)st, 0};
    csv_field(&rp->csv, section, false);
    csv_field(&rp->csv, code, false);
    csv_field(&rp->csv, label, false);
    csv_field(&rp->csv, count && *count ? count : NULL, false);
    csv_field(&rp->csv, share && *share ? share : NULL, false);
    csv_field(&rp->csv, status, true);
}

void report_init(stats_report *rp, json_t *filters)
{
    memset(rp, 0, sizeof *rp);
    rp->doc = JCHECK(json_object());
    rp->exact = JCHECK(json_array());
    json_object_set(rp->doc, "filters", filters);
    static const char header[] = "section,code,label_fr,count,share,status\r\n";
    buf_add(&rp->csv, header, sizeof header - 1);
}

void report_headline(stats_report *rp, json_t *obj, const char *key, const char *label, published v,
                     const char *csv_section)
{
    json_object_set_new(obj, key, pub_json(v));
    if (v.status == SDC_EXACT) {
        bool seen = false;
        size_t i;
        json_t *x;
        json_array_foreach(rp->exact, i, x) seen = seen || !strcmp(json_string_value(x), key);
        if (!seen) json_array_append_new(rp->exact, JCHECK(json_string(key)));
    }
    if (!csv_section) return;
    char text[40];
    pub_text(v, text, sizeof text);
    csv_row(rp, csv_section, key, label, v.is_count ? text : NULL, v.is_count ? NULL : text,
            v.status);
}

void report_cell(stats_report *rp, json_t *arr, const char *section, const char *code,
                 const char *label, published v, published total)
{
    published share = pub_rate(v, total);
    char st[2] = {(char)v.status, 0};
    json_array_append_new(
        arr, JCHECK(json_pack("{s:s, s:s, s:o, s:o, s:s}", "code", code, "label_fr", label, "count",
                              pub_json(v), "share", pub_json(share), "status", st)));
    char count[40], sh[40];
    pub_text(v, count, sizeof count);
    pub_text(share, sh, sizeof sh);
    csv_row(rp, section, code, label, count, sh, v.status);
}

void report_send(lda_req *r, stats_report *rp, bool csv, const char *filename, long threshold,
                 int max_noise)
{
    json_object_set_new(
        rp->doc, "disclosure",
        JCHECK(json_pack("{s:s, s:i, s:I, s:o}", "method", "cell_key", "max_noise", max_noise,
                         "threshold", (json_int_t)threshold, "exact", rp->exact)));
    rp->exact = NULL;
    if (csv) {
        char disp[128];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", filename);
        http_set_header(r, "Content-Disposition", disp);
        http_send_body(r, 200, "text/csv; charset=utf-8", rp->csv.data, rp->csv.len);
        json_decref(rp->doc);
    } else
        http_send_json(r, 200, rp->doc);
    free(rp->csv.data);
    memset(rp, 0, sizeof *rp);
}
