#!/usr/bin/env bats
# End-to-end tests of the two-process offload (issue 3): offload-backend, the
# DPDK primary, serving offload-frontend, the secondary, over hugepage memory
# and rte_mp. Every test runs its own instance (DPDK --file-prefix), ends with
# assert_no_leftovers, and teardown removes what a failed test left behind.

load 'test_helper/common-setup'
load 'test_helper/two-process'

# assert_usage_error PROGRAM FLAG ARGS...: PROGRAM refuses ARGS with exit 2,
# nothing on stdout, one "PROGRAM: error: ..." line naming FLAG (beside it
# only the hint to run --help) and no runtime dir for the instance.
assert_usage_error() {
  local -r program=$1 flag=$2
  shift 2
  local -r name=$(basename "${program}")
  run -2 --separate-stderr bounded 10 "${program}" --instance "${INSTANCE}" "$@"
  assert_output ''
  assert_equal "$(stderr_count "^${name}: error: ")" 1
  with_stderr assert_line --regexp "^${name}: error: .*(${flag})"
  assert_equal "$(stderr_count -v "^${name}: error: |^Run '${name} --help'")" 0
  assert_no_leftovers "${INSTANCE}"
}

@test "happy path: 1 job with --message verifies and prints the human summary" {
  start_backend "${INSTANCE}" --delay-ms 1

  run_frontend 0 --jobs 1 --message 'hello, device'
  assert_line --index 0 --regexp '^summary: 1 jobs: 1 ok, 0 failed '
  with_stderr assert_line --regexp '\] job 0: verified: '
  refute_output --partial '[frontend]'

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "happy path: 16 jobs with --payload 1 (JSON)" {
  start_backend "${INSTANCE}" --delay-ms 1

  run_frontend 0 --jobs 16 --payload 1 --json
  assert_all_verified 16
  assert_equal "$(stderr_count '\] job [0-9]+: verified: ')" 16

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "happy path: 1024 jobs with --payload 4096 (JSON)" {
  start_backend "${INSTANCE}" --delay-ms 1

  run_frontend 0 --jobs 1024 --payload 4096 --json --log-level warn
  assert_all_verified 1024

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# A device slower than 0.5 ms: the eventfd and coalesced frontends sleep
# until just before their oldest request is due, then poll (coalesced: the
# completion ring itself). A completion missed that way would wait for the
# event loop's 100 ms tick: 3000 requests at J = 16 would take over 18 s.
@test "a device slower than 0.5 ms (fixed 1 ms; uniform 0.6-3 ms) is polled for just before it is due: every mode completes every request" {
  local mode
  start_backend "${INSTANCE}" --delay-ms 1
  for mode in eventfd coalesced callback; do
    run_frontend 0 --inflight 16 --total 3000 --notify "${mode}" --json --log-level warn
    assert_all_verified 3000
    assert_json '.wall_s < 5'
  done
  stop_backend

  start_backend "${INSTANCE}" --delay-ms-min 0.6 --delay-ms-max 3
  for mode in eventfd coalesced; do
    run_frontend 0 --inflight 16 --total 3000 --notify "${mode}" --json --log-level warn
    assert_all_verified 3000
    assert_json '.wall_s < 5'
  done
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "the backend's --delay-ms 200 is honoured, and 16 jobs overlap (not 16 x 200 ms)" {
  start_backend "${INSTANCE}" --delay-ms 200

  run_frontend 0 --jobs 16 --json
  assert_all_verified 16
  assert_json '.latency_us.p50 >= 190000'
  # Serially 3.2 s; pipelined about 0.2 s.
  assert_json '.wall_s < 3'
  assert_json '(.latency_us | .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and .p999 <= .max)'

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "no backend: the frontend exits 3 at once, saying how to start one, and creates nothing" {
  local -r started=$(now_us)
  run_frontend 3 --jobs 4
  local -r elapsed_us=$(($(now_us) - started))

  ((elapsed_us < 5000000)) || fail "took ${elapsed_us} us"
  assert_output ''
  with_stderr assert_line --regexp "no offload-backend is running for instance '${INSTANCE}'"
  with_stderr assert_line --partial "start it with: offload-backend --instance ${INSTANCE}"
  assert_no_leftovers "${INSTANCE}"
}

@test "bad frontend flags: exit 2 with one error line" {
  assert_usage_error "${FRONTEND}" "--jobs: '0' is not an integer in 1\.\.1024$" --jobs 0
  assert_usage_error "${FRONTEND}" "--jobs: '1025' is not an integer in 1\.\.1024$" --jobs 1025
  assert_usage_error "${FRONTEND}" "--jobs: 'abc' is not an integer in 1\.\.1024$" --jobs abc
  assert_usage_error "${FRONTEND}" "--payload: '65473' is not an integer in 1\.\.65472$" --payload 65473
  assert_usage_error "${FRONTEND}" '--payload' --payload 0
  assert_usage_error "${FRONTEND}" "--message: at most 65472 bytes \(got 65473\)$" --message "$(head -c 65473 /dev/zero | tr '\0' A)"
  assert_usage_error "${FRONTEND}" "--message: an empty message is for AES-GCM only" --message ''
  assert_usage_error "${FRONTEND}" '--op' --op aes-128-gcm
  assert_usage_error "${FRONTEND}" '--key: must be 64 hex digits' --op aes-256-gcm-encrypt --key 00ff
  assert_usage_error "${FRONTEND}" '--key: must be 64 hex digits' --op aes-256-gcm-encrypt --key "$(printf 'g%.0s' {1..64})"
  assert_usage_error "${FRONTEND}" "--aad-len: '65' is not an integer in 0\.\.64$" --op aes-256-gcm-encrypt --aad-len 65
  assert_usage_error "${FRONTEND}" '--verify' --verify sometimes
  assert_usage_error "${FRONTEND}" '--corrupt-tag-job: applies to --op aes-256-gcm-decrypt only' --corrupt-tag-job 1
  assert_usage_error "${FRONTEND}" "--duration: 'nan' is not a number in 0\.001\.\.86400$" --duration nan
  assert_usage_error "${FRONTEND}" "--total: '1e6' is not an integer in 1\.\.1099511627776$" --total 1e6
  assert_usage_error "${FRONTEND}" "--timeout-ms: 'inf' is not an integer" --timeout-ms inf
  assert_usage_error "${FRONTEND}" "--protocol-version: '65536' is not an integer in 0\.\.65535$" --protocol-version 65536
  assert_usage_error "${FRONTEND}" '--notify' --notify carrier-pigeon
  assert_usage_error "${FRONTEND}" '--inflight|--jobs' --jobs 4 --inflight 4
  assert_usage_error "${FRONTEND}" '--coalesced-wait' --notify coalesced --coalesced-wait sometimes
  assert_usage_error "${FRONTEND}" '--coalesced-wait: applies to --notify coalesced only' --coalesced-wait nap
  assert_usage_error "${FRONTEND}" "--requests-per-job: '-1' is not an integer in 0\.\.1099511627776$" --requests-per-job -1
  assert_usage_error "${FRONTEND}" '--requests-per-job|--jobs' --jobs 4 --requests-per-job 2
  assert_usage_error "${FRONTEND}" '--message|--payload' --message hi --payload 8
  assert_usage_error "${FRONTEND}" '--warp' --warp
  # A runaway argument is named by its start and size, not echoed whole.
  local -r huge=$(head -c 100000 /dev/zero | tr '\0' 9)
  assert_usage_error "${FRONTEND}" "--jobs: '9{47}… \(100002 bytes\) is not an integer in 1\.\.1024$" --jobs "${huge}"
  assert_usage_error "${FRONTEND}" "not expected: 9{48}… \(100000 bytes\)$" "${huge}"
}

@test "bad backend flags: exit 2 with one error line" {
  assert_usage_error "${BACKEND}" "--delay-ms: '-1' is not a number in 0\.\.60000$" --delay-ms -1
  # nan passed the range check: the backend logged "latency fixed nan ms" and
  # never completed a request.
  assert_usage_error "${BACKEND}" "--delay-ms: 'nan' is not a number in 0\.\.60000$" --delay-ms nan
  assert_usage_error "${BACKEND}" "--delay-ms: 'NaN' is not a number" --delay-dist exp --delay-ms NaN
  assert_usage_error "${BACKEND}" "--delay-ms-min: 'nan' is not a number" --delay-ms-min nan --delay-ms-max 5
  assert_usage_error "${BACKEND}" "--delay-ms: 'inf' is not a number" --delay-ms inf
  assert_usage_error "${BACKEND}" "--engines: 'many' is not an integer in 0\.\.1048576$" --engines many
  assert_usage_error "${BACKEND}" "--idle-sleep-us: '100001' is not an integer in 0\.\.100000$" --idle-sleep-us 100001
  assert_usage_error "${BACKEND}" '--delay-dist' --delay-dist lognormal
  assert_usage_error "${BACKEND}" "--queue-depth: '4' is not an integer in 8\.\.65536$" --queue-depth 4
  assert_usage_error "${BACKEND}" "--pool-size: '1' is not an integer in 64\.\.1048576$" --pool-size 1
  assert_usage_error "${BACKEND}" '--log-level' --log-level chatty
  assert_usage_error "${BACKEND}" "--buffer-size: '32' is not an integer in 64\.\.65472$" --buffer-size 32
  assert_usage_error "${BACKEND}" "--crypto-dev: must name a crypto device" --crypto-dev ""
  assert_usage_error "${BACKEND}" '--warp' --warp
}

# The message was copied into the 4096-byte granted buffer whatever its
# length, overwriting the next mempool object: the backend then crashed at stop.
@test "--message of 5000 bytes for 4096-byte buffers: exit 2 naming the bound; the backend serves on and stops cleanly" {
  start_backend "${INSTANCE}" --delay-ms 1 --buffer-size 4096

  run_frontend 2 --jobs 1 --message "$(head -c 5000 /dev/zero | tr '\0' A)"
  assert_output ''
  with_stderr assert_line --regexp "^offload-frontend: error: a message of 5000 bytes does not fit the backend's 4096-byte buffers \(at most 4096 bytes for not\)"
  # AES-GCM keeps 16 bytes of the buffer for its tag.
  run_frontend 2 --jobs 1 --op aes-256-gcm-encrypt --message "$(head -c 4081 /dev/zero | tr '\0' A)"
  with_stderr assert_line --regexp "does not fit the backend's 4096-byte buffers \(at most 4080 bytes for aes-256-gcm-encrypt\)"

  run_frontend 0 --jobs 4 --message "$(head -c 4096 /dev/zero | tr '\0' A)" --json
  assert_all_verified 4
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "--json: a run that fails (no backend: exit 3) prints one JSON line with the error" {
  run_frontend 3 --jobs 4 --json
  assert_equal "${#lines[@]}" 1
  assert_json ".program == \"frontend\" and .exit_code == 3 and (.error | test(\"no offload-backend is running for instance '${INSTANCE}'\"))"
  assert_no_leftovers "${INSTANCE}"
}

# EAL's usage went to stdout (102 lines, breaking --json | jq) with exit 3;
# '--proc-type primary' failed with "EAL initialisation failed: Success".
@test "bad EAL arguments: exit 2 naming the argument, nothing on stdout" {
  assert_usage_error "${BACKEND}" "--lcore: CPU 1023 is not one this process may run on \(it may use [0-9,-]+\)$" --lcore 1023
  assert_usage_error "${FRONTEND}" "--lcore: CPU 1023 is not one this process may run on" --lcore 1023
  assert_usage_error "${BACKEND}" "'-l' after '--': the program sets this EAL argument itself; use --lcore" -- -l 1
  assert_usage_error "${BACKEND}" "'--lcores=1' after '--'.*use --lcore" -- --lcores=1
  assert_usage_error "${BACKEND}" "'--proc-type' after '--'.*the backend is always DPDK's primary" -- --proc-type primary
  assert_usage_error "${BACKEND}" "'--file-prefix=other' after '--'.*use --instance" -- --file-prefix=other
  # Refused before the frontend looks for its backend (there is none).
  assert_usage_error "${FRONTEND}" "'-l1' after '--'.*use --lcore" -- -l1
  # A secondary cannot keep its memory to itself: its DPDK start-up took the
  # whole 10 s bound and then blamed a death that had not happened.
  assert_usage_error "${FRONTEND}" "'--in-memory' after '--': a frontend is a DPDK secondary" -- --in-memory
  assert_usage_error "${FRONTEND}" "'--no-huge' after '--': a frontend is a DPDK secondary" -- --no-huge

  # What only DPDK can judge: its text (usage included) on stderr, one line
  # of ours naming the arguments, exit 2.
  run -2 --separate-stderr bounded 30 "${BACKEND}" --instance "${INSTANCE}" -- --bogus-eal
  assert_output ''
  with_stderr assert_line --partial "unrecognized option '--bogus-eal'"
  with_stderr assert_line "offload-backend: error: DPDK rejected the EAL arguments after '--' (--bogus-eal): see EAL's message above its usage text"
  with_stderr refute_line --partial 'Success'
  assert_no_leftovers "${INSTANCE}"
}

# The frontend's --lcore defaulted to 0, which rte_eal_init refused (exit 3)
# when the process may not run there.
@test "under taskset, the default --lcore of both programs is a CPU they may use" {
  local -r cpu=$(($(nproc) - 1))
  register_instance "${INSTANCE}"
  BACKEND_COUNT=1
  start_bounded backend-1 "${BACKEND_BOUND_S}" taskset -c "${cpu}" "${BACKEND}" --instance "${INSTANCE}" --delay-ms 1
  BACKEND_TIMEOUT_PID=${STARTED_PID}
  BACKEND_PID=$(child_pid "${BACKEND_TIMEOUT_PID}")
  wait_until "${BACKEND_READY_S}" test -f "$(ready_file "${INSTANCE}")" || fail "backend not ready: $(cat "${BATS_TEST_TMPDIR}/backend-1.log")"

  run -0 --separate-stderr bounded 30 taskset -c "${cpu}" "${FRONTEND}" --instance "${INSTANCE}" --jobs 2 --json
  assert_all_verified 2
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "bad EAL arguments with --json: one JSON line on stdout, exit 2; the backend serves on" {
  start_backend "${INSTANCE}" --delay-ms 1

  run_frontend 2 --jobs 1 --json -- --bogus-eal
  assert_equal "${#lines[@]}" 1
  assert_json '.program == "frontend" and .exit_code == 2 and (.error | startswith("DPDK rejected the EAL arguments after '"'--'"' (--bogus-eal)"))'

  run_frontend 0 --jobs 2 --json
  assert_all_verified 2
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# A fixed 60 s default timed out every job of a backend with --delay-ms 60000
# (its documented maximum). The frontend now derives it from the device the
# backend describes at registration: 30 s + 2 x 8 waves (one engine) x 60 s.
@test "the frontend's default --timeout-ms is derived from the backend's device" {
  start_backend "${INSTANCE}" --delay-ms 60000 --engines 1
  start_bounded frontend 30 "${FRONTEND}" --instance "${INSTANCE}" --jobs 8 --log-level debug
  local -r frontend=${STARTED_PID}
  wait_for_line 20 "${BATS_TEST_TMPDIR}/frontend.log" \
    'run bounded at 990000 ms \(derived from the backend.s device: 1 engine\(s\), up to 60000 ms a request\)' ||
    fail "no derived timeout in the frontend's log: $(cat "${BATS_TEST_TMPDIR}/frontend.log")"
  kill -TERM "$(child_pid "${frontend}")"
  reap_tracked 10 "${frontend}"

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "two frontends one after the other: both verify, the backend counts both" {
  start_backend "${INSTANCE}" --delay-ms 1

  run_frontend 0 --jobs 10 --json
  assert_all_verified 10
  run_frontend 0 --jobs 32 --payload 100 --json
  assert_all_verified 32

  stats
  assert_json '.served == 42 and .rejected == 0 and .frontends == 0 and .inflight == 0'

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "SIGTERM stops the backend gracefully: exit 0, runtime dir and hugepage files gone" {
  start_backend "${INSTANCE}" --delay-ms 1
  run_frontend 0 --jobs 4 --json
  assert_file_exists "$(ready_file "${INSTANCE}")"
  compgen -G "${HUGEPAGES_DIR}/${INSTANCE}map_*" >/dev/null || fail "no hugepage files while the backend runs"

  stop_backend
  grep -q 'stopped cleanly' "${BACKEND_LOG}" || fail "no 'stopped cleanly' line in ${BACKEND_LOG}"
  assert_no_leftovers "${INSTANCE}"
}

@test "a second backend on a live instance is refused with exit 3; the first keeps serving" {
  start_backend "${INSTANCE}" --delay-ms 1

  run -3 --separate-stderr bounded 30 "${BACKEND}" --instance "${INSTANCE}"
  with_stderr assert_line --partial "already has a running backend"
  pid_alive "${BACKEND_PID}"
  assert_file_exists "$(ready_file "${INSTANCE}")"

  run_frontend 0 --jobs 8 --json
  assert_all_verified 8

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "--stats: every mempool object is back after walkthrough and load runs" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  run_frontend 0 --jobs 64 --payload 4096 --json
  assert_all_verified 64
  run_frontend 0 --inflight 64 --total 5000 --payload 512 --json
  assert_all_verified 5000

  stats
  assert_json '.mempool_size > 0 and .mempool_available == .mempool_size'
  assert_json '.msg_pool_size > 0 and .msg_pool_available == .msg_pool_size'
  assert_json '.served == 5064 and .inflight == 0 and .frontends == 0'

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# One test per notification mode, so that a failure names the mode.
notify_mode_verifies_everything() {
  start_backend "${INSTANCE}" --delay-ms 0.05

  run_frontend 0 --inflight 64 --total 20000 --notify "$1" --json
  assert_all_verified 20000
  assert_json ".notify == \"$1\" and .inflight == 64"

  stats
  assert_json '.mempool_available == .mempool_size and .msg_pool_available == .msg_pool_size'

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "--notify eventfd: --inflight 64 --total 20000 verifies every request" {
  notify_mode_verifies_everything eventfd
}

@test "--notify callback: --inflight 64 --total 20000 verifies every request" {
  notify_mode_verifies_everything callback
}

@test "--notify coalesced: --inflight 64 --total 20000 verifies every request" {
  notify_mode_verifies_everything coalesced
}

# --requests-per-job: a job sends its next request in the same request
# object, without handing it back in between. Every request still verifies
# (a stale status or sequence number in the reused object would not), the
# backend served exactly those, and the objects the jobs kept are back once
# the jobs end.
requests_per_job_verifies_everything() {
  local -r mode=$1
  start_backend "${INSTANCE}" --delay-ms 0.05
  local n
  for n in 7 0; do
    run_frontend 0 --inflight 16 --total 5000 --requests-per-job "${n}" --notify "${mode}" --json
    assert_all_verified 5000
    assert_json ".requests_per_job == ${n} and .notify == \"${mode}\""
  done
  run_frontend 0 --inflight 16 --total 3000 --requests-per-job 0 --notify "${mode}" \
    --op aes-256-gcm-decrypt --payload 1000 --aad-len 13 --json
  assert_all_verified 3000
  run_frontend 0 --inflight 4 --total 100 --requests-per-job 0 --notify "${mode}"
  assert_line --index 0 --regexp '^summary: 100 jobs: 100 ok, 0 failed '
  assert_line --index 1 'each job made requests one after another until the run ended'

  stats
  assert_json '.served == 13100'
  assert_json "${POOLS_FULL}"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "--requests-per-job 7 and 0 (--notify eventfd): every request verifies, every kept buffer is back" {
  requests_per_job_verifies_everything eventfd
}

@test "--requests-per-job 7 and 0 (--notify callback): every request verifies, every kept buffer is back" {
  requests_per_job_verifies_everything callback
}

@test "--requests-per-job 7 and 0 (--notify coalesced): every request verifies, every kept buffer is back" {
  requests_per_job_verifies_everything coalesced
}

# coalesced_wait_loses_no_doorbell WAIT: the frontend (--coalesced-wait WAIT)
# clears its doorbell request as it starts and looks at its completion ring
# itself while it works (nap: and naps); it asks for the doorbell (then looks
# once more) only before a sleep that counts on it (doorbell: every sleep;
# nap: at 1 ms, the timed sleep until a request is due). A doorbell lost in
# that handshake would leave a wait to run out with completions waiting,
# which the frontend reports. The 8-byte run keeps the frontend busy: the
# backend spares the writes nobody asked for.
coalesced_wait_loses_no_doorbell() {
  local -r wait=$1
  start_backend "${INSTANCE}" --delay-ms 0
  run_frontend 0 --inflight 64 --total 20000 --notify coalesced --coalesced-wait "${wait}" --op aes-256-gcm-encrypt \
    --payload 16384 --requests-per-job 0 --json --log-level warn
  assert_all_verified 20000
  [[ ${wait} != nap ]] || assert_json '.naps > 0'
  with_stderr refute_output --partial 'lost doorbells'
  run_frontend 0 --inflight 64 --total 20000 --notify coalesced --coalesced-wait "${wait}" --op xor --payload 8 \
    --json --log-level warn
  assert_all_verified 20000
  with_stderr refute_output --partial 'lost doorbells'
  stats
  assert_json "${POOLS_FULL}"
  stop_backend
  grep -qE '\] [1-9][0-9]* coalesced doorbell\(s\) not rung' "${BACKEND_LOG}" ||
    fail "the backend spared no doorbell write: $(grep -c . "${BACKEND_LOG}") lines in ${BACKEND_LOG}"

  start_backend "${INSTANCE}" --delay-ms 1
  coalesced_rung_in_time_and_stop --coalesced-wait "${wait}"
}

@test "--coalesced-wait doorbell: every request verifies at D = 0 and at 1 ms, no doorbell is lost, the backend spares the writes nobody asked for" {
  coalesced_wait_loses_no_doorbell doorbell
}

@test "--coalesced-wait nap: every request verifies at D = 0 and at 1 ms, no doorbell is lost, the backend spares its writes" {
  coalesced_wait_loses_no_doorbell nap
}

# More jobs than request buffers (J = 128 on a pool of 64): half the jobs
# wait for a buffer, retrying, and buffers come back only with completions,
# which a coalesced frontend that asked for no doorbell must look for itself
# between retries. It did not (a look without a wait saw only fds): not one
# request finished, and the jobs were cancelled at the timeout.
@test "coalesced, J = 128 on a pool of 64 (jobs retry for request buffers): every request verifies, doorbell and nap" {
  start_backend "${INSTANCE}" --delay-ms 0 --pool-size 64
  local wait
  for wait in doorbell nap; do
    run_frontend 0 --inflight 128 --total 20000 --notify coalesced --coalesced-wait "${wait}" --op aes-256-gcm-encrypt \
      --payload 1024 --json --log-level warn
    assert_all_verified 20000
    with_stderr refute_output --partial 'lost doorbells'
  done
  stats
  assert_json "${POOLS_FULL}"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# backend_stops_under_frontend NOTIFY: the backend is stopped (SIGTERM)
# while a frontend in NOTIFY mode keeps 64 AES-GCM requests on it (D = 0).
# The backend exits 0; the frontend exits 5 within 3 s, saying once that the
# backend is stopping, with every job it started counted once (the 64 out
# failed, none pending) and not a word about the answers to them that keep
# arriving (coalesced mode once warned of each of them: 31-63 lines).
backend_stops_under_frontend() {
  start_backend "${INSTANCE}" --delay-ms 0
  start_frontend frontend --notify "$1" --inflight 64 --duration 60 --op aes-256-gcm-encrypt --payload 1024 \
    --verify sample --json
  local -r frontend_pid=${STARTED_PID} frontend_log=${BATS_TEST_TMPDIR}/frontend.log
  wait_for_line 10 "${frontend_log}" 'load: 64 job\(s\) in flight'
  wait_until 10 stats_match '.served > 10000' || fail "the backend served no load: $(stats_now)"

  local -r stopped_at=$(now_us)
  stop_backend
  reap_tracked 3 "${frontend_pid}" || fail "the frontend still runs 3 s after the backend stopped"
  local -r elapsed_us=$(($(now_us) - stopped_at))
  assert_equal "${EXIT_STATUS}" 5
  ((elapsed_us < 3000000)) || fail "the frontend took ${elapsed_us} us to stop"
  assert_json_in "${BATS_TEST_TMPDIR}/frontend.out" \
    '.ok > 10000 and .failed == 64 and .pending == 0 and .ok + .failed == .jobs'
  assert_equal "$(grep -c "backend of instance '${INSTANCE}' is stopping (it answered 'dropped')" "${frontend_log}")" 1
  if grep -E 'not waiting|lost doorbell|warn' "${frontend_log}"; then
    fail "the frontend's log has the lines above"
  fi
  assert_no_leftovers "${INSTANCE}"
}

@test "backend stopped mid-run under a coalesced frontend (D = 0, AES-GCM): frontend exit 5 within 3 s, the 64 jobs out failed once, no stray warning" {
  backend_stops_under_frontend coalesced
}

@test "backend stopped mid-run under a callback frontend (D = 0, AES-GCM): frontend exit 5 within 3 s, the 64 jobs out failed once, no stray warning" {
  backend_stops_under_frontend callback
}

@test "backend stopped mid-run under an eventfd frontend (D = 0, AES-GCM): frontend exit 5 within 3 s, the 64 jobs out failed once, no stray warning" {
  backend_stops_under_frontend eventfd
}

@test "backend SIGKILLed mid-run: the frontend exits 5 within 3 s; a new backend cleans up and serves" {
  start_backend "${INSTANCE}" --delay-ms 1
  local -r killed_backend_timeout_pid=${BACKEND_TIMEOUT_PID}

  start_bounded frontend 60 "${FRONTEND}" --instance "${INSTANCE}" --inflight 16 --total 100000000 --json
  local -r frontend_pid=${STARTED_PID}
  local -r frontend_log=${BATS_TEST_TMPDIR}/frontend.log
  # Mid-run: the frontend registered and the backend serves its requests.
  wait_for_line 10 "${frontend_log}" 'passed [0-9]+ job eventfd'
  wait_for_line 10 "${BACKEND_LOG}" 'served request'
  pid_alive "$(child_pid "${frontend_pid}")"

  local -r killed_at=$(now_us)
  kill -KILL "${BACKEND_PID}"
  reap_tracked 3 "${frontend_pid}" || fail "the frontend still runs 3 s after the backend died"
  local -r elapsed_us=$(($(now_us) - killed_at))
  assert_equal "${EXIT_STATUS}" 5
  ((elapsed_us < 3000000)) || fail "the frontend took ${elapsed_us} us to notice"
  grep -qE "backend of instance '${INSTANCE}' died.*outstanding \(jobs [0-9]" "${frontend_log}" ||
    fail "the frontend's log names no outstanding jobs"
  reap_tracked 5 "${killed_backend_timeout_pid}" || fail "the SIGKILLed backend's timeout did not exit"

  # What the killed backend left behind...
  assert_dir_exists "${DPDK_RUNTIME_ROOT}/${INSTANCE}"
  # ...is removed by the next backend of the instance, which then serves.
  start_backend "${INSTANCE}" --delay-ms 1
  grep -q 'removed what a backend that did not stop cleanly left behind' "${BACKEND_LOG}" ||
    fail "no stale-cleanup warning in ${BACKEND_LOG}"
  run_frontend 0 --jobs 8 --json
  assert_all_verified 8

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}
