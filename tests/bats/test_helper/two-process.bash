#!/usr/bin/env bash
# The set-up shared by the two-process suites (two_process.bats,
# reliability.bats): load it after common-setup. Each test gets its own
# instance (DPDK --file-prefix) in INSTANCE; teardown removes what it left.

setup_file() {
  export BATS_TEST_TIMEOUT=60
  common_setup_file
  require_executable "${BACKEND}"
  require_executable "${FRONTEND}"
  [[ -d ${HUGEPAGES_DIR} ]] || {
    echo "no hugetlbfs at ${HUGEPAGES_DIR}: run scripts/setup-hugepages.sh" >&2
    return 1
  }
}

setup() {
  INSTANCE=$(unique_instance)
}

teardown() {
  common_teardown
}

# run_frontend STATUS ARGS...: runs offload-frontend --instance $INSTANCE
# ARGS... (bounded) and expects exit STATUS; stdout in output, log in stderr.
run_frontend() {
  local -r expected=$1
  shift
  run "-${expected}" --separate-stderr bounded 30 "${FRONTEND}" --instance "${INSTANCE}" "$@"
}

# assert_all_verified N: the last run's JSON summary reports N jobs, all ok.
assert_all_verified() {
  # shellcheck disable=SC2154 # lines: set by bats' run
  assert_equal "${#lines[@]}" 1
  assert_json ".program == \"frontend\" and .jobs == $1 and .ok == $1 and .failed == 0 and .pending == 0"
}

# stats: the backend's counters as JSON in output.
stats() {
  run_frontend 0 --stats
  assert_json ".instance == \"${INSTANCE}\""
}
