#!/bin/sh
# The database roles of a deployment, created once by PostgreSQL's superuser. In
# docker/compose.yaml the postgres image runs this file when it initialises its data
# directory (/docker-entrypoint-initdb.d); elsewhere run it with psql's usual PG* variables
# (PGHOST, PGPORT, PGPASSWORD) naming the cluster, as tests/deploy does:
#
#   POSTGRES_USER=postgres POSTGRES_DB=lda LDA_OWNER_PASSWORD=... LDA_APP_PASSWORD=... \
#     docker/initdb/10-lda-roles.sh
#
#   lda_owner  owns the database and everything the migrations create; runs `lda-api migrate`,
#              `token create` and `seed-demo`. Not a superuser: CREATEROLE only, because the
#              migrations create the group roles lda_app and lda_bi.
#   lda_api    what `lda-api serve` logs in as: a member of lda_app and nothing else. It owns
#              nothing, cannot create anything, and RESET ROLE leads back to itself, with no
#              more rights than lda_app; row-level security applies to every statement.
#   lda_app    the group role of the service (created by the migrations; created here first,
#              with the same attributes, so that lda_api can be a member of it from the start).
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}" "${LDA_OWNER_PASSWORD:?}" "${LDA_APP_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" -v owner_password="$LDA_OWNER_PASSWORD" \
  -v app_password="$LDA_APP_PASSWORD" <<'SQL'
DO $$
BEGIN
  CREATE ROLE lda_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
CREATE ROLE lda_owner LOGIN NOSUPERUSER NOCREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_password';
CREATE ROLE lda_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password' IN ROLE lda_app;
-- The owner of the database owns its public schema (PostgreSQL 15: pg_database_owner), so
-- only lda_owner creates objects there.
ALTER DATABASE :"db" OWNER TO lda_owner;
SQL
