# shellcheck shell=bash
# Shared by every tests/bats/*.bats file (STYLE.md rule 8). A file loads it at
# its top with `load 'test_helper/common-setup'` and calls
#   common_setup_file    from setup_file   (after exporting BATS_TEST_TIMEOUT)
#   common_teardown      from teardown     (stops what the test started, prints its logs on failure)
#   common_teardown_file from teardown_file (the same for what setup_file started)
#
# Every process a test starts is bounded: in the foreground with `bounded`
# (`run bounded 30 "$THREADSIM" ...`), in the background with `start_bounded`,
# which also tracks it so that teardown kills and reaps it.

bats_require_minimum_version 1.5.0

OFFLOAD_BATS_LIBS=${OFFLOAD_BATS_LIBS:-/usr/lib/bats}
load "${OFFLOAD_BATS_LIBS}/bats-support/load"
load "${OFFLOAD_BATS_LIBS}/bats-assert/load"
load "${OFFLOAD_BATS_LIBS}/bats-file/load"

REPO_ROOT=$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)
# CTest points OFFLOAD_BIN_DIR at its own build tree (tests/CMakeLists.txt).
BIN_DIR=${OFFLOAD_BIN_DIR:-${REPO_ROOT}/build/release/apps}
# shellcheck disable=SC2034 # used by the .bats files
THREADSIM=${BIN_DIR}/threadsim/offload-threadsim
# shellcheck disable=SC2034 # used by the .bats files
BACKEND=${BIN_DIR}/backend/offload-backend
# shellcheck disable=SC2034 # used by the .bats files
FRONTEND=${BIN_DIR}/frontend/offload-frontend
# Where DPDK keeps an instance's (--file-prefix's) runtime dir and hugepage files.
DPDK_RUNTIME_ROOT=${DPDK_RUNTIME_ROOT:-/var/run/dpdk}
HUGEPAGES_DIR=${HUGEPAGES_DIR:-/dev/hugepages}
# How long teardown lets a process exit after SIGTERM before sending SIGKILL.
STOP_GRACE_S=${STOP_GRACE_S:-10}

# ---------------------------------------------------------------------------
# Phases

common_setup_file() {
  [[ -n ${BATS_TEST_TIMEOUT:-} ]] || {
    echo "setup_file must export BATS_TEST_TIMEOUT before calling common_setup_file" >&2
    return 1
  }
}

common_teardown() {
  cleanup_tracked_pids
  remove_instance_leftovers "$(_instances_list)"
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    # The test failed: show what its processes logged, and what the file's
    # shared ones (started in setup_file, still running) logged so far.
    print_tracked_logs "$(_tracked_pids_list)"
    [[ -z ${BATS_FILE_TMPDIR:-} ]] || print_tracked_logs "${BATS_FILE_TMPDIR}/tracked-pids"
    # bats prints the last run's stdout; with --separate-stderr, its stderr
    # (e.g. a frontend's log) is only here.
    if [[ -n ${stderr-} ]]; then
      echo "# --- stderr of the last run (last 200 lines) ---"
      tail -n 200 <<<"${stderr}"
    fi
  fi
  rm -f "$(_tracked_pids_list)" "$(_instances_list)"
}

common_teardown_file() {
  cleanup_tracked_pids
  remove_instance_leftovers "$(_instances_list)"
  rm -f "$(_tracked_pids_list)" "$(_instances_list)"
}

# require_executable PATH: fails (does not skip) when a program under test is
# missing, so that a broken build can never pass as "all skipped".
require_executable() {
  [[ -x $1 ]] && return 0
  echo "missing executable: $1" >&2
  echo "build it first (scripts/build.sh release) or point OFFLOAD_BIN_DIR at a build's apps/ folder" >&2
  return 1
}

# ---------------------------------------------------------------------------
# Bounded commands and polls

