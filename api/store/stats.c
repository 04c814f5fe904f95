#include "store/stats.h"
#include "core/mem.h"

#include <stdio.h>

/* Referrals received in the period (SPEC §6, activity). A referral's referrer kind is its
 * registered partner's kind, else the referrer_kind given, else not collected. */
static db_stmt S_ACTIVITY = {
    "stats_activity",
    "WITH ref AS (SELECT r.id, r.platform, r.status, h.housing_situation,"
    "   coalesce(p.kind, r.referrer_kind, 'not_collected') AS referrer_kind,"
    "   extract(year FROM r.received_on)::int::text AS year,"
    "   EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id"
    "           AND m.housing_outcome IN ('accessed', 'maintained')) AS housed"
    "  FROM referral r JOIN household h ON h.id = r.household_id"
    "  LEFT JOIN partner p ON p.id = r.partner_id"
    "  WHERE r.received_on BETWEEN $1::date AND $2::date"
    "    AND ($3::text[] IS NULL OR r.platform = ANY($3::text[])))"
    " SELECT json_build_object("
    "  'referrals_received', (SELECT count(*) FROM ref),"
    "  'accompanied', (SELECT count(*) FROM ref WHERE status IN ('accompanied', "
    "'accompaniment_ended')),"
    "  'housed_or_maintained', (SELECT count(*) FROM ref WHERE housed),"
    "  'reoriented', (SELECT count(*) FROM ref WHERE status = 'reoriented'),"
    "  'no_follow_up', (SELECT count(*) FROM ref WHERE status = 'no_follow_up'),"
    "  'in_progress', (SELECT count(*) FROM ref WHERE status IN ('received', 'assessing', "
    "'orientation_proposed')),"
    "  'by_housing_situation', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT housing_situation k, count(*) n FROM ref GROUP BY 1) s),"
    "  'by_referrer_kind', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT referrer_kind k, count(*) n FROM ref GROUP BY 1) s),"
    "  'by_platform', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT platform k, count(*) n FROM ref GROUP BY 1) s),"
    "  'by_year', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT year k, count(*) n FROM ref GROUP BY 1) s),"
    "  'measures_by_kind', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT m.kind k, count(*) n FROM measure m JOIN ref ON ref.id = m.referral_id GROUP BY "
    "1) s)"
    " )::text",
    0};

/* The youth observatory reads the counts kept by migration 010 (observatory_cell for whole
 * months, raw rows for the edge days: lda_observatory_counts) and the distinct persons
 * (lda_observatory_persons); both stay exactly equal to the definitions over the raw rows
 * (see the migration's header). $1 from, $2 to, $3 platforms (NULL: all), $4..$5 ages. */
static db_stmt S_YOUTH = {
    "stats_youth",
    "WITH c AS MATERIALIZED (SELECT * FROM lda_observatory_counts($1::date, $2::date, $3::text[],"
    "   $4::int, $5::int)),"
    " g AS MATERIALIZED (SELECT dim, code, sum(n) AS n FROM c WHERE dim NOT IN ('all', 'total')"
    "   GROUP BY 1, 2 HAVING sum(n) > 0),"
    " t AS MATERIALIZED (SELECT age, platform, sum(n) AS n FROM c WHERE dim = 'total'"
    "   GROUP BY 1, 2 HAVING sum(n) > 0),"
    " per AS (SELECT * FROM lda_observatory_persons($1::date, $2::date, $3::text[], $4::int,"
    "   $5::int))"
    " SELECT json_build_object("
    "  'requests_total', (SELECT coalesce(sum(n), 0) FROM c WHERE dim = 'all'),"
    "  'youth_requests', (SELECT coalesce(sum(n), 0) FROM t),"
    "  'youth_persons', (SELECT persons FROM per),"
    "  'repeat_persons', (SELECT repeats FROM per),"
    "  'unmet', (SELECT coalesce(sum(n), 0) FROM g WHERE dim = 'response'"
    "    AND code = 'no_place_available'),"
    "  'alternatives_false', (SELECT coalesce(sum(n), 0) FROM g WHERE dim = 'alt'"
    "    AND code = 'false'),"
    "  'alternatives_known', (SELECT coalesce(sum(n), 0) FROM g WHERE dim = 'alt'"
    "    AND code IN ('true', 'false')),"
    "  'by_sex', (SELECT coalesce(json_object_agg(code, n), '{}') FROM g WHERE dim = 'sex'),"
    "  'by_age', (SELECT coalesce(json_object_agg(k, n), '{}') FROM (SELECT age::text k, sum(n) n"
    "    FROM t GROUP BY 1) s),"
    "  'by_situation', (SELECT coalesce(json_object_agg(code, n), '{}') FROM g"
    "    WHERE dim = 'situation'),"
    "  'by_response', (SELECT coalesce(json_object_agg(code, n), '{}') FROM g"
    "    WHERE dim = 'response'),"
    "  'by_channel', (SELECT coalesce(json_object_agg(code, n), '{}') FROM g"
    "    WHERE dim = 'channel'),"
    "  'by_platform', (SELECT coalesce(json_object_agg(k, n), '{}') FROM (SELECT platform k,"
    "    sum(n) n FROM t GROUP BY 1) s),"
    "  'by_need', (SELECT coalesce(json_object_agg(code, n), '{}') FROM g WHERE dim = 'need')"
    " )::text",
    0};

