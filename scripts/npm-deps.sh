#!/usr/bin/env bash
# Installs the test harness's npm packages (tests/node_modules) with `npm ci`, from the
# committed tests/package-lock.json, only when node_modules is missing or the lock changed.
# Quiet when there is nothing to do. Used by `./dev test` and by ctest's `node_deps` fixture.
set -euo pipefail
TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests" && pwd)"
cd "$TESTS"
command -v npm >/dev/null 2>&1 || { echo "npm-deps: no npm (run scripts/install-deps.sh)" >&2; exit 1; }

want=$(cat package.json package-lock.json | sha256sum | cut -c1-64)
stamp=node_modules/.lda-deps.sha256
[[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && exit 0

exec 9>"${TMPDIR:-/tmp}/lda-npm-$(printf '%s' "$TESTS" | sha1sum | cut -c1-16).lock"
flock -w 900 9
[[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && exit 0   # another run just did it

echo "npm-deps: npm ci in $TESTS" >&2
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
for try in 1 2 3; do
  if npm ci --no-audit --no-fund --loglevel=error; then
    echo "$want" >"$stamp"
    exit 0
  fi
  echo "npm-deps: npm ci failed (try $try of 3)" >&2
  sleep $((try * 5))
done
exit 1
