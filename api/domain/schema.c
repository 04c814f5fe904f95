#include "domain/schema.h"
#include "core/mem.h"
#include "core/parse.h"
#include "domain/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void schema_error(json_t *errors, const char *ptr, const char *name, const char *msg)
{
    char *field = xasprintf("%s/%s", ptr, name);
    json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", field, "message", msg)));
    free(field);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r') return true;
    return false;
}

static const char *type_name(field_type t)
{
    switch (t) {
    case FT_STRING:
        return "must be a string";
    case FT_INT:
        return "must be an integer";
    case FT_BOOL:
        return "must be true or false";
    case FT_DATE:
        return "must be a date YYYY-MM-DD";
    case FT_TIMESTAMP:
        return "must be a timestamp with offset (RFC 3339)";
    case FT_UUID:
        return "must be a UUID";
    case FT_CODE:
        return "must be a code (string)";
    case FT_CODES:
        return "must be an array of codes";
    case FT_STRINGS:
        return "must be an array of strings";
    case FT_OBJECT:
        return "must be an object";
    }
    return "has the wrong type";
}

static bool validate_value(const lda_field *f, const json_t *v, vmode mode, const vctx *ctx,
                           const char *ptr, json_t *errors)
{
    char msg[160];
    switch (f->type) {
    case FT_STRING: {
        if (!json_is_string(v)) break;
        const char *s = json_string_value(v);
        size_t n = utf8_chars(s);
        long min = f->min ? f->min : 0, max = f->max ? f->max : 10000;
        if ((long)n < min || (long)n > max) {
            snprintf(msg, sizeof msg, "must be %ld to %ld characters", min, max);
            schema_error(errors, ptr, f->name, msg);
            return false;
        }
        if (has_control(s)) {
            schema_error(errors, ptr, f->name, "must not contain control characters");
            return false;
        }
        if (f->check && !f->check(s)) {
            schema_error(errors, ptr, f->name, f->check_msg ? f->check_msg : "is not valid");
            return false;
        }
        return true;
    }
    case FT_INT: {
        if (!json_is_integer(v)) break;
        json_int_t i = json_integer_value(v);
        if ((f->min || f->max) && (i < f->min || i > f->max)) {
            snprintf(msg, sizeof msg, "must be from %ld to %ld", f->min, f->max);
            schema_error(errors, ptr, f->name, msg);
            return false;
        }
        return true;
    }
    case FT_BOOL:
        if (!json_is_boolean(v)) break;
        return true;
    case FT_DATE: {
        int32_t d;
        if (!json_is_string(v) || !parse_date(json_string_value(v), &d)) break;
        if ((f->flags & F_NOT_FUTURE) && d > ctx->today) {
            schema_error(errors, ptr, f->name, "must not be in the future");
            return false;
        }
        return true;
    }
    case FT_TIMESTAMP: {
        int64_t t;
        if (!json_is_string(v) || !parse_timestamp(json_string_value(v), &t)) break;
        return true;
    }
    case FT_UUID:
        if (!json_is_string(v) || !is_uuid(json_string_value(v))) break;
        return true;
    case FT_CODE:
        if (!json_is_string(v)) break;
        if (!vocab_has(vocab_find(f->vocab), json_string_value(v))) {
            snprintf(msg, sizeof msg, "unknown code (see GET /v1/vocabularies: %s)", f->vocab);
            schema_error(errors, ptr, f->name, msg);
            return false;
        }
        return true;
    case FT_CODES:
    case FT_STRINGS: {
        if (!json_is_array(v)) break;
        size_t n = json_array_size(v);
        long max = f->max ? f->max : 100;
        if ((long)n < f->min || (long)n > max) {
            snprintf(msg, sizeof msg, "must hold %ld to %ld items", f->min, max);
            schema_error(errors, ptr, f->name, msg);
            return false;
        }
        bool ok = true;
        for (size_t i = 0; i < n; i++) {
            const json_t *item = json_array_get(v, i);
            char *ip = xasprintf("%s/%s", ptr, f->name);
            char idx[24];
            snprintf(idx, sizeof idx, "%zu", i);
            if (!json_is_string(item)) {
                schema_error(errors, ip, idx,
                             f->type == FT_CODES ? "must be a code (string)" : "must be a string");
                ok = false;
            } else if (f->type == FT_CODES &&
                       !vocab_has(vocab_find(f->vocab), json_string_value(item))) {
                snprintf(msg, sizeof msg, "unknown code (see GET /v1/vocabularies: %s)", f->vocab);
                schema_error(errors, ip, idx, msg);
                ok = false;
            } else if (f->type == FT_STRINGS && (utf8_chars(json_string_value(item)) < 1 ||
                                                 utf8_chars(json_string_value(item)) > 200)) {
                schema_error(errors, ip, idx, "must be 1 to 200 characters");
                ok = false;
            } else {
                for (size_t k = 0; k < i; k++)
                    if (json_equal(json_array_get(v, k), item)) {
                        schema_error(errors, ip, idx, "is repeated");
                        ok = false;
                        break;
                    }
            }
            free(ip);
        }
        return ok;
    }
    case FT_OBJECT: {
        if (!json_is_object(v)) break;
        char *sp = xasprintf("%s/%s", ptr, f->name);
        vmode sub = mode == V_PATCH && (f->flags & F_MERGE) ? V_PATCH : V_CREATE;
        bool ok = schema_validate(f->sub, v, sub, ctx, sp, errors);
        free(sp);
        return ok;
    }
    }
    schema_error(errors, ptr, f->name, type_name(f->type));
    return false;
}

