-- lda-api demo data: SIAO requests number $1 to $2 (bigint, inclusive) of a synthetic stream of
-- 40 000 x $3 requests ($3: the scale, an int >= 1, see siao-count.sql); $4 is the service's
-- pseudonymisation key (text). ONE statement, run
-- with PQexecParams in chunks (1..100000, 100001..200000, ...). Every row is a pure function of
-- its number n and of the scale: running a chunk again yields the same rows (it then fails on
-- the (source, external_id) key, so run each chunk once, into an empty siao_request).
--
-- The stream (see db/seed/README.md):
--   * received_at from 2019-01-01 to 2025-12-31 (Europe/Paris), in the order of the numbers
--     (request n falls at the fraction (n - 1 + jitter) / total of the stream, the hour of the
--     day drawn apart): more requests every year (4 300 in 2019 ... 7 000 in 2025 per 40 000)
--     and in winter, mostly by day. Ids are UUIDs whose first 48 bits are n (version 8 layout,
--     the rest hashed): the rows arrive in the order of every index but one, which keeps a
--     10-million-row load fast;
--   * platform: Artois and Lens-Henin only before 2021, the five territories from 2021;
--   * age 16..80; the share of 18-25 year olds grows from 18 % (2019) to 30 % (2025) by two
--     points a year; for 10 % of the rows the source gave a birth year instead (age derived);
--   * person_key: a person is a birth cohort (year of received_at minus age) and a number
--     drawn in a pool sized on the expected number of requests of that cohort (pools grow with
--     the scale): 70 % of the requests draw from a pool of the year (repeat requests within a
--     year), 30 % from a pool of the cohort across years; a person's age, sex and home
--     territory are therefore the same on all of its requests; 2 % of requests have no key;
--   * youth: more calls to the 115, more hosted by third parties, more often without any
--     resources, and `no_place_available` frequent and rising (36 % in 2019, 48 % in 2025);
--   * some `unknown` codes and some NULLs / empty sets (not collected);
--   * content_hash: the hash POST /v1/siao-requests/batch computes (content_hash() in
--     api/resources/batch.c: SHA-256 of the compact JSON record with sorted keys, without null
--     members nor empty sets, sets sorted, timestamps as epoch microseconds), so that pushing
--     a demo record again through the API counts as unchanged. Sets are stored sorted.
-- Only PostgreSQL built-ins: the statement is independent of the session's TimeZone.
INSERT INTO siao_request (id, source, external_id, received_at, platform, channel, person_key,
  age, birth_year, sex, composition, situation, resources, needs, response, alternatives_known,
  content_hash, rk)
SELECT id, 'siao62-demo', 'D' || n, received_at, platform, channel,
  -- stored re-keyed as the API stores a pushed key: HMAC under the service key ($4) of the
  -- source, a unit separator and the key sent (api/domain/siao.c, siao_person_key)
  CASE WHEN person_key IS NOT NULL THEN encode(hmac(convert_to('siao62-demo' || chr(31)
    || person_key, 'UTF8'), convert_to($4, 'UTF8'), 'sha256'), 'hex') END, age,
  birth_year, sex, composition, situation, resources, needs, response, alternatives_known,
  encode(sha256(convert_to('{' || concat_ws(',',
    CASE WHEN birth_year IS NULL THEN '"age":' || age END,
    CASE WHEN alternatives_known IS NOT NULL THEN '"alternatives_known":' || alternatives_known::text END,
    CASE WHEN birth_year IS NOT NULL THEN '"birth_year":' || birth_year END,
    '"channel":"' || channel || '"',
    '"composition":"' || composition || '"',
    '"external_id":"D' || n || '"',
    CASE WHEN cardinality(needs) > 0 THEN '"needs":["' || array_to_string(needs, '","') || '"]' END,
    '"person_key":"' || person_key || '"',
    '"platform":"' || platform || '"',
    '"received_at":' || (extract(epoch FROM received_at) * 1000000)::bigint,
    CASE WHEN cardinality(resources) > 0 THEN '"resources":["' || array_to_string(resources, '","') || '"]' END,
    '"response":"' || response || '"',
    '"sex":"' || sex || '"',
    '"situation":"' || situation || '"') || '}', 'UTF8')), 'hex') AS content_hash,
  -- the record key of the cell-key method: random in production, here a keyed hash of the
  -- row's number (the same data on every run with the same key)
  ('x' || substr(encode(hmac(convert_to('rk:' || n, 'UTF8'), convert_to($4, 'UTF8'),
                             'sha256'), 'hex'), 1, 5))::bit(20)::integer AS rk
