-- Every protected statistic survives the purge (docs/statistics.md, "What survives a purge"):
-- the eviction prevention and housing offer figures (GET /v1/stats/prevention,
-- GET /v1/stats/housing, reporting.prevention_monthly, reporting.housing_monthly) and the
-- outcome cohorts (GET /v1/stats/outcomes, reporting.outcome_cohorts_yearly) are the same
-- before and after a purge of the rows they count.
--
-- Those figures are distinct counts over any period, quartiles of values and situations on a
-- given day: sums by month cannot rebuild them. So, in the purge's transaction, each purged
-- row leaves a de-identified statistical remnant: only the dates, codes, values and record
-- keys (rk) the figures read, under a fresh random id that links it to nothing outside the
-- remnants (never the row's id, its household, its person key, its source ids or its free
-- text). The readers add the remnants to the live rows.
--
--   prevention_case_archive, prevention_action_archive, prevention_follow_up_archive
--       a purged case that had actions: its platform, key, debt, first action (date, kind),
--       stage at entry, debt band; its actions (date, kind, key); its recorded follow-ups
--       (horizon, situation, key). The purge takes a case only after its 24-month follow-up
--       is due, so the situations of the remnants never change again.
--   waiting_archive, placement_archive
--       a purged referral's span on the waiting list (received, closed, housed), its
--       household's composition and key; its placements (offer, dates, key, the referral's
--       reception date for the delay).
--   fluidity_presentation_archive
--       a purged referral's presentation at a fluidity meeting (the meeting, the key).
--   outcome_fact (migration 016)
--       a purged referral's facts stay, under a fresh referral_id and with no person (NULL):
--       no later referral can be linked to them and no refresh touches them. The outcome
--       triggers stand aside inside the purge (lda_purging(), migration 017), so the facts of
--       the person's remaining referrals stay as they were too.
--
-- This migration also gives lda_monthly_count back its prevention and housing rows (migration
-- 015), which the activity archive's version (migration 017) had left out.

-- ---- 1. the remnants ---------------------------------------------------------------------------

CREATE TABLE prevention_case_archive (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),   -- fresh: not the case's id
  platform    text NOT NULL REFERENCES platform (code),
  rk          integer NOT NULL,
  debt_eur    integer,
  first_on    date NOT NULL,
  first_kind  text NOT NULL,
  entry_stage text NOT NULL,
  debt_band   text NOT NULL
);
CREATE INDEX prevention_case_archive_first ON prevention_case_archive (first_on);

CREATE TABLE prevention_action_archive (
  case_id uuid NOT NULL REFERENCES prevention_case_archive (id),
  done_on date NOT NULL,
  kind    text NOT NULL,
  rk      integer NOT NULL
);
CREATE INDEX prevention_action_archive_done ON prevention_action_archive (done_on, case_id);

CREATE TABLE prevention_follow_up_archive (
  case_id   uuid NOT NULL REFERENCES prevention_case_archive (id),
  at_months smallint NOT NULL,
  situation text NOT NULL,
  rk        integer NOT NULL,
  PRIMARY KEY (case_id, at_months)
);

CREATE TABLE waiting_archive (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),   -- fresh: not the referral's id
  platform    text NOT NULL REFERENCES platform (code),
  rk          integer NOT NULL,
  composition text NOT NULL,
  received_on date NOT NULL,
  closed_on   date,       -- the first of its closing statuses (reoriented, no_follow_up, ended)
  housed_on   date        -- the first housing accessed or maintained by a measure
);

CREATE TABLE placement_archive (
  referral_id uuid NOT NULL REFERENCES waiting_archive (id),
  offer_id    uuid NOT NULL REFERENCES housing_offer (id),
  platform    text NOT NULL REFERENCES platform (code),
  rk          integer NOT NULL,
  entered_on  date NOT NULL,
  left_on     date,
  received_on date NOT NULL   -- the referral's reception (the delay to entry)
);
CREATE INDEX placement_archive_offer ON placement_archive (offer_id);
CREATE INDEX placement_archive_entered ON placement_archive (entered_on);
CREATE INDEX placement_archive_referral ON placement_archive (referral_id);

CREATE TABLE fluidity_presentation_archive (
  meeting_id uuid NOT NULL REFERENCES fluidity_meeting (id),
  rk         integer NOT NULL
);
CREATE INDEX fluidity_presentation_archive_meeting ON fluidity_presentation_archive (meeting_id);

