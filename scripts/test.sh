#!/usr/bin/env bash
# The one command that checks everything on a fresh Debian 12 machine (as
# root): dependencies, hugepages, then four stages, each a CMake preset built
# into build/<preset> and its CTest tests run (ctest --preset <preset>):
#   release  unit tests + the Bats suites (bats.<file>)
#   asan     the same against the ASan+UBSan build, sanitizer reports checked
#            (not run_demo.bats: run-demo.sh runs the release build)
#   tsan     offload-threadsim runs under ThreadSanitizer (threadsim only is built)
#   fuzz     the libFuzzer targets of tests/fuzz, a bounded time each (clang 14)
# Every stage runs even when an earlier one failed; the output ends with a
# table of the stages and one "N passed, N failed" line over all of them.
# CI runs exactly this (.ci/run).
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly STAGES=(release asan tsan fuzz)
readonly SANITIZER_STAGES=" asan tsan fuzz "
readonly LOG_DIR=build/test-logs
# Tests (Bats files) run two at a time: most of a Bats test is waiting (a
# bound, a device delay, DPDK's start-up), and each uses its own instance.
readonly DEFAULT_TEST_JOBS=2

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [--quick] [-j N] [-R REGEX] [--help] [-- CTEST_ARGS...]

Runs:
  scripts/install-deps.sh, scripts/setup-hugepages.sh   (root: apt-get, sysctl, mount)
  then, for each stage, scripts/build.sh PRESET and ctest --preset PRESET:
    release  unit tests + Bats suites (bats.<file>)
    asan     unit tests + Bats suites against build/asan/apps (ASan + UBSan);
             asan.no_reports fails on any sanitizer report of any process
             (run_demo.bats is the release stage's: the demo runs that build)
    tsan     offload-threadsim under ThreadSanitizer (tsan.threadsim.*)
    fuzz     libFuzzer targets, 20 s each (fuzz.*), and the seed corpus check
  Each stage runs even when one before it failed. ctest's output is in
  ${LOG_DIR}/<stage>.log as well.

  --quick        skip the asan, tsan and fuzz stages (ignored in CI, i.e. when
                 CI is set: CI always runs every stage)
  -j N           run N tests at a time in each stage (default ${DEFAULT_TEST_JOBS}; 1: one
                 after the other)
  -R REGEX       run only the tests whose name matches REGEX in each stage
                 (ctest -R), e.g. -R '^bats\\.' or -R threadsim
  -- ARGS...     pass ARGS on to every ctest as they are

The last line is "N passed, N failed": the tests of every stage that ran, a
build or setup step that failed counting as one failed test (its stage's tests
did not run). Exits 0 only when N failed is 0 and some test ran.
EOF
}

# True when running in CI (CI=true, as .ci/run's environment and most CI
# services set it).
in_ci() {
  [[ -n ${CI:-} && ${CI} != false && ${CI} != 0 ]]
}

# Stage results, in order: name, outcome text, passed, failed, build s, test s.
declare -a RESULT_NAME=() RESULT_TEXT=() RESULT_PASSED=() RESULT_FAILED=() RESULT_BUILD_S=() RESULT_TEST_S=()

record() {
  RESULT_NAME+=("$1")
  RESULT_TEXT+=("$2")
  RESULT_PASSED+=("$3")
  RESULT_FAILED+=("$4")
  RESULT_BUILD_S+=("$5")
  RESULT_TEST_S+=("$6")
}

