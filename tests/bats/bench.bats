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
  # A process the bench started and leaked is not tracked: found by its
  # instance (bench-<pid>-..., this test's alone) and stopped too.
  local instance pid
  while read -r instance; do
    for pid in $(pgrep -f -- "--instance ${instance}( |\$)"); do stop_pid "${pid}" "leaked ${instance} process"; done
  done < <(cat "$(_instances_list)" 2>/dev/null)
  common_teardown
  if [[ -n ${HALT_POLL_BEFORE:-} ]]; then
    echo "${HALT_POLL_BEFORE}" >"${HALT_POLL_FILE}"
  fi
}

# bench_instance: the instance of the backend the bench log on stdin started,
# registered so that teardown removes whatever a failed test left of it.
bench_instance() {
  local instance
  instance=$(sed -nE 's/.*starting offload-backend --instance ([^ ]+) .*/\1/p' | head -n 1)
  [[ -n ${instance} ]] || return 1
  register_instance "${instance}" && echo "${instance}"
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

  # 3>&-: a process the bench leaked would otherwise hold bats' fd 3, and bats
  # would wait for it after the test, for ever; the check below finds it.
  run -0 --separate-stderr bounded 120 "${BENCH}" --no-build --churn 1 --halt-poll-us 7 3>&-
  assert_line "Idle vCPUs (${HALT_POLL_FILE}): halt polling 7 us (--halt-poll-us; it was 3 us)"
  assert_line --partial 'failed: 0'
  assert_equal "$(<"${HALT_POLL_FILE}")" 3000
  local finished
  # shellcheck disable=SC2154 # stderr is set by `run --separate-stderr`
  finished=$(bench_instance <<<"${stderr}") || fail "the bench's stderr names no backend instance"
  assert_no_leftovers "${finished}"

  # Interrupted while it runs (the churn's frontends going), it restores it too.
  start_bounded bench 120 "${BENCH}" --no-build --churn 30 --halt-poll-us 7
  local -r bench_pid=${STARTED_PID}
  wait_for_line 20 "${BATS_TEST_TMPDIR}/bench.log" 'churn: 30 s of frontends' ||
    fail "the bench did not start its churn: $(cat "${BATS_TEST_TMPDIR}/bench.log")"
  local interrupted
  interrupted=$(bench_instance <"${BATS_TEST_TMPDIR}/bench.log") || fail "the bench's log names no backend instance"
  assert_equal "$(<"${HALT_POLL_FILE}")" 7000
  # As Ctrl-C does: to the whole process group (`timeout` leads it), the
  # churn's frontends included.
  kill -INT -- "-${bench_pid}"
  reap_tracked 15 "${bench_pid}" || fail "the bench still runs 15 s after SIGINT"
  assert_equal "${EXIT_STATUS}" 130
  assert_equal "$(<"${HALT_POLL_FILE}")" 3000
  # And nothing of its backend's instance is left (processes, files).
  assert_no_leftovers "${interrupted}"
}

@test "bench.sh --crypto, SIGINT while dpdk-test-crypto-perf runs: exit 130, the tool stopped, its runtime dir and hugepage files gone" {
  command -v dpdk-test-crypto-perf >/dev/null || skip "dpdk-test-crypto-perf is not installed (Debian's dpdk-dev)"
  # In a session of its own, as from a terminal: Ctrl-C reaches its process
  # group only, not the tool's `timeout`, which leads a group of its own.
  start_bounded bench 120 setsid "${BENCH}" --no-build --crypto
  local -r bench_pid=${STARTED_PID}
  wait_for_line 30 "${BATS_TEST_TMPDIR}/bench.log" 'reference: dpdk-test-crypto-perf' ||
    fail "the bench did not start the reference: $(cat "${BATS_TEST_TMPDIR}/bench.log")"
  # The script leads its group; the tool's file prefix is bench-<its pid>-cperf.
  local script_pid="" pid
  for pid in $(pgrep -f -- "${BENCH} --no-build --crypto"); do
    [[ $(ps -o pgid= -p "${pid}" | tr -d ' ') == "${pid}" ]] && script_pid=${pid}
  done
  [[ -n ${script_pid} ]] || fail "no bench.sh leading its own process group"
  local -r cperf=bench-${script_pid}-cperf
  register_instance "${cperf}"
  wait_until 10 pgrep -f -- "--file-prefix ${cperf} " >/dev/null || fail "dpdk-test-crypto-perf did not start"
  sleep 0.3  # into its run, past its start-up
  kill -INT -- "-${script_pid}"
  reap_tracked 15 "${bench_pid}" || fail "the bench still runs 15 s after SIGINT"
  assert_equal "${EXIT_STATUS}" 130
  # The tool runs under a `timeout` of its own, in another process group:
  # it once ran on after the bench had gone, and left its files.
  if pgrep -f -- "--file-prefix ${cperf} " >/dev/null; then
    fail "dpdk-test-crypto-perf still runs after the bench: $(pgrep -af -- "--file-prefix ${cperf} ")"
  fi
  assert_dir_not_exists "${DPDK_RUNTIME_ROOT}/${cperf}"
  local -a left=("${HUGEPAGES_DIR}/${cperf}"map_*)
  [[ ! -e ${left[0]} ]] || fail "hugepage files left: ${left[*]}"
}
