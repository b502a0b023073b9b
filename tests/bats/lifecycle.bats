#!/usr/bin/env bats
# Client lifecycles (issue 11): frontends that start and stop concurrently,
# for a long time, never wedge the instance, and lose nothing. See
# docs/LIFECYCLE.md for why they once did (DPDK memory hotplug between
# secondaries starting and stopping at the same moment) and what removed it.

# The churn runs CHURN_S seconds: 60 by default, 20 in CI (CI set), or
# OFFLOAD_CHURN_S. bench.sh --churn is the long soak.
if [[ -n ${OFFLOAD_CHURN_S:-} ]]; then
  CHURN_S=${OFFLOAD_CHURN_S}
elif [[ -n ${CI:-} && ${CI} != false && ${CI} != 0 ]]; then
  CHURN_S=20
else
  CHURN_S=60
fi
# The churn, its last frontends' bound (30 s) and the checks after it.
TWO_PROCESS_TEST_TIMEOUT=$((CHURN_S + 90))

load 'test_helper/common-setup'
load 'test_helper/two-process'

# The backend's own runtime files: config, hugepage_info, mp_socket, the
# ready file, the memseg and memzone fbarrays (one per memseg list), and
# its record of dead secondaries. Anything beyond a few more is a leak.
MAX_RUNTIME_FILES=16

@test "churn: frontends with random jobs and notify modes start and stop, up to 8 at once, for CHURN_S s: none fails, nothing leaks" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  run --separate-stderr bounded $((CHURN_S + 60)) "${REPO_ROOT}/scripts/churn.sh" --instance "${INSTANCE}" \
    --duration "${CHURN_S}" --max-at-once 8 --frontend "${FRONTEND}" --work-dir "${BATS_TEST_TMPDIR}/churn"
  echo "# churn: ${output}" >&3
  ((status == 0)) || fail "churn.sh exited ${status}: ${output}"$'\n'"${stderr}"
  assert_json '.failed == 0 and .failures == []'
  # At least one frontend a second, and 8 processes at once at times (in
  # DPDK start-up, registered or in clean-up: short runs are registered for
  # only milliseconds, so fewer overlap as registered frontends).
  assert_json ".frontends >= ${CHURN_S} and .max_at_once == 8"
  local -r attached=$(max_attached "${BACKEND_LOG}")
  ((attached >= 2)) || fail "the frontends did not overlap: at most ${attached} were attached together"

  # No memory was hotplugged while they came and went (the cause of the wedges).
  assert_backend_logged 'DPDK memory hotplug while serving' 0
  assert_backend_logged 'refused to grow the shared heap' 0
  stats
  assert_json "${POOLS_FULL} and .rejected == 0"
  local -r files=$(find "${DPDK_RUNTIME_ROOT}/${INSTANCE}" -mindepth 1 | wc -l)
  ((files <= MAX_RUNTIME_FILES)) ||
    fail "${files} runtime files after the churn: $(ls "${DPDK_RUNTIME_ROOT}/${INSTANCE}")"
  assert_equal "$(dead_secondaries_files "${INSTANCE}")" ''

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# ---------------------------------------------------------------------------
# The backend's own start and stop (issue 13: signals and every exit path)

# start_backend_unready INSTANCE ARGS...: starts a backend without waiting for
# it; sets BACKEND_TIMEOUT_PID, BACKEND_PID (once it exists) and BACKEND_LOG.
start_backend_unready() {
  local -r instance=$1
  shift
  register_instance "${instance}"
  start_bounded backend-unready 60 "${BACKEND}" --instance "${instance}" "$@"
  BACKEND_TIMEOUT_PID=${STARTED_PID}
  BACKEND_LOG=${BATS_TEST_TMPDIR}/backend-unready.log
  BACKEND_PID=$(child_pid "${BACKEND_TIMEOUT_PID}")
}

@test "SIGTERM at any moment of the backend's start-up: it stops cleanly (exit 0) and leaves nothing" {
  local delay
  for delay in 0.05 0.1 0.15 0.2 0.3 0.5 1; do
    INSTANCE=$(unique_instance)
    start_backend_unready "${INSTANCE}"
    sleep "${delay}"
    kill -TERM "${BACKEND_PID}"
    reap_tracked 20 "${BACKEND_TIMEOUT_PID}" || fail "the backend still runs 20 s after SIGTERM (sent ${delay} s in)"
    # 143 only if the signal came before main() (an ASan build's runtime
    # takes tens of ms to start): the process had done nothing yet.
    if ((EXIT_STATUS == 143)) && [[ ! -s ${BACKEND_LOG} ]]; then
      echo "# SIGTERM ${delay} s in: it arrived before the backend's main()" >&3
    else
      ((EXIT_STATUS == 0)) || fail "SIGTERM ${delay} s into the start-up: exit ${EXIT_STATUS}, not 0: $(cat "${BACKEND_LOG}")"
    fi
    assert_no_leftovers "${INSTANCE}"
  done
}

@test "SIGHUP (its terminal closed) stops the backend cleanly: exit 0, nothing left" {
  start_backend "${INSTANCE}" --delay-ms 1
  run_frontend 0 --jobs 4 --json
  kill -HUP "${BACKEND_PID}"
  reap_tracked 20 "${BACKEND_TIMEOUT_PID}" || fail "the backend still runs 20 s after SIGHUP"
  assert_equal "${EXIT_STATUS}" 0
  assert_backend_logged 'SIGHUP: stopping' 1
  assert_backend_logged 'stopped cleanly' 1
  assert_no_leftovers "${INSTANCE}"
}

