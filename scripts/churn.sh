#!/usr/bin/env bash
# Frontend churn against a running backend: frontends with random job counts,
# request counts and notification modes start and stop continuously, up to
# N at once, with a random stagger, for a given time. Used by the Bats churn
# test (tests/bats/lifecycle.bats) and by bench.sh --churn (the long soak).
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly NOTIFY_MODES=(eventfd callback coalesced)
# Each frontend's own bound: a healthy one takes well under a second.
readonly FRONTEND_BOUND_S=30
# Stopped (SIGINT/SIGTERM), how long the frontends still running get to exit
# after their SIGTERM before they are killed: a frontend stops within about
# 2 s (its jobs get 1 s), its DPDK clean-up is bounded.
readonly STOP_GRACE_POLLS=240  # x 0.05 s

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} --instance NAME --duration S [--max-at-once N] [--seed N]
                [--frontend PATH] [--work-dir DIR] [--help]

Starts offload-frontend processes against the backend of instance NAME for S
seconds: each with a random --inflight (1..64), --total (1..2000 requests;
a quarter of them walkthroughs, --jobs 1..64) and --notify mode, up to N (default
8) at once, the next one after a random stagger of 0..100 ms. Each frontend is
bounded (${FRONTEND_BOUND_S} s). Waits for the last one, then prints one JSON line on
stdout:
  {"frontends":..,"failed":..,"seconds":..,"attach_per_s":..,
   "startup_ms":{"p50":..,"p99":..,"max":..},"cleanup_ms":{"p50":..,"p99":..,"max":..},
   "max_at_once":..,"failures":["frontend-17: exit 3", ...]}
A frontend fails when it exits non-zero or its JSON summary does not show
every job verified. Per-frontend stdout and stderr are kept in DIR (default: a
temporary directory, removed at the end unless something failed).

  --frontend PATH   the offload-frontend binary (default build/release/apps/frontend/offload-frontend)

Exit codes: 0 every frontend verified, 1 some frontend failed, 2 bad usage, 3 no backend.
EOF
}

# percentiles FILE: "p50 p99 max" of the numbers in FILE (one a line).
percentiles() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "null null null"; exit }
    p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
    print p50, p99, v[NR] }'
}

