-- The statistics of eviction prevention and the housing offer (GET /v1/stats/prevention,
-- GET /v1/stats/housing), their reporting views for lda_bi, and the change-feed events of the
-- resources of migration 014. Definitions: docs/statistics.md; product rules:
-- docs/prevention-and-housing.md.
--
-- This migration:
--   1. adds the indexes the statistics read by ranges (actions by date, placements by entry);
--   2. defines the prevention cohorts once (private views), for the counting function and
--      the reporting views alike;
--   3. adds the counting functions (true counts with the sums of their records' keys, by unit
--      and platform, as lda_activity_counts does) and the functions of the figures that are
--      not counts (quartiles, occupancy), which run with their owner's rights and only the
--      service's role may call;
--   4. extends the monthly counts behind the reporting views (lda_monthly_count, migration
--      011) with both sources: lda_monthly_protected applies its rules to them unchanged;
--   5. emits change-feed events for prevention cases, actions, follow-ups and placements,
--      and lets a partner see the events of the cases its token created.

-- ---- 1. reading by ranges ------------------------------------------------------------------

CREATE INDEX prevention_action_done ON prevention_action (done_on, case_id);
CREATE INDEX placement_entered ON placement (entered_on);

-- ---- 2. the prevention cohorts --------------------------------------------------------------

-- The order of the action kinds (the vocabulary's), for actions done on the same day: the
-- first action of a case is its earliest, then the first kind in this order, then the id.
CREATE FUNCTION lda_prevention_action_rank(kind text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_position(ARRAY['vej', 'pex_mobile_team', 'social_support', 'fsl_aid',
                                       'other'], kind), 100)
$$;

-- One row per prevention case that has an action (private): its cohort is the date of its
-- first action; its first action's kind, its stage at entry (the first stage of its history)
-- and the band of its tenant debt. A filter on first_on reads the actions by date.
CREATE VIEW lda_prevention_cohort AS
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
          < (a.done_on, lda_prevention_action_rank(a.kind), a.id));

-- The situation of a cohort case `at_months` after its first action: the follow-up recorded for
-- that horizon (`recorded`), else `not_recorded` when it is due (the first action's date plus
-- the months, as PostgreSQL adds months) on or before today (Paris), else `not_due`.
CREATE FUNCTION lda_follow_up_situation(first_on date, at_months integer, recorded text)
RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(recorded,
                  CASE WHEN (first_on + make_interval(months => at_months))::date
                            <= lda_paris_day(now())
                       THEN 'not_recorded' ELSE 'not_due' END)
$$;

-- The situation of each cohort case 6, 12 and 24 months after its first action (private).
-- `key`: the record key of what is counted — the follow-up's, or the case's when none is
-- recorded.
CREATE VIEW lda_prevention_follow AS
  SELECT c.*, h.at_months, (c.first_on + make_interval(months => h.at_months))::date AS due_on,
         lda_follow_up_situation(c.first_on, h.at_months, f.situation) AS situation,
         coalesce(f.rk, c.rk) AS key
  FROM lda_prevention_cohort c
  CROSS JOIN (VALUES (6), (12), (24)) h (at_months)
  LEFT JOIN prevention_follow_up f ON f.case_id = c.id AND f.at_months = h.at_months;

-- ---- 3. the counting functions ---------------------------------------------------------------

