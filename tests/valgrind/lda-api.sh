#!/usr/bin/env bash
# Runs the service binary under valgrind's memcheck: used as LDA_BIN by the valgrind ctest,
# so that every process the integration harness starts (migrate, token, serve) is checked.
# A definite leak or a memory error makes the process exit 99, which the harness reports.
# SCRAM authentication under valgrind takes seconds: give connections time to open.
export LDA_DB_CONNECT_TIMEOUT_S=30
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --track-origins=no --num-callers=30 \
  "${VALGRIND_TARGET_BIN:?VALGRIND_TARGET_BIN names the binary under test}" "$@"
