-- The programme's two other axes: eviction prevention (cases of households at risk of
-- eviction, their procedure stage and its history, the actions taken, the follow-up of the
-- household's situation at 6, 12 and 24 months, the PEX mobile team's eligibility rule per
-- AMI and period) and the housing offer (offers, placements of referrals in them, the
-- State-led fluidity meetings). Product rules: docs/prevention-and-housing.md.
--
-- As in migration 006, codes are validated by the service against its vocabularies; the
-- database keeps the structural rules (keys, dates in order, one follow-up per horizon).
--
-- Every table whose rows the statistics count carries `rk`, a fixed random record key in
-- [0, 2^20) for the cell-key method of disclosure control: drawn once at insert, never
-- changed by an update (trigger lda_keep_rk), never returned by the API nor written to the
-- audit log.

CREATE FUNCTION lda_keep_rk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.rk := OLD.rk;
  RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- The PEX mobile team's eligibility rule, as data: per AMI and period (valid_from to valid_to
-- inclusive, valid_to NULL: open), the tenant debts (euros, inclusive) it takes on. The
-- periods of one AMI never overlap (checked by the service under a table lock).

CREATE TABLE prevention_rule (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ami          smallint NOT NULL CHECK (ami IN (1, 2)),
  valid_from   date NOT NULL,
  valid_to     date,
  debt_min_eur integer NOT NULL CHECK (debt_min_eur >= 0),
  debt_max_eur integer,
  note         text,
  row_version  bigint NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_to IS NULL OR valid_to >= valid_from),
  CHECK (debt_max_eur IS NULL OR debt_max_eur >= debt_min_eur)
);
CREATE TRIGGER prevention_rule_touch BEFORE UPDATE ON prevention_rule
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX prevention_rule_order ON prevention_rule (valid_from, id);

-- The report (2018-2022): after the 2021 evaluation of the judgement-explanation visits, the
-- AMI 1 funding went to the PEX mobile teams, with intervention criteria widened to tenant
-- debts of 1 500 to 4 000 euros. The AMI 2 arbitration was announced for 2023: the same
-- criteria are recorded from 2023 until an administrator records the decision.
-- (fixed ids: reference data, the same in every deployment)
INSERT INTO prevention_rule (id, ami, valid_from, valid_to, debt_min_eur, debt_max_eur, note) VALUES
  ('5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61', 1, '2022-01-01', NULL, 1500, 4000,
   'Renfort des équipes mobiles PEX : critères d''intervention élargis aux dettes de locataires de 1 500 à 4 000 €'),
  ('5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e62', 2, '2023-01-01', NULL, 1500, 4000,
   'Critères de l''AMI 1 appliqués en attendant l''arbitrage 2023 entre VEJ et équipe mobile PEX');

-- ---------------------------------------------------------------------------------------------
-- Prevention cases: a household at risk of eviction, its landlord kind, its tenant debt (with
-- the date it was known), the procedure stage it has reached (stage_dates: the date of each
-- stage reached, as referral.status_dates) and the PEX eligibility the service evaluated
-- against the rule of the platform's AMI in force on debt_on.

