#include "domain/webhook_rules.h"
#include "core/mem.h"
#include "core/secret.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool url_syntax(const char *v)
{
    webhook_origin o;
    const char *why;
    return webhook_url_parse(v, &o, &why);
}

const lda_field WEBHOOK_FIELDS[] = {
    {"url", FT_STRING, F_REQUIRED, 10, WEBHOOK_URL_MAX, NULL, NULL, url_syntax,
     "must be an absolute http(s) URL without user information or fragment"},
    {"event_types", FT_CODES, 0, 0, 64, "change_type", NULL, NULL, NULL},
    {"platforms", FT_CODES, 0, 0, 5, "platform", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const lda_field WEBHOOK_PATCH_FIELDS[] = {
    {"url", FT_STRING, 0, 10, WEBHOOK_URL_MAX, NULL, NULL, url_syntax,
     "must be an absolute http(s) URL without user information or fragment"},
    {"event_types", FT_CODES, 0, 0, 64, "change_type", NULL, NULL, NULL},
    {"platforms", FT_CODES, 0, 0, 5, "platform", NULL, NULL, NULL},
    {"status", FT_CODE, 0, 0, 0, "webhook_status", NULL, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- URLs ------------------------------------------------------------------------ */

static bool host_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '.'; }

bool webhook_url_parse(const char *url, webhook_origin *out, const char **why)
{
    memset(out, 0, sizeof *out);
    *why = "must be an absolute http(s) URL";
    const char *p;
    if (!strncasecmp(url, "https://", 8)) {
        strcpy(out->scheme, "https");
        out->port = 443;
        p = url + 8;
    } else if (!strncasecmp(url, "http://", 7)) {
        strcpy(out->scheme, "http");
        out->port = 80;
        p = url + 7;
    } else
        return false;
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            *why = "must be ASCII without spaces or control characters";
            return false;
        }
    if (strchr(url, '#')) {
        *why = "must not have a fragment";
        return false;
    }
    size_t auth_len = strcspn(p, "/?");
    if (memchr(p, '@', auth_len)) {
        *why = "must not carry user information";
        return false;
    }
    const char *host = p, *host_end;
    const char *port = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', auth_len);
        if (!host_end) return false;
        if (host_end[1] == ':')
            port = host_end + 2;
        else if (host_end + 1 != p + auth_len)
            return false;
    } else {
        host_end = memchr(p, ':', auth_len);
        if (host_end)
            port = host_end + 1;
        else
            host_end = p + auth_len;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof out->host) {
        *why = "must name a host";
        return false;
    }
    for (size_t i = 0; i < hl; i++) {
        char c = host[i];
        if (!(host_char(c) || (*p == '[' && (c == ':' || isxdigit((unsigned char)c))))) {
            *why = "must name a host of letters, digits, dots and hyphens, or an IP address";
            return false;
        }
        out->host[i] = (char)tolower((unsigned char)c);
    }
    out->host[hl] = '\0';
    if (*p == '[') {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, out->host, &a6) != 1) {
            *why = "has a malformed IPv6 address";
            return false;
        }
    }
    if (port) {
        const char *end = p + auth_len;
        long v = 0;
        if (port == end || end - port > 5) {
            *why = "has a malformed port";
            return false;
        }
        for (const char *c = port; c < end; c++) {
            if (!isdigit((unsigned char)*c)) {
                *why = "has a malformed port";
                return false;
            }
            v = v * 10 + (*c - '0');
        }
        if (v < 1 || v > 65535) {
            *why = "has a port out of range";
            return false;
        }
        out->port = (int)v;
    }
    return true;
}

bool webhook_origin_allowed(const char *allow, const webhook_origin *o)
{
    if (!allow) return false;
    const char *p = allow;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        size_t n = strcspn(p, ",");
        size_t l = n;
        while (l && p[l - 1] == ' ') l--;
        if (l > 0 && l < 300) {
            char entry[300];
            memcpy(entry, p, l);
            entry[l] = '\0';
            webhook_origin a;
            const char *why;
            if (webhook_url_parse(entry, &a, &why) && !strcmp(a.scheme, o->scheme) &&
                !strcmp(a.host, o->host) && a.port == o->port)
                return true;
        }
        p += n;
    }
    return false;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

bool webhook_url_allowed(const char *url, const char *allow, const char **why)
{
    webhook_origin o;
    if (!webhook_url_parse(url, &o, why)) return false;
    if (webhook_origin_allowed(allow, &o)) return true;
    if (strcmp(o.scheme, "https")) {
        *why = "must use https (the operator may allow other origins: LDA_WEBHOOK_ALLOW)";
        return false;
    }
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    bool literal = false, public_ip = true;
    if (inet_pton(AF_INET, o.host, &a4.sin_addr) == 1) {
        literal = true;
        public_ip = webhook_address_public((struct sockaddr *)&a4);
    } else if (inet_pton(AF_INET6, o.host, &a6.sin6_addr) == 1) {
        literal = true;
        public_ip = webhook_address_public((struct sockaddr *)&a6);
    }
    size_t hl = strlen(o.host);
    if (hl && o.host[hl - 1] == '.') o.host[hl - 1] = '\0'; /* "localhost." is localhost */
    bool local_name = !literal && (!strcmp(o.host, "localhost") ||
                                   ends_with(o.host, ".localhost") || ends_with(o.host, ".local") ||
                                   ends_with(o.host, ".internal") || !strchr(o.host, '.'));
    /* a host of digits and dots that is no valid address (e.g. "127.1") could still be read
     * as one by a resolver */
    bool numeric = !literal && strspn(o.host, "0123456789.") == strlen(o.host);
    if (!public_ip || local_name || numeric) {
        *why = "must reach a public address, not a loopback, private or local one";
        return false;
    }
    return true;
}

