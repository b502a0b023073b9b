#!/usr/bin/env bats
# End-to-end tests of offload-threadsim, the real binary: exit codes, what it
# prints on stdout (results) and stderr (logs), and how it uses the machine.

load 'test_helper/common-setup'

setup_file() {
  export BATS_TEST_TIMEOUT=180
  common_setup_file
  require_executable "${THREADSIM}"
}

teardown() {
  common_teardown
}

# The log line format on stderr: [hh:mm:ss.mmm] [threadsim] [level] message
LOG_LINE='^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\] \[threadsim\] \[(trace|debug|info|warning|warn|error|critical)\] '

# The first stdout line of a human run: summary: N jobs: A ok, B failed ...
assert_summary() {
  local -r jobs=$1 ok=$2 failed=$3
  assert_line --index 0 --regexp "^summary: ${jobs} jobs: ${ok} ok, ${failed} failed "
}

# assert_usage_error FLAG ARGS...: ARGS are refused with exit 2, nothing on
# stdout, and exactly one "offload-threadsim: error: ..." line that names FLAG
# (beside it only the hint to run --help; no log lines: nothing ran).
assert_usage_error() {
  local -r flag=$1
  shift
  run -2 --separate-stderr bounded 10 "${THREADSIM}" "$@"
  assert_output ''
  assert_equal "$(stderr_count '^offload-threadsim: error: ')" 1
  with_stderr assert_line --regexp "^offload-threadsim: error: .*(${flag})"
  assert_equal "$(stderr_count -v "^offload-threadsim: error: |^Run 'offload-threadsim --help'")" 0
}

@test "a default run verifies every job, logs only on stderr and exits 0" {
  run -0 --separate-stderr bounded 60 "${THREADSIM}"

  [[ ${lines[0]} =~ ^summary:\ ([0-9]+)\ jobs:\ ([0-9]+)\ ok,\ 0\ failed ]] ||
    fail "unexpected summary line: ${lines[0]}"
  local -r jobs=${BASH_REMATCH[1]}
  assert [ "${jobs}" -ge 1 ]
  assert_equal "${BASH_REMATCH[2]}" "${jobs}"
  local i
  for ((i = 0; i < jobs; i++)); do
    with_stderr assert_line --regexp "\] job ${i}: done, verified: "
  done
  assert_equal "$(stderr_count '\] job [0-9]+: done, verified: ')" "${jobs}"
  # The seeds' XOR 0xAA stays the default operation.
  with_stderr assert_line --regexp ', op xor; OpenSSL '
  # stderr carries only log lines; stdout only the result.
  assert_equal "$(stderr_count -v "${LOG_LINE}")" 0
  refute_output --partial '[threadsim]'
}

@test "64 jobs of 200 ms overlap on the device (well under 64 x 0.2 s)" {
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --jobs 64 --delay-ms 200 --json

  assert_equal "${#lines[@]}" 1
  assert_json '.program == "threadsim" and .jobs == 64 and .ok == 64 and .failed == 0 and .pending == 0'
  # Serially this would take 12.8 s; concurrent, about 0.2 s.
  assert_json '.wall_s < 3'
  assert_json '.wall_s >= 0.2'
  assert_json '(.latency_us | .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and .p999 <= .max) and .latency_us.p50 >= 200000'
  assert_json '.cpu_s >= 0 and .throughput_jobs_per_s > 0'
}

@test "--fail-job 2 of 5: that job fails, the others verify, exit 1" {
  run -1 --separate-stderr bounded 60 "${THREADSIM}" --jobs 5 --fail-job 2 --delay-ms 10 --json

  assert_json '.jobs == 5 and .ok == 4 and .failed == 1 and .pending == 0'
  with_stderr assert_line --regexp '\[error\] job 2: FAILED: '
  assert_equal "$(stderr_count 'FAILED')" 1
  assert_equal "$(stderr_count '\] job [0-9]+: done, verified: ')" 4
}

@test "--timeout-ms 300 with a 5 s device: exit 4 at once, naming the pending jobs" {
  local -r started=$(now_us)
  run -4 --separate-stderr bounded 30 "${THREADSIM}" --jobs 8 --delay-ms 5000 --timeout-ms 300 --json
  local -r elapsed_ms=$((($(now_us) - started) / 1000))

  assert [ "${elapsed_ms}" -lt 3000 ]
  with_stderr assert_line --regexp 'timed out after 300 ms: 8 job\(s\) still waiting .*\(jobs 0, 1, 2, 3, 4, 5, 6, 7\)'
  assert_json '.jobs == 8 and .ok == 0 and .failed == 0 and .pending == 8'
}

