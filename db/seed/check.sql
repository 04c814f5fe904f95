-- Checks of the demo data (db/seed/README.md): the figures of the activity report that
-- db/seed/demo.sql reproduces, the consistency rules every demo row follows, and the youth
-- share of the SIAO requests. Plain SQL, read-only:
--   psql "$LDA_DATABASE_URL" -f db/seed/check.sql
-- Definitions are those of SPEC §6 (GET /v1/stats/activity), over referrals received from
-- 2019-01-01 to 2022-12-31. Every row of "expected figures" should say ok; every
-- "consistency" row should count 0 violations.

-- 1. The headline figures (report l. 1048-1083, 1095-1103).
WITH ref AS (
  SELECT r.id, r.status, h.housing_situation,
         EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id
                 AND m.housing_outcome IN ('accessed', 'maintained')) AS housed
  FROM referral r JOIN household h ON h.id = r.household_id
  WHERE r.received_on BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'),
fig(ord, figure, value, expected, ok) AS (
  SELECT 1, 'referrals_received', count(*)::numeric, '1266', count(*) = 1266 FROM ref
  UNION ALL SELECT 2, 'accompanied (accompanied + accompaniment_ended)',
    count(*) FILTER (WHERE status IN ('accompanied', 'accompaniment_ended')), '634',
    count(*) FILTER (WHERE status IN ('accompanied', 'accompaniment_ended')) = 634 FROM ref
  UNION ALL SELECT 3, 'housed_or_maintained (a measure accessed/maintained)',
    count(*) FILTER (WHERE housed), '445', count(*) FILTER (WHERE housed) = 445 FROM ref
  UNION ALL SELECT 4, '  of which accompanied',
    count(*) FILTER (WHERE housed AND status IN ('accompanied', 'accompaniment_ended')), '445',
    count(*) FILTER (WHERE housed AND status IN ('accompanied', 'accompaniment_ended')) = 445 FROM ref
  UNION ALL SELECT 5, 'reoriented', count(*) FILTER (WHERE status = 'reoriented'), '275',
    count(*) FILTER (WHERE status = 'reoriented') = 275 FROM ref
  UNION ALL SELECT 6, 'no_follow_up', count(*) FILTER (WHERE status = 'no_follow_up'), '79',
    count(*) FILTER (WHERE status = 'no_follow_up') = 79 FROM ref
  UNION ALL SELECT 7, 'in_progress (received, assessing, orientation_proposed)',
    count(*) FILTER (WHERE status IN ('received', 'assessing', 'orientation_proposed')), '278',
    count(*) FILTER (WHERE status IN ('received', 'assessing', 'orientation_proposed')) = 278 FROM ref
  UNION ALL SELECT 8, 'share housed at referral, %',
    round(100.0 * count(*) FILTER (WHERE housing_situation = 'housed') / count(*), 2), '> 30',
    count(*) FILTER (WHERE housing_situation = 'housed') * 10 > count(*) * 3 FROM ref
  UNION ALL SELECT 9, 'share street + squat, %',
    round(100.0 * count(*) FILTER (WHERE housing_situation IN ('street', 'squat')) / count(*), 2), '> 10',
    count(*) FILTER (WHERE housing_situation IN ('street', 'squat')) * 10 > count(*) FROM ref
  UNION ALL SELECT 10, 'share hosted_by_third_party + shelter_structure, %',
    round(100.0 * count(*) FILTER (WHERE housing_situation IN ('hosted_by_third_party', 'shelter_structure')) / count(*), 2),
    '40 (39.5 .. 40.5)',
    round(1000.0 * count(*) FILTER (WHERE housing_situation IN ('hosted_by_third_party', 'shelter_structure')) / count(*)) = 400
    FROM ref)
SELECT figure, value, expected, CASE WHEN ok THEN 'ok' ELSE 'FAILED' END AS check
FROM fig ORDER BY ord;

-- 2. Housing situation at referral.
SELECT h.housing_situation, count(*) AS referrals,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_percent
FROM referral r JOIN household h ON h.id = r.household_id
WHERE r.received_on BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'
GROUP BY 1 ORDER BY 2 DESC;

-- 3. Referrals and outcomes by year and platform (platforms of the AMI 2 from 2021 only).
SELECT extract(year FROM r.received_on)::int AS year, r.platform, count(*) AS received,
       count(*) FILTER (WHERE r.status IN ('accompanied', 'accompaniment_ended')) AS accompanied,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id
                                      AND m.housing_outcome IN ('accessed', 'maintained'))) AS housed_or_maintained,
       count(*) FILTER (WHERE r.status = 'reoriented') AS reoriented,
       count(*) FILTER (WHERE r.status = 'no_follow_up') AS no_follow_up,
       count(*) FILTER (WHERE r.status IN ('received', 'assessing', 'orientation_proposed')) AS in_progress