-- A purged referral's facts have no person.
ALTER TABLE outcome_fact ALTER COLUMN person DROP NOT NULL;
COMMENT ON COLUMN outcome_fact.person IS
  'the person (lda_outcome_person); NULL: the remnant of a purged referral, under a fresh referral_id';

-- ---- 2. the live rows and the remnants, as the readers see them (private) ---------------------

CREATE OR REPLACE VIEW lda_prevention_cohort AS
  SELECT c.id, c.platform, c.rk, c.debt_eur, a.done_on AS first_on,
         date_trunc('month', a.done_on)::date AS month, a.kind AS first_kind,
         coalesce((SELECT e.to_stage FROM prevention_stage_event e WHERE e.case_id = c.id
                   ORDER BY e.id LIMIT 1), c.stage) AS entry_stage,
         lda_debt_band(c.debt_eur) AS debt_band
  FROM prevention_action a JOIN prevention_case c ON c.id = a.case_id
  WHERE NOT EXISTS (
    SELECT 1 FROM prevention_action b
    WHERE b.case_id = a.case_id AND b.done_on <= a.done_on
      AND (b.done_on, lda_prevention_action_rank(b.kind), b.id)
          < (a.done_on, lda_prevention_action_rank(a.kind), a.id))
  UNION ALL
  SELECT x.id, x.platform, x.rk, x.debt_eur, x.first_on, date_trunc('month', x.first_on)::date,
         x.first_kind, x.entry_stage, x.debt_band
  FROM prevention_case_archive x;

-- The recorded follow-ups.
CREATE VIEW lda_prevention_follow_up_all AS
  SELECT f.case_id, f.at_months, f.situation, f.rk FROM prevention_follow_up f
  UNION ALL
  SELECT f.case_id, f.at_months, f.situation, f.rk FROM prevention_follow_up_archive f;

-- The actions, with their case's platform and key.
CREATE VIEW lda_prevention_action_all AS
  SELECT x.case_id, x.done_on, x.kind, x.rk, p.platform, p.rk AS case_rk
  FROM prevention_action x JOIN prevention_case p ON p.id = x.case_id
  UNION ALL
  SELECT x.case_id, x.done_on, x.kind, x.rk, p.platform, p.rk
  FROM prevention_action_archive x JOIN prevention_case_archive p ON p.id = x.case_id;

CREATE OR REPLACE VIEW lda_prevention_follow AS
  SELECT c.*, h.at_months, (c.first_on + make_interval(months => h.at_months))::date AS due_on,
         lda_follow_up_situation(c.first_on, h.at_months, f.situation) AS situation,
         coalesce(f.rk, c.rk) AS key
  FROM lda_prevention_cohort c
  CROSS JOIN (VALUES (6), (12), (24)) h (at_months)
  LEFT JOIN lda_prevention_follow_up_all f ON f.case_id = c.id AND f.at_months = h.at_months;