@test "bad flag: --jobs 0" {
  assert_usage_error "--jobs: '0' is not an integer in 1\.\.65536" --jobs 0
}

@test "bad flag: --delay-ms -1" {
  assert_usage_error "--delay-ms: '-1' is not a number in 0\.\.60000$" --delay-ms -1
}

@test "bad flag: --jobs abc says what was expected" {
  assert_usage_error "--jobs: 'abc' is not an integer in 1\.\.65536$" --jobs abc
}

# nan passed every range check: threadsim spun a core and ignored --timeout-ms
# (the 10 s bound of assert_usage_error catches that).
@test "bad flags: non-finite numbers (nan, NaN with --delay-dist exp, inf, --delay-ms-min nan)" {
  assert_usage_error "--delay-ms: 'nan' is not a number in 0\.\.60000$" --delay-ms nan --timeout-ms 500
  assert_usage_error "--delay-ms: 'NaN' is not a number" --delay-dist exp --delay-ms NaN
  assert_usage_error "--delay-ms: 'inf' is not a number" --delay-ms inf
  assert_usage_error "--delay-ms-min: 'nan' is not a number" --delay-ms-min nan --delay-ms-max 5
  assert_usage_error "--delay-ms-max: '-inf' is not a number" --delay-ms-min 0 --delay-ms-max=-inf
}

@test "bad flags: every numeric option says what it expected" {
  assert_usage_error "--device-threads: '0' is not an integer in 1\.\.64$" --device-threads 0
  assert_usage_error "--engines: 'x' is not an integer in 0\.\.1048576$" --engines x
  assert_usage_error "--inflight: '-1' is not an integer in 0\.\.65536$" --inflight=-1
  assert_usage_error "--fail-job: '1.5' is not an integer in 0\.\.65535$" --fail-job 1.5
  assert_usage_error "--timeout-ms: 'soon' is not an integer in 0\.\.86400000$" --timeout-ms soon
  assert_usage_error "--payload: '0' is not an integer in 1\.\.1048576$" --payload 0
  assert_usage_error "--aad-len: '65' is not an integer in 0\.\.64$" --op aes-256-gcm-encrypt --aad-len 65
  assert_usage_error "--corrupt-tag-job: 'x' is not an integer in 0\.\.65535$" --op aes-256-gcm-decrypt --corrupt-tag-job x
  assert_usage_error "--seed: 'abc' is not an integer in 0\.\.18446744073709551615$" --seed abc
}

@test "--json with a bad flag: one JSON line on stdout with the error and exit code 2" {
  run -2 --separate-stderr bounded 10 "${THREADSIM}" --json --delay-ms nan
  assert_equal "${#lines[@]}" 1
  assert_json '.program == "threadsim" and .exit_code == 2 and .error == "--delay-ms: '"'nan'"' is not a number in 0..60000"'
  with_stderr assert_line "offload-threadsim: error: --delay-ms: 'nan' is not a number in 0..60000"
}

@test "bad flag: --bogus" {
  assert_usage_error '--bogus' --bogus
}

@test "bad flags: --message x --payload 5 (mutually exclusive)" {
  assert_usage_error '--message.*--payload|--payload.*--message' --message x --payload 5
}

@test "bad flags: --fail-job 9 --jobs 3 (no such job)" {
  assert_usage_error '--fail-job' --fail-job 9 --jobs 3
}

@test "--help exits 0 and documents the main flags" {
  run -0 --separate-stderr bounded 10 "${THREADSIM}" --help

  local flag
  for flag in --jobs --delay-ms --fail-job --timeout-ms --op --key --aad-len --corrupt-tag-job; do
    assert_line --regexp "^ +(-[a-zA-Z],)?${flag}( |$)"
  done
  # Ranges as a user writes them, not CLI11's 0.000000 - 60000.000000.
  assert_line --regexp '^ +--delay-ms FLOAT:0\.\.60000='
  refute_output --partial '0.000000'
  assert_output --partial '70 an internal error'
  assert_line --regexp '^ +--op OP:xor\|not\|aes-256-gcm-encrypt\|aes-256-gcm-decrypt=xor$'
  assert_line --regexp '^ +--key HEX +AES-GCM: the AES-256 key, 64 hex digits'
  with_stderr assert_output ''
}

