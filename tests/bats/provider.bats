#!/usr/bin/env bats
# The OpenSSL 3 provider "offload" (provider/, build/<preset>/provider/offload.so)
# end to end: the unmodified openssl command line program, loading it through
# provider/offload-openssl.cnf, has its AES-256-GCM done by an offload-backend:
# openssl speed with ASYNC jobs and without, a TLS 1.3 connection between
# s_server -async and s_client, no backend (an error, or software with
# fallback = yes), and either side SIGKILLed mid-run. Every test runs its own
# instance; teardown stops what it started and removes what it left.

load 'test_helper/common-setup'
load 'test_helper/two-process'
load 'test_helper/provider'

# The speed runs: AES-256-GCM on 1024-byte messages, as README's example.
SPEED=(speed -elapsed -bytes 1024 -aead -evp aes-256-gcm)

# assert_every_operation_served: after a speed run (assert_speed_result)
# with OFFLOAD_LOG_LEVEL=info, the provider's exit summary says it sent at
# least speed's count to the device and failed none; the backend's served
# counter says the same (it would not grow for operations done in software
# inside the openssl process); openssl's frontend detached with every buffer
# back and its sessions freed; the backend stops cleanly.
assert_every_operation_served() {
  provider_summary
  ((SUMMARY_DEVICE >= SPEED_OPS)) ||
    fail "speed counted ${SPEED_OPS} operations, the provider sent ${SUMMARY_DEVICE} to the device"
  assert_equal "${SUMMARY_FAILED}" 0
  stats
  local -r served=$(json_value .served)
  ((served >= SPEED_OPS)) || fail "speed counted ${SPEED_OPS} operations, the backend served ${served}"
  assert_json "${POOLS_FULL} and .crypto_sessions == 0"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# ---------------------------------------------------------------------------
# openssl speed

@test "openssl speed -async_jobs 16 -evp aes-256-gcm: exit 0; the backend served every operation speed counted, none failed" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  OFFLOAD_LOG_LEVEL=info run -0 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1 -async_jobs 16
  assert_speed_result
  with_stderr assert_line --partial "attached to the backend of instance '${INSTANCE}' as a DPDK secondary"
  # The provider's own count, at exit: what it sent to the device, and that
  # nothing failed (speed stops at the first failure, but its count would
  # not show a message that failed after it).
  assert_every_operation_served
}

@test "openssl speed without -async_jobs (no ASYNC job: the provider waits synchronously): exit 0, every operation served by the backend" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  OFFLOAD_LOG_LEVEL=info run -0 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1
  assert_speed_result
  # Each went the synchronous way: outside an ASYNC job there is no pause.
  provider_summary
  ((SUMMARY_SYNC_WAITS >= SPEED_OPS)) ||
    fail "${SUMMARY_SYNC_WAITS} synchronous wait(s) for ${SPEED_OPS} operations"
  assert_every_operation_served
}

# ---------------------------------------------------------------------------
# TLS 1.3