FROM referral r
WHERE r.received_on BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'
GROUP BY ROLLUP (1, 2) ORDER BY 1 NULLS LAST, 2 NULLS FIRST;

-- 4. Referrers by kind (a registered partner's kind, else referrer_kind).
SELECT coalesce(p.kind, r.referrer_kind, 'not_collected') AS referrer_kind, count(*) AS referrals,
       count(*) FILTER (WHERE r.partner_id IS NOT NULL) AS by_registered_partner
FROM referral r LEFT JOIN partner p ON p.id = r.partner_id
WHERE r.received_on BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'
GROUP BY 1 ORDER BY 2 DESC;

-- 5. Measures by kind and year of start; housing outcomes and types.
SELECT m.kind, extract(year FROM m.started_on)::int AS started, count(*) AS measures,
       count(*) FILTER (WHERE m.ended_on IS NULL) AS running_on_2022_12_31,
       count(*) FILTER (WHERE m.housing_outcome = 'accessed') AS accessed,
       count(*) FILTER (WHERE m.housing_outcome = 'maintained') AS maintained
FROM measure m JOIN referral r ON r.id = m.referral_id
WHERE r.received_on BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'
GROUP BY ROLLUP (1, 2) ORDER BY 1 NULLS LAST, 2 NULLS LAST;

SELECT m.housing_outcome, m.housing_type, count(*) AS measures
FROM measure m WHERE m.housing_outcome IS NOT NULL
GROUP BY 1, 2 ORDER BY 1, 3 DESC;

-- 6. Consistency of the case data: every row should count 0.
WITH ev AS (
  SELECT e.*, lag(e.to_status) OVER w AS prev_to, lag(e.on_date) OVER w AS prev_on,
         row_number() OVER w AS k, count(*) OVER (PARTITION BY e.referral_id) AS nk
  FROM referral_event e WINDOW w AS (PARTITION BY e.referral_id ORDER BY e.id)),
allowed(f, t) AS (VALUES ('received', 'assessing'), ('assessing', 'orientation_proposed'),
  ('orientation_proposed', 'accompanied'), ('accompanied', 'accompaniment_ended'),
  ('received', 'reoriented'), ('received', 'no_follow_up'), ('assessing', 'reoriented'),
  ('assessing', 'no_follow_up'), ('orientation_proposed', 'reoriented'),
  ('orientation_proposed', 'no_follow_up')),
chk(ord, rule, violations) AS (
  SELECT 1, 'accompanied referral without a measure',
    count(*) FROM referral r WHERE r.status = 'accompanied'
      AND NOT EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id)
  UNION ALL SELECT 2, 'measure on a referral never accompanied',
    count(*) FROM measure m JOIN referral r ON r.id = m.referral_id
    WHERE r.status NOT IN ('accompanied', 'accompaniment_ended')
  UNION ALL SELECT 3, 'accompanied referral without a running measure',
    count(*) FROM referral r WHERE r.status = 'accompanied'
      AND NOT EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id AND m.ended_on IS NULL)
  UNION ALL SELECT 4, 'accompaniment_ended with a running measure, or not on the last end date',
    count(*) FROM referral r WHERE r.status = 'accompaniment_ended'
      AND (EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id AND m.ended_on IS NULL)
           OR (r.status_dates->>'accompaniment_ended')::date
              <> (SELECT max(m.ended_on) FROM measure m WHERE m.referral_id = r.id))
  UNION ALL SELECT 5, 'first measure not started on the accompanied date',
    count(*) FROM referral r WHERE r.status IN ('accompanied', 'accompaniment_ended')
      AND (r.status_dates->>'accompanied')::date <> (SELECT min(m.started_on) FROM measure m WHERE m.referral_id = r.id)
  UNION ALL SELECT 6, 'envaul for a head aged 25 or more on started_on',
    count(*) FROM measure m JOIN referral r ON r.id = m.referral_id JOIN household h ON h.id = r.household_id
    WHERE m.kind = 'envaul' AND (h.head_birth_date IS NULL OR age(m.started_on, h.head_birth_date) >= interval '25 years')
  UNION ALL SELECT 7, 'measure dates out of order (end < start, housing_on outside the measure)',
    count(*) FROM measure m WHERE m.ended_on < m.started_on OR m.housing_on < m.started_on
      OR m.housing_on > m.ended_on
  UNION ALL SELECT 8, 'housing_type/housing_on without accessed/maintained, or outcome without them',
    count(*) FROM measure m
    WHERE ((m.housing_type IS NOT NULL OR m.housing_on IS NOT NULL)
           AND coalesce(m.housing_outcome, 'none') NOT IN ('accessed', 'maintained'))
       OR (m.housing_outcome IN ('accessed', 'maintained') AND (m.housing_type IS NULL OR m.housing_on IS NULL))
  UNION ALL SELECT 9, 'end_reason without ended_on, or ended_on without end_reason',
    count(*) FROM measure m WHERE (m.end_reason IS NULL) <> (m.ended_on IS NULL)
  UNION ALL SELECT 10, 'youth_flatshare for a head over 25 on housing_on',
    count(*) FROM measure m JOIN referral r ON r.id = m.referral_id JOIN household h ON h.id = r.household_id
    WHERE m.housing_type = 'youth_flatshare' AND age(m.housing_on, h.head_birth_date) >= interval '26 years'
  UNION ALL SELECT 11, 'overlapping measures of one referral',
    count(*) FROM measure a JOIN measure b ON a.referral_id = b.referral_id AND a.id < b.id
    WHERE daterange(a.started_on, a.ended_on, '[]') && daterange(b.started_on, b.ended_on, '[]')
  UNION ALL SELECT 12, 'any measure or status date after 2022-12-31 (the snapshot of the report)',
    (SELECT count(*) FROM measure m WHERE greatest(m.started_on, m.ended_on, m.housing_on) > DATE '2022-12-31')
    + (SELECT count(*) FROM referral r, jsonb_each_text(r.status_dates) s WHERE s.value::date > DATE '2022-12-31')
  UNION ALL SELECT 13, 'status date before received_on, or statuses not dated in order',
    count(*) FROM ev WHERE ev.on_date < ev.prev_on OR (ev.k > 1 AND ev.on_date <= ev.prev_on)
  UNION ALL SELECT 14, 'transition not allowed by the state machine, or timeline not starting at received',
    count(*) FROM ev WHERE (ev.k = 1 AND (ev.to_status <> 'received' OR ev.from_status IS NOT NULL))
      OR (ev.k > 1 AND (ev.from_status IS DISTINCT FROM ev.prev_to
                        OR NOT EXISTS (SELECT 1 FROM allowed a WHERE a.f = ev.from_status AND a.t = ev.to_status)))
  UNION ALL SELECT 15, 'status or status_dates disagreeing with the events',
    count(*) FROM referral r
    WHERE r.status <> (SELECT e.to_status FROM referral_event e WHERE e.referral_id = r.id ORDER BY e.id DESC LIMIT 1)
       OR r.status_dates <> (SELECT jsonb_object_agg(e.to_status, to_char(e.on_date, 'YYYY-MM-DD'))
                             FROM referral_event e WHERE e.referral_id = r.id)
       OR (r.status_dates->>'received')::date <> r.received_on
  UNION ALL SELECT 16, 'referrer: neither a partner nor referrer_kind + referrer_name, or a partner of another platform',
    count(*) FROM referral r LEFT JOIN partner p ON p.id = r.partner_id
    WHERE (r.partner_id IS NULL AND (r.referrer_kind IS NULL OR r.referrer_name IS NULL))
       OR (r.partner_id IS NOT NULL AND (r.referrer_kind IS NOT NULL OR r.referrer_name IS NOT NULL))
       OR (p.platform IS NOT NULL AND p.platform <> r.platform)
  UNION ALL SELECT 17, 'referral without a reason',
    count(*) FROM referral r WHERE cardinality(r.reasons) = 0
  UNION ALL SELECT 18, 'referral received before its platform was active, or household on another platform',
    count(*) FROM referral r JOIN platform p ON p.code = r.platform JOIN household h ON h.id = r.household_id
    WHERE r.received_on < p.active_since OR h.platform <> r.platform
  UNION ALL SELECT 19, 'household: adults/children inconsistent with the composition',
    count(*) FROM household h WHERE h.adults < 1
      OR (h.composition = 'single_person' AND (h.adults, h.children) <> (1, 0))
      OR (h.composition = 'couple_no_child' AND (h.adults, h.children) <> (2, 0))
      OR (h.composition = 'couple_with_children' AND (h.adults <> 2 OR h.children < 1))
      OR (h.composition = 'single_parent' AND (h.adults <> 1 OR h.children < 1))
  UNION ALL SELECT 20, 'head under 18 at referral',
    count(*) FROM referral r JOIN household h ON h.id = r.household_id
    WHERE age(r.received_on, h.head_birth_date) < interval '18 years'
  UNION ALL SELECT 21, 'two heads with the same folded names and birth date on a platform (person_key clash)',
    count(*) FROM (SELECT 1 FROM household h
      GROUP BY h.platform, h.head_birth_date,
        regexp_replace(lower(translate(h.head_last_name, 'ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸàâäçéèêëîïôöùûüÿœŒ', 'AAACEEEEIIOOUUUYaaaceeeeiioouuuyoO')), '[^a-z0-9]', '', 'g'),
        regexp_replace(lower(translate(h.head_first_name, 'ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸàâäçéèêëîïôöùûüÿœŒ', 'AAACEEEEIIOOUUUYaaaceeeeiioouuuyoO')), '[^a-z0-9]', '', 'g')
      HAVING count(*) > 1) x
  UNION ALL SELECT 22, 'concertation before received_on',
    count(*) FROM referral r WHERE r.concertation_held_on < r.received_on)
