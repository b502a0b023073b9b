#!/usr/bin/env bash
# The walkthrough for a person: installs what is missing, builds, then runs
# one demo with short notes on what it shows and which seed it comes from.
# The notes go to stderr with the programs' logs; stdout is the program's
# result alone (so `run-demo.sh --json | jq` works).
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly PRESET=release
# Each mode is a demo_<mode> function below.
readonly MODES=(two-process threadsim provider)
readonly DEFAULT_MODE=two-process

# The backend's flags that the two-process demo passes on as they are, each
# with a value; every other flag goes to the frontend.
readonly BACKEND_FLAGS=(--delay-ms --delay-dist --delay-ms-min --delay-ms-max --seed
  --engines --queue-depth --pool-size --idle-sleep-us --buffer-size --crypto-dev)
# How long the backend may take to become ready, and to stop after SIGTERM.
readonly READY_TIMEOUT_S=30
readonly STOP_GRACE_S=10
# The provider demo: the backend's latency unless --delay-ms is given (a
# device in the tens of microseconds, as QAT's), and the bound on each step
# of the TLS exchange (a line to arrive, a program to end).
readonly PROVIDER_DEFAULT_DELAY_MS=0.1
readonly TLS_STEP_TIMEOUT_S=20

BUILD_LOG=""
STEP=0
WORK_DIR=""
INSTANCE=""
BACKEND_PID=""
FRONTEND_PID=""
# split_demo_flags' result.
DEMO_BACKEND_ARGS=()
DEMO_OTHER_ARGS=()
# The provider demo's openssl processes.
SPEED_PID=""
SERVER_PID=""
CLIENT_PID=""

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [two-process] [FLAGS...]    the two-process DPDK demo (the default)
       ${SCRIPT_NAME} threadsim [FLAGS...]      the one-process demo (threads as the device)
       ${SCRIPT_NAME} provider [BACKEND FLAGS...]  unmodified openssl through the provider
       ${SCRIPT_NAME} --help

Installs missing Debian packages (scripts/install-deps.sh), builds the ${PRESET}
preset quietly (scripts/build.sh; its log is shown only if it fails), then runs
the demo of MODE with the flags given, explaining what it shows.