# Both programs are unmodified openssl: s_server -async runs each connection
# in ASYNC jobs (a paused job shows as "Read/Write BLOCK (Async)"), s_client
# waits synchronously. A line written on one side's stdin (a FIFO, see
# start_provider_openssl) is one TLS 1.3 record of that many bytes plus its
# content type byte, so each direction's record is recognisable in the
# backend's log by its length: encrypted for the sender's frontend,
# decrypted for the receiver's.
@test "TLS 1.3 (TLS_AES_256_GCM_SHA384) between s_server -async and s_client: each side's message arrives intact, its record encrypted and decrypted by the backend" {
  # --log-level debug: the backend logs every request it serves (info only its first 32).
  start_backend "${INSTANCE}" --delay-ms 0.05 --log-level debug
  tls_exchange -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
  local -r dir=${BATS_TEST_TMPDIR}
  grep -qxF 'CIPHER is TLS_AES_256_GCM_SHA384' "${dir}/server.out" || fail "s_server did not negotiate TLS_AES_256_GCM_SHA384"
  # The provider paused the server's ASYNC job while the device worked.
  grep -qE '^(Read|Write) BLOCK \(Async\)$' "${dir}/server.out" || fail "s_server's jobs never paused (no BLOCK (Async))"

  # Both processes attached to the backend as frontends of their own.
  local -r server_id=$(frontend_id_of "${TLS_SERVER_PID}") client_id=$(frontend_id_of "${TLS_CLIENT_PID}")
  [[ -n ${server_id} && -n ${client_id} ]] ||
    fail "not both registered with the backend: s_server (pid ${TLS_SERVER_PID}) '${server_id}', s_client (pid ${TLS_CLIENT_PID}) '${client_id}'"
  local -r served_re='job [0-9]+: served request seq [0-9]+'
  assert_backend_logged "\] frontend ${client_id} ${served_re} \(101 bytes, aes-256-gcm-encrypt\)"
  assert_backend_logged "\] frontend ${server_id} ${served_re} \(101 bytes, aes-256-gcm-decrypt\)"
  assert_backend_logged "\] frontend ${server_id} ${served_re} \(151 bytes, aes-256-gcm-encrypt\)"
  assert_backend_logged "\] frontend ${client_id} ${served_re} \(151 bytes, aes-256-gcm-decrypt\)"

  stats
  # The handshake's records too (its encrypted extensions, certificate,
  # finished messages, session tickets), on top of these 4.
  assert_json '.served > 4'
  assert_json "${POOLS_FULL} and .crypto_sessions == 0"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# TLS 1.2's GCM records carry an explicit IV and their own AAD handling
# (AEAD_TLS1_AAD): the default provider does them, the provider counts
# them. The exchange must work all the same.
@test "TLS 1.2 (ECDHE-ECDSA-AES256-GCM-SHA384) through the provider: the messages arrive intact; its records run in software, counted, none on the device" {
  start_backend "${INSTANCE}" --delay-ms 0.05
  OFFLOAD_LOG_LEVEL=info tls_exchange -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
  local -r dir=${BATS_TEST_TMPDIR}
  grep -qxF 'CIPHER is ECDHE-ECDSA-AES256-GCM-SHA384' "${dir}/server.out" ||
    fail "s_server did not negotiate ECDHE-ECDSA-AES256-GCM-SHA384"
  local side
  for side in server client; do
    grep -qE "offload provider, instance '${INSTANCE}': 0 message\(s\) on the device, [1-9][0-9]* in software \([0-9]+ TLS 1\.2 record\), 0 failed" \
      "${dir}/${side}.log" || fail "s_${side}'s provider summary does not count its TLS 1.2 records in software: $(grep 'offload provider,' "${dir}/${side}.log")"
  done
  stats
  assert_json "${POOLS_FULL} and .crypto_sessions == 0 and .served == 0"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# Each TLS 1.3 connection brings four keys (the handshake's and the data's,
# each way); one s_server thread holds at most 64 with the backend. Past 16
# connections the provider forgets the least recently used ones
# (ofl_forget_key) and stays on the device.
@test "a TLS 1.3 server's 34 connections (four keys each: handshake and data, both ways; 136 keys for 64 key ids): every record of the server on the device, none in software" {
  start_backend "${INSTANCE}" --delay-ms 0.05
  make_cert
  local -r dir=${BATS_TEST_TMPDIR} connections=34
  mkfifo "${dir}/server.in"
  OFFLOAD_LOG_LEVEL=info PROVIDER_STDIN=${dir}/server.in start_provider_openssl server 60 s_server -async \
    -naccept "${connections}" -accept 127.0.0.1:0 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 \
    -cert "${CERT}" -key "${KEY}"
  local -r server_timeout_pid=${STARTED_PID}
  wait_for_line 20 "${dir}/server.out" '^ACCEPT 127\.0\.0\.1:[0-9]+$' || fail "s_server never listened"
  local -r port=$(sed -nE 's/^ACCEPT 127\.0\.0\.1:([0-9]+)$/\1/p' "${dir}/server.out")

  local i
  for ((i = 1; i <= connections; i++)); do
    # The line, then end of input: s_client closes the connection (-quiet
    # alone would ignore the end of input).
    provider_command
    printf 'connection-%s\n' "${i}" | bounded 20 "${PROVIDER_CMD[@]}" s_client -quiet -no_ign_eof -connect "127.0.0.1:${port}" \
      -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 >/dev/null 2>"${dir}/client-${i}.log" ||
      fail "s_client ${i} failed: $(tail -n 5 "${dir}/client-${i}.log")"
    wait_until 10 grep -qxF "connection-${i}" "${dir}/server.out" || fail "s_server never printed connection ${i}'s line"
  done
  reap_tracked 20 "${server_timeout_pid}" || fail "s_server still runs after its ${connections} connections"
  assert_equal "${EXIT_STATUS}" 0
  grep -qE "offload provider, instance '${INSTANCE}': [1-9][0-9]* message\(s\) on the device, 0 in software, 0 failed" \
    "${dir}/server.log" || fail "s_server's provider summary: $(grep 'offload provider,' "${dir}/server.log")"
  # The server forgot keys to make room (the backend logs each).
  assert_backend_logged 'forgot AES-256 key'
  stats
  assert_json "${POOLS_FULL} and .crypto_sessions == 0"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

# ---------------------------------------------------------------------------
# No backend

@test "no backend (fallback = no): openssl speed fails at once naming the instance, and creates nothing" {
  # INSTANCE: unique to this test, nobody runs a backend on it.
  local -r started=$(now_us)
  run -1 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1 -async_jobs 16
  local -r elapsed_us=$(($(now_us) - started))

  ((elapsed_us < 5000000)) || fail "openssl speed took ${elapsed_us} us to give up"
  with_stderr assert_line --regexp "no offload-backend is running for instance '${INSTANCE}'"
  with_stderr assert_line --partial "start it with: offload-backend --instance ${INSTANCE}"
  # It did not measure software in the device's name.
  refute_output --partial 'AES-256-GCM '
  assert_equal "$(stderr_count "AES-256-GCM's in")" 0
  # No DPDK start-up without a primary: no runtime dir, no hugepage file.
  assert_no_leftovers "${INSTANCE}"
}

# A careless value is an error naming its key, never a silent default:
# strtoull took "-1" as 2^64 - 1 ms (overflowing into nanoseconds) and "abc"
# as 0; "maybe" was no. With fallback = yes too: nothing runs.
@test "bad provider configuration (OFFLOAD_TIMEOUT_MS abc, -1, 99999999999; OFFLOAD_FALLBACK maybe; OFFLOAD_LOG_LEVEL loud): speed fails naming the variable" {
  local value
  for value in abc -1 99999999999; do
    OFFLOAD_TIMEOUT_MS=${value} OFFLOAD_FALLBACK=yes run -1 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1
    with_stderr assert_line --partial "OFFLOAD_TIMEOUT_MS is '${value}', not a whole number in 0..3600000"
  done
  OFFLOAD_FALLBACK=maybe run -1 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1
  with_stderr assert_line --partial "OFFLOAD_FALLBACK is 'maybe', not yes or no"
  OFFLOAD_LOG_LEVEL=loud run -1 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1
  with_stderr assert_line --partial "OFFLOAD_LOG_LEVEL is 'loud'"
  assert_equal "$(stderr_count "AES-256-GCM's in")" 0
}

@test "fallback = yes (OFFLOAD_FALLBACK=yes), no backend: openssl speed runs in software, exit 0, the summary counts the software messages" {
  OFFLOAD_FALLBACK=yes OFFLOAD_LOG_LEVEL=info run -0 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1 -async_jobs 16
  assert_speed_result
  with_stderr assert_line --partial "fallback = yes: AES-256-GCM runs in software"
  provider_summary
  assert_equal "${SUMMARY_DEVICE}" 0
  ((SUMMARY_SOFTWARE >= SPEED_OPS)) ||
    fail "speed counted ${SPEED_OPS} operations, the provider ${SUMMARY_SOFTWARE} in software"
  [[ ${SUMMARY_WHY} == *'no backend (fallback = yes)'* ]] ||
    fail "the summary gives another reason for software: '${SUMMARY_WHY}'"
  assert_equal "${SUMMARY_FAILED}" 0
  assert_no_leftovers "${INSTANCE}"
}

# ---------------------------------------------------------------------------
# A side dies mid-run

@test "backend SIGKILLed during a speed run (openssl speed -async_jobs 16 -seconds 10): speed exits 1 within 3 s saying the backend died; no process is left" {
  start_backend "${INSTANCE}" --delay-ms 0.05
  local -r killed_backend_timeout_pid=${BACKEND_TIMEOUT_PID}

  start_provider_openssl speed 30 "${SPEED[@]}" -seconds 10 -async_jobs 16
  local -r speed_timeout_pid=${STARTED_PID}
  wait_until 20 stats_match '.frontends == 1 and .served > 0' || fail "openssl speed was never served: $(stats_now)"

  local -r killed_at=$(now_us)
  kill -KILL "${BACKEND_PID}"
  # The provider's monitor checks that the backend lives every 50 ms and
  # fails the requests in flight: speed stops at its first failure.
  reap_tracked 10 "${speed_timeout_pid}" || fail "openssl speed still runs 10 s after the backend died"
  local -r elapsed_us=$(($(now_us) - killed_at))
  assert_equal "${EXIT_STATUS}" 1
  ((elapsed_us < 3000000)) || fail "openssl speed took ${elapsed_us} us to end after the backend died"
  grep -qF "the backend of instance '${INSTANCE}' died" "${BATS_TEST_TMPDIR}/speed.log" ||
    fail "openssl speed's stderr does not say that the backend died"
  reap_tracked 5 "${killed_backend_timeout_pid}" || fail "the SIGKILLed backend's timeout did not exit"

  # No process of this test is left: both are reaped above, and nothing else
  # names the instance. What the killed backend left (its runtime dir and
  # hugepage files; the files of the provider inside openssl, a DPDK secondary
  # that lost its primary) is teardown's to remove.
  local -r processes=$(instance_leftovers "${INSTANCE}" | grep '^process: ' || true)
  assert_equal "${processes}" ''
}

@test "the application SIGKILLed mid-run (openssl speed -async_jobs 16): the backend takes back every buffer and frees its sessions; it still serves" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  start_provider_openssl speed 30 "${SPEED[@]}" -seconds 10 -async_jobs 16
  local -r speed_timeout_pid=${STARTED_PID}
  wait_until 20 stats_match '.frontends == 1 and .served > 0' || fail "openssl speed was never served: $(stats_now)"
  local speed_pid
  speed_pid=$(child_pid "${speed_timeout_pid}") || fail "no openssl under its timeout"
  # Mid-run: its 16 jobs each hold a key (a crypto session) on the backend.
  stats
  assert_json '.crypto_sessions > 0'

  kill -KILL "${speed_pid}"
  wait_until 3 stats_match "${POOLS_FULL} and .crypto_sessions == 0" ||
    fail "3 s after the SIGKILL the backend still misses buffers, a slot or sessions: $(stats_now)"
  reap_tracked 5 "${speed_timeout_pid}" || fail "the killed openssl's timeout did not exit"
  assert_equal "${EXIT_STATUS}" 137
  assert_backend_logged 'frontend [0-9]+ detached \(its process exited\)' 1
  assert_backend_alive

  verify_and_stop
}

# ---------------------------------------------------------------------------
# Backpressure and bounds

@test "as many ASYNC jobs as buffers (--pool-size 64, -async_jobs 64): a job that finds no buffer (one in transit back) pauses with ASYNC_STATUS_EAGAIN and retry; every operation served, none failed" {
  start_backend "${INSTANCE}" --delay-ms 1 --pool-size 64

  OFFLOAD_LOG_LEVEL=info run -0 --separate-stderr provider_openssl 30 "${SPEED[@]}" -seconds 1 -async_jobs 64
  assert_speed_result
  provider_summary
  # A buffer given back goes through the backend before it is granted again:
  # meanwhile the job that wants it finds none.
  ((SUMMARY_EAGAIN > 0)) || fail "no job paused for a buffer (EAGAIN): the pool did not run out"
  echo "# ${SUMMARY_EAGAIN} EAGAIN pause(s) for ${SPEED_OPS} operations" >&3
  assert_every_operation_served
}

# SIGSTOP keeps the backend's DPDK primary alive (its lock held) while it
# serves nothing: no liveness check can tell, only the requests' bound.
@test "a backend that stops answering (SIGSTOP): each request ends at its bound (OFFLOAD_TIMEOUT_MS=300) with an error, speed exits 1; the backend, resumed, has every buffer back" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  OFFLOAD_TIMEOUT_MS=300 start_provider_openssl speed 30 "${SPEED[@]}" -seconds 10 -async_jobs 16
  local -r speed_timeout_pid=${STARTED_PID}
  wait_until 20 stats_match '.frontends == 1 and .served > 0' || fail "openssl speed was never served: $(stats_now)"

  kill -STOP "${BACKEND_PID}"
  local -r stopped_at=$(now_us)
  # The bound, then the exit: openssl's unregistration and DPDK's clean-up
  # each wait for a backend that does not answer, each bounded.
  reap_tracked 20 "${speed_timeout_pid}" || {
    kill -CONT "${BACKEND_PID}"
    fail "openssl speed still runs 20 s after the backend stopped answering"
  }
  local -r elapsed_us=$(($(now_us) - stopped_at))
  kill -CONT "${BACKEND_PID}"
  assert_equal "${EXIT_STATUS}" 1
  grep -qF "outlived its bound" "${BATS_TEST_TMPDIR}/speed.log" ||
    fail "openssl speed's stderr does not say that a request outlived its bound"
  echo "# speed ended ${elapsed_us} us after the SIGSTOP" >&3

  # Resumed, the backend finds the frontend gone and takes everything back.
  wait_until 10 stats_match "${POOLS_FULL} and .crypto_sessions == 0" ||
    fail "the resumed backend misses buffers, a slot or sessions: $(stats_now)"
  assert_backend_alive
  verify_and_stop
}
