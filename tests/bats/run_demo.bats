#!/usr/bin/env bats
# scripts/run-demo.sh end to end: deps, quiet build, then the two-process
# DPDK demo (the default mode), the threadsim demo or the provider demo.

load 'test_helper/common-setup'

DEMO=${REPO_ROOT}/scripts/run-demo.sh

setup_file() {
  # The demo builds the release preset: seconds when it is up to date, a few
  # minutes from scratch (e.g. when CTest runs from another preset's tree).
  export BATS_TEST_TIMEOUT=580
  common_setup_file
}

teardown() {
  common_teardown
}

# demo_instance: the instance (demo-<pid>) the demo named on the last run's
# stderr, in DEMO_INSTANCE, registered so that teardown removes what it left.
demo_instance() {
  # shellcheck disable=SC2154 # stderr is set by `run --separate-stderr`
  [[ ${stderr} =~ --instance\ (demo-[0-9]+) ]] || {
    echo "the demo named no instance" >&2
    return 1
  }
  DEMO_INSTANCE=${BASH_REMATCH[1]}
  register_instance "${DEMO_INSTANCE}"
}

@test "run-demo.sh --jobs 16 --delay-ms 20 (default mode): two processes, 16 jobs verified, nothing left" {
  run -0 --separate-stderr bounded 560 "${DEMO}" --jobs 16 --delay-ms 20

  # stdout is the frontend's result alone.
  assert_line --index 0 --regexp '^summary: 16 jobs: 16 ok, 0 failed '
  refute_output --partial '=='
  refute_output --partial '[backend]'
  # stderr: the headed walkthrough, naming the seeds, in order.
  with_stderr assert_line --regexp '^== Step 1: dependencies ==$'
  with_stderr assert_line --regexp '^== Step 2: hugepages ==$'
  with_stderr assert_line --regexp '^== Step 3: build \(release\) ==$'
  with_stderr assert_line --regexp '^== Step 4: offload-backend, the DPDK primary.*\(seed 000, second program\) ==$'
  with_stderr assert_line --regexp '^== Step 5: offload-frontend, the DPDK secondary.*\(seeds 004, 002/003\) ==$'
  with_stderr assert_line --regexp '^== Step 6: stop the backend'
  with_stderr assert_line --partial 'common.h'
  with_stderr assert_line --partial 'ASYNC_pause_job'
  # --delay-ms went to the backend, --jobs to the frontend.
  with_stderr assert_line --regexp '^\$ build/release/apps/backend/offload-backend --instance demo-[0-9]+ --delay-ms 20 '
  with_stderr assert_line --regexp '^\$ build/release/apps/frontend/offload-frontend --instance demo-[0-9]+ --jobs 16$'
  with_stderr assert_line --regexp "\[backend\] \[info\] ready: instance 'demo-[0-9]+'"
  local i
  for ((i = 0; i < 16; i++)); do
    with_stderr assert_line --regexp "\[frontend\] \[info\] job ${i}: verified: "
  done
  with_stderr assert_line --partial '[backend] [info] stopped cleanly'
  with_stderr assert_line --regexp '^ +exit code 0 \(the frontend.s\): every job was verified$'

  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

@test "run-demo.sh --json: stdout is the frontend's JSON alone; --delay-ms 200 reaches the backend" {
  run -0 --separate-stderr bounded 560 "${DEMO}" --jobs 8 --delay-ms 200 --json

  assert_equal "${#lines[@]}" 1
  assert_json '.program == "frontend" and .jobs == 8 and .ok == 8 and .failed == 0'
  assert_json '.latency_us.p50 >= 190000 and .wall_s < 3'

  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

@test "run-demo.sh exits with the frontend's code: 4 when --timeout-ms expires" {
  run -4 --separate-stderr bounded 560 "${DEMO}" --jobs 2 --delay-ms 5000 --timeout-ms 300

  assert_line --index 0 --regexp '^summary: 2 jobs: 0 ok, '
  with_stderr assert_line --regexp '^ +exit code 4 \(the frontend.s\): --timeout-ms expired'
  # The backend still stopped cleanly.
  with_stderr assert_line --partial '[backend] [info] stopped cleanly'

  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

@test "run-demo.sh exits 2 for a bad frontend flag and for a bad backend flag, leaving nothing" {
  run -2 --separate-stderr bounded 560 "${DEMO}" --jobs 0
  with_stderr assert_line --regexp '^offload-frontend: error: --jobs'
  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"

  run -2 --separate-stderr bounded 560 "${DEMO}" --delay-ms -1
  # The backend's log, indented under the demo's notes.
  with_stderr assert_line --regexp '^ +\| offload-backend: error: --delay-ms'
  with_stderr refute_line --regexp '^== Step 5'
  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

# The frontend copied any --message into its 4096-byte granted buffer; the
# overrun crashed the backend at stop.
@test "run-demo.sh --buffer-size 4096 --message of 5000 bytes exits 2 naming the 4096-byte bound, leaving nothing" {
  run -2 --separate-stderr bounded 560 "${DEMO}" --jobs 1 --buffer-size 4096 --message "$(head -c 5000 /dev/zero | tr '\0' A)"
  with_stderr assert_line --partial "offload-frontend: error: a message of 5000 bytes does not fit the backend's 4096-byte buffers"
  with_stderr assert_line --partial '[backend] [info] stopped cleanly'
  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

@test "run-demo.sh --op aes-256-gcm-encrypt: the walkthrough with real ciphertext, each result verified with EVP" {
  run -0 --separate-stderr bounded 560 "${DEMO}" --op aes-256-gcm-encrypt --jobs 4 --aad-len 13 --json
  assert_json '.jobs == 4 and .ok == 4 and .failed == 0 and .op == "aes-256-gcm-encrypt"'
  assert_equal "$(stderr_count '\] job [0-9]+: verified: ')" 4
  with_stderr assert_line --regexp '\[backend\] \[info\] crypto device: crypto_aesni_mb'
  with_stderr assert_line --regexp '\[backend\] \[info\] frontend 0: registered AES-256 key 0'
  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

@test "run-demo.sh refuses --instance (it picks its own) with exit 2 before building" {
  run -2 --separate-stderr bounded 30 "${DEMO}" --jobs 4 --instance mine

  assert_output ''
  with_stderr assert_line --partial 'error: --instance: the demo runs an instance of its own'
  with_stderr refute_line --partial '== Step'
}

# interrupt_demo SIGNAL STATUS: SIGNAL to the demo script (only the script,
# not its children) while its jobs wait on a 60 s device: it exits STATUS
# within seconds, having stopped both programs and removed their files.
interrupt_demo() {
  local -r signal=$1 expected=$2
  start_bounded demo 560 "${DEMO}" --jobs 4 --delay-ms 60000
  local -r timeout_pid=${STARTED_PID} log=${BATS_TEST_TMPDIR}/demo.log
  local -r script_pid=$(child_pid "${timeout_pid}")
  register_instance "demo-${script_pid}"
  # Mid-run: every job is paused, waiting for the device.
  wait_for_line 540 "${log}" '\] job 3: enqueued request .* pausing'

  kill "-${signal}" "${script_pid}"
  reap_tracked 20 "${timeout_pid}" || fail "the demo still runs 20 s after SIG${signal}"
  assert_equal "${EXIT_STATUS}" "${expected}"
  grep -q "interrupted by SIG${signal}: stopping what the demo started" "${log}" ||
    fail "no interruption notice in ${log}"
  grep -q 'stopped offload-backend (pid [0-9]*, exit status 0)' "${log}" ||
    fail "the backend did not stop cleanly"
  assert_no_leftovers "demo-${script_pid}"
}

@test "Ctrl-C (SIGINT to the script) mid-run: exit 130, no process, hugepage file or runtime dir left" {
  interrupt_demo INT 130
}

@test "SIGTERM to the script mid-run: exit 143, nothing left" {
  interrupt_demo TERM 143
}

@test "SIGHUP to the script mid-run (its terminal closed): exit 129, nothing left" {
  interrupt_demo HUP 129
}

@test "run-demo.sh threadsim --jobs 4 --delay-ms 5 verifies every job and exits 0" {
  run -0 --separate-stderr bounded 560 "${DEMO}" threadsim --jobs 4 --delay-ms 5

  # stdout is the program's result alone.
  assert_line --index 0 --regexp '^summary: 4 jobs: 4 ok, 0 failed '
  refute_output --partial '=='
  # stderr: the headed notes, naming the seed, then the program's log.
  with_stderr assert_line --regexp '^== Step 3: offload-threadsim.*\(seed 000\) ==$'
  local i
  for ((i = 0; i < 4; i++)); do
    with_stderr assert_line --regexp "\] job ${i}: done, verified: "
  done
  with_stderr assert_line --regexp '^ +exit code 0: every job was verified$'
}

@test "run-demo.sh threadsim passes a failing job's exit code through" {
  run -1 --separate-stderr bounded 560 "${DEMO}" threadsim --jobs 3 --delay-ms 1 --fail-job 1

  assert_line --index 0 --regexp '^summary: 3 jobs: 2 ok, 1 failed '
  with_stderr assert_line --regexp '^ +exit code 1: '
}

@test "run-demo.sh with an unknown mode exits 2 before building anything" {
  run -2 --separate-stderr bounded 30 "${DEMO}" warp-drive

  assert_output ''
  with_stderr assert_line --regexp "error: unknown mode 'warp-drive' \(modes: two-process threadsim provider\)"
  with_stderr refute_line --partial '== Step'
}

@test "run-demo.sh --help documents the three modes and how the flags are split" {
  run -0 --separate-stderr bounded 30 "${DEMO}" --help

  assert_line --partial 'two-process'
  assert_line --partial 'threadsim'
  assert_line --regexp '^  provider +the system.s unmodified openssl'
  assert_line --partial 'openssl speed -elapsed -seconds 2 -aead -async_jobs 16 -evp aes-256-gcm -bytes 1024'
  assert_line --partial 'to offload-backend (the device):'
  assert_line --partial '--delay-ms D'
  assert_line --partial 'to offload-frontend (the jobs): every other flag'
}

# The provider demo: the system's openssl, unmodified, through the provider,
# between a backend the demo starts and stops.
@test "run-demo.sh provider: openssl speed and a TLS 1.3 exchange through the provider, counted by the backend; nothing left" {
  run -0 --separate-stderr bounded 560 "${DEMO}" provider --delay-ms 0.05

  # stdout is speed's result table alone.
  assert_line --regexp '^AES-256-GCM +[0-9]+\.[0-9]+k$'
  refute_output --partial '=='
  refute_output --partial '[offload-provider]'
  # stderr: the headed walkthrough, in order.
  with_stderr assert_line --regexp '^== Step 3: build \(release\) ==$'
  with_stderr assert_line --partial 'offload-backend offload-frontend offload_provider'
  with_stderr assert_line --regexp '^== Step 4: offload-backend, the device'
  with_stderr assert_line --regexp '^== Step 5: openssl speed through the provider'
  with_stderr assert_line --regexp '^== Step 6: TLS 1\.3 through the provider: s_server -async <-> s_client'
  with_stderr assert_line --regexp '^== Step 7: stop the backend'
  # The notes name what makes it work.
  with_stderr assert_line --partial 'default_properties = ?provider=offload'
  with_stderr assert_line --partial 'ASYNC_WAIT_CTX_set_wait_fd'
  with_stderr assert_line --partial 'ASYNC_pause_job'
  # --delay-ms went to the backend; the command lines a person types.
  with_stderr assert_line --regexp '^\$ build/release/apps/backend/offload-backend --instance demo-[0-9]+ --delay-ms 0\.05 '
  # shellcheck disable=SC2016 # $PWD is shown as typed, not expanded
  local -r env_re='OPENSSL_MODULES=\$PWD/build/release/provider OPENSSL_CONF=\$PWD/provider/offload-openssl\.cnf OFFLOAD_INSTANCE=demo-[0-9]+'
  with_stderr assert_line --regexp "^\\\$ ${env_re} OFFLOAD_LOG_LEVEL=info \\\\$"
  with_stderr assert_line '    openssl speed -elapsed -seconds 2 -aead -async_jobs 16 -evp aes-256-gcm -bytes 1024'
  with_stderr assert_line --regexp '^    openssl s_server -async -accept 127\.0\.0\.1:0 -naccept 1 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 '
  with_stderr assert_line --regexp '^    openssl s_client -connect 127\.0\.0\.1:[0-9]+ -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 '

  # speed: through the provider, on the device, none failed; the backend
  # served at least as many requests as speed counted operations.
  with_stderr assert_line --regexp "\[offload-provider\] \[info\] attached to the backend of instance 'demo-[0-9]+'"
  with_stderr assert_line --regexp "\[offload-provider\] \[info\] offload provider, instance 'demo-[0-9]+': [1-9][0-9]* message\(s\) on the device, 0 in software, 0 failed,"
  [[ ${stderr} =~ speed\ counted\ ([0-9]+)\ AES-256-GCM\ operations\;\ the\ backend\ served\ ([0-9]+)\ request ]] ||
    fail "no line with speed's count and the backend's"
  local -r ops=${BASH_REMATCH[1]} served=${BASH_REMATCH[2]}
  ((ops > 0 && served >= ops)) || fail "speed counted ${ops} operations, the backend served ${served}"

  # TLS: each message arrived intact; the backend served the records.
  with_stderr assert_line --regexp '^run-demo\.sh: s_server printed it, intact: hello over TLS 1\.3 from s_client \(pid [0-9]+\)'
  with_stderr assert_line --regexp '^run-demo\.sh: s_client printed it, intact: hello back from s_server \(pid [0-9]+\)$'
  with_stderr assert_line --regexp '^run-demo\.sh: s_server: CIPHER is TLS_AES_256_GCM_SHA384; its job paused for the device [1-9][0-9]* time'
  [[ ${stderr} =~ the\ backend\ served\ ([0-9]+)\ more\ request ]] || fail "no count of the TLS exchange's requests"
  ((BASH_REMATCH[1] > 4)) || fail "the backend served ${BASH_REMATCH[1]} request(s) for the TLS exchange"

  with_stderr assert_line --partial '[backend] [info] stopped cleanly'
  with_stderr assert_line --regexp '^ +exit code 0: openssl speed and the TLS 1\.3 exchange ran their AES-256-GCM on offload-backend$'
  demo_instance
  assert_no_leftovers "${DEMO_INSTANCE}"
}

@test "run-demo.sh provider refuses a flag that is not the backend's with exit 2 before building" {
  run -2 --separate-stderr bounded 30 "${DEMO}" provider --jobs 4

  assert_output ''
  with_stderr assert_line --partial "error: provider: '--jobs' is not a backend flag"
  with_stderr refute_line --partial '== Step'
}