MODE (default: ${DEFAULT_MODE}):
  two-process  offload-backend (DPDK primary, the simulated device) serving
               offload-frontend (DPDK secondary, the OpenSSL ASYNC jobs) over
               hugepage shared memory and rte_mp messages carrying eventfds
               (seed 000's second program, seeds 002/003/004)
  threadsim    OpenSSL ASYNC jobs offloaded to a simulated device made of threads
               (seed 000, the first program); FLAGS go to offload-threadsim
  provider     the system's unmodified openssl (OpenSSL 3) with the "offload" provider
               (build/${PRESET}/provider/offload.so, loaded by provider/offload-openssl.cnf):
               openssl speed -async_jobs 16 -evp aes-256-gcm, then a TLS 1.3 exchange
               (TLS_AES_256_GCM_SHA384) between s_server -async and s_client, their
               AES-256-GCM done by offload-backend

two-process: it also reserves hugepages (scripts/setup-hugepages.sh; without root
it prints the commands to run and exits 3), starts the backend on an instance of
its own (demo-<pid>), waits until it is ready, runs the frontend, stops the
backend, and leaves no process, hugepage file or /var/run/dpdk/<instance> behind,
also on failure or Ctrl-C. Its FLAGS are split between the two programs:
  to offload-backend (the device):
    --delay-ms D, --delay-dist fixed|uniform|exp, --delay-ms-min D, --delay-ms-max D,
    --seed N, --engines E, --queue-depth Q, --pool-size N, --idle-sleep-us U,
    --buffer-size BYTES, --crypto-dev crypto_aesni_mb|crypto_openssl|none
    --backend-lcore N        its --lcore
    --backend-log-level L    its --log-level (its log is shown when it stops)
  to offload-frontend (the jobs): every other flag, e.g.
    --jobs N, --inflight J --total N, --duration S, --notify eventfd|callback|coalesced,
    --message TEXT, --payload BYTES, --timeout-ms T, --json, --stats, --log-level L,
    --op not|xor|aes-256-gcm-encrypt|aes-256-gcm-decrypt, --key HEX, --aad-len N,
    --verify all|sample|none
  --instance is not accepted: the demo picks a fresh one so that it can clean up.
  The programs' own flags: build/${PRESET}/apps/backend/offload-backend --help,
  build/${PRESET}/apps/frontend/offload-frontend --help.

provider: the same set-up as two-process (hugepages, a backend on an instance of its
own, stopped and cleaned up at the end, also on failure or Ctrl-C); FLAGS are the
backend's ones above (--delay-ms defaults to ${PROVIDER_DEFAULT_DELAY_MS} here). Between start and stop it runs
  openssl speed -elapsed -seconds 2 -aead -async_jobs 16 -evp aes-256-gcm -bytes 1024
and s_server -async <-> s_client, each message checked on arrival, and shows the backend's
served counter (offload-frontend --stats) after each. stdout is speed's result table.

Examples:
  ${SCRIPT_NAME}
  ${SCRIPT_NAME} --jobs 16 --delay-ms 20
  ${SCRIPT_NAME} --op aes-256-gcm-encrypt --jobs 8 --aad-len 13
  ${SCRIPT_NAME} --op aes-256-gcm-decrypt --jobs 8 --corrupt-tag-job 3   (job 3: 'auth failed')
  ${SCRIPT_NAME} --jobs 64 --delay-ms 200 --json
  ${SCRIPT_NAME} --inflight 64 --total 20000 --notify coalesced --delay-ms 0.05
  ${SCRIPT_NAME} --inflight 64 --duration 60 --delay-ms 2   (long enough to watch with
                                 dpdk-telemetry.py -f demo-<pid> from another terminal)
  ${SCRIPT_NAME} threadsim --jobs 5 --fail-job 2
  ${SCRIPT_NAME} threadsim --op aes-256-gcm-encrypt --aad-len 13 --payload 4096
  ${SCRIPT_NAME} threadsim --help          (offload-threadsim's own flags)
  ${SCRIPT_NAME} provider
  ${SCRIPT_NAME} provider --delay-ms 1 --engines 4

Exits with the program's exit code (two-process: the frontend's): 0 every job
verified, 1 a job failed, 2 bad flags (or an unknown MODE), 3 environment (e.g. no
hugepages; also when the backend cannot start), 4 --timeout-ms expired, 5 the backend
died mid-run; 130/143/129 when interrupted by SIGINT/SIGTERM/SIGHUP. provider: 0 when
speed and the TLS exchange succeeded, else 1 (or speed's own code).
EOF
}

# section TITLE [LINE...]: a headed block of notes on stderr.
section() {
  printf '\n== %s ==\n' "$1" >&2
  shift
  (($# == 0)) || printf '   %s\n' "$@" >&2
}

# step TITLE [LINE...]: a section titled "Step N: TITLE", numbered in order.
step() {
  STEP=$((STEP + 1))
  section "Step ${STEP}: $1" "${@:2}"
}

install_deps() {
  step "dependencies" \
    "The Debian packages this project builds with; only missing ones are installed."
  "${SCRIPT_DIR}/install-deps.sh"
}

# build TARGET...: builds the TARGETs of the ${PRESET} preset, quietly.
build() {
  local -a targets=()
  local target
  for target in "$@"; do
    targets+=(--target "${target}")
  done
  step "build (${PRESET})" \
    "cmake --preset ${PRESET} into build/${PRESET}, only what the demo runs ($*); quiet unless it fails."
  BUILD_LOG=$(mktemp -t offload-demo-build.XXXXXX)
  if ! "${SCRIPT_DIR}/build.sh" "${PRESET}" "${targets[@]}" >"${BUILD_LOG}" 2>&1; then
    cat "${BUILD_LOG}" >&2
    die 1 "the build failed (its output is above)"
  fi
  log "built $* in build/${PRESET}"
}

describe_exit() {
  case $1 in
    0) echo "every job was verified" ;;
    1) echo "some job failed (its FAILED line is in the log above)" ;;
    2) echo "bad flags (see the error line above, or --help)" ;;
    3) echo "the environment is missing something (see the error line above)" ;;
    4) echo "--timeout-ms expired; the log lists the jobs still waiting" ;;
    5) echo "the backend died mid-run; the log names the jobs it held" ;;
    70) echo "an internal error (a bug: the error line above says where)" ;;
    *) echo "unexpected exit code" ;;
  esac
}

# show_command BINARY [ARGS...]: the command line, as a person would type it.
show_command() {
  printf '\n$ %s\n' "${1#"$(repo_root)/"} ${*:2}" >&2
}

# run_program BINARY [FLAGS...]: runs it, reports, and exits with its code.
run_program() {
  local -r binary=$1
  shift
  [[ -x ${binary} ]] || die "${EXIT_ENVIRONMENT}" "${binary} was not built"
  show_command "${binary}" "$@"
  local code=0
  "${binary}" "$@" || code=$?
  section "Result" "exit code ${code}: $(describe_exit "${code}")"
  exit "${code}"
}

