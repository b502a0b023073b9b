#!/usr/bin/env bash
# The benchmark of issue 4: the unit costs measured on the spot, then one
# table of the two-process offload (every notification mode) and threadsim
# over J x D, and the issue's targets judged PASS/FAIL against that table.
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly PRESET=release
readonly TARGETS=(offload-backend offload-frontend offload-threadsim offload-microbench)

# The matrix: jobs in flight (--inflight changes them), device latency (ms),
# notification modes.
readonly JS_DEFAULT=(1 16 256)
readonly DS=(0 0.1 2)
readonly NOTIFY_MODES=(eventfd callback coalesced)

# The issue's targets.
readonly TARGET_J=64
readonly TARGET_D=2
readonly TARGET_LITTLE_PCT=97
readonly TARGET_COALESCED=500000
readonly TARGET_EVENTFD=150000
readonly TARGET_P50_US=30

# Seconds of load per cell; the request count of a cell is sized from it.
readonly CELL_S_DEFAULT=2
readonly CELL_S_QUICK=0.3
readonly MICROBENCH_ITERATIONS_DEFAULT=1000000
readonly MICROBENCH_ITERATIONS_QUICK=200000
# offload-threadsim takes at most this many jobs (its --jobs range).
readonly THREADSIM_MAX_JOBS=65536
# Sizing assumes each request pays about this on top of D when D > 0 (a
# wake or a late timer, see docs/PERFORMANCE.md).
readonly OVERHEAD_MS=0.025

# AES-256-GCM (issue 9): the offload (D = 0, J = CRYPTO_J, coalesced, no
# verification) beside dpdk-test-crypto-perf (crypto_aesni_mb, one worker
# core: the backend's) and openssl speed (in-process, the frontend's core),
# all in the same run.
readonly CRYPTO_SIZES=(1024 16384)
# How the coalesced frontend waits (--coalesced-wait): both are measured.
readonly CRYPTO_WAITS=(doorbell nap)
readonly CRYPTO_J=64
readonly CRYPTO_AAD=16
readonly TARGET_CRYPTO_PCT_1K=60
readonly TARGET_CRYPTO_PCT_16K=90
readonly TARGET_FRONTEND_CPU_PCT=10

# The OpenSSL provider (issue 10): unmodified openssl speed -aead through it
# (J = PROVIDER_J async jobs) beside the same command in process, and its
# async gain at a device latency of PROVIDER_D ms.
readonly PROVIDER_J=64
readonly PROVIDER_D=0.1
readonly PROVIDER_REPS=3
# The AES-GCM cells and their references likewise, alternately (run_crypto).
readonly CRYPTO_REPS=3
readonly TARGET_PROVIDER_PCT_16K=80
readonly TARGET_PROVIDER_ASYNC_X=30

readonly SOAK_TOTAL=10000000
readonly SOAK_J=256
readonly SOAK_NOTIFY=coalesced
readonly SOAK_SAMPLE_S=0.25
readonly SOAK_MAX_SAMPLES=2400  # 10 minutes
readonly SOAK_FLAT_KB=1024      # allowed growth from the start sample to the end

# --churn: scripts/churn.sh against one backend (D = CHURN_D_MS).
readonly CHURN_S_DEFAULT=300
readonly CHURN_D_MS=0.05
readonly CHURN_MAX_AT_ONCE=8

# Above this 1-minute load average before the run, the output says that
# the machine was busy.
readonly QUIET_LOAD=0.5

readonly POLL_S=0.05
readonly READY_POLLS=200  # 10 s for a backend to become ready
readonly STOP_POLLS=100   # 5 s for a backend to exit after SIGTERM
readonly DPDK_RUNTIME_ROOT=/var/run/dpdk
readonly HUGEPAGES_DIR=/dev/hugepages

# A KVM guest's idle vCPU polls this long (ns) before it halts
# (cpuidle-haltpoll). A wake-up of a halted vCPU exits to the hypervisor, on
# the waker's core and the woken one's: on the VM of docs/PERFORMANCE.md,
# whose kernel command line sets it to 0, ~10 us of the backend's core per
# doorbell. --halt-poll-us sets it for the run; the value found is put back
# on every exit path.
readonly HALT_POLL_FILE=/sys/module/haltpoll/parameters/guest_halt_poll_ns
readonly HALT_POLL_US_MAX=10000
HALT_POLL_US=""
HALT_POLL_RESTORE_NS=""

BIN_DIR=""
WORK_DIR=""
# The backends this run started (pid and instance, same index), and the soak's
# background frontend: cleanup() stops whatever is still there.
BACKEND_PIDS=()
BACKEND_INSTANCES=()
SOAK_FRONTEND_PID=""
# The backend serving the cells being run.
CURRENT_BACKEND_PID=""
CURRENT_INSTANCE=""
CELL_S=${CELL_S_DEFAULT}
JS=("${JS_DEFAULT[@]}")
# --plot: where the plots go (empty: no plots).
PLOT_DIR=""
readonly PLOT_DIR_DEFAULT=build/bench-plots
# GB/s against message size, the hook for when the device is real: whatever
# measures throughput per message size (the AES-GCM rows: the offload, and the
# references such as OpenSSL's EVP or dpdk-test-crypto-perf) appends rows
#   series<TAB>message_bytes<TAB>gbytes_per_s
# to this file in WORK_DIR; --plot then also draws bandwidth.png from it
# (scripts/plot-bench.sh --bandwidth). run_crypto writes it.
readonly BANDWIDTH_TSV_NAME=bandwidth.tsv
FAILED_RUNS=0
CLK_TCK=100
LOAD_BEFORE=""

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [--quick] [--crypto] [--provider] [--inflight LIST] [--plot [DIR]] [--soak] [--churn [SECONDS]]
                [--halt-poll-us US] [--no-build] [--strict] [--help]

The benchmark of issue 4. It builds the ${PRESET} preset (incrementally), makes
sure hugepages are in place (scripts/setup-hugepages.sh), then prints on stdout:

 1. the unit costs that bound the figures, measured now by offload-microbench
    (ASYNC start+pause+resume+finish, a cross-process rte_ring round trip and its
    pipelined rate, a cross-process eventfd wake, one syscall, a short nanosleep's
    lateness and CPU);
 2. one table: the two-process offload (offload-backend on the last core,
    offload-frontend on core 0) for J in {${JS[*]}} x D in {${DS[*]}} ms x notify in
    {${NOTIFY_MODES[*]}}, plus J=${TARGET_J} at D=${TARGET_D} ms, and offload-threadsim at the
    same J and D: throughput, % of the ideal J/D (D > 0), p50/p99/p999 latency
    (submit to resume), the frontend's (or threadsim's) CPU seconds and the
    backend's CPU seconds during the cell;
 3. AES-256-GCM through the offload (D=0, J=${CRYPTO_J}, coalesced with each
    --coalesced-wait in {${CRYPTO_WAITS[*]}}, --verify none, each job making its requests one
    after another as openssl speed's do: --requests-per-job 0) at ${CRYPTO_SIZES[*]} bytes
    beside its references measured in the same run:
    dpdk-test-crypto-perf with crypto_aesni_mb on the backend's core and openssl speed
    -evp aes-256-gcm on the frontend's core; GB/s, % of the reference, and the
    frontend's CPU per byte against openssl speed's;
 4. unmodified openssl speed -elapsed -aead -evp aes-256-gcm through the offload
    provider (-async_jobs ${PROVIDER_J}, D=0) at 1024 and 16384 bytes beside the same
    command in process (alternating, the median of ${PROVIDER_REPS} runs each), and at
    D=${PROVIDER_D} ms with and without -async_jobs;
 5. the issues' targets, each PASS or FAIL.
One backend per D, each with its own instance (bench-<pid>-<D>), stopped when
its cells are done and on every exit path (SIGTERM, then SIGKILL after
$((STOP_POLLS * 5 / 100)) s), with its runtime dir and hugepage files removed.
Progress and logs go to stderr.

  --quick      about 0.3 s of load per cell (well under a minute in all) instead of
               about ${CELL_S_DEFAULT} s; fewer microbenchmark iterations
  --crypto     only 3 (and its targets)
  --provider   only 4 (and its targets)
  --inflight LIST
               the J values, comma-separated (default $(
    IFS=,
    echo "${JS_DEFAULT[*]}"
  )), e.g. 1,4,16,64,256 for smoother
               plots; J=${TARGET_J} is always run at D=${TARGET_D} ms. Targets whose J is not run say
               "no result"
  --plot [DIR] after the table, draw it with gnuplot (scripts/plot-bench.sh) into DIR
               (default ${PLOT_DIR_DEFAULT}): throughput.png (jobs/s against J for each D,
               beside J/D, one panel per mode), latency.png (p50/p99/p999 against J),
               and the table they come from, bench-results.tsv. Installs gnuplot-nox
               first if it is missing (scripts/install-deps.sh --with-plot, as root).
               Once the bench measures GB/s per message size (a real crypto device),
               bandwidth.png too. Not with --soak or --churn
  --soak       instead of 1-4: run ${SOAK_TOTAL} requests (${SOAK_NOTIFY}, J=${SOAK_J}, D=0) and
               sample the VmRSS of the frontend and the backend at the start (1 s
               in), middle and end; memory is called flat if neither grew by more
               than ${SOAK_FLAT_KB} kB from start to end
  --churn [S]  instead of 1-4: frontends start and stop continuously for S seconds
               (default ${CHURN_S_DEFAULT}), up to ${CHURN_MAX_AT_ONCE} at once, random jobs, requests and notify
               modes (scripts/churn.sh), against one backend (D=${CHURN_D_MS} ms): attach rate,
               failures (must be 0), DPDK start-up and clean-up time p50/p99 of a
               frontend, the backend's VmRSS before and after, memory hotplug events
               (must be 0) and the pools afterwards (must be full)
  --halt-poll-us US
               for this run, let an idle vCPU poll US microseconds (0..${HALT_POLL_US_MAX}) before
               it halts: the KVM guest's cpuidle-haltpoll (${HALT_POLL_FILE}),
               as root; the value found is restored at exit. A wake-up of a halted vCPU
               exits to the hypervisor on both sides, which on some VMs is most of what
               a doorbell costs. The polling is the idle loop's, not the frontend's CPU:
               the core stays free for any other work. The output says the value in
               effect, set or not. Exit 3 on a kernel without cpuidle-haltpoll
  --no-build   use the binaries in build/${PRESET} as they are
  --strict     exit 1 if a target is missed (by default only failed runs do)

Each cell's request count is sized from its expected rate (J/D, capped by
the rates seen on the reference VM), so a cell on a faster or slower machine
takes less or more time; every run is bounded by a timeout. Figures on a
2-core VM vary from run to run: run it on an otherwise idle machine (the
load average is printed before and after).