# assert_backend_fails_cleanly REGEX ARGS...: the backend exits 3 with one
# error line matching REGEX, nothing on stdout, and leaves nothing behind.
assert_backend_fails_cleanly() {
  local -r says=$1
  shift
  register_instance "${INSTANCE}"
  run -3 --separate-stderr bounded 60 "${BACKEND}" --instance "${INSTANCE}" "$@"
  assert_output ''
  with_stderr assert_line --regexp "^offload-backend: error: ${says}"
  assert_no_leftovers "${INSTANCE}"
}

@test "a backend that fails after deciding to serve leaves nothing: --pool-size too large for the hugepages" {
  assert_backend_fails_cleanly "--pool-size 1048576 needs [0-9]+ MB of hugepage memory .* are free: lower --pool-size or reserve more hugepages" \
    --pool-size 1048576
}

@test "a backend that fails in DPDK's start-up leaves nothing: -- --huge-dir /nonexistent" {
  assert_backend_fails_cleanly 'DPDK EAL initialisation failed' -- --huge-dir /nonexistent
}

@test "a backend that fails in DPDK's start-up leaves nothing: -- --socket-mem=100000" {
  assert_backend_fails_cleanly 'DPDK EAL initialisation failed' -- --socket-mem=100000
}

@test "two backends started at the same instant for one instance: one serves, the other is refused (exit 3), nothing is mixed up" {
  local round
  for round in 1 2 3; do
    INSTANCE=$(unique_instance)
    register_instance "${INSTANCE}"
    start_bounded "first-${round}" 60 "${BACKEND}" --instance "${INSTANCE}"
    local first=${STARTED_PID}
    start_bounded "second-${round}" 60 "${BACKEND}" --instance "${INSTANCE}"
    local second=${STARTED_PID}
    wait_until 30 test -f "$(ready_file "${INSTANCE}")" || fail "neither backend became ready"
    # The refused one exits by itself; the serving one is still there.
    local refused="" serving=""
    if reap_tracked 20 "${second}" && ((EXIT_STATUS == 3)); then
      refused=second serving=${first}
    elif reap_tracked 20 "${first}" && ((EXIT_STATUS == 3)); then
      refused=first serving=${second}
    fi
    [[ -n ${refused} ]] || fail "round ${round}: no backend was refused with exit 3"
    grep -q "already has a running backend" "${BATS_TEST_TMPDIR}/${refused}-${round}.log" ||
      fail "round ${round}: the refused backend did not say why: $(cat "${BATS_TEST_TMPDIR}/${refused}-${round}.log")"
    run_frontend 0 --jobs 8 --json
    assert_all_verified 8
    BACKEND_PID=$(child_pid "${serving}")
    BACKEND_TIMEOUT_PID=${serving}
    stop_backend
    assert_no_leftovers "${INSTANCE}"
  done
}

@test "a frontend started while the backend is still starting waits for it and verifies" {
  start_backend_unready "${INSTANCE}"
  # Freeze the backend once its DPDK primary exists but before it serves.
  wait_until 20 test -e "${DPDK_RUNTIME_ROOT}/${INSTANCE}/config" || fail "the backend created no DPDK config"
  kill -STOP "${BACKEND_PID}"
  if [[ -f $(ready_file "${INSTANCE}") ]]; then
    kill -CONT "${BACKEND_PID}"
    skip "the backend became ready before it could be frozen (the window is ~100 ms): nothing to test"
  fi
  start_bounded frontend 40 "${FRONTEND}" --instance "${INSTANCE}" --jobs 8 --json
  local -r frontend=${STARTED_PID}
  wait_for_line 10 "${BATS_TEST_TMPDIR}/frontend.log" "is starting: waiting up to [0-9]+ ms for it to be ready" ||
    fail "the frontend did not say it waits: $(cat "${BATS_TEST_TMPDIR}/frontend.log")"
  sleep 2  # longer than nothing: the frontend keeps waiting
  pid_alive "$(child_pid "${frontend}")" || fail "the frontend gave up on a backend that is starting"
  kill -CONT "${BACKEND_PID}"
  reap_tracked 30 "${frontend}" || fail "the frontend still runs 30 s after the backend went on"
  assert_equal "${EXIT_STATUS}" 0
  assert_json_in "${BATS_TEST_TMPDIR}/frontend.out" '.jobs == 8 and .ok == 8'
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "rte_mp requests that arrive while the backend stops are answered or refused, never served from freed memory" {
  start_backend "${INSTANCE}" --delay-ms 1
  local i
  for i in 1 2 3 4; do
    start_bounded "stats-${i}" 30 bash -c 'for _ in $(seq 40); do "$1" --instance "$2" --stats || echo "exit $?"; done' \
      _ "${FRONTEND}" "${INSTANCE}"
  done
  start_bounded "frontends" 30 bash -c 'for _ in $(seq 10); do "$1" --instance "$2" --jobs 4 --json || echo "exit $?"; done' \
    _ "${FRONTEND}" "${INSTANCE}"
  sleep 1
  stop_backend
  local name pid
  while IFS=$'\t' read -r pid name _; do
    [[ ${name} == stats-* || ${name} == frontends ]] || continue
    reap_tracked 30 "${pid}" || fail "${name} still runs 30 s after the backend stopped"
  done <"${BATS_TEST_TMPDIR}/tracked-pids"
  for name in stats-1 stats-2 stats-3 stats-4 frontends; do
    # Each request either worked or ended with exit 3 or 5 and a reason.
    ! grep -E '^exit ' "${BATS_TEST_TMPDIR}/${name}.out" | grep -vE '^exit (3|5)$' ||
      fail "${name}: an unexpected exit status: $(grep -E '^exit ' "${BATS_TEST_TMPDIR}/${name}.out")"
  done
  assert_backend_logged 'stopped cleanly' 1
  assert_no_leftovers "${INSTANCE}"
}
