#!/usr/bin/env bash
# A private PostgreSQL 15 cluster, for `./dev run` and the integration tests.
#
#   scripts/pg-cluster.sh start DIR PORT   create the cluster if needed, start it, wait until
#                                          it accepts connections (PORT "auto": a free port,
#                                          the previous one when still free)
#   scripts/pg-cluster.sh replica DIR PRIMARY_DIR PORT
#                                          a streaming standby of the cluster running in
#                                          PRIMARY_DIR: a base backup (pg_basebackup -R) made
#                                          on first use, then started as `start` does
#   scripts/pg-cluster.sh stop DIR         stop it (fast shutdown); nothing to do is fine
#   scripts/pg-cluster.sh status DIR       exit 0 running, 3 stopped, 4 no cluster there
#   scripts/pg-cluster.sh url DIR          print the superuser URL
#
# Layout of DIR (mode 0700, owned by the user the cluster runs as):
#   data/     the data directory (its unix socket lives in it too)
#   url       postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres (mode 0600)
#   password  the superuser's random password (mode 0600)
#   pg.log    the server log
# Loopback only, scram-sha-256 everywhere. As root, the cluster runs as the `postgres` system
# user (initdb refuses root); when that user cannot reach DIR (e.g. a project under /root),
# the real directory is /var/lib/lda-api/clusters/<sha1 of DIR> and DIR is a symlink to it.
set -euo pipefail

PGBIN=${LDA_PGBIN:-/usr/lib/postgresql/15/bin}
SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_USER=postgres

log() { echo "pg-cluster: $*" >&2; }
die() { echo "pg-cluster: $*" >&2; exit 1; }
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a command as the cluster's user, from / (that user may not read the caller's cwd),
# without the lock descriptor (the postmaster would keep it for its whole life).
as_owner() {
  if is_root; then
    (cd / && runuser -u "$PG_USER" -- "$@" 9>&-)
  else
    (cd / && "$@" 9>&-)
  fi
}

