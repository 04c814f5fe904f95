-- Roles the service needs (SPEC §8). Roles are cluster-wide: several databases of one
-- cluster (tests) share them, so creation is guarded and tolerant of a concurrent creator.
--   lda_app: what the service runs as (SET ROLE); owns nothing, subject to row-level security.
--   lda_bi : reads the reporting views only.
DO $$
BEGIN
  BEGIN
    CREATE ROLE lda_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE lda_bi NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END
$$;

-- The role that migrates (and usually serves) must be able to SET ROLE lda_app.
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'lda_app', 'MEMBER') THEN
    EXECUTE format('GRANT lda_app TO %I', current_user);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO lda_app;

-- Every row carries created_at/updated_at and a row_version used as the ETag.
CREATE FUNCTION lda_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  NEW.row_version := OLD.row_version + 1;
  RETURN NEW;
END
$$;
