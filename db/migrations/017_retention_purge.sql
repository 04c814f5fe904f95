-- Data kept only as long as allowed: retention periods and the purge (docs/security.md,
-- "Retention"; docs/statistics.md, "What survives a purge").
--
-- The periods are the service's configuration (LDA_RETENTION_*); `lda-api purge` and the
-- service's daily run call the functions below, batch by batch, each batch in its own
-- transaction. Every deletion goes through a function that runs with the owner's rights and
-- that only the service's role may call: lda_app keeps no DELETE right on the data tables.
-- The functions refuse a period shorter than a floor and a day after today, so that a caller
-- cannot make them remove recent data.
--
-- What is removed, for a day D (today; another day for tests) and a period of N months,
-- the cut-off C being D minus N months:
--   siao_requests       received before C (Europe/Paris);
--   referrals           closed (accompaniment_ended, reoriented, no_follow_up) before C, with
--                       no measure and no placement still open; closed on the last of their
--                       status dates, event dates, measure end dates and placement end dates;
--                       with their events, measures, placements and fluidity presentations;
--   prevention_cases    whose last activity (debt date, stage dates, actions, follow-ups, and
--                       the 24-month follow-up horizon of their first action) is before C;
--                       with their stage events, actions and follow-ups;
--   households          when their last referral or prevention case goes (or, never referred,
--                       not updated since the referrals' cut-off);
--   audit_events        recorded before C.
--
-- The statistics survive: the youth observatory's rollups are not decremented (the deletion
-- trigger of siao_request stands aside inside the purge only), and the purged referrals'
-- contributions to the activity figures are archived in the same transaction
-- (activity_archive), which the activity readers add.

-- ---- 1. bookkeeping ------------------------------------------------------------------------

-- One row per run: the day it purged for and what each batch removed, updated in the batch's
-- own transaction (so the counts are exact even for a run cut short).
CREATE TABLE purge_run (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  as_of       date NOT NULL,
  scheduled   boolean NOT NULL,          -- the service's daily run (else the command line)
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,               -- NULL: running, or cut short (audited by the next)
  counts      jsonb NOT NULL DEFAULT '{}'
);

-- The transactions of the purge functions, while they delete SIAO requests: the rollup
-- triggers leave the rollups alone for them. Only the owner writes here (through the purge
-- function), so no writer can switch the maintenance off for its own writes; a row never
-- outlives its transaction (deleted before the commit, or rolled back with it).
CREATE TABLE purge_marker (
  xid xid8 PRIMARY KEY
);
GRANT SELECT ON purge_marker TO lda_app;

-- The latest cut-off a purge of SIAO requests used. A request received before it may have been
-- purged already, its figures kept by the rollups: pushed again, it would be counted twice, so
-- it is not stored (the batch rejects it). Before any purge there is no such cut-off.
CREATE TABLE siao_purge_horizon (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  cutoff   timestamptz NOT NULL
);

CREATE FUNCTION lda_siao_purge_horizon() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT cutoff FROM siao_purge_horizon
$$;

CREATE FUNCTION lda_purging() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM purge_marker WHERE xid = pg_current_xact_id_if_assigned())
$$;

-- The audit log records purges: action 'purge', resource_type 'retention', and the counts.
ALTER TABLE audit_event DROP CONSTRAINT audit_event_action_check;
ALTER TABLE audit_event ADD CONSTRAINT audit_event_action_check
  CHECK (action IN ('read', 'list', 'create', 'update', 'delete', 'erase', 'transition', 'batch',
                    'purge'));
ALTER TABLE audit_event ADD COLUMN counts jsonb;   -- a purge: rows removed per kind, never data
COMMENT ON COLUMN audit_event.counts IS 'purge events only: the number of rows removed per kind';

-- ---- 2. what the statistics keep ------------------------------------------------------------

-- The purged referrals' contributions to the activity figures: counts and record-key sums by
-- month of reception, platform, dimension and code, with the dimensions of
-- lda_activity_counts (total, outcome, situation, referrer, housed, measure).
CREATE TABLE activity_archive (
  month    date NOT NULL,
  platform text NOT NULL,
  dim      text NOT NULL,
  code     text NOT NULL,
  n        bigint NOT NULL,
  ks       bigint NOT NULL,
  PRIMARY KEY (month, platform, dim, code)
);

