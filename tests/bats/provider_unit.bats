#!/usr/bin/env bats
# The provider's unit tests (tests/provider/provider_test.cpp: against the
# default provider on random sizes, AAD lengths and update splits; the GCM
# spec vectors; tag mismatches; ASYNC jobs on a wait fd and on a callback)
# need a live backend: each test here starts one and runs the program in it.

load 'test_helper/common-setup'
load 'test_helper/two-process'

PROVIDER_TESTS=${OFFLOAD_PROVIDER_TESTS:-${BIN_DIR}/../tests/unit/offload_provider_tests}
PROVIDER_DIR=${OFFLOAD_PROVIDER_DIR:-${BIN_DIR}/../provider}

# run_provider_tests DELAY_MS: the whole program against a backend with
# that device latency; then the backend has every buffer back and no session.
run_provider_tests() {
  require_executable "${PROVIDER_TESTS}"
  start_backend "${INSTANCE}" --delay-ms "$1"
  run --separate-stderr bounded 60 env OFFLOAD_INSTANCE="${INSTANCE}" OFFLOAD_PROVIDER_DIR="${PROVIDER_DIR}" \
    "${PROVIDER_TESTS}" --gtest_brief=1
  assert_success
  assert_output --partial "PASSED"
  refute_output --partial "FAILED"
  wait_until 10 stats_match "${POOLS_FULL} and .crypto_sessions == 0" || fail "pools not full: $(stats_now)"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "the provider matches the default provider; jobs wait on one fd each, or on their callback (D = 0)" {
  run_provider_tests 0
}

@test "the same with a device latency of 1 ms: every job really waits" {
  run_provider_tests 1
}
