-- Disclosure control by the cell-key method, and who may read what in the database.
--
-- Every published count that is not an exact official figure is perturbed, as national
-- statistics offices do for flexible table builders (the Australian Bureau of Statistics'
-- TableBuilder, the UK ONS census outputs). Each stored record carries a fixed random
-- record key; each person (for distinct counts) one derived from its keyed person_key. A
-- cell's key is the sum of its records' keys modulo N = 2^20; the perturbation table below
-- maps (true count, cell key) to a noise within +-D. The same records always give the same
-- published count, whatever query asks for it. docs/statistics.md is the full description.
--
-- This migration:
--   1. adds the record keys (siao_request, referral, measure) and the person key derivation;
--   2. makes the observatory's rollups (migration 010) carry the sums of those keys, and
--      replaces their maintenance and reading functions (periods are whole months now);
--   3. adds the activity counts' reading function;
--   4. adds the perturbation table and the settings the views use;
--   5. replaces the reporting views: lda_bi reads protected aggregates only; a new role
--      lda_research (no login) reads pseudonymised row-level extracts;
--   6. lets only the service's role call the functions that run with their owner's rights;
--   7. lets the service redact the notes of a household's referral events on erasure.

-- ---- 1. record keys ---------------------------------------------------------------------

-- pgcrypto's hmac() re-keys the demo data's person keys (seed-demo) with the service key.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE FUNCTION lda_record_key() RETURNS integer
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$ SELECT floor(random() * 1048576)::integer $$;

