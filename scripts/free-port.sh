#!/usr/bin/env bash
# Prints a TCP port that nothing listens on at 127.0.0.1, chosen at random below the
# kernel's ephemeral range (so outgoing connections do not take it meanwhile).
#   scripts/free-port.sh            a random free port in 20000-32767
#   scripts/free-port.sh --check P  exit 0 when P is free, 1 when something listens on it
set -euo pipefail

port_is_free() {
  local p=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]] || return 1
  fi
  # Also try to connect: catches listeners ss cannot see (other network namespace views).
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    return 1
  fi
  return 0
}

if [[ "${1:-}" == "--check" ]]; then
  [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "free-port: --check needs a port number" >&2; exit 2; }
  port_is_free "$2"
  exit
fi

for _ in $(seq 1 200); do
  p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
  if port_is_free "$p"; then
    echo "$p"
    exit 0
  fi
done
echo "free-port: found no free port" >&2
exit 1
