-- The change feed (GET /v1/changes) and webhooks (POST /v1/webhooks).
--
-- A transactional outbox: every write that clients may want to hear about adds a row to
-- change_event in its own transaction (statement-level triggers below, or one call of
-- lda_change_emit from any other trigger or statement). Nothing is lost when a transaction
-- commits and nothing is seen when it rolls back.
--
-- Commit order without gaps. Each transaction that emitted events has one change_commit row;
-- just before it commits (a deferred constraint trigger, the last thing the transaction
-- does) it takes the next value of change_position. Positions are therefore handed out in
-- commit order, but two transactions can still become visible in the opposite order (the
-- one with position 10 may finish its commit after the one with position 11). A reader
-- must never return 11 while 10 may still appear, or a cursor following the feed would
-- skip 10 for ever. The service knows which positions are final (the horizon):
--   an emitting transaction takes a shared advisory lock (key 421900, 13) just before it
--   takes its position, and holds it to its end; locks are released after the commit is
--   visible.
--   1. the service reads L = change_position's last value (every position <= L has been
--      handed out);
--   2. in a later statement it lists the transactions holding that lock (pg_locks, by
--      virtual transaction id): every transaction holding a position <= L that has not
--      finished took the lock before its position, before L was read, so it is listed;
--   3. once none of those holds the lock any more, every position <= L is committed and
--      visible, or rolled back.
-- Readers return events of positions <= horizon only, in (position, event id) order. No
-- exclusive lock is taken and commits keep their group commit; the price is a delay: an
-- event is visible once the transactions that were committing at the same moment have
-- finished committing. Transactions still at work (long ones included), and those of other
-- databases, do not delay it. The service polls (one small statement, every 10 ms while positions move): no
-- NOTIFY, which would make every writing transaction take a cluster-wide lock at commit and
-- serialise them (measured: 2.8 times fewer referrals created per second by eight clients).
--
-- Adding an event type: one call in the transaction of the write, e.g. from a trigger:
--   PERFORM lda_change_emit('placement_started', 'placement', NEW.id, NEW.platform,
--                           jsonb_build_object('offer', NEW.offer_id, 'entered_on', NEW.entered_on));
-- plus its code in the change_type vocabulary (api/domain/vocab.c) and openapi.yaml.
-- Fields are ids, codes, dates and counts: never identity or free text.

CREATE SEQUENCE change_position AS bigint;

CREATE TABLE change_commit (
  xid          xid8 PRIMARY KEY,
  position     bigint UNIQUE,   -- NULL until the transaction commits
  committed_at timestamptz
);

CREATE TABLE change_event (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid           xid8 NOT NULL,  -- the transaction (change_commit) it belongs to
  at            timestamptz NOT NULL DEFAULT now(),
  type          text NOT NULL,  -- referral_created, measure_ended... (vocabulary change_type)
  resource_type text NOT NULL,
  resource_id   uuid,
  platform      text NOT NULL,
  source        text,           -- the SIAO source that pushed the resource (siao visibility)
  created_by    uuid,           -- the token that created the referral (partner visibility)
  fields        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX change_event_xid ON change_event (xid, id);
-- one "batch applied" event per transaction, source and platform (counts merged)
CREATE UNIQUE INDEX change_event_batch ON change_event (xid, resource_id, platform)
  WHERE type = 'siao_batch_applied';

-- How far the retention purge went: a cursor before it answers 410.
CREATE TABLE change_state (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  purged_position bigint NOT NULL DEFAULT 0,
  purged_id       bigint NOT NULL DEFAULT 0
);
INSERT INTO change_state DEFAULT VALUES;

-- The change_commit row of the current transaction (created on its first event).
CREATE FUNCTION lda_change_open() RETURNS xid8
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  x xid8 := pg_current_xact_id();
BEGIN
  -- transaction-local marker: one INSERT per transaction, not per event
  IF current_setting('lda.change_xid', true) IS DISTINCT FROM x::text THEN
    INSERT INTO change_commit (xid) VALUES (x) ON CONFLICT DO NOTHING;
    PERFORM set_config('lda.change_xid', x::text, true);
  END IF;
  RETURN x;
END
$$;

-- At commit: the position. The lock, taken first and held until the commit is visible, is
-- what the service's horizon waits for.
CREATE FUNCTION lda_change_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(421900, 13);
  UPDATE change_commit SET position = nextval('change_position'), committed_at = clock_timestamp()
   WHERE xid = NEW.xid;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER change_commit_seal AFTER INSERT ON change_commit
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lda_change_seal();

-- The one-line way to emit an event from any trigger or statement.
CREATE FUNCTION lda_change_emit(event_type text, resource_type text, resource_id uuid,
                                platform text, fields jsonb DEFAULT '{}',
                                source text DEFAULT NULL, created_by uuid DEFAULT NULL)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                            fields)
  VALUES (lda_change_open(), $1, $2, $3, $4, $6, $7, coalesce($5, '{}'));
