-- The youth observatory, fast as the data grows (issue 6), and exact at every moment.
--
-- GET /v1/observatory/youth and its series answer from three structures kept current by
-- statement-level triggers on siao_request, in the transaction of the write (a batch, a
-- demo load): a figure read right after a commit already counts every row of it.
--
--   observatory_cell    counts by (platform, dimension, age, month, code): requests, sex,
--                       situation, response, channel, alternatives_known, need (a request
--                       counts once in each need); by age, and by two bands of ages.
--                       A period made of whole months reads these rows only; the days of
--                       a partial month at either end of a period are read from
--                       siao_request itself (index on platform, received_at).
--   observatory_link    for the distinct persons: one row per youth request (age 18-25,
--                       with a person key) and per *group* of platforms it belongs to (all
--                       platforms, its platform, its AMI), with the day of the person's
--                       previous (p1) and second previous (p2) youth request in that group.
--   observatory_link_month   those rows counted by (group, month of the request, p1 / p2).
--
-- Why the links give exact distinct counts: in a period [a, b], a person with k >= 1 youth
-- requests has exactly k - 1 of them whose previous request is also in the period (p1 >= a)
-- and, if k >= 2, exactly k - 2 whose second previous is (p2 >= a). So, with R the youth
-- requests with a person key in the period, T1 = #{p1 >= a}, T2 = #{p2 >= a}:
--   youth_persons  = R - T1          repeat_persons = T1 - T2
-- and each term is a sum over whole months plus a count over the edge days: the cost of a
-- query is bounded by the number of months and days, not of requests.
--
-- Other age ranges (age_min/age_max) and platform sets that are not a group fall back to
-- counting distinct keys over the raw rows. So does everything while observatory_state says
-- the structures are not current (seed-demo loads millions of rows with maintenance off,
-- then rebuilds them in one pass: lda_observatory_rebuild()). The integration property test
-- compares every figure with plain SQL over the raw rows, also right after a batch.

CREATE TABLE observatory_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  current   boolean NOT NULL       -- false: the structures below are not to be read
);
INSERT INTO observatory_state VALUES (true, true);

-- Groups of platforms whose distinct persons are kept: all, each platform, each AMI.
CREATE TABLE observatory_group (
  id        smallint PRIMARY KEY,
  platforms text[] NOT NULL UNIQUE   -- sorted (COLLATE "C")
);
INSERT INTO observatory_group (id, platforms)
SELECT row_number() OVER (ORDER BY kind, platforms)::smallint, platforms FROM (
  SELECT 0 AS kind, array_agg(code ORDER BY code COLLATE "C") AS platforms FROM platform
  UNION
  SELECT 1, ARRAY[code] FROM platform
  UNION
  SELECT 2, array_agg(code ORDER BY code COLLATE "C") FROM platform GROUP BY ami
) g;

CREATE TABLE observatory_cell (
  platform text NOT NULL,
  dim      text NOT NULL,            -- total, sex, situation, response, channel, alt, need
  age      smallint NOT NULL,        -- the age; -1: not known; two bands, so that the
                                     -- usual queries read few rows: -2: 18 to 25, for every
                                     -- dim but total; -3: every age, for total
  month    date NOT NULL,            -- first day of the month, Europe/Paris
  code     text NOT NULL,            -- '' for total; not_collected for NULL / no need
  n        bigint NOT NULL,
  PRIMARY KEY (platform, dim, age, month, code)
) WITH (fillfactor = 80);            -- room for in-page (HOT) updates of the counts

CREATE TABLE observatory_link (
  grp        smallint NOT NULL,
  request_id uuid NOT NULL,
  person_key text NOT NULL,
  day        date NOT NULL,          -- received_at's date, Europe/Paris
  p1         date,                   -- the person's previous youth request in the group
  p2         date,                   -- the one before
  PRIMARY KEY (grp, request_id)
);
CREATE INDEX observatory_link_person ON observatory_link (person_key);
CREATE INDEX observatory_link_day ON observatory_link (grp, day) INCLUDE (p1, p2);