Exit codes: 0 every run completed (targets reported), 1 a run failed (or, with
--strict, a target was missed), 2 bad usage, 3 environment (no hugepages, no jq).
EOF
}

# ---------------------------------------------------------------------------
# Processes: starting, stopping and cleaning up after backends

cleanup() {
  # Every step, whatever failed or came before it. A second SIGINT (a
  # second Ctrl-C; `timeout` passing on the one its process group got) ran
  # `exit 130` inside this function and ended it halfway: a backend, a
  # churn's frontends or the machine's halt polling were left behind
  # (tests/bats/bench.bats, 4 runs of 12 under load). Each step is bounded.
  trap '' INT TERM HUP
  set +o errexit
  # First the machine's setting: it outlives this script, the rest does not.
  if [[ -n ${HALT_POLL_RESTORE_NS} ]]; then
    echo "${HALT_POLL_RESTORE_NS}" >"${HALT_POLL_FILE}" ||
      log "could not restore ${HALT_POLL_FILE} to ${HALT_POLL_RESTORE_NS}: set it by hand"
    HALT_POLL_RESTORE_NS=""
  fi
  if [[ -n ${SOAK_FRONTEND_PID} ]]; then
    stop_process "${SOAK_FRONTEND_PID}"
    SOAK_FRONTEND_PID=""
  fi
  local i
  for i in "${!BACKEND_PIDS[@]}"; do
    stop_backend "${BACKEND_PIDS[i]}" "${BACKEND_INSTANCES[i]}"
  done
  BACKEND_PIDS=()
  BACKEND_INSTANCES=()
  [[ -z ${WORK_DIR} ]] || rm -rf "${WORK_DIR}"
}

# set_halt_poll US: the guest's halt polling for this run (--halt-poll-us),
# the value found kept for cleanup to restore.
set_halt_poll() {
  [[ -f ${HALT_POLL_FILE} ]] ||
    die "${EXIT_ENVIRONMENT}" "--halt-poll-us: ${HALT_POLL_FILE} does not exist: this kernel has no cpuidle-haltpoll (a KVM guest's)"
  [[ -w ${HALT_POLL_FILE} ]] || die "${EXIT_ENVIRONMENT}" "--halt-poll-us: ${HALT_POLL_FILE} is not writable: run as root"
  # Kept before the write: a Ctrl-C between the two would otherwise leave
  # the new value with nothing to restore.
  HALT_POLL_RESTORE_NS=$(<"${HALT_POLL_FILE}")
  echo $(($1 * 1000)) >"${HALT_POLL_FILE}" || die "${EXIT_ENVIRONMENT}" "--halt-poll-us: writing ${HALT_POLL_FILE} failed"
}

# halt_poll_text: the idle vCPUs' halt polling in effect, in words.
halt_poll_text() {
  if [[ ! -r ${HALT_POLL_FILE} ]]; then
    echo "no cpuidle-haltpoll"
    return
  fi
  local -r ns=$(<"${HALT_POLL_FILE}")
  printf 'halt polling %s us' "$(awk -v ns="${ns}" 'BEGIN { printf "%g", ns / 1000 }')"
  if [[ -n ${HALT_POLL_RESTORE_NS} ]]; then
    printf ' (--halt-poll-us; it was %s us)' "$(awk -v ns="${HALT_POLL_RESTORE_NS}" 'BEGIN { printf "%g", ns / 1000 }')"
  fi
}

# stop_process PID: SIGTERM, a bounded wait, then SIGKILL; reaps it.
stop_process() {
  local -r pid=$1
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    local polls=0
    while kill -0 "${pid}" 2>/dev/null && ((polls < STOP_POLLS)); do
      # A zombie still answers kill -0: it has exited once its state is Z.
      [[ $(awk '{ print $3 }' "/proc/${pid}/stat" 2>/dev/null) != Z ]] || break
      sleep "${POLL_S}"
      polls=$((polls + 1))
    done
    if ((polls >= STOP_POLLS)); then
      log "pid ${pid} did not exit within $((STOP_POLLS * 5 / 100)) s of SIGTERM: SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  wait "${pid}" 2>/dev/null || true
}

# wait_exit PID: its exit status once it has exited on its own, waiting a
# bounded time (then it is stopped, and the status is 124).
wait_exit() {
  local -r pid=$1
  local polls=0
  while kill -0 "${pid}" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/${pid}/stat" 2>/dev/null) != Z ]]; do
    if ((polls >= STOP_POLLS)); then
      stop_process "${pid}"
      return 124
    fi
    sleep "${POLL_S}"
    polls=$((polls + 1))
  done
  local rc=0
  wait "${pid}" || rc=$?
  return "${rc}"
}

# stop_backend PID INSTANCE: stops it and removes what DPDK keeps of the
# instance (the backend does so itself when it stops cleanly; not after SIGKILL).
stop_backend() {
  local -r pid=$1 instance=$2
  stop_process "${pid}"
  rm -rf "${DPDK_RUNTIME_ROOT:?}/${instance}"
  rm -f "${HUGEPAGES_DIR}/${instance}"map_*
}

# start_backend INSTANCE DELAY_MS: starts one and waits (bounded) for its
# ready file; sets CURRENT_BACKEND_PID and CURRENT_INSTANCE.
start_backend() {
  local -r instance=$1 delay_ms=$2
  local -r log_file="${WORK_DIR}/backend-${instance}.log"
  log "starting offload-backend --instance ${instance} --delay-ms ${delay_ms}"
  # Its stdin closed and its stdout away from ours: it must hold no pipe open.
  "${BIN_DIR}/backend/offload-backend" --instance "${instance}" --delay-ms "${delay_ms}" --log-level warn \
    </dev/null >"${log_file}" 2>&1 &
  local -r pid=$!
  BACKEND_PIDS+=("${pid}")
  BACKEND_INSTANCES+=("${instance}")
  local -r ready="${DPDK_RUNTIME_ROOT}/${instance}/offload-backend.ready"
  local polls=0
  until [[ -f ${ready} && $(<"${ready}") == "pid=${pid}" ]]; do
    if ! kill -0 "${pid}" 2>/dev/null || ((polls >= READY_POLLS)); then
      cat "${log_file}" >&2
      die 1 "offload-backend --instance ${instance} did not become ready within $((READY_POLLS * 5 / 100)) s (its log is above)"
    fi
    sleep "${POLL_S}"
    polls=$((polls + 1))
  done
  CURRENT_BACKEND_PID=${pid}
  CURRENT_INSTANCE=${instance}
}