$$;

-- ---- the events of case management and SIAO pushes (statement-level: a batch of 10 000
-- records is one trigger call and one INSERT) ----

CREATE FUNCTION lda_change_referral() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(), 'referral_created', 'referral', n.id, n.platform, n.source,
           n.created_by, jsonb_build_object('status', n.status, 'received_on', n.received_on,
                                            'version', n.row_version)
      FROM new_rows n;
  ELSE
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(),
           CASE WHEN o.status IS DISTINCT FROM n.status THEN 'referral_status_changed'
                ELSE 'referral_updated' END,
           'referral', n.id, n.platform, n.source, n.created_by,
           CASE WHEN o.status IS DISTINCT FROM n.status
                THEN jsonb_build_object('from', o.status, 'to', n.status,
                                        'on', n.status_dates ->> n.status, 'version', n.row_version)
                ELSE jsonb_build_object('status', n.status, 'version', n.row_version) END
      FROM new_rows n JOIN old_rows o ON o.id = n.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER referral_change_insert AFTER INSERT ON referral
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_referral();
CREATE TRIGGER referral_change_update AFTER UPDATE ON referral
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_change_referral();

-- measures follow their referral (platform, source, creator)
CREATE FUNCTION lda_change_measure() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(), 'measure_started', 'measure', n.id, r.platform, r.source,
           r.created_by,
           jsonb_build_object('referral', n.referral_id, 'kind', n.kind,
                              'started_on', n.started_on, 'version', n.row_version)
      FROM new_rows n JOIN referral r ON r.id = n.referral_id;
  ELSE
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(),
           CASE WHEN o.ended_on IS NULL AND n.ended_on IS NOT NULL THEN 'measure_ended'
                ELSE 'measure_updated' END,
           'measure', n.id, r.platform, r.source, r.created_by,
           jsonb_build_object('referral', n.referral_id, 'kind', n.kind,
                              'started_on', n.started_on, 'ended_on', n.ended_on,
                              'end_reason', n.end_reason, 'housing_outcome', n.housing_outcome,
                              'housing_type', n.housing_type, 'version', n.row_version)
      FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN referral r ON r.id = n.referral_id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER measure_change_insert AFTER INSERT ON measure
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_measure();
CREATE TRIGGER measure_change_update AFTER UPDATE ON measure
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_change_measure();

CREATE FUNCTION lda_change_household() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(), 'household_created', 'household', n.id, n.platform, n.source,
           n.created_by, jsonb_build_object('version', n.row_version)
      FROM new_rows n;
  ELSE
    INSERT INTO change_event (xid, type, resource_type, resource_id, platform, source, created_by,
                              fields)
    SELECT lda_change_open(),
           CASE WHEN o.erased_at IS NULL AND n.erased_at IS NOT NULL THEN 'household_erased'
                ELSE 'household_updated' END,
           'household', n.id, n.platform, n.source, n.created_by,
           jsonb_build_object('version', n.row_version)
      FROM new_rows n JOIN old_rows o ON o.id = n.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER household_change_insert AFTER INSERT ON household
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_household();
CREATE TRIGGER household_change_update AFTER UPDATE ON household
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lda_change_household();

-- SIAO requests are the observatory's raw data, pushed by the thousand: one event per
-- transaction (a batch), source and platform, with the numbers created and updated.
CREATE FUNCTION lda_change_siao_request() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
  INSERT INTO change_event AS e (xid, type, resource_type, resource_id, platform, source, fields)
  SELECT lda_change_open(), 'siao_batch_applied', 'siao_batch',
         md5(pg_current_xact_id()::text || '/' || n.source)::uuid, n.platform, n.source,
         jsonb_build_object('source', n.source,
                            'created', CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE 0 END,
                            'updated', CASE TG_OP WHEN 'UPDATE' THEN count(*) ELSE 0 END)
    FROM new_rows n GROUP BY n.source, n.platform
  ON CONFLICT (xid, resource_id, platform) WHERE type = 'siao_batch_applied'
  DO UPDATE SET fields = jsonb_build_object('source', e.source,
    'created', (e.fields ->> 'created')::bigint + (EXCLUDED.fields ->> 'created')::bigint,
    'updated', (e.fields ->> 'updated')::bigint + (EXCLUDED.fields ->> 'updated')::bigint);
  RETURN NULL;