# bounded SECONDS CMD [ARGS...]: runs CMD in the foreground; after SECONDS it
# gets SIGTERM, 5 s later SIGKILL. Exit status 124 (or 137) means it overran.
bounded() {
  local -r seconds=$1
  shift
  timeout --kill-after=5 "${seconds}" "$@"
}

# Microseconds since the epoch (for elapsed-time assertions and deadlines).
now_us() {
  local -r t=${EPOCHREALTIME}
  echo "${t//[^0-9]/}"
}

# wait_until SECONDS CMD [ARGS...]: polls CMD every WAIT_UNTIL_POLL_S
# seconds (default 0.1) until it succeeds; returns 1 once SECONDS have passed
# without success.
wait_until() {
  local -r deadline=$(($(now_us) + $1 * 1000000))
  shift
  until "$@"; do
    (($(now_us) < deadline)) || return 1
    sleep "${WAIT_UNTIL_POLL_S:-0.1}"
  done
}

# wait_for_line SECONDS FILE REGEX: waits until FILE has a line matching the
# extended REGEX, e.g. a server's "ready" line in its log.
wait_for_line() {
  wait_until "$1" grep -qE -- "$3" "$2"
}

# ---------------------------------------------------------------------------
# Background processes: tracked, killed and reaped in teardown

# The tracking list of the current scope: a test's own, or the file's when
# called from setup_file/teardown_file (where there is no BATS_TEST_TMPDIR).
_tracked_pids_list() {
  echo "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR}}/tracked-pids"
}

# track_pid PID NAME [LOG]: teardown stops PID (TERM, bounded wait, KILL,
# wait) and, when the test failed, prints LOG.
track_pid() {
  printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$(_tracked_pids_list)"
}

# start_bounded NAME SECONDS CMD [ARGS...]: starts CMD in the background under
# `timeout SECONDS`, stdout to $BATS_TEST_TMPDIR/NAME.out (or the file tmpdir
# in setup_file), stderr to NAME.log; tracks it and sets STARTED_PID (the pid
# of `timeout`, whose exit status is CMD's; see child_pid for CMD's own pid).
start_bounded() {
  local -r name=$1 seconds=$2
  shift 2
  local -r dir=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR}}
  # 3>&-: bats waits until fd 3 is closed, so a child holding it would hang the run.
  timeout --kill-after=5 "${seconds}" "$@" >"${dir}/${name}.out" 2>"${dir}/${name}.log" 3>&- &
  STARTED_PID=$!
  track_pid "${STARTED_PID}" "${name}" "${dir}/${name}.log"
}

# child_pid PID: prints the pid of PID's child (the program under a `timeout`
# that start_bounded started), waiting up to 5 s for it to appear.
child_pid() {
  wait_until 5 pgrep -P "$1" >/dev/null || return 1
  pgrep -P "$1" | head -n 1
}

# pid_alive PID: true while PID runs; a zombie (exited, not yet reaped) is not alive.
pid_alive() {
  local state
  state=$(awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n ${state} && ${state} != Z ]]
}

pid_gone() {
  ! pid_alive "$1"
}

# _signal SIGNAL PID: signals PID, or its whole process group when PID leads
# one, as `timeout` does (so the program under it gets the signal too, and a
# SIGKILL cannot orphan it).
_signal() {
  local stat
  stat=$(<"/proc/$2/stat") 2>/dev/null || return 0
  # After "pid (comm) ": state ppid pgrp ...; comm may hold spaces.
  local -a fields
  read -r -a fields <<<"${stat##*) }"
  if [[ ${fields[2]} == "$2" ]]; then
    kill "-$1" -- "-$2" 2>/dev/null || true
  else
    kill "-$1" "$2" 2>/dev/null || true
  fi
}

