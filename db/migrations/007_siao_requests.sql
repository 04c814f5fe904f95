-- SIAO requests (SPEC §2): the youth observatory's raw data, pushed in bulk by SIAO
-- information systems and upserted by (source, external_id).
CREATE TABLE siao_request (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source             text NOT NULL,
  external_id        text NOT NULL,
  received_at        timestamptz NOT NULL,
  platform           text NOT NULL REFERENCES platform (code),
  channel            text NOT NULL,
  person_key         text,
  age                smallint CHECK (age BETWEEN 0 AND 120),  -- given, or derived from birth_year
  birth_year         smallint,
  sex                text,
  composition        text,
  situation          text,
  resources          text[] NOT NULL DEFAULT '{}',
  needs              text[] NOT NULL DEFAULT '{}',
  response           text,
  alternatives_known boolean,
  content_hash       text NOT NULL,   -- of the record as pushed: detects "unchanged"
  row_version        bigint NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, external_id)
);
CREATE TRIGGER siao_request_touch BEFORE UPDATE ON siao_request FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX siao_request_sync ON siao_request (source, updated_at, id);
CREATE INDEX siao_request_sync_all ON siao_request (updated_at, id);
-- The observatory reads by platform and period (see the statistics migrations).
CREATE INDEX siao_request_platform_received ON siao_request (platform, received_at);

GRANT SELECT, INSERT, UPDATE ON siao_request TO lda_app;

-- Idempotency keys of batch requests (SPEC §5): written in the same transaction as the
-- records they cover, so that a crash leaves both or neither. Scoped to the caller (token).
-- The row is inserted first (status 0) and completed at the end of the batch: a concurrent
-- request with the same key waits on it, then replays the answer.
CREATE TABLE idempotency_key (
  token_id     uuid NOT NULL,
  key          text NOT NULL,
  route        text NOT NULL,
  request_hash text NOT NULL,
  status       smallint NOT NULL,
  response     text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_key TO lda_app;
