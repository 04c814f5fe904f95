-- Bearer tokens (SPEC §4). Only the SHA-256 of a token is stored: tokens are 256 random
-- bits, so a fast hash is enough and a database dump reveals no usable credential.
CREATE TABLE api_token (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  role        text NOT NULL CHECK (role IN ('admin', 'coordinator', 'partner', 'siao', 'analyst')),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  platforms   text[] NOT NULL DEFAULT '{}',
  source      text CHECK (source ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  row_version bigint NOT NULL DEFAULT 1,
  -- a siao token pushes as exactly one source; other roles have none
  CHECK ((role = 'siao') = (source IS NOT NULL))
);
CREATE TRIGGER api_token_touch BEFORE UPDATE ON api_token FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX api_token_created ON api_token (created_at, id);

GRANT SELECT, INSERT ON api_token TO lda_app;
GRANT UPDATE (revoked_at) ON api_token TO lda_app;
