-- Checks of the demo data (db/seed/README.md): the figures of the activity report that
-- db/seed/demo.sql reproduces, the consistency rules every demo row follows, and the youth
-- share of the SIAO requests. Plain SQL, read-only:
--   psql "$LDA_DATABASE_URL" -f db/seed/check.sql
-- Definitions are those of docs/statistics.md (GET /v1/stats/activity), over referrals received from
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

-- 8. Eviction prevention and the housing offer (db/seed/axes.sql): the figures, then the rules
--    of the service on every demo row (each should count 0 violations).
WITH c AS (
  SELECT c.*, pf.ami,
         (SELECT min(a.done_on) FROM prevention_action a WHERE a.case_id = c.id) AS first_on,
         (SELECT a.kind FROM prevention_action a WHERE a.case_id = c.id ORDER BY a.done_on, a.id LIMIT 1) AS first_kind
  FROM prevention_case c JOIN platform pf ON pf.code = c.platform),
fig(ord, figure, value, expected, ok) AS (
  SELECT 1, 'VEJ cohort: AMI 1 cases whose first action is a VEJ in 2021', count(*)::numeric, '185',
    count(*) = 185 FROM c WHERE ami = 1 AND first_kind = 'vej' AND extract(year FROM first_on) = 2021
  UNION ALL SELECT 2, 'AMI 1 cases whose first action is in 2021 (all of them the VEJ cohort)',
    count(*), '185', count(*) = 185 FROM c WHERE ami = 1 AND extract(year FROM first_on) = 2021
  UNION ALL SELECT 3, 'VEJ cohort: procedure pending at 12 months, % (mostly)',
    round(100.0 * count(*) FILTER (WHERE f.situation = 'procedure_pending') / count(*), 1), '> 50',
    count(*) FILTER (WHERE f.situation = 'procedure_pending') * 2 > count(*)
    FROM c JOIN prevention_follow_up f ON f.case_id = c.id AND f.at_months = 12 WHERE c.first_kind = 'vej'
  UNION ALL SELECT 4, 'PEX mobile-team cases from 2022 within the criteria (1 500 - 4 000 euros)',
    count(*) FILTER (WHERE pex_status = 'within_criteria' AND debt_eur BETWEEN 1500 AND 4000), '140',
    count(*) FILTER (WHERE pex_status = 'within_criteria' AND debt_eur BETWEEN 1500 AND 4000) = 140
    FROM c WHERE first_kind = 'pex_mobile_team' AND first_on >= DATE '2022-01-01'
  UNION ALL SELECT 5, 'placements (referrals housed in social housing, intermediation, SAS, shared flats, boarding houses)',
    (SELECT count(*) FROM placement), '= those measures',
    (SELECT count(*) FROM placement) = (SELECT count(*) FROM measure WHERE housing_outcome = 'accessed'
      AND housing_type IN ('social_housing', 'rental_intermediation', 'sas_housing', 'youth_flatshare', 'boarding_house')))
SELECT figure, value, expected, CASE WHEN ok THEN 'ok' ELSE 'FAILED' END AS check FROM fig ORDER BY ord;

WITH stage_rank(stage, r) AS (VALUES ('payment_order', 1), ('summons', 2), ('judgment', 3),
  ('order_to_leave', 4), ('police_assistance_requested', 5), ('police_assistance_granted', 6),
  ('eviction_carried_out', 7)),
ev AS (SELECT e.*, rf.r AS rfrom, rt.r AS rto,
              lag(e.on_date) OVER (PARTITION BY e.case_id ORDER BY e.id) AS prev_on,
              lag(e.to_stage) OVER (PARTITION BY e.case_id ORDER BY e.id) AS prev_to
       FROM prevention_stage_event e LEFT JOIN stage_rank rf ON rf.stage = e.from_stage
       JOIN stage_rank rt ON rt.stage = e.to_stage),
first_action AS (SELECT case_id, min(done_on) AS first_on FROM prevention_action GROUP BY 1),
stays AS (SELECT p.*, o.capacity, o.available_from, o.available_to, o.platform AS offer_platform
          FROM placement p JOIN housing_offer o ON o.id = p.offer_id),
