#include "store/seed.h"
#include "core/log.h"
#include "core/mem.h"
#include "domain/household_rules.h"
#include "store/embedded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 100000L

static lda_err run(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    lda_err e = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? LDA_OK : LDA_EDB;
    if (e) {
        const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        log_json(LOG_ERROR, "seed statement failed",
                 json_pack("{s:s}", "error", m ? m : PQerrorMessage(pg)));
    }
    PQclear(r);
    return e;
}

/* person_key of every demo household, computed with the service's key (HMAC in C). */
static lda_err person_keys(PGconn *pg, const char *key)
{
    PGresult *r = PQexec(pg, "SELECT id, head_last_name, head_first_name, head_birth_date::text"
                             " FROM household WHERE person_key IS NULL AND erased_at IS NULL"
                             " AND head_last_name IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return LDA_EDB;
    }
    int n = PQntuples(r);
    size_t cap = (size_t)n * 40 + 3, kcap = (size_t)n * 67 + 3;
    char *ids = xmalloc(cap), *keys = xmalloc(kcap), *pi = ids, *pk = keys;
    *pi++ = '{';
    *pk++ = '{';
    for (int i = 0; i < n; i++) {
        char k[SECRET_HASH_HEX];
        household_person_key(key, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), k);
        pi += sprintf(pi, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
        pk += sprintf(pk, "%s%s", i ? "," : "", k);
    }
    strcpy(pi, "}");
    strcpy(pk, "}");
    PQclear(r);
    const char *p[] = {ids, keys};
    r = PQexecParams(pg,
                     "UPDATE household h SET person_key = v.k FROM unnest($1::uuid[], $2::text[])"
                     " AS v(id, k) WHERE h.id = v.id",
                     2, NULL, p, NULL, NULL, 0);
    lda_err e = PQresultStatus(r) == PGRES_COMMAND_OK ? LDA_OK : LDA_EDB;
    if (e)
        log_json(LOG_ERROR, "seed: person keys failed",
                 json_pack("{s:s}", "error", PQerrorMessage(pg)));
    PQclear(r);
    free(ids);
    free(keys);
    return e;
}

/* The record keys of the cell-key method: random in production; for the demo data a keyed
 * hash of each row's id, so that the same data (and the same published figures) come out of
 * every run with the same key. */
static lda_err record_keys(PGconn *pg, const char *key)
{
    /* each table with record keys, and what identifies a row of it */
    static const char *const TABLES[][2] = {
        {"referral", "id::text"},
        {"measure", "id::text"},
        {"prevention_case", "id::text"},
        {"prevention_action", "id::text"},
        {"prevention_follow_up", "id::text"},
        {"housing_offer", "id::text"},
        {"placement", "id::text"},
        {"fluidity_meeting", "id::text"},
        {"fluidity_presentation", "meeting_id::text || ':' || referral_id::text"},
    };
    for (size_t i = 0; i < sizeof TABLES / sizeof TABLES[0]; i++) {
        /* not an edit of the rows: row versions, dates and the change feed stay as loaded,
         * and the triggers that keep a record key fixed are off for this one update */
        char off[96], upd[512], on[96];
        snprintf(off, sizeof off, "ALTER TABLE %s DISABLE TRIGGER USER", TABLES[i][0]);
        snprintf(upd, sizeof upd,
                 "UPDATE %s SET rk = ('x' || substr(encode(hmac(convert_to('rk:' || %s, 'UTF8'),"
                 " convert_to($1, 'UTF8'), 'sha256'), 'hex'), 1, 5))::bit(20)::integer",
                 TABLES[i][0], TABLES[i][1]);
        snprintf(on, sizeof on, "ALTER TABLE %s ENABLE TRIGGER USER", TABLES[i][0]);
        const char *p[] = {key};
        lda_err e = run(pg, off);
        PGresult *r = e ? NULL : PQexecParams(pg, upd, 1, NULL, p, NULL, NULL, 0);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok || run(pg, on)) {
            log_json(LOG_ERROR, "seed: record keys failed",
                     json_pack("{s:s, s:s}", "table", TABLES[i][0], "error", PQerrorMessage(pg)));
            return LDA_EDB;
        }
    }
    /* the outcome facts copy their referral's record key (their triggers were off) */
    return run(pg, "UPDATE outcome_fact f SET rk = r.rk FROM referral r"
                   " WHERE r.id = f.referral_id AND f.rk IS DISTINCT FROM r.rk");
}

