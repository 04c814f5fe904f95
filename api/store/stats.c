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
    "  'accompanied', (SELECT count(*) FROM ref WHERE status IN ('accompanied', 'accompaniment_ended')),"
    "  'housed_or_maintained', (SELECT count(*) FROM ref WHERE housed),"
    "  'reoriented', (SELECT count(*) FROM ref WHERE status = 'reoriented'),"
    "  'no_follow_up', (SELECT count(*) FROM ref WHERE status = 'no_follow_up'),"
    "  'in_progress', (SELECT count(*) FROM ref WHERE status IN ('received', 'assessing', 'orientation_proposed')),"
    "  'by_housing_situation', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT housing_situation k, count(*) n FROM ref GROUP BY 1) s),"
    "  'by_referrer_kind', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT referrer_kind k, count(*) n FROM ref GROUP BY 1) s),"
    "  'by_platform', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT platform k, count(*) n FROM ref GROUP BY 1) s),"
    "  'by_year', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT year k, count(*) n FROM ref GROUP BY 1) s),"
    "  'measures_by_kind', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "    (SELECT m.kind k, count(*) n FROM measure m JOIN ref ON ref.id = m.referral_id GROUP BY 1) s)"
    " )::text",
    0};

/* The youth figures over one set of requests `y` (youth) within `r` (all). */
#define YOUTH_HEADLINE                                                                         \
    "'requests_total', (SELECT count(*) FROM r),"                                               \
    " 'youth_requests', (SELECT count(*) FROM y),"                                              \
    " 'youth_persons', (SELECT count(DISTINCT person_key) FROM y),"                             \
    " 'repeat_persons', (SELECT count(*) FROM (SELECT 1 FROM y WHERE person_key IS NOT NULL"    \
    "   GROUP BY person_key HAVING count(*) >= 2) p),"                                          \
    " 'unmet', (SELECT count(*) FROM y WHERE response = 'no_place_available'),"                 \
    " 'alternatives_false', (SELECT count(*) FROM y WHERE alternatives_known = false),"         \
    " 'alternatives_known', (SELECT count(*) FROM y WHERE alternatives_known IS NOT NULL)"

#define PERIOD_WHERE                                                                           \
    "received_at >= ($1::date)::timestamp AT TIME ZONE 'Europe/Paris'"                          \
    " AND received_at < ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Paris'"                  \
    " AND ($3::text[] IS NULL OR platform = ANY($3::text[]))"

#define BREAKDOWN(name, expr)                                                                  \
    " '" name "', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"                          \
    "   (SELECT " expr " k, count(*) n FROM y GROUP BY 1) s)"

static db_stmt S_YOUTH = {
    "stats_youth",
    "WITH r AS MATERIALIZED (SELECT age, person_key, sex, situation, needs, response, channel,"
    "   platform, alternatives_known FROM siao_request WHERE " PERIOD_WHERE "),"
    " y AS MATERIALIZED (SELECT * FROM r WHERE age BETWEEN $4::int AND $5::int)"
    " SELECT json_build_object(" YOUTH_HEADLINE ","
    BREAKDOWN("by_sex", "coalesce(sex, 'not_collected')") ","
    BREAKDOWN("by_age", "age::text") ","
    BREAKDOWN("by_situation", "coalesce(situation, 'not_collected')") ","
    BREAKDOWN("by_response", "coalesce(response, 'not_collected')") ","
    BREAKDOWN("by_channel", "channel") ","
    BREAKDOWN("by_platform", "platform") ","
    " 'by_need', (SELECT coalesce(json_object_agg(k, n), '{}') FROM"
    "   (SELECT coalesce(nd, 'not_collected') k, count(*) n FROM y"
    "    LEFT JOIN LATERAL unnest(y.needs) nd ON true GROUP BY 1) s)"
    " )::text",
    0};

static db_stmt S_SERIES = {
    "stats_youth_series",
    "WITH r AS MATERIALIZED (SELECT date_trunc($6, received_at AT TIME ZONE 'Europe/Paris')::date AS period,"
    "   age, person_key, response, alternatives_known FROM siao_request WHERE " PERIOD_WHERE "),"
    " periods AS (SELECT generate_series(date_trunc($6, $1::date), $2::date,"
    "   CASE $6 WHEN 'quarter' THEN interval '3 months' WHEN 'year' THEN interval '1 year'"
    "   ELSE interval '1 month' END)::date AS period),"
    " y AS MATERIALIZED (SELECT * FROM r WHERE age BETWEEN $4::int AND $5::int),"
    " tot AS (SELECT period, count(*) n FROM r GROUP BY 1),"
    " yo AS (SELECT period, count(*) n, count(DISTINCT person_key) persons,"
    "   count(*) FILTER (WHERE response = 'no_place_available') unmet,"
    "   count(*) FILTER (WHERE alternatives_known = false) alt_false,"
    "   count(*) FILTER (WHERE alternatives_known IS NOT NULL) alt_known FROM y GROUP BY 1),"
    " rep AS (SELECT period, count(*) n FROM (SELECT period FROM y WHERE person_key IS NOT NULL"
    "   GROUP BY period, person_key HAVING count(*) >= 2) x GROUP BY 1)"
    " SELECT coalesce(json_agg(json_build_object('period_start', p.period,"
    "   'requests_total', coalesce(tot.n, 0), 'youth_requests', coalesce(yo.n, 0),"
    "   'youth_persons', coalesce(yo.persons, 0), 'repeat_persons', coalesce(rep.n, 0),"
    "   'unmet', coalesce(yo.unmet, 0), 'alternatives_false', coalesce(yo.alt_false, 0),"
    "   'alternatives_known', coalesce(yo.alt_known, 0)) ORDER BY p.period), '[]')::text"
    " FROM periods p LEFT JOIN tot USING (period) LEFT JOIN yo USING (period)"
    " LEFT JOIN rep USING (period)",
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
