#!/usr/bin/env bash
# Fails when a file of api/ includes a header of a layer it may not depend on, and prints each
# such include. The layers and what each may include (docs/architecture.md, "Layers"):
#   core       core
#   domain     core, domain
#   store      core, domain, store
#   http       core, http, and domain/vocab.h (query parameters are checked against the
#              vocabularies); never store, resources or worker
#   worker     core, domain, store, worker
#   resources  core, domain, store, http, resources
#   main.c     everything
# Usage: layers.sh [API_DIR] (default: the api/ of this repository).
set -euo pipefail
api="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/api}"
cd "$api"

allowed() { # layer, included path -> 0 when allowed
  local from="$1" inc="$2" to="${2%%/*}"
  case "$from" in
    main) return 0 ;;
    core) [[ $to == core ]] ;;
    domain) [[ $to == core || $to == domain ]] ;;
    store) [[ $to == core || $to == domain || $to == store ]] ;;
    http) [[ $to == core || $to == http || $inc == domain/vocab.h ]] ;;
    worker) [[ $to == core || $to == domain || $to == store || $to == worker ]] ;;
    resources) [[ $to != worker && $to != main.c ]] ;;
    *) return 1 ;;
  esac
}

bad=0 checked=0
while IFS= read -r file; do
  case "$file" in
    main.c) layer=main ;;
    */*) layer="${file%%/*}" ;;
    *) echo "layers: $file: not in a layer folder"; bad=$((bad + 1)); continue ;;
  esac
  while IFS=: read -r line inc; do
    [[ -z $inc ]] && continue
    [[ $inc != */* ]] && inc="$(dirname "$file")/$inc" # "x.h": beside the file
    checked=$((checked + 1))
    if ! allowed "$layer" "$inc"; then
      echo "api/$file:$line: $layer may not include \"$inc\""
      bad=$((bad + 1))
    fi
  done < <(grep -n -o -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' "$file" |
             sed -E 's/^([0-9]+):.*"([^"]+)"$/\1:\2/' || true)
done < <(find . -name '*.[ch]' | sed 's|^\./||' | sort)

if ((bad)); then
  echo "layers: $bad include(s) across a forbidden direction"
  exit 1
fi
echo "layers: $checked includes of $(find . -name '*.[ch]' | wc -l) files point one way"
