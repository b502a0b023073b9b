#!/usr/bin/env bats
# AES-256-GCM through the backend's DPDK cryptodev (issue 9), end to end:
# every result is verified by the frontend with OpenSSL EVP in its own
# process, an implementation independent of the PMD. Each test runs its own
# instance and ends with assert_no_leftovers; teardown removes what a failed
# test left behind.

load 'test_helper/common-setup'
load 'test_helper/two-process'

ENCRYPT=aes-256-gcm-encrypt
DECRYPT=aes-256-gcm-decrypt

# run_sized OP SIZE ARGS...: 4 jobs of OP on SIZE bytes (0: an empty
# message), all verified.
run_sized() {
  local -r op=$1 size=$2
  shift 2
  local -a payload=(--payload "${size}")
  ((size == 0)) && payload=(--message '')
  run_frontend 0 --jobs 4 --op "${op}" "${payload[@]}" --json --log-level warn "$@"
  assert_all_verified 4
}

@test "encrypt and decrypt of 0, 1, 15, 16, 17, 4096 and 16384 bytes (the buffer's maximum) verify with EVP" {
  start_backend "${INSTANCE}" --delay-ms 0
  local op size
  for op in "${ENCRYPT}" "${DECRYPT}"; do
    for size in 0 1 15 16 17 4096 16384; do
      run_sized "${op}" "${size}" --aad-len 13
    done
  done
  stats
  assert_json '.served == 56 and .rejected == 0'
  verify_and_stop
}

@test "AAD of 0, 5, 13 and 32 bytes verifies in both directions" {
  start_backend "${INSTANCE}" --delay-ms 0
  local op aad
  for op in "${ENCRYPT}" "${DECRYPT}"; do
    for aad in 0 5 13 32; do
      run_sized "${op}" 1000 --aad-len "${aad}"
    done
  done
  verify_and_stop
}

@test "a larger --buffer-size carries a larger message: 65456 bytes + tag in 65472-byte buffers" {
  start_backend "${INSTANCE}" --delay-ms 0 --buffer-size 65472 --pool-size 256
  run_sized "${ENCRYPT}" 65456 --aad-len 5
  run_frontend 2 --jobs 1 --op "${ENCRYPT}" --payload 65457
  with_stderr assert_line --partial "at most 65456 bytes for aes-256-gcm-encrypt"
  stop_backend
  assert_no_leftovers "${INSTANCE}"
}

@test "a flipped tag bit: that job alone fails with 'auth failed' (exit 1), the others verify" {
  start_backend "${INSTANCE}" --delay-ms 0
  run_frontend 1 --jobs 8 --op "${DECRYPT}" --aad-len 13 --corrupt-tag-job 3 --json
  assert_json '.jobs == 8 and .ok == 7 and .failed == 1 and .pending == 0'
  assert_equal "$(stderr_count 'FAILED')" 1
  with_stderr assert_line --regexp "\] job 3: FAILED: the backend answered 'auth failed'"
  assert_backend_logged "frontend [0-9]+ job 3: served request seq 1 \([0-9]+ bytes, ${DECRYPT}, auth failed\)" 1
  stats
  assert_json '.served == 8 and .rejected == 0'
  verify_and_stop
}

@test "--key: a given key verifies, and the backend never logs it" {
  local -r key=feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308
  start_backend "${INSTANCE}" --delay-ms 0 --log-level debug
  run_frontend 0 --jobs 8 --op "${ENCRYPT}" --key "${key}" --payload 64 --json
  assert_all_verified 8
  run_frontend 0 --jobs 8 --op "${DECRYPT}" --key "${key^^}" --payload 64 --json
  assert_all_verified 8
  run grep -ci "${key}" "${BACKEND_LOG}"
  assert_output 0
  verify_and_stop
}

@test "load in each notify mode: 64 AES-GCM jobs in flight, 6000 requests, every result verified" {
  start_backend "${INSTANCE}" --delay-ms 0
  local mode
  for mode in eventfd callback coalesced; do
    run_frontend 0 --inflight 64 --total 6000 --op "${ENCRYPT}" --payload 1024 --aad-len 13 --notify "${mode}" --json
    assert_json '.jobs == 6000 and .ok == 6000 and .failed == 0'
  done
  verify_and_stop
}