/* ---- addresses ------------------------------------------------------------------- */

static bool in4(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
    return (a & mask) == (net & mask);
}

static bool public4(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } BLOCKED[] = {
        {0x00000000, 8},  /* "this network" */
        {0x0a000000, 8},  /* private */
        {0x64400000, 10}, /* shared address space (carrier-grade NAT) */
        {0x7f000000, 8},  /* loopback */
        {0xa9fe0000, 16}, /* link-local (cloud metadata services) */
        {0xac100000, 12}, /* private */
        {0xc0000000, 24}, /* IETF protocol assignments */
        {0xc0000200, 24}, /* documentation */
        {0xc0a80000, 16}, /* private */
        {0xc6120000, 15}, /* benchmarking */
        {0xc6336400, 24}, /* documentation */
        {0xcb007100, 24}, /* documentation */
        {0xe0000000, 4},  /* multicast */
        {0xf0000000, 4},  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof BLOCKED / sizeof BLOCKED[0]; i++)
        if (in4(a, BLOCKED[i].net, BLOCKED[i].bits)) return false;
    return true;
}

bool webhook_address_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        return public4(ntohl(s->sin_addr.s_addr));
    }
    if (sa->sa_family != AF_INET6) return false;
    const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12) || !memcmp(b, zero, 12)) {
        /* IPv4 inside IPv6 (and ::, ::1, the deprecated IPv4-compatible form) */
        uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        if (!memcmp(b, zero, 12)) return false;
        return public4(a);
    }
    if ((b[0] & 0xfe) == 0xfc) return false;                 /* unique local fc00::/7 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false; /* link-local fe80::/10 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false; /* site-local fec0::/10 */
    if (b[0] == 0xff) return false;                          /* multicast */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false; /* docs */
    if (b[0] == 0x01 && b[1] == 0x00 && !memcmp(b + 2, zero, 6)) return false;      /* discard */
    return true;
}

/* ---- bodies ---------------------------------------------------------------------- */

bool webhook_validate(const json_t *in, bool patch, const char *allow, const vctx *ctx,
                      json_t *errors)
{
    size_t before = json_array_size(errors);
    schema_validate(patch ? WEBHOOK_PATCH_FIELDS : WEBHOOK_FIELDS, in, patch ? V_PATCH : V_CREATE,
                    ctx, "", errors);
    if (json_array_size(errors) != before) return false;
    const char *url = schema_str(in, "url");
    const char *why = NULL;
    if (url && !webhook_url_allowed(url, allow, &why)) schema_error(errors, "", "url", why);
    return json_array_size(errors) == before;
}

/* ---- retries --------------------------------------------------------------------- */

long webhook_retry_delay_ms(int attempt, long base_ms, double jitter)
{
    if (attempt < 1) attempt = 1;
    double d = (double)base_ms;
    for (int i = 1; i < attempt && d < (double)WEBHOOK_RETRY_MAX_MS; i++) d *= 2;
    if (d > (double)WEBHOOK_RETRY_MAX_MS) d = (double)WEBHOOK_RETRY_MAX_MS;
    if (jitter < 0) jitter = 0;
    if (jitter >= 1) jitter = 0.999999;
    d *= 0.9 + 0.2 * jitter;
    return d < 1 ? 1 : (long)d;
}

/* ---- secrets and signatures ------------------------------------------------------ */

void webhook_secret_new(char out[WEBHOOK_SECRET_LEN])
{
    unsigned char raw[WEBHOOK_SECRET_BYTES];
    secret_random(raw, sizeof raw);
    memcpy(out, "whsec_", 6);
    secret_b64_encode(raw, sizeof raw, out + 6);
}

long webhook_secret_key(const char *secret, unsigned char key[64])
{
    if (!secret || strncmp(secret, "whsec_", 6)) return -1;
    size_t len = strlen(secret + 6);
    if (len == 0 || len > 88) return -1; /* at most 64 bytes of key */
    unsigned char buf[72];
    long n = secret_b64_decode(secret + 6, len, buf);
    if (n < 24 || n > 64) return -1;
    memcpy(key, buf, (size_t)n);
    return n;
}

bool webhook_sign(const char *secret, const char *msg_id, long long timestamp, const char *body,
                  size_t body_len, char out[WEBHOOK_SIGNATURE_LEN])
{
    unsigned char key[64], mac[32];
    long klen = webhook_secret_key(secret, key);
    if (klen < 0) return false;
    char head[160];
    int hn = snprintf(head, sizeof head, "%s.%lld.", msg_id, timestamp);
    if (hn < 0 || (size_t)hn >= sizeof head) return false;
    size_t total = (size_t)hn + body_len;
    char *content = xmalloc(total ? total : 1);
    memcpy(content, head, (size_t)hn);
    memcpy(content + hn, body, body_len);
    secret_hmac_raw(key, (size_t)klen, content, total, mac);
    free(content);
    memcpy(out, "v1,", 3);
    secret_b64_encode(mac, sizeof mac, out + 3);
    return true;
}

/* ---- the sealing key ------------------------------------------------------------- */

static unsigned char sealing_key[32];

void webhook_key_set(const char *material)
{
    static const char LABEL[] = "lda-api webhook signing secrets v1";
    secret_hmac_raw(material, strlen(material), LABEL, sizeof LABEL - 1, sealing_key);
}

const unsigned char *webhook_key(void) { return sealing_key; }
