-- Defence in depth (SPEC §4, issue 9): the platform scope is enforced by PostgreSQL too, so
-- that a missing check in a handler still cannot return another platform's row.
--
-- The service sets, on its connection, before the statements of a request:
--   lda.scope = '*'                  every platform (admin, unscoped analyst)
--   lda.scope = 'artois,lens_henin'  the caller's platforms
-- A connection where it is not set sees nothing (the default is deny). The owner role
-- (migrations, seed-demo) is not subject to these policies.
CREATE FUNCTION lda_in_scope(p text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE coalesce(current_setting('lda.scope', true), '')
    WHEN '' THEN false
    WHEN '*' THEN true
    ELSE p = ANY (string_to_array(current_setting('lda.scope', true), ','))
  END
$$;

ALTER TABLE household ENABLE ROW LEVEL SECURITY;
ALTER TABLE referral ENABLE ROW LEVEL SECURITY;
ALTER TABLE measure ENABLE ROW LEVEL SECURITY;
ALTER TABLE referral_event ENABLE ROW LEVEL SECURITY;
ALTER TABLE partner ENABLE ROW LEVEL SECURITY;
ALTER TABLE siao_request ENABLE ROW LEVEL SECURITY;

CREATE POLICY household_scope ON household TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
CREATE POLICY referral_scope ON referral TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
CREATE POLICY siao_request_scope ON siao_request TO lda_app
  USING (lda_in_scope(platform)) WITH CHECK (lda_in_scope(platform));
-- partners without a platform serve every platform
CREATE POLICY partner_scope ON partner TO lda_app
  USING (platform IS NULL OR lda_in_scope(platform))
  WITH CHECK (platform IS NULL OR lda_in_scope(platform));
-- measures and events follow their referral
CREATE POLICY measure_scope ON measure TO lda_app
  USING (EXISTS (SELECT 1 FROM referral r WHERE r.id = referral_id))
  WITH CHECK (EXISTS (SELECT 1 FROM referral r WHERE r.id = referral_id));
-- (an event is inserted in the same statement as a new referral, which that statement's
-- sub-queries cannot see yet: the insert is checked through the referral's own policy)
CREATE POLICY referral_event_scope ON referral_event TO lda_app
  USING (EXISTS (SELECT 1 FROM referral r WHERE r.id = referral_id))
  WITH CHECK (true);

-- The audit log is append-only for the service: it may insert and read, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM lda_app;

-- A batch must know on which platform a record of its source is already stored, even when
-- that platform is outside the caller's scope (to report it instead of failing on the
-- unique key of a row it cannot see). These functions disclose that platform and nothing
-- else; they run with the owner's rights.
CREATE FUNCTION lda_stored_platforms(kind text, src text, ids text[])
RETURNS TABLE (external_id text, platform text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT s.external_id, s.platform FROM siao_request s
   WHERE kind = 'siao_request' AND s.source = src AND s.external_id = ANY (ids)
  UNION ALL
  SELECT h.external_ref, h.platform FROM household h
   WHERE kind = 'household' AND h.source = src AND h.external_ref = ANY (ids)
  UNION ALL
  SELECT r.external_id, r.platform FROM referral r
   WHERE kind = 'referral' AND r.source = src AND r.external_id = ANY (ids)
$$;
REVOKE ALL ON FUNCTION lda_stored_platforms(text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lda_stored_platforms(text, text, text[]) TO lda_app;
