#include "core/secret.h"
#include "core/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <orcania.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* base64url without padding is orcania's (the encoding of tokens and cursors). Its decoder
 * writes whole 3-byte blocks, up to 2 bytes past the decoded length, and the encoder writes
 * no terminating nul: both go through a buffer of their own here. */
size_t secret_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t len = 0;
    if (!n || !o_base64url_encode(in, n, (unsigned char *)out, &len)) len = 0;
    out[len] = '\0';
    return len;
}

long secret_b64url_decode(const char *in, size_t len, unsigned char *out)
{
    if (!len) return 0;
    if (len % 4 == 1) return -1;
    size_t cap = len / 4 * 3 + 3, n = 0;
    unsigned char *tmp = xmalloc(cap);
    /* orcania refuses '=' and every character outside the alphabet; a nul would be skipped,
     * so it is refused here */
    bool ok = memchr(in, '\0', len) == NULL &&
              o_base64url_decode((const unsigned char *)in, len, tmp, &n) && n <= cap;
    if (ok) memcpy(out, tmp, n);
    free(tmp);
    return ok ? (long)n : -1;
}

void secret_token_new(char out[SECRET_TOKEN_LEN])
{
    unsigned char raw[SECRET_TOKEN_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1) lda_oom();
    memcpy(out, "lda_", 4);
    secret_b64url_encode(raw, sizeof raw, out + 4);
    OPENSSL_cleanse(raw, sizeof raw);
}

bool secret_token_well_formed(const char *s, size_t n)
{
    if (n != SECRET_TOKEN_LEN - 2 || strncmp(s, "lda_", 4)) return false;
    for (size_t i = 4; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

void secret_sha256_hex(const char *s, size_t len, char out[SECRET_HASH_HEX])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1) lda_oom();
    to_hex(md, 32, out);
}

void secret_sha256_parts_hex(const void *const *parts, const size_t *lens, size_t n,
                             char out[SECRET_HASH_HEX])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) lda_oom();
    for (size_t i = 0; i < n; i++)
        if (lens[i] && EVP_DigestUpdate(ctx, parts[i], lens[i]) != 1) lda_oom();
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) lda_oom();
    EVP_MD_CTX_free(ctx);
    to_hex(md, 32, out);
}

void secret_hmac_hex(const char *key, size_t keylen, const char *msg, size_t msglen,
                     char out[SECRET_HASH_HEX])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, md, &mdlen))
        lda_oom();
    to_hex(md, 32, out);
}

bool secret_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void secret_random(unsigned char *out, size_t n)
{
    if (RAND_bytes(out, (int)n) != 1) lda_oom();
}

void secret_hmac_raw(const void *key, size_t keylen, const void *msg, size_t msglen,
                     unsigned char out[32])
{
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &mdlen)) lda_oom();
}

size_t secret_b64_encode(const unsigned char *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

long secret_b64_decode(const char *in, size_t len, unsigned char *out)
{
    if (len % 4) return -1;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
        if (ch == '=' && i + 2 >= len) {
            pad++;
            continue;
        }
        if (!alpha || pad) return -1; /* padding only at the end */
    }
    if (!len) return 0;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    return n < 0 ? -1 : n - (long)pad;
}

#define GCM_NONCE 12
#define GCM_TAG   16

char *secret_seal(const unsigned char key[32], const char *aad, const char *plain)
{
    size_t n = strlen(plain);
    unsigned char *buf = xmalloc(GCM_NONCE + n + GCM_TAG);
    secret_random(buf, GCM_NONCE);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(ctx, buf + GCM_NONCE, &len, (const unsigned char *)plain, (int)n) != 1 ||
        EVP_EncryptFinal_ex(ctx, buf + GCM_NONCE + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, buf + GCM_NONCE + n) != 1)
        lda_oom(); /* only an allocation can fail here */
    EVP_CIPHER_CTX_free(ctx);
    size_t total = GCM_NONCE + n + GCM_TAG;
    char *out = xmalloc(3 + 4 * ((total + 2) / 3) + 1);
    memcpy(out, "v1.", 3);
    secret_b64_encode(buf, total, out + 3);
    OPENSSL_cleanse(buf, total);
    free(buf);
    return out;
}

char *secret_open(const unsigned char key[32], const char *aad, const char *sealed)
{
    if (!sealed || strncmp(sealed, "v1.", 3)) return NULL;
    size_t len = strlen(sealed + 3);
    unsigned char *buf = xmalloc(3 * len / 4 + 4);
    long total = secret_b64_decode(sealed + 3, len, buf);
    char *plain = NULL;
    if (total < GCM_NONCE + GCM_TAG) goto done;
    size_t n = (size_t)total - GCM_NONCE - GCM_TAG;
    plain = xmalloc(n + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int l = 0, fin = 0;
    bool ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) == 1 &&
              EVP_DecryptUpdate(ctx, NULL, &l, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
              EVP_DecryptUpdate(ctx, (unsigned char *)plain, &l, buf + GCM_NONCE, (int)n) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, buf + GCM_NONCE + n) == 1 &&
              EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + l, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (ok && memchr(plain, 0, n) == NULL) {
        plain[n] = '\0';
    } else {
        OPENSSL_cleanse(plain, n);
        free(plain);
        plain = NULL;
    }
done:
    OPENSSL_cleanse(buf, 3 * len / 4 + 4);
    free(buf);
    return plain;
}
