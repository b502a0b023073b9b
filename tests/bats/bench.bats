#!/usr/bin/env bats
# scripts/bench.sh's own behaviour (not its figures: those are the bench's
# output, never a test's): flags, and a machine setting it changes for a run
# (--halt-poll-us) put back on every exit path.

load 'test_helper/common-setup'

BENCH=${REPO_ROOT}/scripts/bench.sh
HALT_POLL_FILE=/sys/module/haltpoll/parameters/guest_halt_poll_ns

setup_file() {
  export BATS_TEST_TIMEOUT=180
  common_setup_file
  # --churn needs the release programs (the bench runs build/release).
  require_executable "${REPO_ROOT}/build/release/apps/frontend/offload-frontend"
}

setup() {
  if [[ -f ${HALT_POLL_FILE} ]]; then
    HALT_POLL_BEFORE=$(<"${HALT_POLL_FILE}")
  fi
}

teardown() {
  # First the bench (it restores what it found, which may be this test's
  # own value), then the machine's idle loop as it was before the test.
  common_teardown
  if [[ -n ${HALT_POLL_BEFORE:-} ]]; then
    echo "${HALT_POLL_BEFORE}" >"${HALT_POLL_FILE}"
  fi
}

@test "bench.sh bad flags: exit 2 with one error line, the machine untouched" {
  local arg
  for arg in abc -1 10001 123456789012345678901234567890; do
    run -2 --separate-stderr bounded 10 "${BENCH}" --no-build --halt-poll-us "${arg}"
    assert_output ''
    with_stderr assert_line --index 0 "bench.sh: error: --halt-poll-us: '${arg}' is not a whole number of microseconds in 0..10000"
  done
  run -2 --separate-stderr bounded 10 "${BENCH}" --no-build --halt-poll-us
  with_stderr assert_line --index 0 --partial "--halt-poll-us: '' is not"
  if [[ -n ${HALT_POLL_BEFORE:-} ]]; then
    assert_equal "$(<"${HALT_POLL_FILE}")" "${HALT_POLL_BEFORE}"
  fi
}

@test "bench.sh --halt-poll-us 7: the output says 7 us and what it was; the value found is back after the run, and after a SIGINT mid-run" {
  [[ -w ${HALT_POLL_FILE} ]] || skip "no writable ${HALT_POLL_FILE}: this kernel has no cpuidle-haltpoll"
  # A value the machine surely does not have, to see it restored.
  echo 3000 >"${HALT_POLL_FILE}"

  run -0 --separate-stderr bounded 120 "${BENCH}" --no-build --churn 1 --halt-poll-us 7
  assert_line "Idle vCPUs (${HALT_POLL_FILE}): halt polling 7 us (--halt-poll-us; it was 3 us)"
  assert_line --partial 'failed: 0'
  assert_equal "$(<"${HALT_POLL_FILE}")" 3000

  # Interrupted while it runs (the churn's frontends going), it restores it too.
  start_bounded bench 120 "${BENCH}" --no-build --churn 30 --halt-poll-us 7
  local -r bench_pid=${STARTED_PID}
  wait_for_line 20 "${BATS_TEST_TMPDIR}/bench.log" 'churn: 30 s of frontends' ||
    fail "the bench did not start its churn: $(cat "${BATS_TEST_TMPDIR}/bench.log")"
  assert_equal "$(<"${HALT_POLL_FILE}")" 7000
  # As Ctrl-C does: to the whole process group (`timeout` leads it), the
  # churn's frontends included.
  kill -INT -- "-${bench_pid}"
  reap_tracked 15 "${bench_pid}" || fail "the bench still runs 15 s after SIGINT"
  assert_equal "${EXIT_STATUS}" 130
  assert_equal "$(<"${HALT_POLL_FILE}")" 3000
  # And its backend's instance is gone.
  local -r instance=$(sed -nE 's/.*starting offload-backend --instance ([^ ]+) .*/\1/p' "${BATS_TEST_TMPDIR}/bench.log")
  [[ -n ${instance} ]] || fail "the bench's log names no backend instance"
  register_instance "${instance}"
  assert_no_leftovers "${instance}"
}