END
$$;
CREATE TRIGGER siao_request_change_insert AFTER INSERT ON siao_request
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_siao_request();
CREATE TRIGGER siao_request_change_update AFTER UPDATE ON siao_request
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lda_change_siao_request();

-- ---- who sees an event: the same rules as the resources ----
--   admin: every event; coordinator: its platforms; partner: the referrals its token
--   created; siao: what its source pushed, on its platforms; analyst: nothing.
CREATE FUNCTION lda_change_visible(platform text, resource_type text, source text,
                                   created_by uuid, role text, scope text[], token uuid,
                                   token_source text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE role
    WHEN 'admin' THEN true
    WHEN 'coordinator' THEN platform = ANY (scope)
    WHEN 'partner' THEN platform = ANY (scope) AND resource_type = 'referral'
                        AND created_by = token
    WHEN 'siao' THEN platform = ANY (scope) AND source = token_source
    ELSE false END
$$;

-- The JSON of one event, as the feed and the webhook payloads show it.
CREATE FUNCTION lda_change_json(e change_event) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', e.id, 'type', e.type, 'resource_type', e.resource_type,
                           'resource_id', e.resource_id, 'platform', e.platform, 'at', e.at,
                           'data', e.fields)
$$;

-- Retention: deletes the events of up to max_commits of the oldest commits sealed before
-- `before`, and records how far it went. Returns the number of events deleted.
CREATE FUNCTION lda_change_purge(before timestamptz, max_commits int) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  p bigint;
  last_id bigint;
  n bigint;
BEGIN
  SELECT max(position) INTO p FROM (
    SELECT position FROM change_commit
     WHERE position IS NOT NULL AND committed_at < before
     ORDER BY position LIMIT max_commits) c;
  IF p IS NULL THEN RETURN 0; END IF;
  SELECT max(e.id) INTO last_id FROM change_event e JOIN change_commit c ON c.xid = e.xid
   WHERE c.position = p;
  DELETE FROM change_event e USING change_commit c
   WHERE e.xid = c.xid AND c.position <= p;
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM change_commit WHERE position <= p;
  UPDATE change_state SET purged_position = greatest(purged_position, p),
                          purged_id = CASE WHEN p >= purged_position
                                           THEN coalesce(last_id, 0) ELSE purged_id END;
  RETURN n;
END
$$;

ALTER TABLE change_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY change_event_scope ON change_event TO lda_app USING (lda_in_scope(platform));

GRANT SELECT ON change_commit, change_event, change_state TO lda_app;
GRANT SELECT ON SEQUENCE change_position TO lda_app;
REVOKE ALL ON FUNCTION lda_change_open() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_emit(text, text, uuid, text, jsonb, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_purge(timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lda_change_open() TO lda_app;
GRANT EXECUTE ON FUNCTION lda_change_emit(text, text, uuid, text, jsonb, text, uuid) TO lda_app;
GRANT EXECUTE ON FUNCTION lda_change_purge(timestamptz, int) TO lda_app;
REVOKE ALL ON FUNCTION lda_change_seal() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_referral() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_measure() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_household() FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_change_siao_request() FROM PUBLIC;

-- ---- webhooks ----

CREATE TABLE webhook_endpoint (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_token                uuid NOT NULL REFERENCES api_token (id),
  url                        text NOT NULL CHECK (length(url) BETWEEN 10 AND 2048),
  event_types                text[] NOT NULL DEFAULT '{}',  -- empty: every type
  platforms                  text[] NOT NULL DEFAULT '{}',  -- empty: the owner's whole scope
  -- the signing secrets, sealed by the service (AES-256-GCM): never readable from here
  secret                     text NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  status                     text NOT NULL DEFAULT 'active'
                               CHECK (status IN ('active', 'disabled')),
  disabled_reason            text CHECK (disabled_reason IN ('failing', 'gone', 'owner_revoked',
                                                             'by_owner')),
  disabled_at                timestamptz,
  row_version                bigint NOT NULL DEFAULT 1,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL))
);
CREATE TRIGGER webhook_endpoint_touch BEFORE UPDATE ON webhook_endpoint
  FOR EACH ROW EXECUTE FUNCTION lda_touch();