/* The same headline figures per period ($6: month, quarter or year); a period is clipped to
 * [from, to]. */
static db_stmt S_SERIES = {
    "stats_youth_series",
    "WITH periods AS (SELECT period, greatest(period, $1::date) AS a,"
    "   least((period + CASE $6 WHEN 'quarter' THEN interval '3 months' WHEN 'year' THEN"
    "   interval '1 year' ELSE interval '1 month' END)::date - 1, $2::date) AS b"
    "   FROM (SELECT generate_series(date_trunc($6, $1::date::timestamp), $2::date::timestamp,"
    "   CASE $6 WHEN 'quarter' THEN interval '3 months' WHEN 'year' THEN interval '1 year'"
    "   ELSE interval '1 month' END)::date AS period) g),"
    " c AS MATERIALIZED (SELECT date_trunc($6, month::timestamp)::date AS period, dim, code, n"
    "   FROM lda_observatory_counts($1::date, $2::date, $3::text[], $4::int, $5::int)"
    "   WHERE dim IN ('all', 'total', 'response', 'alt')),"
    " tot AS (SELECT period, sum(n) AS n FROM c WHERE dim = 'all' GROUP BY 1),"
    " yo AS (SELECT period, sum(n) FILTER (WHERE dim = 'total') AS n,"
    "   sum(n) FILTER (WHERE dim = 'response' AND code = 'no_place_available') AS unmet,"
    "   sum(n) FILTER (WHERE dim = 'alt' AND code = 'false') AS alt_false,"
    "   sum(n) FILTER (WHERE dim = 'alt' AND code IN ('true', 'false')) AS alt_known"
    "   FROM c GROUP BY 1)"
    " SELECT coalesce(json_agg(json_build_object('period_start', p.period,"
    "   'requests_total', coalesce(tot.n, 0), 'youth_requests', coalesce(yo.n, 0),"
    "   'youth_persons', pp.persons, 'repeat_persons', pp.repeats,"
    "   'unmet', coalesce(yo.unmet, 0), 'alternatives_false', coalesce(yo.alt_false, 0),"
    "   'alternatives_known', coalesce(yo.alt_known, 0)) ORDER BY p.period), '[]')::text"
    " FROM periods p LEFT JOIN tot USING (period) LEFT JOIN yo USING (period)"
    " LEFT JOIN lda_observatory_persons_series($1::date, $2::date, $3::text[], $4::int, $5::int,"
    "   $6) pp USING (period)",
    0};

static lda_err one_text(db_conn *c, db_stmt *s, int n, const char *const *p, char **json)
{
    lda_err e;
    PGresult *r = db_exec(c, s, n, p, &e);
    if (!r) return e;
    const char *v = db_value(r);
    *json = v ? xstrdup(v) : NULL;
    PQclear(r);
    return v ? LDA_OK : LDA_EDB;
}

lda_err stats_activity(db_conn *c, const char *from, const char *to, const char *platforms,
                       char **json)
{
    const char *p[] = {from, to, platforms};
    return one_text(c, &S_ACTIVITY, 3, p, json);
}

lda_err stats_youth(db_conn *c, const char *from, const char *to, const char *platforms,
                    int age_min, int age_max, char **json)
{
    char a[8], b[8];
    snprintf(a, sizeof a, "%d", age_min);
    snprintf(b, sizeof b, "%d", age_max);
    const char *p[] = {from, to, platforms, a, b};
    return one_text(c, &S_YOUTH, 5, p, json);
}

lda_err stats_youth_series(db_conn *c, const char *from, const char *to, const char *platforms,
                           int age_min, int age_max, const char *granularity, char **json)
{
    char a[8], b[8];
    snprintf(a, sizeof a, "%d", age_min);
    snprintf(b, sizeof b, "%d", age_max);
    const char *p[] = {from, to, platforms, a, b, granularity};
    return one_text(c, &S_SERIES, 6, p, json);
}
