#!/usr/bin/env bash
# The walkthrough for a person: installs what is missing, builds, then runs
# one demo with short notes on what it shows and which seed it comes from.
# The notes go to stderr with the program's logs; stdout is the program's
# result alone (so `run-demo.sh threadsim --json | jq` works).
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly PRESET=release
# Each mode is a demo_<mode> function below.
readonly MODES=(threadsim)
readonly DEFAULT_MODE=threadsim

BUILD_LOG=""

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [MODE] [PROGRAM FLAGS...]
       ${SCRIPT_NAME} --help

Installs missing Debian packages (scripts/install-deps.sh), builds the ${PRESET}
preset quietly (scripts/build.sh; its log is shown only if it fails), then runs
the demo of MODE with the flags given, explaining what it shows.

MODE (default: ${DEFAULT_MODE}):
  threadsim   OpenSSL ASYNC jobs offloaded to a simulated device made of threads
              (seed 000, the first program)

Examples:
  ${SCRIPT_NAME}
  ${SCRIPT_NAME} threadsim --jobs 16 --delay-ms 20
  ${SCRIPT_NAME} threadsim --jobs 5 --fail-job 2
  ${SCRIPT_NAME} threadsim --help          (the program's own flags)

Exits with the program's exit code: 0 every job verified, 1 a job failed,
2 bad flags (or an unknown MODE), 3 environment, 4 --timeout-ms expired.
EOF
}

cleanup() {
  [[ -z ${BUILD_LOG} ]] || rm -f "${BUILD_LOG}"
}

# section TITLE [LINE...]: a headed block of notes on stderr.
section() {
  printf '\n== %s ==\n' "$1" >&2
  shift
  (($# == 0)) || printf '   %s\n' "$@" >&2
}

# prepare TARGET: installs what is missing and builds TARGET.
prepare() {
  section "Step 1: dependencies" \
    "The Debian packages this project builds with; only missing ones are installed."
  "${SCRIPT_DIR}/install-deps.sh"

  section "Step 2: build (${PRESET})" \
    "cmake --preset ${PRESET} into build/${PRESET}, only the program the demo runs; quiet unless it fails."
  BUILD_LOG=$(mktemp -t offload-demo-build.XXXXXX)
  if ! "${SCRIPT_DIR}/build.sh" "${PRESET}" --target "$1" >"${BUILD_LOG}" 2>&1; then
    cat "${BUILD_LOG}" >&2
    die 1 "the build failed (its output is above)"
  fi
  log "built $1 in build/${PRESET}"
}

describe_exit() {
  case $1 in
    0) echo "every job was verified" ;;
    1) echo "some job failed (its FAILED line is in the log above)" ;;
    2) echo "bad flags (see the error line above, or --help)" ;;
    3) echo "the environment is missing something (see the error line above)" ;;
    4) echo "--timeout-ms expired; the log lists the jobs still waiting" ;;
    *) echo "unexpected exit code" ;;
  esac
}

# run_program BINARY [FLAGS...]: runs it, reports, and exits with its code.
run_program() {
  local -r binary=$1
  shift
  [[ -x ${binary} ]] || die "${EXIT_ENVIRONMENT}" "${binary} was not built"
  printf '\n$ %s\n' "${binary#"$(repo_root)/"} $*" >&2
  local code=0
  "${binary}" "$@" || code=$?
  section "Result" "exit code ${code}: $(describe_exit "${code}")"
  exit "${code}"
}

demo_threadsim() {
  prepare offload-threadsim
  section "Step 3: offload-threadsim — OpenSSL ASYNC jobs + a simulated device (seed 000)" \
    "Seed 000's first program: each job is an OpenSSL ASYNC_JOB that hands its payload to a" \
    "\"device\" (here a pool of threads with a set latency) and pauses (ASYNC_pause_job)." \
    "The device signals the job's wait fd, an eventfd kept in its ASYNC_WAIT_CTX; an epoll" \
    "loop resumes the job, which checks the result (decrypting it gives the input back)." \
    "While jobs are paused the main thread is free, so N jobs overlap on the device." \
    "" \
    "On stderr, per job:  submitted ... pausing  ->  resumed: the device signalled fd F" \
    "                     ->  done, verified: <input> -> <output>" \
    "On stdout: the summary (jobs ok/failed, wall time, latency percentiles; --json for JSON)." \
    "" \
    "Try: --jobs 64 --delay-ms 200 (about 0.2 s, not 64 x 0.2 s), --fail-job 2," \
    "     --timeout-ms 300 --delay-ms 5000, --spurious-resumes (a resume with nothing" \
    "     signalled: the job pauses again, as seed 000's job does on EAGAIN)."
  run_program "$(repo_root)/build/${PRESET}/apps/threadsim/offload-threadsim" "$@"
}

main() {
  local mode=${DEFAULT_MODE}
  if (($# > 0)); then
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      -*) ;; # program flags for the default mode
      *)
        mode=$1
        shift
        ;;
    esac
  fi
  local known
  printf -v known '%s ' "${MODES[@]}"
  [[ " ${known}" == *" ${mode} "* ]] || usage_error "unknown mode '${mode}' (modes: ${known% })"

  trap cleanup EXIT
  "demo_${mode}" "$@"
}

main "$@"