# stop_current_backend: stops the backend started last and forgets it.
stop_current_backend() {
  local i
  for i in "${!BACKEND_PIDS[@]}"; do
    [[ ${BACKEND_PIDS[i]} == "${CURRENT_BACKEND_PID}" ]] || continue
    stop_backend "${BACKEND_PIDS[i]}" "${BACKEND_INSTANCES[i]}"
    unset 'BACKEND_PIDS[i]' 'BACKEND_INSTANCES[i]'
  done
  CURRENT_BACKEND_PID=""
  CURRENT_INSTANCE=""
}

# cpu_ticks PID: user + system clock ticks of a process so far (0 if gone).
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
    echo 0
    return
  }
  # Fields after "(comm) ": state is the first, utime the 12th, stime the 13th.
  local -a fields
  read -r -a fields <<<"${stat##*) }"
  echo $((fields[11] + fields[12]))
}

# vm_rss_kb PID: its VmRSS in kB, or nothing if it has gone.
vm_rss_kb() {
  awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Sizing

# expected_rate KIND J D_MS: jobs/s to size a cell with: Little's law with a
# per-request overhead, capped by (a little under) the D=0 rates of the
# reference VM when idle (docs/PERFORMANCE.md). On a busy machine the D=0
# cells take longer.
expected_rate() {
  local -r kind=$1 j=$2 d=$3
  local cap
  case ${kind}:${j} in
    eventfd:1) cap=350000 ;;
    eventfd:*) cap=550000 ;;
    callback:1) cap=600000 ;;
    callback:*) cap=1500000 ;;
    coalesced:1) cap=350000 ;;
    coalesced:*) cap=1500000 ;;
    threadsim:1) cap=30000 ;;
    threadsim:*) cap=100000 ;;
    *) die 70 "expected_rate: unknown kind ${kind}" ;;
  esac
  # At D = 0 nobody sleeps and the cap alone applies.
  awk -v j="${j}" -v d="${d}" -v o="${OVERHEAD_MS}" -v cap="${cap}" \
    'BEGIN { r = cap; if (d > 0 && j * 1000 / (d + o) < r) r = j * 1000 / (d + o); printf "%d\n", r }'
}

# cell_total KIND J D_MS: requests for about CELL_S seconds, at least 10 per
# job in flight (and never J itself: --total J is the frontend's walkthrough).
cell_total() {
  local -r rate=$(expected_rate "$1" "$2" "$3")
  awk -v r="${rate}" -v s="${CELL_S}" -v j="$2" \
    'BEGIN { n = int(r * s + 0.5); if (n < 10 * j) n = 10 * j; if (n < 100) n = 100; print n }'
}

# run_limit_s TOTAL RATE: a generous bound on one run's wall time.
run_limit_s() {
  awk -v n="$1" -v r="$2" 'BEGIN { printf "%d\n", 30 + 20 * n / r }'
}

# ---------------------------------------------------------------------------
# Cells

# record MODE J D TOTAL JSON BACKEND_CPU_S: appends one table row from a
# program's JSON summary.
record() {
  local -r mode=$1 j=$2 d=$3 total=$4 json=$5 be_cpu=$6
  jq -r --arg mode "${mode}" --arg j "${j}" --arg d "${d}" --arg total "${total}" --arg be "${be_cpu}" '
    ($d | tonumber) as $dms
    | ($j | tonumber) as $jobs
    | [ $mode, $j, $d, $total,
        (.throughput_jobs_per_s | floor | tostring),
        (if $dms > 0 then (.throughput_jobs_per_s * 100 / ($jobs * 1000 / $dms) * 10 | round / 10 | tostring) else "-" end),
        (.latency_us.p50 | tostring), (.latency_us.p99 | tostring), (.latency_us.p999 | tostring),
        (.cpu_s * 100 | round / 100 | tostring), $be, (.ok | tostring), (.failed | tostring) ]
    | @tsv' <<<"${json}" >>"${WORK_DIR}/results.tsv"
}

# record_failure MODE J D TOTAL WHAT
record_failure() {
  printf '%s\t%s\t%s\t%s\tFAILED: %s\t-\t-\t-\t-\t-\t-\t-\t-\n' "$1" "$2" "$3" "$4" "$5" >>"${WORK_DIR}/results.tsv"
  FAILED_RUNS=$((FAILED_RUNS + 1))
}

# frontend_cell NOTIFY J D_MS: one load-generator run against the current backend.
frontend_cell() {
  local -r notify=$1 j=$2 d=$3
  local -r mode="frontend-${notify}"
  local -r total=$(cell_total "${notify}" "${j}" "${d}")
  local -r limit=$(run_limit_s "${total}" "$(expected_rate "${notify}" "${j}" "${d}")")
  local -r out="${WORK_DIR}/cell.json" err="${WORK_DIR}/cell.log"
  log "${mode} J=${j} D=${d} ms: ${total} requests"
  local -r before=$(cpu_ticks "${CURRENT_BACKEND_PID}")
  local rc=0
  timeout --foreground --kill-after=5 "${limit}" \
    "${BIN_DIR}/frontend/offload-frontend" --instance "${CURRENT_INSTANCE}" --inflight "${j}" --total "${total}" \
    --notify "${notify}" --timeout-ms $((limit * 1000)) --json --log-level warn </dev/null >"${out}" 2>"${err}" || rc=$?
  local -r after=$(cpu_ticks "${CURRENT_BACKEND_PID}")
  local -r be_cpu=$(awk -v t=$((after - before)) -v hz="${CLK_TCK}" 'BEGIN { printf "%.2f\n", t / hz }')
  if ((rc != 0)) || [[ ! -s ${out} ]]; then
    tail -n 20 "${err}" >&2
    record_failure "${mode}" "${j}" "${d}" "${total}" "exit ${rc}"
    return 0
  fi
  record "${mode}" "${j}" "${d}" "${total}" "$(tail -n 1 "${out}")" "${be_cpu}"
}

# threadsim_cell J D_MS
threadsim_cell() {
  local -r j=$1 d=$2
  local total
  total=$(cell_total threadsim "${j}" "${d}")
  ((total <= THREADSIM_MAX_JOBS)) || total=${THREADSIM_MAX_JOBS}
  local -r limit=$(run_limit_s "${total}" "$(expected_rate threadsim "${j}" "${d}")")
  local -r out="${WORK_DIR}/cell.json" err="${WORK_DIR}/cell.log"
  log "threadsim J=${j} D=${d} ms: ${total} requests"
  local rc=0
  timeout --foreground --kill-after=5 "${limit}" \
    "${BIN_DIR}/threadsim/offload-threadsim" --jobs "${total}" --inflight "${j}" --delay-ms "${d}" \
    --timeout-ms $((limit * 1000)) --json --log-level warn </dev/null >"${out}" 2>"${err}" || rc=$?
  if ((rc != 0)) || [[ ! -s ${out} ]]; then
    tail -n 20 "${err}" >&2
    record_failure threadsim "${j}" "${d}" "${total}" "exit ${rc}"
    return 0
  fi
  record threadsim "${j}" "${d}" "${total}" "$(tail -n 1 "${out}")" -
}

# instance_name D_MS: a unique --instance per run and D ("0.1" -> "0p1").
instance_name() {
  echo "bench-$$-${1//./p}"
}

run_matrix() {
  local d j notify
  for d in "${DS[@]}"; do
    local -a js=("${JS[@]}")
    if [[ ${d} == "${TARGET_D}" ]]; then
      mapfile -t js < <(printf '%s\n' "${JS[@]}" "${TARGET_J}" | sort -n -u)
    fi
    start_backend "$(instance_name "${d}")" "${d}"
    for notify in "${NOTIFY_MODES[@]}"; do
      for j in "${js[@]}"; do
        frontend_cell "${notify}" "${j}" "${d}"
      done
    done
    stop_current_backend
    for j in "${js[@]}"; do
      threadsim_cell "${j}" "${d}"
    done
  done
}

# ---------------------------------------------------------------------------
# AES-256-GCM

