-- lda-api demo data: partners, households, referrals (saisines) with their status timeline,
-- and support measures, reproducing the published figures of the Pas-de-Calais Logement
-- d'abord activity report 2018-2022 (see db/seed/README.md for the figures and their sources).
--
-- Contract (run by `lda-api seed-demo`):
--   * plain SQL, no psql meta-command, no BEGIN/COMMIT: the caller runs the whole file in ONE
--     transaction (PQexec of the whole text, or psql -1), as the database owner, on a freshly
--     migrated database whose case tables are empty;
--   * deterministic: every value (ids included) derives from md5 hashes of fixed labels and
--     row numbers, and from fixed dates; only created_at/updated_at take their now() defaults;
--   * household.person_key and created_by are left NULL: the service computes person_key with
--     its HMAC key afterwards (the names + birth dates are unique, so no two households of a
--     platform get the same key);
--   * the data is a snapshot as of 2022-12-31, the end of the reported period: every status,
--     measure, housing and concertation date is on or before that day.
--
-- Everything here is synthetic: names are drawn from lists of common first and last names and
-- combined at random with random birth dates; no real person's data.

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM partner) OR EXISTS (SELECT 1 FROM household)
     OR EXISTS (SELECT 1 FROM referral) OR EXISTS (SELECT 1 FROM measure) THEN
    RAISE EXCEPTION 'seed-demo: the database already holds partners, households, referrals or measures; the demo data only goes into an empty database';
  END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Deterministic pseudo-random helpers (temporary: dropped at the end of the script).
-- u(seed): uniform in (0, 1) from md5; pick(seed, codes, weights): weighted choice;
-- duuid(seed): a stable UUID (version 4 layout) from md5.

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