SELECT rule, violations FROM chk ORDER BY ord;

-- 7. Youth observatory: SIAO requests per year (Europe/Paris), youth = 18 to 25 inclusive.
--    The youth share grows every year.
SELECT extract(year FROM s.received_at AT TIME ZONE 'Europe/Paris')::int AS year,
       count(*) AS requests_total,
       count(*) FILTER (WHERE s.age BETWEEN 18 AND 25) AS youth_requests,
       round(100.0 * count(*) FILTER (WHERE s.age BETWEEN 18 AND 25) / nullif(count(*), 0), 1) AS youth_share_percent,
       count(DISTINCT s.person_key) FILTER (WHERE s.age BETWEEN 18 AND 25) AS youth_persons,
       round(100.0 * count(*) FILTER (WHERE s.age BETWEEN 18 AND 25 AND s.response = 'no_place_available')
             / nullif(count(*) FILTER (WHERE s.age BETWEEN 18 AND 25), 0), 1) AS youth_unmet_percent,
       round(100.0 * count(*) FILTER (WHERE s.age BETWEEN 18 AND 25 AND s.alternatives_known = false)
             / nullif(count(*) FILTER (WHERE s.age BETWEEN 18 AND 25 AND s.alternatives_known IS NOT NULL), 0), 1)
         AS youth_no_alternative_percent,
       string_agg(DISTINCT s.platform, ',') AS platforms