# Absolute form of $1 without resolving its last component (it may be our symlink).
abs_path() {
  local p=$1
  [[ "$p" == /* ]] || p="$PWD/$p"
  p=${p%/}
  printf '%s/%s\n' "$(realpath -m -- "$(dirname -- "$p")")" "$(basename -- "$p")"
}

# Sets BASE (the real cluster directory) for DIR=$1; creates it when $2 is "create".
resolve_base() {
  local dir create=${2:-}
  dir=$(abs_path "$1")
  if [[ -L "$dir" ]]; then
    BASE=$(readlink -f -- "$dir")
    [[ -d "$BASE" || "$create" != create ]] || mkdir -p -- "$BASE"
  elif [[ -d "$dir" && -n "$(ls -A -- "$dir")" ]]; then
    BASE=$dir
  else
    BASE=$dir
    [[ "$create" == create ]] || return 0
    mkdir -p -- "$(dirname -- "$dir")"
    if is_root && ! runuser -u "$PG_USER" -- test -x "$(dirname -- "$dir")" 2>/dev/null; then
      BASE=/var/lib/lda-api/clusters/$(printf '%s' "$dir" | sha1sum | cut -c1-40)
      log "user $PG_USER cannot reach $(dirname -- "$dir"); cluster lives in $BASE, $dir links to it"
      mkdir -p /var/lib/lda-api/clusters
      chmod 0755 /var/lib/lda-api /var/lib/lda-api/clusters
      if [[ -f "$BASE/data/PG_VERSION" ]]; then
        # DIR was removed, so its old cluster goes too, as it would without the symlink.
        log "removing the stale cluster in $BASE"
        as_owner "$PGBIN/pg_ctl" stop -D "$BASE/data" -m immediate -w -s >/dev/null 2>&1 || true
        rm -rf -- "$BASE"
      fi
      mkdir -p -- "$BASE"
      [[ -d "$dir" ]] && rmdir -- "$dir"
      ln -s -- "$BASE" "$dir"
    else
      mkdir -p -- "$dir"
    fi
  fi
  if [[ "$create" == create ]]; then
    if is_root; then
      id -u "$PG_USER" >/dev/null 2>&1 || die "no '$PG_USER' system user (install postgresql-15)"
      chown "$PG_USER:$PG_USER" "$BASE"
    fi
    chmod 0700 "$BASE"
  fi
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

port_of_running() { sed -n '4p' "$BASE/data/postmaster.pid" 2>/dev/null || true; }

is_running() {
  [[ -f "$BASE/data/PG_VERSION" ]] || return 1
  as_owner "$PGBIN/pg_ctl" status -D "$BASE/data" >/dev/null 2>&1
}

write_url() {
  local port=$1 password
  password=$(cat "$BASE/password")
  (umask 077; printf 'postgresql://postgres:%s@127.0.0.1:%s/postgres\n' "$password" "$port" >"$BASE/url.tmp")
  chmod 0600 "$BASE/url.tmp"
  mv -f "$BASE/url.tmp" "$BASE/url"
  printf '%s\n' "$port" >"$BASE/port"
}

init_cluster() {
  log "creating a PostgreSQL cluster in $BASE/data"
  rm -rf -- "$BASE/data"
  (umask 077; random_hex 24 >"$BASE/password")
  is_root && chown "$PG_USER:$PG_USER" "$BASE/password"
  if ! as_owner "$PGBIN/initdb" -D "$BASE/data" -U postgres --pwfile="$BASE/password" \
      --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1; then
    cat "$BASE/initdb.log" >&2
    die "initdb failed"
  fi
  echo "include = 'lda.conf'" | as_owner tee -a "$BASE/data/postgresql.conf" >/dev/null
}

write_conf() {
  local port=$1 sockdir="$BASE/data"
  # A unix socket path must fit in sun_path (107 bytes); beyond, TCP only.
  if (( ${#sockdir} > 90 )); then sockdir=""; fi
  as_owner tee "$BASE/data/lda.conf" >/dev/null <<CONF
# Written by scripts/pg-cluster.sh on every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
logging_collector = off
CONF
}

# Takes the lock of DIR's cluster (held until this script exits).
lock_cluster() {
  local lock
  lock="${TMPDIR:-/tmp}/lda-pg-$(abs_path "$1" | sha1sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock -w 120 9 || die "another pg-cluster.sh holds $lock"
}

cmd_start() {
  local dir=$1 port=$2
  [[ "$port" == auto || "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number or 'auto', not '$port'"
  [[ -x "$PGBIN/initdb" ]] || die "no PostgreSQL 15 in $PGBIN (run scripts/install-deps.sh)"
  lock_cluster "$dir"
  resolve_base "$dir" create
  [[ -f "$BASE/data/PG_VERSION" && -f "$BASE/password" ]] || init_cluster
  launch "$port"
}

cmd_replica() {
  local dir=$1 primary=$2 port=$3 primary_url
  [[ "$port" == auto || "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number or 'auto', not '$port'"
  resolve_base "$primary"
  is_running || die "no cluster running in $primary"
  primary_url=$(cat "$BASE/url")
  local primary_password="$BASE/password"
  lock_cluster "$dir"
  resolve_base "$dir" create
  if [[ ! -f "$BASE/data/PG_VERSION" ]]; then
    log "base backup of $primary into $BASE/data (streaming standby)"
    rm -rf -- "$BASE/data"
    install -m 0600 "$primary_password" "$BASE/password"
    is_root && chown "$PG_USER:$PG_USER" "$BASE/password"
    # -R: standby.signal and primary_conninfo; -X stream: the WAL written meanwhile too.
    if ! as_owner "$PGBIN/pg_basebackup" -d "$primary_url" -D "$BASE/data" -R -X stream \
        -c fast -w >"$BASE/basebackup.log" 2>&1; then
      cat "$BASE/basebackup.log" >&2
      rm -rf -- "$BASE/data"
      die "pg_basebackup failed"
    fi
  fi
  launch "$port"
}

# Starts the cluster of BASE (port PORT or auto) unless it runs already; waits until ready.
launch() {
  local port=$1
  if is_running; then
    local running
    running=$(port_of_running)
    if [[ "$port" != auto && "$port" != "$running" ]]; then
      log "already running on port $running (not $port); keeping it"
    fi
    write_url "$running"
    return 0
  fi

  if [[ "$port" == auto ]]; then
    local previous
    previous=$(cat "$BASE/port" 2>/dev/null || true)
    if [[ -n "$previous" ]] && "$SCRIPTS/free-port.sh" --check "$previous"; then
      port=$previous
    else
      port=$("$SCRIPTS/free-port.sh")
    fi
  fi
  write_conf "$port"
  if ! as_owner "$PGBIN/pg_ctl" start -D "$BASE/data" -l "$BASE/pg.log" -w -t 60 -s >/dev/null; then
    tail -n 20 "$BASE/pg.log" >&2 || true
    die "could not start the cluster in $BASE (port $port)"
  fi
  local _
  for _ in $(seq 1 120); do
    if pg_isready_bin -h 127.0.0.1 -p "$port" -q; then
      write_url "$port"
      log "running on 127.0.0.1:$port (data in $BASE/data, log in $BASE/pg.log)"
      return 0
    fi
    sleep 0.5
  done
  tail -n 20 "$BASE/pg.log" >&2 || true
  die "the cluster did not become ready on port $port"
}

pg_isready_bin() {
  if [[ -x "$PGBIN/pg_isready" ]]; then "$PGBIN/pg_isready" "$@"; else pg_isready "$@"; fi
}

cmd_stop() {
  resolve_base "$1"
  if [[ ! -f "$BASE/data/PG_VERSION" ]]; then
    log "no cluster in $1"
    return 0
  fi
  if is_running; then
    as_owner "$PGBIN/pg_ctl" stop -D "$BASE/data" -m fast -w -t 60 -s
    log "stopped the cluster in $BASE"
  else
    log "the cluster in $BASE is not running"
  fi
}

cmd_status() {
  resolve_base "$1"
  if [[ ! -f "$BASE/data/PG_VERSION" ]]; then
    echo "no cluster in $1"
    return 4
  fi
  if is_running; then
    echo "running on 127.0.0.1:$(port_of_running) (data in $BASE/data)"
    return 0
  fi
  echo "stopped (data in $BASE/data)"
  return 3
}

cmd_url() {
  resolve_base "$1"
  [[ -f "$BASE/url" ]] || die "no url in $1: start the cluster first"
  cat "$BASE/url"
}

[[ $# -ge 2 ]] || usage
command=$1
shift
case "$command" in
  start) [[ $# -eq 2 ]] || usage; cmd_start "$1" "$2" ;;
  replica) [[ $# -eq 3 ]] || usage; cmd_replica "$1" "$2" "$3" ;;
  stop) [[ $# -eq 1 ]] || usage; cmd_stop "$1" ;;
  status) [[ $# -eq 1 ]] || usage; cmd_status "$1" ;;
  url) [[ $# -eq 1 ]] || usage; cmd_url "$1" ;;
  *) usage ;;
esac
