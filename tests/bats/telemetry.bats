#!/usr/bin/env bats
# Observability the DPDK way (issue 12): the backend serves DPDK telemetry on
# its instance, read with DPDK's own client (dpdk-telemetry.py, which reads
# commands from stdin and works through a pipe) and, where a command must be
# sent as it is (malformed ones), with test_helper/telemetry-client.py. Every
# test runs its own instance (tel-...), ends with assert_no_leftovers, and
# teardown stops and removes what a failed test left.

# shellcheck disable=SC2034 # read by two-process.bash's setup_file
TWO_PROCESS_TEST_TIMEOUT=90

load 'test_helper/common-setup'
load 'test_helper/two-process'

TELEMETRY_PY=${TELEMETRY_PY:-/usr/bin/dpdk-telemetry.py}
TELEMETRY_CLIENT=${BATS_TEST_DIRNAME}/test_helper/telemetry-client.py

setup() {
  [[ -x ${TELEMETRY_PY} ]] || {
    echo "no ${TELEMETRY_PY}: it comes with Debian's dpdk-dev (scripts/install-deps.sh)" >&2
    return 1
  }
  INSTANCE=$(unique_instance tel)
}

telemetry_socket() {
  echo "${DPDK_RUNTIME_ROOT}/${INSTANCE}/dpdk_telemetry.v2"
}

_telemetry_py() {
  printf '%s\n' "$@" | bounded 10 "${TELEMETRY_PY}" -f "${INSTANCE}"
}

