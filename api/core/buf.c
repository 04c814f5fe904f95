#include "core/buf.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_reserve(buf_t *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_add(buf_t *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_putc(buf_t *b, char c) { buf_add(b, &c, 1); }

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap, sizing;
    va_start(ap, fmt);
    va_copy(sizing, ap);
    int n = vsnprintf(NULL, 0, fmt, sizing); /* the length, then the text */
    va_end(sizing);
    if (n < 0) lda_oom();
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_clear(buf_t *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

char *buf_steal(buf_t *b, size_t *len)
{
    size_t n = b->data ? b->len : 0;
    char *out = b->data ? b->data : xmalloc(1);
    out[n] = '\0';
    if (len) *len = n;
    *b = (buf_t){0};
    return out;
}

void buf_free(buf_t *b)
{
    free(b->data);
    *b = (buf_t){0};
}
