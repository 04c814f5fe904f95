#!/usr/bin/env bash
# Runs one libFuzzer target of tests/fuzz/: replays its corpus (the seeds built from
# openapi.yaml and tests/fuzz/seeds/, plus whatever earlier runs kept in WORK_DIR/corpus),
# then fuzzes for SECONDS, and prints one summary line (also kept in WORK_DIR/summary). A
# crash, leak, sanitizer report or broken check fails the run; the input that caused it is
# kept in WORK_DIR/artifacts/.
#
#   tests/fuzz/run.sh BINARY SEEDS_DIR WORK_DIR SECONDS [libFuzzer options...]
#
# Used by ctest (label fuzz, tests/fuzz/CMakeLists.txt) and by `./dev fuzz`.
set -euo pipefail

if [[ $# -lt 4 ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
bin=$1 seeds=$2 work=$3 seconds=$4
shift 4
name=$(basename "$bin")
mkdir -p "$work/corpus" "$work/artifacts" "$seeds"
log="$work/last-run.log"
seeds_n=$(find "$seeds" -type f | wc -l)
kept_n=$(find "$work/corpus" -type f | wc -l)

status=0
"$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds" 2>&1 | tee "$log" ||
  status=${PIPESTATUS[0]}

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
final=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -1 | sed 's/^#[0-9]*[[:space:]]*//')
if [[ $status -eq 0 ]]; then
  summary=$(printf '%s: replayed %s seeds and %s inputs kept from earlier runs, fuzzed %s s: %s executions, %s; no finding' \
    "$name" "$seeds_n" "$kept_n" "$seconds" "${execs:-?}" "${final:-?}")
else
  summary=$(printf '%s: FINDING (exit %s) after %s executions; input kept in %s' \
    "$name" "$status" "${execs:-?}" "$work/artifacts/")
fi
echo "$summary" | tee "$work/summary"
exit "$status"
