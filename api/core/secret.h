/*
 * secret — random tokens, hashes and keyed hashes, all from OpenSSL's libcrypto.
 */
#ifndef LDA_CORE_SECRET_H
#define LDA_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_TOKEN_BYTES 32
/* "lda_" + base64url of 32 random bytes (43 characters) + NUL; the encoder writes the padded
 * form first (44 characters + NUL), hence one byte more than the token needs. */
#define SECRET_TOKEN_LEN (4 + 44 + 1)
#define SECRET_HASH_HEX  (64 + 1)

/* A new bearer token from the OS's secure random source. */
void secret_token_new(char out[SECRET_TOKEN_LEN]);

/* True when s[0..n) has the form secret_token_new() issues: "lda_" and 43 base64url
 * characters. Anything else cannot be a token, and is refused without a look-up. */
bool secret_token_well_formed(const char *s, size_t n);

/* SHA-256 of `s` as lower-case hex. */
void secret_sha256_hex(const char *s, size_t len, char out[SECRET_HASH_HEX]);
/* SHA-256 of the n parts one after the other, without joining them. */
void secret_sha256_parts_hex(const void *const *parts, const size_t *lens, size_t n,
                             char out[SECRET_HASH_HEX]);

/* HMAC-SHA-256 of msg under key, as lower-case hex. */
void secret_hmac_hex(const char *key, size_t keylen, const char *msg, size_t msglen,
                     char out[SECRET_HASH_HEX]);

/* Constant-time equality of two buffers of the same length. */
bool secret_equal(const void *a, const void *b, size_t len);

/* base64url without padding. encode: out needs 4*ceil(n/3)+1 bytes; returns the length.
 * decode: returns the length, or -1 on a malformed input; out needs 3*len/4+3 bytes. */
size_t secret_b64url_encode(const unsigned char *in, size_t n, char *out);
long secret_b64url_decode(const char *in, size_t len, unsigned char *out);

#endif
