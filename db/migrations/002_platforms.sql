-- The five territorial platforms of the Logement d'abord programme (SPEC §2), created here
-- rather than by the demo data: they are reference data every deployment has.
CREATE TABLE platform (
  code              text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,31}$'),
  name              text NOT NULL,
  ami               smallint NOT NULL CHECK (ami IN (1, 2)),
  active_since      date NOT NULL,
  siao_antenna      text,
  coordinator_name  text,
  coordinator_email text,
  epcis             text[] NOT NULL DEFAULT '{}',
  row_version       bigint NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER platform_touch BEFORE UPDATE ON platform FOR EACH ROW EXECUTE FUNCTION lda_touch();

-- Territories as described in the department's 2018-2022 report.
INSERT INTO platform (code, name, ami, active_since, siao_antenna, epcis) VALUES
  ('artois', 'Artois', 1, '2019-01-01', 'SIAO 62 — antenne de l''Artois',
   ARRAY['Communauté d''agglomération de Béthune-Bruay, Artois-Lys Romane',
         'Communauté urbaine d''Arras', 'Communauté de communes des Campagnes de l''Artois',
         'Communauté de communes du Sud-Artois', 'Communauté de communes des Deux Sources']),
  ('lens_henin', 'Lens-Hénin', 1, '2019-01-01', 'SIAO 62 — antenne de Lens-Hénin',
   ARRAY['Communauté d''agglomération de Lens-Liévin',
         'Communauté d''agglomération d''Hénin-Carvin']),
  ('audomarois', 'Audomarois', 2, '2021-01-01', 'SIAO 62 — antenne de l''Audomarois',
   ARRAY['Communauté d''agglomération du Pays de Saint-Omer',
         'Communauté de communes du Pays de Lumbres']),
  ('boulonnais', 'Boulonnais', 2, '2021-01-01', 'SIAO 62 — antenne du Boulonnais',
   ARRAY['Communauté d''agglomération du Boulonnais', 'Communauté de communes de Desvres-Samer',
         'Communauté de communes de la Terre des Deux Caps']),
  ('montreuillois', 'Montreuillois', 2, '2021-01-01', 'SIAO 62 — antenne du Montreuillois',
   ARRAY['Communauté d''agglomération des Deux Baies en Montreuillois',
         'Communauté de communes du Haut Pays du Montreuillois',
         'Communauté de communes des 7 Vallées']);

GRANT SELECT ON platform TO lda_app;