static lda_err empty(PGconn *pg)
{
    PGresult *r =
        PQexec(pg, "SELECT EXISTS (SELECT 1 FROM referral) OR EXISTS (SELECT 1 FROM household)"
                   " OR EXISTS (SELECT 1 FROM siao_request) OR EXISTS (SELECT 1 FROM partner)");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 'f';
    bool failed = PQresultStatus(r) != PGRES_TUPLES_OK;
    PQclear(r);
    if (failed) return LDA_EDB;
    return ok ? LDA_OK : LDA_ECONFLICT;
}

lda_err seed_demo(PGconn *pg, const char *key, long scale)
{
    lda_err e = empty(pg);
    if (e == LDA_ECONFLICT) {
        fprintf(stderr,
                "seed-demo: the database already holds data; seed-demo fills an empty one\n");
        return e;
    }
    if (e) return e;
    bool tty = isatty(STDERR_FILENO);
    fprintf(stderr, "seed-demo: referrals, households, partners, measures, prevention cases, "
                    "housing offers...\n");
    if ((e = run(pg, "BEGIN"))) return e;
    if (!(e = run(pg, EMBEDDED_SEED_DEMO)) && !(e = run(pg, EMBEDDED_SEED_AXES)) &&
        !(e = person_keys(pg, key)) && !(e = record_keys(pg, key)))
        e = run(pg, "COMMIT");
    if (e) {
        run(pg, "ROLLBACK");
        return e;
    }
    char sc[24];
    snprintf(sc, sizeof sc, "%ld", scale);
    const char *cp[] = {sc};
    PGresult *r = PQexecParams(pg, EMBEDDED_SEED_SIAO_COUNT, 1, NULL, cp, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return LDA_EDB;
    }
    long total = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    /* The observatory's structures (migration 010) are off during the load and rebuilt in
     * one pass after it: much faster than keeping them current chunk by chunk. While they
     * are off, the statistics read the raw rows (exact, only slower). */
    if ((e = run(pg, "UPDATE observatory_state SET current = false"))) return e;
    time_t start = time(NULL);
    int last_tenth = -1;
    for (long first = 1; first <= total; first += CHUNK) {
        long last = first + CHUNK - 1 < total ? first + CHUNK - 1 : total;
        char a[24], b[24];
        snprintf(a, sizeof a, "%ld", first);
        snprintf(b, sizeof b, "%ld", last);
        const char *p[] = {a, b, sc, key};
        r = PQexecParams(pg, EMBEDDED_SEED_SIAO, 4, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            log_json(LOG_ERROR, "seed: siao requests failed",
                     json_pack("{s:s}", "error", m ? m : ""));
            PQclear(r);
            return LDA_EDB;
        }
        PQclear(r);
        int tenth = (int)(last * 10 / total);
        long elapsed = (long)(time(NULL) - start);
        if (tty)
            fprintf(stderr, "\rseed-demo: SIAO requests %ld / %ld (%ld%%, %lds)", last, total,
                    last * 100 / total, elapsed);
        else if (tenth != last_tenth)
            fprintf(stderr, "seed-demo: SIAO requests %ld / %ld (%ld%%, %lds)\n", last, total,
                    last * 100 / total, elapsed);
        last_tenth = tenth;
    }
    if (tty) fprintf(stderr, "\n");
    fprintf(stderr, "seed-demo: observatory rollups (%lds)...\n", (long)(time(NULL) - start));
    if ((e = run(pg, "SELECT lda_observatory_rebuild()"))) return e;
    /* A database owner that is not a superuser (docker/initdb) may not analyze the shared
     * catalogs: PostgreSQL skips them with one warning each, which is noise here. */
    run(pg, "SET client_min_messages = error");
    run(pg, "ANALYZE");
    run(pg, "RESET client_min_messages");
    fprintf(stderr, "seed-demo: done (%ld SIAO requests) in %lds\n", total,
            (long)(time(NULL) - start));
    return LDA_OK;
}
