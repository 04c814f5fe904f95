#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI (pinned in tests/package.json), rules in redocly.yaml.
# Exits non-zero on any error-level problem. Needs tests/node_modules (scripts/npm-deps.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REDOCLY="$ROOT/tests/node_modules/.bin/redocly"
[[ -x "$REDOCLY" ]] || { echo "openapi-lint: no $REDOCLY (run scripts/npm-deps.sh)" >&2; exit 1; }
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$ROOT"
exec "$REDOCLY" lint --format=stylish --config "$ROOT/redocly.yaml" "${1:-$ROOT/openapi.yaml}"