FROM (
  -- sets, sorted in byte order (as the API's content hash sorts them), without repeats
  SELECT r.*,
    CASE WHEN r1 IS NULL THEN '{}'::text[]
         WHEN r2 IS NULL THEN ARRAY[r1]
         WHEN r1 < r2 COLLATE "C" THEN ARRAY[r1, r2]
         ELSE ARRAY[r2, r1] END AS resources,
    CASE WHEN n1 IS NULL THEN '{}'::text[]
         WHEN n1 = 'unknown' THEN '{unknown}'::text[]
         WHEN n2 IS NULL AND n3 IS NULL THEN ARRAY[n1]
         WHEN n2 IS NULL OR n3 IS NULL THEN ARRAY[least(n1, n2, n3 COLLATE "C"), greatest(n1, n2, n3 COLLATE "C")]
         ELSE ARRAY[least(n1, n2, n3 COLLATE "C"),
                    CASE WHEN n1 <> least(n1, n2, n3 COLLATE "C") AND n1 <> greatest(n1, n2, n3 COLLATE "C") THEN n1
                         WHEN n2 <> least(n1, n2, n3 COLLATE "C") AND n2 <> greatest(n1, n2, n3 COLLATE "C") THEN n2
                         ELSE n3 END,
                    greatest(n1, n2, n3 COLLATE "C")] END AS needs
  FROM (
    SELECT q.n, q.id, q.received_at, q.age, q.channel, q.person_key, q.sex, q.birth_year, q.platform,
      q.composition, q.situation, q.response, q.alternatives_known, q.r1, q.n1,
      CASE WHEN q.r1 IS NULL OR q.r1 IN ('none', 'unknown') OR q.r2raw = q.r1 THEN NULL ELSE q.r2raw END AS r2,
      CASE WHEN q.n2 <> q.n1 THEN q.n2 END AS n2,
      CASE WHEN q.n3 <> q.n1 AND q.n3 IS DISTINCT FROM q.n2 THEN q.n3 END AS n3
    FROM (
      -- the request's codes (NULL: not collected)
      SELECT n, id, received_at, y, age, channel, person_key, sex,
        CASE WHEN fby < 0.10 THEN y - age END AS birth_year,
        CASE WHEN y < 2021 AND pf NOT IN ('artois', 'lens_henin')
             THEN CASE WHEN (ps >> 20) % 2 = 0 THEN 'artois' ELSE 'lens_henin' END
             ELSE pf END AS platform,
        CASE WHEN age < 18 THEN
               CASE WHEN fcomp < 0.85 THEN 'single_person' WHEN fcomp < 0.90 THEN 'other'
                    WHEN fcomp < 0.95 THEN 'unknown' END
             WHEN age <= 25 THEN
               CASE WHEN fcomp < 0.82 THEN 'single_person' WHEN fcomp < 0.88 THEN 'couple_no_child'
                    WHEN fcomp < 0.94 THEN 'single_parent' WHEN fcomp < 0.96 THEN 'couple_with_children'
                    WHEN fcomp < 0.97 THEN 'other' WHEN fcomp < 0.98 THEN 'unknown' END
             ELSE
               CASE WHEN fcomp < 0.64 THEN 'single_person' WHEN fcomp < 0.71 THEN 'couple_no_child'
                    WHEN fcomp < 0.80 THEN 'couple_with_children' WHEN fcomp < 0.92 THEN 'single_parent'
                    WHEN fcomp < 0.95 THEN 'other' WHEN fcomp < 0.97 THEN 'unknown' END
        END AS composition,
        CASE WHEN age < 18 THEN
               CASE WHEN fsit < 0.35 THEN 'hosted_by_third_party' WHEN fsit < 0.55 THEN 'street'
                    WHEN fsit < 0.80 THEN 'institution' WHEN fsit < 0.85 THEN 'shelter_structure'
                    WHEN fsit < 0.90 THEN 'other' WHEN fsit < 0.95 THEN 'unknown' END
             WHEN age <= 25 THEN
               CASE WHEN fsit < 0.26 THEN 'street' WHEN fsit < 0.56 THEN 'hosted_by_third_party'
                    WHEN fsit < 0.64 THEN 'shelter_structure' WHEN fsit < 0.68 THEN 'squat'
                    WHEN fsit < 0.71 THEN 'housed' WHEN fsit < 0.74 THEN 'hotel'
                    WHEN fsit < 0.83 THEN 'institution' WHEN fsit < 0.88 THEN 'precarious_housing'
                    WHEN fsit < 0.91 THEN 'other' WHEN fsit < 0.96 THEN 'unknown' END
             ELSE
               CASE WHEN fsit < 0.32 THEN 'street' WHEN fsit < 0.50 THEN 'hosted_by_third_party'
                    WHEN fsit < 0.64 THEN 'shelter_structure' WHEN fsit < 0.69 THEN 'squat'
                    WHEN fsit < 0.77 THEN 'housed' WHEN fsit < 0.82 THEN 'hotel'
                    WHEN fsit < 0.86 THEN 'institution' WHEN fsit < 0.92 THEN 'precarious_housing'
                    WHEN fsit < 0.94 THEN 'other' WHEN fsit < 0.97 THEN 'unknown' END
        END AS situation,
        CASE WHEN age < 18 THEN
               CASE WHEN fres < 0.70 THEN 'none' WHEN fres < 0.80 THEN 'other' WHEN fres < 0.90 THEN 'unknown' END
             WHEN age <= 25 THEN
               CASE WHEN fres < 0.48 THEN 'none' WHEN fres < 0.64 THEN 'youth_guarantee'
                    WHEN fres < 0.72 THEN 'salary' WHEN fres < 0.75 THEN 'aah'
                    WHEN fres < 0.78 THEN 'unemployment_benefit' WHEN fres < 0.84 THEN 'other'
                    WHEN fres < 0.91 THEN 'unknown' END
             WHEN age < 62 THEN
               CASE WHEN fres < 0.35 THEN 'rsa' WHEN fres < 0.55 THEN 'none' WHEN fres < 0.65 THEN 'aah'
                    WHEN fres < 0.73 THEN 'salary' WHEN fres < 0.81 THEN 'unemployment_benefit'
                    WHEN fres < 0.86 THEN 'other' WHEN fres < 0.93 THEN 'unknown' END
             ELSE
               CASE WHEN fres < 0.55 THEN 'pension' WHEN fres < 0.70 THEN 'aah' WHEN fres < 0.78 THEN 'rsa'
                    WHEN fres < 0.86 THEN 'none' WHEN fres < 0.88 THEN 'other' WHEN fres < 0.94 THEN 'unknown' END
        END AS r1,
        -- a second resource for some (income supplement, or other benefits)
        CASE WHEN fres2 < 0.08 THEN 'other' WHEN fres2 < 0.12 THEN 'salary' END AS r2raw,
        CASE WHEN channel IN ('call_115', 'street_outreach') THEN
               CASE WHEN fn1 < 0.84 THEN 'emergency_shelter' WHEN fn1 < 0.89 THEN 'food'
                    WHEN fn1 < 0.92 THEN 'health' WHEN fn1 < 0.94 THEN 'other' WHEN fn1 < 0.98 THEN 'unknown' END
             WHEN channel = 'siao_insertion' THEN
               CASE WHEN fn1 < 0.80 THEN 'housing' WHEN fn1 < 0.92 THEN 'emergency_shelter'
                    WHEN fn1 < 0.96 THEN 'rights_access' WHEN fn1 < 0.98 THEN 'unknown' END
             WHEN channel = 'day_centre' THEN
               CASE WHEN fn1 < 0.40 THEN 'emergency_shelter' WHEN fn1 < 0.62 THEN 'food'
                    WHEN fn1 < 0.76 THEN 'rights_access' WHEN fn1 < 0.86 THEN 'health'
                    WHEN fn1 < 0.96 THEN 'housing' WHEN fn1 < 0.98 THEN 'unknown' END
             ELSE
               CASE WHEN fn1 < 0.50 THEN 'emergency_shelter' WHEN fn1 < 0.80 THEN 'housing'
                    WHEN fn1 < 0.90 THEN 'rights_access' WHEN fn1 < 0.96 THEN 'other' WHEN fn1 < 0.98 THEN 'unknown' END
        END AS n1,
        CASE WHEN fn2p < CASE WHEN age BETWEEN 18 AND 25 THEN 0.60 ELSE 0.50 END THEN
          CASE WHEN age BETWEEN 18 AND 25 THEN
                 CASE WHEN fn2 < 0.30 THEN 'employment_training' WHEN fn2 < 0.50 THEN 'food'
                      WHEN fn2 < 0.68 THEN 'rights_access' WHEN fn2 < 0.78 THEN 'health'
                      WHEN fn2 < 0.90 THEN 'mobility' WHEN fn2 < 0.96 THEN 'housing' ELSE 'other' END
               ELSE
                 CASE WHEN fn2 < 0.25 THEN 'food' WHEN fn2 < 0.47 THEN 'health'
                      WHEN fn2 < 0.69 THEN 'rights_access' WHEN fn2 < 0.79 THEN 'employment_training'
                      WHEN fn2 < 0.87 THEN 'mobility' WHEN fn2 < 0.95 THEN 'housing' ELSE 'other' END END
        END AS n2,
        CASE WHEN fn3p < 0.20 THEN
          CASE WHEN fn3 < 0.25 THEN 'food' WHEN fn3 < 0.45 THEN 'health' WHEN fn3 < 0.65 THEN 'rights_access'
               WHEN fn3 < 0.80 THEN 'employment_training' WHEN fn3 < 0.92 THEN 'mobility' ELSE 'other' END
        END AS n3,
        CASE WHEN age < 18 THEN
               CASE WHEN fresp < 0.60 THEN 'referred_elsewhere' WHEN fresp < 0.85 THEN 'sheltered'
                    WHEN fresp < 0.90 THEN 'no_place_available' WHEN fresp < 0.95 THEN 'other' END
             WHEN channel = 'siao_insertion' THEN
               CASE WHEN fresp < CASE WHEN age <= 25 THEN 0.30 ELSE 0.38 END THEN 'housing_orientation'
                    WHEN fresp < CASE WHEN age <= 25 THEN 0.52 ELSE 0.60 END THEN 'pending'
                    WHEN fresp < CASE WHEN age <= 25 THEN 0.72 ELSE 0.72 END THEN 'no_place_available'
                    WHEN fresp < 0.84 THEN 'sheltered' WHEN fresp < 0.92 THEN 'referred_elsewhere'
                    WHEN fresp < 0.96 THEN 'declined_by_person' WHEN fresp < 0.98 THEN 'other' END
             WHEN age <= 25 THEN  -- unmet demand of the young rises every year
               CASE WHEN fresp < 0.36 + 0.02 * (y - 2019) THEN 'no_place_available'
                    WHEN fresp < 0.68 THEN 'sheltered' WHEN fresp < 0.78 THEN 'referred_elsewhere'
                    WHEN fresp < 0.84 THEN 'declined_by_person' WHEN fresp < 0.88 THEN 'housing_orientation'
                    WHEN fresp < 0.93 THEN 'pending' WHEN fresp < 0.96 THEN 'other' END
             ELSE
               CASE WHEN fresp < 0.24 + 0.01 * (y - 2019) THEN 'no_place_available'
                    WHEN fresp < 0.68 THEN 'sheltered' WHEN fresp < 0.78 THEN 'referred_elsewhere'
                    WHEN fresp < 0.85 THEN 'declined_by_person' WHEN fresp < 0.90 THEN 'housing_orientation'
                    WHEN fresp < 0.93 THEN 'pending' WHEN fresp < 0.96 THEN 'other' END
        END AS response,
        CASE WHEN age BETWEEN 18 AND 25 THEN
               CASE WHEN falt < 0.52 THEN false WHEN falt < 0.78 THEN true END
             ELSE CASE WHEN falt < 0.40 THEN false WHEN falt < 0.75 THEN true END
        END AS alternatives_known
      FROM (
        -- the person's sex and home territory, the request's channel
        SELECT p.*,
          CASE WHEN fsexnull < 0.01 THEN NULL
               WHEN ps % 1000 < 5 THEN 'other' WHEN ps % 1000 < 20 THEN 'unknown'
               WHEN ps % 1000 < 20 + CASE WHEN y - age >= 1994 THEN 400 ELSE 340 END THEN 'female'
               ELSE 'male' END AS sex,
          -- the person's home territory, or another one for 10 % of the requests
          CASE WHEN fmove < 0.10 THEN
                 CASE WHEN fmove * 10 < 0.30 THEN 'artois' WHEN fmove * 10 < 0.58 THEN 'lens_henin'
                      WHEN fmove * 10 < 0.72 THEN 'audomarois' WHEN fmove * 10 < 0.89 THEN 'boulonnais'
                      ELSE 'montreuillois' END
               ELSE
                 CASE WHEN (ps >> 10) % 100 < 30 THEN 'artois' WHEN (ps >> 10) % 100 < 58 THEN 'lens_henin'
                      WHEN (ps >> 10) % 100 < 72 THEN 'audomarois' WHEN (ps >> 10) % 100 < 89 THEN 'boulonnais'
                      ELSE 'montreuillois' END END AS pf,
          CASE WHEN age BETWEEN 18 AND 25 THEN
                 CASE WHEN fch < 0.62 THEN 'call_115' WHEN fch < 0.78 THEN 'siao_insertion'
                      WHEN fch < 0.86 THEN 'street_outreach' WHEN fch < 0.96 THEN 'day_centre' ELSE 'other' END
               ELSE
                 CASE WHEN fch < 0.52 THEN 'call_115' WHEN fch < 0.78 THEN 'siao_insertion'
                      WHEN fch < 0.86 THEN 'street_outreach' WHEN fch < 0.96 THEN 'day_centre' ELSE 'other' END
          END AS channel
        FROM (
          SELECT o.*,
            CASE WHEN fnokey >= 0.02 THEN encode(pkb, 'hex') END AS person_key,
            (get_byte(pkb, 0)::bigint << 24) + (get_byte(pkb, 1) << 16) + (get_byte(pkb, 2) << 8) + get_byte(pkb, 3) AS ps
          FROM (
            SELECT m.*, sha256(convert_to('siao62-demo:' || person, 'UTF8')) AS pkb
            FROM (
              SELECT l.*,
                (make_date(y, 1, 1)::timestamp
                  + make_interval(days => floor(ndays * (f + 0.25 / (2 * pi()) * sin(2 * pi() * f)))::int,
                                  secs => secs)) AT TIME ZONE 'Europe/Paris' AS received_at,
                -- the person: a pool of the year (70 %) or of the birth cohort (30 %), sized so
                -- that a person of the pool makes about 1.3 (year) or 1 (cohort) requests
                CASE WHEN fpool < 0.70
                  THEN 'y' || y || '-' || (y - age) || '-' || (kraw % greatest(1, ceil($3::int * 0.70 * expected / 1.3))::bigint)
                  ELSE 'c' || (y - age) || '-' || (kraw % greatest(1, ceil($3::int * 0.30 * 7 * expected))::bigint)
                END AS person
              FROM (
                SELECT k.*,
                  -- requests expected at this age in this year, per 40 000
                  ycount * CASE WHEN age < 18 THEN 0.01::float8
                                WHEN age <= 25 THEN share / 8
                                ELSE (0.98 - share) * (power((age - 25) / 55.0::float8, 2.0 / 3)
                                                       - power((age - 26) / 55.0::float8, 2.0 / 3)) END AS expected
                FROM (
                  SELECT j.*,
                    (pos - ystart) / ycount AS f,
                    CASE WHEN fage < 0.02 THEN 16 + floor(fage2 * 2)::int
                         WHEN fage < 0.02 + share THEN 18 + floor(fage2 * 8)::int
                         ELSE 26 + floor(55 * power(fage2, 1.5))::int END AS age
                  FROM (
                    SELECT i.*,
                      CASE y WHEN 2019 THEN 0 WHEN 2020 THEN 4300 WHEN 2021 THEN 9100 WHEN 2022 THEN 14500
                             WHEN 2023 THEN 20200 WHEN 2024 THEN 26400 ELSE 33000 END AS ystart,
                      CASE y WHEN 2019 THEN 4300 WHEN 2020 THEN 4800 WHEN 2021 THEN 5400 WHEN 2022 THEN 5700
                             WHEN 2023 THEN 6200 WHEN 2024 THEN 6600 ELSE 7000 END AS ycount,
                      make_date(y + 1, 1, 1) - make_date(y, 1, 1) AS ndays,
                      0.18::float8 + 0.02 * (y - 2019) AS share
                    FROM (
                      SELECT w.*,
                        2019 + (pos >= 4300)::int + (pos >= 9100)::int + (pos >= 14500)::int
                             + (pos >= 20200)::int + (pos >= 26400)::int + (pos >= 33000)::int AS y
                      FROM (
                        -- sixteen-bit draws from one SHA-512 per request
                        SELECT n,
                          (lpad(to_hex(n), 12, '0') || '8' || substr(encode(substring(h FROM 49 FOR 9), 'hex'), 1, 3)
                            || '8' || substr(encode(substring(h FROM 49 FOR 9), 'hex'), 4, 15))::uuid AS id,
                          -- position in the stream, on a scale of 40 000
                          (n - 1 + (get_byte(h, 0) * 256 + get_byte(h, 1)) / 65536.0::float8) / $3::int AS pos,
                          CASE WHEN (get_byte(h, 2) * 256 + get_byte(h, 3)) < 53740
                               THEN 25200 + floor((get_byte(h, 4) * 256 + get_byte(h, 5)) / 65536.0::float8 * 61200)::int
                               ELSE floor((get_byte(h, 4) * 256 + get_byte(h, 5)) / 65536.0::float8 * 25200)::int
                          END AS secs,
                          (get_byte(h, 6) * 256 + get_byte(h, 7)) / 65536.0::float8 AS fage,
                          (get_byte(h, 8) * 256 + get_byte(h, 9)) / 65536.0::float8 AS fage2,
                          (get_byte(h, 10) * 256 + get_byte(h, 11)) / 65536.0::float8 AS fpool,
                          (get_byte(h, 12)::bigint << 24) + (get_byte(h, 13) << 16) + (get_byte(h, 14) << 8) + get_byte(h, 15) AS kraw,
                          (get_byte(h, 16) * 256 + get_byte(h, 17)) / 65536.0::float8 AS fmove,
                          (get_byte(h, 18) * 256 + get_byte(h, 19)) / 65536.0::float8 AS fch,
                          (get_byte(h, 20) * 256 + get_byte(h, 21)) / 65536.0::float8 AS fcomp,
                          (get_byte(h, 22) * 256 + get_byte(h, 23)) / 65536.0::float8 AS fsit,
                          (get_byte(h, 24) * 256 + get_byte(h, 25)) / 65536.0::float8 AS fres,
                          (get_byte(h, 26) * 256 + get_byte(h, 27)) / 65536.0::float8 AS fres2,
                          (get_byte(h, 28) * 256 + get_byte(h, 29)) / 65536.0::float8 AS fn1,
                          (get_byte(h, 30) * 256 + get_byte(h, 31)) / 65536.0::float8 AS fn2p,
                          (get_byte(h, 32) * 256 + get_byte(h, 33)) / 65536.0::float8 AS fn2,
                          (get_byte(h, 34) * 256 + get_byte(h, 35)) / 65536.0::float8 AS fn3p,
                          (get_byte(h, 36) * 256 + get_byte(h, 37)) / 65536.0::float8 AS fn3,
                          (get_byte(h, 38) * 256 + get_byte(h, 39)) / 65536.0::float8 AS fresp,
                          (get_byte(h, 40) * 256 + get_byte(h, 41)) / 65536.0::float8 AS falt,
                          (get_byte(h, 42) * 256 + get_byte(h, 43)) / 65536.0::float8 AS fby,
                          (get_byte(h, 44) * 256 + get_byte(h, 45)) / 65536.0::float8 AS fsexnull,
                          (get_byte(h, 46) * 256 + get_byte(h, 47)) / 65536.0::float8 AS fnokey
                        FROM (SELECT n, sha512(convert_to('siao62-demo:' || n, 'UTF8')) AS h
                              FROM generate_series($1::bigint, $2::bigint) AS n OFFSET 0) h
                        OFFSET 0) w
                      OFFSET 0) i
                    OFFSET 0) j
                  OFFSET 0) k
                OFFSET 0) l
              OFFSET 0) m
            OFFSET 0) o
          OFFSET 0) p
        OFFSET 0) q0
      OFFSET 0) q
    OFFSET 0) r
  OFFSET 0) s
