/*
 * mem — allocation wrappers that apply the project's out-of-memory policy: log once and
 * abort. A service that cannot allocate a few bytes cannot answer correctly either, and a
 * half-handled OOM path is where leaks and crashes hide.
 */
#ifndef LDA_CORE_MEM_H
#define LDA_CORE_MEM_H
#include <jansson.h>
#include <stddef.h>

_Noreturn void lda_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* jansson objects: NULL from a constructor means OOM. Returns v. */
static inline json_t *jcheck(json_t *v)
{
    if (!v) lda_oom();
    return v;
}
#define JCHECK(x) jcheck(x)

#endif
