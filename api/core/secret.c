#include "core/secret.h"
#include "core/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
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

size_t secret_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=') len--;
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return (size_t)len;
}

long secret_b64url_decode(const char *in, size_t len, unsigned char *out)
{
    if (len % 4 == 1) return -1;
    size_t padded = len + (4 - len % 4) % 4;
    char *tmp = xmalloc(padded + 1);
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '-')
            ch = '+';
        else if (ch == '_')
            ch = '/';
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9'))) {
            free(tmp);
            return -1;
        }
        tmp[i] = ch;
    }
    for (size_t i = len; i < padded; i++) tmp[i] = '=';
    tmp[padded] = '\0';
    int n = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)padded);
    free(tmp);
    if (n < 0) return -1;
    return n - (long)(padded - len); /* EVP_DecodeBlock counts the padding as zero bytes */
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
