/*
 * webhook (domain) — what an endpoint registration must satisfy, which URLs and addresses a
 * delivery may reach, the retry schedule, and the Standard Webhooks signature
 * (https://www.standardwebhooks.com): the signed content is "<id>.<timestamp>.<body>", the
 * key the base64-decoded part of the secret after "whsec_", the header value "v1,<base64 of
 * HMAC-SHA-256>", several of them separated by spaces while a rotated secret overlaps. Pure:
 * no I/O.
 */
#ifndef LDA_DOMAIN_WEBHOOK_RULES_H
#define LDA_DOMAIN_WEBHOOK_RULES_H

#include "domain/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

extern const lda_field WEBHOOK_FIELDS[];       /* POST /v1/webhooks */
extern const lda_field WEBHOOK_PATCH_FIELDS[]; /* PATCH /v1/webhooks/{id} */
extern const lda_field WEBHOOK_ROTATE_FIELDS[];

#define WEBHOOK_URL_MAX         2048
#define WEBHOOK_SECRET_BYTES    32
#define WEBHOOK_SECRET_LEN      (6 + 44 + 1) /* "whsec_" + base64 of 32 bytes + NUL */
#define WEBHOOK_SIGNATURE_LEN   (3 + 44 + 1) /* "v1," + base64 of 32 bytes + NUL */
#define WEBHOOK_RETRY_MAX_MS    3600000L     /* retries are at most an hour apart */
#define WEBHOOK_OVERLAP_DEFAULT 86400L       /* a rotated secret still signs for a day */
#define WEBHOOK_OVERLAP_MAX     604800L

/* The parts of an endpoint URL that the policy reads. */
typedef struct {
    char scheme[8]; /* "https" or "http" */
    char host[256]; /* lower case; an IPv6 literal without its brackets */
    int port;       /* explicit or the scheme's default */
} webhook_origin;

/*
 * Parses an absolute http(s) URL: no user information, no fragment, a host of letters,
 * digits, dots and hyphens or an IP literal, an optional port. False (with *why, a static
 * message) when it is not such a URL.
 */
bool webhook_url_parse(const char *url, webhook_origin *out, const char **why);

/* True when `allow` (LDA_WEBHOOK_ALLOW: comma-separated "scheme://host[:port]") lists the
 * origin. */
bool webhook_origin_allowed(const char *allow, const webhook_origin *o);

/*
 * The registration rule: https, and a host that is no loopback, private, link-local or
 * otherwise non-public IP literal and no local name (localhost, *.localhost, *.local,
 * *.internal), unless the operator allows the origin. Names are checked again, once
 * resolved, at each delivery (webhook_address_public).
 */
bool webhook_url_allowed(const char *url, const char *allow, const char **why);

/* False for loopback, private, shared (CGNAT), link-local, multicast, reserved,
 * unspecified and documentation addresses, IPv4 and IPv6 (mapped and NAT64 IPv4 checked as
 * IPv4). */
bool webhook_address_public(const struct sockaddr *sa);

/* Validation of the bodies beyond their fields: platforms within the caller's scope is the
 * handler's; here event types and platforms are distinct codes and the URL follows the
 * rule above. */
bool webhook_validate(const json_t *in, bool patch, const char *allow, const vctx *ctx,
                      json_t *errors);

/* The delay before attempt `attempt + 1` after `attempt` failed ones (>= 1):
 * base * 2^(attempt - 1), at most WEBHOOK_RETRY_MAX_MS, spread by +-10 % with `jitter`
 * in [0, 1). */
long webhook_retry_delay_ms(int attempt, long base_ms, double jitter);

/* A new signing secret: "whsec_" + base64 of WEBHOOK_SECRET_BYTES random bytes. */
void webhook_secret_new(char out[WEBHOOK_SECRET_LEN]);

/* The HMAC key of a secret (the bytes after "whsec_", base64-decoded); returns its length,
 * or -1 when the secret is malformed. key needs 64 bytes. */
long webhook_secret_key(const char *secret, unsigned char key[64]);

/* "v1,<signature>" of one message under one secret; false when the secret is malformed. */
bool webhook_sign(const char *secret, const char *msg_id, long long timestamp, const char *body,
                  size_t body_len, char out[WEBHOOK_SIGNATURE_LEN]);

/* The key that seals signing secrets at rest: HMAC-SHA-256 of a fixed label under
 * `material` (LDA_WEBHOOK_KEY, else the pseudonymisation key). Set once before threads
 * start. */
void webhook_key_set(const char *material);
const unsigned char *webhook_key(void);

#endif