CREATE TABLE observatory_link_month (
  grp   smallint NOT NULL,
  kind  smallint NOT NULL,           -- 0: requests (p = month), 1: by p1, 2: by p2
  month date NOT NULL,
  p     date NOT NULL,
  n     bigint NOT NULL,
  PRIMARY KEY (grp, kind, month, p)
) WITH (fillfactor = 80);

-- The chains of a person are recomputed from siao_request: find its youth requests fast.
CREATE INDEX siao_request_youth_person ON siao_request (person_key)
  WHERE person_key IS NOT NULL AND age BETWEEN 18 AND 25;

CREATE FUNCTION lda_paris_day(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (t AT TIME ZONE 'Europe/Paris')::date $$;
CREATE FUNCTION lda_paris_month(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_trunc('month', t AT TIME ZONE 'Europe/Paris')::date $$;

-- The cells of requests: each request counts once in each dimension at its age, and again
-- in its band (-3: total at every age; -2: the other dimensions at 18 to 25); a request
-- counts once in each of its needs (not_collected when it has none). One hash aggregate
-- with grouping sets per call. `sign`: +1 for a request added, -1 for one removed.
CREATE TYPE observatory_source AS (
  platform text, month date, age smallint, band smallint, sex text, situation text,
  response text, channel text, alt text, needs text[], sign integer);

CREATE FUNCTION lda_observatory_source(s siao_request, sign integer) RETURNS observatory_source
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ROW(s.platform, lda_paris_month(s.received_at), coalesce(s.age, -1),
             CASE WHEN s.age BETWEEN 18 AND 25 THEN -2 END,
             coalesce(s.sex, 'not_collected'), coalesce(s.situation, 'not_collected'),
             coalesce(s.response, 'not_collected'), s.channel,
             coalesce(s.alternatives_known::text, 'not_collected'),
             CASE WHEN cardinality(s.needs) = 0 THEN ARRAY[NULL::text] ELSE s.needs END,
             sign)::observatory_source
$$;

CREATE FUNCTION lda_observatory_aggregate(src observatory_source[])
RETURNS TABLE (platform text, dim text, age smallint, month date, code text, n bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT g.platform, g.dim, g.age, g.month, g.code, g.n FROM (
    SELECT r.platform, r.month,
           CASE WHEN GROUPING(r.sex) = 0 THEN 'sex' WHEN GROUPING(r.situation) = 0 THEN 'situation'
                WHEN GROUPING(r.response) = 0 THEN 'response'
                WHEN GROUPING(r.channel) = 0 THEN 'channel'
                WHEN GROUPING(r.alt) = 0 THEN 'alt' ELSE 'total' END AS dim,
           CASE WHEN GROUPING(r.age) = 0 THEN r.age WHEN GROUPING(r.band) = 0 THEN r.band
                ELSE -3::smallint END AS age,
           coalesce(r.sex, r.situation, r.response, r.channel, r.alt, '') AS code,
           sum(r.sign) AS n,
           GROUPING(r.band) = 0 AND r.band IS NULL AS outside
    FROM unnest(src) r
    GROUP BY r.platform, r.month, GROUPING SETS ((r.age, r.sex), (r.band, r.sex),
      (r.age, r.situation), (r.band, r.situation), (r.age, r.response), (r.band, r.response),
      (r.age, r.channel), (r.band, r.channel), (r.age, r.alt), (r.band, r.alt), (r.age), ())
  ) g WHERE NOT g.outside
  UNION ALL
  SELECT g.platform, 'need', g.age, g.month, g.code, g.n FROM (
    SELECT r.platform, r.month,
           CASE WHEN GROUPING(r.age) = 0 THEN r.age ELSE r.band END AS age,
           coalesce(nd, 'not_collected') AS code, sum(r.sign) AS n,
           GROUPING(r.band) = 0 AND r.band IS NULL AS outside
    FROM unnest(src) r, unnest(r.needs) nd
    GROUP BY r.platform, r.month, nd, GROUPING SETS ((r.age), (r.band))
  ) g WHERE NOT g.outside
$$;

-- Applies the rows a statement added (ins) and removed (del) to the three structures.
-- Runs as the owner: a caller scoped to some platforms still keeps every group exact.
CREATE FUNCTION lda_observe(ins siao_request[], del siao_request[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  keys text[];
BEGIN
  IF NOT (SELECT current FROM observatory_state) THEN
    RETURN;
  END IF;

  INSERT INTO observatory_cell AS o (platform, dim, age, month, code, n)
  SELECT c.platform, c.dim, c.age, c.month, c.code, sum(c.n)
  FROM lda_observatory_aggregate(
         (SELECT array_agg(lda_observatory_source(r, 1)) FROM unnest(ins) r)
         || (SELECT array_agg(lda_observatory_source(r, -1)) FROM unnest(del) r)) c
  GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.n) <> 0
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (platform, dim, age, month, code) DO UPDATE SET n = o.n + excluded.n;

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
                RETURNING grp, day, p1, p2)
  INSERT INTO observatory_link_month AS o (grp, kind, month, p, n)
  SELECT grp, kind, month, p, -count(*) FROM (
    SELECT grp, 0 AS kind, date_trunc('month', day)::date AS month,
           date_trunc('month', day)::date AS p FROM gone
    UNION ALL SELECT grp, 1, date_trunc('month', day)::date, p1 FROM gone WHERE p1 IS NOT NULL
    UNION ALL SELECT grp, 2, date_trunc('month', day)::date, p2 FROM gone WHERE p2 IS NOT NULL) x
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (grp, kind, month, p) DO UPDATE SET n = o.n + excluded.n;

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
    RETURNING grp, day, p1, p2)
  INSERT INTO observatory_link_month AS o (grp, kind, month, p, n)
  SELECT grp, kind, month, p, count(*) FROM (
    SELECT grp, 0 AS kind, date_trunc('month', day)::date AS month,
           date_trunc('month', day)::date AS p FROM fresh
    UNION ALL SELECT grp, 1, date_trunc('month', day)::date, p1 FROM fresh WHERE p1 IS NOT NULL
    UNION ALL SELECT grp, 2, date_trunc('month', day)::date, p2 FROM fresh WHERE p2 IS NOT NULL) x
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (grp, kind, month, p) DO UPDATE SET n = o.n + excluded.n;
END
$$;

CREATE FUNCTION lda_observe_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT current FROM observatory_state) THEN
    PERFORM lda_observe((SELECT array_agg(n::siao_request) FROM new_rows n), '{}');
  END IF;
  RETURN NULL;
END
$$;
CREATE FUNCTION lda_observe_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT current FROM observatory_state) THEN
    PERFORM lda_observe((SELECT array_agg(n::siao_request) FROM new_rows n),
                        (SELECT array_agg(o::siao_request) FROM old_rows o));
  END IF;
  RETURN NULL;