-- an integer in [lo, hi]
CREATE FUNCTION pg_temp.between(seed text, lo int, hi int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT lo + floor(pg_temp.u(seed) * (hi - lo + 1))::int
$$;

-- ---------------------------------------------------------------------------------------------
-- Partners: referring organisations of the Pas-de-Calais (the partner kinds of the vocabularies). Those with no
-- platform work department-wide.

CREATE TEMP TABLE d_partner (key text PRIMARY KEY, name text, kind text, platform text);
INSERT INTO d_partner (key, name, kind, platform) VALUES
  ('ccas-bethune',       'CCAS de Béthune',                                   'ccas', 'artois'),
  ('ccas-arras',         'CCAS d''Arras',                                     'ccas', 'artois'),
  ('ccas-bruay',         'CCAS de Bruay-la-Buissière',                        'ccas', 'artois'),
  ('ccas-lens',          'CCAS de Lens',                                      'ccas', 'lens_henin'),
  ('ccas-lievin',        'CCAS de Liévin',                                    'ccas', 'lens_henin'),
  ('ccas-henin',         'CCAS d''Hénin-Beaumont',                            'ccas', 'lens_henin'),
  ('ccas-saint-omer',    'CCAS de Saint-Omer',                                'ccas', 'audomarois'),
  ('ccas-boulogne',      'CCAS de Boulogne-sur-Mer',                          'ccas', 'boulonnais'),
  ('ccas-berck',         'CCAS de Berck',                                     'ccas', 'montreuillois'),
  ('mds-artois',         'Maison du Département Solidarité de l''Artois',     'departement_mds', 'artois'),
  ('mds-arrageois',      'Maison du Département Solidarité de l''Arrageois',  'departement_mds', 'artois'),
  ('mds-lens-lievin',    'Maison du Département Solidarité de Lens-Liévin',   'departement_mds', 'lens_henin'),
  ('mds-henin-carvin',   'Maison du Département Solidarité d''Hénin-Carvin',  'departement_mds', 'lens_henin'),
  ('mds-audomarois',     'Maison du Département Solidarité de l''Audomarois', 'departement_mds', 'audomarois'),
  ('mds-boulonnais',     'Maison du Département Solidarité du Boulonnais',    'departement_mds', 'boulonnais'),
  ('mds-montreuillois',  'Maison du Département Solidarité du Montreuillois', 'departement_mds', 'montreuillois'),
  ('udaf-62',            'UDAF du Pas-de-Calais',                             'guardianship', NULL),
  ('tutelle-bassin',     'Service mandataire de protection des majeurs du Bassin minier', 'guardianship', 'lens_henin'),
  ('tutelle-littoral',   'Service mandataire de protection des majeurs du Littoral',      'guardianship', 'boulonnais'),
  ('chrs-arrageois',     'CHRS de l''Arrageois',                              'shelter_structure', 'artois'),
  ('chu-lens',           'Centre d''hébergement d''urgence de Lens',          'shelter_structure', 'lens_henin'),
  ('rs-saint-omer',      'Résidence sociale de Saint-Omer',                   'shelter_structure', 'audomarois'),
  ('chrs-boulonnais',    'CHRS du Boulonnais',                                'shelter_structure', 'boulonnais'),
  ('siao-62',            'SIAO 62',                                           'siao', NULL),
  ('pdc-habitat',        'Pas-de-Calais Habitat',                             'social_landlord', NULL),
  ('maisons-cites',      'Maisons & Cités',                                   'social_landlord', NULL),
  ('sia-habitat',        'SIA Habitat',                                       'social_landlord', 'lens_henin'),
  ('habitat-littoral',   'Habitat du Littoral',                               'social_landlord', 'boulonnais'),
  ('secours-catholique', 'Secours catholique — délégation du Pas-de-Calais',  'association', NULL),
  ('restos-coeur',       'Les Restos du cœur du Pas-de-Calais',               'association', NULL),
  ('cheval-bleu',        'Le Cheval Bleu',                                    'association', NULL),
  ('epsm-vla',           'EPSM Val de Lys Artois',                            'mental_health', 'artois'),
  ('cmp-lens',           'CMP de Lens',                                       'mental_health', 'lens_henin'),
  ('cmp-saint-omer',     'CMP de Saint-Omer',                                 'mental_health', 'audomarois'),
  ('cmp-boulogne',       'CMP de Boulogne-sur-Mer',                           'mental_health', 'boulonnais'),
  ('spip-62',            'SPIP du Pas-de-Calais',                             'justice_spip', NULL),
  ('spip-bethune',       'SPIP du Pas-de-Calais — antenne de Béthune',        'justice_spip', 'artois'),
  ('caf-62',             'CAF du Pas-de-Calais',                              'caf', NULL),
  ('ml-lens-lievin',     'Mission locale de Lens-Liévin',                     'mission_locale', 'lens_henin'),
  ('ml-boulonnais',      'Mission locale du Boulonnais',                      'mission_locale', 'boulonnais'),
  ('ch-lens-social',     'Centre hospitalier de Lens — service social',       'other', 'lens_henin'),
  ('csapa-bethune',      'CSAPA de Béthune',                                  'other', 'artois');

INSERT INTO partner (id, name, kind, platform)
SELECT pg_temp.duuid('partner:' || key), name, kind, platform FROM d_partner ORDER BY key;

-- Communes of each territory, for referrers that are not registered partners ("de X" form).
CREATE TEMP TABLE d_commune (platform text, i int, de text, PRIMARY KEY (platform, i));
INSERT INTO d_commune (platform, i, de)
SELECT p, i, c FROM (VALUES
  ('artois', ARRAY['de Béthune', 'de Bruay-la-Buissière', 'd''Arras', 'd''Auchel', 'de Lillers',
                   'de Saint-Laurent-Blangy', 'de Bapaume', 'd''Avesnes-le-Comte', 'de Nœux-les-Mines']),
  ('lens_henin', ARRAY['de Lens', 'de Liévin', 'd''Hénin-Beaumont', 'de Carvin', 'd''Avion',
                       'de Bully-les-Mines', 'de Courrières', 'de Harnes', 'de Montigny-en-Gohelle']),
  ('audomarois', ARRAY['de Saint-Omer', 'd''Arques', 'de Longuenesse', 'd''Aire-sur-la-Lys',
                       'de Lumbres', 'de Blendecques']),
  ('boulonnais', ARRAY['de Boulogne-sur-Mer', 'd''Outreau', 'du Portel', 'de Saint-Martin-Boulogne',
                       'de Desvres', 'de Samer', 'de Marquise']),
  ('montreuillois', ARRAY['de Montreuil-sur-Mer', 'de Berck', 'd''Étaples', 'du Touquet-Paris-Plage',
                          'd''Hesdin', 'de Fruges', 'de Cucq'])
) AS v(p, cs), LATERAL unnest(cs) WITH ORDINALITY AS x(c, i);

-- ---------------------------------------------------------------------------------------------
-- Referrals received per platform and year: 1 266 in all (report l. 1048-1050); AMI 1
-- territories from January 2019, AMI 2 territories from 2021 (l. 474-484, 1699-1700), a
-- ramp-up in 2019-2020 (l. 701-708, 1199), the Montreuillois only partly covered in 2021
-- (l. 484, 748).

CREATE TEMP TABLE d (
  n               int PRIMARY KEY,
  platform        text NOT NULL,
  yr              int NOT NULL,
  pi              int NOT NULL,          -- rank within platform and year (file number)
  received_on     date NOT NULL,
  age             int,                   -- head's age at received_on
  composition     text,
  head_sex        text,
  adults          int,
  children        int,
  birth_date      date,
  last_name       text,
  first_name      text,
  hs              text,                  -- housing situation at referral
  resources       text[],
  vulnerabilities text[],
  reasons         text[],
  rkind           text,                  -- referrer kind
  partner_key     text,
  referrer_name   text,
  outcome         text,                  -- accompanied | reoriented | no_follow_up | in_progress
  housed          boolean NOT NULL DEFAULT false,  -- a measure with housing accessed/maintained
  status          text,
  path            text[],                -- statuses reached, in order
  dates           date[]                 -- their dates
);

INSERT INTO d (n, platform, yr, pi, received_on)
WITH plan(platform, yr, cnt, first_year) AS (VALUES
  ('artois', 2019, 100, true),  ('lens_henin', 2019, 90, true),
  ('artois', 2020, 135, false), ('lens_henin', 2020, 125, false),
  ('artois', 2021, 135, false), ('lens_henin', 2021, 125, false),
  ('audomarois', 2021, 55, true), ('boulonnais', 2021, 50, true), ('montreuillois', 2021, 25, true),
  ('artois', 2022, 138, false), ('lens_henin', 2022, 127, false),
  ('audomarois', 2022, 60, false), ('boulonnais', 2022, 61, false), ('montreuillois', 2022, 40, false)),
slot AS (
  SELECT p.platform, p.yr, i,
         make_date(p.yr, 1, 1) + floor((make_date(p.yr, 12, 31) - make_date(p.yr, 1, 1) + 1)
           * CASE WHEN p.first_year
                  THEN sqrt((i - pg_temp.u('received:' || p.platform || ':' || p.yr || ':' || i)) / p.cnt)
                  ELSE (i - pg_temp.u('received:' || p.platform || ':' || p.yr || ':' || i)) / p.cnt END)::int AS d0
  FROM plan p, generate_series(1, p.cnt) AS i),
workday AS (  -- referrals arrive on working days: 1 January and week-ends move to a weekday
  SELECT platform, yr, i,
         CASE WHEN extract(month FROM d1) = 1 AND extract(day FROM d1) <= 3 AND extract(isodow FROM d1) >= 6
              THEN d1 + (8 - extract(isodow FROM d1))::int
              WHEN extract(isodow FROM d1) >= 6 THEN d1 - (extract(isodow FROM d1) - 5)::int
              ELSE d1 END AS received_on
  FROM (SELECT platform, yr, i,
               CASE WHEN extract(month FROM d0) = 1 AND extract(day FROM d0) = 1 THEN d0 + 1 ELSE d0 END AS d1
        FROM slot) s)
SELECT row_number() OVER (ORDER BY received_on, platform, i), platform, yr,
       row_number() OVER (PARTITION BY platform, yr ORDER BY received_on, i), received_on
FROM workday;

-- ---------------------------------------------------------------------------------------------
-- Heads of household and household composition.

UPDATE d SET age = CASE band
    WHEN 'y' THEN pg_temp.between('age:' || n, 18, 24)
    WHEN 'a' THEN pg_temp.between('age:' || n, 25, 34)
    WHEN 'b' THEN pg_temp.between('age:' || n, 35, 44)
    WHEN 'c' THEN pg_temp.between('age:' || n, 45, 54)
    WHEN 'd' THEN pg_temp.between('age:' || n, 55, 64)
    ELSE pg_temp.between('age:' || n, 65, 79) END
FROM (SELECT n AS m, pg_temp.pick('ageband:' || n, '{y,a,b,c,d,e}', '{15,21,22,21,14,7}') AS band FROM d) b
WHERE b.m = d.n;

UPDATE d SET composition = CASE
    WHEN age < 25 THEN pg_temp.pick('composition:' || n,
      '{single_person,couple_no_child,couple_with_children,single_parent,other}', '{74,8,4,12,2}')
    WHEN age < 55 THEN pg_temp.pick('composition:' || n,
      '{single_person,couple_no_child,couple_with_children,single_parent,other}', '{50,8,13,25,4}')
    ELSE pg_temp.pick('composition:' || n,
      '{single_person,couple_no_child,couple_with_children,single_parent,other}', '{72,16,2,4,6}') END;

UPDATE d SET head_sex = CASE composition
    WHEN 'single_parent' THEN pg_temp.pick('sex:' || n, '{female,male,unknown}', '{88,11,1}')
    WHEN 'single_person' THEN pg_temp.pick('sex:' || n, '{female,male,other,unknown}', '{32,66,1,1}')
    WHEN 'other' THEN pg_temp.pick('sex:' || n, '{female,male,unknown}', '{48,50,2}')
    ELSE pg_temp.pick('sex:' || n, '{female,male,other}', '{37,62,1}') END;

UPDATE d SET
  adults = CASE composition WHEN 'single_person' THEN 1 WHEN 'single_parent' THEN 1
             WHEN 'other' THEN pg_temp.between('adults:' || n, 2, 3) ELSE 2 END,
  children = CASE composition
             WHEN 'couple_with_children' THEN pg_temp.pick('children:' || n, '{1,2,3,4}', '{35,35,20,10}')::int
             WHEN 'single_parent' THEN pg_temp.pick('children:' || n, '{1,2,3,4}', '{40,33,17,10}')::int
             WHEN 'other' THEN pg_temp.between('children:' || n, 0, 2)
             ELSE 0 END,
  -- exactly `age` years old on received_on
  birth_date = (received_on - make_interval(years => age))::date - pg_temp.between('birth:' || n, 0, 364);

-- Names: common last names of the region and first names by generation (synthetic pairs).
UPDATE d SET
  last_name = (ARRAY['Martin', 'Lefebvre', 'Dubois', 'Dupont', 'Leroy', 'Lemaire', 'Caron', 'Petit',
    'Bernard', 'Duval', 'Fontaine', 'Lambert', 'Delattre', 'Dumont', 'Carpentier', 'Vasseur',
    'Lecomte', 'Hennebelle', 'Delmotte', 'Lenoir', 'Poulain', 'Mercier', 'Boulanger', 'Roussel',
    'Fournier', 'Leclercq', 'Delannoy', 'Dufour', 'Lefort', 'Wallart', 'Cousin', 'Bertin',
    'Legrand', 'Bouchez', 'Flament', 'Wattez', 'Delcroix', 'Lemoine', 'Masson', 'Kaczmarek',
    'Nowak', 'Kowalski', 'Wozniak', 'Lewandowski', 'Szymanski', 'Benali', 'Haddad', 'Bouzid',
    'Mansouri', 'Diallo', 'Traoré', 'Camara', 'Da Silva', 'Pereira', 'Ferreira', 'Rossi',
    'Garcia', 'Lopez', 'Durand', 'Moreau', 'Girard', 'Robert', 'Richard', 'Thomas',
    'Vandenbussche', 'Bruneel', 'Deprez', 'Lagache', 'Dhainaut', 'Lesage'])
    [1 + floor(pg_temp.u('last:' || n) * 70)::int],
  first_name = (CASE
    WHEN head_sex = 'female' OR (head_sex IN ('other', 'unknown') AND pg_temp.u('fsex:' || n) < 0.5) THEN
      CASE WHEN extract(year FROM birth_date) < 1970 THEN
        ARRAY['Martine', 'Nicole', 'Sylvie', 'Monique', 'Chantal', 'Françoise', 'Brigitte', 'Catherine',
              'Christine', 'Annie', 'Josiane', 'Danielle', 'Patricia', 'Évelyne', 'Jacqueline', 'Maryse',
              'Régine', 'Fatima', 'Yvette', 'Colette']
      WHEN extract(year FROM birth_date) < 1990 THEN
        ARRAY['Sandrine', 'Nathalie', 'Valérie', 'Isabelle', 'Stéphanie', 'Céline', 'Aurélie', 'Émilie',
              'Virginie', 'Sabrina', 'Karine', 'Laetitia', 'Mélanie', 'Jessica', 'Audrey', 'Samira',
              'Élodie', 'Amandine', 'Vanessa', 'Séverine']
      ELSE
        ARRAY['Laura', 'Manon', 'Camille', 'Océane', 'Chloé', 'Marine', 'Pauline', 'Justine', 'Morgane',
              'Inès', 'Sarah', 'Léa', 'Anaïs', 'Mégane', 'Emma', 'Lina', 'Yasmine', 'Clara', 'Maëlle',
              'Kelly'] END
    ELSE
      CASE WHEN extract(year FROM birth_date) < 1970 THEN
        ARRAY['Jean-Pierre', 'Michel', 'Alain', 'Bernard', 'Gérard', 'Daniel', 'Patrick', 'Jacques',
              'Philippe', 'Christian', 'Serge', 'Jean-Claude', 'Didier', 'Francis', 'Guy', 'René',
              'Gilles', 'Joël', 'Mohamed', 'Roger']
      WHEN extract(year FROM birth_date) < 1990 THEN
        ARRAY['Christophe', 'Stéphane', 'Frédéric', 'David', 'Sébastien', 'Laurent', 'Olivier',
              'Nicolas', 'Cédric', 'Jérôme', 'Grégory', 'Mickaël', 'Fabrice', 'Ludovic', 'Arnaud',
              'Karim', 'Franck', 'Julien', 'Jonathan', 'Anthony']
      ELSE
        ARRAY['Kévin', 'Dylan', 'Jordan', 'Thomas', 'Lucas', 'Maxime', 'Florian', 'Alexandre',
              'Quentin', 'Valentin', 'Mathéo', 'Enzo', 'Hugo', 'Bryan', 'Yanis', 'Théo', 'Romain',
              'Adrien', 'Rayan', 'Killian'] END
    END)[1 + floor(pg_temp.u('first:' || n) * 20)::int];

-- ---------------------------------------------------------------------------------------------
-- Housing situation at referral, allocated exactly (report l. 1095-1103):
--   housed 392 (31.0 % — "plus de 30 % ... déjà en logement"),
--   street 106 + squat 34 = 140 (11.1 % — "plus de 10 % ... en errance, à la rue ou en squat"),
--   hosted_by_third_party 302 + shelter_structure 204 = 506 (40.0 % — "40 % sont hébergés chez
--   des tiers ou en structure"), and 228 others (institution, precarious housing, hotel, other,
--   unknown).
-- Each category takes its count among the rows still unallocated, by weighted sampling
-- without replacement (key ln(u)/w, largest first): the counts are exact, the weights make the
-- profiles plausible (older heads and families already housed, young single men in the street).

UPDATE d SET hs = 'housed' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:housed:' || n)) / (CASE WHEN age >= 55 THEN 2.0 WHEN age < 25 THEN 0.35 ELSE 1.0 END
    * CASE WHEN children > 0 THEN 1.6 ELSE 1.0 END) DESC, n LIMIT 392);