# telemetry COMMAND...: dpdk-telemetry.py -f $INSTANCE, the COMMANDs on its
# stdin; output holds one JSON reply a line, each checked to be JSON (the
# script prints "Error connecting to ..." and exits 0 when it cannot connect).
telemetry() {
  run --separate-stderr _telemetry_py "$@"
  ((status == 0)) || fail "dpdk-telemetry.py exited ${status}: ${output} ${stderr-}"
  ((${#lines[@]} == $#)) || fail "dpdk-telemetry.py answered ${#lines[@]} line(s) to $# command(s): ${output}"
  jq -e . <<<"${output}" >/dev/null 2>&1 || fail "dpdk-telemetry.py printed something other than JSON: ${output}"
}

# reply COMMAND: the value of COMMAND's reply in the last telemetry output;
# fails if there is none.
reply() {
  local value
  value=$(jq -c --arg c "$1" 'select(has($c)) | .[$c]' <<<"${output}") && [[ -n ${value} ]] && echo "${value}"
}

# assert_reply COMMAND FILTER: the jq FILTER holds for COMMAND's reply.
assert_reply() {
  local value
  value=$(reply "$1") || fail "no reply to $1 in: ${output}"
  jq -e "$2" <<<"${value}" >/dev/null 2>&1 ||
    fail "$1: '$2' does not hold for the reply ${value}"
}

# frontend_served_over N: /offload/frontends shows one frontend, served more
# than N requests (for wait_until).
frontend_served_over() {
  local json
  json=$(_telemetry_py /offload/frontends 2>/dev/null) || return 1
  jq -e ".[\"/offload/frontends\"] | length == 1 and ([.[]][0].served > $1)" <<<"${json}" >/dev/null 2>&1
}

# file_has_lines FILE N: FILE has at least N lines (for wait_until).
file_has_lines() {
  [[ -f $1 ]] && (($(wc -l <"$1") >= $2))
}

@test "dpdk-telemetry.py -f <instance> connects with no other setup; DPDK's own commands answer; the socket goes with the runtime dir" {
  start_backend "${INSTANCE}" --delay-ms 1
  [[ -S $(telemetry_socket) ]] || fail "no telemetry socket at $(telemetry_socket)"
  assert_backend_logged "ready: instance '${INSTANCE}'.*DPDK telemetry: dpdk-telemetry.py -f ${INSTANCE}\$"

  telemetry / /info /eal/params /mempool/list /mempool/info,ofl_request
  assert_reply / 'index("/offload/stats") and index("/offload/frontends") and index("/offload/device")'
  assert_reply /info '.pid > 0 and (.version | test("DPDK 22\\."))'
  assert_reply /eal/params "index(\"--file-prefix=${INSTANCE}\") and (index(\"--no-telemetry\") | not)"
  assert_reply /mempool/list 'index("ofl_payload") and index("ofl_request")'
  # A reply is keyed by the command, without its parameters.
  assert_reply /mempool/info '.name == "ofl_request" and .size == 8191'

  # A frontend runs with telemetry off: the instance keeps one socket, the backend's.
  run_frontend 0 --jobs 4 --json
  assert_all_verified 4
  assert_equal "$(find "${DPDK_RUNTIME_ROOT}/${INSTANCE}" -name 'dpdk_telemetry*' | wc -l)" 1

  stop_backend
  [[ ! -e $(telemetry_socket) ]] || fail "the telemetry socket outlived the backend's graceful stop"
  assert_no_leftovers "${INSTANCE}"
}

@test "/offload/device describes the device: latency model, engines, queue depth, pool and buffer size, the crypto device and its capabilities" {
  start_backend "${INSTANCE}" --delay-ms 2.5 --engines 4 --queue-depth 64 --pool-size 512 --buffer-size 4096

  telemetry /offload/device
  assert_reply /offload/device '.latency_model == "fixed 2.5 ms" and .latency_bound_ns == 2500000 and .engines == 4
    and .queue_depth == 64 and .pool_size == 512 and .buffer_bytes == 4096'
  assert_reply /offload/device '.crypto_device | startswith("crypto_aesni_mb (cryptodev ")'
  assert_reply /offload/device '[.crypto_capabilities[] | select(startswith("aes-gcm: key"))] | length == 1'
  stop_backend

  # Without a crypto device, nothing about one is reported.
  start_backend "${INSTANCE}" --crypto-dev none
  telemetry /offload/device
  assert_reply /offload/device 'has("crypto_device") or has("crypto_capabilities") | not'

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "/offload/stats and /offload/frontends show a running frontend live; the numbers match its summary afterwards" {
  start_backend "${INSTANCE}" --delay-ms 20
  # 8 jobs in flight, 1200 requests of 20 ms: about 3 s.
  start_frontend fe --inflight 8 --total 1200 --notify callback --json
  local -r fe_timeout_pid=${STARTED_PID}
  local -r fe_pid=$(child_pid "${fe_timeout_pid}")

  wait_until 15 frontend_served_over 0 || fail "/offload/frontends never showed the frontend served: $(_telemetry_py /offload/frontends)"
  telemetry /offload/frontends /offload/stats
  local -r first=$(reply /offload/frontends)
  assert_reply /offload/frontends "length == 1 and (.[] | .pid == ${fe_pid} and .notify == \"callback\" and .jobs == 8
    and .served > 0 and .served <= 1200 and .rejected == 0 and .in_flight <= 8 and .held_buffers <= 40
    and .doorbells_rung == 0 and .doorbells_spared == 0
    and .device_p50_ns >= 20000000 and .device_p50_ns <= .device_p99_ns and .device_p99_ns <= .device_max_ns)"
  assert_reply /offload/stats ".instance == \"${INSTANCE}\" and .frontends == 1 and .inflight <= 8
    and .served > 0 and .served <= 1200 and .rejected == 0 and .mempool_available < .mempool_size"
  # Live: a later reading has moved on.
  local -r served_first=$(jq '[.[]][0].served' <<<"${first}")
  wait_until 10 frontend_served_over "${served_first}" || fail "/offload/frontends stayed at served ${served_first}"

  reap_tracked 30 "${fe_timeout_pid}" || fail "the frontend did not finish"
  ((EXIT_STATUS == 0)) || fail "the frontend exited ${EXIT_STATUS}"
  local summary
  summary=$(<"${BATS_TEST_TMPDIR}/fe.out")
  jq -e '.ok == 1200 and .failed == 0' <<<"${summary}" >/dev/null || fail "summary: ${summary}"
  # What the backend served is what the frontend verified. Each request's
  # time on the device is part of its submit-to-resume latency: the longest
  # device time seen mid-run (exact) is at most the frontend's longest
  # latency (exact), its p50 at most the frontend's p99 (each histogram
  # reports a bucket's middle, within 1/64 of the truth).
  local -r fe_max_us=$(jq '.latency_us.max' <<<"${summary}") fe_p99_us=$(jq '.latency_us.p99' <<<"${summary}")
  jq -e "[.[]][0] | .served <= 1200 and .device_max_ns <= ${fe_max_us} * 1000
    and .device_p50_ns <= ${fe_p99_us} * 1000 * 1.04" <<<"${first}" >/dev/null ||
    fail "mid-run ${first} against the summary ${summary}"
  telemetry /offload/stats /offload/frontends
  assert_reply /offload/stats "${POOLS_FULL} and .served == $(jq .ok <<<"${summary}") and .rejected == 0"
  assert_reply /offload/frontends 'length == 0'
  # offload-frontend --stats reads the same numbers.
  local -r from_telemetry=$(reply /offload/stats)
  stats
  local field
  for field in mempool_size mempool_available msg_pool_size msg_pool_available frontends inflight served rejected; do
    assert_equal "$(json_value ".${field}")" "$(jq ".${field}" <<<"${from_telemetry}")"
  done

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# frontend_doorbells_over N: /offload/frontends shows one frontend whose
# doorbells, rung and spared, number more than N (for wait_until).
frontend_doorbells_over() {
  local json
  json=$(_telemetry_py /offload/frontends 2>/dev/null) || return 1
  jq -e ".[\"/offload/frontends\"] | length == 1 and ([.[]][0] | .doorbells_rung + .doorbells_spared > $1)" \
    <<<"${json}" >/dev/null 2>&1
}

@test "/offload/frontends counts a coalesced frontend's doorbells: rung when it sleeps for them, spared while it naps" {
  start_backend "${INSTANCE}" --delay-ms 0
  local wait timeout_pid
  for wait in doorbell nap; do
    start_frontend "fe-${wait}" --inflight 64 --duration 2 --notify coalesced --coalesced-wait "${wait}" \
      --op aes-256-gcm-encrypt --payload 16384 --verify none --requests-per-job 0 --json
    timeout_pid=${STARTED_PID}
    wait_until 15 frontend_doorbells_over 100 ||
      fail "${wait}: /offload/frontends never showed 100 doorbells: $(_telemetry_py /offload/frontends)"
    telemetry /offload/frontends
    if [[ ${wait} == doorbell ]]; then
      # It asks before every sleep, and at 16 KiB it sleeps between batches:
      # doorbells are rung (those due while it was still looking by itself
      # are spared, more of them on a slower machine).
      assert_reply /offload/frontends 'length == 1 and (.[] | .notify == "coalesced" and .doorbells_rung > 10)'
    else
      # "never" while it naps; it asks only before sleeping with nothing
      # on the device (or a slow device): most are spared.
      assert_reply /offload/frontends 'length == 1 and (.[] | .notify == "coalesced"
        and .doorbells_spared > .doorbells_rung)'
    fi
    reap_tracked 30 "${timeout_pid}" || fail "the ${wait} frontend did not finish"
    ((EXIT_STATUS == 0)) || fail "the ${wait} frontend exited ${EXIT_STATUS}"
  done
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "a malformed or unknown command gets DPDK's error reply (null); the backend keeps serving" {
  start_backend "${INSTANCE}" --delay-ms 1
  local -r long_command=/$(printf 'a%.0s' {1..100})

  # dpdk-telemetry.py sends what starts with '/': an unknown command.
  telemetry /offload/nope
  assert_equal "${output}" '{"/offload/nope": null}'

  # The rest as they are, on one connection: no '/', parameters to commands
  # that take none, a command longer than DPDK's 56 bytes, a lone comma
  # (no command at all), bytes that are not UTF-8.
  run --separate-stderr bounded 10 "${TELEMETRY_CLIENT}" "$(telemetry_socket)" offload/stats /offload/stats,extra \
    /offload/frontends,0 /offload/device,x "${long_command}" , $'\xff\xfe' /offload/stats
  ((status == 0)) || fail "telemetry-client.py exited ${status}: ${stderr-}"
  assert_equal "${#lines[@]}" 8
  local i
  for i in {0..6}; do
    jq -e 'to_entries | length == 1 and .[0].value == null' <<<"${lines[i]}" >/dev/null ||
      fail "reply $((i + 1)) is not DPDK's error reply: ${lines[i]}"
  done
  assert_equal "${lines[0]}" '{"offload/stats":null}'
  assert_equal "${lines[1]}" '{"/offload/stats":null}'
  assert_equal "${lines[2]}" '{"/offload/frontends":null}'
  assert_equal "${lines[3]}" '{"/offload/device":null}'
  assert_equal "${lines[4]}" "{\"${long_command:0:56}\":null}"
  # After all that, on the same connection, a real answer.
  jq -e ".[\"/offload/stats\"] | .instance == \"${INSTANCE}\" and .served == 0" <<<"${lines[7]}" >/dev/null ||
    fail "no proper reply after the malformed commands: ${lines[7]}"

  assert_backend_alive
  verify_and_stop
}

@test "frontends churning for 8 s while a client reads telemetry without pause: none fails, every reply is JSON, nothing leaks" {
  start_backend "${INSTANCE}" --delay-ms 0.05
  start_bounded reader 30 "${TELEMETRY_CLIENT}" --for 10 --pause 0.02 "$(telemetry_socket)" /offload/frontends /offload/stats
  local -r reader_pid=${STARTED_PID}

  run --separate-stderr bounded 60 "${REPO_ROOT}/scripts/churn.sh" --instance "${INSTANCE}" \
    --duration 8 --max-at-once 8 --frontend "${FRONTEND}" --work-dir "${BATS_TEST_TMPDIR}/churn"
  ((status == 0)) || fail "churn.sh exited ${status}: ${output}"$'\n'"${stderr-}"
  assert_json '.failed == 0 and .failures == [] and .frontends >= 8'

  reap_tracked 20 "${reader_pid}" || fail "the telemetry reader did not finish"
  ((EXIT_STATUS == 0)) || fail "the telemetry reader exited ${EXIT_STATUS}: $(cat "${BATS_TEST_TMPDIR}/reader.log")"
  local -r replies="${BATS_TEST_TMPDIR}/reader.out"
  jq -e . "${replies}" >/dev/null || fail "a telemetry reply is not JSON: $(grep -v '^{' "${replies}" | head -n 3)"
  local -r readings=$(jq -s 'map(select(has("/offload/frontends"))) | length' "${replies}")
  local -r busy=$(jq -s 'map(select(has("/offload/frontends")) | .["/offload/frontends"] | length) | max' "${replies}")
  ((readings >= 20)) || fail "only ${readings} /offload/frontends readings in 10 s"
  ((busy >= 1)) || fail "no reading saw a frontend attached"
  jq -se 'map(select(has("/offload/stats")) | .["/offload/stats"] | .frontends <= 16 and .rejected == 0) | all' \
    "${replies}" >/dev/null || fail "a /offload/stats reading is out of range"

  assert_backend_logged 'DPDK memory hotplug while serving' 0
  assert_equal "$(find "${DPDK_RUNTIME_ROOT}/${INSTANCE}" -name 'dpdk_telemetry*' | wc -l)" 1
  stats
  assert_json "${POOLS_FULL} and .rejected == 0"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "SIGTERM to the backend while a telemetry client queries without pause: exit 0, nothing left, the client let go" {
  start_backend "${INSTANCE}" --delay-ms 1
  start_frontend fe --inflight 16 --duration 20 --json
  local -r fe_timeout_pid=${STARTED_PID}
  start_bounded reader 30 "${TELEMETRY_CLIENT}" --for 20 --pause 0.002 "$(telemetry_socket)" /offload/frontends \
    /offload/stats /offload/device /mempool/list
  local -r reader_pid=${STARTED_PID}
  wait_until 10 file_has_lines "${BATS_TEST_TMPDIR}/reader.out" 40 || fail "the reader got no replies"
  wait_until 10 stats_match '.served > 0' || fail "the frontend was not served"

  stop_backend
  assert_backend_logged 'a telemetry command is still running' 0
  reap_tracked 10 "${reader_pid}" || fail "the telemetry client was still connected 10 s after the backend stopped"
  reap_tracked 10 "${fe_timeout_pid}" || fail "the frontend did not stop"
  assert_no_leftovers "${INSTANCE}"
}

@test "a client that sends commands and reads no reply holds up the backend's stop 2 s at most: exit 0, nothing left" {
  start_backend "${INSTANCE}" --delay-ms 1
  start_bounded jammer 30 "${TELEMETRY_CLIENT}" --no-reading 20 "$(telemetry_socket)" /
  local -r jammer_pid=${STARTED_PID}
  wait_until 10 file_has_lines "${BATS_TEST_TMPDIR}/jammer.out" 1 || fail "the client never filled its socket"

  local -r started=$(now_us)
  stop_backend
  local -r elapsed_us=$(($(now_us) - started))
  ((elapsed_us < 4000000)) || fail "the stop took ${elapsed_us} us"
  assert_backend_logged 'DPDK telemetry still serves a client 1000 ms into the stop'
  stop_pid "${jammer_pid}" jammer
  assert_no_leftovers "${INSTANCE}"
}