END
$$;
CREATE FUNCTION lda_observe_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT current FROM observatory_state) THEN
    PERFORM lda_observe('{}', (SELECT array_agg(o::siao_request) FROM old_rows o));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER siao_request_observe_insert AFTER INSERT ON siao_request
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_observe_insert();
CREATE TRIGGER siao_request_observe_update AFTER UPDATE ON siao_request
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_observe_update();
CREATE TRIGGER siao_request_observe_delete AFTER DELETE ON siao_request
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_observe_delete();
-- TRUNCATE (tests, operators) empties the structures too.
CREATE FUNCTION lda_observe_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  TRUNCATE observatory_cell, observatory_link, observatory_link_month;
  RETURN NULL;
END
$$;
CREATE TRIGGER siao_request_observe_truncate AFTER TRUNCATE ON siao_request
  FOR EACH STATEMENT EXECUTE FUNCTION lda_observe_truncate();

-- Recomputes the three structures from siao_request in one pass and marks them current.
-- For the owner (seed-demo, `lda-api migrate` after an interrupted load, operators).
CREATE FUNCTION lda_observatory_rebuild() RETURNS void
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
    INSERT INTO observatory_cell (platform, dim, age, month, code, n)
    SELECT c.platform, c.dim, c.age, c.month, c.code, c.n
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
  INSERT INTO observatory_link_month (grp, kind, month, p, n)
  SELECT grp, kind, month, p, count(*) FROM (
    SELECT grp, 0 AS kind, date_trunc('month', day)::date AS month,
           date_trunc('month', day)::date AS p FROM observatory_link
    UNION ALL SELECT grp, 1, date_trunc('month', day)::date, p1 FROM observatory_link
              WHERE p1 IS NOT NULL
    UNION ALL SELECT grp, 2, date_trunc('month', day)::date, p2 FROM observatory_link
              WHERE p2 IS NOT NULL) x
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4;
  UPDATE observatory_state SET current = true;
  ANALYZE observatory_cell;
  ANALYZE observatory_link;
  ANALYZE observatory_link_month;