-- Eviction prevention over the whole months [m0, m1), by unit (lda_stats_unit) and platform
-- (every platform), with the sums of the records' keys:
--   cases ''                       the cohort: cases whose first action is in the period
--   first_action | entry_stage | debt_band   the cohort by that code
--   fu6, fu12, fu24 (code situation)          the cohort's situation at 6, 12, 24 months
--   fu<h>_fa | fu<h>_es | fu<h>_db (code 'row:situation')   the same by first action, entry
--                                  stage, debt band
--   actions ''; action_kind (kind)  the actions done in the period (their own keys)
--   case_acted ''; case_action (kind)   the distinct cases with an action (of that kind) done
--                                  in the unit (the cases' keys)
--   case_acted_all, case_action_all  the same over the whole period, at unit m0 (distinct
--                                  counts do not add up over units)
CREATE FUNCTION lda_prevention_counts(m0 date, m1 date, unit text)
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
        LEFT JOIN prevention_follow_up x ON x.case_id = c.id AND x.at_months = h.at_months),
  a AS (SELECT lda_stats_unit(unit, m0, x.done_on) AS u, p.platform, x.kind, x.rk, x.case_id,
               p.rk AS case_rk
        FROM prevention_action x JOIN prevention_case p ON p.id = x.case_id
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

-- The figures of eviction prevention that are not counts, over the cohort of [m0, m1) on the
-- platforms `plats` (one platform, one AMI's or all): figure 'debt', code '', n the cases
-- with a known debt, q1/q2/q3 the quartiles of their debts (percentile_cont). The service
-- publishes them under the non-count rule (docs/statistics.md).
CREATE FUNCTION lda_prevention_values(m0 date, m1 date, plats text[])
RETURNS TABLE (figure text, code text, n bigint, q1 float8, q2 float8, q3 float8)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT 'debt', '', count(*),
         percentile_cont(0.25) WITHIN GROUP (ORDER BY k.debt_eur),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY k.debt_eur),
         percentile_cont(0.75) WITHIN GROUP (ORDER BY k.debt_eur)
  FROM lda_prevention_cohort k
  WHERE k.first_on >= m0 AND k.first_on < m1 AND k.platform = ANY (plats)
    AND k.debt_eur IS NOT NULL;
END
$$;

-- The households waiting for housing on a day (private): referrals received on or before
-- it, not closed by then (reoriented, no follow-up or accompaniment ended on or before it),
-- without a support measure whose housing outcome is accessed or maintained dated (its
-- housing date, else its start) on or before it, and not in a placement that day.
CREATE FUNCTION lda_waiting_referrals(d date)
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
$$;

-- The free places of homes (social housing, private intermediation) available on a day
-- (private): their capacity minus the households placed in them that day.
CREATE FUNCTION lda_free_places(d date)
RETURNS TABLE (id uuid, platform text, rk integer, typology text, free integer)
LANGUAGE sql STABLE AS $$
  SELECT o.id, o.platform, o.rk, o.typology,
         (o.capacity - (SELECT count(*) FROM placement p WHERE p.offer_id = o.id
                          AND p.entered_on <= d AND (p.left_on IS NULL OR p.left_on > d)))::integer
  FROM housing_offer o
  WHERE o.kind IN ('social_housing', 'private_intermediation')
    AND o.available_from <= d AND (o.available_to IS NULL OR o.available_to >= d)
$$;

-- The housing offer over the whole months [m0, m1), by unit and platform (every platform),
-- with the sums of the records' keys:
--   placements ''; offer_kind (kind); typology   placements entered in the period (their keys)
--   meetings ''                    fluidity meetings held in the period (their keys)
--   presented ''                   the households presented there (the presentations' keys)
--   proposals '', accepted ''      the proposals made and accepted recorded on those
--                                  meetings; each proposal carries its meeting's key
-- and over the whole period, at unit m0 (stocks and overlaps do not add up over units):
--   occ_offers, occ_stays (kind)   SAS flats and youth shared flats available in the period,
--                                  and the placements in them overlapping it
--   waiting (composition), waiting_all ''   households waiting on the period's last day
--                                  (the referrals' keys); waiting_small '': single persons
--                                  and couples without children, who need a small unit
--   free_places (typology), free_all ''     free places of homes on that day; each place
--                                  carries its offer's key; free_small '': in T1 and T2
CREATE FUNCTION lda_housing_counts(m0 date, m1 date, unit text)
RETURNS TABLE (unit_start date, platform text, dim text, code text, n bigint, ks bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH p AS (SELECT lda_stats_unit(unit, m0, x.entered_on) AS u, x.platform, x.rk, o.kind,
                    o.typology
             FROM placement x JOIN housing_offer o ON o.id = x.offer_id
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
  FROM m JOIN fluidity_presentation x ON x.meeting_id = m.id GROUP BY 1, 2
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
  FROM occ o JOIN placement x ON x.offer_id = o.id
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

-- The figures of the housing offer that are not counts, on the platforms `plats`:
--   'delay', code '' (every placement) or an offer kind: n the placements entered in
--     [m0, m1), q1/q2/q3 the quartiles of the days from their referral's reception to their
--     entry (percentile_cont);
--   'occupancy', code sas_flat | youth_shared_flat: n the placements overlapping the period
--     in those offers, q1 the place-days they occupied within the period and within each
--     offer's availability (a stay occupies [entered_on, left_on)), q2 the place-days
--     available (each day an offer is available it offers `capacity` places).
-- The service publishes them under the non-count rule (docs/statistics.md).
CREATE FUNCTION lda_housing_values(m0 date, m1 date, plats text[])
RETURNS TABLE (figure text, code text, n bigint, q1 float8, q2 float8, q3 float8)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT 'delay', coalesce(o.kind, ''), count(*),
         percentile_cont(0.25) WITHIN GROUP (ORDER BY x.entered_on - r.received_on),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY x.entered_on - r.received_on),
         percentile_cont(0.75) WITHIN GROUP (ORDER BY x.entered_on - r.received_on)
  FROM placement x JOIN referral r ON r.id = x.referral_id
  JOIN housing_offer o ON o.id = x.offer_id
  WHERE x.entered_on >= m0 AND x.entered_on < m1 AND x.platform = ANY (plats)
  GROUP BY GROUPING SETS ((), (o.kind))
  UNION ALL
  SELECT 'occupancy', w.kind, sum(w.stays)::bigint, sum(w.occupied)::float8,
         sum(w.available)::float8, NULL::float8
  FROM (SELECT o.kind, o.capacity::bigint * greatest(0, o.b - o.a + 1) AS available,
               (SELECT count(*) FROM placement x WHERE x.offer_id = o.id AND x.entered_on < m1
                  AND (x.left_on IS NULL OR x.left_on > m0)) AS stays,
               (SELECT coalesce(sum(greatest(0, least(coalesce(x.left_on, o.b + 1), o.b + 1)
                                               - greatest(x.entered_on, o.a))), 0)
                FROM placement x WHERE x.offer_id = o.id) AS occupied
        FROM (SELECT y.id, y.kind, y.capacity, greatest(y.available_from, m0) AS a,
                     least(coalesce(y.available_to, m1 - 1), m1 - 1) AS b
              FROM housing_offer y
              WHERE y.kind IN ('sas_flat', 'youth_shared_flat') AND y.platform = ANY (plats)
                AND y.available_from < m1
                AND (y.available_to IS NULL OR y.available_to >= m0)) o) w
  GROUP BY w.kind;
END
$$;

-- ---- 4. what BI tools read ---------------------------------------------------------------------

-- The monthly counts of migration 011 (youth, activity), and now eviction prevention (by
-- month of the cohort's first action, and of the actions) and the housing offer (by month of
-- entry of the placements, and of the meetings), with the dimensions of the API's one-month
-- answers. lda_monthly_protected protects them with its rules: every dimension here splits
-- its total (the cases, the actions, the placements, a horizon's situations).
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
  -- added by migration 015
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
  SELECT 'prevention', date_trunc('month', x.done_on)::date, c.platform,
         CASE WHEN GROUPING(x.kind) = 0 THEN 'action_kind' ELSE 'actions' END,
         coalesce(x.kind, ''), count(*), sum(x.rk)::bigint
  FROM prevention_action x JOIN prevention_case c ON c.id = x.case_id
  GROUP BY date_trunc('month', x.done_on)::date, c.platform, GROUPING SETS ((x.kind), ())
  UNION ALL
  SELECT 'housing', date_trunc('month', x.entered_on)::date, x.platform,
         CASE WHEN GROUPING(o.kind) = 0 THEN 'offer_kind'
              WHEN GROUPING(o.typology) = 0 THEN 'typology' ELSE 'placements' END,
         coalesce(o.kind, o.typology, ''), count(*), sum(x.rk)::bigint
  FROM placement x JOIN housing_offer o ON o.id = x.offer_id
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
  FROM fluidity_meeting m JOIN fluidity_presentation x ON x.meeting_id = m.id GROUP BY 2, 3;

CREATE VIEW reporting.prevention_monthly AS
  SELECT month, scope, dimension, code, count, status FROM lda_monthly_protected
  WHERE source = 'prevention';
COMMENT ON VIEW reporting.prevention_monthly IS
  'Eviction prevention by month (first day), scope (a platform code, ami1, ami2 or all), dimension and code, as GET /v1/stats/prevention?from=<month>&to=<end of month> publishes it: cases (the cohort: cases whose first action is in the month), by first_action, entry_stage, debt_band; follow_up_6, follow_up_12, follow_up_24 (the cohort''s situation at 6, 12, 24 months: a follow-up situation, not_recorded or not_due); actions (done in the month) and action_kind. Perturbed by the cell-key method; NULL when hidden (status A); a missing row is a zero.';

CREATE VIEW reporting.housing_monthly AS
  SELECT month, scope, dimension, code, count, status FROM lda_monthly_protected
  WHERE source = 'housing';
COMMENT ON VIEW reporting.housing_monthly IS
  'The housing offer by month (first day), scope (a platform code, ami1, ami2 or all), dimension and code, as GET /v1/stats/housing?from=<month>&to=<end of month> publishes it: placements (entered in the month), by offer_kind and typology; meetings (fluidity meetings held in the month), households_presented, proposals_made, proposals_accepted. Perturbed by the cell-key method; NULL when hidden (status A); a missing row is a zero.';

GRANT SELECT ON reporting.prevention_monthly, reporting.housing_monthly TO lda_bi;

-- ---- 5. the change feed ------------------------------------------------------------------------

-- Prevention cases: created; stage changed (the procedure moved forward); updated (landlord,
-- debt, PEX evaluation). The erasure of a source id changes nothing a client reads: no event.
CREATE FUNCTION lda_change_prevention_case() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(), 'prevention_case_created', 'prevention_case', n.id, n.platform,
           n.source, n.created_by,
           jsonb_build_object('stage', n.stage, 'stage_on', n.stage_dates ->> n.stage,
                              'version', n.row_version)
      FROM new_rows n;
  ELSE
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(),
           CASE WHEN o.stage IS DISTINCT FROM n.stage THEN 'prevention_case_stage_changed'
                ELSE 'prevention_case_updated' END,
           'prevention_case', n.id, n.platform, n.source, n.created_by,
           CASE WHEN o.stage IS DISTINCT FROM n.stage
                THEN jsonb_build_object('from_stage', o.stage, 'to_stage', n.stage,
                                        'on', n.stage_dates ->> n.stage, 'version', n.row_version)
                ELSE jsonb_build_object('stage', n.stage, 'version', n.row_version) END
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (o.household_id, o.landlord_kind, o.debt_eur, o.debt_on, o.stage, o.stage_dates,
            o.pex_status, o.pex_rule_id)
           IS DISTINCT FROM (n.household_id, n.landlord_kind, n.debt_eur, n.debt_on, n.stage,
                             n.stage_dates, n.pex_status, n.pex_rule_id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER prevention_case_change_insert AFTER INSERT ON prevention_case
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_prevention_case();
CREATE TRIGGER prevention_case_change_update AFTER UPDATE ON prevention_case
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_change_prevention_case();

-- Actions follow their case (platform); recorded, then updated.
CREATE FUNCTION lda_change_prevention_action() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, fields)
    SELECT lda_change_open(), 'prevention_action_recorded', 'prevention_action', n.id, c.platform,
           n.source,
           jsonb_build_object('case', n.case_id, 'action_kind', n.kind, 'done_on', n.done_on,
                              'version', n.row_version)
      FROM new_rows n JOIN prevention_case c ON c.id = n.case_id;
  ELSE
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, fields)
    SELECT lda_change_open(), 'prevention_action_updated', 'prevention_action', n.id, c.platform,
           n.source,
           jsonb_build_object('case', n.case_id, 'action_kind', n.kind, 'done_on', n.done_on,
                              'version', n.row_version)
      FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN prevention_case c ON c.id = n.case_id
     WHERE (o.case_id, o.kind, o.done_on, o.partner_id, o.outcome_notes)
           IS DISTINCT FROM (n.case_id, n.kind, n.done_on, n.partner_id, n.outcome_notes);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER prevention_action_change_insert AFTER INSERT ON prevention_action
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_prevention_action();
CREATE TRIGGER prevention_action_change_update AFTER UPDATE ON prevention_action
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_change_prevention_action();

-- Follow-ups: recorded (first time, or recorded again with another situation).
CREATE FUNCTION lda_change_prevention_follow_up() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, fields)
    SELECT lda_change_open(), 'prevention_follow_up_recorded', 'prevention_follow_up', n.id,
           c.platform, n.source,
           jsonb_build_object('case', n.case_id, 'at_months', n.at_months,
                              'situation', n.situation, 'due_on', n.due_on,
                              'version', n.row_version)
      FROM new_rows n JOIN prevention_case c ON c.id = n.case_id;
  ELSE
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, fields)
    SELECT lda_change_open(), 'prevention_follow_up_recorded', 'prevention_follow_up', n.id,
           c.platform, n.source,
           jsonb_build_object('case', n.case_id, 'at_months', n.at_months,
                              'situation', n.situation, 'due_on', n.due_on,
                              'version', n.row_version)
      FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN prevention_case c ON c.id = n.case_id
     WHERE (o.situation, o.due_on) IS DISTINCT FROM (n.situation, n.due_on);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER prevention_follow_up_change_insert AFTER INSERT ON prevention_follow_up
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION lda_change_prevention_follow_up();
CREATE TRIGGER prevention_follow_up_change_update AFTER UPDATE ON prevention_follow_up
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION lda_change_prevention_follow_up();

-- Placements: started; ended (left_on set); updated (any other change).
CREATE FUNCTION lda_change_placement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, fields)
    SELECT lda_change_open(), 'placement_started', 'placement', n.id, n.platform, n.source,
           jsonb_build_object('referral', n.referral_id, 'offer', n.offer_id,
                              'entered_on', n.entered_on, 'left_on', n.left_on,
                              'exit_reason', n.exit_reason, 'version', n.row_version)
      FROM new_rows n;
  ELSE
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, fields)
    SELECT lda_change_open(),
           CASE WHEN o.left_on IS NULL AND n.left_on IS NOT NULL THEN 'placement_ended'
                ELSE 'placement_updated' END,
           'placement', n.id, n.platform, n.source,
           jsonb_build_object('referral', n.referral_id, 'offer', n.offer_id,
                              'entered_on', n.entered_on, 'left_on', n.left_on,
                              'exit_reason', n.exit_reason, 'version', n.row_version)
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (o.referral_id, o.offer_id, o.entered_on, o.left_on, o.exit_reason)
           IS DISTINCT FROM (n.referral_id, n.offer_id, n.entered_on, n.left_on, n.exit_reason);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER placement_change_insert AFTER INSERT ON placement
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_placement();
CREATE TRIGGER placement_change_update AFTER UPDATE ON placement
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_change_placement();