# crypto_perf_gbs SIZE OPS: dpdk-test-crypto-perf's AES-256-GCM encrypt
# throughput in GB/s (crypto_aesni_mb, one worker on the backend's core), or
# nothing when the tool is missing or fails.
crypto_perf_gbs() {
  local -r size=$1 ops=$2 instance="bench-$$-cperf"
  command -v dpdk-test-crypto-perf >/dev/null || return 0
  local -r out="${WORK_DIR}/cperf-${size}.txt"
  # In the background, stopped by this function's own traps on a Ctrl-C:
  # it runs in a command substitution, whose pids the script's clean-up
  # never sees, and the tool (under `timeout`, in a process group of its
  # own) ran on after the script had gone and left its runtime dir and
  # hugepage files behind.
  timeout --kill-after=5 120 dpdk-test-crypto-perf -l "0,$(backend_cpu)" --file-prefix "${instance}" --no-pci \
    --no-telemetry --log-level=error --vdev crypto_aesni_mb -- --ptest throughput --devtype crypto_aesni_mb \
    --optype aead --aead-algo aes-gcm --aead-op encrypt --aead-key-sz 32 --aead-iv-sz 12 \
    --aead-aad-sz "${CRYPTO_AAD}" --digest-sz 16 --buffer-sz "${size}" --total-ops "${ops}" --burst-sz 32 \
    </dev/null >"${out}" 2>&1 &
  local -r pid=$!
  # shellcheck disable=SC2064 # expanded now, on purpose
  trap "stop_backend ${pid} ${instance}; exit 130" INT
  # shellcheck disable=SC2064
  trap "stop_backend ${pid} ${instance}; exit 143" TERM
  local rc=0
  wait "${pid}" || rc=$?
  trap - INT TERM
  rm -rf "${DPDK_RUNTIME_ROOT:?}/${instance}"
  rm -f "${HUGEPAGES_DIR}/${instance}"map_*
  if ((rc != 0)); then
    tail -n 5 "${out}" >&2
    return 0
  fi
  # The row: lcore, buffer size, burst, enqueued, dequeued, failed enq/deq, MOps, Gbps, cycles/buf.
  awk -v size="${size}" '$2 == size && NF == 10 { printf "%.3f\n", $9 / 8 }' "${out}" | tail -n 1
}

# openssl_speed_gbs SIZE SECONDS: openssl speed -evp aes-256-gcm in this
# process, on the frontend's core, in GB/s.
openssl_speed_gbs() {
  taskset -c 0 openssl speed -mr -seconds "$2" -bytes "$1" -evp aes-256-gcm 2>/dev/null |
    awk -F: '$1 == "+F" { printf "%.3f\n", $NF / 1e9 }' | tail -n 1
}

# backend_cpu: the CPU offload-backend polls on by default (the last one).
backend_cpu() {
  taskset -cp $$ | awk -F': ' '{ n = split($2, r, ","); last = r[n]; sub(/.*-/, "", last); print last }'
}

# crypto_cell SIZE GBS_HINT WAIT: the offload at SIZE bytes, the frontend
# waiting as --coalesced-wait WAIT says; appends "size gb/s frontend_cpu_s
# backend_cpu_s requests wait" to crypto.tsv.
crypto_cell() {
  local -r size=$1 hint_gbs=$2 wait=$3
  local -r total=$(awk -v g="${hint_gbs:-0.5}" -v s="${size}" -v t="${CELL_S}" -v j="${CRYPTO_J}" \
    'BEGIN { n = int(g * 1e9 / s * t); if (n < 20 * j) n = 20 * j; print n }')
  local -r out="${WORK_DIR}/crypto.json" err="${WORK_DIR}/crypto.log"
  log "offload aes-256-gcm-encrypt ${size} bytes, J=${CRYPTO_J}, D=0, coalesced (--coalesced-wait ${wait}), --verify none, --requests-per-job 0: ${total} requests"
  local -r before=$(cpu_ticks "${CURRENT_BACKEND_PID}")
  local rc=0
  timeout --foreground --kill-after=5 120 \
    "${BIN_DIR}/frontend/offload-frontend" --instance "${CURRENT_INSTANCE}" --lcore 0 --inflight "${CRYPTO_J}" \
    --total "${total}" --notify coalesced --coalesced-wait "${wait}" --op aes-256-gcm-encrypt --payload "${size}" \
    --aad-len "${CRYPTO_AAD}" --verify none --requests-per-job 0 --timeout-ms 120000 --json --log-level warn \
    </dev/null >"${out}" 2>"${err}" || rc=$?
  local -r after=$(cpu_ticks "${CURRENT_BACKEND_PID}")
  if ((rc != 0)) || [[ ! -s ${out} ]]; then
    tail -n 20 "${err}" >&2
    FAILED_RUNS=$((FAILED_RUNS + 1))
    printf '%s\tFAILED\t-\t-\t%s\t%s\n' "${size}" "${total}" "${wait}" >>"${WORK_DIR}/crypto.tsv"
    return 0
  fi
  jq -r --arg be "$(awk -v t=$((after - before)) -v hz="${CLK_TCK}" 'BEGIN { printf "%.2f", t / hz }')" \
    --arg wait "${wait}" '[.payload_bytes, .gbytes_per_s, .cpu_s, ($be | tonumber), .jobs, $wait] | @tsv' "${out}" \
    >>"${WORK_DIR}/crypto.tsv"
}

# crypto_column SIZE WAIT AWK_EXPR: one value per crypto.tsv row of SIZE and
# WAIT ($2 GB/s, $3 frontend CPU s, $4 backend CPU s, $5 requests; s the
# size), failed rows left out.
crypto_column() {
  awk -v s="$1" -v w="$2" -F'\t' '$1 == s && $6 == w && $2 ~ /^[0-9.]+$/ && $5 > 0 { printf "%.4f\n", '"$3"' }' \
    "${WORK_DIR}/crypto.tsv"
}

