/*
 * deliver — the webhook delivery worker: one thread with a database connection of its own,
 * sending up to LDA_WEBHOOK_CONCURRENCY attempts at once through libcurl's multi interface.
 *
 * Each turn: the feed up to the horizon becomes deliveries (store/webhook_store.h); the due
 * deliveries are leased (in feed order per endpoint and resource) and sent, signed per
 * Standard Webhooks; each outcome is recorded (delivered, retried with exponential
 * backoff, or given up after LDA_WEBHOOK_GIVE_UP_S and the endpoint disabled). Everything
 * is in PostgreSQL, so deliveries survive a restart (at least once: an attempt cut by a
 * crash is sent again when its lease expires). Requests never wait for it: it uses no
 * pooled connection and no HTTP worker thread.
 *
 * Safety: only the URL's own host is contacted, no redirect is followed, no proxy is used;
 * the connected address must be public unless the origin is in LDA_WEBHOOK_ALLOW (checked
 * on the socket libcurl opens, so a name that resolves to a private address is refused
 * too); each attempt is bounded by LDA_WEBHOOK_TIMEOUT_S and reads at most 64 KiB of
 * answer, which it never stores.
 */
#ifndef LDA_WORKER_DELIVER_H
#define LDA_WORKER_DELIVER_H

#include "core/config.h"

/* Starts the worker (nothing when LDA_WEBHOOK_CONCURRENCY is 0). curl_global_init must
 * have run. */
void deliver_start(const lda_config *cfg);
/* New events may be final: look at once. Any thread. */
void deliver_wake(void);
/* Stops sending; attempts in flight are abandoned and their leases released. */
void deliver_stop(void);

#endif