demo_threadsim() {
  install_deps
  build offload-threadsim
  step "offload-threadsim — OpenSSL ASYNC jobs + a simulated device (seed 000)" \
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
    "     signalled: the job pauses again, as seed 000's job does on EAGAIN)," \
    "     --op aes-256-gcm-encrypt|aes-256-gcm-decrypt --aad-len 13 (real AES-256-GCM in the" \
    "     device threads, checked with OpenSSL EVP in the job's thread), --corrupt-tag-job 1."
  run_program "$(repo_root)/build/${PRESET}/apps/threadsim/offload-threadsim" "$@"
}

# ---------------------------------------------------------------------------
# The two-process demo

# Where DPDK keeps an instance's runtime files: as the programs decide it
# (lib/src/dpdk/instance.cpp), /var/run/dpdk for root.
dpdk_runtime_dir() {
  if is_root; then
    echo "/var/run/dpdk/$1"
  else
    echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"
  fi
}

readonly HUGEPAGES_DIR=/dev/hugepages

# running PID: true while our child PID runs (an exited, unreaped child is a
# zombie, which `kill -0` would still find).
running() {
  local state
  state=$(awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n ${state} && ${state} != Z ]]
}

# stop_child PID NAME: SIGTERM, up to STOP_GRACE_S to exit, then SIGKILL; reaps
# it (so not in a subshell) and sets STOPPED_STATUS to its exit status.
stop_child() {
  local -r pid=$1 name=$2
  if running "${pid}"; then
    kill -TERM "${pid}" 2>/dev/null || true
    local -r deadline=$((SECONDS + STOP_GRACE_S))
    while running "${pid}" && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if running "${pid}"; then
      log "${name} (pid ${pid}) outlived SIGTERM by ${STOP_GRACE_S} s: sending SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  STOPPED_STATUS=0
  wait "${pid}" 2>/dev/null || STOPPED_STATUS=$?
}

# instance_leftovers INSTANCE: what of INSTANCE remains, one a line.
instance_leftovers() {
  local -r dir=$(dpdk_runtime_dir "$1")
  [[ ! -e ${dir} ]] || echo "${dir}"
  local file
  for file in "${HUGEPAGES_DIR}/$1map_"*; do
    [[ ! -e ${file} ]] || echo "${file}"
  done
}

# remove_leftovers INSTANCE: removes what a backend that did not stop cleanly
# left of INSTANCE (only ever the demo's own instance).
remove_leftovers() {
  local leftovers
  leftovers=$(instance_leftovers "$1")
  [[ -n ${leftovers} ]] || return 0
  log "removing what instance '$1' left behind: $(wc -l <<<"${leftovers}") path(s)"
  rm -rf -- "$(dpdk_runtime_dir "$1")"
  rm -f -- "${HUGEPAGES_DIR}/$1map_"*
}

# Runs on every exit (success, failure, SIGINT, SIGTERM, SIGHUP): stops what
# the demo started, the frontend before the backend it uses, and removes the
# instance's files. Idempotent. (A terminal's Ctrl-C also reaches the backend,
# which then begins its own graceful stop; stop_child copes with either.)
cleanup() {
  local -r status=$?
  # A second Ctrl-C must not cut the cleanup short (it is bounded anyway).
  trap '' INT TERM HUP
  local -r openssl_pids=("${CLIENT_PID}" "${SERVER_PID}" "${SPEED_PID}")
  local pid
  for pid in "${openssl_pids[@]}"; do
    [[ -n ${pid} ]] || continue
    stop_child "${pid}" openssl
    log "stopped openssl (pid ${pid}, exit status ${STOPPED_STATUS})"
  done
  CLIENT_PID="" SERVER_PID="" SPEED_PID=""
  if [[ -n ${FRONTEND_PID} ]]; then
    stop_child "${FRONTEND_PID}" offload-frontend
    log "stopped offload-frontend (pid ${FRONTEND_PID}, exit status ${STOPPED_STATUS})"
    FRONTEND_PID=""
  fi
  if [[ -n ${BACKEND_PID} ]]; then
    stop_child "${BACKEND_PID}" offload-backend
    log "stopped offload-backend (pid ${BACKEND_PID}, exit status ${STOPPED_STATUS})"
    BACKEND_PID=""
  fi
  [[ -z ${INSTANCE} ]] || remove_leftovers "${INSTANCE}"
  [[ -z ${BUILD_LOG} ]] || rm -f "${BUILD_LOG}"
  [[ -z ${WORK_DIR} ]] || rm -rf "${WORK_DIR}"
  exit "${status}"
}

# on_signal NAME CODE: the EXIT trap (cleanup) does the work.
on_signal() {
  log "interrupted by SIG$1: stopping what the demo started"
  exit "$2"
}

