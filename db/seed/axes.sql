-- lda-api demo data, second part: eviction prevention and the housing offer (the report's axes
-- 2 and 3; see db/seed/README.md). Run by `lda-api seed-demo` right after demo.sql, in the
-- same transaction, under the same contract: plain SQL, deterministic (md5 of fixed labels,
-- fixed dates; ids and record keys too), a snapshot as of 2022-12-31, synthetic people only.
--
--   * the 2021 AMI 1 VEJ cohort (report l. 961-975): 185 households visited after the judgment
--     of their eviction procedure (their first action, in 2021), followed up at 6 and 12
--     months; many still under a request for the police's assistance that is not enforceable:
--     mostly `procedure_pending`;
--   * the PEX mobile teams of the AMI 1 from 2022 (l. 979-983): 140 households upstream of the
--     judgment, with tenant debts within the criteria (1 500 to 4 000 euros);
--   * housing offers and placements consistent with the referrals' measures: a placement for
--     every referral whose housing was accessed in social housing, through intermediation, in a
--     SAS flat, a shared flat for young people or a boarding house, entering on the measure's
--     housing date; SAS flats, shared flats and boarding houses shared over time within their
--     capacity; a few vacant offers at the end of 2022;
--   * the monthly fluidity meetings of each platform, where the households later placed in
--     social housing were presented and accepted a proposal.

CREATE FUNCTION pg_temp.u(seed text) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
  SELECT ((('x' || substr(md5('lda-demo:' || seed), 1, 13))::bit(52)::bigint)::float8 + 0.5)
         / 4503599627370496.0
