#!/usr/bin/env bash
# Fails when a C file of api/ or tests/unit/ is not formatted as .clang-format says.
# Fix with: clang-format -i $(find api tests/unit -name '*.[ch]')
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mapfile -t files < <(find api tests/unit -name '*.[ch]' | sort)
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files formatted"
