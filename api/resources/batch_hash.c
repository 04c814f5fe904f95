/*
 * The content hash of a batch record (see batch_content_hash in resources/batch.h): equal
 * records hash equal however they were written, so that a record pushed again unchanged is
 * recognised without rewriting it.
 */
#include "core/mem.h"
#include "core/parse.h"
#include "core/secret.h"
#include "resources/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The canonical text of a record is what jansson's json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * prints for the record once normalised (see content_hash); db/seed/siao.sql builds the same
 * text in SQL. It is written here straight into a buffer, without copying the record. */
typedef struct {
    char *buf; /* starts on the caller's stack (heap false) */
    size_t len, cap;
    bool heap;
} canon_buf;

static void canon_put(canon_buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        char *grown = b->heap ? xrealloc(b->buf, b->cap) : xmalloc(b->cap);
        if (!b->heap) memcpy(grown, b->buf, b->len);
        b->buf = grown;
        b->heap = true;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

/* A string as jansson escapes it (valid UTF-8 in, no JSON_ESCAPE_SLASH / JSON_ENSURE_ASCII). */
static void canon_string(canon_buf *b, const char *s, size_t n)
{
    canon_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        canon_put(b, s + run, i - run);
        run = i + 1;
        char esc[8];
        const char *text = esc;
        size_t len = 2;
        switch (ch) {
        case '"':
            text = "\\\"";
            break;
        case '\\':
            text = "\\\\";
            break;
        case '\b':
            text = "\\b";
            break;
        case '\f':
            text = "\\f";
            break;
        case '\n':
            text = "\\n";
            break;
        case '\r':
            text = "\\r";
            break;
        case '\t':
            text = "\\t";
            break;
        default:
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04X", ch);
        }
        canon_put(b, text, len);
    }
    canon_put(b, s + run, n - run);
    canon_put(b, "\"", 1);
}

static void canon_integer(canon_buf *b, long long v)
{
    char num[24];
    canon_put(b, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

typedef struct {
    const char *key;
    size_t len;
    const json_t *value;
} canon_member;

static int by_key(const void *a, const void *b)
{
    const canon_member *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Any value as json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) prints it. */
static void canon_value(canon_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        canon_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        canon_integer(b, (long long)json_integer_value(v));
        return;
    case JSON_TRUE:
        canon_put(b, "true", 4);
        return;
    case JSON_FALSE:
        canon_put(b, "false", 5);
        return;
    case JSON_NULL:
        canon_put(b, "null", 4);
        return;
    case JSON_ARRAY: {
        canon_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) canon_put(b, ",", 1);
            canon_value(b, json_array_get(v, i));
        }
        canon_put(b, "]", 1);
        return;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        canon_member *m = xmalloc((n + 1) * sizeof *m);
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it), i++)
            m[i] = (canon_member){json_object_iter_key(it), json_object_iter_key_len(it),
                                  json_object_iter_value(it)};
        qsort(m, n, sizeof *m, by_key);
        canon_put(b, "{", 1);
        for (i = 0; i < n; i++) {
            if (i) canon_put(b, ",", 1);
            canon_string(b, m[i].key, m[i].len);
            canon_put(b, ":", 1);
            canon_value(b, m[i].value);
        }
        canon_put(b, "}", 1);
        free(m);
        return;
    }
    default: { /* a real: validated records hold none, but print it as jansson would */
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) lda_oom();
        canon_put(b, text, strlen(text));
        free(text);
    }
    }
}

/* SHA-256 of a record as it will be stored, so that equal records hash equal however they
 * were written: null, absent and empty sets all mean "not collected"; sets are sorted;
 * timestamps are the instant they stand for, whatever the offset. The text hashed is the
 * record's canonical form: its members sorted by key, without the null ones and the empty
 * arrays, top-level strings that are timestamps as epoch microseconds, top-level arrays of
 * strings sorted (strcmp); nested values as they are. */
void batch_content_hash(const json_t *rec, char out[SECRET_HASH_HEX])
{
    size_t n = json_object_size(rec), kept = 0;
    canon_member stack[32], *m = n <= 32 ? stack : xmalloc(n * sizeof *m);
    for (void *it = json_object_iter((json_t *)rec); it;
         it = json_object_iter_next((json_t *)rec, it)) {
        const json_t *v = json_object_iter_value(it);
        if (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) continue;
        m[kept++] = (canon_member){json_object_iter_key(it), json_object_iter_key_len(it), v};
    }
    qsort(m, kept, sizeof *m, by_key);
    char text_stack[1024];
    canon_buf b = {text_stack, 0, sizeof text_stack, false};
    canon_put(&b, "{", 1);
    for (size_t i = 0; i < kept; i++) {
        const json_t *v = m[i].value;
        int64_t us;
        if (i) canon_put(&b, ",", 1);
        canon_string(&b, m[i].key, m[i].len);
        canon_put(&b, ":", 1);
        if (json_is_string(v) && parse_timestamp(json_string_value(v), &us))
            canon_integer(&b, (long long)us);
        else if (json_is_array(v)) {
            size_t len = json_array_size(v), k;
            for (k = 0; k < len && json_is_string(json_array_get(v, k)); k++) {
            }
            if (k < len) {
                canon_value(&b, v);
                continue;
            }
            const json_t *small[16], **items = len <= 16 ? small : xmalloc(len * sizeof *items);
            for (k = 0; k < len; k++) items[k] = json_array_get(v, k);
            qsort(items, len, sizeof *items, by_string);
            canon_put(&b, "[", 1);
            for (k = 0; k < len; k++) {
                if (k) canon_put(&b, ",", 1);
                canon_value(&b, items[k]);
            }
            canon_put(&b, "]", 1);
            if (items != small) free(items);
        } else
            canon_value(&b, v);
    }
    canon_put(&b, "}", 1);
    secret_sha256_hex(b.buf, b.len, out);
    if (b.heap) free(b.buf);
    if (m != stack) free(m);
}