@test "--log-level warn prints no info lines" {
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --jobs 4 --delay-ms 5 --log-level warn

  assert_summary 4 4 0
  with_stderr refute_line --partial '[info]'
  with_stderr refute_line --partial '[debug]'
}

@test "--payload 100000 verifies and shortens the hex preview" {
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --jobs 2 --delay-ms 5 --payload 100000

  assert_summary 2 2 0
  with_stderr assert_line --regexp '\] job 0: done, verified: .*\(100000 bytes\) -> .*\(100000 bytes\)$'
  with_stderr assert_line --regexp '\] job 1: done, verified: .*\(100000 bytes\) -> .*\(100000 bytes\)$'
  # A full hex dump would be 300000 characters a line.
  local -r longest=$(stderr_longest_line)
  assert [ "${longest}" -lt 400 ]
}

@test "--spurious-resumes: every job is resumed early, pauses again, and verifies" {
  # The device takes 500 ms, so each early resume surely finds nothing signalled.
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --jobs 4 --delay-ms 500 --spurious-resumes --json

  assert_json '.jobs == 4 and .ok == 4 and .failed == 0'
  local i
  for ((i = 0; i < 4; i++)); do
    with_stderr assert_line --partial "job ${i}: resuming it spuriously"
  done
  with_stderr assert_line --regexp 'event loop: 4 spurious resume\(s\) were tolerated'
}

@test "4096 jobs of 500 ms run on device threads + a few, not a thread per job" {
  local -r device_threads=3
  start_bounded threadsim 120 "${THREADSIM}" --jobs 4096 --delay-ms 500 --device-threads "${device_threads}" --json
  local pid
  pid=$(child_pid "${STARTED_PID}")

  # Sample its thread count until it exits (bounded: 60 s).
  local -r deadline=$(($(now_us) + 60000000))
  local max=0 samples=0 threads
  while pid_alive "${pid}" && (($(now_us) < deadline)); do
    threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/${pid}/status" 2>/dev/null) || break
    [[ -n ${threads} ]] || break
    ((samples += 1))
    if ((threads > max)); then max=${threads}; fi
    sleep 0.05
  done
  local status=0
  wait "${STARTED_PID}" || status=$?

  assert_equal "${status}" 0
  assert [ "${samples}" -ge 5 ]
  # The main thread and the device threads were seen (the sampling worked) ...
  assert [ "${max}" -ge $((device_threads + 1)) ]
  # ... and never more than a few beyond them, for 4096 jobs.
  assert [ "${max}" -le $((device_threads + 3)) ]
  output=$(<"${BATS_TEST_TMPDIR}/threadsim.out")
  assert_json '.jobs == 4096 and .ok == 4096 and .failed == 0'
}

@test "65536 jobs with no device delay all verify" {
  run -0 --separate-stderr bounded 150 "${THREADSIM}" --jobs 65536 --delay-ms 0 --json

  assert_json '.jobs == 65536 and .ok == 65536 and .failed == 0 and .pending == 0'
  # Per-job lines stop after the first few jobs: stderr stays readable.
  assert [ "$(stderr_count '')" -lt 1000 ]
}

@test "valgrind memcheck: no errors, no definite leaks" {
  run -0 --separate-stderr bounded 300 valgrind --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite "${THREADSIM}" --jobs 8 --delay-ms 10

  assert_summary 8 8 0
  with_stderr assert_line --regexp '^==[0-9]+== ERROR SUMMARY: 0 errors from 0 contexts'
}

@test "valgrind memcheck: AES-GCM encrypt and decrypt (with a failing tag): no errors, no definite leaks" {
  local op
  for op in aes-256-gcm-encrypt aes-256-gcm-decrypt; do
    run -1 --separate-stderr bounded 300 valgrind --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite "${THREADSIM}" --op "${op}" --jobs 4 --delay-ms 10 --payload 100 \
      --aad-len 13 --corrupt-tag-job 1

    assert_summary 4 3 1
    with_stderr assert_line --regexp '^==[0-9]+== ERROR SUMMARY: 0 errors from 0 contexts'
  done
}

# ---------------------------------------------------------------------------
# AES-256-GCM on the device threads (issue 9): every result is verified in
# the job's own thread with OpenSSL EVP, independently of the device.