# indent: the backend's log, set off from the frontend's.
indent() {
  sed 's/^/   | /' >&2
}

# start_backend FLAGS...: starts offload-backend on INSTANCE and waits (a
# bounded poll) until it is ready: its ready file names its pid.
start_backend() {
  local -r backend=$(repo_root)/build/${PRESET}/apps/backend/offload-backend
  local -r ready_file=$(dpdk_runtime_dir "${INSTANCE}")/offload-backend.ready
  show_command "${backend}" --instance "${INSTANCE}" "$@" "2>${WORK_DIR}/backend.log &"
  # </dev/null: the backend reads nothing; 2>: its log is shown when it stops.
  "${backend}" --instance "${INSTANCE}" "$@" </dev/null 2>"${WORK_DIR}/backend.log" &
  BACKEND_PID=$!

  local -r deadline=$((SECONDS + READY_TIMEOUT_S))
  until grep -qxF "pid=${BACKEND_PID}" "${ready_file}" 2>/dev/null; do
    if ! running "${BACKEND_PID}"; then
      local code=0
      wait "${BACKEND_PID}" || code=$?
      BACKEND_PID=""
      indent <"${WORK_DIR}/backend.log"
      # Its own exit code says why: 2 bad flags, 3 environment.
      ((code != 0)) || code=${EXIT_ENVIRONMENT}
      die "${code}" "offload-backend exited with code ${code} before it was ready (its log is above)"
    fi
    if ((SECONDS >= deadline)); then
      indent <"${WORK_DIR}/backend.log"
      die "${EXIT_ENVIRONMENT}" "offload-backend was not ready after ${READY_TIMEOUT_S} s (its log is above)"
    fi
    sleep 0.1
  done
  grep -F "ready: instance '${INSTANCE}'" "${WORK_DIR}/backend.log" | indent || true
}

# stop_backend: SIGTERM, then checks that it stopped cleanly and left nothing.
stop_backend() {
  local -r pid=${BACKEND_PID}
  show_command kill -TERM "${pid}"
  stop_child "${pid}" offload-backend
  BACKEND_PID=""
  local -r code=${STOPPED_STATUS}
  indent <"${WORK_DIR}/backend.log"
  local leftovers
  leftovers=$(instance_leftovers "${INSTANCE}")
  if ((code == 0)) && [[ -z ${leftovers} ]]; then
    log "offload-backend exited 0; no runtime dir, no hugepage file of '${INSTANCE}' is left"
  else
    log "warning: offload-backend exited with code ${code}; left behind: ${leftovers:-nothing}"
    remove_leftovers "${INSTANCE}"
  fi
}

hugepages() {
  step "hugepages" \
    "DPDK keeps the memory the processes share in 2 MiB hugepages on hugetlbfs" \
    "(${HUGEPAGES_DIR}). As root this reserves and mounts them if needed; otherwise it" \
    "prints the commands to run as root, and the demo stops (exit 3)."
  local code=0
  "${SCRIPT_DIR}/setup-hugepages.sh" || code=$?
  ((code == 0)) || die "${code}" "hugepages are not in place (see above)"
}

# backend_flag FLAG: prints the backend's name for the demo's FLAG; fails
# when FLAG is not one of the backend's.
backend_flag() {
  case $1 in
    --backend-lcore) echo --lcore ;;
    --backend-log-level) echo --log-level ;;
    *)
      local flag
      for flag in "${BACKEND_FLAGS[@]}"; do
        if [[ $1 == "${flag}" ]]; then
          echo "${flag}"
          return 0
        fi
      done
      return 1
      ;;
  esac
}