# shellcheck disable=SC2016 # crypto_column's expressions are awk's, quoted for awk
run_crypto() {
  : >"${WORK_DIR}/crypto.tsv"
  local -A perf=() speed=() perf_runs=() speed_runs=()
  local size rep wait
  local -r speed_s=$(awk -v t="${CELL_S}" 'BEGIN { print (t < 1) ? 1 : int(t + 0.5) }')
  # The references and the offload alternately, CRYPTO_REPS times each, the
  # median of each reported: on this VM one run's figure moves by 10-30 %
  # from one run to the next, the references' included, and one run of each
  # judged ratios made of two unrelated draws (16 KiB: 69-121 %).
  start_backend "$(instance_name crypto)" 0
  for size in "${CRYPTO_SIZES[@]}"; do
    local -a p=() s=()
    for ((rep = 1; rep <= CRYPTO_REPS; rep++)); do
      log "reference: dpdk-test-crypto-perf, crypto_aesni_mb, ${size} bytes (CPU $(backend_cpu)), run ${rep}"
      p+=("$(crypto_perf_gbs "${size}" "$(awk -v s="${size}" -v t="${CELL_S}" 'BEGIN { print int(2e9 / s * t) }')")")
      log "reference: openssl speed -evp aes-256-gcm -bytes ${size} (CPU 0), run ${rep}"
      s+=("$(openssl_speed_gbs "${size}" "${speed_s}")")
      for wait in "${CRYPTO_WAITS[@]}"; do
        crypto_cell "${size}" "$(median "${p[@]}")" "${wait}"
      done
    done
    perf[${size}]=$(median "${p[@]}")
    speed[${size}]=$(median "${s[@]}")
    perf_runs[${size}]="${p[*]}"
    speed_runs[${size}]="${s[*]}"
  done
  stop_current_backend

  printf '\nAES-256-GCM encrypt (%s bytes of AAD), same run. The offload: D=0, J=%s, coalesced, --verify none,\n' \
    "${CRYPTO_AAD}" "${CRYPTO_J}"
  printf '%s\n' "--requests-per-job 0 (each job sends its requests one after another, as openssl speed's jobs do);"
  printf 'the backend on CPU %s (as dpdk-test-crypto-perf'"'"'s worker), the frontend on CPU 0 (as openssl speed);\n' \
    "$(backend_cpu)"
  printf 'alternating, the median of %s runs of each (every run below the table).\n' "${CRYPTO_REPS}"
  local fmt='%-7s %-8s %12s %12s %12s %9s %14s %14s %8s %9s\n'
  # shellcheck disable=SC2059 # the format is ours
  printf "${fmt}" size wait crypto-perf openssl offload "%perf" "fe_cpu_s/GB" "openssl_s/GB" "%cpu" be_cpu_s
  local gbs be_cpu pct fe_per_gb ossl_per_gb cpu_pct runs=''
  for size in "${CRYPTO_SIZES[@]}"; do
    runs+=$(printf '%s bytes, each run: crypto-perf %s GB/s; openssl %s GB/s' \
      "${size}" "${perf_runs[${size}]:--}" "${speed_runs[${size}]:--}")$'\n'
    for wait in "${CRYPTO_WAITS[@]}"; do
      # shellcheck disable=SC2046 # one value per line
      gbs=$(median $(crypto_column "${size}" "${wait}" '$2'))
      # shellcheck disable=SC2046
      be_cpu=$(median $(crypto_column "${size}" "${wait}" '$4'))
      be_cpu=${be_cpu:+$(awk -v v="${be_cpu}" 'BEGIN { printf "%.2f", v }')}
      # shellcheck disable=SC2046
      fe_per_gb=$(median $(crypto_column "${size}" "${wait}" '$3 / ($5 * s / 1e9)'))
      fe_per_gb=${fe_per_gb:+$(awk -v v="${fe_per_gb}" 'BEGIN { printf "%.3f", v }')}
      runs+=$(printf '  --coalesced-wait %s: offload %s GB/s, frontend %s s/GB' "${wait}" \
        "$(crypto_column "${size}" "${wait}" '$2' | xargs)" \
        "$(crypto_column "${size}" "${wait}" '$3 / ($5 * s / 1e9)' | xargs)")$'\n'
      pct=$(awk -v o="${gbs}" -v p="${perf[${size}]:-}" 'BEGIN { if (p > 0 && o ~ /^[0-9.]+$/) printf "%.1f", 100 * o / p; else print "-" }')
      fe_per_gb=${fe_per_gb:--}
      ossl_per_gb=$(awk -v g="${speed[${size}]:-}" 'BEGIN { if (g > 0) printf "%.3f", 1 / g; else print "-" }')
      cpu_pct=$(awk -v a="${fe_per_gb}" -v b="${ossl_per_gb}" 'BEGIN { if (b > 0 && a ~ /^[0-9.]+$/) printf "%.1f", 100 * a / b; else print "-" }')
      printf '%s\t%s\t%s\t%s\n' "${size}" "${pct}" "${cpu_pct}" "${wait}" >>"${WORK_DIR}/crypto-judged.tsv"
      [[ ! ${gbs} =~ ^[0-9.]+$ ]] ||
        printf 'offload J=%s coalesced (%s)\t%s\t%s\n' "${CRYPTO_J}" "${wait}" "${size}" "${gbs}" \
          >>"${WORK_DIR}/${BANDWIDTH_TSV_NAME}"
      # shellcheck disable=SC2059
      printf "${fmt}" "${size}" "${wait}" "${perf[${size}]:--} GB/s" "${speed[${size}]:--} GB/s" "${gbs:--} GB/s" \
        "${pct}" "${fe_per_gb}" "${ossl_per_gb}" "${cpu_pct}" "${be_cpu:--}"
    done
    {
      [[ -z ${perf[${size}]:-} ]] || printf 'dpdk-test-crypto-perf (reference)\t%s\t%s\n' "${size}" "${perf[${size}]}"
      [[ -z ${speed[${size}]:-} ]] || printf 'openssl speed, in process (reference)\t%s\t%s\n' "${size}" "${speed[${size}]}"
    } >>"${WORK_DIR}/${BANDWIDTH_TSV_NAME}"
  done
  printf '%s\n' "fe_cpu_s/GB: the frontend's CPU seconds per GB offloaded; openssl_s/GB: one core's seconds per GB in" \
    "process (1 / its GB/s); %cpu: their ratio, the share of a core the offload still costs the application."
  printf '%s' "${runs}"
}

print_crypto_targets() {
  [[ -s ${WORK_DIR}/crypto-judged.tsv ]] || return 0
  printf '\nTargets (issue 9), for each way the frontend waits (--coalesced-wait), idle vCPUs: %s:\n' "$(halt_poll_text)"
  local wait pct_1k pct_16k cpu_16k
  for wait in "${CRYPTO_WAITS[@]}"; do
    pct_1k=$(awk -F'\t' -v w="${wait}" '$1 == 1024 && $4 == w { print $2 }' "${WORK_DIR}/crypto-judged.tsv")
    pct_16k=$(awk -F'\t' -v w="${wait}" '$1 == 16384 && $4 == w { print $2 }' "${WORK_DIR}/crypto-judged.tsv")
    cpu_16k=$(awk -F'\t' -v w="${wait}" '$1 == 16384 && $4 == w { print $3 }' "${WORK_DIR}/crypto-judged.tsv")
    judge "${wait}: 1 KiB, % of dpdk-test-crypto-perf" "${pct_1k/-/}" ">=" "${TARGET_CRYPTO_PCT_1K}" "%"
    judge "${wait}: 16 KiB, % of dpdk-test-crypto-perf" "${pct_16k/-/}" ">=" "${TARGET_CRYPTO_PCT_16K}" "%"
    judge "${wait}: 16 KiB fe CPU/byte, % of openssl's" "${cpu_16k/-/}" "<=" "${TARGET_FRONTEND_CPU_PCT}" "%"
  done
}

# ---------------------------------------------------------------------------
# The OpenSSL provider (issue 10): unmodified `openssl speed`

# provider_speed_gbs SIZE SECONDS [SPEED FLAGS...]: openssl speed -elapsed
# -aead -evp aes-256-gcm through the offload provider of CURRENT_INSTANCE,
# the application on CPU 0, in GB/s (wall clock: the CPU time openssl
# reports by default would flatter an offload). Also appends the provider's
# exit summary to provider.log.
provider_speed_gbs() {
  local -r size=$1 seconds=$2
  shift 2
  OPENSSL_MODULES="$(repo_root)/build/${PRESET}/provider" OPENSSL_CONF="$(repo_root)/provider/offload-openssl.cnf" \
    OFFLOAD_INSTANCE="${CURRENT_INSTANCE}" OFFLOAD_LOG_LEVEL=info \
    timeout --kill-after=5 $((seconds * 3 + 30)) taskset -c 0 openssl speed -elapsed -mr -aead -seconds "${seconds}" \
    -bytes "${size}" "$@" -evp aes-256-gcm 2>>"${WORK_DIR}/provider.log" </dev/null |
    awk -F: '$1 == "+F" { printf "%.4f\n", $NF / 1e9 }' | tail -n 1
}

# openssl_speed_aead_gbs SIZE SECONDS: the same in process (the default
# provider only), CPU 0.
openssl_speed_aead_gbs() {
  OPENSSL_CONF=/dev/null taskset -c 0 openssl speed -elapsed -mr -aead -seconds "$2" -bytes "$1" -evp aes-256-gcm \
    2>/dev/null </dev/null | awk -F: '$1 == "+F" { printf "%.4f\n", $NF / 1e9 }' | tail -n 1
}

# median VALUES...: the middle one (of an odd count), or nothing.
median() {
  printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END { if (NR > 0) print v[int((NR + 1) / 2)] }'
}

