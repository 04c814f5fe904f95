/*
 * buf — the one growable byte buffer: text built piece by piece (the Prometheus exposition,
 * PostgreSQL array literals, the JSON text of a batch, CSV). It doubles as it grows, so
 * appending n bytes costs O(n) overall, and it is always NUL-terminated once anything was
 * appended. Out of memory aborts (core/mem.h). A zeroed buf_t is empty and valid.
 */
#ifndef LDA_CORE_BUF_H
#define LDA_CORE_BUF_H

#include <stddef.h>

typedef struct {
    char *data; /* NULL until something is appended */
    size_t len, cap;
} buf_t;

/* Makes room for `more` bytes beyond len (plus the NUL). */
void buf_reserve(buf_t *b, size_t more);
/* Appends n bytes. */
void buf_add(buf_t *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
void buf_puts(buf_t *b, const char *s);
/* Appends one byte. */
void buf_putc(buf_t *b, char c);
/* Appends printf-formatted text. */
__attribute__((format(printf, 2, 3))) void buf_printf(buf_t *b, const char *fmt, ...);
/* Forgets the content, keeps the memory. */
void buf_clear(buf_t *b);
/* The text (never NULL: "" when empty); the caller owns it and frees it with free(); the
 * buffer is empty again. *len (may be NULL) gets its length. */
char *buf_steal(buf_t *b, size_t *len);
/* Frees the memory; the buffer is empty again. */
void buf_free(buf_t *b);

#endif