-- A person's record key: a fixed function of its person_key, which is itself a keyed hash
-- (HMAC with the service's secret), so nobody without that secret can compute it.
CREATE FUNCTION lda_person_record_key(k text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ('x' || substr(encode(sha256(convert_to('lda-person-record-key:' || k, 'UTF8')), 'hex'),
                        1, 5))::bit(20)::integer
$$;

-- (ADD COLUMN with a volatile default draws a key for every existing row.)
ALTER TABLE siao_request ADD COLUMN rk integer NOT NULL DEFAULT lda_record_key()
  CHECK (rk BETWEEN 0 AND 1048575);
ALTER TABLE referral ADD COLUMN rk integer NOT NULL DEFAULT lda_record_key()
  CHECK (rk BETWEEN 0 AND 1048575);
ALTER TABLE measure ADD COLUMN rk integer NOT NULL DEFAULT lda_record_key()
  CHECK (rk BETWEEN 0 AND 1048575);
COMMENT ON COLUMN siao_request.rk IS 'cell-key method: fixed random record key in [0, 2^20)';
COMMENT ON COLUMN referral.rk IS 'cell-key method: fixed random record key in [0, 2^20)';
COMMENT ON COLUMN measure.rk IS 'cell-key method: fixed random record key in [0, 2^20)';

-- ---- 2. the observatory's rollups carry the key sums --------------------------------------

ALTER TABLE observatory_cell ADD COLUMN ks bigint NOT NULL DEFAULT 0;        -- sum of rk
ALTER TABLE observatory_link_month ADD COLUMN ks bigint NOT NULL DEFAULT 0;  -- sum of person keys
ALTER TYPE observatory_source ADD ATTRIBUTE rk bigint;                         -- rk * sign

CREATE OR REPLACE FUNCTION lda_observatory_source(s siao_request, sign integer)
RETURNS observatory_source
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ROW(s.platform, lda_paris_month(s.received_at), coalesce(s.age, -1),
             CASE WHEN s.age BETWEEN 18 AND 25 THEN -2 END,
             coalesce(s.sex, 'not_collected'), coalesce(s.situation, 'not_collected'),
             coalesce(s.response, 'not_collected'), s.channel,
             coalesce(s.alternatives_known::text, 'not_collected'),
             CASE WHEN cardinality(s.needs) = 0 THEN ARRAY[NULL::text] ELSE s.needs END,
             sign, s.rk::bigint * sign)::observatory_source
$$;

DROP FUNCTION lda_observatory_aggregate(observatory_source[]);
CREATE FUNCTION lda_observatory_aggregate(src observatory_source[])
RETURNS TABLE (platform text, dim text, age smallint, month date, code text, n bigint, ks bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT g.platform, g.dim, g.age, g.month, g.code, g.n, g.ks FROM (
    SELECT r.platform, r.month,
           CASE WHEN GROUPING(r.sex) = 0 THEN 'sex' WHEN GROUPING(r.situation) = 0 THEN 'situation'
                WHEN GROUPING(r.response) = 0 THEN 'response'
                WHEN GROUPING(r.channel) = 0 THEN 'channel'
                WHEN GROUPING(r.alt) = 0 THEN 'alt' ELSE 'total' END AS dim,
           CASE WHEN GROUPING(r.age) = 0 THEN r.age WHEN GROUPING(r.band) = 0 THEN r.band
                ELSE -3::smallint END AS age,
           coalesce(r.sex, r.situation, r.response, r.channel, r.alt, '') AS code,
           sum(r.sign) AS n, sum(r.rk) AS ks,
           GROUPING(r.band) = 0 AND r.band IS NULL AS outside
    FROM unnest(src) r
    GROUP BY r.platform, r.month, GROUPING SETS ((r.age, r.sex), (r.band, r.sex),
      (r.age, r.situation), (r.band, r.situation), (r.age, r.response), (r.band, r.response),
      (r.age, r.channel), (r.band, r.channel), (r.age, r.alt), (r.band, r.alt), (r.age), ())
  ) g WHERE NOT g.outside
  UNION ALL
  SELECT g.platform, 'need', g.age, g.month, g.code, g.n, g.ks FROM (
    SELECT r.platform, r.month,
           CASE WHEN GROUPING(r.age) = 0 THEN r.age ELSE r.band END AS age,
           coalesce(nd, 'not_collected') AS code, sum(r.sign) AS n, sum(r.rk) AS ks,
           GROUPING(r.band) = 0 AND r.band IS NULL AS outside
    FROM unnest(src) r, unnest(r.needs) nd
    GROUP BY r.platform, r.month, nd, GROUPING SETS ((r.age), (r.band))
  ) g WHERE NOT g.outside
$$;

-- The links of a statement's rows, counted by month with their persons' key sums.
CREATE FUNCTION lda_observatory_link_counts(grp smallint[], day date[], p1 date[], p2 date[],
                                            person_key text[], sign integer)
RETURNS TABLE (grp smallint, kind smallint, month date, p date, n bigint, ks bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT x.grp, x.kind, x.month, x.p, sign * count(*), sign * sum(x.k)
  FROM (SELECT l.grp, k.kind, date_trunc('month', l.day)::date AS month,
               CASE k.kind WHEN 0 THEN date_trunc('month', l.day)::date WHEN 1 THEN l.p1
                           ELSE l.p2 END AS p,
               lda_person_record_key(l.person_key)::bigint AS k
        FROM unnest(grp, day, p1, p2, person_key) l (grp, day, p1, p2, person_key),
             (VALUES (0::smallint), (1::smallint), (2::smallint)) k (kind)) x
  WHERE x.p IS NOT NULL
  GROUP BY 1, 2, 3, 4
$$;

-- Applies the rows a statement added (ins) and removed (del) to the three structures.
CREATE OR REPLACE FUNCTION lda_observe(ins siao_request[], del siao_request[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  keys text[];
BEGIN
  IF NOT (SELECT current FROM observatory_state) THEN
    RETURN;
  END IF;

  INSERT INTO observatory_cell AS o (platform, dim, age, month, code, n, ks)
  SELECT c.platform, c.dim, c.age, c.month, c.code, sum(c.n), sum(c.ks)
  FROM lda_observatory_aggregate(
         (SELECT array_agg(lda_observatory_source(r, 1)) FROM unnest(ins) r)
         || (SELECT array_agg(lda_observatory_source(r, -1)) FROM unnest(del) r)) c
  GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.n) <> 0 OR sum(c.ks) <> 0
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (platform, dim, age, month, code)
  DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;

  -- the persons whose youth chains may have changed
  SELECT array_agg(DISTINCT k ORDER BY k) INTO keys FROM (
    SELECT (r).person_key AS k FROM unnest(ins) r WHERE (r).age BETWEEN 18 AND 25
    UNION ALL
    SELECT (r).person_key FROM unnest(del) r WHERE (r).age BETWEEN 18 AND 25) x
  WHERE k IS NOT NULL;
  IF keys IS NULL THEN
    RETURN;
  END IF;
  -- one writer per person at a time: a concurrent batch on the same person waits, then
  -- (READ COMMITTED: each statement below takes a new snapshot) sees its rows
  PERFORM pg_advisory_xact_lock(7243010, hashtext(k)) FROM unnest(keys) k ORDER BY k;

  WITH gone AS (DELETE FROM observatory_link WHERE person_key = ANY (keys)
                RETURNING grp, day, p1, p2, person_key)
  INSERT INTO observatory_link_month AS o (grp, kind, month, p, n, ks)
  SELECT c.* FROM (SELECT array_agg(grp) g, array_agg(day) d, array_agg(p1) a,
                          array_agg(p2) b, array_agg(person_key) k FROM gone) x,
                  lda_observatory_link_counts(x.g, x.d, x.a, x.b, x.k, -1) c
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (grp, kind, month, p) DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;

  WITH fresh AS (
    INSERT INTO observatory_link (grp, request_id, person_key, day, p1, p2)
    SELECT g.id, s.id, s.person_key, s.day,
           lag(s.day) OVER w, lag(s.day, 2) OVER w
    FROM (SELECT id, person_key, platform, lda_paris_day(received_at) AS day
          FROM siao_request
          WHERE person_key = ANY (keys) AND person_key IS NOT NULL
            AND age BETWEEN 18 AND 25) s
    JOIN observatory_group g ON s.platform = ANY (g.platforms)
    WINDOW w AS (PARTITION BY g.id, s.person_key ORDER BY s.day, s.id)
    RETURNING grp, day, p1, p2, person_key)
  INSERT INTO observatory_link_month AS o (grp, kind, month, p, n, ks)
  SELECT c.* FROM (SELECT array_agg(grp) g, array_agg(day) d, array_agg(p1) a,
                          array_agg(p2) b, array_agg(person_key) k FROM fresh) x,
                  lda_observatory_link_counts(x.g, x.d, x.a, x.b, x.k, 1) c
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (grp, kind, month, p) DO UPDATE SET n = o.n + excluded.n, ks = o.ks + excluded.ks;
END
$$;

-- Recomputes the three structures from siao_request in one pass and marks them current.
CREATE OR REPLACE FUNCTION lda_observatory_rebuild() RETURNS void
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  pf text;
  m date;
BEGIN
  LOCK TABLE siao_request IN SHARE MODE;   -- no write while the structures are rebuilt
  TRUNCATE observatory_cell, observatory_link, observatory_link_month;
  -- the cells, platform by platform and month by month (index on platform, received_at)
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
  CLUSTER observatory_cell USING observatory_cell_pkey;   -- the heap in the key's order
  INSERT INTO observatory_link (grp, request_id, person_key, day, p1, p2)
  SELECT g.id, s.id, s.person_key, s.day, lag(s.day) OVER w, lag(s.day, 2) OVER w
  FROM (SELECT id, person_key, platform, lda_paris_day(received_at) AS day
        FROM siao_request WHERE person_key IS NOT NULL AND age BETWEEN 18 AND 25) s
  JOIN observatory_group g ON s.platform = ANY (g.platforms)
  WINDOW w AS (PARTITION BY g.id, s.person_key ORDER BY s.day, s.id);
  INSERT INTO observatory_link_month (grp, kind, month, p, n, ks)
  SELECT grp, kind, month, p, count(*), sum(k) FROM (
    SELECT grp, 0::smallint AS kind, date_trunc('month', day)::date AS month,
           date_trunc('month', day)::date AS p, lda_person_record_key(person_key)::bigint AS k
    FROM observatory_link
    UNION ALL SELECT grp, 1, date_trunc('month', day)::date, p1,
                     lda_person_record_key(person_key) FROM observatory_link WHERE p1 IS NOT NULL
    UNION ALL SELECT grp, 2, date_trunc('month', day)::date, p2,
                     lda_person_record_key(person_key) FROM observatory_link WHERE p2 IS NOT NULL) x
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4;
  UPDATE observatory_state SET current = true;
  ANALYZE observatory_cell;
  ANALYZE observatory_link;
  ANALYZE observatory_link_month;
END
$$;
REVOKE ALL ON FUNCTION lda_observatory_rebuild() FROM PUBLIC;

-- The readers of migration 010 took any day range and applied the caller's scope; the
-- statistics now take whole months and are the same for every caller.
DROP FUNCTION lda_observatory_persons_series(date, date, text[], integer, integer, text);
DROP FUNCTION lda_observatory_persons(date, date, text[], integer, integer);
DROP FUNCTION lda_observatory_counts(date, date, text[], integer, integer);
DROP FUNCTION lda_observatory_scope(text[]);

-- The readers below run with neither JIT nor parallel workers: starting either costs more
-- than the few thousand rollup rows a question reads.

-- The first day of the unit (year, quarter, month; 'period': the whole period, from m0)
-- a month falls in.
CREATE FUNCTION lda_stats_unit(unit text, m0 date, d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE unit WHEN 'period' THEN m0 ELSE date_trunc(unit, d)::date END
$$;

-- The youth observatory's counts over the whole months [m0, m1), by unit, for the platforms
-- only_plats (NULL: every platform; disclosure control looks at the neighbouring cells of the
-- one it publishes), with their key sums:
--   dim 'all'  code ''     requests at every age
--   dim 'age'  code '19'   requests at that age, for each age in [lo, hi]
--   dim 'total' code ''    requests at an age in [lo, hi]
--   dim sex, situation, response, channel, alt, need: requests at an age in [lo, hi] by code
-- From the rollups, or from the raw rows while the rollups are not current.
CREATE FUNCTION lda_youth_counts(m0 date, m1 date, unit text, lo integer, hi integer,
                                 only_plats text[])
RETURNS TABLE (unit_start date, platform text, dim text, code text, n bigint, ks bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
  band boolean := lo = 18 AND hi = 25;
  plats text[] := coalesce(only_plats, (SELECT array_agg(p.code) FROM platform p));
  dims text[] := '{sex,situation,response,channel,alt,need}';
BEGIN
  IF NOT (SELECT current FROM observatory_state) THEN
    RETURN QUERY
    WITH c AS (
      SELECT a.month, a.platform, a.dim, a.age, a.code, a.n, a.ks
      FROM lda_observatory_aggregate(
             (SELECT array_agg(lda_observatory_source(s, 1)) FROM siao_request s
              WHERE s.received_at >= m0::timestamp AT TIME ZONE 'Europe/Paris'
                AND s.received_at < m1::timestamp AT TIME ZONE 'Europe/Paris'
                AND s.platform = ANY (plats))) a
      WHERE (a.dim = 'total' AND (a.age = -3 OR a.age BETWEEN lo AND hi))
         OR (a.dim <> 'total' AND ((band AND a.age = -2) OR (NOT band AND a.age BETWEEN lo AND hi))))
    SELECT CASE unit WHEN 'period' THEN m0 ELSE date_trunc(unit, c.month)::date END, c.platform,
           CASE WHEN c.dim = 'total' AND c.age = -3 THEN 'all'
                WHEN c.dim = 'total' THEN 'age' ELSE c.dim END,
           CASE WHEN c.dim = 'total' AND c.age >= 0 THEN c.age::text ELSE c.code END,
           sum(c.n)::bigint, sum(c.ks)::bigint
    FROM c GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT CASE unit WHEN 'period' THEN m0 ELSE date_trunc(unit, c.month)::date END, c.platform,
           'total', '', sum(c.n)::bigint, sum(c.ks)::bigint
    FROM c WHERE c.dim = 'total' AND c.age >= 0 GROUP BY 1, 2;
    RETURN;
  END IF;
  -- three index ranges of the rollups' key (platform, dim, age, month, code)
  RETURN QUERY
  SELECT CASE unit WHEN 'period' THEN m0 ELSE date_trunc(unit, o.month)::date END, o.platform,
         'all', '', sum(o.n)::bigint, sum(o.ks)::bigint
  FROM observatory_cell o
  WHERE o.platform = ANY (plats) AND o.dim = 'total' AND o.age = -3
    AND o.month >= m0 AND o.month < m1
  GROUP BY 1, 2
  UNION ALL
  SELECT x.u, x.platform, x.d, x.c, sum(x.n)::bigint, sum(x.ks)::bigint
  FROM (SELECT CASE unit WHEN 'period' THEN m0 ELSE date_trunc(unit, o.month)::date END AS u,
               o.platform, g.d, CASE g.d WHEN 'age' THEN o.age::text ELSE '' END AS c, o.n, o.ks
        FROM observatory_cell o, (VALUES ('age'), ('total')) g (d)
        WHERE o.platform = ANY (plats) AND o.dim = 'total' AND o.age BETWEEN lo AND hi
          AND o.month >= m0 AND o.month < m1) x
  GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT CASE unit WHEN 'period' THEN m0 ELSE date_trunc(unit, o.month)::date END, o.platform,
         o.dim, o.code, sum(o.n)::bigint, sum(o.ks)::bigint
  FROM observatory_cell o
  WHERE o.platform = ANY (plats) AND o.dim = ANY (dims)
    AND o.age BETWEEN (CASE WHEN band THEN -2 ELSE lo END) AND (CASE WHEN band THEN -2 ELSE hi END)
    AND o.month >= m0 AND o.month < m1
  GROUP BY 1, 2, 3, 4;
END
$$;

-- Distinct youth persons (age in [lo, hi], with a person key) and those with two requests
-- or more, over the whole months [m0, m1) by unit, and for the whole period too (a row with
-- unit_start NULL) when the unit is not the period itself, on the platforms `plats` (one
-- platform, one AMI or all: a group of observatory_group), with the sums of their person
-- record keys. From the links (18-25, rollups current: see migration 010), else from the raw
-- rows.
CREATE FUNCTION lda_youth_persons(m0 date, m1 date, unit text, plats text[], lo integer,
                                  hi integer)
RETURNS TABLE (unit_start date, persons bigint, persons_ks bigint, repeats bigint,
               repeats_ks bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
  g smallint := lda_observatory_group(plats);
BEGIN
  IF g IS NOT NULL AND lo = 18 AND hi = 25 AND (SELECT current FROM observatory_state) THEN
    -- one pass over the group's monthly links: each unit, and (unit_start NULL) the period
    RETURN QUERY
    SELECT x.u, (x.r - x.t1)::bigint, (x.r_ks - x.t1_ks)::bigint, (x.t1 - x.t2)::bigint,
           (x.t1_ks - x.t2_ks)::bigint
    FROM (SELECT l.u,
                 coalesce(sum(l.n) FILTER (WHERE l.kind = 0), 0) AS r,
                 coalesce(sum(l.ks) FILTER (WHERE l.kind = 0), 0) AS r_ks,
                 coalesce(sum(l.n) FILTER (WHERE l.kind = 1 AND l.p >= coalesce(l.u, m0)), 0) AS t1,
                 coalesce(sum(l.ks) FILTER (WHERE l.kind = 1 AND l.p >= coalesce(l.u, m0)), 0) AS t1_ks,
                 coalesce(sum(l.n) FILTER (WHERE l.kind = 2 AND l.p >= coalesce(l.u, m0)), 0) AS t2,
                 coalesce(sum(l.ks) FILTER (WHERE l.kind = 2 AND l.p >= coalesce(l.u, m0)), 0) AS t2_ks
          FROM (SELECT k.kind, k.p, k.n, k.ks, w.u
                FROM observatory_link_month k,
                     LATERAL (SELECT CASE unit WHEN 'period' THEN m0
                                     ELSE date_trunc(unit, k.month)::date END AS u
                              UNION ALL SELECT NULL::date WHERE unit <> 'period') w
                WHERE k.grp = g AND k.month >= m0 AND k.month < m1 AND (k.kind = 0 OR k.p >= m0)) l
          GROUP BY l.u) x;
    RETURN;
  END IF;
  RETURN QUERY
  SELECT y.u, count(*)::bigint, coalesce(sum(y.k), 0)::bigint,
         (count(*) FILTER (WHERE y.c >= 2))::bigint,
         coalesce(sum(y.k) FILTER (WHERE y.c >= 2), 0)::bigint
  FROM (SELECT w.u, s.person_key, count(*) AS c, lda_person_record_key(s.person_key)::bigint AS k
        FROM siao_request s,
             LATERAL (SELECT CASE unit WHEN 'period' THEN m0
                             ELSE date_trunc(unit, lda_paris_month(s.received_at))::date END AS u
                      UNION ALL SELECT NULL::date WHERE unit <> 'period') w
        WHERE s.received_at >= m0::timestamp AT TIME ZONE 'Europe/Paris'
          AND s.received_at < m1::timestamp AT TIME ZONE 'Europe/Paris'
          AND s.platform = ANY (plats) AND s.age BETWEEN lo AND hi AND s.person_key IS NOT NULL
        GROUP BY 1, 2) y
  GROUP BY 1;
END
$$;

-- ---- 3. the activity figures --------------------------------------------------------------

-- The referrals received in the whole months [m0, m1), by unit and platform (every
-- platform), with their key sums:
--   dim total ''; outcome accompanied | reoriented | no_follow_up | in_progress;
--   housed '' (a measure with housing_outcome accessed or maintained); situation (the
--   household's housing situation); referrer (the partner's kind, else referrer_kind, else
--   not_collected); measure (the referrals' measures by kind, with the measures' own keys).
-- The rows behind the activity figures, one per referral (private: the counting function
-- above and the reporting views below share this one definition).
CREATE VIEW lda_activity_referral AS
  SELECT r.id, r.received_on, date_trunc('month', r.received_on)::date AS month, r.platform, r.rk,
         CASE WHEN r.status IN ('accompanied', 'accompaniment_ended') THEN 'accompanied'
              WHEN r.status IN ('reoriented', 'no_follow_up') THEN r.status
              ELSE 'in_progress' END AS outcome,
         h.housing_situation,
         coalesce(p.kind, r.referrer_kind, 'not_collected') AS referrer,
         EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id
                 AND m.housing_outcome IN ('accessed', 'maintained')) AS housed
  FROM referral r JOIN household h ON h.id = r.household_id
  LEFT JOIN partner p ON p.id = r.partner_id;

CREATE FUNCTION lda_activity_counts(m0 date, m1 date, unit text)
RETURNS TABLE (unit_start date, platform text, dim text, code text, n bigint, ks bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public SET jit = off
  SET max_parallel_workers_per_gather = 0 AS $$
  WITH ref AS (SELECT lda_stats_unit(unit, m0, a.received_on) AS u, a.*
               FROM lda_activity_referral a WHERE a.received_on >= m0 AND a.received_on < m1)
  SELECT u, platform,
         CASE WHEN GROUPING(outcome) = 0 THEN 'outcome'
              WHEN GROUPING(housing_situation) = 0 THEN 'situation'
              WHEN GROUPING(referrer) = 0 THEN 'referrer' ELSE 'total' END,
         coalesce(outcome, housing_situation, referrer, ''), count(*), sum(rk)::bigint
  FROM ref GROUP BY u, platform, GROUPING SETS ((outcome), (housing_situation), (referrer), ())
  UNION ALL
  SELECT u, platform, 'housed', '', count(*), sum(rk)::bigint FROM ref WHERE housed GROUP BY 1, 2
  UNION ALL
  SELECT ref.u, ref.platform, 'measure', m.kind, count(*), sum(m.rk)::bigint
  FROM measure m JOIN ref ON ref.id = m.referral_id GROUP BY 1, 2, 4
$$;

-- ---- 4. the perturbation table -------------------------------------------------------------

-- For a maximum noise D (max_noise) and a count n at or above the threshold T, the row is
-- excess = min(n - T, D); the cell key (sum of the records' keys mod 2^20) falls in exactly
-- one [key_from, key_to) of the row, whose noise is added to n. Row D: noise 0 with
-- probability 0.3, +-k (k = 1..D) with probability proportional to 1 - (k-1)/(2D): mean 0,
-- variance 1.6 for D = 2. Rows below D never take a count under the threshold and keep a
-- mean of 0. Generated once by scripts/ptable.mjs; committed here, never regenerated.
CREATE TABLE disclosure_ptable (
  max_noise smallint NOT NULL CHECK (max_noise BETWEEN 1 AND 5),
  excess    smallint NOT NULL CHECK (excess BETWEEN 0 AND max_noise),
  noise     smallint NOT NULL CHECK (noise BETWEEN -excess AND max_noise),
  key_from  integer NOT NULL CHECK (key_from >= 0),
  key_to    integer NOT NULL CHECK (key_to <= 1048576 AND key_to > key_from),
  PRIMARY KEY (max_noise, excess, noise)
);
INSERT INTO disclosure_ptable (max_noise, excess, noise, key_from, key_to) VALUES
  (1, 0, 0, 0, 1048576),
  (1, 1, -1, 0, 367002),
  (1, 1, 0, 367002, 681574),
  (1, 1, 1, 681574, 1048576),
  (2, 0, 0, 0, 1048576),
  (2, 1, -1, 0, 327680),
  (2, 1, 0, 327680, 819200),
  (2, 1, 1, 819200, 950272),
  (2, 1, 2, 950272, 1048576),
  (2, 2, -2, 0, 157286),
  (2, 2, -1, 157286, 367002),
  (2, 2, 0, 367002, 681574),
  (2, 2, 1, 681574, 891290),
  (2, 2, 2, 891290, 1048576),
  (3, 0, 0, 0, 1048576),
  (3, 1, -1, 0, 285050),
  (3, 1, 0, 285050, 895871),
  (3, 1, 1, 895871, 956953),
  (3, 1, 2, 956953, 1007855),
  (3, 1, 3, 1007855, 1048576),
  (3, 2, -2, 0, 161675),
  (3, 2, -1, 161675, 355684),
  (3, 2, 0, 355684, 771419),
  (3, 2, 1, 771419, 882282),
  (3, 2, 2, 882282, 974668),
  (3, 2, 3, 974668, 1048576),
  (3, 3, -3, 0, 97867),
  (3, 3, -2, 97867, 220201),
  (3, 3, -1, 220201, 367002),
  (3, 3, 0, 367002, 681574),
  (3, 3, 1, 681574, 828375),
  (3, 3, 2, 828375, 950709),
  (3, 3, 3, 950709, 1048576),
  (4, 0, 0, 0, 1048576),
  (4, 1, -1, 0, 248534),
  (4, 1, 0, 248534, 940878),
  (4, 1, 1, 940878, 974016),
  (4, 1, 2, 974016, 1003011),
  (4, 1, 3, 1003011, 1027865),
  (4, 1, 4, 1027865, 1048576),
  (4, 2, -2, 0, 156774),
  (4, 2, -1, 156774, 335945),
  (4, 2, 0, 335945, 835064),
  (4, 2, 1, 835064, 900760),
  (4, 2, 2, 900760, 958244),
  (4, 2, 3, 958244, 1007516),
  (4, 2, 4, 1007516, 1048576),
  (4, 3, -3, 0, 103787),
  (4, 3, -2, 103787, 224871),
  (4, 3, -1, 224871, 363254),
  (4, 3, 0, 363254, 748748),
  (4, 3, 1, 748748, 841002),
  (4, 3, 2, 841002, 921725),
  (4, 3, 3, 921725, 990917),
  (4, 3, 4, 990917, 1048576),
  (4, 4, -4, 0, 70577),
  (4, 4, -3, 70577, 155270),
  (4, 4, -2, 155270, 254078),
  (4, 4, -1, 254078, 367002),
  (4, 4, 0, 367002, 681574),
  (4, 4, 1, 681574, 794498),
  (4, 4, 2, 794498, 893306),
  (4, 4, 3, 893306, 977999),
  (4, 4, 4, 977999, 1048576),
  (5, 0, 0, 0, 1048576),
  (5, 1, -1, 0, 218809),
  (5, 1, 0, 218809, 969009),
  (5, 1, 1, 969009, 988901),
  (5, 1, 2, 988901, 1006803),
  (5, 1, 3, 1006803, 1022717),
  (5, 1, 4, 1022717, 1036641),
  (5, 1, 5, 1036641, 1048576),
  (5, 2, -2, 0, 148693),
  (5, 2, -1, 148693, 313908),
  (5, 2, 0, 313908, 880358),
  (5, 2, 1, 880358, 922412),
  (5, 2, 2, 922412, 960261),
  (5, 2, 3, 960261, 993905),
  (5, 2, 4, 993905, 1023343),
  (5, 2, 5, 1023343, 1048576),
  (5, 3, -3, 0, 104603),
  (5, 3, -2, 104603, 222281),
  (5, 3, -1, 222281, 353035),
  (5, 3, 0, 353035, 801333),
  (5, 3, 1, 801333, 863144),
  (5, 3, 2, 863144, 918773),
  (5, 3, 3, 918773, 968222),
  (5, 3, 4, 968222, 1011490),
  (5, 3, 5, 1011490, 1048576),
  (5, 4, -4, 0, 75378),
  (5, 4, -3, 75378, 161524),
  (5, 4, -2, 161524, 258438),
  (5, 4, -1, 258438, 366121),
  (5, 4, 0, 366121, 735318),
  (5, 4, 1, 735318, 813632),
  (5, 4, 2, 813632, 884115),
  (5, 4, 3, 884115, 946767),
  (5, 4, 4, 946767, 1001587),
  (5, 4, 5, 1001587, 1048576),
  (5, 5, -5, 0, 55050),
  (5, 5, -4, 55050, 119276),
  (5, 5, -3, 119276, 192676),
  (5, 5, -2, 192676, 275251),
  (5, 5, -1, 275251, 367002),
  (5, 5, 0, 367002, 681574),
  (5, 5, 1, 681574, 773325),
  (5, 5, 2, 773325, 855900),
  (5, 5, 3, 855900, 929300),
  (5, 5, 4, 929300, 993526),
  (5, 5, 5, 993526, 1048576);

-- The threshold and the maximum noise in force: `lda-api serve` writes its configuration
-- here (LDA_STATS_MIN_CELL, LDA_STATS_MAX_NOISE) at start-up, so that the reporting views
-- protect exactly as the API does.
CREATE TABLE disclosure_setting (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  threshold integer NOT NULL DEFAULT 11 CHECK (threshold BETWEEN 1 AND 1000),
  max_noise smallint NOT NULL DEFAULT 2 CHECK (max_noise BETWEEN 1 AND 5)
);
INSERT INTO disclosure_setting DEFAULT VALUES;
GRANT SELECT ON disclosure_ptable TO lda_app, lda_bi;
GRANT SELECT ON disclosure_setting TO lda_app, lda_bi;
GRANT UPDATE ON disclosure_setting TO lda_app;

-- ---- 5. what BI tools read ----------------------------------------------------------------

-- Every monthly count by platform (private), with its key sum. Youth: the SIAO requests of
-- 18 to 25 year olds (dimension youth_requests, and by sex, situation, response, channel,
-- alt, need, age), and requests_total at every age. Activity: the referrals received
-- (dimension referrals_received, outcome, housed, situation, referrer) and their measures.
CREATE VIEW lda_monthly_count AS
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
  FROM measure m JOIN lda_activity_referral a ON a.id = m.referral_id GROUP BY 2, 3, 5;

-- A published count: 0 stays 0; 1 to threshold-1 is hidden (NULL); otherwise the count plus
-- the noise of its row and cell key in the perturbation table.
CREATE FUNCTION lda_cell_key_noise(n bigint, ks bigint, threshold integer, max_noise smallint)
RETURNS smallint
LANGUAGE sql STABLE AS $$
  SELECT t.noise FROM disclosure_ptable t
  WHERE t.max_noise = lda_cell_key_noise.max_noise
    AND t.excess = least(n - threshold, lda_cell_key_noise.max_noise)
    AND ks % 1048576 >= t.key_from AND ks % 1048576 < t.key_to
$$;

-- The monthly counts of every scope (each platform, each AMI, all) with their disclosure
-- status, by the rules of the API for a one-month query (private):
--   primary: a count from 1 to threshold-1 is hidden;
--   secondary: among the platforms of an AMI, and among the two AMIs, when exactly one
--   count is hidden, the smallest non-zero count of the others is hidden too (ties: the
--   first code); then the same among the codes of a dimension that splits its total
--   (every dimension but need), so that no hidden count is a difference of published ones.
CREATE VIEW lda_monthly_protected AS
  WITH scoped AS (
    SELECT c.source, c.month, c.dimension, c.code,
           CASE WHEN GROUPING(c.platform) = 0 THEN c.platform
                WHEN GROUPING(p.ami) = 0 THEN 'ami' || p.ami ELSE 'all' END AS scope,
           CASE WHEN GROUPING(c.platform) = 0 THEN 0 WHEN GROUPING(p.ami) = 0 THEN 1
                ELSE 2 END AS level,
           CASE WHEN GROUPING(c.platform) = 0 THEN p.ami END AS family,
           sum(c.n)::bigint AS n, sum(c.ks)::bigint AS ks
    FROM lda_monthly_count c JOIN platform p ON p.code = c.platform
    GROUP BY c.source, c.month, c.dimension, c.code,
             GROUPING SETS ((p.ami, c.platform), (p.ami), ())),
  prim AS (
    SELECT s.*, st.threshold, st.max_noise, s.n > 0 AND s.n < st.threshold AS small
    FROM scoped s, disclosure_setting st),
  fam AS (
    SELECT p.*,
           count(*) FILTER (WHERE p.small) OVER w AS nsmall,
           row_number() OVER (PARTITION BY p.source, p.month, p.dimension, p.code, p.level,
                                           p.family
                              ORDER BY p.small OR p.n = 0, p.n, p.scope COLLATE "C") AS rank
    FROM prim p
    WINDOW w AS (PARTITION BY p.source, p.month, p.dimension, p.code, p.level, p.family)),
  st AS (
    SELECT f.*, f.small OR (f.level < 2 AND f.nsmall = 1 AND NOT f.small AND f.n > 0
                            AND f.rank = 1) AS tree_hidden
    FROM fam f),
  bd AS (   -- then among the codes of a dimension that splits its total (not need)
    SELECT st.*,
           count(*) FILTER (WHERE st.tree_hidden) OVER b AS nhidden,
           row_number() OVER (PARTITION BY st.source, st.month, st.dimension, st.scope
                              ORDER BY st.tree_hidden OR st.n = 0, st.n, st.code COLLATE "C")
             AS brank
    FROM st
    WINDOW b AS (PARTITION BY st.source, st.month, st.dimension, st.scope)),
  hid AS (
    SELECT bd.*, bd.tree_hidden OR (bd.dimension <> 'need' AND bd.nhidden = 1
                                    AND NOT bd.tree_hidden AND bd.n > 0 AND bd.brank = 1)
             AS hidden
    FROM bd)
  SELECT hid.source, hid.month, hid.scope, hid.dimension, hid.code,
         CASE WHEN hid.hidden THEN NULL WHEN hid.n = 0 THEN 0
              ELSE hid.n + lda_cell_key_noise(hid.n, hid.ks, hid.threshold, hid.max_noise)
         END AS count,
         CASE WHEN hid.hidden THEN 'A' ELSE 'P' END AS status
  FROM hid;

CREATE VIEW reporting.youth_monthly AS
  SELECT month, scope, dimension, code, count, status FROM lda_monthly_protected
  WHERE source = 'youth';
COMMENT ON VIEW reporting.youth_monthly IS
  'The youth observatory by month (first day, Europe/Paris), scope (a platform code, ami1, ami2 or all), dimension and code, as GET /v1/observatory/youth?from=<month>&to=<end of month> publishes it: youth_requests (18 to 25 year olds), requests_total (every age), by sex, situation, response, channel, alt (alternatives_known), need, age. count is perturbed by the cell-key method (within max_noise of the truth) and NULL when hidden (status A). A missing row is a zero. Months do not add up to years exactly: read yearly figures from official_yearly or the API.';

CREATE VIEW reporting.activity_monthly AS
  SELECT month, scope, dimension, code, count, status FROM lda_monthly_protected
  WHERE source = 'activity';
COMMENT ON VIEW reporting.activity_monthly IS
  'The activity figures by month of reception (first day), scope (a platform code, ami1, ami2 or all), dimension and code, as GET /v1/stats/activity publishes them for one month: referrals_received, outcome (accompanied, reoriented, no_follow_up, in_progress), housed (housed_or_maintained), situation, referrer, measure (measures by kind). Perturbed by the cell-key method; NULL when hidden (status A); a missing row is a zero.';

-- Youth persons (distinct person keys of 18-25 year olds) and repeat persons by month and
-- scope, protected with the persons' record keys.
CREATE VIEW reporting.youth_persons_monthly AS
  WITH m AS (
    SELECT l.month, g.platforms,
           sum(l.n) FILTER (WHERE l.kind = 0) - coalesce(sum(l.n) FILTER (WHERE l.kind = 1), 0)
             AS persons,
           sum(l.ks) FILTER (WHERE l.kind = 0) - coalesce(sum(l.ks) FILTER (WHERE l.kind = 1), 0)
             AS persons_ks,
           coalesce(sum(l.n) FILTER (WHERE l.kind = 1), 0) - coalesce(sum(l.n) FILTER (WHERE l.kind = 2), 0)
             AS repeats,
           coalesce(sum(l.ks) FILTER (WHERE l.kind = 1), 0) - coalesce(sum(l.ks) FILTER (WHERE l.kind = 2), 0)
             AS repeats_ks
    FROM observatory_link_month l JOIN observatory_group g ON g.id = l.grp
    WHERE l.kind = 0 OR l.p >= l.month
    GROUP BY 1, 2),
  named AS (
    SELECT m.*, CASE WHEN cardinality(m.platforms) = 1 THEN m.platforms[1]
                     WHEN m.platforms = (SELECT array_agg(code ORDER BY code COLLATE "C") FROM platform)
                       THEN 'all'
                     ELSE 'ami' || (SELECT min(p.ami) FROM platform p WHERE p.code = m.platforms[1])
                END AS scope
    FROM m),
  fig AS (
    SELECT n.month, n.scope, 'youth_persons' AS figure, n.persons::bigint AS n,
           n.persons_ks::bigint AS ks FROM named n
    UNION ALL
    SELECT n.month, n.scope, 'repeat_persons', n.repeats::bigint, n.repeats_ks::bigint
    FROM named n)
  SELECT f.month, f.scope, f.figure,
         CASE WHEN f.n > 0 AND f.n < s.threshold THEN NULL WHEN f.n = 0 THEN 0
              ELSE f.n + lda_cell_key_noise(f.n, f.ks, s.threshold, s.max_noise) END AS count,
         CASE WHEN f.n > 0 AND f.n < s.threshold THEN 'A' ELSE 'P' END AS status
  FROM fig f, disclosure_setting s;
COMMENT ON VIEW reporting.youth_persons_monthly IS
  'Distinct young persons (18 to 25, with a person key) who asked in the month, and those who asked twice or more, by scope; perturbed by the cell-key method with one key per person; NULL when hidden (status A).';

-- The official yearly figures, exact, by year and scope (all, ami1, ami2), with the rules
-- of the API: a figure from 1 to threshold-1 is hidden; an AMI's figure is hidden when
-- either AMI's is (they add up to the whole); youth_requests is hidden when the requests of
-- the other ages are few; among the four outcomes (which add up to referrals_received),
-- when exactly one is hidden the smallest other non-zero one is hidden too, the AMIs hiding
-- at least what the whole hides; housed_or_maintained is hidden with accompanied.
CREATE VIEW lda_official_year AS
  WITH y AS (
    SELECT date_trunc('year', c.month)::date AS year, p.ami, c.source, c.dimension, c.code,
           sum(c.n)::bigint AS n
    FROM lda_monthly_count c JOIN platform p ON p.code = c.platform
    WHERE c.dimension IN ('referrals_received', 'outcome', 'housed', 'requests_total',
                          'youth_requests')
    GROUP BY 1, 2, 3, 4, 5),
  w AS (
    SELECT yr.year,
      coalesce(sum(n) FILTER (WHERE dimension = 'referrals_received' AND ami = 1), 0) AS rr1,
      coalesce(sum(n) FILTER (WHERE dimension = 'referrals_received' AND ami = 2), 0) AS rr2,
      coalesce(sum(n) FILTER (WHERE code = 'accompanied' AND ami = 1), 0) AS ac1,
      coalesce(sum(n) FILTER (WHERE code = 'accompanied' AND ami = 2), 0) AS ac2,
      coalesce(sum(n) FILTER (WHERE code = 'reoriented' AND ami = 1), 0) AS re1,
      coalesce(sum(n) FILTER (WHERE code = 'reoriented' AND ami = 2), 0) AS re2,
      coalesce(sum(n) FILTER (WHERE code = 'no_follow_up' AND ami = 1), 0) AS nf1,
      coalesce(sum(n) FILTER (WHERE code = 'no_follow_up' AND ami = 2), 0) AS nf2,
      coalesce(sum(n) FILTER (WHERE code = 'in_progress' AND ami = 1), 0) AS ip1,
      coalesce(sum(n) FILTER (WHERE code = 'in_progress' AND ami = 2), 0) AS ip2,
      coalesce(sum(n) FILTER (WHERE dimension = 'housed' AND ami = 1), 0) AS ho1,
      coalesce(sum(n) FILTER (WHERE dimension = 'housed' AND ami = 2), 0) AS ho2,
      coalesce(sum(n) FILTER (WHERE dimension = 'requests_total' AND ami = 1), 0) AS rt1,
      coalesce(sum(n) FILTER (WHERE dimension = 'requests_total' AND ami = 2), 0) AS rt2,
      coalesce(sum(n) FILTER (WHERE dimension = 'youth_requests' AND ami = 1), 0) AS yr1,
      coalesce(sum(n) FILTER (WHERE dimension = 'youth_requests' AND ami = 2), 0) AS yr2
    FROM (SELECT DISTINCT year FROM y) yr LEFT JOIN y ON y.year = yr.year
    GROUP BY yr.year),
  parts AS (   -- the four outcomes, by scope level, with their primary flags
    SELECT w.year, o.code, o.v1, o.v2, o.v1 + o.v2 AS va, st.threshold
    FROM w, disclosure_setting st,
         LATERAL (VALUES ('accompanied', w.ac1, w.ac2), ('reoriented', w.re1, w.re2),
                         ('no_follow_up', w.nf1, w.nf2), ('in_progress', w.ip1, w.ip2))
           o (code, v1, v2)),
  flag_all AS (
    SELECT p.*, p.va > 0 AND p.va < p.threshold AS prim_all,
           (p.v1 > 0 AND p.v1 < p.threshold) OR (p.v2 > 0 AND p.v2 < p.threshold)
             OR (p.va > 0 AND p.va < p.threshold) AS prim_ami
    FROM parts p),
  sec_all AS (
    SELECT f.*, f.prim_all OR (
             (count(*) FILTER (WHERE f.prim_all) OVER (PARTITION BY f.year)) = 1
             AND NOT f.prim_all AND f.va > 0
             AND f.code = (SELECT g.code FROM flag_all g WHERE g.year = f.year AND NOT g.prim_all
                           AND g.va > 0 ORDER BY g.va, g.code COLLATE "C" LIMIT 1)) AS hid_all
    FROM flag_all f),
  sec_ami AS (
    SELECT s.*, (s.hid_all OR s.prim_ami) AS base_ami FROM sec_all s),
  hid AS (
    SELECT s.year, s.code, s.v1, s.v2, s.va, s.threshold, s.hid_all,
           s.base_ami OR (
             (count(*) FILTER (WHERE s.base_ami) OVER (PARTITION BY s.year)) = 1
             AND NOT s.base_ami AND s.va > 0
             AND s.code = (SELECT g.code FROM sec_ami g WHERE g.year = s.year AND NOT g.base_ami
                           AND g.va > 0 ORDER BY g.va, g.code COLLATE "C" LIMIT 1)) AS hid_ami
    FROM sec_ami s),
  small AS (SELECT st.threshold AS t FROM disclosure_setting st),
  figs AS (
    SELECT w.year, 'referrals_received' AS figure, w.rr1 AS v1, w.rr2 AS v2,
           false AS extra_all, false AS extra_ami FROM w
    UNION ALL
    SELECT h.year, h.code, h.v1, h.v2, h.hid_all, h.hid_ami FROM hid h
    UNION ALL
    SELECT w.year, 'housed_or_maintained', w.ho1, w.ho2, h.hid_all, h.hid_ami
    FROM w JOIN hid h ON h.year = w.year AND h.code = 'accompanied'
    UNION ALL
    SELECT w.year, 'requests_total', w.rt1, w.rt2, false, false FROM w
    UNION ALL
    SELECT w.year, 'youth_requests', w.yr1, w.yr2,
           (w.rt1 + w.rt2 - w.yr1 - w.yr2) > 0 AND (w.rt1 + w.rt2 - w.yr1 - w.yr2) < s.t,
           ((w.rt1 - w.yr1) > 0 AND (w.rt1 - w.yr1) < s.t)
             OR ((w.rt2 - w.yr2) > 0 AND (w.rt2 - w.yr2) < s.t)
             OR ((w.rt1 + w.rt2 - w.yr1 - w.yr2) > 0 AND (w.rt1 + w.rt2 - w.yr1 - w.yr2) < s.t)
    FROM w, small s)
  SELECT f.year, sc.scope, f.figure,
         CASE sc.scope WHEN 'all' THEN f.v1 + f.v2 WHEN 'ami1' THEN f.v1 ELSE f.v2 END AS value,
         CASE WHEN sc.scope = 'all'
              THEN f.extra_all OR (f.v1 + f.v2 > 0 AND f.v1 + f.v2 < s.t)
              ELSE f.extra_ami OR (f.v1 > 0 AND f.v1 < s.t) OR (f.v2 > 0 AND f.v2 < s.t)
                   OR (f.v1 + f.v2 > 0 AND f.v1 + f.v2 < s.t) END AS hidden
  FROM figs f, small s, (VALUES ('all'), ('ami1'), ('ami2')) sc (scope);

CREATE VIEW reporting.official_yearly AS
  SELECT extract(year FROM year)::integer AS year, scope, figure,
         CASE WHEN hidden THEN NULL ELSE value END AS value,
         CASE WHEN hidden THEN 'A' ELSE 'E' END AS status
  FROM lda_official_year;
COMMENT ON VIEW reporting.official_yearly IS
  'The official figures of the activity report and the youth observatory by calendar year and scope (all, ami1, ami2): referrals_received, accompanied, housed_or_maintained, reoriented, no_follow_up, in_progress, requests_total, youth_requests (18 to 25). Exact (status E), or NULL when hidden (status A). A range of years is the sum of its years when none is hidden, as GET /v1/stats/activity and GET /v1/observatory/youth publish it.';

-- The row-level views of migration 008 gave every platform's rows to lda_bi: gone. The
-- same information, pseudonymised, is for lda_research (below).
DROP VIEW reporting.referrals;
DROP VIEW reporting.measures;
DROP VIEW reporting.siao_requests;
REVOKE ALL ON ALL TABLES IN SCHEMA reporting FROM lda_bi;
GRANT SELECT ON reporting.platforms, reporting.funding, reporting.youth_monthly,
  reporting.activity_monthly, reporting.youth_persons_monthly, reporting.official_yearly
  TO lda_bi;
COMMENT ON SCHEMA reporting IS
  'Protected aggregates of the Logement d''abord data for BI tools (role lda_bi): the same figures as the statistics endpoints of the API. No row about one request, referral, household or person.';

-- lda_research: pseudonymised row-level extracts for research under a data-sharing
-- agreement. No login: an operator grants it to a named login role
-- (GRANT lda_research TO alice). Months instead of dates, no identifier, no person key,
-- no name, no free text.
DO $$
BEGIN
  BEGIN
    CREATE ROLE lda_research NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END
$$;
CREATE SCHEMA research;
COMMENT ON SCHEMA research IS
  'Pseudonymised row-level extracts for research (role lda_research, granted by an operator under a data-sharing agreement): months instead of dates, no identifier, no person key, no name, no free text.';
CREATE VIEW research.siao_requests AS
  SELECT lda_paris_month(received_at) AS received_month, platform, channel, age, sex,
         composition, situation, resources, needs, response, alternatives_known
  FROM siao_request;
CREATE VIEW research.referrals AS
  SELECT a.month AS received_month, a.platform, pf.ami, r.status, a.outcome, a.housed,
         a.housing_situation, a.referrer AS referrer_kind, r.has_social_note, r.reasons,
         h.composition, h.adults, h.children, h.head_sex,
         lda_age_band(h.head_birth_date, r.received_on) AS head_age_band_at_referral,
         h.resources, h.vulnerabilities,
         (SELECT jsonb_object_agg(k, to_char(date_trunc('month', v::date), 'YYYY-MM'))
          FROM jsonb_each_text(r.status_dates) s (k, v)) AS status_months,
         (SELECT count(*) FROM measure m WHERE m.referral_id = r.id) AS measures
  FROM lda_activity_referral a JOIN referral r ON r.id = a.id
  JOIN household h ON h.id = r.household_id JOIN platform pf ON pf.code = r.platform;
CREATE VIEW research.measures AS
  SELECT r.platform, m.kind, date_trunc('month', m.started_on)::date AS started_month,
         date_trunc('month', m.ended_on)::date AS ended_month, m.end_reason, m.housing_outcome,
         m.housing_type, date_trunc('month', m.housing_on)::date AS housing_month,
         date_trunc('month', r.received_on)::date AS referral_received_month
  FROM measure m JOIN referral r ON r.id = m.referral_id;
GRANT USAGE ON SCHEMA research TO lda_research;
GRANT SELECT ON ALL TABLES IN SCHEMA research TO lda_research;

-- ---- 6. functions that run with their owner's rights: the service's role only --------------

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

-- ---- 7. erasure redacts the notes of the household's referral events -----------------------
GRANT UPDATE (note) ON referral_event TO lda_app;

-- The rollups with their key sums.
SELECT lda_observatory_rebuild();
