#!/usr/bin/env bash
# The one command that checks everything on a fresh Debian 12 machine (as
# root): dependencies, hugepages, the release build, then every CTest test
# (unit tests and the Bats suites). CI runs exactly this (.ci/run).
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly PRESET=release

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [--quick] [-R REGEX] [--help] [-- CTEST_ARGS...]

Runs, stopping at the first failure:
  1. scripts/install-deps.sh        missing Debian packages (apt-get, as root)
  2. scripts/setup-hugepages.sh     2 MiB hugepages + hugetlbfs for DPDK
  3. scripts/build.sh ${PRESET}        build/${PRESET}
  4. ctest --preset ${PRESET}          unit tests + Bats (bats.<file>), output on failure

  --quick        skip the slow sanitizer builds (there are none in this script yet,
                 so today it changes nothing)
  -R REGEX       run only the tests whose name matches REGEX (ctest -R),
                 e.g. -R '^bats\\.' or -R threadsim
  -- ARGS...     pass ARGS on to ctest as they are

Exits non-zero when any step or test fails; the last lines are ctest's summary.
EOF
}

main() {
  local -a ctest_args=()
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --quick) ;; # reserved: nothing slow to skip yet
      -R | --tests-regex)
        (($# >= 2)) || usage_error "$1 needs a regular expression"
        ctest_args+=(--tests-regex "$2")
        shift
        ;;
      -R?*) ctest_args+=(--tests-regex "${1#-R}") ;;
      --tests-regex=*) ctest_args+=(--tests-regex "${1#--tests-regex=}") ;;
      --)
        shift
        ctest_args+=("$@")
        break
        ;;
      *) usage_error "unexpected argument: $1" ;;
    esac
    shift
  done

  cd "$(repo_root)"
  log "step 1/4: dependencies"
  "${SCRIPT_DIR}/install-deps.sh"
  log "step 2/4: hugepages"
  "${SCRIPT_DIR}/setup-hugepages.sh"
  log "step 3/4: build (${PRESET})"
  "${SCRIPT_DIR}/build.sh" "${PRESET}"
  log "step 4/4: tests (ctest --preset ${PRESET})"
  # --no-tests=error: a -R that matches nothing is a failure, not a green run.
  exec ctest --preset "${PRESET}" --no-tests=error "${ctest_args[@]}"
}

main "$@"