readonly GCM_OPS=(aes-256-gcm-encrypt aes-256-gcm-decrypt)

# assert_gcm_verifies OP JOBS ARGS...: a run of JOBS jobs of --op OP (and
# ARGS) exits 0 with every job verified.
assert_gcm_verifies() {
  local -r op=$1 jobs=$2
  shift 2
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --op "${op}" --jobs "${jobs}" --delay-ms 1 --json "$@"
  assert_json ".jobs == ${jobs} and .ok == ${jobs} and .failed == 0 and .pending == 0"
  assert_equal "$(stderr_count '\] job [0-9]+: done, verified: ')" "${jobs}"
}

# verified_results: what follows "done, verified: " in each job line of the
# last run's stderr ("<input> -> <output> (tag ...)"), one a line.
verified_results() {
  sed -nE 's/.*\] job [0-9]+: done, verified: //p' <<<"${stderr-}"
}

# The sizes of issue 9: empty (--message '': GCM spec test case 13), around
# one AES block, a page, a TLS record (16 KiB + 16) and threadsim's maximum
# (1 MiB).
@test "AES-GCM encrypt and decrypt verify at 0, 1, 15, 16, 17, 4096, 16400 bytes and the 1 MiB maximum" {
  local op size
  for op in "${GCM_OPS[@]}"; do
    assert_gcm_verifies "${op}" 4 --message ''
    assert_json ".op == \"${op}\""
    with_stderr assert_line --regexp '\] job 3: done, verified: \(0 bytes\).* -> \(0 bytes\)'
    for size in 1 15 16 17 4096 16400; do
      assert_gcm_verifies "${op}" 4 --payload "${size}"
    done
    assert_gcm_verifies "${op}" 2 --payload 1048576
    with_stderr assert_line --regexp '\] job 1: done, verified: .*\(1048576 bytes\).* -> .*\(1048576 bytes\)'
  done
  assert_gcm_verifies aes-256-gcm-encrypt 1 --message ''
  with_stderr assert_line --regexp '\] job 0: done, verified: \(0 bytes\) -> \(0 bytes\) \(tag [0-9a-f]{32}\)$'
}

@test "AES-GCM encrypt and decrypt verify with AAD of 0, 5, 13, 32 and 64 bytes" {
  local op aad
  for op in "${GCM_OPS[@]}"; do
    for aad in 0 5 13 32 64; do
      assert_gcm_verifies "${op}" 4 --payload 17 --aad-len "${aad}"
      with_stderr assert_line --regexp "AES-256-GCM: key random for this run, ${aad} byte\(s\) of AAD per job"
    done
  done
}

@test "AES-GCM --corrupt-tag-job 2 of 5: that job alone fails with 'auth failed', the others verify, exit 1" {
  local op
  for op in "${GCM_OPS[@]}"; do
    run -1 --separate-stderr bounded 60 "${THREADSIM}" --op "${op}" --jobs 5 --corrupt-tag-job 2 --delay-ms 10 \
      --aad-len 13 --json

    assert_json '.jobs == 5 and .ok == 4 and .failed == 1 and .pending == 0'
    # Decrypt: the device reports the status; encrypt: the job's own check finds it.
    if [[ ${op} == aes-256-gcm-decrypt ]]; then
      with_stderr assert_line --regexp '\[error\] job 2: FAILED: auth failed: the device found that the tag does not'
    else
      with_stderr assert_line --regexp "\[error\] job 2: FAILED: auth failed: the device's ciphertext and tag do not"
    fi
    assert_equal "$(stderr_count 'FAILED')" 1
    assert_equal "$(stderr_count '\] job [0-9]+: done, verified: ')" 4
    with_stderr refute_line --regexp '\] job 2: done'
  done
}

@test "AES-GCM with --fail-job and --corrupt-tag-job on other jobs: two failures, each its own, exit 1" {
  run -1 --separate-stderr bounded 60 "${THREADSIM}" --op aes-256-gcm-decrypt --jobs 6 --fail-job 1 \
    --corrupt-tag-job 4 --delay-ms 5 --json

  assert_json '.jobs == 6 and .ok == 4 and .failed == 2'
  with_stderr assert_line --regexp '\[error\] job 1: FAILED: the device reported an error'
  with_stderr assert_line --regexp '\[error\] job 4: FAILED: auth failed: '
}

