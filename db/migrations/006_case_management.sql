-- Case management (SPEC §2): partners, households, referrals with their status timeline,
-- support measures. Codes are validated by the service against its vocabularies; the
-- database keeps the structural rules (keys, dates in order, one active household per
-- person and platform).

CREATE TABLE partner (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  kind        text NOT NULL,
  platform    text REFERENCES platform (code),
  row_version bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER partner_touch BEFORE UPDATE ON partner FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX partner_order ON partner (name, id);

CREATE TABLE household (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  platform          text NOT NULL REFERENCES platform (code),
  source            text,              -- the pushing system (batch), NULL through the API
  external_ref      text,              -- the source system's file number
  composition       text NOT NULL,
  adults            smallint NOT NULL CHECK (adults BETWEEN 0 AND 20),
  children          smallint NOT NULL CHECK (children BETWEEN 0 AND 30),
  head_last_name    text,              -- identity: erased on request (NULL after erasure)
  head_first_name   text,
  head_birth_date   date,
  head_sex          text NOT NULL,
  person_key        text,              -- HMAC-SHA-256 of normalised names + birth date
  resources         text[] NOT NULL DEFAULT '{}',
  housing_situation text NOT NULL,
  vulnerabilities   text[] NOT NULL DEFAULT '{}',
  erased_at         timestamptz,
  created_by        uuid,              -- api_token.id
  row_version       bigint NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (erased_at IS NULL OR (head_last_name IS NULL AND head_first_name IS NULL
                               AND head_birth_date IS NULL AND external_ref IS NULL))
);
CREATE TRIGGER household_touch BEFORE UPDATE ON household FOR EACH ROW EXECUTE FUNCTION lda_touch();
-- "Creating a household whose person_key already has an active household on the same
-- platform answers 409": the database guarantees it even under concurrent creation.
CREATE UNIQUE INDEX household_person ON household (platform, person_key)
  WHERE erased_at IS NULL AND person_key IS NOT NULL;
CREATE UNIQUE INDEX household_external ON household (source, external_ref)
  WHERE source IS NOT NULL AND external_ref IS NOT NULL;
CREATE INDEX household_sync ON household (updated_at, id);
CREATE INDEX household_platform_sync ON household (platform, updated_at, id);

CREATE TABLE referral (
  id                             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id                   uuid NOT NULL REFERENCES household (id),
  platform                       text NOT NULL REFERENCES platform (code),
  partner_id                     uuid REFERENCES partner (id),
  referrer_kind                  text,
  referrer_name                  text,
  received_on                    date NOT NULL,
  has_social_note                boolean NOT NULL DEFAULT false,
  reasons                        text[] NOT NULL DEFAULT '{}',
  status                         text NOT NULL DEFAULT 'received',
  status_dates                   jsonb NOT NULL DEFAULT '{}',
  concertation_held_on           date,
  concertation_household_present boolean,
  decision_note                  text,
  source                         text,
  external_id                    text,
  created_by                     uuid,
  row_version                    bigint NOT NULL DEFAULT 1,
  created_at                     timestamptz NOT NULL DEFAULT now(),
  updated_at                     timestamptz NOT NULL DEFAULT now(),
  CHECK (partner_id IS NULL OR (referrer_kind IS NULL AND referrer_name IS NULL)),
  CHECK ((concertation_held_on IS NULL) = (concertation_household_present IS NULL))
);
CREATE TRIGGER referral_touch BEFORE UPDATE ON referral FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX referral_sync ON referral (updated_at, id);
CREATE INDEX referral_platform_received ON referral (platform, received_on);
CREATE INDEX referral_household ON referral (household_id);
CREATE INDEX referral_partner ON referral (partner_id);
CREATE INDEX referral_created_by ON referral (created_by, updated_at, id);
CREATE UNIQUE INDEX referral_external ON referral (source, external_id)
  WHERE source IS NOT NULL AND external_id IS NOT NULL;

-- The status timeline: one row per transition, never updated.
CREATE TABLE referral_event (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  referral_id uuid NOT NULL REFERENCES referral (id),
  at          timestamptz NOT NULL DEFAULT now(),
  on_date     date NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  note        text,
  token_id    uuid,
  role        text
);
CREATE INDEX referral_event_referral ON referral_event (referral_id, id);

CREATE TABLE measure (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  referral_id     uuid NOT NULL REFERENCES referral (id),
  kind            text NOT NULL,
  operator        text NOT NULL,
  started_on      date NOT NULL,
  ended_on        date,
  end_reason      text,
  housing_outcome text,
  housing_type    text,
  housing_on      date,
  row_version     bigint NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (ended_on IS NULL OR ended_on >= started_on)
);
CREATE TRIGGER measure_touch BEFORE UPDATE ON measure FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX measure_referral ON measure (referral_id, started_on, id);

GRANT SELECT, INSERT, UPDATE ON partner, household, referral, measure TO lda_app;
GRANT SELECT, INSERT ON referral_event TO lda_app;

-- Renderings, shared by every read and write so that a resource has one JSON shape.

CREATE FUNCTION lda_age_band(birth date, on_day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN birth IS NULL THEN NULL
    WHEN a < 18 THEN 'under_18'
    WHEN a <= 25 THEN 'age_18_25'
    WHEN a <= 34 THEN 'age_26_34'
    WHEN a <= 44 THEN 'age_35_44'
    WHEN a <= 54 THEN 'age_45_54'
    WHEN a <= 64 THEN 'age_55_64'
    ELSE 'age_65_plus' END
  FROM (SELECT extract(year FROM age(on_day, birth))::int AS a) x
$$;

-- with_identity: the roles of SPEC §4 that may see names and birth dates.
CREATE FUNCTION lda_household_json(h household, with_identity boolean) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN with_identity THEN
    json_build_object('id', h.id, 'platform', h.platform, 'external_ref', h.external_ref,
      'composition', h.composition, 'adults', h.adults, 'children', h.children,
      'head', json_build_object('last_name', h.head_last_name, 'first_name', h.head_first_name,
                                'birth_date', h.head_birth_date, 'sex', h.head_sex,
                                'age_band', lda_age_band(h.head_birth_date, current_date)),
      'resources', to_json(h.resources), 'housing_situation', h.housing_situation,
      'vulnerabilities', to_json(h.vulnerabilities), 'person_key', h.person_key,
      'erased_at', h.erased_at, 'created_at', h.created_at, 'updated_at', h.updated_at)
  ELSE
    json_build_object('id', h.id, 'platform', h.platform, 'external_ref', h.external_ref,
      'composition', h.composition, 'adults', h.adults, 'children', h.children,
      'head', json_build_object('sex', h.head_sex,
                                'age_band', lda_age_band(h.head_birth_date, current_date)),
      'resources', to_json(h.resources), 'housing_situation', h.housing_situation,
      'vulnerabilities', to_json(h.vulnerabilities),
      'erased_at', h.erased_at, 'created_at', h.created_at, 'updated_at', h.updated_at)
  END
$$;

-- status_only: the partner's view (SPEC §4: "read the status of referrals it created").
CREATE FUNCTION lda_referral_json(r referral, status_only boolean) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN status_only THEN
    json_build_object('id', r.id, 'platform', r.platform, 'received_on', r.received_on,
      'status', r.status, 'status_dates', r.status_dates,
      'created_at', r.created_at, 'updated_at', r.updated_at)
  ELSE
    json_build_object('id', r.id, 'household', r.household_id, 'platform', r.platform,
      'partner', r.partner_id, 'referrer_kind', r.referrer_kind, 'referrer_name', r.referrer_name,
      'received_on', r.received_on, 'has_social_note', r.has_social_note,
      'reasons', to_json(r.reasons), 'status', r.status, 'status_dates', r.status_dates,
      'concertation', CASE WHEN r.concertation_held_on IS NULL THEN NULL ELSE
        json_build_object('held_on', r.concertation_held_on,
                          'household_present', r.concertation_household_present) END,
      'decision_note', r.decision_note, 'created_at', r.created_at, 'updated_at', r.updated_at)
  END
$$;

CREATE FUNCTION lda_measure_json(m measure) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', m.id, 'referral', m.referral_id, 'kind', m.kind,
    'operator', m.operator, 'started_on', m.started_on, 'ended_on', m.ended_on,
    'end_reason', m.end_reason, 'housing_outcome', m.housing_outcome,
    'housing_type', m.housing_type, 'housing_on', m.housing_on,
    'created_at', m.created_at, 'updated_at', m.updated_at)
$$;

CREATE FUNCTION lda_partner_json(p partner) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', p.id, 'name', p.name, 'kind', p.kind, 'platform', p.platform,
    'created_at', p.created_at, 'updated_at', p.updated_at)
$$;

-- The pseudonymisation key when LDA_PSEUDONYM_KEY is not set: 244 random bits drawn by
-- gen_random_uuid() (pg_strong_random), created once per database.
CREATE TABLE app_secret (
  name  text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO app_secret (name, value)
VALUES ('pseudonym_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
GRANT SELECT ON app_secret TO lda_app;