CREATE INDEX webhook_endpoint_owner ON webhook_endpoint (owner_token, created_at, id);
CREATE INDEX webhook_endpoint_order ON webhook_endpoint (created_at, id);

-- How far the feed has been turned into deliveries for each endpoint (kept apart from the
-- endpoint, which only its owner changes).
CREATE TABLE webhook_cursor (
  endpoint_id uuid PRIMARY KEY REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
  position    bigint NOT NULL,
  event_id    bigint NOT NULL
);

-- One message per endpoint and event; `body` is the payload as signed, the same on every
-- attempt. Deliveries of one resource go out in feed order (see the claim statement).
CREATE TABLE webhook_delivery (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id      uuid NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
  event_id         bigint NOT NULL,
  position         bigint NOT NULL,
  type             text NOT NULL,
  resource_id      uuid,
  body             text NOT NULL,
  state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  leased_until     timestamptz,       -- an attempt in flight (a crashed worker's lease expires)
  first_attempt_at timestamptz,
  last_attempt_at  timestamptz,
  last_status      smallint,          -- the receiver's HTTP status
  last_error       text,              -- a code: timeout, connect, tls, http_status...
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_delivery_resource ON webhook_delivery (endpoint_id, resource_id, position,
                                                            event_id) WHERE state = 'pending';
CREATE INDEX webhook_delivery_log ON webhook_delivery (endpoint_id, position, event_id);
CREATE INDEX webhook_delivery_created ON webhook_delivery (created_at);

CREATE TABLE webhook_attempt (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  status      smallint,
  error       text,
  duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempt_delivery ON webhook_attempt (delivery_id, id);

-- Renderings (the secrets are never rendered: a new one is shown once, by the service).
CREATE FUNCTION lda_webhook_json(w webhook_endpoint) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', w.id, 'url', w.url, 'event_types', to_json(w.event_types),
    'platforms', to_json(w.platforms), 'status', w.status,
    'disabled_reason', w.disabled_reason, 'disabled_at', w.disabled_at,
    'previous_secret_expires_at',
      CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_expires_at END,
    'owner_token', w.owner_token, 'created_at', w.created_at, 'updated_at', w.updated_at)
$$;

CREATE FUNCTION lda_webhook_delivery_json(d webhook_delivery) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', d.id, 'message_id', 'msg_' || d.id, 'event_id', d.event_id,
    'type', d.type, 'resource_id', d.resource_id, 'state', d.state, 'attempts', d.attempts,
    'next_attempt_at', CASE WHEN d.state = 'pending' THEN d.next_attempt_at END,
    'last_attempt_at', d.last_attempt_at, 'last_status', d.last_status,
    'last_error', d.last_error, 'delivered_at', d.delivered_at, 'created_at', d.created_at,
    'recent_attempts', coalesce((
      SELECT json_agg(json_build_object('at', a.at, 'status', a.status, 'error', a.error,
                                        'duration_ms', a.duration_ms) ORDER BY a.id DESC)
        FROM (SELECT * FROM webhook_attempt WHERE delivery_id = d.id
               ORDER BY id DESC LIMIT 10) a), '[]'))
$$;

-- Turns the feed into deliveries, up to `horizon` (the last final position) and at most
-- `max_events` events per endpoint per call, each endpoint seen by the rules of its owner's
-- token. Endpoints whose token was revoked or expired are disabled. Safe to run from
-- several instances at once (an endpoint is locked while its cursor moves). Returns the
-- number of deliveries created.
CREATE FUNCTION lda_webhook_enqueue(horizon bigint, max_events int) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  w record;
  total bigint := 0;
  added bigint;
  scanned bigint;
  last_pos bigint;
  last_id bigint;
BEGIN
  FOR w IN
    SELECT e.id, e.event_types, e.platforms, c.position, c.event_id, t.role,
           t.platforms AS scope, t.source AS token_source, t.id AS token,
           t.revoked_at IS NOT NULL OR coalesce(t.expires_at <= now(), false) AS gone
      FROM webhook_endpoint e
      JOIN webhook_cursor c ON c.endpoint_id = e.id
      JOIN api_token t ON t.id = e.owner_token
     WHERE e.status = 'active' AND c.position < horizon
       FOR UPDATE OF c SKIP LOCKED
  LOOP
    IF w.gone THEN
      UPDATE webhook_endpoint SET status = 'disabled', disabled_reason = 'owner_revoked',
                                  disabled_at = now() WHERE id = w.id;
      CONTINUE;
    END IF;
    WITH scan AS (
      SELECT c.position, ev.id, ev FROM change_commit c JOIN change_event ev ON ev.xid = c.xid
       WHERE c.position >= w.position AND c.position <= horizon
         AND (c.position > w.position OR ev.id > w.event_id)
       ORDER BY c.position, ev.id LIMIT max_events),
    ins AS (
      INSERT INTO webhook_delivery (endpoint_id, event_id, position, type, resource_id, body)
      SELECT w.id, s.id, s.position, (s.ev).type, (s.ev).resource_id,
             json_build_object('type', (s.ev).type, 'timestamp', (s.ev).at,
                               'data', lda_change_json(s.ev))::text
        FROM scan s
       WHERE lda_change_visible((s.ev).platform, (s.ev).resource_type, (s.ev).source,
                                (s.ev).created_by, w.role, w.scope, w.token, w.token_source)
         AND (cardinality(w.event_types) = 0 OR (s.ev).type = ANY (w.event_types))
         AND (cardinality(w.platforms) = 0 OR (s.ev).platform = ANY (w.platforms))
      ON CONFLICT (endpoint_id, event_id) DO NOTHING
      RETURNING 1)
    SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM scan),
           (SELECT position FROM scan ORDER BY position DESC, id DESC LIMIT 1),
           (SELECT id FROM scan ORDER BY position DESC, id DESC LIMIT 1)
      INTO added, scanned, last_pos, last_id;
    total := total + added;
    IF scanned < max_events THEN
      -- everything up to the horizon is done
      UPDATE webhook_cursor SET position = horizon, event_id = 9223372036854775807
       WHERE endpoint_id = w.id;
    ELSE
      UPDATE webhook_cursor SET position = last_pos, event_id = last_id WHERE endpoint_id = w.id;
    END IF;
  END LOOP;
  RETURN total;