@test "AES-GCM: each job has its own IV (the same message, 4 ciphertexts), and so has each run under one --key" {
  local -r key=feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --op aes-256-gcm-encrypt --jobs 4 --delay-ms 1 --key "${key}"
  assert_summary 4 4 0
  with_stderr assert_line --partial 'AES-256-GCM: key from --key'
  # "ASYNC-OK" (the default --message) in every job; ciphertext and tag differ.
  local first
  first=$(verified_results)
  assert_equal "$(sort -u <<<"${first}" | wc -l)" 4
  assert_equal "$(grep -c '^41 53 59 4e 43 2d 4f 4b -> ' <<<"${first}")" 4

  run -0 --separate-stderr bounded 60 "${THREADSIM}" --op aes-256-gcm-encrypt --jobs 4 --delay-ms 1 --key "${key}"
  local second
  second=$(verified_results)
  assert_equal "$(sort -u <<<"${first}"$'\n'"${second}" | wc -l)" 8
}

@test "AES-GCM: a random key is shown at debug level only; a --key never" {
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --op aes-256-gcm-decrypt --jobs 2 --delay-ms 1
  with_stderr refute_line --partial 'random key:'

  run -0 --separate-stderr bounded 60 "${THREADSIM}" --op aes-256-gcm-decrypt --jobs 2 --delay-ms 1 --log-level debug
  with_stderr assert_line --regexp "\[debug\] AES-256-GCM: this run's random key: [0-9a-f]{64}$"

  local -r key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  run -0 --separate-stderr bounded 60 "${THREADSIM}" --op aes-256-gcm-encrypt --jobs 2 --delay-ms 1 --log-level debug \
    --key "${key}"
  with_stderr refute_output --partial "${key}"
}

@test "bad AES-GCM flags: --key of the wrong length or not hex, an unknown --op (exit 2, one clear line)" {
  assert_usage_error "--key: expected 64 hex digits \(a 32-byte AES-256 key\), got 6 characters$" \
    --op aes-256-gcm-encrypt --key abcdef
  local -r not_hex=feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f946730830g
  assert_usage_error "--key: expected 64 hex digits \(a 32-byte AES-256 key\): character 64 is not a hex digit$" \
    --op aes-256-gcm-decrypt --key "${not_hex}"
  # The refused text may be a real key with a typo: it is not echoed.
  with_stderr refute_output --partial "${not_hex}"
  assert_usage_error "--key: expected 64 hex digits .*got 66 characters$" \
    --op aes-256-gcm-decrypt --key "${not_hex%g}000"
  assert_usage_error "--op: 'aes-128-gcm' is not an operation: xor, not, aes-256-gcm-encrypt or aes-256-gcm-decrypt$" \
    --op aes-128-gcm
  assert_usage_error "--op: 'XOR' is not an operation" --op XOR
}

@test "bad AES-GCM flags: --key, --aad-len and --corrupt-tag-job need an AES-GCM --op; an empty --message too" {
  local -r key=feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308
  local -r only_gcm='applies only to --op aes-256-gcm-encrypt or aes-256-gcm-decrypt'
  assert_usage_error "--key: ${only_gcm} \(this run's --op is xor\)$" --key "${key}"
  assert_usage_error "--aad-len: ${only_gcm} \(this run's --op is not\)$" --op not --aad-len 5
  assert_usage_error "--corrupt-tag-job: applies only to --op aes-256-gcm" --corrupt-tag-job 0
  assert_usage_error "--message: an empty message is only for --op aes-256-gcm-encrypt or aes-256-gcm-decrypt" \
    --message ''
  assert_usage_error "--payload: '0' is not an integer in 1\.\.1048576$" --op aes-256-gcm-encrypt --payload 0
  assert_usage_error "--corrupt-tag-job: job 9 does not exist: jobs are 0\.\.2$" \
    --op aes-256-gcm-decrypt --corrupt-tag-job 9 --jobs 3
}

@test "--json with a bad --key: one JSON line on stdout with the error and exit code 2" {
  run -2 --separate-stderr bounded 10 "${THREADSIM}" --json --op aes-256-gcm-encrypt --key 00
  assert_equal "${#lines[@]}" 1
  assert_json '.program == "threadsim" and .exit_code == 2 and (.error | startswith("--key: expected 64 hex digits"))'
}
