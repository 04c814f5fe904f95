#!/usr/bin/env bash
# Installs every Debian (bookworm) package that lda-api needs to build, test, run,
# and to build its Docker image. The one place where the list lives.
#
#   scripts/install-deps.sh            everything (build + run + tests + tools)
#   scripts/install-deps.sh --build    build dependencies only (Docker build stage)
#   scripts/install-deps.sh --runtime  what the running service needs (Docker runtime stage)
#
# Idempotent: checks with dpkg-query first and touches apt only when something is missing,
# printing nothing when everything is already there. Runs as root (no sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# C toolchain and the -dev packages of the libraries the service links against.
BUILD_PKGS=(
  build-essential cmake pkg-config
  libulfius-dev libjansson-dev liborcania-dev libmicrohttpd-dev libyder-dev
  libpq-dev libssl-dev uuid-dev libunistring-dev
  # libcurl (webhook deliveries), GnuTLS flavour: libulfius-dev depends on it, and Debian's
  # libcurl4-openssl-dev conflicts with it
  libcurl4-gnutls-dev
)
# Shared libraries the binary loads at run time, plus certificates and time zones.
RUNTIME_PKGS=(
  libulfius2.7 libjansson4 liborcania2.3 libyder2.0 libmicrohttpd12
  libpq5 libssl3 libuuid1 libunistring2 ca-certificates tzdata curl
  libcurl3-gnutls
)
# The embedded PostgreSQL cluster, the integration-test harness, sanitizers, benchmarks,
# Debian's Chromium for the browser tests (driven by playwright-core; never a downloaded browser),
# and the deployment tests (tests/deploy: buildah builds the image on a debootstrap base, nginx
# terminates TLS with a certificate made by openssl).
DEV_PKGS=(
  postgresql-15 postgresql-client-15 postgresql-contrib
  curl ca-certificates tzdata git wrk valgrind clang libclang-rt-14-dev clang-format clang-tidy
  procps iproute2 util-linux chromium python3
  buildah debootstrap nginx openssl
)

mode=all
for arg in "$@"; do
  case "$arg" in
    --build) mode=build ;;
    --runtime) mode=runtime ;;
    --all) mode=all ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

wanted=()
case "$mode" in
  build) wanted=("${BUILD_PKGS[@]}") ;;
  runtime) wanted=("${RUNTIME_PKGS[@]}") ;;
  all)
    wanted=("${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${DEV_PKGS[@]}")
    # Node.js: keep whatever node + npm the machine already has (an image may ship a
    # NodeSource build whose nodejs package provides npm and conflicts with Debian's).
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
      wanted+=(nodejs npm)
    fi
    ;;
esac

missing=()
declare -A seen=()
for pkg in "${wanted[@]}"; do
  [[ -n "${seen[$pkg]:-}" ]] && continue
  seen[$pkg]=1
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$pkg")
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
retry() {
  local n
  for n in 1 2 3; do
    "$@" && return 0
    echo "install-deps: '$*' failed (try $n of 3)" >&2
    sleep $((n * 5))
  done
  return 1
}
# A package's maintainer scripts must not start a daemon (nginx would listen on port 80):
# deny service starts while installing, unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# written by lda-api scripts/install-deps.sh while installing\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
retry apt-get -q update
retry apt-get install -y -q --no-install-recommends "${missing[@]}"