# stop_pid PID [NAME]: SIGTERM, up to STOP_GRACE_S for it to exit, then
# SIGKILL; finally reaps it if it is this shell's child.
stop_pid() {
  local -r pid=$1 name=${2:-$1}
  if pid_alive "${pid}"; then
    _signal TERM "${pid}"
    if ! wait_until "${STOP_GRACE_S}" pid_gone "${pid}"; then
      echo "# ${name} (pid ${pid}) outlived SIGTERM by ${STOP_GRACE_S} s: sending SIGKILL" >&2
      _signal KILL "${pid}"
      wait_until 5 pid_gone "${pid}" || echo "# ${name} (pid ${pid}) survived SIGKILL" >&2
    fi
  fi
  # Not our child (or already reaped): wait returns 127 at once.
  wait "${pid}" 2>/dev/null || true
}

# cleanup_tracked_pids: stops every tracked process of the current scope,
# the last started first (a frontend before the backend it uses); the list
# stays, for print_tracked_logs.
cleanup_tracked_pids() {
  local -r list=$(_tracked_pids_list)
  [[ -f ${list} ]] || return 0
  local pid name log
  while IFS=$'\t' read -r pid name log; do
    # reap_tracked already waited for it: its pid may belong to another process now.
    [[ ${pid} == reaped:* ]] || stop_pid "${pid}" "${name}"
  done < <(tac "${list}")
}

# reap_tracked SECONDS PID: waits up to SECONDS for the tracked PID (a child
# of this shell, e.g. STARTED_PID) to exit, reaps it and sets EXIT_STATUS to
# its exit status; teardown then leaves it alone. Returns 1 if it is still
# running after SECONDS (it stays tracked, so teardown stops it).
reap_tracked() {
  local -r seconds=$1 pid=$2
  wait_until "${seconds}" pid_gone "${pid}" || return 1
  EXIT_STATUS=0
  wait "${pid}" || EXIT_STATUS=$?
  local -r list=$(_tracked_pids_list)
  sed -i "s/^${pid}\t/reaped:${pid}\t/" "${list}"
}

# print_tracked_logs LIST: prints the end of each tracked process's log.
print_tracked_logs() {
  [[ -f $1 ]] || return 0
  local pid name log
  while IFS=$'\t' read -r pid name log; do
    [[ -n ${log} && -f ${log} ]] || continue
    echo "# --- ${name} (pid ${pid}): ${log} (last 200 lines) ---"
    tail -n 200 "${log}"
  done <"$1"
}

# unique_instance [PREFIX]: a name for a DPDK instance (--instance) that no
# other test or concurrent bats run uses, PREFIX-... (default bats-...), e.g.
# so that a suite's hugepage files are recognisable; teardown removes what it
# leaves behind.
unique_instance() {
  local -r instance=${1:-bats}-$$-${BATS_TEST_NUMBER:-0}-${RANDOM}
  # Called as $(unique_instance), in a subshell: the list is a file for that reason.
  register_instance "${instance}"
  echo "${instance}"
}

# ---------------------------------------------------------------------------
# DPDK instances: offload-backend (the primary) and what an instance leaves behind

# How long start_backend waits for the ready file, and bounds the backend's life.
BACKEND_READY_S=${BACKEND_READY_S:-30}
BACKEND_BOUND_S=${BACKEND_BOUND_S:-300}

# The instances the current scope created (one a line): teardown removes
# their runtime dirs and hugepage files, and nobody else's.
_instances_list() {
  echo "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR}}/instances"
}

# register_instance INSTANCE: teardown removes what INSTANCE leaves behind.
register_instance() {
  # The programs' own rule (lib/src/dpdk/instance.cpp); it also keeps "..",
  # "/" and globs out of the paths that teardown removes.
  [[ $1 =~ ^[A-Za-z0-9_-]{1,32}$ ]] || {
    echo "refusing instance name '$1': 1 to 32 letters, digits, '-' or '_' (it becomes a path that teardown removes)" >&2
    return 1
  }
  local -r list=$(_instances_list)
  grep -qxF -- "$1" "${list}" 2>/dev/null || echo "$1" >>"${list}"
}

