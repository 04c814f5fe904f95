/*
 * stats_report — a statistics answer being built: the JSON document and the long-format
 * CSV rows (section,code,label_fr,count,share,status) side by side, every published figure
 * with its disclosure status (E exact, P perturbed, A hidden).
 */
#ifndef LDA_RESOURCES_STATS_REPORT_H
#define LDA_RESOURCES_STATS_REPORT_H

#include "domain/disclosure.h"
#include "core/buf.h"
#include "http/request.h"

#include <jansson.h>
#include <stddef.h>

/* One CSV field, quoted when it must be (RFC 4180); `last` ends the row. NULL: empty. */
void csv_field(buf_t *b, const char *s, bool last);

typedef struct {
    json_t *doc;
    buf_t csv;
    json_t *exact; /* names of the figures published exact */
} stats_report;

/* A figure or a rate as published: its value (count or ratio) and status. */
typedef struct {
    double value;
    bool is_count;
    sdc_status status;
} published;

published pub_count(sdc_figure f);
/* num / den, hidden when either is; exact when both are. */
published pub_rate(published num, published den);

void report_init(stats_report *rp, json_t *filters);

/* A headline figure: obj[key] and a `headline` CSV row (when csv_section is not NULL). */
void report_headline(stats_report *rp, json_t *obj, const char *key, const char *label, published v,
                     const char *csv_section);

/* One cell of a breakdown array `arr` (and its CSV row in `section`), with its share of
 * `total` (hidden when either is). */
void report_cell(stats_report *rp, json_t *arr, const char *section, const char *code,
                 const char *label, published v, published total);

/* The JSON value of a published figure (null when hidden). */
json_t *pub_json(published v);
/* Its text for CSV ("" when hidden). */
void pub_text(published v, char *buf, size_t cap);

/* Adds the disclosure block and answers (JSON, or CSV as `filename`.csv); frees the report. */
void report_send(lda_req *r, stats_report *rp, bool csv, const char *filename, long threshold,
                 int max_noise);

#endif