END
$$;
REVOKE ALL ON FUNCTION lda_observatory_rebuild() FROM PUBLIC;

-- ---- reading (as the service: row-level security applies) ------------------------------

-- The reading functions below run as the owner, for speed (row-level security evaluated
-- per row of the rollups costs more than the query): they apply the caller's scope
-- themselves, as the policies of siao_request would: the platforms asked (NULL: all) that
-- are in the scope set on the connection (lda.scope, see migration 009).
CREATE FUNCTION lda_observatory_scope(plats text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(pf.code), '{}') FROM platform pf
  WHERE (plats IS NULL OR pf.code = ANY (plats)) AND lda_in_scope(pf.code)
$$;

-- The group of a platform set (NULL: all platforms), or NULL when it is not one.
CREATE FUNCTION lda_observatory_group(plats text[]) RETURNS smallint
LANGUAGE sql STABLE AS $$
  SELECT g.id FROM observatory_group g
  WHERE g.platforms = CASE WHEN plats IS NULL
    THEN (SELECT array_agg(code ORDER BY code COLLATE "C") FROM platform)
    ELSE (SELECT array_agg(x ORDER BY x COLLATE "C") FROM (SELECT DISTINCT unnest(plats)) d (x))
  END                                -- an empty set is no group (and counts nothing)
$$;