-- What the purged SIAO requests added to the rollups, kept so that a rebuild of the rollups
-- from the raw rows (lda_observatory_rebuild) still counts them:
--   observatory_cell_archive        the purged requests' cells;
--   observatory_link_month_archive  the difference between the persons' links before the
--                                   purge and their links over the requests that remain.
CREATE TABLE observatory_cell_archive (LIKE observatory_cell INCLUDING ALL);
CREATE TABLE observatory_link_month_archive (LIKE observatory_link_month INCLUDING ALL);

-- ---- 3. the rollups stand aside inside the purge ---------------------------------------------

CREATE OR REPLACE FUNCTION lda_observe_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT current FROM observatory_state) AND NOT lda_purging() THEN
    PERFORM lda_observe('{}', (SELECT array_agg(o::siao_request) FROM old_rows o));
  END IF;
  RETURN NULL;
END
$$;

-- The rebuild counts the raw rows and what purges archived.
CREATE OR REPLACE FUNCTION lda_observatory_rebuild() RETURNS void
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  pf text;
  m date;
BEGIN
  LOCK TABLE siao_request IN SHARE MODE;   -- no write while the structures are rebuilt
  TRUNCATE observatory_cell, observatory_link, observatory_link_month;
  FOR pf, m IN
    SELECT x.pf, date_trunc('month', d)::date
    FROM (SELECT code AS pf, (SELECT min(received_at) FROM siao_request WHERE platform = code) AS lo,
                 (SELECT max(received_at) FROM siao_request WHERE platform = code) AS hi
          FROM platform) x,
         generate_series(lda_paris_month(x.lo)::timestamp, lda_paris_month(x.hi)::timestamp, interval '1 month') d
    WHERE x.lo IS NOT NULL
  LOOP
    INSERT INTO observatory_cell (platform, dim, age, month, code, n, ks)
    SELECT c.platform, c.dim, c.age, c.month, c.code, c.n, c.ks
    FROM lda_observatory_aggregate(
           (SELECT array_agg(lda_observatory_source(s, 1)) FROM siao_request s
            WHERE s.platform = pf AND s.received_at >= m::timestamp AT TIME ZONE 'Europe/Paris'
              AND s.received_at < (m + interval '1 month')::timestamp AT TIME ZONE 'Europe/Paris')
         ) c
    WHERE c.n <> 0;
  END LOOP;
  INSERT INTO observatory_cell AS o (platform, dim, age, month, code, n, ks)
  SELECT platform, dim, age, month, code, n, ks FROM observatory_cell_archive
  ON CONFLICT (platform, dim, age, month, code)
  DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;
  CLUSTER observatory_cell USING observatory_cell_pkey;   -- the heap in the key's order
  INSERT INTO observatory_link (grp, request_id, person_key, day, p1, p2)
  SELECT g.id, s.id, s.person_key, s.day, lag(s.day) OVER w, lag(s.day, 2) OVER w
  FROM (SELECT id, person_key, platform, lda_paris_day(received_at) AS day
        FROM siao_request WHERE person_key IS NOT NULL AND age BETWEEN 18 AND 25) s
  JOIN observatory_group g ON s.platform = ANY (g.platforms)
  WINDOW w AS (PARTITION BY g.id, s.person_key ORDER BY s.day, s.id);
  INSERT INTO observatory_link_month (grp, kind, month, p, n, ks)
  SELECT grp, kind, month, p, sum(n), sum(ks) FROM (
    SELECT grp, kind, month, p, count(*) AS n, sum(k) AS ks FROM (
      SELECT grp, 0::smallint AS kind, date_trunc('month', day)::date AS month,
             date_trunc('month', day)::date AS p, lda_person_record_key(person_key)::bigint AS k
      FROM observatory_link
      UNION ALL SELECT grp, 1, date_trunc('month', day)::date, p1,
                       lda_person_record_key(person_key) FROM observatory_link WHERE p1 IS NOT NULL
      UNION ALL SELECT grp, 2, date_trunc('month', day)::date, p2,
                       lda_person_record_key(person_key) FROM observatory_link WHERE p2 IS NOT NULL) x
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT grp, kind, month, p, n, ks FROM observatory_link_month_archive) y
  GROUP BY 1, 2, 3, 4
  HAVING sum(n) <> 0 OR sum(ks) <> 0
  ORDER BY 1, 2, 3, 4;
  UPDATE observatory_state SET current = true;
  ANALYZE observatory_cell;
  ANALYZE observatory_link;
  ANALYZE observatory_link_month;
END
$$;
REVOKE ALL ON FUNCTION lda_observatory_rebuild() FROM PUBLIC;