FROM siao_request s
GROUP BY ROLLUP (1) ORDER BY 1 NULLS LAST;

-- Youth persons with two youth requests or more in the year, and checks of the SIAO rows
-- (every count 0 but the first).
WITH y AS (
  SELECT extract(year FROM received_at AT TIME ZONE 'Europe/Paris')::int AS year, person_key
  FROM siao_request WHERE age BETWEEN 18 AND 25 AND person_key IS NOT NULL)
SELECT year, count(*) AS youth_persons, count(*) FILTER (WHERE n >= 2) AS repeat_persons
FROM (SELECT year, person_key, count(*) AS n FROM y GROUP BY 1, 2) p
GROUP BY 1 ORDER BY 1;

SELECT 'AMI 2 platform before 2021' AS rule, count(*) AS violations FROM siao_request
  WHERE platform NOT IN ('artois', 'lens_henin') AND received_at < TIMESTAMPTZ '2021-01-01 00:00 Europe/Paris'
UNION ALL SELECT 'received_at outside 2019-2025 (Europe/Paris)', count(*) FROM siao_request
  WHERE received_at < TIMESTAMPTZ '2019-01-01 00:00 Europe/Paris' OR received_at >= TIMESTAMPTZ '2026-01-01 00:00 Europe/Paris'
UNION ALL SELECT 'age outside 16..80, or not year(received_at) - birth_year', count(*) FROM siao_request
  WHERE age NOT BETWEEN 16 AND 80
     OR (birth_year IS NOT NULL AND age <> extract(year FROM received_at AT TIME ZONE 'Europe/Paris') - birth_year)
UNION ALL SELECT 'a person with two sexes or two birth cohorts', count(*) FROM (
  SELECT person_key FROM siao_request WHERE person_key IS NOT NULL GROUP BY 1
  HAVING count(DISTINCT sex) > 1
      OR count(DISTINCT extract(year FROM received_at AT TIME ZONE 'Europe/Paris') - age) > 1) x
UNION ALL SELECT 'more than 3 needs or a repeated need', count(*) FROM siao_request
  WHERE cardinality(needs) > 3 OR cardinality(needs) <> (SELECT count(DISTINCT x) FROM unnest(needs) x);