-- Counts of the requests received from a to b (inclusive, Europe/Paris) on the platforms
-- (NULL: all) by month, platform, dimension and code: rows of dim 'all' count every age
-- (age -3); the others count ages lo to hi (by age for dim total; in the band -2 for the
-- other dims when [lo, hi] is 18-25). Whole months come from observatory_cell, the edge
-- days from the raw rows.
CREATE FUNCTION lda_observatory_counts(a date, b date, plats text[], lo integer, hi integer)
RETURNS TABLE (month date, platform text, dim text, age smallint, code text, n bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off AS $$
DECLARE
  m0 date := CASE WHEN a = date_trunc('month', a)::date THEN a
                  ELSE (date_trunc('month', a) + interval '1 month')::date END;
  m1 date := date_trunc('month', b + 1)::date;   -- whole months are [m0, m1)
  band boolean := lo = 18 AND hi = 25;
BEGIN
  plats := lda_observatory_scope(plats);
  IF NOT (SELECT current FROM observatory_state) OR m0 >= m1 THEN
    m0 := a; m1 := a;                               -- everything from the raw rows
  END IF;
  RETURN QUERY
    SELECT o.month, o.platform, CASE WHEN o.age = -3 THEN 'all' ELSE o.dim END, o.age, o.code,
           o.n
    FROM observatory_cell o
    WHERE o.dim = 'total' AND (o.age = -3 OR o.age BETWEEN lo AND hi)
      AND o.month >= m0 AND o.month < m1 AND o.platform = ANY (plats)
    UNION ALL
    SELECT o.month, o.platform, o.dim, o.age, o.code, o.n
    FROM observatory_cell o
    WHERE o.dim IN ('sex', 'situation', 'response', 'channel', 'alt', 'need')
      AND ((band AND o.age = -2) OR (NOT band AND o.age BETWEEN lo AND hi))
      AND o.month >= m0 AND o.month < m1 AND o.platform = ANY (plats)
    UNION ALL
    SELECT c.month, c.platform, CASE WHEN c.age = -3 THEN 'all' ELSE c.dim END, c.age, c.code,
           c.n
    FROM lda_observatory_aggregate(
           (SELECT array_agg(lda_observatory_source(s, 1)) FROM siao_request s
            WHERE s.platform = ANY (plats)
              AND s.received_at >= a::timestamp AT TIME ZONE 'Europe/Paris'
              AND s.received_at < m0::timestamp AT TIME ZONE 'Europe/Paris')
           || (SELECT array_agg(lda_observatory_source(s, 1)) FROM siao_request s
               WHERE s.platform = ANY (plats)
                 AND s.received_at >= greatest(m1, a)::timestamp AT TIME ZONE 'Europe/Paris'
                 AND s.received_at < (b + 1)::timestamp AT TIME ZONE 'Europe/Paris')) c
    WHERE c.age = -3 OR c.age BETWEEN lo AND hi;
END
$$;

-- Youth persons and repeat persons over [a, b] for the platforms (NULL: all) and ages
-- [lo, hi]: from the links when the platforms are a group and the ages 18-25, else distinct
-- keys over the raw rows.
CREATE FUNCTION lda_observatory_persons(a date, b date, plats text[], lo integer, hi integer,
                                        OUT persons bigint, OUT repeats bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off AS $$
DECLARE
  sc text[] := lda_observatory_scope(plats);
  g smallint := lda_observatory_group(sc);
  m0 date := CASE WHEN a = date_trunc('month', a)::date THEN a
                     ELSE (date_trunc('month', a) + interval '1 month')::date END;
  m1 date := date_trunc('month', b + 1)::date;
  r bigint; t1 bigint; t2 bigint;
BEGIN
  IF g IS NULL OR lo <> 18 OR hi <> 25 OR NOT (SELECT current FROM observatory_state) THEN
    SELECT count(*), count(*) FILTER (WHERE k >= 2) INTO persons, repeats
    FROM (SELECT count(*) AS k FROM siao_request s
          WHERE s.received_at >= a::timestamp AT TIME ZONE 'Europe/Paris'
            AND s.received_at < (b + 1)::timestamp AT TIME ZONE 'Europe/Paris'
            AND s.platform = ANY (sc)
            AND s.age BETWEEN lo AND hi AND s.person_key IS NOT NULL
          GROUP BY s.person_key) x;
    RETURN;
  END IF;
  IF m0 >= m1 THEN
    m0 := a; m1 := a;
  END IF;
  SELECT coalesce(sum(n) FILTER (WHERE kind = 0), 0),
         coalesce(sum(n) FILTER (WHERE kind = 1 AND p >= a), 0),
         coalesce(sum(n) FILTER (WHERE kind = 2 AND p >= a), 0)
  INTO r, t1, t2
  FROM observatory_link_month
  WHERE grp = g AND kind IN (0, 1, 2) AND month >= m0 AND month < m1 AND (kind = 0 OR p >= a);
  SELECT r + count(*), t1 + count(*) FILTER (WHERE p1 >= a), t2 + count(*) FILTER (WHERE p2 >= a)
  INTO r, t1, t2
  FROM (SELECT p1, p2 FROM observatory_link WHERE grp = g AND day >= a AND day < m0
        UNION ALL
        SELECT p1, p2 FROM observatory_link WHERE grp = g AND day >= greatest(m1, a)
                                                 AND day <= b) e;
  persons := r - t1;
  repeats := t1 - t2;
END
$$;

-- The same per period of a series (gran: month, quarter or year; a period clipped to
-- [a, b]): one pass over the group's monthly links, and the raw links of the edge days
-- (only the first and the last period can have any).
CREATE FUNCTION lda_observatory_persons_series(a date, b date, plats text[], lo integer,
                                               hi integer, gran text)
RETURNS TABLE (period date, persons bigint, repeats bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public SET jit = off AS $$
DECLARE
  step interval := CASE gran WHEN 'quarter' THEN interval '3 months'
                             WHEN 'year' THEN interval '1 year' ELSE interval '1 month' END;
  sc text[] := lda_observatory_scope(plats);
  g smallint := lda_observatory_group(sc);
BEGIN
  IF g IS NULL OR lo <> 18 OR hi <> 25 OR NOT (SELECT current FROM observatory_state) THEN
    RETURN QUERY
      SELECT q.period, x.persons, x.repeats
      FROM (SELECT d::date AS period FROM generate_series(date_trunc(gran, a::timestamp), b::timestamp, step) d) q,
           LATERAL lda_observatory_persons(greatest(q.period, a),
                                           least((q.period + step)::date - 1, b), sc, lo, hi) x;
    RETURN;
  END IF;
  RETURN QUERY
  WITH q AS (SELECT d::date AS period, greatest(d::date, a) AS pa,
                    least((d + step)::date - 1, b) AS pb
             FROM generate_series(date_trunc(gran, a::timestamp), b::timestamp, step) d),
  per AS (SELECT q.period, q.pa, q.pb,
                 CASE WHEN q.pa = date_trunc('month', q.pa)::date THEN q.pa
                      ELSE (date_trunc('month', q.pa) + interval '1 month')::date END AS m0,
                 date_trunc('month', q.pb + 1)::date AS m1
          FROM q),
  per2 AS (SELECT per.period, per.pa, per.pb,
                  CASE WHEN per.m0 < per.m1 THEN per.m0 ELSE per.pa END AS m0,
                  CASE WHEN per.m0 < per.m1 THEN per.m1 ELSE per.pa END AS m1
           FROM per),
  whole AS (SELECT p.period, coalesce(sum(l.n) FILTER (WHERE l.kind = 0), 0) AS r,
                   coalesce(sum(l.n) FILTER (WHERE l.kind = 1), 0) AS t1,
                   coalesce(sum(l.n) FILTER (WHERE l.kind = 2), 0) AS t2
            FROM per2 p JOIN observatory_link_month l
              ON l.grp = g AND l.kind IN (0, 1, 2) AND l.month >= p.m0 AND l.month < p.m1
             AND (l.kind = 0 OR l.p >= p.pa)
            GROUP BY 1),
  edge AS (SELECT p.period, x.r, x.t1, x.t2 FROM per2 p,
           LATERAL (SELECT count(*) AS r, count(*) FILTER (WHERE u.p1 >= p.pa) AS t1,
                           count(*) FILTER (WHERE u.p2 >= p.pa) AS t2
                    FROM (SELECT k.p1, k.p2 FROM observatory_link k
                          WHERE k.grp = g AND k.day >= p.pa AND k.day < p.m0
                          UNION ALL
                          SELECT k.p1, k.p2 FROM observatory_link k
                          WHERE k.grp = g AND k.day >= greatest(p.m1, p.pa)
                            AND k.day <= p.pb) u) x)
  SELECT p.period,
         (coalesce(w.r, 0) + e.r - coalesce(w.t1, 0) - e.t1)::bigint,
         (coalesce(w.t1, 0) + e.t1 - coalesce(w.t2, 0) - e.t2)::bigint
  FROM per2 p JOIN edge e ON e.period = p.period LEFT JOIN whole w ON w.period = p.period;
END
$$;

-- ---- access ---------------------------------------------------------------------------
GRANT SELECT ON observatory_state, observatory_group, observatory_cell, observatory_link,
  observatory_link_month TO lda_app;
ALTER TABLE observatory_cell ENABLE ROW LEVEL SECURITY;
CREATE POLICY observatory_cell_scope ON observatory_cell TO lda_app
  USING (lda_in_scope(platform));
-- a group is readable when every one of its platforms is in scope
CREATE FUNCTION lda_groups_in_scope() RETURNS smallint[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(g.id), '{}') FROM observatory_group g
  WHERE (SELECT bool_and(lda_in_scope(p)) FROM unnest(g.platforms) p)
$$;
ALTER TABLE observatory_link ENABLE ROW LEVEL SECURITY;
CREATE POLICY observatory_link_scope ON observatory_link TO lda_app
  USING (grp = ANY (lda_groups_in_scope()));
ALTER TABLE observatory_link_month ENABLE ROW LEVEL SECURITY;
CREATE POLICY observatory_link_month_scope ON observatory_link_month TO lda_app
  USING (grp = ANY (lda_groups_in_scope()));

-- The data already there (a database migrated from 009).
SELECT lda_observatory_rebuild();