# split_demo_flags ARGS...: the demo's flags, split into DEMO_BACKEND_ARGS
# (the backend's, --flag VALUE or --flag=VALUE, under the backend's names)
# and DEMO_OTHER_ARGS (the rest, in order). --help prints the usage and
# exits; --instance and raw EAL arguments are refused.
split_demo_flags() {
  DEMO_BACKEND_ARGS=()
  DEMO_OTHER_ARGS=()
  local target value
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        exit 0
        ;;
      --instance | --instance=*)
        usage_error "--instance: the demo runs an instance of its own (demo-<pid>), so that it can clean up after it"
        ;;
      --)
        usage_error "raw EAL arguments (--) are not passed on: run the programs themselves for that (see --help)"
        ;;
    esac
    if target=$(backend_flag "${1%%=*}"); then
      if [[ $1 == *=* ]]; then
        value=${1#*=}
      else
        (($# >= 2)) || usage_error "$1 needs a value"
        value=$2
        shift
      fi
      DEMO_BACKEND_ARGS+=("${target}" "${value}")
    else
      DEMO_OTHER_ARGS+=("$1")
    fi
    shift
  done
}

demo_two_process() {
  split_demo_flags "$@"
  # The frontend checks its flags itself.
  local -a backend_args=("${DEMO_BACKEND_ARGS[@]}") frontend_args=("${DEMO_OTHER_ARGS[@]}")

  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP

  install_deps
  hugepages
  build offload-backend offload-frontend

  WORK_DIR=$(mktemp -d -t offload-demo.XXXXXX)
  INSTANCE=demo-$$
  local -r frontend=$(repo_root)/build/${PRESET}/apps/frontend/offload-frontend
  [[ -x ${frontend} ]] || die "${EXIT_ENVIRONMENT}" "${frontend} was not built"

  step "offload-backend, the DPDK primary — the simulated device (seed 000, second program)" \
    "Seed 000's second program splits the demo in two processes. The backend is the DPDK" \
    "primary: rte_eal_init with --file-prefix ${INSTANCE} (--instance) maps hugepages" \
    "(${HUGEPAGES_DIR}/${INSTANCE}map_*) and creates the runtime dir $(dpdk_runtime_dir "${INSTANCE}")." \
    "It creates the request and payload mempools and per-frontend rings, all named in one" \
    "shared header, lib/include/offload/protocol.hpp (the role of common.h in DPDK's" \
    "client_server_mp example, which seed 000 follows), and registers the rte_mp actions" \
    "through which frontends attach (seed 004). Only the backend takes from its pools: it" \
    "grants each frontend request buffers on that frontend's own ring and takes them back." \
    "It opens its crypto device, a DPDK cryptodev (--crypto-dev, crypto_aesni_mb by default: a" \
    "software PMD with the API QAT hardware is driven through), and checks it does AES-256-GCM." \
    "Then it polls the rings: an AES-GCM request goes to the cryptodev in place, in the buffer" \
    "the frontend filled (zero copy); completed no earlier than the device latency (--delay-ms)," \
    "its job's eventfd is written. (--op not / xor: seed 000's transforms, applied here.)" \
    "Ready = its ready file names its pid (polled, at most ${READY_TIMEOUT_S} s)."
  start_backend "${backend_args[@]}"
  section "watch it live, from another terminal (optional)" \
    "The backend serves DPDK telemetry on its instance, for DPDK's own client (dpdk-dev):" \
    "  dpdk-telemetry.py -f ${INSTANCE}       (dpdk-telemetry.py -l lists the instances)" \
    "then type /offload/stats, /offload/frontends or /offload/device (DPDK's own: /, /eal/params," \
    "/mempool/list ...), quit to leave. This run may end before you get there: a longer one is" \
    "  ${SCRIPT_NAME} --inflight 64 --duration 60 --delay-ms 2"

  step "offload-frontend, the DPDK secondary — OpenSSL ASYNC jobs (seeds 004, 002/003)" \
    "It attaches to the backend's shared memory by the same --instance, then registers over" \
    "rte_mp and passes every job's eventfd to the backend inside rte_mp messages (SCM_RIGHTS," \
    "at most 8 fds a message, each batch acknowledged): seed 004. Each job is an ASYNC_JOB" \
    "run by ASYNC_start_job; it takes a buffer the backend granted, enqueues its request" \
    "and ASYNC_pause_job()s, leaving the thread free for the next job; when the backend" \
    "writes the job's eventfd, the epoll loop" \
    "calls ASYNC_start_job again, the job resumes after its pause and verifies its own" \
    "response (seeds 002/003: start, pause, resume). N jobs overlap on the device." \
    "With --op aes-256-gcm-*, it first registers a key over rte_mp (random unless --key);" \
    "each request carries a fresh IV and --aad-len bytes of AAD, and every result is checked" \
    "here with OpenSSL EVP, an implementation independent of the PMD: a ciphertext must" \
    "decrypt back to the input (tag included); a decrypt's input is encrypted here first." \
    "" \
    "On stderr, per job:  enqueued request ... pausing  ->  resumed  ->  verified" \
    "On stdout: the summary (--json: one JSON line; --stats: the backend's counters)."
  show_command "${frontend}" --instance "${INSTANCE}" "${frontend_args[@]}"
  # In the background and `wait`ed for, so that SIGINT/SIGTERM reach the trap at
  # once (bash runs traps only between foreground commands).
  "${frontend}" --instance "${INSTANCE}" "${frontend_args[@]}" </dev/null &
  FRONTEND_PID=$!
  local frontend_code=0
  wait "${FRONTEND_PID}" || frontend_code=$?
  FRONTEND_PID=""

  step "stop the backend (SIGTERM)" \
    "A graceful stop: the backend detaches its frontends, frees its mempools and rings, and" \
    "removes its runtime dir and hugepage files, so that the next run starts clean. Its log:"
  stop_backend

  section "Result" "exit code ${frontend_code} (the frontend's): $(describe_exit "${frontend_code}")"
  exit "${frontend_code}"
}

# ---------------------------------------------------------------------------
# The provider demo: the system's openssl, unmodified, with the offload provider

# poll_until SECONDS CMD [ARGS...]: CMD every 0.1 s until it succeeds; fails
# once SECONDS have passed without success.
poll_until() {
  local -r deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

exited() {
  ! running "$1"
}

# reap_within SECONDS PID: waits up to SECONDS for our child PID to exit and
# reaps it (REAPED_STATUS: its exit status); fails while it still runs.
reap_within() {
  poll_until "$1" exited "$2" || return 1
  REAPED_STATUS=0
  wait "$2" || REAPED_STATUS=$?
}

# send_line FIFO TEXT: TEXT and a newline into FIFO, in one write (one read()
# for the program on the other side). Bounded: with its reader gone, opening
# a FIFO would block for good.
send_line() {
  timeout 5 tee -- "$1" >/dev/null <<<"$2"
}

# The environment that loads the provider into any OpenSSL 3 program, on the
# demo's instance (set once INSTANCE is): absolute paths to run, and the same
# as a person types them from the repository root.
provider_env() {
  PROVIDER_ENV=("OPENSSL_MODULES=$(repo_root)/build/${PRESET}/provider"
    "OPENSSL_CONF=$(repo_root)/provider/offload-openssl.cnf"
    "OFFLOAD_INSTANCE=${INSTANCE}")
  PROVIDER_ENV_SHOWN="OPENSSL_MODULES=\$PWD/build/${PRESET}/provider OPENSSL_CONF=\$PWD/provider/offload-openssl.cnf OFFLOAD_INSTANCE=${INSTANCE}"
}

# show_openssl [VAR=VALUE...] -- ARGS...: the command line of `openssl ARGS`
# through the provider, as a person would type it.
show_openssl() {
  local extra=""
  while [[ $1 != -- ]]; do
    extra+=" $1"
    shift
  done
  shift
  printf '\n$ %s%s \\\n    openssl %s\n' "${PROVIDER_ENV_SHOWN}" "${extra}" "$*" >&2
}

# show_stats WHEN: the backend's counters (offload-frontend --stats), as a
# person would ask for them; SERVED: its served counter.
show_stats() {
  local -r frontend=$(repo_root)/build/${PRESET}/apps/frontend/offload-frontend
  show_command "${frontend}" --instance "${INSTANCE}" --stats
  local json
  json=$(timeout 10 "${frontend}" --instance "${INSTANCE}" --stats 2>/dev/null) ||
    die 1 "offload-frontend --stats failed on instance '${INSTANCE}'"
  printf '   %s\n' "${json}" >&2
  SERVED=$(jq -r .served <<<"${json}")
}

# tls_failed WHY: the TLS step's logs, then exit 1 (cleanup stops the rest).
tls_failed() {
  local file
  for file in server.out server.log client.out client.log; do
    [[ -s ${WORK_DIR}/${file} ]] || continue
    log "${file}:"
    indent <"${WORK_DIR}/${file}"
  done
  die 1 "$1"
}

demo_provider() {
  split_demo_flags "$@"
  ((${#DEMO_OTHER_ARGS[@]} == 0)) ||
    usage_error "provider: '${DEMO_OTHER_ARGS[0]}' is not a backend flag (the openssl commands are the demo's; see --help)"
  local -a backend_args=("${DEMO_BACKEND_ARGS[@]}")
  # Unless a latency was given (--delay-ms, or a distribution's flags).
  [[ " ${backend_args[*]} " == *" --delay-"* ]] || backend_args+=(--delay-ms "${PROVIDER_DEFAULT_DELAY_MS}")

  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP

  install_deps
  hugepages
  build offload-backend offload-frontend offload_provider

  WORK_DIR=$(mktemp -d -t offload-demo.XXXXXX)
  INSTANCE=demo-$$
  provider_env
  [[ -f $(repo_root)/build/${PRESET}/provider/offload.so ]] ||
    die "${EXIT_ENVIRONMENT}" "build/${PRESET}/provider/offload.so was not built"
  local openssl_version
  openssl_version=$(openssl version 2>/dev/null) || die "${EXIT_ENVIRONMENT}" "no openssl program on PATH"
  [[ ${openssl_version} == "OpenSSL 3."* ]] ||
    die "${EXIT_ENVIRONMENT}" "openssl is '${openssl_version}': providers need OpenSSL 3"

  step "offload-backend, the device (as in the two-process demo)" \
    "The DPDK primary: hugepage pools, a ring per frontend, AES-256-GCM on its DPDK cryptodev" \
    "(crypto_aesni_mb), each request completed no earlier than --delay-ms (here ${backend_args[*]})." \
    "The provider below is one more frontend of it, living inside an unmodified program."
  start_backend "${backend_args[@]}"

  step "openssl speed through the provider — the system's openssl, unmodified" \
    "The program is the system's own ($(command -v openssl), ${openssl_version%% (*}), not rebuilt and not" \
    "patched: OpenSSL 3 loads providers named in its configuration file. OPENSSL_CONF points at" \
    "provider/offload-openssl.cnf, which activates the default provider and \"offload\" (offload.so," \
    "found in OPENSSL_MODULES) and prefers offload (default_properties = ?provider=offload): speed's" \
    "AES-256-GCM comes from offload, everything else from default. OFFLOAD_INSTANCE names the" \
    "backend; OFFLOAD_LOG_LEVEL=info adds the provider's attach lines and its summary at exit." \
    "" \
    "At load the provider attaches to the backend as a DPDK secondary, as offload-frontend does;" \
    "the thread that encrypts first registers as a frontend and passes its slots' eventfds over" \
    "rte_mp. -async_jobs 16: speed runs 16 OpenSSL ASYNC jobs on its one thread. In a job, each" \
    "encryption becomes a request in a buffer the backend granted; the provider gives the job's" \
    "wait context one wait fd, its slot's eventfd (ASYNC_WAIT_CTX_set_wait_fd; speed accepts no" \
    "more than one), and pauses the job (ASYNC_pause_job). speed select()s on the 16 fds and resumes" \
    "each job whose fd the backend wrote: 16 messages on the device at once, from one thread." \
    "(Without -async_jobs the provider waits for each message itself, synchronously.)" \
    "" \
    "On stdout: speed's result table. Below, on stderr: its progress and the provider's log."
  local -r speed_args=(speed -elapsed -seconds 2 -aead -async_jobs 16 -evp aes-256-gcm -bytes 1024)
  show_openssl OFFLOAD_LOG_LEVEL=info -- "${speed_args[@]}"
  # In the background and `wait`ed for, so that SIGINT/SIGTERM reach the trap at once.
  env "${PROVIDER_ENV[@]}" OFFLOAD_LOG_LEVEL=info openssl "${speed_args[@]}" </dev/null 2>"${WORK_DIR}/speed.log" &
  SPEED_PID=$!
  local speed_code=0
  wait "${SPEED_PID}" || speed_code=$?
  SPEED_PID=""
  indent <"${WORK_DIR}/speed.log"
  ((speed_code == 0)) || die "${speed_code}" "openssl speed exited with code ${speed_code} (its log is above)"
  local -r ops=$(grep -oE "[0-9]+ AES-256-GCM's in" "${WORK_DIR}/speed.log" | grep -oE '^[0-9]+' || echo '?')
  show_stats
  local -r served_after_speed=${SERVED}
  log "speed counted ${ops} AES-256-GCM operations; the backend served ${served_after_speed} request(s)" \
    "(the provider's summary, above, says where its messages went: on the device or in software)"

  step "TLS 1.3 through the provider: s_server -async <-> s_client (TLS_AES_256_GCM_SHA384)" \
    "With TLS_AES_256_GCM_SHA384 every record after the ServerHello (the handshake's encrypted" \
    "messages, then the application data) is sealed and opened with AES-256-GCM, so both programs'" \
    "records go to the backend; each program is a DPDK secondary and a frontend of its own." \
    "s_server -async runs the connection in ASYNC jobs: each record's job pauses on its one wait fd" \
    "(\"Read BLOCK (Async)\" in the server's output) while the backend works; s_client, without" \
    "-async, waits synchronously. A throwaway self-signed P-256 certificate comes first, made by" \
    "plain openssl (no provider: key generation is not AES-GCM). The server listens on a free" \
    "port of 127.0.0.1 (port 0: the kernel picks one), ends after one connection (-naccept 1)."
  local -r cert=${WORK_DIR}/cert.pem key=${WORK_DIR}/key.pem
  show_command openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -days 1 -keyout key.pem -out cert.pem
  env -u OPENSSL_CONF -u OPENSSL_MODULES openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -subj /CN=localhost -days 1 -keyout "${key}" -out "${cert}" 2>"${WORK_DIR}/req.log" ||
    { indent <"${WORK_DIR}/req.log"; die 1 "openssl req could not make a certificate"; }
  # Each program's stdin is a FIFO it opens read-write: it never sees end of
  # file (which would end its connection); the demo writes lines into it.
  mkfifo "${WORK_DIR}/server.in" "${WORK_DIR}/client.in"

  local -r server_args=(s_server -async -accept 127.0.0.1:0 -naccept 1 -tls1_3
    -ciphersuites TLS_AES_256_GCM_SHA384 -cert cert.pem -key key.pem)
  show_openssl -- "${server_args[@]}" "&"
  (cd "${WORK_DIR}" && exec env "${PROVIDER_ENV[@]}" openssl "${server_args[@]}") \
    0<>"${WORK_DIR}/server.in" >"${WORK_DIR}/server.out" 2>"${WORK_DIR}/server.log" &
  SERVER_PID=$!
  poll_until "${TLS_STEP_TIMEOUT_S}" grep -qE '^ACCEPT 127\.0\.0\.1:[0-9]+$' "${WORK_DIR}/server.out" ||
    tls_failed "s_server did not listen within ${TLS_STEP_TIMEOUT_S} s"
  local -r port=$(sed -nE 's/^ACCEPT 127\.0\.0\.1:([0-9]+)$/\1/p' "${WORK_DIR}/server.out")
  log "s_server (pid ${SERVER_PID}) listens on 127.0.0.1:${port}"

  local -r client_args=(s_client -connect "127.0.0.1:${port}" -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
    -quiet -no_ign_eof)
  show_openssl -- "${client_args[@]}"
  env "${PROVIDER_ENV[@]}" openssl "${client_args[@]}" \
    0<>"${WORK_DIR}/client.in" >"${WORK_DIR}/client.out" 2>"${WORK_DIR}/client.log" &
  CLIENT_PID=$!

  local -r to_server="hello over TLS 1.3 from s_client (pid ${CLIENT_PID}), instance ${INSTANCE}"
  local -r to_client="hello back from s_server (pid ${SERVER_PID})"
  log "typing into s_client: ${to_server}"
  send_line "${WORK_DIR}/client.in" "${to_server}" || tls_failed "s_client does not read its input"
  poll_until "${TLS_STEP_TIMEOUT_S}" grep -qxF -- "${to_server}" "${WORK_DIR}/server.out" ||
    tls_failed "s_server did not receive the client's message within ${TLS_STEP_TIMEOUT_S} s"
  log "s_server printed it, intact: ${to_server}"
  log "typing into s_server: ${to_client}"
  send_line "${WORK_DIR}/server.in" "${to_client}" || tls_failed "s_server does not read its input"
  poll_until "${TLS_STEP_TIMEOUT_S}" grep -qxF -- "${to_client}" "${WORK_DIR}/client.out" ||
    tls_failed "s_client did not receive the server's message within ${TLS_STEP_TIMEOUT_S} s"
  log "s_client printed it, intact: ${to_client}"
  # Q: s_client's command to close the connection (close_notify); the
  # server, -naccept 1, ends with it.
  log "typing Q into s_client: it closes the connection; the server ends with it"
  send_line "${WORK_DIR}/client.in" Q || tls_failed "s_client does not read its input"
  reap_within "${TLS_STEP_TIMEOUT_S}" "${CLIENT_PID}" || tls_failed "s_client did not end"
  CLIENT_PID=""
  local -r client_code=${REAPED_STATUS}
  reap_within "${TLS_STEP_TIMEOUT_S}" "${SERVER_PID}" || tls_failed "s_server did not end after its connection"
  SERVER_PID=""
  local -r server_code=${REAPED_STATUS}
  ((client_code == 0 && server_code == 0)) ||
    tls_failed "s_client exited with code ${client_code}, s_server with ${server_code}"
  local -r pauses=$(grep -cE '^(Read|Write) BLOCK \(Async\)$' "${WORK_DIR}/server.out" || true)
  log "s_server: $(grep -m1 '^CIPHER is ' "${WORK_DIR}/server.out" || echo 'no CIPHER line');" \
    "its job paused for the device ${pauses} time(s) in its data phase (\"BLOCK (Async)\")"
  show_stats
  log "the backend served $((SERVED - served_after_speed)) more request(s): the handshake's records and the" \
    "two messages, each sealed by its sender's frontend and opened by its receiver's"

  step "stop the backend (SIGTERM)" \
    "Its log shows speed, s_server and s_client registering as frontends (\"registered: pid ...\")," \
    "each AES-256 key they registered, the first requests served, and each detaching at exit."
  stop_backend

  section "Result" "exit code 0: openssl speed and the TLS 1.3 exchange ran their AES-256-GCM on offload-backend"
  exit 0
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
  "demo_${mode//-/_}" "$@"
}

main "$@"