UPDATE d SET hs = 'street' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:street:' || n)) / (CASE WHEN children > 0 THEN 0.1 ELSE 1.0 END
    * CASE WHEN head_sex = 'male' THEN 2.5 ELSE 1.0 END * CASE WHEN age < 25 THEN 1.4 ELSE 1.0 END) DESC, n LIMIT 106);
UPDATE d SET hs = 'squat' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:squat:' || n)) / (CASE WHEN children > 0 THEN 0.3 ELSE 1.0 END
    * CASE WHEN age < 35 THEN 1.8 ELSE 1.0 END) DESC, n LIMIT 34);
UPDATE d SET hs = 'institution' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:institution:' || n)) / (CASE WHEN children > 0 THEN 0.15 ELSE 1.0 END
    * CASE WHEN head_sex = 'male' THEN 2.0 ELSE 1.0 END * CASE WHEN age < 22 THEN 2.5 ELSE 1.0 END) DESC, n LIMIT 78);
UPDATE d SET hs = 'hotel' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:hotel:' || n)) / (CASE WHEN children > 0 THEN 2.5 ELSE 1.0 END) DESC, n LIMIT 38);
UPDATE d SET hs = 'shelter_structure' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:shelter:' || n)) / (CASE WHEN composition = 'single_parent' THEN 1.5 ELSE 1.0 END) DESC, n LIMIT 204);
UPDATE d SET hs = 'hosted_by_third_party' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:hosted:' || n)) / (CASE WHEN age < 25 THEN 2.5 WHEN age < 35 THEN 1.4 ELSE 1.0 END) DESC, n LIMIT 302);
UPDATE d SET hs = 'precarious_housing' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:precarious:' || n)) DESC, n LIMIT 60);
UPDATE d SET hs = 'unknown' WHERE n IN (SELECT n FROM d WHERE hs IS NULL
  ORDER BY ln(pg_temp.u('hs:unknown:' || n)) DESC, n LIMIT 12);