# remove_instance_leftovers LIST: removes the runtime dir and hugepage files
# of each instance in LIST (a file of names; run after the processes are stopped).
remove_instance_leftovers() {
  [[ -f $1 ]] || return 0
  local instance
  while read -r instance; do
    [[ -n ${instance} ]] || continue
    rm -rf -- "${DPDK_RUNTIME_ROOT:?}/${instance}"
    rm -f -- "${HUGEPAGES_DIR:?}/${instance}map_"*
  done <"$1"
}

# instance_leftovers INSTANCE: prints, one a line, what of INSTANCE remains:
# processes started with --instance INSTANCE, its runtime dir, its hugepage files.
instance_leftovers() {
  local -r instance=$1
  # The name is unique to the test, so any process naming it is ours.
  pgrep -af -- "--instance ${instance}( |\$)" | sed 's/^/process: /' || true
  [[ ! -e ${DPDK_RUNTIME_ROOT}/${instance} ]] || echo "runtime dir: ${DPDK_RUNTIME_ROOT}/${instance}"
  local file
  for file in "${HUGEPAGES_DIR}/${instance}map_"*; do
    [[ ! -e ${file} ]] || echo "hugepage file: ${file}"
  done
}

# assert_no_leftovers INSTANCE: no process this test tracks is alive, and
# nothing of INSTANCE remains (process, runtime dir, hugepage file).
assert_no_leftovers() {
  local -r instance=$1
  local found pid name log
  found=$(instance_leftovers "${instance}")
  if [[ -f $(_tracked_pids_list) ]]; then
    while IFS=$'\t' read -r pid name log; do
      [[ ${pid} == reaped:* ]] && continue
      pid_gone "${pid}" || found+=$'\n'"tracked process alive: ${name} (pid ${pid})"
    done <"$(_tracked_pids_list)"
  fi
  found=$(sed '/^$/d' <<<"${found}")
  [[ -z ${found} ]] && return 0
  batslib_print_kv_single_or_multi 9 instance "${instance}" leftovers "${found}" |
    batslib_decorate 'instance left something behind' |
    fail || return 1
}

# The ready file offload-backend writes (pid=<pid>) once it serves.
ready_file() {
  echo "${DPDK_RUNTIME_ROOT}/$1/offload-backend.ready"
}

_has_child_or_gone() {
  pid_gone "$1" || pgrep -P "$1" >/dev/null
}

# _backend_ready_or_gone PID INSTANCE LOG: true once PID wrote the ready file
# and logged its ready line, or once PID has exited (the caller tells which).
# A backend that was SIGKILLed leaves a ready file naming its own dead pid:
# only one naming PID counts.
_backend_ready_or_gone() {
  pid_gone "$1" && return 0
  grep -qxF "pid=$1" "$(ready_file "$2")" 2>/dev/null &&
    grep -qF "ready: instance '$2'" "$3" 2>/dev/null
}