run_provider() {
  local -r seconds=$(awk -v t="${CELL_S}" 'BEGIN { print (t < 2) ? 2 : int(t + 0.5) }')
  local -A inproc=() offload=() inproc_runs=() offload_runs=()
  local size rep
  start_backend "$(instance_name provider0)" 0
  # In process and through the provider alternately, PROVIDER_REPS times
  # each, the median of each reported: on this VM one run's figure moves by
  # 10-20 % from one second to the next, both ways.
  for size in 1024 16384; do
    local -a a=() b=()
    for ((rep = 1; rep <= PROVIDER_REPS; rep++)); do
      log "reference: openssl speed -elapsed -aead -evp aes-256-gcm -bytes ${size}, in process (CPU 0), run ${rep}"
      a+=("$(openssl_speed_aead_gbs "${size}" "${seconds}")")
      log "provider: openssl speed -async_jobs ${PROVIDER_J} -bytes ${size}, D=0, run ${rep}"
      b+=("$(provider_speed_gbs "${size}" "${seconds}" -async_jobs "${PROVIDER_J}")")
    done
    inproc[${size}]=$(median "${a[@]}")
    offload[${size}]=$(median "${b[@]}")
    inproc_runs[${size}]="${a[*]}"
    offload_runs[${size}]="${b[*]}"
  done
  stop_current_backend
  start_backend "$(instance_name provider1)" "${PROVIDER_D}"
  log "provider: openssl speed -bytes 1024, D=${PROVIDER_D} ms, synchronous (no -async_jobs)"
  local -r sync_gbs=$(provider_speed_gbs 1024 "${seconds}")
  log "provider: openssl speed -async_jobs ${PROVIDER_J} -bytes 1024, D=${PROVIDER_D} ms"
  local -r async_gbs=$(provider_speed_gbs 1024 "${seconds}" -async_jobs "${PROVIDER_J}")
  stop_current_backend

  printf '\nThe offload provider: unmodified openssl speed -elapsed -aead -evp aes-256-gcm (13 bytes of AAD),\n'
  printf 'the application on CPU 0, the backend on CPU %s; same run, alternating, the median of %s runs each.\n' \
    "$(backend_cpu)" "${PROVIDER_REPS}"
  local fmt='%-7s %16s %24s %8s\n'
  # shellcheck disable=SC2059 # the format is ours
  printf "${fmt}" size "in process" "provider J=${PROVIDER_J} D=0" "%"
  for size in 1024 16384; do
    # shellcheck disable=SC2059
    printf "${fmt}" "${size}" "${inproc[${size}]:--} GB/s" "${offload[${size}]:--} GB/s" \
      "$(awk -v o="${offload[${size}]:-}" -v i="${inproc[${size}]:-}" 'BEGIN { if (i > 0 && o > 0) printf "%.1f", 100 * o / i; else print "-" }')"
    {
      [[ -z ${inproc[${size}]:-} ]] || printf 'openssl speed -aead, in process\t%s\t%s\n' "${size}" "${inproc[${size}]}"
      [[ -z ${offload[${size}]:-} ]] || printf 'openssl speed through the provider J=%s\t%s\t%s\n' "${PROVIDER_J}" "${size}" "${offload[${size}]}"
    } >>"${WORK_DIR}/${BANDWIDTH_TSV_NAME}"
  done
  local -r ratio=$(awk -v a="${async_gbs:-0}" -v s="${sync_gbs:-0}" 'BEGIN { if (s > 0 && a > 0) printf "%.1f", a / s }')
  for size in 1024 16384; do
    printf '%s bytes, each run (GB/s): in process %s; provider %s\n' "${size}" "${inproc_runs[${size}]}" \
      "${offload_runs[${size}]}"
  done
  printf 'D=%s ms, 1024 bytes: synchronous %s GB/s (%s ops/s), -async_jobs %s %s GB/s (%s ops/s): x%s\n' \
    "${PROVIDER_D}" "${sync_gbs:--}" "$(awk -v g="${sync_gbs:-0}" 'BEGIN { printf "%.0f", g * 1e9 / 1024 }')" \
    "${PROVIDER_J}" "${async_gbs:--}" "$(awk -v g="${async_gbs:-0}" 'BEGIN { printf "%.0f", g * 1e9 / 1024 }')" \
    "${ratio:--}"
  printf 'The provider'"'"'s exit summaries (what ran on the device, in software, failed):\n'
  grep -h "offload provider, instance" "${WORK_DIR}/provider.log" | sed 's/^.*\] //; s/^/  /' || true
  printf '\nTargets (issue 10):\n'
  judge "provider 16 KiB D=0: % of in-process speed" \
    "$(awk -v o="${offload[16384]:-}" -v i="${inproc[16384]:-}" 'BEGIN { if (i > 0 && o > 0) printf "%.1f", 100 * o / i }')" \
    ">=" "${TARGET_PROVIDER_PCT_16K}" "%"
  judge "provider 1 KiB D=${PROVIDER_D} ms: async_jobs ${PROVIDER_J} / sync" "${ratio}" ">=" "${TARGET_PROVIDER_ASYNC_X}" "x"
}

# ---------------------------------------------------------------------------
# Output

print_costs() {
  local -r json=$1
  jq -r '
    def f(x; n): (x * pow(10; n) | round) / pow(10; n);
    "The costs that bound the numbers (offload-microbench, \(.iterations) iterations; CPU \(.parent_cpu) and CPU \(.child_cpu)):",
    "  ASYNC start+pause+resume+finish          \(f(.async_cycle_ns; 0)) ns",
    "  rte_ring round trip across processes     \(f(.ring_round_trip_ns; 0)) ns (both busy-poll, one in flight)",
    "  rte_ring pipelined across processes      \(f(.ring_pipelined_msgs_per_s / 1e6; 1)) M round trips/s (\(.ring_window) in flight, bursts of \(.ring_burst))",
    "  eventfd wake across processes            \(f(.eventfd_wake_us; 1)) us (epoll_wait ping-pong, round trip \(f(.eventfd_round_trip_us; 1)) us / 2)",
    "  eventfd write + read, nobody waiting     \(f(.eventfd_write_read_ns; 0)) ns",
    "  one syscall (getppid)                    \(f(.syscall_ns; 0)) ns",
    "  nanosleep(\(f(.nap_requested_us; 0)) us) really takes            \(f(.nap_actual_us; 1)) us (default timer slack)",
    "  CPU of one such nanosleep                \(f(.nap_cpu_us; 1)) us (arming the timer and the wake)",
    "What they bound:",
    "  - frontend CPU per job >= one ASYNC cycle: at most \(f(1000 / .async_cycle_ns; 1)) M jobs/s per frontend core",
    "  - J=1, D=0, neither side asleep: a request >= one ring round trip (\(f(.ring_round_trip_ns / 1000; 2)) us)",
    "  - a request whose frontend was asleep pays a wake on top (\(f(.eventfd_wake_us; 1)) us)",
    "  - eventfd mode: per job one eventfd write (backend) + read (frontend) >= \(f(.eventfd_write_read_ns; 0)) ns of syscalls, plus epoll_wait",
    "  - coalesced/callback: one doorbell (or none) per burst; the rings alone allow \(f(.ring_pipelined_msgs_per_s / 1e6; 0)) M/s",
    "  - an idle poller that naps wakes late: a backend sleeping until a deadline, a callback-mode",
    "    frontend napping \(f(.nap_requested_us; 0)) us between polls, each adds up to \(f(.nap_actual_us - .nap_requested_us; 0)) us",
    "  - --coalesced-wait nap: each nap costs the frontend that CPU; a doorbell costs the backend an eventfd write",
    "  - D > 0: Little\u0027s law, throughput <= J / D; the lateness above lowers the share of J/D reached"' <<<"${json}"
}

print_table() {
  awk 'BEGIN {
      FS = "\t"
      fmt = "%-20s %4s %5s %9s %10s %7s %9s %9s %9s %7s %8s\n"
      printf "\n" fmt, "mode", "J", "D_ms", "requests", "jobs/s", "%ideal", "p50_us", "p99_us", "p999_us", "cpu_s", "be_cpu_s"
    }
    NR > 1 && $3 != last_d { printf "\n" }
    { last_d = $3 }
    $5 ~ /^FAILED/ { printf "%-20s %4s %5s %9s   %s\n", $1, $2, $3, $4, $5; next }
    {
      rate = $5 ($13 != 0 ? "(" $13 " failed)" : "")
      be = ($11 == "-") ? "-" : sprintf("%.2f", $11)
      printf fmt, $1, $2, $3, $4, rate, $6, sprintf("%.1f", $7), sprintf("%.1f", $8), sprintf("%.1f", $9),
        sprintf("%.2f", $10), be
    }' "${WORK_DIR}/results.tsv"
  printf '%s\n' "cpu_s: the frontend's CPU during its run (DPDK start-up excluded; threadsim: its process CPU time); be_cpu_s: the backend's CPU time during the cell" \
    "(it busy-polls while it has work). Latency: per request, submit to resume."
}

# lookup MODE J D FIELD: a field of a recorded row (empty if absent or failed).
lookup() {
  awk -v m="$1" -v j="$2" -v d="$3" -v f="$4" 'BEGIN { FS = "\t" }
    $1 == m && $2 == j && $3 == d && $5 !~ /^FAILED/ {
      split("mode J D total rate pct p50 p99 p999 cpu be ok failed", names, " ")
      for (i in names) if (names[i] == f) { print $i; exit }
    }' "${WORK_DIR}/results.tsv"
}

MISSED_TARGETS=0