UPDATE d SET hs = 'other' WHERE hs IS NULL;  -- the remaining 40

-- ---------------------------------------------------------------------------------------------
-- Resources (codes in vocabulary order), vulnerabilities, reasons for the referral.

UPDATE d SET resources = ARRAY(
    SELECT c FROM unnest('{rsa,aah,salary,unemployment_benefit,pension,youth_guarantee,none,other,unknown}'::text[])
                  WITH ORDINALITY AS v(c, o)
    WHERE c = r1 OR c = r2 ORDER BY o)
FROM (SELECT n AS m, r1,
             CASE WHEN r1 IN ('none', 'unknown') THEN NULL
                  WHEN children > 0 AND pg_temp.u('res2:' || n) < 0.55 THEN 'other'
                  WHEN pg_temp.u('res2:' || n) < 0.12 THEN
                    CASE WHEN age < 25 THEN 'salary' ELSE pg_temp.pick('res2k:' || n, '{salary,aah,other}', '{45,25,30}') END
             END AS r2
      FROM (SELECT n, age, children, CASE
              WHEN age < 25 THEN pg_temp.pick('res:' || n,
                '{none,youth_guarantee,salary,aah,unemployment_benefit,other}', '{45,25,10,5,5,10}')
              WHEN age < 62 THEN pg_temp.pick('res:' || n,
                '{rsa,aah,salary,unemployment_benefit,none,other,unknown}', '{42,15,14,12,9,5,3}')
              ELSE pg_temp.pick('res:' || n, '{pension,aah,rsa,none,other,unknown}', '{65,15,8,4,5,3}')
            END AS r1 FROM d) x) y
WHERE y.m = d.n;

UPDATE d SET vulnerabilities = array_remove(ARRAY[
    CASE WHEN pg_temp.u('v:mental:' || n) < CASE WHEN hs IN ('street', 'squat') THEN 0.50
                                               WHEN hs = 'institution' THEN 0.45 ELSE 0.28 END
         THEN 'mental_health' END,
    CASE WHEN pg_temp.u('v:addiction:' || n) < CASE WHEN hs IN ('street', 'squat') THEN 0.45 ELSE 0.17 END
         THEN 'addiction' END,
    CASE WHEN head_sex = 'female'
          AND pg_temp.u('v:dv:' || n) < CASE WHEN composition = 'single_parent' THEN 0.32 ELSE 0.18 END
         THEN 'domestic_violence' END,
    CASE WHEN pg_temp.u('v:eviction:' || n) < CASE WHEN hs = 'housed' THEN 0.70
                                                 WHEN hs IN ('hosted_by_third_party', 'hotel') THEN 0.12 ELSE 0.03 END
         THEN 'eviction' END,
    CASE WHEN pg_temp.u('v:justice:' || n) < CASE WHEN hs = 'institution' THEN 0.45
                                                WHEN hs IN ('street', 'squat', 'shelter_structure') AND head_sex = 'male' THEN 0.08
                                                ELSE 0.01 END
         THEN 'justice_release' END,
    CASE WHEN pg_temp.u('v:disability:' || n) < CASE WHEN age >= 55 OR 'aah' = ANY (resources) THEN 0.35 ELSE 0.06 END
         THEN 'disability' END,
    CASE WHEN age < 25 AND pg_temp.u('v:ase:' || n) < CASE WHEN hs = 'institution' THEN 0.6 ELSE 0.25 END
         THEN 'child_welfare_leaver' END,
    CASE WHEN age < 25 AND resources = '{none}' THEN 'no_resources_youth' END], NULL);

UPDATE d SET reasons = CASE WHEN cardinality(r) = 0 THEN '{other}' ELSE r END
FROM (SELECT n AS m, array_remove(ARRAY[
    CASE WHEN 'eviction' = ANY (vulnerabilities) THEN 'eviction_risk' END,
    CASE WHEN hs IN ('street', 'squat')
           OR (hs = 'hosted_by_third_party' AND pg_temp.u('r:home:' || n) < 0.7)
           OR (hs IN ('hotel', 'precarious_housing') AND pg_temp.u('r:home:' || n) < 0.4)
         THEN 'homelessness' END,
    CASE WHEN hs IN ('shelter_structure', 'institution')
           OR (hs = 'hotel' AND pg_temp.u('r:leave:' || n) < 0.5)
         THEN 'leaving_structure' END,
    CASE WHEN (hs = 'housed' AND (NOT 'eviction' = ANY (vulnerabilities) OR pg_temp.u('r:unsuit:' || n) < 0.2))
           OR hs = 'precarious_housing'
         THEN 'unsuitable_housing' END,
    CASE WHEN 'domestic_violence' = ANY (vulnerabilities) AND pg_temp.u('r:dv:' || n) < 0.8
         THEN 'domestic_violence' END,
    CASE WHEN ('mental_health' = ANY (vulnerabilities) OR 'addiction' = ANY (vulnerabilities))
          AND pg_temp.u('r:health:' || n) < 0.45
         THEN 'health' END,
    CASE WHEN pg_temp.u('r:other:' || n) < 0.04 THEN 'other' END], NULL) AS r FROM d) x
WHERE x.m = d.n;

