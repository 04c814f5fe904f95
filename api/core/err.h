/*
 * err — the one error vocabulary of the service. Functions return an lda_err and write
 * their results through out-parameters; http/problem.c turns an lda_err into RFC 9457.
 *
 * Out-of-memory policy (whole project): allocation failure is not recoverable in a
 * request; lda_oom() logs one line and aborts. Use the x* wrappers of core/mem.h.
 */
#ifndef LDA_CORE_ERR_H
#define LDA_CORE_ERR_H

typedef enum {
    LDA_OK = 0,
    LDA_EINVALID,      /* input does not satisfy the contract (422 / 400) */
    LDA_EBADREQUEST,   /* malformed request (400) */
    LDA_ENOTFOUND,     /* no such resource in the caller's scope (404) */
    LDA_ECONFLICT,     /* state does not allow it: duplicate, forbidden transition (409) */
    LDA_EPRECONDITION, /* If-Match is stale (412) */
    LDA_EFORBIDDEN,    /* role not allowed (403) */
    LDA_EUNAUTHORIZED, /* no valid credentials (401) */
    LDA_ETOOLARGE,     /* body over the limit (413) */
    LDA_EMEDIATYPE,    /* unsupported Content-Type (415) */
    LDA_ERATELIMIT,    /* too many requests (429) */
    LDA_EUNAVAILABLE,  /* database unreachable or timed out (503) */
    LDA_EDB,           /* unexpected database error (500) */
    LDA_EINTERNAL,     /* bug or system failure (500) */
} lda_err;

/* A short, stable, English name for logs ("not_found"...). Never NULL. */
const char *lda_err_name(lda_err e);

#endif