-- ---- 4. the activity readers add the archive ---------------------------------------------------

CREATE OR REPLACE FUNCTION lda_activity_counts(m0 date, m1 date, unit text)
RETURNS TABLE (unit_start date, platform text, dim text, code text, n bigint, ks bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
  WITH ref AS (SELECT lda_stats_unit(unit, m0, a.received_on) AS u, a.*
               FROM lda_activity_referral a WHERE a.received_on >= m0 AND a.received_on < m1),
  live AS (
    SELECT u, platform,
           CASE WHEN GROUPING(outcome) = 0 THEN 'outcome'
                WHEN GROUPING(housing_situation) = 0 THEN 'situation'
                WHEN GROUPING(referrer) = 0 THEN 'referrer' ELSE 'total' END AS dim,
           coalesce(outcome, housing_situation, referrer, '') AS code, count(*) AS n,
           sum(rk)::bigint AS ks
    FROM ref GROUP BY u, platform, GROUPING SETS ((outcome), (housing_situation), (referrer), ())
    UNION ALL
    SELECT u, platform, 'housed', '', count(*), sum(rk)::bigint FROM ref WHERE housed GROUP BY 1, 2
    UNION ALL
    SELECT ref.u, ref.platform, 'measure', m.kind, count(*), sum(m.rk)::bigint
    FROM measure m JOIN ref ON ref.id = m.referral_id GROUP BY 1, 2, 4
    UNION ALL
    SELECT lda_stats_unit(unit, m0, a.month), a.platform, a.dim, a.code, a.n, a.ks
    FROM activity_archive a WHERE a.month >= m0 AND a.month < m1)
  SELECT u, platform, dim, code, sum(n)::bigint, sum(ks)::bigint FROM live GROUP BY 1, 2, 3, 4
$$;

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
  UNION ALL   -- the purged referrals (migration 017)
  SELECT 'activity', x.month, x.platform,
         CASE x.dim WHEN 'total' THEN 'referrals_received' ELSE x.dim END, x.code, x.n, x.ks
  FROM activity_archive x
  -- eviction prevention and the housing offer (migration 015)
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

-- ---- 5. what is past its period ---------------------------------------------------------------

-- The cut-off of a period of `months` ending on as_of; refuses a period under `floor` months
-- and a day after today, whoever calls.
CREATE FUNCTION lda_retention_cutoff(as_of date, months integer, floor integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF as_of IS NULL OR months IS NULL OR months < floor OR months > 1200 THEN
    RAISE EXCEPTION 'retention period out of range' USING ERRCODE = '22023';
  END IF;
  IF as_of > lda_paris_day(now()) THEN
    RAISE EXCEPTION 'a purge cannot run for a day after today' USING ERRCODE = '22023';
  END IF;
  RETURN (as_of - make_interval(months => months))::date;
END
$$;

-- Closed referrals and the day they closed (open measures or placements keep a referral).
CREATE VIEW lda_retention_referral AS
  SELECT r.id, r.household_id,
         greatest(r.received_on,
                  (SELECT max(s.v::date) FROM jsonb_each_text(r.status_dates) s (k, v)),
                  (SELECT max(e.on_date) FROM referral_event e WHERE e.referral_id = r.id),
                  (SELECT max(m.ended_on) FROM measure m WHERE m.referral_id = r.id),
                  (SELECT max(p.left_on) FROM placement p WHERE p.referral_id = r.id)) AS closed_on
  FROM referral r
  WHERE r.status IN ('accompaniment_ended', 'reoriented', 'no_follow_up')
    AND NOT EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id AND m.ended_on IS NULL)
    AND NOT EXISTS (SELECT 1 FROM placement p WHERE p.referral_id = r.id AND p.left_on IS NULL);

-- Prevention cases and the day of their last activity: the debt date, the stage dates, the
-- actions, the follow-ups, and the 24-month follow-up horizon of the first action (a case is
-- kept until its last follow-up is due).
CREATE VIEW lda_retention_prevention_case AS
  SELECT c.id, c.household_id,
         coalesce(greatest(c.debt_on,
                           (SELECT max(s.v::date) FROM jsonb_each_text(c.stage_dates) s (k, v)),
                           (SELECT max(e.on_date) FROM prevention_stage_event e WHERE e.case_id = c.id),
                           (SELECT max(a.done_on) FROM prevention_action a WHERE a.case_id = c.id),
                           (SELECT (min(a.done_on) + interval '24 months')::date
                            FROM prevention_action a WHERE a.case_id = c.id),
                           (SELECT max(f.due_on) FROM prevention_follow_up f WHERE f.case_id = c.id)),
                  lda_paris_day(c.created_at)) AS last_activity
  FROM prevention_case c;

-- The rows past their period, by kind (the dry run: exactly what a purge removes when
-- nothing changes meanwhile).
CREATE FUNCTION lda_purge_due(as_of date, siao_months integer, referral_months integer,
                              prevention_months integer, audit_months integer)
RETURNS TABLE (kind text, n bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
DECLARE
  c_siao date := lda_retention_cutoff(as_of, siao_months, 12);
  c_ref date := lda_retention_cutoff(as_of, referral_months, 12);
  c_prev date := lda_retention_cutoff(as_of, prevention_months, 12);
  c_audit date := lda_retention_cutoff(as_of, audit_months, 6);
BEGIN
  RETURN QUERY
  WITH r AS (SELECT x.id, x.household_id FROM lda_retention_referral x WHERE x.closed_on < c_ref),
  pc AS (SELECT x.id, x.household_id FROM lda_retention_prevention_case x
         WHERE x.last_activity < c_prev),
  hh AS (SELECT h.id FROM household h
         WHERE NOT EXISTS (SELECT 1 FROM referral x WHERE x.household_id = h.id
                           AND x.id NOT IN (SELECT r.id FROM r))
           AND NOT EXISTS (SELECT 1 FROM prevention_case x WHERE x.household_id = h.id
                           AND x.id NOT IN (SELECT pc.id FROM pc))
           AND (h.id IN (SELECT r.household_id FROM r) OR h.id IN (SELECT pc.household_id FROM pc)
                OR lda_paris_day(h.updated_at) < c_ref))
  SELECT 'siao_requests', count(*) FROM siao_request s
   WHERE s.received_at < c_siao::timestamp AT TIME ZONE 'Europe/Paris'
  UNION ALL SELECT 'referrals', count(*) FROM r
  UNION ALL SELECT 'referral_events', count(*) FROM referral_event e WHERE e.referral_id IN (SELECT r.id FROM r)
  UNION ALL SELECT 'measures', count(*) FROM measure m WHERE m.referral_id IN (SELECT r.id FROM r)
  UNION ALL SELECT 'placements', count(*) FROM placement p WHERE p.referral_id IN (SELECT r.id FROM r)
  UNION ALL SELECT 'fluidity_presentations', count(*) FROM fluidity_presentation p
             WHERE p.referral_id IN (SELECT r.id FROM r)
  UNION ALL SELECT 'prevention_cases', count(*) FROM pc
  UNION ALL SELECT 'prevention_stage_events', count(*) FROM prevention_stage_event e
             WHERE e.case_id IN (SELECT pc.id FROM pc)
  UNION ALL SELECT 'prevention_actions', count(*) FROM prevention_action a
             WHERE a.case_id IN (SELECT pc.id FROM pc)
  UNION ALL SELECT 'prevention_follow_ups', count(*) FROM prevention_follow_up f
             WHERE f.case_id IN (SELECT pc.id FROM pc)
  UNION ALL SELECT 'households', count(*) FROM hh
  UNION ALL SELECT 'audit_events', count(*) FROM audit_event a
             WHERE a.at < c_audit::timestamp AT TIME ZONE 'Europe/Paris';
END
$$;

-- ---- 6. the purge, batch by batch ---------------------------------------------------------------

-- Starts a run, or returns NULL for a scheduled run when one already finished for that day
-- (several instances of the service each try once a day).
CREATE FUNCTION lda_purge_begin(as_of date, scheduled boolean) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  id bigint;
BEGIN
  IF as_of > lda_paris_day(now()) THEN
    RAISE EXCEPTION 'a purge cannot run for a day after today' USING ERRCODE = '22023';
  END IF;
  IF scheduled AND EXISTS (SELECT 1 FROM purge_run r WHERE r.as_of = lda_purge_begin.as_of
                                                      AND r.finished_at IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  INSERT INTO purge_run (as_of, scheduled) VALUES (as_of, scheduled) RETURNING purge_run.id INTO id;
  RETURN id;
END
$$;

-- Adds a batch's counts to its run (in the batch's transaction).
CREATE FUNCTION lda_purge_count(run bigint, add jsonb) RETURNS void
LANGUAGE sql AS $$
  UPDATE purge_run r SET counts = (
    SELECT coalesce(jsonb_object_agg(k, coalesce((r.counts ->> k)::bigint, 0)
                                        + coalesce((add ->> k)::bigint, 0)), '{}')
    FROM (SELECT jsonb_object_keys(r.counts) UNION SELECT jsonb_object_keys(add)) x (k))
  WHERE r.id = run
$$;

-- Removes the households among `ids` that no referral and no prevention case keeps.
CREATE FUNCTION lda_purge_households(ids uuid[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  -- locked first: a referral or case created meanwhile for one of them waits, then is seen
  PERFORM 1 FROM household h WHERE h.id = ANY (ids) ORDER BY h.id FOR UPDATE;
  DELETE FROM household h WHERE h.id = ANY (ids)
    AND NOT EXISTS (SELECT 1 FROM referral r WHERE r.household_id = h.id)
    AND NOT EXISTS (SELECT 1 FROM prevention_case c WHERE c.household_id = h.id);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- Up to max_rows SIAO requests received before the cut-off. The rollups keep counting them;
-- the links of their persons are recomputed over the requests that remain, and the
-- difference goes to the archive (for a rebuild). Returns the requests removed.
CREATE FUNCTION lda_purge_siao_requests(run bigint, as_of date, months integer, max_rows integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  cutoff timestamptz := lda_retention_cutoff(as_of, months, 12)::timestamp AT TIME ZONE 'Europe/Paris';
  ids uuid[];
  keys text[];
  n bigint;
BEGIN
  IF NOT (SELECT current FROM observatory_state) THEN
    RAISE EXCEPTION 'the observatory rollups are being rebuilt: purge later' USING ERRCODE = '55000';
  END IF;
  INSERT INTO siao_purge_horizon AS h (cutoff) VALUES (cutoff)
  ON CONFLICT (only_row) DO UPDATE SET cutoff = greatest(h.cutoff, excluded.cutoff);
  -- platform by platform, oldest first: index ranges of (platform, received_at), which skip
  -- the rows earlier batches deleted (a scan of the table would read them again each time)
  SELECT array_agg(x.id) INTO ids FROM (
    SELECT y.id FROM platform pf,
           LATERAL (SELECT s.id FROM siao_request s WHERE s.platform = pf.code
                      AND s.received_at < cutoff ORDER BY s.received_at LIMIT max_rows) y
    LIMIT max_rows) x;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;
  PERFORM 1 FROM siao_request WHERE id = ANY (ids) ORDER BY id FOR UPDATE;
  SELECT array_agg(DISTINCT s.person_key ORDER BY s.person_key) INTO keys FROM siao_request s
   WHERE s.id = ANY (ids) AND s.age BETWEEN 18 AND 25 AND s.person_key IS NOT NULL;
  -- as lda_observe: one writer per person at a time
  PERFORM pg_advisory_xact_lock(7243010, hashtext(k)) FROM unnest(keys) k ORDER BY k;

  INSERT INTO observatory_cell_archive AS o (platform, dim, age, month, code, n, ks)
  SELECT c.platform, c.dim, c.age, c.month, c.code, sum(c.n), sum(c.ks)
  FROM lda_observatory_aggregate(
         (SELECT array_agg(lda_observatory_source(s, 1)) FROM siao_request s WHERE s.id = ANY (ids))) c
  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (platform, dim, age, month, code)
  DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;

  IF keys IS NOT NULL THEN
    WITH gone AS (DELETE FROM observatory_link WHERE person_key = ANY (keys)
                  RETURNING grp, day, p1, p2, person_key)
    INSERT INTO observatory_link_month_archive AS o (grp, kind, month, p, n, ks)
    SELECT c.* FROM (SELECT array_agg(grp) g, array_agg(day) d, array_agg(p1) a,
                            array_agg(p2) b, array_agg(person_key) k FROM gone) x,
                    lda_observatory_link_counts(x.g, x.d, x.a, x.b, x.k, 1) c
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (grp, kind, month, p) DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;
  END IF;

  INSERT INTO purge_marker VALUES (pg_current_xact_id());
  DELETE FROM siao_request WHERE id = ANY (ids);
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM purge_marker WHERE xid = pg_current_xact_id();

  IF keys IS NOT NULL THEN
    WITH fresh AS (
      INSERT INTO observatory_link (grp, request_id, person_key, day, p1, p2)
      SELECT g.id, s.id, s.person_key, s.day, lag(s.day) OVER w, lag(s.day, 2) OVER w
      FROM (SELECT id, person_key, platform, lda_paris_day(received_at) AS day
            FROM siao_request
            WHERE person_key = ANY (keys) AND age BETWEEN 18 AND 25) s
      JOIN observatory_group g ON s.platform = ANY (g.platforms)
      WINDOW w AS (PARTITION BY g.id, s.person_key ORDER BY s.day, s.id)
      RETURNING grp, day, p1, p2, person_key)
    INSERT INTO observatory_link_month_archive AS o (grp, kind, month, p, n, ks)
    SELECT c.* FROM (SELECT array_agg(grp) g, array_agg(day) d, array_agg(p1) a,
                            array_agg(p2) b, array_agg(person_key) k FROM fresh) x,
                    lda_observatory_link_counts(x.g, x.d, x.a, x.b, x.k, -1) c
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (grp, kind, month, p) DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;
  END IF;

  PERFORM lda_purge_count(run, jsonb_build_object('siao_requests', n));
  RETURN n;
END
$$;

-- Up to max_rows referrals closed before the cut-off, with their events, measures,
-- placements and fluidity presentations, and their households when nothing else keeps them;
-- their contributions to the activity figures are archived first. Returns the referrals
-- removed.
CREATE FUNCTION lda_purge_referrals(run bigint, as_of date, months integer, max_rows integer)
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
  n_hh := lda_purge_households(hh);

  PERFORM lda_purge_count(run, jsonb_build_object('referrals', n_ref, 'referral_events', n_ev,
    'measures', n_me, 'placements', n_pl, 'fluidity_presentations', n_fp, 'households', n_hh));
  RETURN n_ref;
END
$$;

-- Up to max_rows prevention cases whose last activity is before the cut-off, with their
-- stage events, actions and follow-ups, and their households when nothing else keeps them.
CREATE FUNCTION lda_purge_prevention_cases(run bigint, as_of date, months integer, max_rows integer)
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

-- Up to max_rows households never referred (no referral, no prevention case) and not updated
-- since the referrals' cut-off.
CREATE FUNCTION lda_purge_orphan_households(run bigint, as_of date, months integer, max_rows integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  cutoff date := lda_retention_cutoff(as_of, months, 12);
  ids uuid[];
  n bigint;
BEGIN
  SELECT array_agg(h.id) INTO ids FROM (
    SELECT h.id FROM household h
    WHERE lda_paris_day(h.updated_at) < cutoff
      AND NOT EXISTS (SELECT 1 FROM referral r WHERE r.household_id = h.id)
      AND NOT EXISTS (SELECT 1 FROM prevention_case c WHERE c.household_id = h.id)
    ORDER BY h.id LIMIT max_rows) h;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;
  n := lda_purge_households(ids);
  PERFORM lda_purge_count(run, jsonb_build_object('households', n));
  RETURN n;
END
$$;

-- Up to max_rows audit events recorded before the cut-off (the audit log is append-only for
-- the service: only this function removes its old events).
CREATE FUNCTION lda_purge_audit_events(run bigint, as_of date, months integer, max_rows integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  cutoff timestamptz := lda_retention_cutoff(as_of, months, 6)::timestamp AT TIME ZONE 'Europe/Paris';
  n bigint;
BEGIN
  DELETE FROM audit_event WHERE id IN (
    SELECT id FROM audit_event WHERE at < cutoff ORDER BY at, id LIMIT max_rows);
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM lda_purge_count(run, jsonb_build_object('audit_events', n));
  RETURN n;
END
$$;

-- Ends a run: writes its audit event (counts only, status 200), and one for each earlier run
-- that was cut short (its batches committed: they are audited now, with their own counts and
-- status 500). Returns the run's counts.
CREATE FUNCTION lda_purge_finish(run bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO audit_event (action, resource_type, request_id, status, counts)
  SELECT 'purge', 'retention', 'purge-' || r.id,
         CASE WHEN r.id = run THEN 200 ELSE 500 END, r.counts
  FROM purge_run r
  WHERE r.finished_at IS NULL AND r.id <= run
  ORDER BY r.id;
  UPDATE purge_run SET finished_at = now() WHERE finished_at IS NULL AND id <= run;
  RETURN (SELECT counts FROM purge_run WHERE id = run);
END
$$;

-- ---- 7. who may call them ----------------------------------------------------------------------

DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.prosecdef AND n.nspname = 'public'
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO lda_app', f);
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION lda_purge_count(bigint, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_purge_households(uuid[]) FROM PUBLIC;