$$;
CREATE FUNCTION pg_temp.pick(seed text, codes text[], weights float8[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT c FROM (
    SELECT i, codes[i] AS c, sum(weights[i]) OVER (ORDER BY i) AS cum,
           sum(weights[i]) OVER () AS tot
    FROM generate_subscripts(codes, 1) AS i) x
  WHERE cum > pg_temp.u(seed) * tot
  ORDER BY i LIMIT 1
$$;
CREATE FUNCTION pg_temp.duuid(seed text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT overlay(overlay(md5('lda-demo-id:' || seed) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid
$$;
CREATE FUNCTION pg_temp.between(seed text, lo int, hi int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT lo + floor(pg_temp.u(seed) * (hi - lo + 1))::int
$$;
-- the record key of the cell-key method: fixed, in [0, 2^20)
CREATE FUNCTION pg_temp.rk(seed text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT floor(pg_temp.u('rk:' || seed) * 1048576)::int
$$;
-- a working day: Saturday and Sunday move to the Friday before
CREATE FUNCTION pg_temp.workday(d date) RETURNS date LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN extract(isodow FROM d) >= 6 THEN d - (extract(isodow FROM d)::int - 5) ELSE d END
$$;

-- ---------------------------------------------------------------------------------------------
-- Prevention cases. p: one row per case (VEJ cohort n = 1..185, PEX cases n = 1001..1140).

CREATE TEMP TABLE p (
  n            int PRIMARY KEY,
  cohort       text NOT NULL,       -- vej | pex
  platform     text NOT NULL,
  landlord     text,
  age          int, composition text, head_sex text, adults int, children int,
  birth_date   date, last_name text, first_name text,
  debt         int, debt_on date,
  first_on     date,                -- the first action (the VEJ, or the PEX team)
  stages       text[], dates date[],
  fate         text,                -- pending | maintained | rehoused | left | evicted
  fate_on      date                 -- from when the fate holds
);

-- The VEJ cohort: 100 on Artois, 85 on Lens-Hénin; the visit on a working day of 2021, 7 to 40
-- days after the judgment.
INSERT INTO p (n, cohort, platform, first_on)
SELECT n, 'vej', CASE WHEN n <= 100 THEN 'artois' ELSE 'lens_henin' END,
       pg_temp.workday(DATE '2021-01-04' + floor((n - pg_temp.u('vej-on:' || n)) * 358.0 / 185)::int)
FROM generate_series(1, 185) AS n;

-- The PEX mobile teams from 2022: 75 on Artois, 65 on Lens-Hénin.
INSERT INTO p (n, cohort, platform, first_on)
SELECT 1000 + k, 'pex', CASE WHEN k <= 75 THEN 'artois' ELSE 'lens_henin' END,
       pg_temp.workday(DATE '2022-01-10' + floor((k - pg_temp.u('pex-on:' || k)) * 345.0 / 140)::int)
FROM generate_series(1, 140) AS k;

UPDATE p SET
  landlord = CASE WHEN pg_temp.u('landlord:' || n) < CASE cohort WHEN 'vej' THEN 0.62 ELSE 0.55 END
                  THEN 'social' ELSE 'private' END,
  age = pg_temp.between('p-age:' || n, 24, 74),
  composition = pg_temp.pick('p-composition:' || n,
    '{single_person,couple_no_child,couple_with_children,single_parent}', '{42,14,16,28}');
UPDATE p SET
  head_sex = CASE composition WHEN 'single_parent' THEN pg_temp.pick('p-sex:' || n, '{female,male}', '{88,12}')
                              ELSE pg_temp.pick('p-sex:' || n, '{female,male}', '{45,55}') END,
  adults = CASE WHEN composition IN ('single_person', 'single_parent') THEN 1 ELSE 2 END,
  children = CASE WHEN composition IN ('couple_with_children', 'single_parent')
                  THEN pg_temp.pick('p-children:' || n, '{1,2,3,4}', '{38,35,18,9}')::int ELSE 0 END,
  birth_date = (first_on - make_interval(years => age))::date - pg_temp.between('p-birth:' || n, 0, 364);
UPDATE p SET
  last_name = (ARRAY['Hochart', 'Lheureux', 'Bocquet', 'Delplanque', 'Demarthe', 'Fievet',
    'Goudaillier', 'Hanquez', 'Lefranc', 'Macquet', 'Obert', 'Ringot', 'Sockeel', 'Thellier',
    'Vasseur', 'Wacheux', 'Brassart', 'Crépin', 'Debruyne', 'Evrard', 'Fauquembergue', 'Gosselin',
    'Herbaut', 'Jovenin', 'Lamotte', 'Mortreux', 'Noël', 'Pruvost', 'Queste', 'Roussel',
    'Stiévenart', 'Tison', 'Vanhove', 'Wimez', 'Beauvois', 'Cappelle', 'Decobert', 'Facon',
    'Guilbert', 'Lannoy', 'Ouali', 'Benkhelifa', 'Ziani', 'Mendes', 'Costa', 'Kaminski',
    'Jankowski', 'Dąbrowski', 'Nguyen', 'Sow'])[1 + floor(pg_temp.u('p-last:' || n) * 50)::int],
  first_name = (CASE WHEN head_sex = 'female' THEN
      ARRAY['Brigitte', 'Corinne', 'Delphine', 'Estelle', 'Fabienne', 'Ghislaine', 'Hélène',
            'Ingrid', 'Jocelyne', 'Karima', 'Ludivine', 'Marion', 'Nadia', 'Odile', 'Pascale',
            'Rachida', 'Solène', 'Tiphaine', 'Ursule', 'Véronique']
    ELSE
      ARRAY['Bruno', 'Cyril', 'Dominique', 'Éric', 'Fabien', 'Gaëtan', 'Hervé', 'Igor', 'José',
            'Kader', 'Lionel', 'Marcel', 'Nordine', 'Olivier', 'Pascal', 'Rachid', 'Sylvain',
            'Thierry', 'Ugo', 'Vincent'] END)[1 + floor(pg_temp.u('p-first:' || n) * 20)::int];

-- The tenant debt, known for 88 % of the VEJ households (a median around 2 500 euros, from a few
-- hundred to 9 000) and for every PEX household (within the criteria: 1 500 to 4 000 euros).
UPDATE p SET
  debt = CASE WHEN cohort = 'pex' THEN 1500 + floor(pg_temp.u('p-debt:' || n) * 2501)::int
              WHEN pg_temp.u('p-debt-known:' || n) < 0.88
              THEN least(9000, greatest(300, round(2500 * exp(0.75 * ln(pg_temp.u('p-debt:' || n) /
                     (1 - pg_temp.u('p-debt:' || n))) / 1.7))::int)) END;

-- The procedure before the first action: the VEJ visits after the judgment (payment order
-- 10-16 months and summons 3-6 months before it); the PEX team steps in after the payment
-- order (60 %) or the summons.
UPDATE p SET
  stages = CASE WHEN cohort = 'vej' THEN '{payment_order,summons,judgment}'::text[]
                WHEN pg_temp.u('pex-stage:' || n) < 0.6 THEN '{payment_order}'::text[]
                ELSE '{payment_order,summons}'::text[] END;
UPDATE p SET dates = CASE
    WHEN cohort = 'vej' THEN ARRAY[
      first_on - pg_temp.between('vej-j:' || n, 7, 40) - pg_temp.between('vej-po:' || n, 300, 480),
      first_on - pg_temp.between('vej-j:' || n, 7, 40) - pg_temp.between('vej-su:' || n, 90, 180),
      first_on - pg_temp.between('vej-j:' || n, 7, 40)]
    WHEN cardinality(stages) = 1 THEN ARRAY[first_on - pg_temp.between('pex-po:' || n, 10, 60)]
    ELSE ARRAY[first_on - pg_temp.between('pex-po:' || n, 70, 150),
               first_on - pg_temp.between('pex-su:' || n, 5, 45)] END;
UPDATE p SET dates = ARRAY(SELECT pg_temp.workday(d) FROM unnest(dates) AS d);
-- the debt as known at the payment order (VEJ cohort), or when the PEX team assessed it
UPDATE p SET debt_on = CASE WHEN debt IS NULL THEN NULL
    WHEN cohort = 'vej' THEN dates[1] + pg_temp.between('p-debt-on:' || n, 0, 20)
    ELSE greatest(DATE '2022-01-03', first_on - pg_temp.between('p-debt-on:' || n, 0, 10)) END;

-- What became of them. VEJ cohort: most procedures still pending at 12 months (a request for
-- the police's assistance that is not enforceable yet), some settled (maintained), rehoused,
-- gone without a solution, a few evicted. PEX cases: mostly maintained once the debt is dealt
-- with (a repayment plan, an FSL aid), the others still pending.
UPDATE p SET fate = CASE cohort
    WHEN 'vej' THEN pg_temp.pick('fate:' || n, '{pending,maintained,rehoused,left,evicted}', '{58,16,13,5,8}')
    ELSE pg_temp.pick('fate:' || n, '{pending,maintained,rehoused}', '{38,56,6}') END;
UPDATE p SET fate_on = CASE fate
    WHEN 'pending' THEN NULL
    WHEN 'evicted' THEN first_on + pg_temp.between('fate-on:' || n, 150, 420)
    ELSE first_on + pg_temp.between('fate-on:' || n, 60, 330) END;
UPDATE p SET fate = 'pending', fate_on = NULL WHERE fate_on > DATE '2022-12-31';

-- The stages after the first action: for the VEJ cohort the order to leave, the request for
-- the police's assistance, sometimes granted, and the eviction itself for the evicted; for the
-- PEX cases a summons or a judgment for some of those still pending.
UPDATE p SET stages = stages || '{order_to_leave}'::text[],
             dates = dates || (dates[3] + pg_temp.between('otl:' || n, 45, 110))
WHERE cohort = 'vej' AND (fate = 'evicted' OR (fate IN ('pending', 'left') AND pg_temp.u('otl:' || n) < 0.85)
                          OR (fate IN ('rehoused', 'maintained') AND pg_temp.u('otl:' || n) < 0.35));
UPDATE p SET stages = stages || '{police_assistance_requested}'::text[],
             dates = dates || (dates[4] + pg_temp.between('cfp:' || n, 60, 150))
WHERE cardinality(stages) = 4 AND (fate = 'evicted' OR (fate = 'pending' AND pg_temp.u('cfp:' || n) < 0.8)
                                   OR (fate = 'left' AND pg_temp.u('cfp:' || n) < 0.5));
UPDATE p SET stages = stages || '{police_assistance_granted}'::text[],
             dates = dates || CASE WHEN fate = 'evicted' THEN fate_on - pg_temp.between('cfp-ok:' || n, 15, 45)
                                   ELSE dates[5] + pg_temp.between('cfp-ok:' || n, 90, 240) END
WHERE cardinality(stages) = 5 AND (fate = 'evicted' OR (fate = 'pending' AND pg_temp.u('cfp-ok:' || n) < 0.12));
UPDATE p SET stages = stages || '{eviction_carried_out}'::text[], dates = dates || fate_on
WHERE fate = 'evicted';
UPDATE p SET stages = stages || '{summons}'::text[],
             dates = dates || (first_on + pg_temp.between('pex-su2:' || n, 30, 120))
WHERE cohort = 'pex' AND fate = 'pending' AND cardinality(stages) = 1 AND pg_temp.u('pex-su2:' || n) < 0.45;
UPDATE p SET stages = stages || '{judgment}'::text[],
             dates = dates || (dates[2] + pg_temp.between('pex-j:' || n, 60, 150))
WHERE cohort = 'pex' AND fate = 'pending' AND cardinality(stages) = 2 AND pg_temp.u('pex-j:' || n) < 0.30;
-- keep the dates in order, on working days, and within the snapshot
UPDATE p SET dates = ARRAY(SELECT pg_temp.workday(d) FROM unnest(dates) AS d);
UPDATE p SET dates = ARRAY(SELECT greatest(d, lag_max) FROM (
  SELECT d, max(d) OVER (ORDER BY k) AS lag_max FROM unnest(dates) WITH ORDINALITY AS z(d, k)) x);
UPDATE p SET stages = stages[1:k - 1], dates = dates[1:k - 1]
FROM (SELECT n AS m, min(k) AS k FROM p, unnest(dates) WITH ORDINALITY AS z(d, k)
      WHERE d > DATE '2022-12-31' GROUP BY n) late
WHERE late.m = p.n;
UPDATE p SET fate = 'pending', fate_on = NULL
WHERE fate = 'evicted' AND NOT 'eviction_carried_out' = ANY (stages);
UPDATE p SET fate_on = dates[cardinality(dates)] WHERE fate = 'evicted';

-- The VEJ cohort is opened at the judgment (the visit explains it); a PEX case at the stage the
-- team met it. The stage history starts there.
CREATE TEMP TABLE p_stage AS
SELECT n, k, s, d FROM p, unnest(stages, dates) WITH ORDINALITY AS z(s, d, k)
WHERE k >= CASE WHEN cohort = 'vej' THEN 3 ELSE 1 END;

INSERT INTO household (id, platform, external_ref, composition, adults, children, head_last_name,
  head_first_name, head_birth_date, head_sex, resources, housing_situation, vulnerabilities)
SELECT pg_temp.duuid('prevention-household:' || n), platform,
       CASE platform WHEN 'artois' THEN 'ART' ELSE 'LEN' END || '-' || upper(cohort) || '-'
         || extract(year FROM first_on) || '-' || lpad(n::text, 4, '0'),
       composition, adults, children, last_name, first_name, birth_date, head_sex,
       ARRAY[pg_temp.pick('p-resource:' || n, '{salary,rsa,unemployment_benefit,pension,aah}',
                          CASE WHEN age >= 62 THEN '{5,10,5,70,10}'::float8[] ELSE '{35,30,20,3,12}'::float8[] END)],
       'housed', '{eviction}'
FROM p ORDER BY n;

INSERT INTO prevention_case (id, household_id, platform, landlord_kind, debt_eur, debt_on, stage,
  stage_dates, pex_status, pex_rule_id, rk)
SELECT pg_temp.duuid('prevention-case:' || p.n), pg_temp.duuid('prevention-household:' || p.n),
       p.platform, p.landlord, p.debt, p.debt_on, p.stages[cardinality(p.stages)],
       (SELECT jsonb_object_agg(s, to_char(d, 'YYYY-MM-DD')) FROM p_stage x WHERE x.n = p.n),
       -- the service's evaluation: the rule of the AMI in force on debt_on (migration 014)
       CASE WHEN p.debt IS NULL THEN 'debt_unknown' WHEN r.id IS NULL THEN 'no_rule'
            WHEN p.debt < r.debt_min_eur THEN 'below_criteria'
            WHEN p.debt > r.debt_max_eur THEN 'above_criteria' ELSE 'within_criteria' END,
       CASE WHEN p.debt IS NOT NULL THEN r.id END, pg_temp.rk('prevention-case:' || p.n)
FROM p
LEFT JOIN prevention_rule r ON r.ami = 1 AND p.debt_on >= r.valid_from
  AND (r.valid_to IS NULL OR p.debt_on <= r.valid_to)
ORDER BY p.n;

INSERT INTO prevention_stage_event (case_id, at, on_date, from_stage, to_stage, note)
SELECT pg_temp.duuid('prevention-case:' || x.n),
       (x.d + make_interval(hours => 10, mins => pg_temp.between('stage-at:' || x.n || ':' || x.k, 0, 400)))
         AT TIME ZONE 'Europe/Paris',
       x.d, lag(x.s) OVER (PARTITION BY x.n ORDER BY x.k), x.s,
       CASE x.s WHEN 'payment_order' THEN 'Commandement de payer signifié.'
                WHEN 'summons' THEN 'Assignation devant le juge des contentieux de la protection.'
                WHEN 'judgment' THEN 'Jugement : résiliation du bail et expulsion ordonnée.'
                WHEN 'order_to_leave' THEN 'Commandement de quitter les lieux.'
                WHEN 'police_assistance_requested' THEN 'Concours de la force publique demandé.'
                WHEN 'police_assistance_granted' THEN 'Concours de la force publique accordé.'
                ELSE 'Expulsion réalisée.' END
FROM p_stage x ORDER BY x.n, x.k;

-- Actions: the VEJ or the PEX team first, then social support and FSL aids for some.
CREATE TEMP TABLE p_action AS
SELECT n, 1 AS k, CASE cohort WHEN 'vej' THEN 'vej' ELSE 'pex_mobile_team' END AS kind, first_on AS done_on
FROM p
UNION ALL
SELECT n, 2, 'social_support', pg_temp.workday(first_on + pg_temp.between('act-ss:' || n, 7, 75))
FROM p WHERE pg_temp.u('act-ss:' || n) < CASE cohort WHEN 'vej' THEN 0.42 ELSE 0.30 END
UNION ALL
SELECT n, 3, 'fsl_aid', pg_temp.workday(first_on + pg_temp.between('act-fsl:' || n, 20, 150))
FROM p WHERE pg_temp.u('act-fsl:' || n) < CASE cohort WHEN 'vej' THEN 0.20 ELSE 0.38 END;
DELETE FROM p_action WHERE done_on > DATE '2022-12-31';

INSERT INTO prevention_action (id, case_id, kind, done_on, partner_id, outcome_notes, rk)
SELECT pg_temp.duuid('prevention-action:' || a.n || ':' || a.k), pg_temp.duuid('prevention-case:' || a.n),
       a.kind, a.done_on,
       CASE a.kind WHEN 'fsl_aid' THEN pg_temp.duuid('partner:caf-62')
                   WHEN 'social_support' THEN pg_temp.duuid('partner:' || CASE p.platform
                     WHEN 'artois' THEN 'mds-artois' ELSE 'mds-lens-lievin' END) END,
       CASE a.kind
         WHEN 'vej' THEN pg_temp.pick('vej-note:' || a.n,
           ARRAY['Décision expliquée au ménage ; délais et démarches présentés.',
                 'Visite réalisée ; orientation vers un accompagnement social.',
                 'Ménage absent au premier passage ; visite réalisée au second.',
                 'Décision expliquée ; demande de relogement engagée.'], '{40,25,15,20}')
         WHEN 'pex_mobile_team' THEN pg_temp.pick('pex-note:' || a.n,
           ARRAY['Diagnostic de la dette ; plan d''apurement proposé au bailleur.',
                 'Intervention de l''équipe mobile ; dossier FSL constitué.',
                 'Médiation avec le bailleur ; reprise du paiement du loyer courant.'], '{40,35,25}')
         WHEN 'fsl_aid' THEN 'Aide FSL maintien accordée.'
         ELSE 'Accompagnement social mis en place.' END,
       pg_temp.rk('prevention-action:' || a.n || ':' || a.k)
FROM p_action a JOIN p ON p.n = a.n ORDER BY a.n, a.k;

-- Follow-ups at 6, 12 and 24 months after the first action, for those due by 2022-12-31: the
-- fate once it holds on the due date (an eviction on or before it: evicted), else the
-- procedure is still pending; a few situations unknown (contact lost).
CREATE TEMP TABLE p_follow AS
SELECT p.n, h AS at_months, (p.first_on + make_interval(months => h))::date AS due_on,
       CASE WHEN pg_temp.u('fu-unknown:' || p.n || ':' || h) < 0.05 AND p.fate <> 'evicted' THEN 'unknown'
            WHEN p.fate_on IS NOT NULL AND p.fate_on <= (p.first_on + make_interval(months => h))::date THEN
              CASE p.fate WHEN 'left' THEN 'left_without_solution' ELSE p.fate END
            ELSE 'procedure_pending' END AS situation
FROM p, unnest(ARRAY[6, 12, 24]) AS h
WHERE (p.first_on + make_interval(months => h))::date <= DATE '2022-12-31';

INSERT INTO prevention_follow_up (id, case_id, at_months, due_on, situation, rk)
SELECT pg_temp.duuid('prevention-follow-up:' || n || ':' || at_months), pg_temp.duuid('prevention-case:' || n),
       at_months, due_on, situation, pg_temp.rk('prevention-follow-up:' || n || ':' || at_months)
FROM p_follow ORDER BY n, at_months;

-- ---------------------------------------------------------------------------------------------
-- Housing offers and placements, from the measures' housing outcomes (demo.sql): every
-- referral whose housing was accessed in social housing, through rental intermediation, in a
-- SAS flat, a shared flat for 18-25 year olds or a boarding house is placed in an offer of its
-- platform on the measure's housing date. Private rentals found by the household and housing
-- maintained need no offer.

CREATE TEMP TABLE h AS
SELECT r.id AS referral_id, r.platform, m.housing_on AS entered_on, m.housing_type,
       hh.composition, hh.children, row_number() OVER (ORDER BY m.housing_on, r.id) AS n
FROM measure m JOIN referral r ON r.id = m.referral_id JOIN household hh ON hh.id = r.household_id
WHERE m.housing_outcome = 'accessed'
  AND m.housing_type IN ('social_housing', 'rental_intermediation', 'sas_housing', 'youth_flatshare',
                         'boarding_house');
ALTER TABLE h ADD COLUMN kind text, ADD COLUMN typology text, ADD COLUMN left_on date,
  ADD COLUMN exit_reason text, ADD COLUMN offer_key text;
UPDATE h SET kind = CASE housing_type WHEN 'social_housing' THEN 'social_housing'
    WHEN 'rental_intermediation' THEN 'private_intermediation' WHEN 'sas_housing' THEN 'sas_flat'
    WHEN 'youth_flatshare' THEN 'youth_shared_flat' ELSE 'other' END;
-- the typology the household needs (small units for the many single persons)
UPDATE h SET typology = CASE
    WHEN kind = 'youth_shared_flat' THEN 'room'
    WHEN kind IN ('sas_flat', 'other') THEN 't1'
    WHEN composition = 'single_person' THEN pg_temp.pick('typo:' || n, '{t1,t2}', '{55,45}')
    WHEN composition = 'couple_no_child' THEN 't2'
    WHEN children <= 1 THEN 't3' WHEN children = 2 THEN pg_temp.pick('typo:' || n, '{t3,t4}', '{60,40}')
    WHEN children = 3 THEN 't4' ELSE 't5_plus' END;
-- stays: permanent housing is kept; intermediation leases pass to the household or end in
-- social housing after 12-24 months; a SAS flat is left for permanent housing after 6-18
-- months; a shared flat after 8-24 months; a boarding house is a home (a few leave).
UPDATE h SET left_on = CASE kind
    WHEN 'private_intermediation' THEN entered_on + pg_temp.between('stay:' || n, 365, 730)
    WHEN 'sas_flat' THEN entered_on + pg_temp.between('stay:' || n, 180, 540)
    WHEN 'youth_shared_flat' THEN entered_on + pg_temp.between('stay:' || n, 240, 720)
    WHEN 'other' THEN CASE WHEN pg_temp.u('stay-bh:' || n) < 0.15
                           THEN entered_on + pg_temp.between('stay:' || n, 200, 700) END END;
UPDATE h SET left_on = NULL WHERE left_on > DATE '2022-12-31';
UPDATE h SET exit_reason = CASE kind
    WHEN 'private_intermediation' THEN pg_temp.pick('exit:' || n, '{lease_transferred,permanent_housing}', '{55,45}')
    WHEN 'sas_flat' THEN pg_temp.pick('exit:' || n, '{permanent_housing,left_without_solution,other}', '{80,12,8}')
    WHEN 'youth_shared_flat' THEN pg_temp.pick('exit:' || n, '{permanent_housing,moved_elsewhere}', '{70,30}')
    ELSE pg_temp.pick('exit:' || n, '{moved_elsewhere,death,other}', '{60,20,20}') END
WHERE left_on IS NOT NULL;

-- Offers: a unit of its own for each placement in social housing or through intermediation;
-- SAS flats (capacity 1), shared flats (3 rooms) and one boarding house per territory (18
-- places) taken in turn: a placement goes to the first one free on its date (in the order they
-- were opened), a new one is opened when none is.
CREATE TEMP TABLE o (key text PRIMARY KEY, platform text, kind text, typology text,
  capacity int, available_from date, landlord text, label text, seq int);
UPDATE h SET offer_key = kind || ':' || n WHERE kind IN ('social_housing', 'private_intermediation');
INSERT INTO o (key, platform, kind, typology, capacity, available_from, landlord)
SELECT offer_key, platform, kind, typology, 1, entered_on - pg_temp.between('avail:' || n, 14, 75),
       CASE kind WHEN 'social_housing' THEN 'social' ELSE 'private' END
FROM h WHERE offer_key IS NOT NULL;

DO $$
DECLARE
  pl record;
  chosen text;
BEGIN
  FOR pl IN SELECT * FROM h WHERE offer_key IS NULL ORDER BY entered_on, n LOOP
    SELECT o.key INTO chosen FROM o
     WHERE o.platform = pl.platform AND o.kind = pl.kind
       AND (SELECT count(*) FROM h x WHERE x.offer_key = o.key
              AND x.entered_on <= pl.entered_on
              AND (x.left_on IS NULL OR x.left_on > pl.entered_on)) < o.capacity
     ORDER BY o.seq LIMIT 1;
    IF chosen IS NULL THEN
      chosen := pl.kind || ':' || pl.platform || ':' ||
                (SELECT count(*) + 1 FROM o WHERE o.platform = pl.platform AND o.kind = pl.kind);
      INSERT INTO o (key, platform, kind, typology, capacity, available_from, landlord, seq)
      VALUES (chosen, pl.platform, pl.kind, pl.typology,
              CASE pl.kind WHEN 'youth_shared_flat' THEN 3 WHEN 'other' THEN 18 ELSE 1 END,
              pl.entered_on - 30,
              CASE WHEN pl.kind = 'youth_shared_flat' AND pl.platform = 'boulonnais' THEN 'private' ELSE 'social' END,
              (SELECT count(*) + 1 FROM o));
    END IF;
    UPDATE h SET offer_key = chosen WHERE n = pl.n;
  END LOOP;
END
$$;

-- Vacant offers at the end of 2022: a SAS flat per AMI 1 territory, and social housing units
-- put forward by the landlords, mostly family-sized (the small units are the scarce ones).
INSERT INTO o (key, platform, kind, typology, capacity, available_from, landlord)
SELECT 'vacant-sas:' || pf, pf, 'sas_flat', 't1', 1, DATE '2022-11-02', 'social'
FROM unnest(ARRAY['artois', 'lens_henin']) AS pf
UNION ALL
SELECT 'vacant-social:' || pf || ':' || i, pf, 'social_housing',
       pg_temp.pick('vacant-typo:' || pf || ':' || i, '{t1,t2,t3,t4,t5_plus}', '{5,12,45,28,10}'), 1,
       DATE '2022-09-01' + pg_temp.between('vacant-from:' || pf || ':' || i, 0, 110), 'social'
FROM unnest(ARRAY['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois']) AS pf,
     generate_series(1, 6) AS i;

UPDATE o SET label = CASE kind
    WHEN 'sas_flat' THEN 'Logement SAS'
    WHEN 'youth_shared_flat' THEN 'Colocation jeunes'
    WHEN 'other' THEN 'Pension de famille'
    WHEN 'private_intermediation' THEN 'Logement en intermédiation locative'
    ELSE 'Logement social' END || ' — ' || (SELECT name FROM platform WHERE code = o.platform)
  || CASE WHEN split_part(key, ':', 3) <> '' THEN ' n° ' || split_part(key, ':', 3) ELSE '' END;

INSERT INTO housing_offer (id, platform, kind, landlord_kind, typology, capacity, available_from,
  available_to, label, rk)
SELECT pg_temp.duuid('housing-offer:' || key), platform, kind, landlord, typology, capacity,
       available_from, NULL, label, pg_temp.rk('housing-offer:' || key)
FROM o ORDER BY key;

INSERT INTO placement (id, referral_id, offer_id, platform, entered_on, left_on, exit_reason, rk)
SELECT pg_temp.duuid('placement:' || referral_id), referral_id, pg_temp.duuid('housing-offer:' || offer_key),
       platform, entered_on, left_on, exit_reason, pg_temp.rk('placement:' || referral_id)
FROM h ORDER BY n;

-- ---------------------------------------------------------------------------------------------
-- Fluidity meetings: every month on each territory (the second Tuesday), from March 2019 on
-- the AMI 1 territories and March 2021 on the others. A household placed in social housing was
-- presented at the last meeting at least three weeks before it entered, and accepted a
-- proposal there; households accompanied but not housed yet are presented too; some
-- proposals are declined.

CREATE TEMP TABLE f AS
SELECT pf.code AS platform, d AS held_on,
       row_number() OVER (ORDER BY d, pf.code) AS n
FROM platform pf,
     LATERAL (SELECT (m + ((9 - extract(isodow FROM m)::int) % 7) * interval '1 day' + interval '7 days')::date AS d
              FROM generate_series(greatest(pf.active_since, DATE '2019-01-01') + interval '2 months',
                                   TIMESTAMP '2022-12-01', interval '1 month') AS m) x;

CREATE TEMP TABLE f_pres AS
SELECT DISTINCT ON (h.referral_id) f.n, h.referral_id, true AS accepted
FROM h JOIN f ON f.platform = h.platform AND f.held_on <= h.entered_on - 21
JOIN referral r ON r.id = h.referral_id AND r.received_on <= f.held_on
WHERE h.kind = 'social_housing'
ORDER BY h.referral_id, f.held_on DESC;

INSERT INTO f_pres (n, referral_id, accepted)
SELECT f.n, r.id, false
FROM f JOIN referral r ON r.platform = f.platform
  AND (r.status_dates ->> 'orientation_proposed')::date <= f.held_on
  AND coalesce((r.status_dates ->> 'reoriented')::date, (r.status_dates ->> 'no_follow_up')::date,
               DATE '2099-01-01') > f.held_on
WHERE pg_temp.u('presented:' || f.n || ':' || r.id) < 0.035
  AND NOT EXISTS (SELECT 1 FROM h WHERE h.referral_id = r.id AND h.entered_on <= f.held_on + 90)
  AND NOT EXISTS (SELECT 1 FROM f_pres x WHERE x.n = f.n AND x.referral_id = r.id);

INSERT INTO fluidity_meeting (id, platform, held_on, landlords_present, proposals_made,
  proposals_accepted, rk)
SELECT pg_temp.duuid('fluidity:' || f.n), f.platform, f.held_on,
       ARRAY['Pas-de-Calais Habitat', 'Maisons & Cités']
         || CASE f.platform WHEN 'lens_henin' THEN '{SIA Habitat}'::text[]
                            WHEN 'boulonnais' THEN '{Habitat du Littoral}'::text[]
                            WHEN 'artois' THEN CASE WHEN pg_temp.u('ll:' || f.n) < 0.5 THEN '{SIA Habitat}'::text[] ELSE '{}' END
                            ELSE '{}' END,
       coalesce(a.accepted, 0) + least(coalesce(a.declined, 0), pg_temp.between('declined:' || f.n, 0, 2)),
       coalesce(a.accepted, 0), pg_temp.rk('fluidity:' || f.n)
FROM f LEFT JOIN (SELECT n, count(*) FILTER (WHERE accepted)::int AS accepted,
                         count(*) FILTER (WHERE NOT accepted)::int AS declined
                  FROM f_pres GROUP BY n) a ON a.n = f.n
ORDER BY f.n;

INSERT INTO fluidity_presentation (meeting_id, referral_id, rk)
SELECT pg_temp.duuid('fluidity:' || n), referral_id, pg_temp.rk('fluidity-presentation:' || n || ':' || referral_id)
FROM f_pres ORDER BY n, referral_id;

DROP TABLE f_pres, f, o, h, p_follow, p_action, p_stage, p;
DROP FUNCTION pg_temp.workday(date), pg_temp.rk(text), pg_temp.between(text, int, int),
  pg_temp.duuid(text), pg_temp.pick(text, text[], float8[]), pg_temp.u(text);
