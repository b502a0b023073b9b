#!/usr/bin/env bats
# scripts/run-demo.sh end to end: deps, quiet build, the threadsim demo.

load 'test_helper/common-setup'

setup_file() {
  # The demo builds the release preset: seconds when it is up to date, a few
  # minutes from scratch (e.g. when CTest runs from another preset's tree).
  export BATS_TEST_TIMEOUT=580
  common_setup_file
}

teardown() {
  common_teardown
}

@test "run-demo.sh threadsim --jobs 4 --delay-ms 5 verifies every job and exits 0" {
  run -0 --separate-stderr bounded 560 "${REPO_ROOT}/scripts/run-demo.sh" threadsim --jobs 4 --delay-ms 5

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
  run -1 --separate-stderr bounded 560 "${REPO_ROOT}/scripts/run-demo.sh" threadsim --jobs 3 --delay-ms 1 --fail-job 1

  assert_line --index 0 --regexp '^summary: 3 jobs: 2 ok, 1 failed '
  with_stderr assert_line --regexp '^ +exit code 1: '
}

@test "run-demo.sh with an unknown mode exits 2 before building anything" {
  run -2 --separate-stderr bounded 30 "${REPO_ROOT}/scripts/run-demo.sh" warp-drive

  assert_output ''
  with_stderr assert_line --regexp "error: unknown mode 'warp-drive' \(modes: threadsim\)"
  with_stderr refute_line --partial '== Step'
}
