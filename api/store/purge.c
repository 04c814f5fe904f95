#include "store/purge.h"
#include "core/log.h"
#include "core/parse.h"
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any constant: the same for every instance and for the command line. */
#define PURGE_LOCK_KEY "7243017"

PGconn *purge_connect(void)
{
    PGconn *pg = db_connect_dedicated();
    if (pg) PQclear(PQexec(pg, "SET statement_timeout = '10min'"));
    return pg;
}

void purge_plan_init(purge_plan *p, const lda_config *cfg, const char *as_of)
{
    memset(p, 0, sizeof *p);
    if (as_of)
        snprintf(p->as_of, sizeof p->as_of, "%s", as_of);
    else
        format_date(today_paris(), p->as_of);
    p->siao_request_months = cfg->retention_siao_request_months;
    p->referral_months = cfg->retention_referral_months;
    p->prevention_months = cfg->retention_prevention_months;
    p->audit_months = cfg->retention_audit_months;
    p->batch = 1000;
}

static int kind_index(const char *name)
{
    for (int i = 0; i < RETENTION_KIND_COUNT; i++)
        if (!strcmp(RETENTION_KINDS[i].name, name)) return i;
    return -1;
}

/* Runs one statement with text parameters; NULL (SQLSTATE logged, never the message, which
 * may quote a row) when it failed. */
static PGresult *run(PGconn *pg, const char *what, const char *sql, int n, const char *const *p)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    log_json(LOG_ERROR, "purge statement failed",
             json_pack("{s:s, s:s}", "step", what, "sqlstate", state ? state : ""));
    PQclear(r);
    return NULL;
}

static lda_err failed(PGconn *pg)
{
    return PQstatus(pg) == CONNECTION_OK ? LDA_EDB : LDA_EUNAVAILABLE;
}

static void months_text(const purge_plan *p, char m[4][16])
{
    snprintf(m[0], 16, "%ld", p->siao_request_months);
    snprintf(m[1], 16, "%ld", p->referral_months);
    snprintf(m[2], 16, "%ld", p->prevention_months);
    snprintf(m[3], 16, "%ld", p->audit_months);
}

lda_err purge_due(PGconn *pg, const purge_plan *p, purge_counts *out)
{
    memset(out, 0, sizeof *out);
    char m[4][16];
    months_text(p, m);
    const char *params[] = {p->as_of, m[0], m[1], m[2], m[3]};
    PGresult *r = run(pg, "due",
                      "SELECT kind, n FROM lda_purge_due($1::date, $2::int, $3::int, $4::int,"
                      " $5::int)",
                      5, params);
    if (!r) return failed(pg);
    for (int i = 0; i < PQntuples(r); i++) {
        int k = kind_index(PQgetvalue(r, i, 0));
        if (k >= 0) out->n[k] = atoll(PQgetvalue(r, i, 1));
    }
    PQclear(r);
    return LDA_OK;
}

lda_err purge_lock(PGconn *pg)
{
    PGresult *r = run(pg, "lock", "SELECT pg_try_advisory_lock(" PURGE_LOCK_KEY ")", 0, NULL);
    if (!r) return failed(pg);
    bool got = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return got ? LDA_OK : LDA_ECONFLICT;
}

void purge_unlock(PGconn *pg)
{
    PQclear(PQexec(pg, "SELECT pg_advisory_unlock(" PURGE_LOCK_KEY ")"));
}

/* Calls one batch function until it removes nothing (or stop). */
static lda_err drain(PGconn *pg, const char *fn, const char *run_id, const purge_plan *p,
                     long months, atomic_bool *stop)
{
    char sql[160], mo[16], batch[16];
    snprintf(sql, sizeof sql, "SELECT %s($1::bigint, $2::date, $3::int, $4::int)", fn);
    snprintf(mo, sizeof mo, "%ld", months);
    snprintf(batch, sizeof batch, "%d", p->batch > 0 ? p->batch : 1000);
    const char *params[] = {run_id, p->as_of, mo, batch};
    for (;;) {
        if (stop && atomic_load(stop)) return LDA_OK;
        PGresult *r = run(pg, fn, sql, 4, params);
        if (!r) return failed(pg);
        long long n = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (n == 0) return LDA_OK;
    }
}

lda_err purge_execute(PGconn *pg, const purge_plan *p, bool scheduled, atomic_bool *stop,
                      purge_counts *out, bool *skipped)
{
    memset(out, 0, sizeof *out);
    *skipped = false;
    const char *bp[] = {p->as_of, scheduled ? "true" : "false"};
    PGresult *r = run(pg, "begin", "SELECT lda_purge_begin($1::date, $2::boolean)", 2, bp);
    if (!r) return failed(pg);
    if (PQgetisnull(r, 0, 0)) {
        PQclear(r);
        *skipped = true;
        return LDA_OK;
    }
    char run_id[32];
    snprintf(run_id, sizeof run_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);

    /* the order matters for households: those of purged referrals and cases go with them */
    lda_err e = drain(pg, "lda_purge_siao_requests", run_id, p, p->siao_request_months, stop);
    if (!e) e = drain(pg, "lda_purge_referrals", run_id, p, p->referral_months, stop);
    if (!e) e = drain(pg, "lda_purge_prevention_cases", run_id, p, p->prevention_months, stop);
    if (!e) e = drain(pg, "lda_purge_orphan_households", run_id, p, p->referral_months, stop);
    if (!e) e = drain(pg, "lda_purge_audit_events", run_id, p, p->audit_months, stop);
    /* audited even when a batch failed: what the earlier batches removed is committed */
    const char *fp[] = {run_id};
    r = run(pg, "finish", "SELECT lda_purge_finish($1::bigint)::text", 1, fp);
    if (!r) return e ? e : failed(pg);
    json_t *counts = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    const char *key;
    json_t *v;
    json_object_foreach(counts, key, v)
    {
        int k = kind_index(key);
        if (k >= 0) out->n[k] = json_integer_value(v);
    }
    json_decref(counts);
    return e;
}