# judge LABEL VALUE OP LIMIT UNIT: prints one target line, PASS or FAIL.
judge() {
  local -r label=$1 value=$2 op=$3 limit=$4 unit=$5
  local verdict
  if [[ -z ${value} ]]; then
    verdict="FAIL (no result)"
  elif awk -v v="${value}" -v l="${limit}" -v op="${op}" 'BEGIN { exit !((op == ">=") ? v >= l : v <= l) }'; then
    verdict=PASS
  else
    verdict=FAIL
  fi
  [[ ${verdict} == PASS ]] || MISSED_TARGETS=$((MISSED_TARGETS + 1))
  printf '  %-44s %14s %-8s (target %s %s %s)  %s\n' "${label}" "${value:-?}" "${unit}" "${op}" "${limit}" "${unit}" "${verdict}"
}

print_targets() {
  printf '\nTargets (issues 4 and 9):\n'
  local notify
  for notify in "${NOTIFY_MODES[@]}"; do
    judge "D=${TARGET_D} ms J=${TARGET_J} ${notify}: % of J/D" \
      "$(lookup "frontend-${notify}" "${TARGET_J}" "${TARGET_D}" pct)" ">=" "${TARGET_LITTLE_PCT}" "%"
  done
  judge "D=0 J=256 coalesced: throughput" "$(lookup frontend-coalesced 256 0 rate)" ">=" "${TARGET_COALESCED}" "jobs/s"
  judge "D=0 J=256 eventfd: throughput" "$(lookup frontend-eventfd 256 0 rate)" ">=" "${TARGET_EVENTFD}" "jobs/s"
  printf '  %-44s %14s %-8s (reported, no target)\n' "D=0 J=256 callback: throughput" \
    "$(lookup frontend-callback 256 0 rate)" "jobs/s"
  judge "J=1 D=0 eventfd: p50 latency" "$(lookup frontend-eventfd 1 0 p50)" "<=" "${TARGET_P50_US}" "us"
}