CREATE TABLE prevention_case (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id  uuid NOT NULL REFERENCES household (id),
  platform      text NOT NULL REFERENCES platform (code),
  landlord_kind text NOT NULL,
  debt_eur      integer CHECK (debt_eur >= 0),
  debt_on       date,
  stage         text NOT NULL,
  stage_dates   jsonb NOT NULL DEFAULT '{}',
  pex_status    text NOT NULL,
  pex_rule_id   uuid REFERENCES prevention_rule (id),
  source        text,
  external_id   text,
  created_by    uuid,
  rk            integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  row_version   bigint NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((debt_eur IS NULL) = (debt_on IS NULL)),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE TRIGGER prevention_case_touch BEFORE UPDATE ON prevention_case
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE TRIGGER prevention_case_rk BEFORE UPDATE ON prevention_case
  FOR EACH ROW EXECUTE FUNCTION lda_keep_rk();
CREATE INDEX prevention_case_sync ON prevention_case (updated_at, id);
CREATE INDEX prevention_case_platform ON prevention_case (platform, updated_at, id);
CREATE INDEX prevention_case_household ON prevention_case (household_id);
CREATE INDEX prevention_case_created_by ON prevention_case (created_by, updated_at, id);
CREATE UNIQUE INDEX prevention_case_external ON prevention_case (source, external_id)
  WHERE source IS NOT NULL AND external_id IS NOT NULL;

-- The stage history: one row per stage reached, never updated (but for the erasure of its
-- note).
CREATE TABLE prevention_stage_event (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id     uuid NOT NULL REFERENCES prevention_case (id),
  at          timestamptz NOT NULL DEFAULT now(),
  on_date     date NOT NULL,
  from_stage  text,
  to_stage    text NOT NULL,
  note        text,
  token_id    uuid,
  role        text
);
CREATE INDEX prevention_stage_event_case ON prevention_stage_event (case_id, id);

-- Actions on a case (VEJ, PEX mobile team, social support, FSL aid...). outcome_notes is free
-- text: never counted, redacted by the erasure of the household.
CREATE TABLE prevention_action (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  case_id       uuid NOT NULL REFERENCES prevention_case (id),
  kind          text NOT NULL,
  done_on       date NOT NULL,
  partner_id    uuid REFERENCES partner (id),
  outcome_notes text,
  source        text,
  external_id   text,
  rk            integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  row_version   bigint NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE TRIGGER prevention_action_touch BEFORE UPDATE ON prevention_action
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE TRIGGER prevention_action_rk BEFORE UPDATE ON prevention_action
  FOR EACH ROW EXECUTE FUNCTION lda_keep_rk();
CREATE INDEX prevention_action_case ON prevention_action (case_id, done_on, id);
CREATE UNIQUE INDEX prevention_action_external ON prevention_action (source, external_id)
  WHERE source IS NOT NULL AND external_id IS NOT NULL;

-- The household's situation 6, 12 and 24 months after the case's first action: one per
-- horizon. due_on (first action + the months) is computed by the service when it is written;
-- the service refuses to move the first action of a case that has follow-ups.
CREATE TABLE prevention_follow_up (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  case_id     uuid NOT NULL REFERENCES prevention_case (id),
  at_months   smallint NOT NULL CHECK (at_months IN (6, 12, 24)),
  due_on      date NOT NULL,
  situation   text NOT NULL,
  source      text,
  rk          integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  row_version bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (case_id, at_months),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE TRIGGER prevention_follow_up_touch BEFORE UPDATE ON prevention_follow_up
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE TRIGGER prevention_follow_up_rk BEFORE UPDATE ON prevention_follow_up
  FOR EACH ROW EXECUTE FUNCTION lda_keep_rk();

-- ---------------------------------------------------------------------------------------------
-- The housing offer: units or places (a social housing unit, a privately owned flat let
-- through intermediation, a SAS flat, a shared flat for 18-25 year olds...) on a platform,
-- available from a date (to a date), holding `capacity` households at once (the rooms of a
-- shared flat).

CREATE TABLE housing_offer (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  platform       text NOT NULL REFERENCES platform (code),
  kind           text NOT NULL,
  landlord_kind  text NOT NULL,
  typology       text NOT NULL,
  capacity       smallint NOT NULL CHECK (capacity BETWEEN 1 AND 200),
  available_from date NOT NULL,
  available_to   date,
  label          text,
  source         text,
  external_id    text,
  created_by     uuid,
  rk             integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  row_version    bigint NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (available_to IS NULL OR available_to >= available_from),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE TRIGGER housing_offer_touch BEFORE UPDATE ON housing_offer
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE TRIGGER housing_offer_rk BEFORE UPDATE ON housing_offer
  FOR EACH ROW EXECUTE FUNCTION lda_keep_rk();
CREATE INDEX housing_offer_sync ON housing_offer (updated_at, id);
CREATE INDEX housing_offer_platform ON housing_offer (platform, updated_at, id);
CREATE UNIQUE INDEX housing_offer_external ON housing_offer (source, external_id)
  WHERE source IS NOT NULL AND external_id IS NOT NULL;

-- A referral's household placed in an offer, from entered_on (inclusive) to left_on
-- (exclusive: the day it leaves, the place is free again). platform is the offer's (and the
-- referral's: the service checks they agree). Capacity and overlaps are checked by the service
-- with the offer's and the referral's rows locked.
CREATE TABLE placement (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  referral_id uuid NOT NULL REFERENCES referral (id),
  offer_id    uuid NOT NULL REFERENCES housing_offer (id),
  platform    text NOT NULL REFERENCES platform (code),
  entered_on  date NOT NULL,
  left_on     date,
  exit_reason text,
  source      text,
  external_id text,
  created_by  uuid,
  rk          integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  row_version bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (left_on IS NULL OR left_on >= entered_on),
  CHECK (exit_reason IS NULL OR left_on IS NOT NULL),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE TRIGGER placement_touch BEFORE UPDATE ON placement FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE TRIGGER placement_rk BEFORE UPDATE ON placement FOR EACH ROW EXECUTE FUNCTION lda_keep_rk();
CREATE INDEX placement_sync ON placement (updated_at, id);
CREATE INDEX placement_platform ON placement (platform, updated_at, id);
CREATE INDEX placement_offer ON placement (offer_id, entered_on);
CREATE INDEX placement_referral ON placement (referral_id, entered_on);
CREATE UNIQUE INDEX placement_external ON placement (source, external_id)
  WHERE source IS NOT NULL AND external_id IS NOT NULL;

-- The State-led fluidity meetings with the social landlords of a territory: who came, which
-- households (referrals) were presented, how many proposals were made and accepted.
CREATE TABLE fluidity_meeting (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  platform           text NOT NULL REFERENCES platform (code),
  held_on            date NOT NULL,
  landlords_present  text[] NOT NULL DEFAULT '{}',
  proposals_made     integer NOT NULL CHECK (proposals_made >= 0),
  proposals_accepted integer NOT NULL CHECK (proposals_accepted >= 0),
  created_by         uuid,
  rk                 integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  row_version        bigint NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (proposals_accepted <= proposals_made),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE TRIGGER fluidity_meeting_touch BEFORE UPDATE ON fluidity_meeting
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE TRIGGER fluidity_meeting_rk BEFORE UPDATE ON fluidity_meeting
  FOR EACH ROW EXECUTE FUNCTION lda_keep_rk();
CREATE INDEX fluidity_meeting_order ON fluidity_meeting (held_on, id);
CREATE INDEX fluidity_meeting_platform ON fluidity_meeting (platform, held_on, id);

CREATE TABLE fluidity_presentation (
  meeting_id  uuid NOT NULL REFERENCES fluidity_meeting (id),
  referral_id uuid NOT NULL REFERENCES referral (id),
  rk          integer NOT NULL DEFAULT floor(random() * 1048576)::integer,
  PRIMARY KEY (meeting_id, referral_id),
  CHECK (rk >= 0 AND rk < 1048576)
);
CREATE INDEX fluidity_presentation_referral ON fluidity_presentation (referral_id);

-- ---------------------------------------------------------------------------------------------
-- Privileges and row-level security (as migration 009: the caller's platforms in lda.scope).

GRANT SELECT, INSERT, UPDATE ON prevention_rule, prevention_case, prevention_action,
  prevention_follow_up, housing_offer, placement, fluidity_meeting TO lda_app;
GRANT SELECT, INSERT ON prevention_stage_event TO lda_app;
GRANT UPDATE (note) ON prevention_stage_event TO lda_app;   -- erasure only
GRANT SELECT, INSERT, DELETE ON fluidity_presentation TO lda_app;

ALTER TABLE prevention_case ENABLE ROW LEVEL SECURITY;
ALTER TABLE prevention_stage_event ENABLE ROW LEVEL SECURITY;
ALTER TABLE prevention_action ENABLE ROW LEVEL SECURITY;
ALTER TABLE prevention_follow_up ENABLE ROW LEVEL SECURITY;
ALTER TABLE housing_offer ENABLE ROW LEVEL SECURITY;
ALTER TABLE placement ENABLE ROW LEVEL SECURITY;
ALTER TABLE fluidity_meeting ENABLE ROW LEVEL SECURITY;
ALTER TABLE fluidity_presentation ENABLE ROW LEVEL SECURITY;

CREATE POLICY prevention_case_scope ON prevention_case TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
CREATE POLICY housing_offer_scope ON housing_offer TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
CREATE POLICY placement_scope ON placement TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
CREATE POLICY fluidity_meeting_scope ON fluidity_meeting TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
-- actions and follow-ups follow their case; stage events and presentations are inserted in
-- the statement that creates their case or meeting (which that statement's sub-queries cannot
-- see yet): the insert is checked through the parent's own policy.
CREATE POLICY prevention_action_scope ON prevention_action TO lda_app
  USING (EXISTS (SELECT 1 FROM prevention_case c WHERE c.id = case_id))
  WITH CHECK (EXISTS (SELECT 1 FROM prevention_case c WHERE c.id = case_id));
CREATE POLICY prevention_follow_up_scope ON prevention_follow_up TO lda_app
  USING (EXISTS (SELECT 1 FROM prevention_case c WHERE c.id = case_id))
  WITH CHECK (EXISTS (SELECT 1 FROM prevention_case c WHERE c.id = case_id));
CREATE POLICY prevention_stage_event_scope ON prevention_stage_event TO lda_app
  USING (EXISTS (SELECT 1 FROM prevention_case c WHERE c.id = case_id)) WITH CHECK (true);
CREATE POLICY fluidity_presentation_scope ON fluidity_presentation TO lda_app
  USING (EXISTS (SELECT 1 FROM fluidity_meeting m WHERE m.id = meeting_id)) WITH CHECK (true);

-- As lda_stored_platforms (migration 009) for the records of this migration pushed in batch:
-- the platform a record of the source is stored on, even outside the caller's scope, and
-- nothing else.
CREATE FUNCTION lda_stored_platforms_axes(kind text, src text, ids text[])
RETURNS TABLE (external_id text, platform text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT c.external_id, c.platform FROM prevention_case c
   WHERE kind = 'prevention_case' AND c.source = src AND c.external_id = ANY (ids)
  UNION ALL
  SELECT a.external_id, c.platform FROM prevention_action a JOIN prevention_case c ON c.id = a.case_id
   WHERE kind = 'prevention_action' AND a.source = src AND a.external_id = ANY (ids)
  UNION ALL
  SELECT o.external_id, o.platform FROM housing_offer o
   WHERE kind = 'housing_offer' AND o.source = src AND o.external_id = ANY (ids)
  UNION ALL
  SELECT p.external_id, p.platform FROM placement p
   WHERE kind = 'placement' AND p.source = src AND p.external_id = ANY (ids)
$$;
REVOKE ALL ON FUNCTION lda_stored_platforms_axes(text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lda_stored_platforms_axes(text, text, text[]) TO lda_app;

-- ---------------------------------------------------------------------------------------------
-- Renderings, shared by every read and write (the record key rk is never rendered).

CREATE FUNCTION lda_prevention_rule_json(p prevention_rule) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', p.id, 'ami', p.ami, 'valid_from', p.valid_from,
    'valid_to', p.valid_to, 'debt_min_eur', p.debt_min_eur, 'debt_max_eur', p.debt_max_eur,
    'note', p.note, 'created_at', p.created_at, 'updated_at', p.updated_at)
$$;

-- partner_view: what a partner token reads of the cases it created (no household id).
CREATE FUNCTION lda_prevention_case_json(c prevention_case, partner_view boolean) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', c.id,
    'household', CASE WHEN partner_view THEN NULL ELSE c.household_id END,
    'platform', c.platform, 'landlord_kind', c.landlord_kind, 'debt_eur', c.debt_eur,
    'debt_on', c.debt_on, 'stage', c.stage, 'stage_on', (c.stage_dates ->> c.stage)::date,
    'stage_dates', c.stage_dates,
    'pex_eligibility', json_build_object('status', c.pex_status, 'rule', c.pex_rule_id,
      'debt_min_eur', r.debt_min_eur, 'debt_max_eur', r.debt_max_eur),
    'first_action_on', (SELECT min(a.done_on) FROM prevention_action a WHERE a.case_id = c.id),
    'created_at', c.created_at, 'updated_at', c.updated_at)
  FROM (SELECT 1) one LEFT JOIN prevention_rule r ON r.id = c.pex_rule_id
$$;

CREATE FUNCTION lda_prevention_action_json(a prevention_action) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', a.id, 'case', a.case_id, 'kind', a.kind, 'done_on', a.done_on,
    'partner', a.partner_id, 'outcome_notes', a.outcome_notes,
    'created_at', a.created_at, 'updated_at', a.updated_at)
$$;

CREATE FUNCTION lda_prevention_follow_up_json(f prevention_follow_up) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', f.id, 'case', f.case_id, 'at_months', f.at_months,
    'due_on', f.due_on, 'situation', f.situation,
    'created_at', f.created_at, 'updated_at', f.updated_at)
$$;

-- occupied: the placements in the offer on the current date (entered, not yet left).
CREATE FUNCTION lda_housing_offer_json(o housing_offer) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', o.id, 'platform', o.platform, 'kind', o.kind,
    'landlord_kind', o.landlord_kind, 'typology', o.typology, 'capacity', o.capacity,
    'available_from', o.available_from, 'available_to', o.available_to, 'label', o.label,
    'occupied', (SELECT count(*) FROM placement p WHERE p.offer_id = o.id
                   AND p.entered_on <= current_date
                   AND (p.left_on IS NULL OR p.left_on > current_date)),
    'created_at', o.created_at, 'updated_at', o.updated_at)
$$;

CREATE FUNCTION lda_placement_json(p placement) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', p.id, 'referral', p.referral_id, 'offer', p.offer_id,
    'platform', p.platform, 'entered_on', p.entered_on, 'left_on', p.left_on,
    'exit_reason', p.exit_reason, 'created_at', p.created_at, 'updated_at', p.updated_at)
$$;

CREATE FUNCTION lda_fluidity_meeting_json(m fluidity_meeting) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', m.id, 'platform', m.platform, 'held_on', m.held_on,
    'landlords_present', to_json(m.landlords_present),
    'households_presented', coalesce((SELECT json_agg(x.referral_id ORDER BY x.referral_id)
                                      FROM fluidity_presentation x WHERE x.meeting_id = m.id),
                                     '[]'::json),
    'proposals_made', m.proposals_made, 'proposals_accepted', m.proposals_accepted,
    'created_at', m.created_at, 'updated_at', m.updated_at)
$$;

-- The debt bands the prevention statistics count by (vocabulary debt_band).
CREATE FUNCTION lda_debt_band(debt integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN debt IS NULL THEN 'unknown'
              WHEN debt < 1500 THEN 'below_1500'
              WHEN debt <= 4000 THEN 'from_1500_to_4000'
              ELSE 'above_4000' END
$$;
