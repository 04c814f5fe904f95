#!/usr/bin/env bash
# Fills web/vendor/ with the third-party browser bundles of the pages /docs (Swagger UI) and
# /observatory (Chart.js), served by the service itself (no CDN: the pages work offline).
#
#   scripts/web-deps.sh            npm ci in web/ (from the committed web/package-lock.json)
#                                  when node_modules is missing or the lock changed, then copy
#                                  the dist files flat into web/vendor/
#
# Quiet when there is nothing to do. Install scripts of the packages are not run
# (--ignore-scripts): the bundles are plain files. Used by `./dev run`, `./dev test` and the
# Docker image build. web/node_modules/ and web/vendor/ are never committed.
set -euo pipefail
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/../web" && pwd)"
cd "$WEB"

# package/path/in/node_modules -> flat name in web/vendor/
FILES=(
  swagger-ui-dist/swagger-ui-bundle.js:swagger-ui-bundle.js
  swagger-ui-dist/swagger-ui.css:swagger-ui.css
  swagger-ui-dist/swagger-ui.css.map:swagger-ui.css.map
  chart.js/dist/chart.umd.min.js:chart.umd.min.js
  chart.js/dist/chart.umd.min.js.map:chart.umd.min.js.map
)

want=$( { cat package.json package-lock.json; printf '%s\n' "${FILES[@]}"; } | sha256sum | cut -c1-64)
stamp=vendor/.lda-web.sha256
up_to_date() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  local pair
  for pair in "${FILES[@]}"; do [[ -s "vendor/${pair##*:}" ]] || return 1; done
}
up_to_date && exit 0

command -v npm >/dev/null 2>&1 || { echo "web-deps: no npm (run scripts/install-deps.sh)" >&2; exit 1; }
exec 9>"${TMPDIR:-/tmp}/lda-web-$(printf '%s' "$WEB" | sha1sum | cut -c1-16).lock"
flock -w 900 9
up_to_date && exit 0   # another run just did it

nm_stamp=node_modules/.lda-deps.sha256
nm_want=$(cat package.json package-lock.json | sha256sum | cut -c1-64)
if [[ ! -f "$nm_stamp" || "$(cat "$nm_stamp")" != "$nm_want" ]]; then
  echo "web-deps: npm ci in $WEB" >&2
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  ok=0
  for try in 1 2 3; do
    if npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; then
      echo "$nm_want" >"$nm_stamp"
      ok=1
      break
    fi
    echo "web-deps: npm ci failed (try $try of 3)" >&2
    sleep $((try * 5))
  done
  [[ $ok -eq 1 ]] || exit 1
fi

mkdir -p vendor
for pair in "${FILES[@]}"; do
  src=node_modules/${pair%%:*}
  dst=vendor/${pair##*:}
  [[ -s "$src" ]] || { echo "web-deps: $src is missing from the npm package" >&2; exit 1; }
  cp -f "$src" "$dst.tmp"
  mv -f "$dst.tmp" "$dst"
done
echo "$want" >"$stamp"
echo "web-deps: web/vendor/ filled (${#FILES[@]} files)" >&2