-- ---------------------------------------------------------------------------------------------
-- Referrer kind, allocated exactly. The report lists the referrers as "CCAS, Département,
-- tutelles, structures d'hébergement, SIAO, ..." (l. 1104-1106): they come first, in that
-- order, then landlords, associations, mental health (l. 1116-1136), justice (l. 1345-1353),
-- missions locales (l. 1223), CAF and others. Counts: ccas 245, departement_mds 215,
-- guardianship 160, shelter_structure 140, siao 120, social_landlord 105, association 95,
-- mental_health 70, justice_spip 45, mission_locale 35, caf 20, other 16.

UPDATE d SET rkind = 'justice_spip' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:spip:' || n)) / (0.05 + CASE WHEN 'justice_release' = ANY (vulnerabilities) THEN 8 ELSE 0 END
    + CASE WHEN hs = 'institution' THEN 2 ELSE 0 END) DESC, n LIMIT 45);
UPDATE d SET rkind = 'mission_locale' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:ml:' || n)) / (CASE WHEN age < 25 THEN 4.0 ELSE 0.02 END) DESC, n LIMIT 35);
UPDATE d SET rkind = 'mental_health' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:mh:' || n)) / (CASE WHEN 'mental_health' = ANY (vulnerabilities) THEN 6.0 ELSE 0.2 END) DESC, n LIMIT 70);
UPDATE d SET rkind = 'caf' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:caf:' || n)) / (CASE WHEN children > 0 THEN 3.0 ELSE 0.5 END) DESC, n LIMIT 20);
UPDATE d SET rkind = 'social_landlord' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:landlord:' || n)) / (CASE WHEN hs = 'housed' THEN 6.0 ELSE 0.1 END) DESC, n LIMIT 105);
UPDATE d SET rkind = 'shelter_structure' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:shelter:' || n)) / (CASE WHEN hs = 'shelter_structure' THEN 8.0
    WHEN hs = 'hotel' THEN 2.0 ELSE 0.1 END) DESC, n LIMIT 140);
UPDATE d SET rkind = 'siao' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:siao:' || n)) / (CASE WHEN hs IN ('street', 'squat') THEN 6.0 WHEN hs = 'hotel' THEN 3.0
    WHEN hs = 'hosted_by_third_party' THEN 1.5 ELSE 0.3 END) DESC, n LIMIT 120);
UPDATE d SET rkind = 'guardianship' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:tutelle:' || n)) / (CASE WHEN age >= 45 THEN 2.0 ELSE 0.7 END
    * CASE WHEN 'disability' = ANY (vulnerabilities) OR 'mental_health' = ANY (vulnerabilities) THEN 2.0 ELSE 1.0 END
    * CASE WHEN hs = 'housed' THEN 1.5 ELSE 1.0 END) DESC, n LIMIT 160);
UPDATE d SET rkind = 'association' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:asso:' || n)) / (CASE WHEN hs IN ('street', 'squat', 'precarious_housing') THEN 3.0 ELSE 1.0 END) DESC, n LIMIT 95);
UPDATE d SET rkind = 'other' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:other:' || n)) / (CASE WHEN 'addiction' = ANY (vulnerabilities) THEN 3.0 ELSE 1.0 END) DESC, n LIMIT 16);
UPDATE d SET rkind = 'departement_mds' WHERE n IN (SELECT n FROM d WHERE rkind IS NULL
  ORDER BY ln(pg_temp.u('rk:mds:' || n)) / (CASE WHEN children > 0 THEN 2.0 ELSE 1.0 END) DESC, n LIMIT 215);
UPDATE d SET rkind = 'ccas' WHERE rkind IS NULL;  -- the remaining 245

-- A registered partner of the referral's platform (or a department-wide one) for about 85 %
-- of the referrals; otherwise referrer_kind + referrer_name (an unregistered referrer).
UPDATE d SET partner_key = p.key
FROM (SELECT d.n AS m, (array_agg(p.key ORDER BY p.key))[1 + floor(pg_temp.u('partner:' || d.n) * count(*))::int] AS key
      FROM d JOIN d_partner p ON p.kind = d.rkind AND (p.platform IS NULL OR p.platform = d.platform)
      WHERE pg_temp.u('registered:' || d.n) < 0.85
      GROUP BY d.n) p
WHERE p.m = d.n;

UPDATE d SET referrer_name = CASE rkind
    WHEN 'ccas' THEN 'CCAS ' || c.de
    WHEN 'departement_mds' THEN 'Service social départemental — antenne ' || c.de
    WHEN 'guardianship' THEN 'Mandataire judiciaire à la protection des majeurs ' || c.de
    WHEN 'shelter_structure' THEN 'Centre d''hébergement ' || c.de
    WHEN 'siao' THEN 'SIAO 62 — équipe du 115'
    WHEN 'social_landlord' THEN 'Bailleur social — agence ' || c.de
    WHEN 'association' THEN 'Association caritative ' || c.de
    WHEN 'mental_health' THEN 'CMP ' || c.de
    WHEN 'justice_spip' THEN 'SPIP du Pas-de-Calais — permanence ' || c.de
    WHEN 'caf' THEN 'CAF du Pas-de-Calais — accueil ' || c.de
    WHEN 'mission_locale' THEN 'Mission locale — antenne ' || c.de
    ELSE 'Centre hospitalier ' || c.de END
FROM d_commune c
WHERE d.partner_key IS NULL AND c.platform = d.platform
  AND c.i = 1 + floor(pg_temp.u('commune:' || d.n)
                      * (SELECT count(*) FROM d_commune c2 WHERE c2.platform = d.platform))::int;

