-- Outcomes of the referrals: how long until support and housing, whether housing holds, and
-- whether people come back (GET /v1/stats/outcomes; the definitions are in docs/outcomes.md).
--
-- This migration:
--   1. keeps one row of facts per referral (outcome_fact): its cohort, its breakdown codes,
--      and the dates the measures are computed from (support, housing, end of an
--      accompaniment ended housed, the person's next referral after them), current in the
--      transaction of every write to referral, measure and household (statement-level
--      triggers), so that a question reads the referrals of its period and nothing else;
--   2. adds the reading functions (the observation date, and one row per referral of a
--      period with its times and states), callable by the service's role only;
--   3. adds a protected reporting view of the cohort sizes for BI tools (lda_bi).
--
-- Placements (a referral in a housing offer) are not in this schema yet: when they are, the
-- housing date of a referral becomes the earlier of its measures' housing date and its first
-- placement's entry (lda_outcome_referral, `ms.housing_on`), and a placement left without
-- housing becomes a loss of housing beside the person's next referral (`pr.loss_on`).

-- ---- 1. the facts ------------------------------------------------------------------------

-- A person: the household's keyed person_key, or the household itself when it has none.
CREATE FUNCTION lda_outcome_person(h household) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(h.person_key, 'household:' || h.id::text)
$$;

-- The facts of every referral, from the case tables (private: the refresh below and the
-- naive recomputation of the benchmark read it).
CREATE VIEW lda_outcome_referral AS
  SELECT r.id AS referral_id, r.platform, r.received_on, r.rk, lda_outcome_person(h) AS person,
         h.composition,
         coalesce(lda_age_band(h.head_birth_date, r.received_on), 'not_collected') AS age_band,
         coalesce(ms.kind, 'none') AS kind,
         CASE WHEN pr.earlier THEN 'returning' ELSE 'first_time' END AS history,
         CASE WHEN r.status IN ('accompanied', 'accompaniment_ended') THEN 'accompanied'
              WHEN r.status IN ('reoriented', 'no_follow_up') THEN r.status
              ELSE 'in_progress' END AS outcome,
         ms.support_on,
         ms.support_on IS NULL AND r.status IN ('reoriented', 'no_follow_up') AS support_closed,
         ms.housing_on,
         ms.housing_on IS NULL
           AND r.status IN ('reoriented', 'no_follow_up', 'accompaniment_ended') AS housing_closed,
         en.ended_housed_on, pr.loss_on, pr.return_on,
         greatest(r.received_on, sd.last_status, ms.last_on) AS last_on
  FROM referral r JOIN household h ON h.id = r.household_id
  LEFT JOIN LATERAL (
    SELECT min(m.started_on) AS support_on,
           min(coalesce(m.housing_on, m.ended_on, m.started_on))
             FILTER (WHERE m.housing_outcome IN ('accessed', 'maintained')) AS housing_on,
           (array_agg(m.kind ORDER BY m.started_on DESC, m.id DESC))[1] AS kind,
           max(greatest(m.started_on, m.ended_on, m.housing_on)) AS last_on,
           max(m.ended_on) AS ended_on
    FROM measure m WHERE m.referral_id = r.id) ms ON true
  LEFT JOIN LATERAL (
    SELECT max(s.v::date) AS last_status FROM jsonb_each_text(r.status_dates) s (k, v)) sd ON true
  CROSS JOIN LATERAL (
    SELECT CASE WHEN r.status = 'accompaniment_ended' AND ms.housing_on IS NOT NULL
                THEN coalesce((r.status_dates->>'accompaniment_ended')::date, ms.ended_on,
                              ms.housing_on) END AS ended_housed_on) en
  CROSS JOIN LATERAL (
    SELECT coalesce(bool_or((r2.received_on, r2.id) < (r.received_on, r.id)), false) AS earlier,
           min(r2.received_on) FILTER (WHERE r2.received_on > ms.housing_on) AS loss_on,
           min(r2.received_on) FILTER (WHERE r2.received_on > en.ended_housed_on) AS return_on
    FROM household h2 JOIN referral r2 ON r2.household_id = h2.id
    WHERE r2.id <> r.id
      AND (h2.id = h.id OR (h.person_key IS NOT NULL AND h2.person_key = h.person_key))) pr;

CREATE TABLE outcome_fact (
  referral_id     uuid PRIMARY KEY,
  platform        text NOT NULL,
  received_on     date NOT NULL,
  rk              integer NOT NULL,
  person          text NOT NULL,
  composition     text NOT NULL,
  age_band        text NOT NULL,
  kind            text NOT NULL,      -- the kind of the referral's latest measure, or none
  history         text NOT NULL,      -- first_time | returning
  outcome         text NOT NULL,      -- accompanied | reoriented | no_follow_up | in_progress
  support_on      date,               -- the first measure's start
  support_closed  boolean NOT NULL,   -- closed without support
  housing_on      date,               -- housing accessed or maintained
  housing_closed  boolean NOT NULL,   -- closed without housing
  ended_housed_on date,               -- the end of an accompaniment ended housed
  loss_on         date,               -- the person's next referral after housing_on
  return_on       date,               -- the person's next referral after ended_housed_on
  last_on         date NOT NULL       -- the latest date recorded on the referral
);
CREATE INDEX outcome_fact_received ON outcome_fact (received_on);
CREATE INDEX outcome_fact_person ON outcome_fact (person);
CREATE INDEX outcome_fact_last ON outcome_fact (last_on);
-- the other households of a person
CREATE INDEX household_person_key ON household (person_key) WHERE person_key IS NOT NULL;
COMMENT ON TABLE outcome_fact IS
  'One row per referral: the dates its outcome measures are computed from (docs/outcomes.md). Kept current by triggers; private to the service.';

-- Recomputes the facts of the referrals `ids` and of every other referral of their persons
-- (before and after the change: a person's first referral, its losses and returns depend on
-- its other referrals).
CREATE FUNCTION lda_outcome_refresh(ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  persons text[];
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  SELECT array_agg(DISTINCT p ORDER BY p) INTO persons FROM (
    SELECT f.person AS p FROM outcome_fact f WHERE f.referral_id = ANY (ids)
    UNION ALL
    SELECT lda_outcome_person(h) FROM referral r JOIN household h ON h.id = r.household_id
    WHERE r.id = ANY (ids)) x;
  -- one writer per person at a time (a concurrent write on the same person waits, then sees
  -- this one's rows)
  PERFORM pg_advisory_xact_lock(7243016, hashtext(p)) FROM unnest(persons) p ORDER BY p;
  DELETE FROM outcome_fact f WHERE f.person = ANY (persons) OR f.referral_id = ANY (ids);
  INSERT INTO outcome_fact (referral_id, platform, received_on, rk, person, composition, age_band,
    kind, history, outcome, support_on, support_closed, housing_on, housing_closed,
    ended_housed_on, loss_on, return_on, last_on)
  SELECT o.referral_id, o.platform, o.received_on, o.rk, o.person, o.composition, o.age_band,
         o.kind, o.history, o.outcome, o.support_on, o.support_closed, o.housing_on,
         o.housing_closed, o.ended_housed_on, o.loss_on, o.return_on, o.last_on
  FROM lda_outcome_referral o
  WHERE o.referral_id IN (
    SELECT r.id FROM referral r WHERE r.id = ANY (ids)
    UNION
    SELECT r.id FROM household h JOIN referral r ON r.household_id = h.id
    WHERE h.person_key = ANY (persons)
    UNION
    SELECT r.id FROM referral r
    WHERE r.household_id = ANY (
      SELECT substr(p, 11)::uuid FROM unnest(persons) p WHERE p LIKE 'household:%'))
  ORDER BY 1;
END
$$;

CREATE FUNCTION lda_outcome_on_referral() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
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

CREATE FUNCTION lda_outcome_on_measure() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
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

CREATE FUNCTION lda_outcome_on_household() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  PERFORM lda_outcome_refresh((
    SELECT array_agg(r.id) FROM referral r
    WHERE r.household_id IN (
      SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (n.person_key, n.composition, n.head_birth_date)
            IS DISTINCT FROM (o.person_key, o.composition, o.head_birth_date))));
  RETURN NULL;
END
$$;

CREATE TRIGGER referral_outcome_insert AFTER INSERT ON referral
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_referral();
CREATE TRIGGER referral_outcome_update AFTER UPDATE ON referral
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_referral();
CREATE TRIGGER referral_outcome_delete AFTER DELETE ON referral
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_referral();
CREATE TRIGGER measure_outcome_insert AFTER INSERT ON measure
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_measure();
CREATE TRIGGER measure_outcome_update AFTER UPDATE ON measure
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_measure();
CREATE TRIGGER measure_outcome_delete AFTER DELETE ON measure
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_measure();
CREATE TRIGGER household_outcome_update AFTER UPDATE ON household
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_outcome_on_household();

-- The facts of the referrals already stored.
INSERT INTO outcome_fact (referral_id, platform, received_on, rk, person, composition, age_band,
  kind, history, outcome, support_on, support_closed, housing_on, housing_closed,
  ended_housed_on, loss_on, return_on, last_on)
SELECT referral_id, platform, received_on, rk, person, composition, age_band, kind, history,
       outcome, support_on, support_closed, housing_on, housing_closed, ended_housed_on, loss_on,
       return_on, last_on
FROM lda_outcome_referral ORDER BY 1;

-- ---- 2. reading ----------------------------------------------------------------------------

-- The observation date: the last day of the latest month in which anything is recorded on a
-- referral or a measure, and never after today (Europe/Paris). A case is observed up to it.
CREATE FUNCTION lda_outcome_as_of() RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT least((now() AT TIME ZONE 'Europe/Paris')::date,
               coalesce((date_trunc('month', max(f.last_on)) + interval '1 month - 1 day')::date,
                        'infinity'::date))
  FROM outcome_fact f
$$;

-- One row per referral received in the whole months [m0, m1), on every platform (disclosure
-- control looks at the neighbouring cells), observed up to the observation date (its first
-- column, the same in every row: one round trip): its month, platform, record key,
-- breakdown codes, and for each measure its time in days (the event's, or
-- the end of observation) and state: E the event happened, X closed without it (support and
-- housing only), C still open (censored); NULL when the case is not in the measure's
-- population (retention: housed; returns: accompaniment ended housed).
CREATE FUNCTION lda_outcome_cases(m0 date, m1 date)
RETURNS TABLE (as_of date, month date, platform text, rk integer, kind text, composition text,
               age_band text, history text, support_t integer, support_s text, housing_t integer, housing_s text,
               retention_t integer, retention_s text, return_t integer, return_s text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public SET jit = off AS $$
  WITH a AS MATERIALIZED (SELECT lda_outcome_as_of() AS d)   -- once, not once per use
  SELECT a.d, date_trunc('month', f.received_on)::date, f.platform, f.rk, f.kind, f.composition,
         f.age_band, f.history,
         greatest(0, CASE WHEN f.support_on <= a.d THEN f.support_on ELSE a.d END - f.received_on),
         CASE WHEN f.support_on <= a.d THEN 'E' WHEN f.support_closed THEN 'X' ELSE 'C' END,
         greatest(0, CASE WHEN f.housing_on <= a.d THEN f.housing_on ELSE a.d END - f.received_on),
         CASE WHEN f.housing_on <= a.d THEN 'E' WHEN f.housing_closed THEN 'X' ELSE 'C' END,
         CASE WHEN f.housing_on <= a.d THEN
           greatest(0, CASE WHEN f.loss_on <= a.d THEN f.loss_on ELSE a.d END - f.housing_on) END,
         CASE WHEN f.housing_on <= a.d THEN CASE WHEN f.loss_on <= a.d THEN 'E' ELSE 'C' END END,
         CASE WHEN f.ended_housed_on <= a.d THEN
           greatest(0, CASE WHEN f.return_on <= a.d THEN f.return_on ELSE a.d END
                       - f.ended_housed_on) END,
         CASE WHEN f.ended_housed_on <= a.d THEN
           CASE WHEN f.return_on <= a.d THEN 'E' ELSE 'C' END END
  FROM outcome_fact f, a
  WHERE f.received_on >= m0 AND f.received_on < m1
$$;

-- ---- 3. BI: the cohort sizes, protected ----------------------------------------------------

-- Referrals by calendar year of reception, scope (a platform code, ami1, ami2, all) and the
-- outcome breakdowns (measure_kind, composition, age_band, history), as
-- GET /v1/stats/outcomes?from=<year>-01-01&to=<year>-12-31 publishes them: perturbed by the
-- cell-key method with the referrals' record keys; hidden (NULL, status A) from 1 to
-- threshold-1, and by the platform tree and the breakdown's partition rules (the first code
-- in byte order for ties), as reporting.activity_monthly is.
CREATE VIEW lda_outcome_yearly_protected AS
  WITH base AS (
    SELECT date_trunc('year', f.received_on)::date AS year, f.platform, d.dimension, d.code, f.rk
    FROM outcome_fact f,
         LATERAL (VALUES ('measure_kind', f.kind), ('composition', f.composition),
                         ('age_band', f.age_band), ('history', f.history)) d (dimension, code)),
  scoped AS (
    SELECT b.year, b.dimension, b.code,
           CASE WHEN GROUPING(b.platform) = 0 THEN b.platform
                WHEN GROUPING(p.ami) = 0 THEN 'ami' || p.ami ELSE 'all' END AS scope,
           CASE WHEN GROUPING(b.platform) = 0 THEN 0 WHEN GROUPING(p.ami) = 0 THEN 1
                ELSE 2 END AS level,
           CASE WHEN GROUPING(b.platform) = 0 THEN p.ami END AS family,
           count(*)::bigint AS n, sum(b.rk)::bigint AS ks
    FROM base b JOIN platform p ON p.code = b.platform
    GROUP BY b.year, b.dimension, b.code, GROUPING SETS ((p.ami, b.platform), (p.ami), ())),
  prim AS (
    SELECT s.*, st.threshold, st.max_noise, s.n > 0 AND s.n < st.threshold AS small
    FROM scoped s, disclosure_setting st),
  fam AS (
    SELECT p.*,
           count(*) FILTER (WHERE p.small) OVER w AS nsmall,
           row_number() OVER (PARTITION BY p.year, p.dimension, p.code, p.level, p.family
                              ORDER BY p.small OR p.n = 0, p.n, p.scope COLLATE "C") AS rank
    FROM prim p
    WINDOW w AS (PARTITION BY p.year, p.dimension, p.code, p.level, p.family)),
  st AS (
    SELECT f.*, f.small OR (f.level < 2 AND f.nsmall = 1 AND NOT f.small AND f.n > 0
                            AND f.rank = 1) AS tree_hidden
    FROM fam f),
  bd AS (
    SELECT st.*,
           count(*) FILTER (WHERE st.tree_hidden) OVER b AS nhidden,
           row_number() OVER (PARTITION BY st.year, st.dimension, st.scope
                              ORDER BY st.tree_hidden OR st.n = 0, st.n, st.code COLLATE "C")
             AS brank
    FROM st
    WINDOW b AS (PARTITION BY st.year, st.dimension, st.scope))
  SELECT bd.year, bd.scope, bd.dimension, bd.code,
         bd.tree_hidden OR (bd.nhidden = 1 AND NOT bd.tree_hidden AND bd.n > 0 AND bd.brank = 1)
           AS hidden,
         bd.n, bd.ks, bd.threshold, bd.max_noise
  FROM bd;

CREATE VIEW reporting.outcome_cohorts_yearly AS
  SELECT extract(year FROM h.year)::integer AS year, h.scope, h.dimension, h.code,
         CASE WHEN h.hidden THEN NULL WHEN h.n = 0 THEN 0
              ELSE h.n + lda_cell_key_noise(h.n, h.ks, h.threshold, h.max_noise) END AS referrals,
         CASE WHEN h.hidden THEN 'A' ELSE 'P' END AS status
  FROM lda_outcome_yearly_protected h;
COMMENT ON VIEW reporting.outcome_cohorts_yearly IS
  'Referrals by calendar year of reception (the cohort), scope (a platform code, ami1, ami2 or all), dimension (measure_kind: the kind of the latest measure or none; composition; age_band: the head''s age band on received_on, or not_collected; history: first_time or returning) and code, as GET /v1/stats/outcomes publishes the cohort sizes of one year: perturbed by the cell-key method (within max_noise of the truth), NULL when hidden (status A). A missing row is a zero. The cohort total of all platforms or an AMI is referrals_received in official_yearly. The times, shares and censored counts depend on the observation date: read them from the API.';

GRANT SELECT ON reporting.outcome_cohorts_yearly TO lda_bi;

-- ---- 4. functions that run with their owner's rights: the service's role only --------------

REVOKE ALL ON FUNCTION lda_outcome_refresh(uuid[]), lda_outcome_on_referral(),
  lda_outcome_on_measure(), lda_outcome_on_household(), lda_outcome_as_of(),
  lda_outcome_cases(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lda_outcome_refresh(uuid[]), lda_outcome_on_referral(),
  lda_outcome_on_measure(), lda_outcome_on_household(), lda_outcome_as_of(),
  lda_outcome_cases(date, date) TO lda_app;