# run_ctest PRESET LOG: ctest --preset PRESET (plus the user's filter and
# arguments), its output also in LOG; prints "PASSED FAILED" from ctest's
# summary line. A ctest that fails without a summary counts as one failure.
run_ctest() {
  local -r preset=$1 log=$2
  local rc=0
  ctest --preset "${preset}" --parallel "${TEST_JOBS}" --no-tests="${NO_TESTS}" "${CTEST_ARGS[@]}" 2>&1 |
    tee "${log}" >&2 || rc=$?
  local summary passed=0 failed=0
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "${log}" | tail -n 1) || true
  if [[ ${summary} =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=${BASH_REMATCH[1]}
    passed=$((BASH_REMATCH[2] - failed))
  fi
  # ctest failed but its summary shows no failure (e.g. "No tests were found"
  # with --no-tests=error, or an error before any test): one failure.
  if ((rc != 0 && failed == 0)); then
    failed=1
  fi
  echo "${passed} ${failed}"
}

# run_stage PRESET [BUILD_ARGS...]: builds PRESET, runs its tests, records.
run_stage() {
  local -r preset=$1
  shift
  local -r log=${LOG_DIR}/${preset}.log
  local started=${SECONDS}
  log "stage ${preset}: build (scripts/build.sh ${preset}${*:+ $*})"
  if ! "${SCRIPT_DIR}/build.sh" "${preset}" "$@" >&2; then
    record "${preset}" "build failed, tests not run" 0 1 $((SECONDS - started)) 0
    return 0
  fi
  local -r build_s=$((SECONDS - started))
  started=${SECONDS}
  log "stage ${preset}: tests (ctest --preset ${preset})"
  local counts
  counts=$(run_ctest "${preset}" "${log}")
  local -r passed=${counts% *} failed=${counts#* }
  local text="${passed} passed, ${failed} failed"
  ((failed == 0)) || text+=" (see ${log})"
  record "${preset}" "${text}" "${passed}" "${failed}" "${build_s}" $((SECONDS - started))
}

print_summary() {
  local i total_passed=0 total_failed=0
  printf '\n== %s: every stage ==\n' "${SCRIPT_NAME}"
  printf '%-8s %7s %7s  %s\n' stage build tests result
  for i in "${!RESULT_NAME[@]}"; do
    printf '%-8s %6ss %6ss  %s\n' "${RESULT_NAME[i]}" "${RESULT_BUILD_S[i]}" "${RESULT_TEST_S[i]}" "${RESULT_TEXT[i]}"
    total_passed=$((total_passed + RESULT_PASSED[i]))
    total_failed=$((total_failed + RESULT_FAILED[i]))
  done
  printf '%-8s %14ss\n' total "${SECONDS}"
  if ((total_passed + total_failed == 0)); then
    echo "no test ran (does -R match any test?)"
    total_failed=1
  fi
  printf '%d passed, %d failed\n' "${total_passed}" "${total_failed}"
  ((total_failed == 0))
}

main() {
  local quick=false
  CTEST_ARGS=()
  NO_TESTS=error
  TEST_JOBS=${DEFAULT_TEST_JOBS}
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --quick) quick=true ;;
      -j | --jobs)
        (($# >= 2)) && [[ $2 =~ ^[1-9][0-9]?$ ]] || usage_error "$1 needs a number of tests at a time (1-99)"
        TEST_JOBS=$2
        shift
        ;;
      -R | --tests-regex)
        (($# >= 2)) || usage_error "$1 needs a regular expression"
        CTEST_ARGS+=(--tests-regex "$2")
        shift
        ;;
      -R?*) CTEST_ARGS+=(--tests-regex "${1#-R}") ;;
      --tests-regex=*) CTEST_ARGS+=(--tests-regex "${1#--tests-regex=}") ;;
      --)
        shift
        CTEST_ARGS+=("$@")
        break
        ;;
      *) usage_error "unexpected argument: $1" ;;
    esac
    shift
  done
  # A filter may match nothing in some stage (-R threadsim in the fuzz tree):
  # that stage is then empty, not failed; print_summary still fails a run in
  # which no stage ran a test.
  ((${#CTEST_ARGS[@]} == 0)) || NO_TESTS=ignore
  if [[ ${quick} == true ]] && in_ci; then
    log "CI=${CI}: ignoring --quick, CI runs every stage"
    quick=false
  fi

  cd "$(repo_root)"
  mkdir -p "${LOG_DIR}"
  local started=${SECONDS}
  log "setup: dependencies"
  if ! "${SCRIPT_DIR}/install-deps.sh" >&2; then
    record setup "install-deps.sh failed: nothing built or tested" 0 1 $((SECONDS - started)) 0
    print_summary
    return 1
  fi
  log "setup: hugepages"
  if ! "${SCRIPT_DIR}/setup-hugepages.sh" >&2; then
    # The DPDK tests will fail and say why; the rest can still run.
    record setup "setup-hugepages.sh failed" 0 1 $((SECONDS - started)) 0
  else
    record setup "dependencies and hugepages ready" 0 0 $((SECONDS - started)) 0
  fi

  local stage
  for stage in "${STAGES[@]}"; do
    if [[ ${quick} == true && ${SANITIZER_STAGES} == *" ${stage} "* ]]; then
      record "${stage}" "skipped (--quick)" 0 0 0 0
      continue
    fi
    case ${stage} in
      # Only threadsim is run under TSan: the DPDK programs' shared-memory
      # hand-offs are across processes, which TSan cannot see.
      tsan) run_stage tsan --target offload-threadsim ;;
      # The fuzzers and the corpus check link offload_core alone: the DPDK
      # programs and the provider are the other stages' (a clang build of
      # them took minutes of the suite for nothing).
      fuzz) run_stage fuzz --target fuzz_request_validator --target fuzz_mp_messages --target fuzz_make_corpus ;;
      *) run_stage "${stage}" ;;
    esac
  done
  print_summary
}

main "$@"
