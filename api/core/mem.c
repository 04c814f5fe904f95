#include "core/mem.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lda_oom(void)
{
    static const char msg[] = "{\"level\":\"fatal\",\"msg\":\"out of memory\"}\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) lda_oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) lda_oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) lda_oom();
    return q;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) lda_oom();
    return d;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d) lda_oom();
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0) lda_oom();
    return out;
}

const char *lda_err_name(lda_err e)
{
    switch (e) {
    case LDA_OK:
        return "ok";
    case LDA_EINVALID:
        return "invalid";
    case LDA_EBADREQUEST:
        return "bad_request";
    case LDA_ENOTFOUND:
        return "not_found";
    case LDA_ECONFLICT:
        return "conflict";
    case LDA_EPRECONDITION:
        return "precondition_failed";
    case LDA_EFORBIDDEN:
        return "forbidden";
    case LDA_EUNAUTHORIZED:
        return "unauthorized";
    case LDA_ETOOLARGE:
        return "too_large";
    case LDA_EMEDIATYPE:
        return "unsupported_media_type";
    case LDA_ERATELIMIT:
        return "rate_limited";
    case LDA_EUNAVAILABLE:
        return "unavailable";
    case LDA_EDB:
        return "db_error";
    case LDA_EINTERNAL:
        return "internal";
    }
    return "unknown";
}
