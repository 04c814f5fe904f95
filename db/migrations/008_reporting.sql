-- The reporting schema (SPEC §6): documented, de-identified, read-only views for BI tools
-- that connect to PostgreSQL directly (Metabase, Power BI, Superset...). No names, no birth
-- dates, no external references. The role lda_bi reads these views and nothing else; give
-- it to a login role: CREATE ROLE metabase LOGIN PASSWORD '...' IN ROLE lda_bi;
CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS
  'De-identified views of the Logement d''abord data for BI tools (role lda_bi). Dates of SIAO requests are their date in Europe/Paris.';

CREATE VIEW reporting.platforms AS
  SELECT code, name, ami, active_since FROM platform;
COMMENT ON VIEW reporting.platforms IS 'The five territorial platforms and the AMI that funded each.';

CREATE VIEW reporting.funding AS
  SELECT ami, year, amount_eur, eligible_cost_eur, state_share_percent FROM funding;
COMMENT ON VIEW reporting.funding IS 'State Housing First credits by AMI and year, in euros.';

CREATE VIEW reporting.referrals AS
  SELECT r.id AS referral_id, r.platform, p.ami, r.received_on,
         extract(year FROM r.received_on)::int AS received_year,
         r.status,
         r.status IN ('accompanied', 'accompaniment_ended') AS accompanied,
         r.status IN ('received', 'assessing', 'orientation_proposed') AS in_progress,
         EXISTS (SELECT 1 FROM measure m WHERE m.referral_id = r.id
                 AND m.housing_outcome IN ('accessed', 'maintained')) AS housed_or_maintained,
         h.housing_situation, coalesce(pa.kind, r.referrer_kind) AS referrer_kind,
         r.has_social_note, r.reasons, h.composition, h.adults, h.children, h.head_sex,
         lda_age_band(h.head_birth_date, r.received_on) AS head_age_band_at_referral,
         h.resources, h.vulnerabilities, r.status_dates
  FROM referral r
  JOIN household h ON h.id = r.household_id
  JOIN platform p ON p.code = r.platform
  LEFT JOIN partner pa ON pa.id = r.partner_id;
COMMENT ON VIEW reporting.referrals IS
  'One row per referral (saisine): status, outcome flags as defined by GET /v1/stats/activity, situation at first referral, referrer kind, household composition. No identity.';

CREATE VIEW reporting.measures AS
  SELECT m.id AS measure_id, m.referral_id, r.platform, m.kind, m.operator, m.started_on,
         m.ended_on, m.end_reason, m.housing_outcome, m.housing_type, m.housing_on
  FROM measure m JOIN referral r ON r.id = m.referral_id;
COMMENT ON VIEW reporting.measures IS 'Support measures (ADSL, VIAL, ENVAUL...) with their outcome.';

CREATE VIEW reporting.siao_requests AS
  SELECT id AS request_id, source, received_at,
         (received_at AT TIME ZONE 'Europe/Paris')::date AS received_on, platform, channel,
         person_key, age, age BETWEEN 18 AND 25 AS youth, sex, composition, situation,
         resources, needs, response, alternatives_known
  FROM siao_request;
COMMENT ON VIEW reporting.siao_requests IS
  'SIAO requests for the youth observatory. person_key is the source''s opaque pseudonym: count distinct persons with it. youth = age 18 to 25 inclusive, as in GET /v1/observatory/youth.';

GRANT USAGE ON SCHEMA reporting TO lda_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO lda_bi;
-- Nothing in public is granted to lda_bi (nor to PUBLIC): the tables there hold identity.