END
$$;

-- The outcome of one attempt. ok: delivered. Otherwise the delivery waits until `retry_at`,
-- unless it has failed for `give_up` since its first attempt: then it is marked failed and
-- its endpoint disabled ('failing'); `gone` (the receiver answered 410) disables the endpoint
-- at once and keeps the delivery pending for when it is enabled again.
CREATE FUNCTION lda_webhook_record(delivery uuid, ok boolean, http_status int, error text,
                                   duration_ms int, retry_at timestamptz, give_up interval,
                                   gone boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  d webhook_delivery;
BEGIN
  SELECT * INTO d FROM webhook_delivery WHERE id = delivery FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  INSERT INTO webhook_attempt (delivery_id, status, error, duration_ms)
  VALUES (delivery, http_status, error, duration_ms);
  IF ok THEN
    UPDATE webhook_delivery SET state = 'delivered', delivered_at = now(), leased_until = NULL,
           last_status = http_status, last_error = NULL WHERE id = delivery;
  ELSIF gone THEN
    UPDATE webhook_delivery SET leased_until = NULL, last_status = http_status,
           last_error = error, next_attempt_at = now() WHERE id = delivery;
    UPDATE webhook_endpoint SET status = 'disabled', disabled_reason = 'gone',
           disabled_at = now() WHERE id = d.endpoint_id AND status = 'active';
  ELSIF d.first_attempt_at + give_up <= now() THEN
    UPDATE webhook_delivery SET state = 'failed', leased_until = NULL, last_status = http_status,
           last_error = error WHERE id = delivery;
    UPDATE webhook_endpoint SET status = 'disabled', disabled_reason = 'failing',
           disabled_at = now() WHERE id = d.endpoint_id AND status = 'active';
  ELSE
    UPDATE webhook_delivery SET leased_until = NULL, last_status = http_status,
           last_error = error, next_attempt_at = retry_at WHERE id = delivery;
  END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoint, webhook_cursor, webhook_delivery
  TO lda_app;
GRANT SELECT, DELETE ON webhook_attempt TO lda_app;
REVOKE ALL ON FUNCTION lda_webhook_enqueue(bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION lda_webhook_record(uuid, boolean, int, text, int, timestamptz, interval,
                                          boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lda_webhook_enqueue(bigint, int) TO lda_app;
GRANT EXECUTE ON FUNCTION lda_webhook_record(uuid, boolean, int, text, int, timestamptz, interval,
                                             boolean) TO lda_app;
