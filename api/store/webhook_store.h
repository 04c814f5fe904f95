/*
 * webhook (store) — webhook endpoints, their deliveries and attempts (migration 013).
 *
 * Endpoints belong to the token that created them: `owner` is that token's id, or NULL for
 * an admin, who sees every endpoint. An endpoint outside the caller's reach is
 * LDA_ENOTFOUND, as if it did not exist. Secrets arrive here sealed (domain/webhook_rules.h,
 * core/secret.h) and never leave the database but to the delivery worker.
 */
#ifndef LDA_STORE_WEBHOOK_STORE_H
#define LDA_STORE_WEBHOOK_STORE_H

#include "store/doc.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

/* ---- the API (pooled connections) ---- */

/* Creates endpoint `id` (chosen by the caller: the sealed secret is bound to it) owned by
 * `owner_token`, starting after commit position `horizon` (the events final when it was
 * registered are not sent). `in` holds url, event_types, platforms. */
lda_err webhook_create(db_conn *c, const char *id, const char *owner_token, const char *in,
                       const char *sealed_secret, long long horizon, store_doc *out);
lda_err webhook_get(db_conn *c, const char *id, const char *owner, store_doc *out);
lda_err webhook_list(db_conn *c, const char *owner, int limit, const char *cursor, char **json);
/* `merged` is the endpoint after the patch; `version` the row_version it was read at.
 * Enabling a disabled endpoint sends again the deliveries it had given up. */
lda_err webhook_update(db_conn *c, const char *id, const char *owner, const char *merged,
                       long version, store_doc *out);
lda_err webhook_delete(db_conn *c, const char *id, const char *owner);
/* The new sealed secret signs from now on; the previous one also signs for overlap_s
 * seconds (0: not at all). */
lda_err webhook_rotate(db_conn *c, const char *id, const char *owner, const char *sealed_secret,
                       long overlap_s, store_doc *out);
/* The delivery log, newest first; state may be NULL. */
lda_err webhook_deliveries(db_conn *c, const char *id, const char *owner, const char *state,
                           int limit, const char *cursor, char **json);
/* Sends a delivery again, now, whatever its state (its message id stays the same). */
lda_err webhook_replay(db_conn *c, const char *id, const char *owner, const char *delivery,
                       store_doc *out);

/* ---- the delivery worker (its own connection) ---- */

/* Turns the feed up to `horizon` into deliveries. */
lda_err webhook_enqueue(PGconn *pg, long long horizon, long *created);

typedef struct {
    char id[37];
    char *url;
    char *body;
    char *secret;          /* sealed */
    char *previous_secret; /* sealed, NULL when none or expired */
    char endpoint[37];
    int attempts; /* including this one */
} webhook_job;

/* Leases up to `max` deliveries that are due, in feed order per resource (a delivery waits
 * while an earlier one of the same endpoint and resource is pending), for lease_s seconds.
 * *jobs (caller frees with webhook_jobs_free) receives *n of them. */
lda_err webhook_claim(PGconn *pg, int max, long lease_s, webhook_job **jobs, int *n);
void webhook_jobs_free(webhook_job *jobs, int n);

/* Records an attempt (see lda_webhook_record in migration 013). status 0: no answer. */
lda_err webhook_record(PGconn *pg, const char *delivery, bool ok, int status, const char *error,
                       long duration_ms, long retry_in_ms, long give_up_s, bool gone);

/* Lets every lease go (on shutdown: another instance, or the next start, sends them). */
void webhook_release_leases(PGconn *pg, const char *const *ids, int n);

/* Deletes the delivery log older than `days`. */
void webhook_purge(PGconn *pg, long days);

#endif