# write_plots COMMAND_LINE: the table, headed by how it was measured, and
# its plots (scripts/plot-bench.sh) into PLOT_DIR.
write_plots() {
  local -r command_line=$1 day=$(date -u '+%Y-%m-%d %H:%M UTC')
  mkdir -p "${PLOT_DIR}"
  local -r table=${PLOT_DIR}/bench-results.tsv
  {
    printf '# %s: %s, %s CPU(s), load average before %s\n' "${command_line}" "${day}" "$(nproc)" "${LOAD_BEFORE}"
    printf '# mode\tJ\tD_ms\trequests\tjobs_per_s\tpct_ideal\tp50_us\tp99_us\tp999_us\tcpu_s\tbe_cpu_s\tok\tfailed\n'
    cat "${WORK_DIR}/results.tsv"
  } >"${table}"
  local -a plot_args=(--results "${table}" --out "${PLOT_DIR}" --title "${command_line//\"/} (${day}, $(nproc) CPUs, load ${LOAD_BEFORE%% *})")
  if [[ -s ${WORK_DIR}/${BANDWIDTH_TSV_NAME} ]]; then
    cp "${WORK_DIR}/${BANDWIDTH_TSV_NAME}" "${PLOT_DIR}/bench-bandwidth.tsv"
    plot_args+=(--bandwidth "${PLOT_DIR}/bench-bandwidth.tsv")
  fi
  if ! "${SCRIPT_DIR}/plot-bench.sh" "${plot_args[@]}"; then
    log "plotting failed (its error is above); the table is in ${table}"
    FAILED_RUNS=$((FAILED_RUNS + 1))
    return 0
  fi
  local -a pngs=("${PLOT_DIR}"/*.png)
  printf '\nPlots (scripts/plot-bench.sh, from %s):\n' "${table}"
  printf '  %s\n' "${pngs[@]}"
}

# ---------------------------------------------------------------------------
# Soak

run_soak() {
  local -r instance=$(instance_name soak)
  start_backend "${instance}" 0
  local -r backend_pid=${CURRENT_BACKEND_PID}
  local -r out="${WORK_DIR}/soak.json" err="${WORK_DIR}/soak.log" samples="${WORK_DIR}/soak.tsv"
  log "soak: ${SOAK_TOTAL} requests, ${SOAK_NOTIFY}, J=${SOAK_J}, D=0; sampling VmRSS every ${SOAK_SAMPLE_S} s"
  "${BIN_DIR}/frontend/offload-frontend" --instance "${instance}" --inflight "${SOAK_J}" --total "${SOAK_TOTAL}" \
    --notify "${SOAK_NOTIFY}" --timeout-ms $((SOAK_MAX_SAMPLES * 250)) --json --log-level warn \
    </dev/null >"${out}" 2>"${err}" &
  SOAK_FRONTEND_PID=$!
  local -r started=${EPOCHREALTIME}
  local n=0 fe be
  : >"${samples}"
  while ((n < SOAK_MAX_SAMPLES)); do
    sleep "${SOAK_SAMPLE_S}"
    n=$((n + 1))
    fe=$(vm_rss_kb "${SOAK_FRONTEND_PID}")
    be=$(vm_rss_kb "${backend_pid}")
    [[ -n ${fe} && -n ${be} ]] || break
    printf '%s\t%s\t%s\n' "$(awk -v a="${started}" -v b="${EPOCHREALTIME}" 'BEGIN { printf "%.2f", b - a }')" \
      "${fe}" "${be}" >>"${samples}"
  done
  local rc=0
  if ((n >= SOAK_MAX_SAMPLES)); then
    log "soak: still running after $((SOAK_MAX_SAMPLES / 4)) s: stopping it"
    stop_process "${SOAK_FRONTEND_PID}"
    rc=124
  else
    wait_exit "${SOAK_FRONTEND_PID}" || rc=$?
  fi
  SOAK_FRONTEND_PID=""
  stop_current_backend

  printf '\nSoak (%s requests, %s, J=%s, D=0; VmRSS in kB):\n' "${SOAK_TOTAL}" "${SOAK_NOTIFY}" "${SOAK_J}"
  if [[ ! -s ${out} ]] || ((rc != 0)); then
    tail -n 20 "${err}" >&2
    printf '  FAILED: the frontend exited with %s\n' "${rc}"
    FAILED_RUNS=$((FAILED_RUNS + 1))
    return 0
  fi
  jq -r '"  run: \(.ok) ok, \(.failed) failed in \(.wall_s) s (\(.throughput_jobs_per_s | floor) jobs/s), p99 \(.latency_us.p99) us"' "${out}"
  # start: the first sample a second in (EAL, pools and jobs set up); middle;
  # end: the last sample taken while the frontend still ran.
  awk -v flat="${SOAK_FLAT_KB}" 'BEGIN { FS = "\t" }
    { t[NR] = $1; fe[NR] = $2; be[NR] = $3; if ($1 >= 1.0 && s == 0) s = NR }
    END {
      if (NR == 0) { print "  no samples (the run ended within the first interval)"; exit }
      if (s == 0) s = 1
      m = int((s + NR) / 2); e = NR
      printf "  %-9s %8s %8s %8s %12s\n", "process", "start", "middle", "end", "end - start"
      printf "  %-9s %8d %8d %8d %12d\n", "frontend", fe[s], fe[m], fe[e], fe[e] - fe[s]
      printf "  %-9s %8d %8d %8d %12d\n", "backend", be[s], be[m], be[e], be[e] - be[s]
      printf "  samples at %.2f s, %.2f s and %.2f s (%d taken)\n", t[s], t[m], t[e], NR
      ok = (fe[e] - fe[s] <= flat) && (be[e] - be[s] <= flat)
      printf "  memory flat (each grew <= %d kB from start to end): %s\n", flat, ok ? "yes" : "NO"
    }' "${samples}"
}

# ---------------------------------------------------------------------------
# Churn

run_churn() {
  local -r seconds=$1 instance=$(instance_name churn)
  start_backend "${instance}" "${CHURN_D_MS}"
  local -r backend_pid=${CURRENT_BACKEND_PID}
  local -r rss_before=$(vm_rss_kb "${backend_pid}")
  log "churn: ${seconds} s of frontends starting and stopping, up to ${CHURN_MAX_AT_ONCE} at once (scripts/churn.sh)"
  local result rc=0
  result=$("${SCRIPT_DIR}/churn.sh" --instance "${instance}" --duration "${seconds}" \
    --max-at-once "${CHURN_MAX_AT_ONCE}" --frontend "${BIN_DIR}/frontend/offload-frontend" \
    --work-dir "${WORK_DIR}/churn") || rc=$?
  local -r rss_after=$(vm_rss_kb "${backend_pid}")
  local stats
  stats=$("${BIN_DIR}/frontend/offload-frontend" --instance "${instance}" --stats 2>/dev/null) || stats='{}'
  local -r hotplugs=$(grep -c 'DPDK memory hotplug while serving' "${WORK_DIR}/backend-${instance}.log" || true)
  stop_current_backend

  printf 'Churn (%s s, up to %s frontends at once, D=%s ms):\n' "${seconds}" "${CHURN_MAX_AT_ONCE}" "${CHURN_D_MS}"
  if [[ -z ${result} ]]; then
    printf '  FAILED: churn.sh exited %s with no result\n' "${rc}"
    FAILED_RUNS=$((FAILED_RUNS + 1))
    return 0
  fi
  jq -r '"  frontends: \(.frontends) in \(.seconds) s (\(.attach_per_s) attach+detach/s), failed: \(.failed), at most \(.max_at_once) at once",
    "  DPDK start-up of a frontend: p50 \(.startup_ms.p50) ms, p99 \(.startup_ms.p99) ms, max \(.startup_ms.max) ms",
    "  DPDK clean-up of a frontend: p50 \(.cleanup_ms.p50) ms, p99 \(.cleanup_ms.p99) ms, max \(.cleanup_ms.max) ms",
    (.failures[] | "  FAILED: \(.)")' <<<"${result}"
  printf '  backend VmRSS: %s kB before, %s kB after (%+d kB)\n' "${rss_before}" "${rss_after}" \
    $((rss_after - rss_before))
  printf '  memory hotplug events while serving: %s (must be 0)\n' "${hotplugs}"
  printf '  pools afterwards: %s\n' "$(jq -c '{mempool_size, mempool_available, frontends, rejected}' <<<"${stats}")"
  if ((rc != 0)) || ((hotplugs != 0)) ||
    ! jq -e '.mempool_available == .mempool_size and .frontends == 0' <<<"${stats}" >/dev/null 2>&1; then
    FAILED_RUNS=$((FAILED_RUNS + 1))
  fi
}

# ---------------------------------------------------------------------------

build_if_needed() {
  local -r build_log="${WORK_DIR}/build.log"
  local -a args=()
  local target
  for target in "${TARGETS[@]}"; do args+=(--target "${target}"); done
  log "building ${TARGETS[*]} (${PRESET}, incremental)"
  if ! "${SCRIPT_DIR}/build.sh" "${PRESET}" "${args[@]}" >"${build_log}" 2>&1; then
    cat "${build_log}" >&2
    die 1 "the build failed (its output is above)"
  fi
}

print_machine() {
  local -r model=$(awk -F': *' '$1 ~ /^model name/ { print $2; exit }' /proc/cpuinfo)
  printf 'Machine: %s CPU(s), %s; kernel %s; Debian %s\n' "$(nproc)" "${model:-unknown CPU}" "$(uname -r)" \
    "$(cat /etc/debian_version 2>/dev/null || echo '?')"
  local -r load=$(cut -d' ' -f1 /proc/loadavg)
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  printf 'Idle vCPUs (%s): %s\n' "${HALT_POLL_FILE}" "$(halt_poll_text)"
  printf 'Load average before: %s\n' "${LOAD_BEFORE}"
  if awk -v l="${load}" -v max="${QUIET_LOAD}" 'BEGIN { exit !(l > max) }'; then
    printf 'WARNING: the machine is not idle (load average %s > %s): the figures below are not representative\n' \
      "${load}" "${QUIET_LOAD}"
  fi
  printf '\n'
}

main() {
  local -r command_line="${SCRIPT_NAME}${*:+ $*}"
  local quick=false soak=false build=true strict=false churn_s="" crypto_only=false provider_only=false
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --quick) quick=true ;;
      --soak) soak=true ;;
      --crypto) crypto_only=true ;;
      --provider) provider_only=true ;;
      --churn)
        churn_s=${CHURN_S_DEFAULT}
        if [[ ${2:-} =~ ^[0-9]+$ ]]; then
          churn_s=$2
          shift
        fi
        ((churn_s >= 1)) || usage_error "--churn: '${churn_s}' is not a whole number of seconds >= 1"
        ;;
      --inflight)
        [[ ${2:-} =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
          usage_error "--inflight: '${2:-}' is not a comma-separated list of whole numbers >= 1"
        IFS=, read -r -a JS <<<"$2"
        local j
        for j in "${JS[@]}"; do
          ((j <= 1024)) || usage_error "--inflight: ${j} is more than a frontend's 1024 jobs"
        done
        shift
        ;;
      --plot)
        # Relative to the repository root (where the script runs) by default,
        # to the caller's directory when given.
        PLOT_DIR=$(repo_root)/${PLOT_DIR_DEFAULT}
        if [[ -n ${2:-} && ${2} != -* ]]; then
          PLOT_DIR=$(realpath -m -- "$2")
          shift
        fi
        ;;
      --halt-poll-us)
        if [[ ! ${2:-} =~ ^[0-9]{1,8}$ ]] || ((10#$2 > HALT_POLL_US_MAX)); then
          usage_error "--halt-poll-us: '${2:-}' is not a whole number of microseconds in 0..${HALT_POLL_US_MAX}"
        fi
        HALT_POLL_US=$((10#$2))
        shift
        ;;
      --no-build) build=false ;;
      --strict) strict=true ;;
      *) usage_error "unexpected argument: $1" ;;
    esac
    shift
  done
  if [[ -n ${PLOT_DIR} && (-n ${churn_s} || ${soak} == true) ]]; then
    usage_error "--plot draws the J x D table: not with --soak or --churn"
  fi
  local iterations=${MICROBENCH_ITERATIONS_DEFAULT}
  if [[ ${quick} == true ]]; then
    CELL_S=${CELL_S_QUICK}
    iterations=${MICROBENCH_ITERATIONS_QUICK}
  fi

  cd "$(repo_root)"
  command -v jq >/dev/null || die "${EXIT_ENVIRONMENT}" "jq not found: run scripts/install-deps.sh"
  command -v timeout >/dev/null || die "${EXIT_ENVIRONMENT}" "timeout (coreutils) not found"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  WORK_DIR=$(mktemp -d -t offload-bench.XXXXXX)
  BIN_DIR="$(repo_root)/build/${PRESET}/apps"
  CLK_TCK=$(getconf CLK_TCK)

  if [[ -n ${PLOT_DIR} ]] && ! command -v gnuplot >/dev/null; then
    log "--plot: gnuplot is missing: installing it (scripts/install-deps.sh --with-plot)"
    "${SCRIPT_DIR}/install-deps.sh" --with-plot
  fi
  [[ ${build} == false ]] || build_if_needed
  local target
  for target in backend frontend threadsim microbench; do
    [[ -x ${BIN_DIR}/${target}/offload-${target} ]] ||
      die "${EXIT_ENVIRONMENT}" "${BIN_DIR}/${target}/offload-${target} is missing (drop --no-build?)"
  done
  "${SCRIPT_DIR}/setup-hugepages.sh"
  [[ -z ${HALT_POLL_US} ]] || set_halt_poll "${HALT_POLL_US}"

  local -r started=${SECONDS}
  print_machine
  if [[ -n ${churn_s} ]]; then
    run_churn "${churn_s}"
  elif [[ ${soak} == true ]]; then
    run_soak
  elif [[ ${crypto_only} == true ]]; then
    run_crypto
    print_crypto_targets
  elif [[ ${provider_only} == true ]]; then
    run_provider
  else
    log "measuring the unit costs (offload-microbench --iterations ${iterations})"
    local costs
    costs=$("${BIN_DIR}/microbench/offload-microbench" --iterations "${iterations}" --json) ||
      die 1 "offload-microbench failed (its error is above)"
    print_costs "${costs}"
    : >"${WORK_DIR}/results.tsv"
    run_matrix
    print_table
    run_crypto
    print_targets
    print_crypto_targets
    run_provider
    [[ -z ${PLOT_DIR} ]] || write_plots "${command_line}"
  fi

  printf '\nLoad average after: %s; %d s in all%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" $((SECONDS - started)) \
    "$([[ ${quick} == true ]] && echo ' (--quick)')"
  if ((FAILED_RUNS > 0)); then
    log "${FAILED_RUNS} run(s) failed (see the table)"
    return 1
  fi
  if [[ ${strict} == true ]] && ((MISSED_TARGETS > 0)); then
    log "${MISSED_TARGETS} target(s) missed (--strict)"
    return 1
  fi
  return 0
}

main "$@"
