#include "domain/batch_body.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX_DEPTH 32

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The position walked through the body: byte offset, line and column (1-based). */
typedef struct {
    size_t at;
    int line, col;
} cursor;

static void step(cursor *p, const char *s)
{
    if (s[p->at] == '\n') {
        p->line++;
        p->col = 1;
    } else if (((unsigned char)s[p->at] & 0xc0) != 0x80)
        p->col++; /* columns count characters, as jansson's do */
    p->at++;
}

static void skip_ws(cursor *p, const char *s, size_t len)
{
    while (p->at < len && is_ws(s[p->at])) step(p, s);
}

/* Appends a record slice; false once the limit is passed (the body is then too large). */
static bool add(batch_body *b, size_t *cap, size_t max, size_t off, size_t len, int line, int col)
{
    if (b->count == max) return false;
    if (b->count == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        if (*cap > max) *cap = max;
        b->items = xrealloc(b->items, *cap * sizeof *b->items);
    }
    b->items[b->count++] = (batch_slice){off, len, line, col};
    return true;
}

static batch_body_result scan_ndjson(batch_body *b, size_t max)
{
    const char *s = b->body;
    size_t cap = 0, pos = 0;
    int line = 1;
    while (pos < b->len) {
        const char *nl = memchr(s + pos, '\n', b->len - pos);
        size_t stop = nl ? (size_t)(nl - s) : b->len;
        size_t n = stop - pos;
        while (n && (s[pos + n - 1] == '\r' || s[pos + n - 1] == ' ' || s[pos + n - 1] == '\t'))
            n--;
        if (n && !add(b, &cap, max, pos, n, line, 1)) return BATCH_BODY_TOO_MANY;
        pos = stop + 1;
        line++;
    }
    return BATCH_BODY_OK;
}

/* The end of the value starting at p: the first ',' or closing bracket outside any string
 * and nested bracket. Leaves p there. */
static void skip_value(cursor *p, const char *s, size_t len)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    for (; p->at < len; step(p, s)) {
        char c = s[p->at];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{')
            depth++;
        else if (c == ']' || c == '}') {
            if (depth == 0) return;
            depth--;
        } else if (c == ',' && depth == 0)
            return;
    }
}

static batch_body_result malformed(batch_body *b, const cursor *p)
{
    b->err_line = p->line;
    b->err_col = p->col;
    return BATCH_BODY_MALFORMED;
}

static batch_body_result scan_array(batch_body *b, size_t max)
{
    const char *s = b->body;
    size_t len = b->len, cap = 0;
    cursor p = {0, 1, 1};
    skip_ws(&p, s, len);
    if (p.at == len) return malformed(b, &p);
    if (s[p.at] != '[') return BATCH_BODY_NOT_ARRAY;
    step(&p, s);
    skip_ws(&p, s, len);
    if (p.at < len && s[p.at] == ']') {
        step(&p, s);
    } else
        for (;;) {
            if (p.at == len || s[p.at] == ',' || s[p.at] == ']' || s[p.at] == '}')
                return malformed(b, &p); /* a missing value */
            cursor start = p;
            skip_value(&p, s, len);
            size_t n = p.at - start.at;
            while (n && is_ws(s[start.at + n - 1])) n--;
            if (!add(b, &cap, max, start.at, n, start.line, start.col)) return BATCH_BODY_TOO_MANY;
            if (p.at == len || s[p.at] == '}') return malformed(b, &p);
            char c = s[p.at];
            step(&p, s);
            if (c == ']') break;
            skip_ws(&p, s, len);
        }
    skip_ws(&p, s, len);
    if (p.at != len) return malformed(b, &p);
    return BATCH_BODY_OK;
}

batch_body_result batch_body_scan(const char *body, size_t len, bool ndjson, size_t max_records,
                                  batch_body *out)
{
    memset(out, 0, sizeof *out);
    out->body = body ? body : "";
    out->len = body ? len : 0;
    out->ndjson = ndjson;
    batch_body_result res = ndjson ? scan_ndjson(out, max_records) : scan_array(out, max_records);
    if (res != BATCH_BODY_OK) {
        free(out->items);
        out->items = NULL;
        out->count = 0;
    }
    return res;
}

void batch_body_free(batch_body *b)
{
    free(b->items);
    b->items = NULL;
    b->count = 0;
}

/* The deepest nesting of brackets in text (strings skipped), without parsing it: a record
 * nested deeper than RECORD_MAX_DEPTH is refused before jansson builds a level of it. */
static int nesting(const char *s, size_t len)
{
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
        } else if ((c == ']' || c == '}') && depth > 0)
            depth--;
    }
    return deepest;
}

static bool too_deep(const json_t *v, int depth)
{
    if (depth > RECORD_MAX_DEPTH) return true;
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, c) if (too_deep(c, depth + 1)) return true;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c) if (too_deep(c, depth + 1)) return true;
    }
    return false;
}

batch_record_result batch_body_record(const batch_body *b, size_t i, size_t record_max,
                                      json_t **rec, int *line, int *col)
{
    const batch_slice *sl = &b->items[i];
    *rec = NULL;
    if (sl->len > record_max) return BATCH_RECORD_TOO_LARGE;
    if (nesting(b->body + sl->off, sl->len) > RECORD_MAX_DEPTH) {
        *line = sl->line;
        *col = sl->col;
        return BATCH_RECORD_MALFORMED;
    }
    json_error_t jerr;
    json_t *v =
        json_loadb(b->body + sl->off, sl->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v || too_deep(v, 1)) {
        *line = sl->line + (v ? 0 : jerr.line - 1);
        *col = v ? sl->col : jerr.line <= 1 ? sl->col - 1 + jerr.column : jerr.column;
        json_decref(v);
        return BATCH_RECORD_MALFORMED;
    }
    *rec = v;
    return BATCH_RECORD_OK;
}

/* A copy of s cut at BATCH_ERROR_TEXT_MAX characters (on a character boundary), with "…". */
static json_t *cut(const char *s)
{
    size_t chars = 0, at = 0;
    for (; s[at]; at++)
        if (((unsigned char)s[at] & 0xc0) != 0x80 && ++chars > BATCH_ERROR_TEXT_MAX) break;
    if (!s[at]) return NULL; /* short enough */
    char *text = xmalloc(at + 4);
    memcpy(text, s, at);
    memcpy(text + at, "\xe2\x80\xa6", 4);
    json_t *out = JCHECK(json_string(text));
    free(text);
    return out;
}

void batch_errors_cap(json_t *errors)
{
    size_t n = json_array_size(errors);
    if (n > BATCH_ERRORS_PER_RECORD) {
        size_t keep = BATCH_ERRORS_PER_RECORD - 1;
        json_t *kept = JCHECK(json_array());
        for (size_t i = 0; i < keep; i++) json_array_append(kept, json_array_get(errors, i));
        json_array_clear(errors);
        json_array_extend(errors, kept);
        json_decref(kept);
        char msg[96];
        snprintf(msg, sizeof msg, "%zu more errors in this record are not listed", n - keep);
        json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "", "message", msg)));
    }
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        static const char *const KEYS[] = {"field", "message"};
        for (int k = 0; k < 2; k++) {
            const char *s = json_string_value(json_object_get(e, KEYS[k]));
            json_t *short_one = s ? cut(s) : NULL;
            if (short_one) json_object_set_new(e, KEYS[k], short_one);
        }
    }
}
