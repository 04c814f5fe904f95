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

/* n bytes from the OS's secure random source. */
void secret_random(unsigned char *out, size_t n);

/* HMAC-SHA-256 of msg under key, the 32 raw bytes. */
void secret_hmac_raw(const void *key, size_t keylen, const void *msg, size_t msglen,
                     unsigned char out[32]);

/* Standard base64 with padding (RFC 4648 section 4). encode: out needs 4*ceil(n/3)+1 bytes;
 * returns the length. decode: returns the length, or -1 on a malformed input (a character
 * outside the alphabet, a length that is not a multiple of 4, misplaced padding); out needs
 * 3*len/4 bytes. */
size_t secret_b64_encode(const unsigned char *in, size_t n, char *out);
long secret_b64_decode(const char *in, size_t len, unsigned char *out);

/*
 * Authenticated encryption of a short secret at rest: AES-256-GCM under `key` (32 bytes),
 * a random 96-bit nonce, `aad` bound to the ciphertext (e.g. the id of the row that holds
 * it). The sealed form is text: "v1." + base64(nonce || ciphertext || tag). Caller frees.
 */
char *secret_seal(const unsigned char key[32], const char *aad, const char *plain);
/* The plaintext of a sealed text (caller frees), or NULL when it was not sealed under that
 * key and aad, or was altered. */
char *secret_open(const unsigned char key[32], const char *aad, const char *sealed);

#endif
