#!/usr/bin/env bash
# Fails when a C file of api/, bench/, tests/unit/ or tests/fuzz/ is not formatted as
# .clang-format says. Fix with: clang-format -i $(find api bench tests/unit tests/fuzz -name '*.[ch]')
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mapfile -t files < <(find api bench tests/unit tests/fuzz -name '*.[ch]' | sort)
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files formatted"