-- Who sees an event (migration 013), now with the prevention cases: a partner sees the events
-- of the referrals and of the prevention cases its token created, as it reads them.
CREATE OR REPLACE FUNCTION lda_change_visible(platform text, resource_type text, source text,
                                              created_by uuid, role text, scope text[], token uuid,
                                              token_source text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE role
    WHEN 'admin' THEN true
    WHEN 'coordinator' THEN platform = ANY (scope)
    WHEN 'partner' THEN platform = ANY (scope)
                        AND resource_type IN ('referral', 'prevention_case')
                        AND created_by = token
    WHEN 'siao' THEN platform = ANY (scope) AND source = token_source
    ELSE false END
$$;

-- ---- functions that run with their owner's rights: the service's role only ---------------------

REVOKE ALL ON FUNCTION lda_prevention_counts(date, date, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_prevention_values(date, date, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_housing_counts(date, date, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_housing_values(date, date, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lda_prevention_counts(date, date, text) TO lda_app;
GRANT EXECUTE ON FUNCTION lda_prevention_values(date, date, text[]) TO lda_app;
GRANT EXECUTE ON FUNCTION lda_housing_counts(date, date, text) TO lda_app;
GRANT EXECUTE ON FUNCTION lda_housing_values(date, date, text[]) TO lda_app;
REVOKE ALL ON FUNCTION lda_change_prevention_case() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_prevention_action() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_prevention_follow_up() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_placement() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_waiting_referrals(date) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_free_places(date) FROM PUBLIC;
