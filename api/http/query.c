#include "http/query.h"
#include "core/cursor.h"
#include "core/mem.h"
#include "core/parse.h"
#include "domain/vocab.h"

#include <limits.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* Well-formed UTF-8 as JSON text must be (RFC 3629): no overlong form, no surrogate, nothing
 * above U+10FFFF. */
static bool valid_utf8(const unsigned char *s)
{
    while (*s) {
        int n;
        unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (*s < 0x80)
            n = 0;
        else if (*s >= 0xC2 && *s <= 0xDF)
            n = 1;
        else if (*s >= 0xE0 && *s <= 0xEF) {
            n = 2;
            if (*s == 0xE0) lo = 0xA0;
            if (*s == 0xED) hi = 0x9F;
        } else if (*s >= 0xF0 && *s <= 0xF4) {
            n = 3;
            if (*s == 0xF0) lo = 0x90;
            if (*s == 0xF4) hi = 0x8F;
        } else
            return false;
        s++;
        for (int i = 0; i < n; i++, s++)
            if (*s < (i ? 0x80 : lo) || *s > (i ? 0xBF : hi)) return false;
    }
    return true;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

static bool hex(char c) { return c && strchr("0123456789abcdefABCDEF", c); }

/* Decodes in place ('+' is a space, %XX a byte); false on a bad escape, a NUL byte or
 * invalid UTF-8. */
static bool decode(char *s)
{
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '+')
            s[i] = ' ';
        else if (s[i] == '%') {
            if (!hex(s[i + 1]) || !hex(s[i + 2])) return false;
            if (s[i + 1] == '0' && s[i + 2] == '0') return false;
            i += 2;
        }
    }
    size_t n = MHD_http_unescape(s);
    s[n] = '\0';
    return valid_utf8((const unsigned char *)s);
}

bool query_parse(const char *url, qlist *out)
{
    out->items = NULL;
    out->count = 0;
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q || !q[1]) return true;
    char *copy = xstrdup(q + 1);
    char *frag = strchr(copy, '#');
    if (frag) *frag = '\0';
    bool ok = true;
    char *save = NULL;
    for (char *part = strtok_r(copy, "&", &save); part; part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        char *value = eq ? eq + 1 : part + strlen(part);
        if (eq) *eq = '\0';
        if (!decode(part) || !decode(value) || !*part) {
            ok = false;
            break;
        }
        out->items = xrealloc(out->items, (out->count + 1) * sizeof *out->items);
        out->items[out->count].name = xstrdup(part);
        out->items[out->count].value = xstrdup(value);
        out->count++;
    }
    free(copy);
    if (!ok) query_free(out);
    return ok;
}

void query_free(qlist *q)
{
    for (size_t i = 0; i < q->count; i++) {
        free(q->items[i].name);
        free(q->items[i].value);
    }
    free(q->items);
    q->items = NULL;
    q->count = 0;
}

const char *query_get_nth(const qlist *q, const char *name, size_t i)
{
    for (size_t k = 0; k < q->count; k++)
        if (!strcmp(q->items[k].name, name) && i-- == 0) return q->items[k].value;
    return NULL;
}

const char *query_get(const qlist *q, const char *name) { return query_get_nth(q, name, 0); }

/* A timestamptz as PostgreSQL prints it ("2025-03-10 15:02:11.123456+01", offsets "+05:30"
 * too), checked through parse_timestamp. */
static bool pg_timestamp(const char *s)
{
    size_t n = strlen(s);
    if (n < 22 || n > 40 || s[10] != ' ') return false;
    char buf[48];
    memcpy(buf, s, n + 1);
    buf[10] = 'T';
    char *sign = strpbrk(buf + 19, "+-");
    if (!sign) return false;
    if (strlen(sign) == 3) strcat(buf, ":00"); /* "+01" → "+01:00" */
    int64_t us;
    return parse_timestamp(buf, &us);
}

/* True when a decoded cursor holds what `kind` says. */
static bool cursor_fits(qcursor kind, const char *key, const char *id)
{
    long l;
    int32_t d;
    switch (kind) {
    case QC_ANY:
        return true;
    case QC_TIME_UUID:
        return pg_timestamp(key) && is_uuid(id);
    case QC_TEXT_UUID:
        return is_uuid(id);
    case QC_DATE_UUID:
        return parse_date(key, &d) && is_uuid(id);
    case QC_INT_INT:
        return parse_long(key, 0, LONG_MAX, &l) && parse_long(id, 0, LONG_MAX, &l);
    }
    return false;
}

static void add_error(json_t *errors, const char *name, const char *message)
{
    json_array_append_new(errors,
                          JCHECK(json_pack("{s:s, s:s}", "field", name, "message", message)));
}

static const char *check_value(const qparam *p, const char *v)
{
    long l;
    int32_t d;
    int64_t ts;
    switch (p->type) {
    case Q_STRING:
        if (has_control(v)) return "must not contain control characters";
        return strlen(v) <= 200 && *v ? NULL : "must be 1 to 200 characters";
    case Q_LONG:
        return parse_long(v, p->min, p->max, &l) ? NULL : "out of range or not a whole number";
    case Q_DATE:
        return parse_date(v, &d) ? NULL : "must be a date YYYY-MM-DD";
    case Q_TIMESTAMP:
        return parse_timestamp(v, &ts) || parse_date(v, &d)
                   ? NULL
                   : "must be a timestamp with offset (RFC 3339) or a date";
    case Q_UUID:
        return is_uuid(v) ? NULL : "must be a UUID";
    case Q_CODE:
        return vocab_has(vocab_find(p->vocab), v) ? NULL : "unknown code";
    case Q_BOOL:
        return !strcmp(v, "true") || !strcmp(v, "false") ? NULL : "must be true or false";
    case Q_CHOICE:
        for (const char *const *c = p->choices; c && *c; c++)
            if (!strcmp(*c, v)) return NULL;
        return "not one of the values this parameter accepts";
    case Q_CURSOR: {
        char *k = NULL, *id = NULL;
        bool ok = cursor_decode(v, &k, &id) && cursor_fits((qcursor)p->min, k, id);
        free(k);
        free(id);
        return ok ? NULL : "not a cursor returned by this list (next_cursor)";
    }
    }
    return "invalid";
}

bool query_check(const qlist *q, const qparam *spec, json_t *errors)
{
    size_t before = json_array_size(errors);
    for (size_t i = 0; i < q->count; i++) {
        const qparam *p = NULL;
        for (const qparam *s = spec; s && s->name; s++)
            if (!strcmp(s->name, q->items[i].name)) p = s;
        if (!p) {
            add_error(errors, q->items[i].name, "unknown query parameter");
            continue;
        }
        if (!p->repeatable)
            for (size_t k = 0; k < i; k++)
                if (!strcmp(q->items[k].name, p->name)) {
                    add_error(errors, p->name, "given more than once");
                    goto next;
                }
        {
            const char *msg = check_value(p, q->items[i].value);
            if (msg) add_error(errors, p->name, msg);
        }
    next:;
    }
    return json_array_size(errors) == before;
}