@test "--verify sample and none: the run says what it checked, and still completes every request" {
  start_backend "${INSTANCE}" --delay-ms 0
  run_frontend 0 --inflight 16 --total 2000 --op "${ENCRYPT}" --payload 256 --verify sample --json
  assert_json '.jobs == 2000 and .ok == 2000 and .verify == "sample" and .op == "aes-256-gcm-encrypt"'
  assert_json '.payload_bytes == 256 and .gbytes_per_s > 0'
  run_frontend 0 --inflight 16 --total 2000 --op "${DECRYPT}" --payload 256 --verify none
  assert_line --index 0 --regexp '^summary: 2000 jobs: 2000 ok, 0 failed in .* MB/s of 256-byte messages'
  assert_line --index 1 'verified: none of the results (aes-256-gcm-decrypt)'
  verify_and_stop
}

# hostile_aead KIND BACKEND_REGEX: job 0's first request made hostile by
# --inject-fault KIND is answered 'bad request' (exit 1); the other 3
# verify; the backend keeps serving with its pools full.
hostile_aead() {
  local -r kind=$1 backend_says=$2
  start_backend "${INSTANCE}" --delay-ms 0
  run_frontend 1 --jobs 4 --op "${ENCRYPT}" --aad-len 13 --inject-fault "${kind}" --json
  assert_json '.jobs == 4 and .ok == 3 and .failed == 1'
  with_stderr assert_line --regexp "job 0: FAILED: the backend answered 'bad request'"
  assert_backend_logged "frontend [0-9]+ job 0: rejected request: ${backend_says}" 1
  stats
  assert_json '.rejected == 1 and .served == 3'
  assert_json "${POOLS_FULL}"
  verify_and_stop
}

@test "hostile AES-GCM request: a key id never registered is 'bad request'; the backend keeps serving" {
  hostile_aead unregistered-key 'key id not registered'
}

@test "hostile AES-GCM request: 65 bytes of AAD is 'bad request'; the backend keeps serving" {
  hostile_aead aad-too-long 'AAD longer than 64 bytes'
}

@test "hostile AES-GCM request: a message with no room for its tag is 'bad request'; the backend keeps serving" {
  hostile_aead payload-too-long 'payload length out of range'
}

@test "--crypto-dev crypto_openssl: the other software PMD serves AES-GCM" {
  start_backend "${INSTANCE}" --delay-ms 0 --crypto-dev crypto_openssl
  assert_backend_logged 'crypto device: crypto_openssl \(cryptodev [0-9]+, driver crypto_openssl' 1
  run_sized "${ENCRYPT}" 4096 --aad-len 13
  run_sized "${DECRYPT}" 17 --aad-len 5
  verify_and_stop
}

@test "--crypto-dev none: xor and not are served; an AES-GCM frontend is refused with exit 3 saying why" {
  start_backend "${INSTANCE}" --delay-ms 0 --crypto-dev none
  run_frontend 3 --jobs 2 --op "${ENCRYPT}"
  with_stderr assert_line --regexp 'error: the backend refused this frontend.s AES-256 key: the backend runs without a crypto device'
  run_frontend 0 --jobs 4 --op xor --json
  assert_all_verified 4
  verify_and_stop
}

@test "an unusable --crypto-dev is one clear error: exit 3, nothing left behind" {
  run -3 --separate-stderr bounded 30 "${BACKEND}" --instance "${INSTANCE}" --crypto-dev crypto_nonesuch
  register_instance "${INSTANCE}"
  assert_equal "$(stderr_count '^offload-backend: error: ')" 1
  with_stderr assert_line --regexp "^offload-backend: error: crypto device 'crypto_nonesuch': no such device"
  run -3 --separate-stderr bounded 30 "${BACKEND}" --instance "${INSTANCE}" --crypto-dev crypto_null
  with_stderr assert_line --regexp "^offload-backend: error: crypto device 'crypto_null': does not offer AES-GCM"
  assert_no_leftovers "${INSTANCE}"
}

@test "a frontend SIGKILLed with AES-GCM requests in flight: its sessions are freed, the pools are full" {
  start_backend "${INSTANCE}" --delay-ms 1
  start_frontend victim --inflight 64 --duration 10 --op "${ENCRYPT}" --payload 4096 --aad-len 13
  local -r victim_timeout_pid=${STARTED_PID}
  wait_for_line 10 "${BATS_TEST_TMPDIR}/victim.log" '\] load: ' || fail "the victim never started its load"
  wait_until 5 stats_match '.crypto_sessions == 1 and .served > 100' || fail "no AES-GCM load: $(stats_now)"
  kill -KILL "$(child_pid "${victim_timeout_pid}")"
  wait_until 3 stats_match "${POOLS_FULL} and .crypto_sessions == 0" || fail "not reclaimed: $(stats_now)"
  assert_backend_logged 'frontend [0-9]+ detached \(its process exited\)' 1
  verify_and_stop
}