-- ---------------------------------------------------------------------------------------------
-- Outcomes, allocated exactly (report l. 1048-1083): 634 accompanied, 275 reoriented, 79
-- without follow-up, hence 278 still in progress on 31 December 2022 (the most recent
-- referrals first: everything received in the last 20 days of 2022 is still in progress).
-- Every year of each AMI keeps at least 11 referrals in progress and 11 without follow-up
-- (the statistics' threshold): the yearly official figures of the demo are then all
-- published, as the report publishes them.

UPDATE d SET outcome = 'in_progress' WHERE n IN (SELECT n FROM (
    SELECT n, row_number() OVER (PARTITION BY extract(year FROM received_on),
                                              platform IN ('artois', 'lens_henin')
                                 ORDER BY ln(pg_temp.u('outcome:progress:' || n)) /
      (0.02 + exp(-(DATE '2022-12-31' - received_on) / 100.0)) DESC, n) AS k
    FROM d) x WHERE k <= 11);
UPDATE d SET outcome = 'in_progress' WHERE n IN (SELECT n FROM d WHERE outcome IS NULL
  ORDER BY ln(pg_temp.u('outcome:progress:' || n)) /
    (CASE WHEN received_on > DATE '2022-12-11' THEN 1e6
          ELSE 0.02 + exp(-(DATE '2022-12-31' - received_on) / 100.0) END) DESC, n
  LIMIT 278 - (SELECT count(*) FROM d WHERE outcome = 'in_progress'));
UPDATE d SET outcome = 'no_follow_up' WHERE n IN (SELECT n FROM (
    SELECT n, row_number() OVER (PARTITION BY extract(year FROM received_on),
                                              platform IN ('artois', 'lens_henin')
                                 ORDER BY pg_temp.u('outcome:nofollow:' || n), n) AS k
    FROM d WHERE outcome IS NULL) x WHERE k <= 11);
UPDATE d SET outcome = 'accompanied' WHERE n IN (SELECT n FROM d WHERE outcome IS NULL
  ORDER BY ln(pg_temp.u('outcome:accompanied:' || n)) /
    (CASE hs WHEN 'housed' THEN 1.3 WHEN 'unknown' THEN 0.3 WHEN 'other' THEN 0.6 WHEN 'hotel' THEN 0.7
             WHEN 'institution' THEN 0.8 ELSE 1.0 END) DESC, n LIMIT 634);
UPDATE d SET outcome = 'reoriented' WHERE n IN (SELECT n FROM d WHERE outcome IS NULL
  ORDER BY ln(pg_temp.u('outcome:reoriented:' || n)) /
    (CASE WHEN hs IN ('shelter_structure', 'institution', 'hotel') THEN 2.0 ELSE 1.0 END) DESC, n LIMIT 275);
UPDATE d SET outcome = 'no_follow_up' WHERE outcome IS NULL;  -- the remaining 13 (79 in all)

-- Status paths. Delays (days) between statuses: assessing 2-21 after receipt, orientation
-- 7-50 after assessing, accompaniment 5-75 after orientation, reorientation / no follow-up
-- 5-60 after the last step; shortened for recent referrals so that every date stays on or
-- before 2022-12-31 (each step gets at most a share of the days left).
UPDATE d SET path = CASE outcome
    WHEN 'accompanied' THEN '{received,assessing,orientation_proposed,accompanied}'::text[]
    WHEN 'in_progress' THEN
      CASE WHEN DATE '2022-12-31' - received_on < 12 THEN '{received}'::text[]
           WHEN DATE '2022-12-31' - received_on < 40 THEN
             CASE WHEN pg_temp.u('progress:' || n) < 0.3 THEN '{received}'::text[] ELSE '{received,assessing}'::text[] END
           WHEN DATE '2022-12-31' - received_on < 90 THEN
             CASE WHEN pg_temp.u('progress:' || n) < 0.08 THEN '{received}'::text[]
                  WHEN pg_temp.u('progress:' || n) < 0.40 THEN '{received,assessing}'::text[]
                  ELSE '{received,assessing,orientation_proposed}'::text[] END
           -- older ones: assessment still going on, or waiting for a place in a measure
           ELSE CASE WHEN pg_temp.u('progress:' || n) < 0.25 THEN '{received,assessing}'::text[]
                     ELSE '{received,assessing,orientation_proposed}'::text[] END END
    WHEN 'reoriented' THEN
      CASE pg_temp.pick('reoriented:' || n, '{0,1,2}', '{15,45,40}')
        WHEN '0' THEN '{received,reoriented}'::text[]
        WHEN '1' THEN '{received,assessing,reoriented}'::text[]
        ELSE '{received,assessing,orientation_proposed,reoriented}'::text[] END
    ELSE
      CASE pg_temp.pick('nofollow:' || n, '{0,1,2}', '{45,45,10}')
        WHEN '0' THEN '{received,no_follow_up}'::text[]
        WHEN '1' THEN '{received,assessing,no_follow_up}'::text[]
        ELSE '{received,assessing,orientation_proposed,no_follow_up}'::text[] END END;

UPDATE d SET dates = x.dates
FROM (SELECT s.n AS m,
             array_agg(s.received_on + (sum_delay)::int ORDER BY s.k) AS dates
      FROM (SELECT d.n, d.received_on, k,
                   sum(CASE WHEN k = 1 THEN 0 ELSE
                         least(lo, hi_cap) + floor(pg_temp.u('delay:' || d.n || ':' || k)
                                                   * (greatest(least(hi, hi_cap), least(lo, hi_cap)) - least(lo, hi_cap) + 1))
                       END) OVER (PARTITION BY d.n ORDER BY k) AS sum_delay
            FROM d,
                 LATERAL generate_subscripts(d.path, 1) AS k,
                 LATERAL (SELECT CASE d.path[k]
                                   WHEN 'assessing' THEN 2 WHEN 'orientation_proposed' THEN 7
                                   WHEN 'accompanied' THEN 5 ELSE 5 END AS lo,
                                 CASE d.path[k]
                                   WHEN 'assessing' THEN 21 WHEN 'orientation_proposed' THEN 50
                                   WHEN 'accompanied' THEN 75 ELSE 60 END AS hi,
                                 greatest(1, (DATE '2022-12-31' - d.received_on) / greatest(1, cardinality(d.path) - 1)) AS hi_cap) b
           ) s
      GROUP BY s.n) x
WHERE x.m = d.n;

-- ---------------------------------------------------------------------------------------------
-- Support measures (report l. 704-708, 764, 867-939): from January 2019 to 2020 the
-- experimental accompaniments ("de type Solibail", médiation locative, "CHRS hors les murs")
-- are kind `other`; from 2021 the three measures ADSL, VIAL and ENVAUL (ENVAUL only for heads
-- under 25 on the start date). An accompaniment still running on 1 January 2021 is relayed by
-- one of the three new measures in January-February 2021.
-- 445 of the 634 accompanied referrals have a measure with housing accessed or maintained
-- (report l. 1059-1063): those accompanied longest are the most likely.

CREATE TEMP TABLE d_acc AS
SELECT n, platform, hs, age, birth_date, vulnerabilities, resources, dates[4] AS acc_on,
       dates[4] + CASE WHEN hs IN ('street', 'squat') THEN pg_temp.between('duration:' || n, 300, 720)
                       ELSE pg_temp.between('duration:' || n, 240, 600) END AS planned_end,
       pg_temp.u('dropout:' || n) < 0.40 AS dropout
FROM d WHERE outcome = 'accompanied';

UPDATE d SET housed = true WHERE n IN (SELECT n FROM d_acc
  ORDER BY ln(pg_temp.u('housed:' || n)) /
    ((0.03 + power(least(1.0, (DATE '2022-12-31' - acc_on) / 240.0), 1.5))
     * CASE WHEN hs = 'housed' THEN 1.5 ELSE 1.0 END) DESC, n LIMIT 445);

ALTER TABLE d_acc ADD COLUMN housed boolean, ADD COLUMN end_on date, ADD COLUMN housing_on date,
  ADD COLUMN outcome text;
UPDATE d_acc a SET housed = d.housed FROM d WHERE d.n = a.n;

-- End of the accompaniment (NULL: still running on 2022-12-31); a household without housing
-- may break off early.
UPDATE d_acc SET end_on = CASE
    WHEN NOT housed AND dropout THEN
      CASE WHEN acc_on + pg_temp.between('dropout-at:' || n, 60, 300) <= DATE '2022-12-31'
           THEN acc_on + pg_temp.between('dropout-at:' || n, 60, 300) END
    WHEN planned_end <= DATE '2022-12-31' THEN planned_end END;
UPDATE d_acc SET
  outcome = CASE WHEN NOT housed THEN CASE WHEN end_on IS NOT NULL THEN 'none' END
                 WHEN hs = 'housed' AND pg_temp.u('maintained:' || n) < 0.92 THEN 'maintained'
                 ELSE 'accessed' END,
  housing_on = CASE WHEN housed THEN
      acc_on + floor((coalesce(end_on, DATE '2022-12-31') - acc_on) * (0.1 + 0.6 * pg_temp.u('housing-on:' || n)))::int END;

-- The relay of 2021: the experimental measure ends on 2020-12-31, the new one starts on a
-- working day of January-February 2021. A housing date in between moves to the new start.
ALTER TABLE d_acc ADD COLUMN relay_on date;
UPDATE d_acc SET relay_on = DATE '2021-01-04' + pg_temp.between('relay:' || n, 0, 40)
WHERE acc_on < DATE '2021-01-01' AND (end_on IS NULL OR end_on >= DATE '2021-01-01');
UPDATE d_acc SET relay_on = relay_on - (extract(isodow FROM relay_on)::int - 5)
WHERE extract(isodow FROM relay_on) >= 6;
UPDATE d_acc SET end_on = relay_on + 1 WHERE relay_on IS NOT NULL AND end_on < relay_on;
UPDATE d_acc SET housing_on = relay_on
WHERE relay_on IS NOT NULL AND housing_on > DATE '2020-12-31' AND housing_on < relay_on;

CREATE TEMP TABLE d_measure (
  n int, k int, kind text, operator text, started_on date, ended_on date, end_reason text,
  housing_outcome text, housing_type text, housing_on date, PRIMARY KEY (n, k));

-- k = 1: the first measure; k = 2: the 2021 relay.
INSERT INTO d_measure (n, k, started_on, ended_on)
SELECT n, 1, acc_on, CASE WHEN relay_on IS NOT NULL THEN DATE '2020-12-31' ELSE end_on END FROM d_acc
UNION ALL
SELECT n, 2, relay_on, end_on FROM d_acc WHERE relay_on IS NOT NULL;

UPDATE d_measure m SET kind = CASE
    WHEN m.started_on < DATE '2021-01-01' THEN 'other'
    WHEN extract(year FROM age(m.started_on, a.birth_date)) < 25
         AND a.hs NOT IN ('housed', 'unknown', 'other')
         AND pg_temp.u('kind:envaul:' || m.n || ':' || m.k) < 0.85 THEN 'envaul'
    WHEN pg_temp.u('kind:other:' || m.n || ':' || m.k) < 0.03 THEN 'other'   -- e.g. an IML measure
    WHEN pg_temp.u('kind:vial:' || m.n || ':' || m.k) <
         CASE WHEN a.hs IN ('street', 'squat') THEN 0.8
              WHEN a.hs = 'precarious_housing' THEN 0.5
              WHEN a.vulnerabilities && '{mental_health,addiction}' THEN 0.45
              ELSE 0.08 END THEN 'vial'
    ELSE 'adsl' END
FROM d_acc a WHERE a.n = m.n;

-- Operators: the associations carrying the measures on each territory (La Vie Active and
-- APSA are cited by the report, l. 1435-1437; the assignment of measures to them is synthetic).
UPDATE d_measure m SET operator = CASE
    WHEN d.platform IN ('artois', 'lens_henin') THEN
      CASE WHEN pg_temp.u('operator:' || m.n || ':' || m.k) < CASE d.platform WHEN 'artois' THEN 0.65 ELSE 0.35 END
           THEN 'La Vie Active' ELSE 'APSA' END
    WHEN d.platform = 'audomarois' THEN 'Association d''accompagnement social de l''Audomarois'
    WHEN d.platform = 'boulonnais' THEN 'Association d''accompagnement social du Boulonnais'
    ELSE 'Association d''accompagnement social du Montreuillois' END
FROM d WHERE d.n = m.n;

-- Housing outcome on the measure running on the housing date; `none` on the last measure of an
-- accompaniment that ended without housing; end reasons consistent with the outcome.
UPDATE d_measure m SET
  housing_outcome = CASE
    WHEN a.housed AND a.housing_on >= m.started_on AND (m.ended_on IS NULL OR a.housing_on <= m.ended_on)
      THEN a.outcome
    WHEN NOT a.housed AND a.outcome = 'none' AND m.ended_on = a.end_on THEN 'none' END,
  end_reason = CASE
    WHEN m.ended_on IS NULL THEN NULL
    WHEN m.k = 1 AND a.relay_on IS NOT NULL THEN 'other'   -- relayed by the 2021 measures
    WHEN a.housed THEN pg_temp.pick('end:' || m.n, '{goals_met,handover_mainstream,other}', '{55,40,5}')
    WHEN a.dropout THEN pg_temp.pick('end:' || m.n, '{broken_off,moved_away,death,other}', '{55,25,5,15}')
    ELSE pg_temp.pick('end:' || m.n, '{handover_mainstream,broken_off,other}', '{50,30,20}') END
FROM d_acc a WHERE a.n = m.n;

UPDATE d_measure m SET
  housing_on = a.housing_on,
  housing_type = CASE
    WHEN m.housing_outcome = 'maintained' THEN
      pg_temp.pick('htype:' || m.n, '{social_housing,private_rental,other}', '{68,28,4}')
    WHEN m.kind = 'envaul' THEN
      CASE WHEN extract(year FROM age(a.housing_on, a.birth_date)) <= 25
           THEN pg_temp.pick('htype:' || m.n, '{youth_flatshare,social_housing,rental_intermediation,private_rental}', '{40,30,20,10}')
           ELSE pg_temp.pick('htype:' || m.n, '{social_housing,rental_intermediation,private_rental}', '{50,30,20}') END
    WHEN m.kind = 'vial' THEN
      pg_temp.pick('htype:' || m.n, '{sas_housing,boarding_house,social_housing,rental_intermediation,other}', '{25,25,35,10,5}')
    ELSE pg_temp.pick('htype:' || m.n, '{social_housing,private_rental,rental_intermediation,boarding_house,other}', '{60,15,15,5,5}') END
FROM d_acc a WHERE a.n = m.n AND m.housing_outcome IN ('accessed', 'maintained');

-- Accompaniments that ended: the referral moves to accompaniment_ended on the last end date.
UPDATE d SET path = path || '{accompaniment_ended}'::text[], dates = dates || a.end_on
FROM d_acc a WHERE a.n = d.n AND a.end_on IS NOT NULL;
UPDATE d SET status = path[cardinality(path)];

-- ---------------------------------------------------------------------------------------------
-- Rows of the service's tables.

INSERT INTO household (id, platform, external_ref, composition, adults, children, head_last_name,
  head_first_name, head_birth_date, head_sex, resources, housing_situation, vulnerabilities)
SELECT pg_temp.duuid('household:' || n), platform,
       CASE platform WHEN 'artois' THEN 'ART' WHEN 'lens_henin' THEN 'LEN' WHEN 'audomarois' THEN 'AUD'
                     WHEN 'boulonnais' THEN 'BOU' ELSE 'MON' END || '-' || yr || '-' || lpad(pi::text, 4, '0'),
       composition, adults, children, last_name, first_name, birth_date, head_sex, resources, hs,
       vulnerabilities
FROM d ORDER BY n;

INSERT INTO referral (id, household_id, platform, partner_id, referrer_kind, referrer_name,
  received_on, has_social_note, reasons, status, status_dates, concertation_held_on,
  concertation_household_present, decision_note)
SELECT pg_temp.duuid('referral:' || n), pg_temp.duuid('household:' || n), platform,
       CASE WHEN partner_key IS NOT NULL THEN pg_temp.duuid('partner:' || partner_key) END,
       CASE WHEN partner_key IS NULL THEN rkind END, referrer_name,
       received_on, pg_temp.u('social-note:' || n) < 0.45, reasons, status,
       (SELECT jsonb_object_agg(s, to_char(t, 'YYYY-MM-DD')) FROM unnest(path, dates) AS z(s, t)),
       conc_on, CASE WHEN conc_on IS NOT NULL THEN pg_temp.u('conc-present:' || n) < 0.85 END,
       CASE status
         WHEN 'reoriented' THEN pg_temp.pick('decision:' || n,
           ARRAY['Réorientation vers un accompagnement de droit commun (ASLL).',
                 'Réorientation vers le SIAO pour une demande d''hébergement.',
                 'Réorientation vers le service social de secteur.',
                 'Situation relevant d''une mesure d''intermédiation locative (IML).',
                 'Réorientation vers un dispositif de soins (CMP).'], '{30,25,20,15,10}')
         WHEN 'no_follow_up' THEN pg_temp.pick('decision:' || n,
           ARRAY['Ménage injoignable malgré plusieurs relances.',
                 'Le ménage n''a pas donné suite à la proposition.',
                 'Situation résolue avant l''étayage.',
                 'Départ du territoire.'], '{40,30,20,10}')
       END
FROM (SELECT d.*,
             CASE WHEN cardinality(path) >= 3 AND path[3] = 'orientation_proposed'
                   AND pg_temp.u('concertation:' || n) < 0.4
                  THEN dates[2] + floor(pg_temp.u('conc-on:' || n) * (dates[3] - dates[2] + 1))::int END AS conc_on
      FROM d) x
ORDER BY n;

INSERT INTO referral_event (referral_id, at, on_date, from_status, to_status, note)
SELECT pg_temp.duuid('referral:' || n),
       (t + make_interval(hours => 9, mins => pg_temp.between('event-at:' || n || ':' || k, 0, 479)))
         AT TIME ZONE 'Europe/Paris',
       t, CASE WHEN k > 1 THEN path[k - 1] END, s,
       CASE s WHEN 'received' THEN 'Saisine reçue par la plateforme.'
              WHEN 'assessing' THEN 'Étayage de la situation.'
              WHEN 'orientation_proposed' THEN 'Proposition d''orientation.'
              WHEN 'accompanied' THEN 'Mise en place de l''accompagnement.'
              WHEN 'accompaniment_ended' THEN 'Fin de l''accompagnement.'
              WHEN 'reoriented' THEN 'Ménage réorienté.'
              ELSE 'Saisine classée sans suite.' END
FROM d, unnest(path, dates) WITH ORDINALITY AS z(s, t, k)
ORDER BY n, k;

INSERT INTO measure (id, referral_id, kind, operator, started_on, ended_on, end_reason,
  housing_outcome, housing_type, housing_on)
SELECT pg_temp.duuid('measure:' || n || ':' || k), pg_temp.duuid('referral:' || n), kind, operator,
       started_on, ended_on, end_reason, housing_outcome, housing_type, housing_on
FROM d_measure ORDER BY n, k;

-- ---------------------------------------------------------------------------------------------
-- Returns (the outcome cohorts of GET /v1/stats/outcomes): about one referral in ten of
-- 2020-2022 is a household the platform already knew, referred again more than a month after
-- its previous referral closed (accompaniment ended, with or without housing; reoriented; no
-- follow-up), half of them after an accompaniment ended housed. That referral moves to the earlier household (same platform, same housing
-- situation at first referral, so every figure above holds) and its own household row goes.
-- Referrals with an ENVAUL measure or a youth flat-share stay as they are (their head's age
-- on those dates is their own).

CREATE TEMP TABLE d_return (n2 int PRIMARY KEY, n1 int NOT NULL UNIQUE);
DO $$
DECLARE
  c record;
  m int;
BEGIN
  FOR c IN SELECT d.n, d.platform, d.hs, d.received_on FROM d
           WHERE d.yr >= 2020 AND pg_temp.u('return:' || d.n) < 0.10
             AND NOT EXISTS (SELECT 1 FROM d_measure x WHERE x.n = d.n
                             AND (x.kind = 'envaul' OR x.housing_type = 'youth_flatshare'))
           ORDER BY d.n
  LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM d_return WHERE n1 = c.n);
    m := NULL;
    SELECT e.n INTO m FROM d e
    WHERE e.platform = c.platform AND e.hs = c.hs AND e.n < c.n
      AND e.status IN ('accompaniment_ended', 'reoriented', 'no_follow_up')
      AND e.dates[cardinality(e.dates)] < c.received_on - 30
      AND NOT EXISTS (SELECT 1 FROM d_return x WHERE x.n1 = e.n OR x.n2 = e.n)
    -- half of them after an accompaniment ended housed, when there is one
    ORDER BY (e.status = 'accompaniment_ended' AND e.housed AND pg_temp.u('return-housed:' || c.n) < 0.5) DESC,
             pg_temp.u('return-of:' || c.n || ':' || e.n), e.n
    LIMIT 1;
    IF m IS NOT NULL THEN
      INSERT INTO d_return (n2, n1) VALUES (c.n, m);
    END IF;
  END LOOP;
END
$$;

UPDATE referral r SET household_id = pg_temp.duuid('household:' || x.n1)
FROM d_return x WHERE r.id = pg_temp.duuid('referral:' || x.n2);
DELETE FROM household h USING d_return x WHERE h.id = pg_temp.duuid('household:' || x.n2);

DROP TABLE d_return;
DROP TABLE d_measure, d_acc, d, d_commune, d_partner;
DROP FUNCTION pg_temp.between(text, int, int), pg_temp.duuid(text),
  pg_temp.pick(text, text[], float8[]), pg_temp.u(text);
