#!/usr/bin/env bash
# The set-up shared by the two-process suites (two_process.bats,
# reliability.bats): load it after common-setup. Each test gets its own
# instance (DPDK --file-prefix) in INSTANCE; teardown removes what it left.

setup_file() {
  # A file whose tests run longer sets TWO_PROCESS_TEST_TIMEOUT before loading this.
  export BATS_TEST_TIMEOUT=${TWO_PROCESS_TEST_TIMEOUT:-60}
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

# ---------------------------------------------------------------------------
# Frontends in the background, the backend's counters and log

# How long a frontend started in the background may live: the longest run
# here (the greedy one) takes about 5 s. Short enough that a stuck one is
# stopped, and teardown done, well within BATS_TEST_TIMEOUT.
FRONTEND_BOUND_S=${FRONTEND_BOUND_S:-25}

# The pools are full and nobody is attached: every request buffer and payload
# buffer is back (jq filter over --stats).
POOLS_FULL='.mempool_size > 0 and .mempool_available == .mempool_size
  and .msg_pool_size > 0 and .msg_pool_available == .msg_pool_size
  and .frontends == 0 and .inflight == 0'

# start_frontend NAME ARGS...: starts offload-frontend --instance $INSTANCE
# ARGS... in the background (see start_bounded: NAME.out, NAME.log, STARTED_PID).
start_frontend() {
  local -r name=$1
  shift
  start_bounded "${name}" "${FRONTEND_BOUND_S}" "${FRONTEND}" --instance "${INSTANCE}" "$@"
}

# assert_json_in FILE FILTER: assert_json over FILE (a background frontend's stdout).
assert_json_in() {
  local output
  # shellcheck disable=SC2034 # read by assert_json
  output=$(<"$1")
  assert_json "$2"
}

# stats_match FILTER: true when the backend's counters satisfy the jq FILTER
# (for wait_until; it leaves output alone).
stats_match() {
  local json
  json=$(bounded 10 "${FRONTEND}" --instance "${INSTANCE}" --stats 2>/dev/null) || return 1
  jq -e "$1" <<<"${json}" >/dev/null 2>&1
}

# stats_now: the backend's counters, or why there are none (for failure messages).
stats_now() {
  bounded 5 "${FRONTEND}" --instance "${INSTANCE}" --stats 2>&1 || echo "(--stats failed with status $?)"
}

# assert_backend_alive: the backend start_backend started last still runs.
assert_backend_alive() {
  pid_alive "${BACKEND_PID}" || fail "offload-backend (pid ${BACKEND_PID}) is gone"
}

# assert_backend_logged REGEX [COUNT]: the backend's log has a line matching
# the ERE (exactly COUNT of them when given).
assert_backend_logged() {
  local -r count=$(grep -cE -- "$1" "${BACKEND_LOG}" || true)
  if [[ -n ${2:-} ]]; then
    ((count == $2)) || fail "the backend logged ${count} line(s) matching '$1', not $2"
  else
    ((count > 0)) || fail "the backend logged no line matching '$1'"
  fi
}

# max_attached LOG: the most frontends the backend had attached at once,
# replayed from its "registered" and "detached" lines (slot ids are reused, so
# the highest id alone would depend on the allocation policy).
max_attached() {
  awk '/\] frontend [0-9]+ registered:/ { n++; if (n > max) max = n }
       /\] frontend [0-9]+ detached / { n-- }
       END { print max + 0 }' "$1"
}

# dead_secondaries_files INSTANCE: prints the instance's runtime files named
# after a process that no longer exists (mp_socket_<pid>_<n>,
# fbarray_<name>_<pid>: what a killed DPDK secondary leaves).
dead_secondaries_files() {
  local file name pid
  for file in "${DPDK_RUNTIME_ROOT}/$1"/mp_socket_* "${DPDK_RUNTIME_ROOT}/$1"/fbarray_*; do
    [[ -e ${file} ]] || continue
    name=${file##*/}
    if [[ ${name} =~ ^mp_socket_([0-9]+)_ ]] || [[ ${name} =~ ^fbarray_.*_([0-9]+)$ ]]; then
      pid=${BASH_REMATCH[1]}
      [[ -e /proc/${pid} ]] || echo "${name}"
    fi
  done
}

no_dead_secondaries_files() {
  [[ -z $(dead_secondaries_files "$1") ]]
}

# verify_and_stop: a normal frontend still verifies, the pools are full, the
# backend stops cleanly and nothing of the instance remains.
# coalesced_rung_in_time_and_stop [FRONTEND_ARGS...]: 3000 requests at J = 16
# in coalesced mode verify in under 5 s with no lost doorbell (a doorbell
# due and never rung costs a wait of the frontend's 100 ms tick, and is
# reported); then the pools are full and the backend stops clean.
coalesced_rung_in_time_and_stop() {
  run_frontend 0 --inflight 16 --total 3000 --notify coalesced --json --log-level warn "$@"
  assert_all_verified 3000
  assert_json '.wall_s < 5'
  with_stderr refute_output --partial 'lost doorbells'
  stats
  assert_json "${POOLS_FULL}"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

verify_and_stop() {
  run_frontend 0 --jobs 16 --json
  assert_all_verified 16
  stats
  assert_json "${POOLS_FULL}"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}
