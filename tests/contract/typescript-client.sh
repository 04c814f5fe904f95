#!/usr/bin/env bash
# Generates the TypeScript types of openapi.yaml with openapi-typescript (as a front-end team
# would) and type-checks tests/contract/client/usage.ts — three typed calls through
# openapi-fetch — with `tsc --noEmit` (strict). Fails when generation fails or tsc reports an
# error. Needs tests/node_modules (scripts/npm-deps.sh).
#
#   tests/contract/typescript-client.sh [OUT_DIR] [SPEC]
#
# OUT_DIR receives api.d.ts and a tsconfig.json extending tests/contract/client/tsconfig.json
# that points the module "lda-api-openapi" at it (default: a temporary folder, removed at the
# end). Nothing is written to the source tree. ctest passes build/tests/contract-client, the
# path tests/contract/client/tsconfig.json defaults to, so that editors and
# `tsc --noEmit -p tests/contract/client` work after a build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/tests/node_modules/.bin"
CLIENT="$ROOT/tests/contract/client"
SPEC="${2:-$ROOT/openapi.yaml}"
for tool in openapi-typescript tsc; do
  [[ -x "$BIN/$tool" ]] || { echo "typescript-client: no $BIN/$tool (run scripts/npm-deps.sh)" >&2; exit 1; }
done

if [[ -n "${1:-}" ]]; then
  OUT="$1"
  mkdir -p "$OUT"
  OUT="$(cd "$OUT" && pwd)"
else
  OUT="$(mktemp -d "${TMPDIR:-/tmp}/lda-ts-client.XXXXXX")"
  trap 'rm -rf "$OUT"' EXIT
fi

export npm_config_update_notifier=false NO_COLOR=1
echo "typescript-client: openapi-typescript $SPEC -> $OUT/api.d.ts"
"$BIN/openapi-typescript" "$SPEC" --output "$OUT/api.d.ts"
[[ -s "$OUT/api.d.ts" ]] || { echo "typescript-client: openapi-typescript wrote nothing" >&2; exit 1; }

cat >"$OUT/tsconfig.json" <<JSON
{
  "extends": "$CLIENT/tsconfig.json",
  "compilerOptions": { "paths": { "lda-api-openapi": ["./api.d.ts"] } },
  "files": ["$CLIENT/usage.ts"]
}
JSON

echo "typescript-client: tsc --noEmit (strict) on $CLIENT/usage.ts"
"$BIN/tsc" --version
"$BIN/tsc" --noEmit --pretty false -p "$OUT/tsconfig.json"
echo "typescript-client: ok"
