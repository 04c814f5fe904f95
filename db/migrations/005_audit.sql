-- The audit log (SPEC §4): who read or wrote which personal record, when, under which
-- request. Never the data itself. Append-only for the service: lda_app may insert and read,
-- never update or delete.
CREATE TABLE audit_event (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  token_id      uuid,
  role          text,
  action        text NOT NULL CHECK (action IN ('read', 'list', 'create', 'update', 'delete',
                                                'erase', 'transition', 'batch')),
  resource_type text NOT NULL,
  resource_id   uuid,
  request_id    text,
  status        smallint
);
CREATE INDEX audit_event_at ON audit_event (at, id);
CREATE INDEX audit_event_token ON audit_event (token_id, at);
CREATE INDEX audit_event_resource ON audit_event (resource_id, at);

GRANT SELECT, INSERT ON audit_event TO lda_app;