-- The placements: referral (a referral's id, or a waiting_archive id), offer, platform, key, dates.
CREATE VIEW lda_placement_all AS
  SELECT p.referral_id, p.offer_id, p.platform, p.rk, p.entered_on, p.left_on FROM placement p
  UNION ALL
  SELECT p.referral_id, p.offer_id, p.platform, p.rk, p.entered_on, p.left_on
  FROM placement_archive p;

-- The presentations at fluidity meetings: meeting and key.
CREATE VIEW lda_presentation_all AS
  SELECT p.meeting_id, p.rk FROM fluidity_presentation p
  UNION ALL
  SELECT p.meeting_id, p.rk FROM fluidity_presentation_archive p;

-- ---- 3. the readers add the remnants -----------------------------------------------------------

CREATE OR REPLACE FUNCTION lda_prevention_counts(m0 date, m1 date, unit text)
RETURNS TABLE (unit_start date, platform text, dim text, code text, n bigint, ks bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH c AS MATERIALIZED (
    SELECT lda_stats_unit(unit, m0, k.first_on) AS u, k.*
    FROM lda_prevention_cohort k WHERE k.first_on >= m0 AND k.first_on < m1),
  f AS (SELECT c.u, c.platform, c.first_kind, c.entry_stage, c.debt_band, h.at_months,
               lda_follow_up_situation(c.first_on, h.at_months, x.situation) AS situation,
               coalesce(x.rk, c.rk) AS key
        FROM c CROSS JOIN (VALUES (6), (12), (24)) h (at_months)
        LEFT JOIN lda_prevention_follow_up_all x ON x.case_id = c.id AND x.at_months = h.at_months),
  a AS (SELECT lda_stats_unit(unit, m0, x.done_on) AS u, x.platform, x.kind, x.rk, x.case_id,
               x.case_rk
        FROM lda_prevention_action_all x
        WHERE x.done_on >= m0 AND x.done_on < m1)
  SELECT u, platform,
         CASE WHEN GROUPING(first_kind) = 0 THEN 'first_action'
              WHEN GROUPING(entry_stage) = 0 THEN 'entry_stage'
              WHEN GROUPING(debt_band) = 0 THEN 'debt_band' ELSE 'cases' END,
         coalesce(first_kind, entry_stage, debt_band, ''), count(*), sum(rk)::bigint
  FROM c GROUP BY u, platform, GROUPING SETS ((first_kind), (entry_stage), (debt_band), ())
  UNION ALL
  SELECT u, platform,
         'fu' || at_months || CASE WHEN GROUPING(first_kind) = 0 THEN '_fa'
                                   WHEN GROUPING(entry_stage) = 0 THEN '_es'
                                   WHEN GROUPING(debt_band) = 0 THEN '_db' ELSE '' END,
         CASE WHEN GROUPING(first_kind, entry_stage, debt_band) = 7 THEN situation
              ELSE coalesce(first_kind, entry_stage, debt_band) || ':' || situation END,
         count(*), sum(key)::bigint
  FROM f GROUP BY u, platform, at_months, situation,
                  GROUPING SETS ((), (first_kind), (entry_stage), (debt_band))
  UNION ALL
  SELECT u, platform, 'actions', '', count(*), sum(rk)::bigint FROM a GROUP BY 1, 2
  UNION ALL
  SELECT u, platform, 'action_kind', kind, count(*), sum(rk)::bigint FROM a GROUP BY 1, 2, 4
  UNION ALL
  SELECT d.u, d.platform, 'case_action', d.kind, count(*), sum(d.case_rk)::bigint
  FROM (SELECT DISTINCT u, platform, kind, case_id, case_rk FROM a) d GROUP BY 1, 2, 4
  UNION ALL
  SELECT d.u, d.platform, 'case_acted', '', count(*), sum(d.case_rk)::bigint
  FROM (SELECT DISTINCT u, platform, case_id, case_rk FROM a) d GROUP BY 1, 2
  UNION ALL
  SELECT m0, d.platform, 'case_action_all', d.kind, count(*), sum(d.case_rk)::bigint
  FROM (SELECT DISTINCT platform, kind, case_id, case_rk FROM a) d GROUP BY 2, 4
  UNION ALL
  SELECT m0, d.platform, 'case_acted_all', '', count(*), sum(d.case_rk)::bigint
  FROM (SELECT DISTINCT platform, case_id, case_rk FROM a) d GROUP BY 2;
END
$$;

-- (lda_prevention_values reads lda_prevention_cohort, which now holds the remnants.)

CREATE OR REPLACE FUNCTION lda_waiting_referrals(d date)
RETURNS TABLE (id uuid, platform text, rk integer, composition text)
LANGUAGE sql STABLE AS $$
  SELECT r.id, r.platform, r.rk, h.composition
  FROM referral r JOIN household h ON h.id = r.household_id
  WHERE r.received_on <= d
    AND NOT EXISTS (SELECT 1 FROM jsonb_each_text(r.status_dates) s (k, v)
                    WHERE s.k IN ('reoriented', 'no_follow_up', 'accompaniment_ended')
                      AND s.v::date <= d)
    AND NOT EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id
                    AND m.housing_outcome IN ('accessed', 'maintained')
                    AND coalesce(m.housing_on, m.started_on) <= d)
    AND NOT EXISTS (SELECT 1 FROM placement p WHERE p.referral_id = r.id
                    AND p.entered_on <= d AND (p.left_on IS NULL OR p.left_on > d))
  UNION ALL
  SELECT w.id, w.platform, w.rk, w.composition
  FROM waiting_archive w
  WHERE w.received_on <= d AND (w.closed_on IS NULL OR w.closed_on > d)
    AND (w.housed_on IS NULL OR w.housed_on > d)
    AND NOT EXISTS (SELECT 1 FROM placement_archive p WHERE p.referral_id = w.id
                    AND p.entered_on <= d AND (p.left_on IS NULL OR p.left_on > d))
$$;

CREATE OR REPLACE FUNCTION lda_free_places(d date)
RETURNS TABLE (id uuid, platform text, rk integer, typology text, free integer)
LANGUAGE sql STABLE AS $$
  SELECT o.id, o.platform, o.rk, o.typology,
         (o.capacity - (SELECT count(*) FROM lda_placement_all p WHERE p.offer_id = o.id
                          AND p.entered_on <= d AND (p.left_on IS NULL OR p.left_on > d)))::integer
  FROM housing_offer o
  WHERE o.kind IN ('social_housing', 'private_intermediation')
    AND o.available_from <= d AND (o.available_to IS NULL OR o.available_to >= d)
$$;

CREATE OR REPLACE FUNCTION lda_housing_counts(m0 date, m1 date, unit text)
RETURNS TABLE (unit_start date, platform text, dim text, code text, n bigint, ks bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH p AS (SELECT lda_stats_unit(unit, m0, x.entered_on) AS u, x.platform, x.rk, o.kind,
                    o.typology
             FROM lda_placement_all x JOIN housing_offer o ON o.id = x.offer_id
             WHERE x.entered_on >= m0 AND x.entered_on < m1),
  m AS (SELECT lda_stats_unit(unit, m0, x.held_on) AS u, x.id, x.platform, x.rk,
               x.proposals_made, x.proposals_accepted
        FROM fluidity_meeting x WHERE x.held_on >= m0 AND x.held_on < m1),
  occ AS (SELECT o.id, o.platform, o.kind, o.rk FROM housing_offer o
          WHERE o.kind IN ('sas_flat', 'youth_shared_flat')
            AND o.available_from < m1 AND (o.available_to IS NULL OR o.available_to >= m0)),
  w AS MATERIALIZED (SELECT * FROM lda_waiting_referrals(m1 - 1)),
  fp AS MATERIALIZED (SELECT * FROM lda_free_places(m1 - 1) WHERE free > 0)
  SELECT u, platform,
         CASE WHEN GROUPING(kind) = 0 THEN 'offer_kind' WHEN GROUPING(typology) = 0 THEN 'typology'
              ELSE 'placements' END,
         coalesce(kind, typology, ''), count(*), sum(rk)::bigint
  FROM p GROUP BY u, platform, GROUPING SETS ((kind), (typology), ())
  UNION ALL
  SELECT u, platform, 'meetings', '', count(*), sum(rk)::bigint FROM m GROUP BY 1, 2
  UNION ALL
  SELECT m.u, m.platform, 'presented', '', count(*), sum(x.rk)::bigint
  FROM m JOIN lda_presentation_all x ON x.meeting_id = m.id GROUP BY 1, 2
  UNION ALL
  SELECT u, platform, 'proposals', '', sum(proposals_made)::bigint,
         sum(rk::bigint * proposals_made)::bigint FROM m GROUP BY 1, 2
  UNION ALL
  SELECT u, platform, 'accepted', '', sum(proposals_accepted)::bigint,
         sum(rk::bigint * proposals_accepted)::bigint FROM m GROUP BY 1, 2
  UNION ALL
  SELECT m0, platform, 'occ_offers', kind, count(*), sum(rk)::bigint FROM occ GROUP BY 2, 4
  UNION ALL
  SELECT m0, o.platform, 'occ_stays', o.kind, count(*), sum(x.rk)::bigint
  FROM occ o JOIN lda_placement_all x ON x.offer_id = o.id
  WHERE x.entered_on < m1 AND (x.left_on IS NULL OR x.left_on > m0) GROUP BY 2, 4
  UNION ALL
  SELECT m0, w.platform, CASE WHEN GROUPING(w.composition) = 0 THEN 'waiting' ELSE 'waiting_all' END,
         coalesce(w.composition, ''), count(*), sum(w.rk)::bigint
  FROM w GROUP BY w.platform, GROUPING SETS ((w.composition), ())
  UNION ALL
  SELECT m0, w.platform, 'waiting_small', '', count(*), sum(w.rk)::bigint
  FROM w
  WHERE w.composition IN ('single_person', 'couple_no_child') GROUP BY 2
  UNION ALL
  SELECT m0, f.platform, CASE WHEN GROUPING(f.typology) = 0 THEN 'free_places' ELSE 'free_all' END,
         coalesce(f.typology, ''), sum(f.free)::bigint, sum(f.rk::bigint * f.free)::bigint
  FROM fp f GROUP BY f.platform, GROUPING SETS ((f.typology), ())
  UNION ALL
  SELECT m0, f.platform, 'free_small', '', sum(f.free)::bigint, sum(f.rk::bigint * f.free)::bigint
  FROM fp f WHERE f.typology IN ('t1', 't2') GROUP BY 2;
END
$$;

CREATE OR REPLACE FUNCTION lda_housing_values(m0 date, m1 date, plats text[])
RETURNS TABLE (figure text, code text, n bigint, q1 float8, q2 float8, q3 float8)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT 'delay', coalesce(o.kind, ''), count(*),
         percentile_cont(0.25) WITHIN GROUP (ORDER BY x.entered_on - x.received_on),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY x.entered_on - x.received_on),
         percentile_cont(0.75) WITHIN GROUP (ORDER BY x.entered_on - x.received_on)
  FROM (SELECT p.offer_id, p.platform, p.entered_on, r.received_on
        FROM placement p JOIN referral r ON r.id = p.referral_id
        UNION ALL
        SELECT p.offer_id, p.platform, p.entered_on, p.received_on FROM placement_archive p) x
  JOIN housing_offer o ON o.id = x.offer_id
  WHERE x.entered_on >= m0 AND x.entered_on < m1 AND x.platform = ANY (plats)
  GROUP BY GROUPING SETS ((), (o.kind))
  UNION ALL
  SELECT 'occupancy', w.kind, sum(w.stays)::bigint, sum(w.occupied)::float8,
         sum(w.available)::float8, NULL::float8
  FROM (SELECT o.kind, o.capacity::bigint * greatest(0, o.b - o.a + 1) AS available,
               (SELECT count(*) FROM lda_placement_all x WHERE x.offer_id = o.id
                  AND x.entered_on < m1 AND (x.left_on IS NULL OR x.left_on > m0)) AS stays,
               (SELECT coalesce(sum(greatest(0, least(coalesce(x.left_on, o.b + 1), o.b + 1)
                                               - greatest(x.entered_on, o.a))), 0)
                FROM lda_placement_all x WHERE x.offer_id = o.id) AS occupied
        FROM (SELECT y.id, y.kind, y.capacity, greatest(y.available_from, m0) AS a,
                     least(coalesce(y.available_to, m1 - 1), m1 - 1) AS b
              FROM housing_offer y
              WHERE y.kind IN ('sas_flat', 'youth_shared_flat') AND y.platform = ANY (plats)
                AND y.available_from < m1
                AND (y.available_to IS NULL OR y.available_to >= m0)) o) w
  GROUP BY w.kind;
END
$$;

-- ---- 4. what BI tools read: the monthly counts of every source, with the remnants -------------

-- (as migration 015 defined it, with migration 017's activity archive)
CREATE OR REPLACE VIEW lda_monthly_count AS
  SELECT 'youth'::text AS source, o.month, o.platform,
         CASE WHEN o.dim = 'total' AND o.age = -3 THEN 'requests_total'
              WHEN o.dim = 'total' THEN 'youth_requests' ELSE o.dim END AS dimension,
         CASE WHEN o.dim = 'total' THEN '' ELSE o.code END AS code,
         sum(o.n)::bigint AS n, sum(o.ks)::bigint AS ks
  FROM observatory_cell o
  WHERE (o.dim = 'total' AND (o.age = -3 OR o.age BETWEEN 18 AND 25))
     OR (o.dim <> 'total' AND o.age = -2)
  GROUP BY 1, 2, 3, 4, 5
  UNION ALL
  SELECT 'youth', o.month, o.platform, 'age', o.age::text, o.n, o.ks
  FROM observatory_cell o WHERE o.dim = 'total' AND o.age BETWEEN 18 AND 25
  UNION ALL
  SELECT 'activity', a.month, a.platform,
         CASE WHEN GROUPING(a.outcome) = 0 THEN 'outcome'
              WHEN GROUPING(a.housing_situation) = 0 THEN 'situation'
              WHEN GROUPING(a.referrer) = 0 THEN 'referrer' ELSE 'referrals_received' END,
         coalesce(a.outcome, a.housing_situation, a.referrer, ''), count(*), sum(a.rk)::bigint
  FROM lda_activity_referral a
  GROUP BY a.month, a.platform, GROUPING SETS ((a.outcome), (a.housing_situation), (a.referrer), ())
  UNION ALL
  SELECT 'activity', a.month, a.platform, 'housed', '', count(*), sum(a.rk)::bigint
  FROM lda_activity_referral a WHERE a.housed GROUP BY 2, 3
  UNION ALL
  SELECT 'activity', a.month, a.platform, 'measure', m.kind, count(*), sum(m.rk)::bigint
  FROM measure m JOIN lda_activity_referral a ON a.id = m.referral_id GROUP BY 2, 3, 5
  -- eviction prevention and the housing offer (migration 015), with the remnants
  UNION ALL
  SELECT 'prevention', k.month, k.platform,
         CASE WHEN GROUPING(k.first_kind) = 0 THEN 'first_action'
              WHEN GROUPING(k.entry_stage) = 0 THEN 'entry_stage'
              WHEN GROUPING(k.debt_band) = 0 THEN 'debt_band' ELSE 'cases' END,
         coalesce(k.first_kind, k.entry_stage, k.debt_band, ''), count(*), sum(k.rk)::bigint
  FROM lda_prevention_cohort k
  GROUP BY k.month, k.platform, GROUPING SETS ((k.first_kind), (k.entry_stage), (k.debt_band), ())
  UNION ALL
  SELECT 'prevention', f.month, f.platform, 'follow_up_' || f.at_months, f.situation, count(*),
         sum(f.key)::bigint
  FROM lda_prevention_follow f GROUP BY 2, 3, 4, 5
  UNION ALL
  SELECT 'prevention', date_trunc('month', x.done_on)::date, x.platform,
         CASE WHEN GROUPING(x.kind) = 0 THEN 'action_kind' ELSE 'actions' END,
         coalesce(x.kind, ''), count(*), sum(x.rk)::bigint
  FROM lda_prevention_action_all x
  GROUP BY date_trunc('month', x.done_on)::date, x.platform, GROUPING SETS ((x.kind), ())
  UNION ALL
  SELECT 'housing', date_trunc('month', x.entered_on)::date, x.platform,
         CASE WHEN GROUPING(o.kind) = 0 THEN 'offer_kind'
              WHEN GROUPING(o.typology) = 0 THEN 'typology' ELSE 'placements' END,
         coalesce(o.kind, o.typology, ''), count(*), sum(x.rk)::bigint
  FROM lda_placement_all x JOIN housing_offer o ON o.id = x.offer_id
  GROUP BY date_trunc('month', x.entered_on)::date, x.platform,
           GROUPING SETS ((o.kind), (o.typology), ())
  UNION ALL
  SELECT 'housing', date_trunc('month', m.held_on)::date, m.platform, g.dimension, '',
         sum(g.n)::bigint, sum(g.ks)::bigint
  FROM fluidity_meeting m,
       LATERAL (VALUES ('meetings', 1::bigint, m.rk::bigint),
                       ('proposals_made', m.proposals_made::bigint,
                        m.rk::bigint * m.proposals_made),
                       ('proposals_accepted', m.proposals_accepted::bigint,
                        m.rk::bigint * m.proposals_accepted)) g (dimension, n, ks)
  GROUP BY 2, 3, 4
  UNION ALL
  SELECT 'housing', date_trunc('month', m.held_on)::date, m.platform, 'households_presented', '',
         count(*), sum(x.rk)::bigint
  FROM fluidity_meeting m JOIN lda_presentation_all x ON x.meeting_id = m.id GROUP BY 2, 3
  UNION ALL   -- the purged referrals' activity (migration 017)
  SELECT 'activity', x.month, x.platform,
         CASE x.dim WHEN 'total' THEN 'referrals_received' ELSE x.dim END, x.code, x.n, x.ks
  FROM activity_archive x;

-- ---- 5. the outcome facts stand aside inside the purge ------------------------------------------

CREATE OR REPLACE FUNCTION lda_outcome_on_referral() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF lda_purging() THEN   -- the purge keeps the facts (lda_purge_referrals)
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM lda_outcome_refresh((SELECT array_agg(id) FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lda_outcome_refresh((SELECT array_agg(n.id) FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (n.household_id, n.platform, n.received_on, n.rk, n.status, n.status_dates)
            IS DISTINCT FROM (o.household_id, o.platform, o.received_on, o.rk, o.status, o.status_dates)));
  ELSE
    PERFORM lda_outcome_refresh((SELECT array_agg(id) FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION lda_outcome_on_measure() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF lda_purging() THEN   -- the purge keeps the facts (lda_purge_referrals)
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM lda_outcome_refresh((SELECT array_agg(DISTINCT referral_id) FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lda_outcome_refresh((SELECT array_agg(DISTINCT x) FROM (
      SELECT referral_id AS x FROM new_rows UNION ALL SELECT referral_id FROM old_rows) y));
  ELSE
    PERFORM lda_outcome_refresh((SELECT array_agg(DISTINCT referral_id) FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;

-- ---- 6. the purge leaves the remnants -------------------------------------------------------

-- As migration 017, and before the rows go: the remnants of the referrals' waiting spans,
-- placements and presentations; their outcome facts under a fresh id and without a person;
-- the deletions marked as the purge's (the outcome triggers stand aside).
CREATE OR REPLACE FUNCTION lda_purge_referrals(run bigint, as_of date, months integer, max_rows integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  cutoff date := lda_retention_cutoff(as_of, months, 12);
  ids uuid[];
  hh uuid[];
  n_ref bigint; n_ev bigint; n_me bigint; n_pl bigint; n_fp bigint; n_hh bigint;
BEGIN
  SELECT array_agg(r.id), array_agg(DISTINCT r.household_id) INTO ids, hh FROM (
    SELECT r.id, r.household_id FROM referral r
    WHERE r.id IN (SELECT x.id FROM lda_retention_referral x WHERE x.closed_on < cutoff
                   ORDER BY x.id LIMIT max_rows)
    FOR UPDATE) r;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;

  INSERT INTO activity_archive AS o (month, platform, dim, code, n, ks)
  SELECT x.month, x.platform, x.dim, x.code, sum(x.n), sum(x.ks) FROM (
    SELECT a.month, a.platform,
           CASE WHEN GROUPING(a.outcome) = 0 THEN 'outcome'
                WHEN GROUPING(a.housing_situation) = 0 THEN 'situation'
                WHEN GROUPING(a.referrer) = 0 THEN 'referrer' ELSE 'total' END AS dim,
           coalesce(a.outcome, a.housing_situation, a.referrer, '') AS code, count(*) AS n,
           sum(a.rk)::bigint AS ks
    FROM lda_activity_referral a WHERE a.id = ANY (ids)
    GROUP BY a.month, a.platform, GROUPING SETS ((a.outcome), (a.housing_situation), (a.referrer), ())
    UNION ALL
    SELECT a.month, a.platform, 'housed', '', count(*), sum(a.rk)::bigint
    FROM lda_activity_referral a WHERE a.id = ANY (ids) AND a.housed GROUP BY 1, 2
    UNION ALL
    SELECT a.month, a.platform, 'measure', m.kind, count(*), sum(m.rk)::bigint
    FROM measure m JOIN lda_activity_referral a ON a.id = m.referral_id
    WHERE a.id = ANY (ids) GROUP BY 1, 2, 4) x
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (month, platform, dim, code) DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;

  -- the waiting spans and the placements (lda_waiting_referrals, lda_placement_all)
  WITH w AS MATERIALIZED (
    SELECT r.id, gen_random_uuid() AS aid, r.platform, r.rk, h.composition, r.received_on,
           (SELECT min(s.v::date) FROM jsonb_each_text(r.status_dates) s (k, v)
            WHERE s.k IN ('reoriented', 'no_follow_up', 'accompaniment_ended')) AS closed_on,
           (SELECT min(coalesce(m.housing_on, m.started_on)) FROM measure m
            WHERE m.referral_id = r.id AND m.housing_outcome IN ('accessed', 'maintained'))
             AS housed_on
    FROM referral r JOIN household h ON h.id = r.household_id
    WHERE r.id = ANY (ids)),
  spans AS (
    INSERT INTO waiting_archive (id, platform, rk, composition, received_on, closed_on, housed_on)
    SELECT w.aid, w.platform, w.rk, w.composition, w.received_on, w.closed_on, w.housed_on
    FROM w ORDER BY w.aid)
  INSERT INTO placement_archive (referral_id, offer_id, platform, rk, entered_on, left_on,
                                 received_on)
  SELECT w.aid, p.offer_id, p.platform, p.rk, p.entered_on, p.left_on, w.received_on
  FROM w JOIN placement p ON p.referral_id = w.id;

  INSERT INTO fluidity_presentation_archive (meeting_id, rk)
  SELECT p.meeting_id, p.rk FROM fluidity_presentation p WHERE p.referral_id = ANY (ids);

  -- the outcome facts, no longer anyone's
  UPDATE outcome_fact SET referral_id = gen_random_uuid(), person = NULL
  WHERE referral_id = ANY (ids);

  INSERT INTO purge_marker VALUES (pg_current_xact_id());
  DELETE FROM fluidity_presentation WHERE referral_id = ANY (ids);
  GET DIAGNOSTICS n_fp = ROW_COUNT;
  DELETE FROM placement WHERE referral_id = ANY (ids);
  GET DIAGNOSTICS n_pl = ROW_COUNT;
  DELETE FROM measure WHERE referral_id = ANY (ids);
  GET DIAGNOSTICS n_me = ROW_COUNT;
  DELETE FROM referral_event WHERE referral_id = ANY (ids);
  GET DIAGNOSTICS n_ev = ROW_COUNT;
  DELETE FROM referral WHERE id = ANY (ids);
  GET DIAGNOSTICS n_ref = ROW_COUNT;
  DELETE FROM purge_marker WHERE xid = pg_current_xact_id();
  n_hh := lda_purge_households(hh);

  PERFORM lda_purge_count(run, jsonb_build_object('referrals', n_ref, 'referral_events', n_ev,
    'measures', n_me, 'placements', n_pl, 'fluidity_presentations', n_fp, 'households', n_hh));
  RETURN n_ref;
END
$$;

-- As migration 017, and before the rows go: the remnants of the cases that had actions.
CREATE OR REPLACE FUNCTION lda_purge_prevention_cases(run bigint, as_of date, months integer,
                                                      max_rows integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  cutoff date := lda_retention_cutoff(as_of, months, 12);
  ids uuid[];
  hh uuid[];
  n_pc bigint; n_ev bigint; n_ac bigint; n_fu bigint; n_hh bigint;
BEGIN
  SELECT array_agg(c.id), array_agg(DISTINCT c.household_id) INTO ids, hh FROM (
    SELECT c.id, c.household_id FROM prevention_case c
    WHERE c.id IN (SELECT x.id FROM lda_retention_prevention_case x WHERE x.last_activity < cutoff
                   ORDER BY x.id LIMIT max_rows)
    FOR UPDATE) c;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;

  WITH k AS MATERIALIZED (
    SELECT c.*, gen_random_uuid() AS aid FROM lda_prevention_cohort c WHERE c.id = ANY (ids)),
  cases AS (
    INSERT INTO prevention_case_archive (id, platform, rk, debt_eur, first_on, first_kind,
                                         entry_stage, debt_band)
    SELECT k.aid, k.platform, k.rk, k.debt_eur, k.first_on, k.first_kind, k.entry_stage,
           k.debt_band
    FROM k ORDER BY k.aid),
  actions AS (
    INSERT INTO prevention_action_archive (case_id, done_on, kind, rk)
    SELECT k.aid, a.done_on, a.kind, a.rk FROM k JOIN prevention_action a ON a.case_id = k.id)
  INSERT INTO prevention_follow_up_archive (case_id, at_months, situation, rk)
  SELECT k.aid, f.at_months, f.situation, f.rk FROM k JOIN prevention_follow_up f ON f.case_id = k.id;

  DELETE FROM prevention_follow_up WHERE case_id = ANY (ids);
  GET DIAGNOSTICS n_fu = ROW_COUNT;
  DELETE FROM prevention_action WHERE case_id = ANY (ids);
  GET DIAGNOSTICS n_ac = ROW_COUNT;
  DELETE FROM prevention_stage_event WHERE case_id = ANY (ids);
  GET DIAGNOSTICS n_ev = ROW_COUNT;
  DELETE FROM prevention_case WHERE id = ANY (ids);
  GET DIAGNOSTICS n_pc = ROW_COUNT;
  n_hh := lda_purge_households(hh);
  PERFORM lda_purge_count(run, jsonb_build_object('prevention_cases', n_pc,
    'prevention_stage_events', n_ev, 'prevention_actions', n_ac, 'prevention_follow_ups', n_fu,
    'households', n_hh));
  RETURN n_pc;
END
$$;

-- ---- 7. privileges ------------------------------------------------------------------------------

-- The remnants are read through the owner's functions and views only; CREATE OR REPLACE kept
-- the grants of the functions above (the service's role only). The private views and the
-- helpers of the housing figures stay the owner's.
REVOKE ALL ON prevention_case_archive, prevention_action_archive, prevention_follow_up_archive,
  waiting_archive, placement_archive, fluidity_presentation_archive FROM PUBLIC;
REVOKE ALL ON lda_prevention_follow_up_all, lda_prevention_action_all, lda_placement_all,
  lda_presentation_all FROM PUBLIC;
