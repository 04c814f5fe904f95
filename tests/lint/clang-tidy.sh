#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: bugprone, clang-analyzer, performance...) on every C file of
# api/, with the compile commands of the build folder given as $1. Any finding fails.
set -euo pipefail
build=${1:?usage: clang-tidy.sh BUILD_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mapfile -t files < <(find api -name '*.c' | sort)
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet
echo "clang-tidy: ${#files[@]} files clean"