# start_backend INSTANCE [FLAGS...]: starts offload-backend --instance
# INSTANCE FLAGS... under a bound (BACKEND_BOUND_S), its stderr in
# $BATS_TEST_TMPDIR/backend-<n>.log, and waits (at most BACKEND_READY_S) until
# it is ready and alive. Sets BACKEND_PID (the program), BACKEND_TIMEOUT_PID
# (its `timeout`, which exits with its status) and BACKEND_LOG. Fails, showing
# the log, if the backend exits or is not ready in time.
start_backend() {
  local -r instance=$1
  shift
  register_instance "${instance}"
  BACKEND_COUNT=$((${BACKEND_COUNT:-0} + 1))
  local -r name=backend-${BACKEND_COUNT}
  start_bounded "${name}" "${BACKEND_BOUND_S}" "${BACKEND}" --instance "${instance}" "$@"
  BACKEND_TIMEOUT_PID=${STARTED_PID}
  BACKEND_LOG=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR}}/${name}.log
  # A backend that refuses to start (exit 2 or 3) may be gone before pgrep sees it.
  wait_until 5 _has_child_or_gone "${BACKEND_TIMEOUT_PID}" || {
    echo "offload-backend did not start (its timeout, pid ${BACKEND_TIMEOUT_PID}, has no child)" >&2
    return 1
  }
  BACKEND_PID=$(pgrep -P "${BACKEND_TIMEOUT_PID}" | head -n 1) || true
  if [[ -z ${BACKEND_PID} ]]; then
    reap_tracked 5 "${BACKEND_TIMEOUT_PID}" || true
    echo "offload-backend of instance '${instance}' exited with status ${EXIT_STATUS:-?} at once; its log:" >&2
    cat "${BACKEND_LOG}" >&2
    return 1
  fi
  if ! wait_until "${BACKEND_READY_S}" _backend_ready_or_gone "${BACKEND_PID}" "${instance}" "${BACKEND_LOG}"; then
    echo "offload-backend (pid ${BACKEND_PID}) of instance '${instance}' not ready after ${BACKEND_READY_S} s; its log:" >&2
    cat "${BACKEND_LOG}" >&2
    return 1
  fi
  if pid_gone "${BACKEND_PID}"; then
    reap_tracked 5 "${BACKEND_TIMEOUT_PID}" || true
    echo "offload-backend of instance '${instance}' exited with status ${EXIT_STATUS:-?} before it was ready; its log:" >&2
    cat "${BACKEND_LOG}" >&2
    return 1
  fi
}

# stop_backend: SIGTERM to the backend start_backend started last, at most
# STOP_GRACE_S for it to exit; fails unless it exits 0 (teardown kills it if
# it is still running).
stop_backend() {
  kill -TERM "${BACKEND_PID}"
  if ! reap_tracked "${STOP_GRACE_S}" "${BACKEND_TIMEOUT_PID}"; then
    fail "offload-backend (pid ${BACKEND_PID}) still running ${STOP_GRACE_S} s after SIGTERM" || return 1
  fi
  ((EXIT_STATUS == 0)) ||
    fail "offload-backend (pid ${BACKEND_PID}) exited with status ${EXIT_STATUS} after SIGTERM, not 0" || return 1
}

# ---------------------------------------------------------------------------
# Assertions on what `run --separate-stderr` captured

# with_stderr ASSERTION [ARGS...]: a bats-assert assertion (assert_line,
# refute_line, assert_output, ...) applied to the last run's stderr.
# shellcheck disable=SC2034 # `lines` is read by the bats-assert function called
with_stderr() {
  local output=${stderr-}
  # One empty line for an empty stderr: bats-assert's line assertions
  # refuse an empty `lines` array as "parameter not set".
  local -a lines=("")
  if [[ -n ${output} ]]; then
    mapfile -t lines <<<"${output}"
  fi
  "$@"
}

# stderr_count [-v] REGEX: how many lines of the last run's stderr match the
# ERE (with -v: do not match it).
stderr_count() {
  grep -cE "$@" <<<"${stderr-}" || true
}

# stderr_longest_line: the length of the last run's longest stderr line.
stderr_longest_line() {
  awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' <<<"${stderr-}"
}

# assert_json FILTER: the last run's stdout is JSON for which the jq FILTER
# is true, e.g. assert_json '.ok == 64 and .failed == 0'.
assert_json() {
  if ! jq -e "$1" <<<"${output}" >/dev/null 2>&1; then
    batslib_print_kv_single_or_multi 6 filter "$1" stdout "${output}" |
      batslib_decorate 'JSON assertion failed' |
      fail
  fi
}

# json_value FILTER: prints the value of the jq FILTER over the last run's stdout.
json_value() {
  jq -er "$1" <<<"${output}"
}
