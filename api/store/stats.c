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

#define PERIOD_WHERE                                                                               \
    "received_at >= ($1::date)::timestamp AT TIME ZONE 'Europe/Paris'"                             \
    " AND received_at < ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Paris'"                     \
    " AND ($3::text[] IS NULL OR platform = ANY($3::text[]))"

/* One pass over the youth requests `y` (GROUPING SETS: one hash aggregate for every
 * breakdown and the totals), one over their persons, one over their needs; the count of all
 * requests comes from the (platform, received_at) index. */
static db_stmt S_YOUTH = {
    "stats_youth",
    "WITH y AS MATERIALIZED (SELECT age, person_key, sex, situation, needs, response, channel,"
    "   platform, alternatives_known FROM siao_request WHERE " PERIOD_WHERE
    "   AND age BETWEEN $4::int AND $5::int),"
    " g AS (SELECT CASE WHEN GROUPING(sex) = 0 THEN 'by_sex' WHEN GROUPING(age) = 0 THEN 'by_age'"
    "   WHEN GROUPING(situation) = 0 THEN 'by_situation' WHEN GROUPING(response) = 0 THEN "
    "'by_response'"
    "   WHEN GROUPING(channel) = 0 THEN 'by_channel' WHEN GROUPING(platform) = 0 THEN 'by_platform'"
    "   ELSE 'all' END AS section,"
    "   CASE WHEN GROUPING(sex) = 0 THEN coalesce(sex, 'not_collected')"
    "   WHEN GROUPING(age) = 0 THEN age::text"
    "   WHEN GROUPING(situation) = 0 THEN coalesce(situation, 'not_collected')"
    "   WHEN GROUPING(response) = 0 THEN coalesce(response, 'not_collected')"
    "   WHEN GROUPING(channel) = 0 THEN channel WHEN GROUPING(platform) = 0 THEN platform"
    "   ELSE '' END AS k, count(*) AS n,"
    "   count(*) FILTER (WHERE response = 'no_place_available') AS unmet,"
    "   count(*) FILTER (WHERE alternatives_known = false) AS alt_false,"
    "   count(*) FILTER (WHERE alternatives_known IS NOT NULL) AS alt_known"
    "  FROM y GROUP BY GROUPING SETS ((sex), (age), (situation), (response), (channel), "
    "(platform), ())),"
    " persons AS (SELECT count(*) AS persons, count(*) FILTER (WHERE n >= 2) AS repeats"
    "  FROM (SELECT count(*) AS n FROM y WHERE person_key IS NOT NULL GROUP BY person_key) x),"
    " needs AS (SELECT coalesce(nd, 'not_collected') AS k, count(*) AS n FROM y"
    "  LEFT JOIN LATERAL unnest(y.needs) nd ON true GROUP BY 1),"
    " total AS (SELECT count(*) AS n FROM siao_request WHERE " PERIOD_WHERE ")"
    " SELECT json_build_object("
    "  'requests_total', (SELECT n FROM total),"
    "  'youth_requests', coalesce((SELECT n FROM g WHERE section = 'all'), 0),"
    "  'youth_persons', (SELECT persons FROM persons),"
    "  'repeat_persons', (SELECT repeats FROM persons),"
    "  'unmet', coalesce((SELECT unmet FROM g WHERE section = 'all'), 0),"
    "  'alternatives_false', coalesce((SELECT alt_false FROM g WHERE section = 'all'), 0),"
    "  'alternatives_known', coalesce((SELECT alt_known FROM g WHERE section = 'all'), 0),"
    "  'by_sex', (SELECT coalesce(json_object_agg(k, n), '{}') FROM g WHERE section = 'by_sex'),"
    "  'by_age', (SELECT coalesce(json_object_agg(k, n), '{}') FROM g WHERE section = 'by_age'),"
    "  'by_situation', (SELECT coalesce(json_object_agg(k, n), '{}') FROM g WHERE section = "
    "'by_situation'),"
    "  'by_response', (SELECT coalesce(json_object_agg(k, n), '{}') FROM g WHERE section = "
    "'by_response'),"
    "  'by_channel', (SELECT coalesce(json_object_agg(k, n), '{}') FROM g WHERE section = "
    "'by_channel'),"
    "  'by_platform', (SELECT coalesce(json_object_agg(k, n), '{}') FROM g WHERE section = "
    "'by_platform'),"
    "  'by_need', (SELECT coalesce(json_object_agg(k, n), '{}') FROM needs)"
    " )::text",
    0};

static db_stmt S_SERIES = {
    "stats_youth_series",
    "WITH periods AS (SELECT generate_series(date_trunc($6, $1::date), $2::date,"
    "   CASE $6 WHEN 'quarter' THEN interval '3 months' WHEN 'year' THEN interval '1 year'"
    "   ELSE interval '1 month' END)::date AS period),"
    " tot AS (SELECT date_trunc($6, received_at AT TIME ZONE 'Europe/Paris')::date AS period,"
    "   count(*) AS n FROM siao_request WHERE " PERIOD_WHERE " GROUP BY 1),"
    " y AS MATERIALIZED (SELECT date_trunc($6, received_at AT TIME ZONE 'Europe/Paris')::date AS "
    "period,"
    "   person_key, response, alternatives_known FROM siao_request WHERE " PERIOD_WHERE
    "   AND age BETWEEN $4::int AND $5::int),"
    " yo AS (SELECT period, count(*) AS n,"
    "   count(*) FILTER (WHERE response = 'no_place_available') AS unmet,"
    "   count(*) FILTER (WHERE alternatives_known = false) AS alt_false,"
    "   count(*) FILTER (WHERE alternatives_known IS NOT NULL) AS alt_known FROM y GROUP BY 1),"
    " pp AS (SELECT period, count(*) AS persons, count(*) FILTER (WHERE n >= 2) AS repeats"
    "   FROM (SELECT period, count(*) AS n FROM y WHERE person_key IS NOT NULL"
    "   GROUP BY period, person_key) x GROUP BY 1)"
    " SELECT coalesce(json_agg(json_build_object('period_start', p.period,"
    "   'requests_total', coalesce(tot.n, 0), 'youth_requests', coalesce(yo.n, 0),"
    "   'youth_persons', coalesce(pp.persons, 0), 'repeat_persons', coalesce(pp.repeats, 0),"
    "   'unmet', coalesce(yo.unmet, 0), 'alternatives_false', coalesce(yo.alt_false, 0),"
    "   'alternatives_known', coalesce(yo.alt_known, 0)) ORDER BY p.period), '[]')::text"
    " FROM periods p LEFT JOIN tot USING (period) LEFT JOIN yo USING (period)"
    " LEFT JOIN pp USING (period)",
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