main() {
  local instance="" duration="" max_at_once=8 seed=${RANDOM} work_dir="" frontend=""
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --instance | --duration | --max-at-once | --seed | --frontend | --work-dir)
        (($# >= 2)) || usage_error "$1 needs a value"
        case $1 in
          --instance) instance=$2 ;;
          --duration) duration=$2 ;;
          --max-at-once) max_at_once=$2 ;;
          --seed) seed=$2 ;;
          --frontend) frontend=$2 ;;
          --work-dir) work_dir=$2 ;;
        esac
        shift
        ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done
  [[ -n ${instance} ]] || usage_error "--instance is required"
  [[ ${duration} =~ ^[0-9]+$ && ${duration} -ge 1 ]] || usage_error "--duration: '${duration}' is not a whole number of seconds >= 1"
  [[ ${max_at_once} =~ ^[0-9]+$ && ${max_at_once} -ge 1 && ${max_at_once} -le 16 ]] ||
    usage_error "--max-at-once: '${max_at_once}' is not an integer in 1..16"
  [[ ${seed} =~ ^[0-9]+$ ]] || usage_error "--seed: '${seed}' is not a non-negative integer"
  frontend=${frontend:-$(repo_root)/build/release/apps/frontend/offload-frontend}
  [[ -x ${frontend} ]] || usage_error "no frontend binary at ${frontend} (build it: scripts/build.sh release)"
  [[ -f /var/run/dpdk/${instance}/offload-backend.ready ]] ||
    die "${EXIT_ENVIRONMENT}" "no offload-backend is serving instance '${instance}': start one (offload-backend --instance ${instance})"

  local keep_dir=true
  if [[ -z ${work_dir} ]]; then
    work_dir=$(mktemp -d)
    keep_dir=false
  fi
  mkdir -p "${work_dir}"
  RANDOM=${seed}

  # pid -> name of the frontends running now. Global: the EXIT trap runs
  # after this function's locals are gone (an errexit inside it once left
  # stop_running an empty list, and the frontends running).
  declare -gA running=()
  local started=0 failed=0 most=0 finished_pid status
  local -a failures=()
  local -r t0=${EPOCHREALTIME}
  local -r deadline=$((${t0%.*} + duration))

  reap_one() {
    status=0
    finished_pid=""
    wait -n -p finished_pid "${!running[@]}" || status=$?
    # A signal (trapped below) ends the wait with nothing reaped.
    [[ -n ${finished_pid:-} ]] || return 0
    local -r name=${running[${finished_pid}]}
    unset "running[${finished_pid}]"
    local why=""
    if ((status != 0)); then
      why="exit ${status}"
    elif ! jq -e '.jobs == .ok and .failed == 0 and .pending == 0' "${work_dir}/${name}.out" >/dev/null 2>&1; then
      why="not every job verified: $(head -c 300 "${work_dir}/${name}.out")"
    fi
    if [[ -n ${why} ]]; then
      failed=$((failed + 1))
      failures+=("${name}: ${why}")
      log "${name} FAILED (${why}); its log: ${work_dir}/${name}.log"
    fi
  }
  # Stops what is still running when the script itself is stopped, and
  # waits for it: a frontend still in its clean-up after this script exited
  # outlived the backend that bench.sh then stopped (tests/bats/bench.bats
  # found one in 6 runs of 20). Each `timeout` leads its own process group.
  # shellcheck disable=SC2317 # called by the trap
  stop_running() {
    local pid polls=0 alive
    local -a pids=("${!running[@]}")
    for pid in "${pids[@]}"; do kill -TERM "${pid}" 2>/dev/null || true; done
    while ((polls < STOP_GRACE_POLLS)); do
      alive=false
      for pid in "${pids[@]}"; do
        # A zombie (exited, not yet reaped) still answers kill -0.
        if [[ $(awk '{ print $3 }' "/proc/${pid}/stat" 2>/dev/null) =~ ^[^Z]$ ]]; then
          alive=true
          break
        fi
      done
      [[ ${alive} == true ]] || break
      sleep 0.05
      polls=$((polls + 1))
    done
    for pid in "${pids[@]}"; do
      if ((polls >= STOP_GRACE_POLLS)); then
        log "frontend ${running[${pid}]} did not stop within $((STOP_GRACE_POLLS * 5 / 100)) s of SIGTERM: SIGKILL"
        kill -KILL -- "-${pid}" 2>/dev/null || true
      fi
      wait "${pid}" 2>/dev/null || true
    done
  }
  trap stop_running EXIT
  # Ctrl-C or a TERM ends the churn at once (wait -n and sleep return on
  # it), but only between two steps: a signal taken between a frontend's
  # start and running[$!]=... left that one out of running, and running
  # after this script (seen under load).
  local stop_signal=0
  trap 'stop_signal=130' INT
  trap 'stop_signal=143' TERM

  while ((EPOCHSECONDS < deadline && stop_signal == 0)); do
    while ((${#running[@]} >= max_at_once && stop_signal == 0)); do reap_one; done
    ((stop_signal == 0)) || break
    local notify=${NOTIFY_MODES[RANDOM % ${#NOTIFY_MODES[@]}]}
    local -a load
    if ((RANDOM % 4 == 0)); then
      load=(--jobs $((RANDOM % 64 + 1)))
    else
      load=(--inflight $((RANDOM % 64 + 1)) --total $((RANDOM % 2000 + 1)))
    fi
    local name=frontend-${started}
    timeout --kill-after=5 "${FRONTEND_BOUND_S}" "${frontend}" --instance "${instance}" --notify "${notify}" \
      "${load[@]}" --payload $((RANDOM % 4096 + 1)) --json --log-level info \
      >"${work_dir}/${name}.out" 2>"${work_dir}/${name}.log" 3>&- &
    running[$!]=${name}
    started=$((started + 1))
    ((${#running[@]} > most)) && most=${#running[@]}
    # A Ctrl-C kills this sleep too: not an error (the loop then stops).
    sleep "0.$(printf '%03d' $((RANDOM % 100)))" || true
  done
  while ((${#running[@]} > 0 && stop_signal == 0)); do reap_one; done
  if ((stop_signal != 0)); then
    stop_running
    trap - EXIT
    exit "${stop_signal}"
  fi
  trap - EXIT INT TERM

  local -r seconds=$(awk -v a="${t0}" -v b="${EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }')
  cat "${work_dir}"/frontend-*.log | sed -n 's/.*DPDK start-up took \([0-9]*\) ms.*/\1/p' >"${work_dir}/startup.ms"
  cat "${work_dir}"/frontend-*.log | sed -n 's/.*DPDK clean-up took \([0-9]*\) ms.*/\1/p' >"${work_dir}/cleanup.ms"
  local s50 s99 smax c50 c99 cmax
  read -r s50 s99 smax < <(percentiles "${work_dir}/startup.ms")
  read -r c50 c99 cmax < <(percentiles "${work_dir}/cleanup.ms")
  local failures_json
  failures_json=$(printf '%s\n' "${failures[@]}" | jq -R . | jq -cs 'map(select(length > 0))')
  jq -cn --argjson frontends "${started}" --argjson failed "${failed}" --argjson seconds "${seconds}" \
    --argjson s50 "${s50}" --argjson s99 "${s99}" --argjson smax "${smax}" \
    --argjson c50 "${c50}" --argjson c99 "${c99}" --argjson cmax "${cmax}" \
    --argjson most "${most}" --argjson failures "${failures_json}" \
    '{frontends: $frontends, failed: $failed, seconds: $seconds,
      attach_per_s: (if $seconds > 0 then ($frontends / $seconds * 10 | round / 10) else null end),
      startup_ms: {p50: $s50, p99: $s99, max: $smax}, cleanup_ms: {p50: $c50, p99: $c99, max: $cmax},
      max_at_once: $most, failures: $failures}'
  if ((failed == 0)) && [[ ${keep_dir} == false ]]; then rm -rf "${work_dir}"; fi
  ((failed == 0))
}

main "$@"