chk(ord, rule, violations) AS (
  SELECT 1, 'stage event not after the one before (order, date), or from <> previous to',
    count(*) FROM ev WHERE (rfrom IS NOT NULL AND rto <= rfrom) OR on_date < prev_on
      OR from_stage IS DISTINCT FROM prev_to
  UNION ALL SELECT 2, 'case: stage or stage_dates not those of its events',
    count(*) FROM prevention_case c WHERE c.stage <> (SELECT e.to_stage FROM prevention_stage_event e
      WHERE e.case_id = c.id ORDER BY e.id DESC LIMIT 1)
      OR c.stage_dates <> (SELECT jsonb_object_agg(e.to_stage, to_char(e.on_date, 'YYYY-MM-DD'))
                           FROM prevention_stage_event e WHERE e.case_id = c.id)
  UNION ALL SELECT 3, 'PEX eligibility not that of the rule of the AMI in force on debt_on',
    count(*) FROM prevention_case c JOIN platform pf ON pf.code = c.platform
      LEFT JOIN prevention_rule r ON r.ami = pf.ami AND c.debt_on >= r.valid_from
        AND (r.valid_to IS NULL OR c.debt_on <= r.valid_to)
    WHERE c.pex_status <> CASE WHEN c.debt_eur IS NULL THEN 'debt_unknown' WHEN r.id IS NULL THEN 'no_rule'
            WHEN c.debt_eur < r.debt_min_eur THEN 'below_criteria'
            WHEN c.debt_eur > r.debt_max_eur THEN 'above_criteria' ELSE 'within_criteria' END
       OR c.pex_rule_id IS DISTINCT FROM CASE WHEN c.debt_eur IS NOT NULL THEN r.id END
  UNION ALL SELECT 4, 'follow-up: due_on not first action + months, or after 2022-12-31',
    count(*) FROM prevention_follow_up f JOIN first_action a ON a.case_id = f.case_id
    WHERE f.due_on <> (a.first_on + make_interval(months => f.at_months))::date OR f.due_on > DATE '2022-12-31'
  UNION ALL SELECT 5, 'follow-up maintained or pending after an eviction carried out by its due date',
    count(*) FROM prevention_follow_up f JOIN prevention_case c ON c.id = f.case_id
    WHERE (c.stage_dates ->> 'eviction_carried_out')::date <= f.due_on
      AND f.situation IN ('maintained', 'procedure_pending')
  UNION ALL SELECT 6, 'follow-up maintained after the household left (or pending after evicted) earlier',
    count(*) FROM prevention_follow_up f JOIN prevention_follow_up g ON g.case_id = f.case_id
      AND g.at_months < f.at_months
    WHERE (g.situation IN ('evicted', 'rehoused', 'left_without_solution') AND f.situation = 'maintained')
       OR (g.situation = 'evicted' AND f.situation = 'procedure_pending')
  UNION ALL SELECT 7, 'action or stage after 2022-12-31, or a date in the future',
    (SELECT count(*) FROM prevention_action WHERE done_on > DATE '2022-12-31')
    + (SELECT count(*) FROM prevention_stage_event WHERE on_date > DATE '2022-12-31')
  UNION ALL SELECT 8, 'placement of a referral without a measure accessed/maintained',
    count(*) FROM placement p WHERE NOT EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = p.referral_id
      AND m.housing_outcome IN ('accessed', 'maintained'))
  UNION ALL SELECT 9, 'placement: another platform than its referral or offer, before received_on, outside availability',
    count(*) FROM stays s JOIN referral r ON r.id = s.referral_id
    WHERE s.platform <> r.platform OR s.platform <> s.offer_platform OR s.entered_on < r.received_on
       OR s.entered_on < s.available_from OR s.entered_on > coalesce(s.available_to, DATE '2999-12-31')
       OR s.left_on < s.entered_on OR (s.exit_reason IS NULL) <> (s.left_on IS NULL)
  UNION ALL SELECT 10, 'offer holding more households at once than its capacity',
    count(*) FROM stays s
    WHERE (SELECT count(*) FROM stays x WHERE x.offer_id = s.offer_id AND x.entered_on <= s.entered_on
           AND (x.left_on IS NULL OR x.left_on > s.entered_on)) > s.capacity
  UNION ALL SELECT 11, 'a household in two places at once',
    count(*) FROM stays s JOIN stays x ON x.referral_id = s.referral_id AND x.id <> s.id
      AND x.entered_on <= s.entered_on AND (x.left_on IS NULL OR x.left_on > s.entered_on)
  UNION ALL SELECT 12, 'fluidity meeting: accepted > made or made > presented; presented referral of another platform or received after',
    (SELECT count(*) FROM fluidity_meeting m WHERE m.proposals_accepted > m.proposals_made
       OR m.proposals_made > (SELECT count(*) FROM fluidity_presentation x WHERE x.meeting_id = m.id))
    + (SELECT count(*) FROM fluidity_presentation x JOIN fluidity_meeting m ON m.id = x.meeting_id
       JOIN referral r ON r.id = x.referral_id WHERE r.platform <> m.platform OR r.received_on > m.held_on)
  UNION ALL SELECT 13, 'record key outside [0, 2^20)',
    (SELECT count(*) FROM prevention_case WHERE rk NOT BETWEEN 0 AND 1048575)
    + (SELECT count(*) FROM prevention_action WHERE rk NOT BETWEEN 0 AND 1048575)
    + (SELECT count(*) FROM prevention_follow_up WHERE rk NOT BETWEEN 0 AND 1048575)
    + (SELECT count(*) FROM housing_offer WHERE rk NOT BETWEEN 0 AND 1048575)
    + (SELECT count(*) FROM placement WHERE rk NOT BETWEEN 0 AND 1048575)
    + (SELECT count(*) FROM fluidity_meeting WHERE rk NOT BETWEEN 0 AND 1048575)
    + (SELECT count(*) FROM fluidity_presentation WHERE rk NOT BETWEEN 0 AND 1048575))
SELECT rule, violations FROM chk ORDER BY ord;