bool schema_validate(const lda_field *fields, const json_t *value, vmode mode, const vctx *ctx,
                     const char *ptr, json_t *errors)
{
    size_t before = json_array_size(errors);
    if (!json_is_object(value)) {
        json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", *ptr ? ptr : "",
                                                       "message", "must be an object")));
        return false;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)value, key, v)
    {
        const lda_field *f = NULL;
        for (const lda_field *g = fields; g->name; g++)
            if (!strcmp(g->name, key)) f = g;
        if (!f) {
            schema_error(errors, ptr, key, "unknown field");
            continue;
        }
        if (mode == V_PATCH && (f->flags & F_CREATE_ONLY)) {
            schema_error(errors, ptr, key, "cannot be changed");
            continue;
        }
        if (json_is_null(v)) {
            if (!(f->flags & F_NULLABLE)) schema_error(errors, ptr, key, "must not be null");
            continue;
        }
        validate_value(f, v, mode, ctx, ptr, errors);
    }
    if (mode == V_CREATE)
        for (const lda_field *g = fields; g->name; g++)
            if ((g->flags & F_REQUIRED) && !json_object_get(value, g->name))
                schema_error(errors, ptr, g->name, "is required");
    return json_array_size(errors) == before;
}

json_t *schema_merge(const lda_field *fields, const json_t *stored, const json_t *patch)
{
    json_t *out = JCHECK(json_deep_copy(stored));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        const lda_field *f = NULL;
        for (const lda_field *g = fields; g->name; g++)
            if (!strcmp(g->name, key)) f = g;
        json_t *old = json_object_get(out, key);
        if (f && f->type == FT_OBJECT && (f->flags & F_MERGE) && json_is_object(old) &&
            json_is_object(v))
            json_object_set_new(out, key, schema_merge(f->sub, old, v));
        else
            json_object_set(out, key, v);
    }
    return out;
}

int32_t schema_date(const json_t *obj, const char *name)
{
    int32_t d;
    const char *s = schema_str(obj, name);
    return s && parse_date(s, &d) ? d : -1;
}

const char *schema_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

char *schema_pg_array(const json_t *obj, const char *name)
{
    const json_t *a = json_object_get(obj, name);
    if (!json_is_array(a)) return NULL;
    size_t cap = 3, n = json_array_size(a);
    for (size_t i = 0; i < n; i++) cap += 2 * strlen(json_string_value(json_array_get(a, i))) + 3;
    char *out = xmalloc(cap), *p = out;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (i) *p++ = ',';
        *p++ = '"';
        for (; *s; s++) {
            if (*s == '"' || *s == '\\') *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}
