/*
 * change — the change feed (migration 013): pages of events in commit order, and the
 * clock that tells which commits are final.
 *
 * The clock is a thread with a connection of its own: it polls for new commit positions
 * (every 10 ms while they move, backing off to 250 ms when idle), recomputes the horizon —
 * the last commit position whose events are all visible, so that a reader stopping there
 * never skips one — and calls back whoever waits for it (long polls, webhook deliveries).
 * Once a minute it purges the events older than the retention period.
 */
#ifndef LDA_STORE_CHANGE_H
#define LDA_STORE_CHANGE_H

#include "core/config.h"
#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>

#define CHANGE_CURSOR_END INT64_MAX /* event id of a cursor at the end of its commit */

/* Starts the clock. on_advance (may be NULL) runs on the clock's thread each time the
 * horizon moves. Call after db_pool_start. */
void change_clock_start(const lda_config *cfg, void (*on_advance)(long long horizon));
void change_clock_stop(void);

/* The horizon: every commit position <= it is final. -1 until first known. */
long long change_horizon(void);

/* Who reads the feed, as the visibility rule needs it. */
typedef struct {
    const char *role;   /* admin, coordinator, partner, siao */
    const char *scope;  /* the token's platforms as a text[] literal; NULL for admin */
    const char *token;  /* token id */
    const char *source; /* siao tokens */
} change_viewer;

typedef struct {
    char *items;      /* JSON array text (caller frees) */
    int count;        /* events in it */
    bool has_more;    /* more events are final already: ask again at once */
    bool expired;     /* the cursor is older than the retention purge: nothing returned */
    int64_t next_pos; /* the cursor after this page */
    int64_t next_id;
} change_page_t;

/*
 * The events after (after_pos, after_id) that `v` may see, of the types in `types` (a
 * text[] literal, NULL for all), up to `horizon`, at most `limit`. has_cursor: false for a
 * reader starting from the oldest event kept (never expired). The next cursor never goes
 * back: when nothing is left it is (horizon, CHANGE_CURSOR_END), or the cursor given if
 * that is further.
 */
lda_err change_page(db_conn *c, const change_viewer *v, bool has_cursor, int64_t after_pos,
                    int64_t after_id, long long horizon, const char *types, int limit,
                    change_page_t *out);

#endif
