#!/usr/bin/env bash
# Gives DPDK what it needs from the kernel: enough 2 MiB hugepages and a
# hugetlbfs mount at /dev/hugepages. Never lowers what is already there.
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly DEFAULT_PAGES=512
readonly PAGE_KB=2048
readonly SYSFS_DIR=/sys/kernel/mm/hugepages/hugepages-${PAGE_KB}kB
readonly MOUNT_POINT=/dev/hugepages

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [--pages N] [--check] [--help]

Ensures at least N (default ${DEFAULT_PAGES}) 2 MiB hugepages in total (raising
vm.nr_hugepages, never lowering a larger value) and a hugetlbfs mount at ${MOUNT_POINT}.
Prints what it did. Without root it prints the commands to run instead.

  --pages N   the number of 2 MiB pages wanted (default ${DEFAULT_PAGES})
  --check     change nothing: report on stdout whether both are in place

Exit codes: 0 in place, 2 bad usage, 3 not in place (not root, --check, or the
kernel could not provide the pages).
EOF
}

hugetlbfs_mounted() {
  # /proc/mounts fields: source target fstype ...
  awk -v target="${MOUNT_POINT}" '$2 == target && $3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}

default_page_kb() {
  awk '$1 == "Hugepagesize:" { print $2 }' /proc/meminfo
}

# The command that sets the number of 2 MiB pages to $1: sysctl when 2 MiB is
# the default page size (vm.nr_hugepages is the default size's count), sysfs otherwise.
nr_pages_command() {
  if [[ $(default_page_kb) == "${PAGE_KB}" ]]; then
    printf 'sysctl -w vm.nr_hugepages=%s' "$1"
  else
    printf 'echo %s > %s/nr_hugepages' "$1" "${SYSFS_DIR}"
  fi
}

main() {
  local pages=${DEFAULT_PAGES} check=false
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --check) check=true ;;
      --pages)
        (($# >= 2)) || usage_error "--pages needs a number"
        pages=$2
        shift
        ;;
      --pages=*) pages=${1#--pages=} ;;
      *) usage_error "unexpected argument: $1" ;;
    esac
    shift
  done
  [[ ${pages} =~ ^[1-9][0-9]{0,6}$ ]] || usage_error "--pages wants a positive whole number, not '${pages}'"

  [[ -r ${SYSFS_DIR}/nr_hugepages ]] ||
    die "${EXIT_ENVIRONMENT}" "this kernel offers no 2 MiB hugepages (${SYSFS_DIR} is missing)"

  local total free
  total=$(<"${SYSFS_DIR}/nr_hugepages")
  free=$(<"${SYSFS_DIR}/free_hugepages")

  local -a commands=()
  if ((total < pages)); then
    commands+=("$(nr_pages_command "${pages}")")
  fi
  if ! hugetlbfs_mounted; then
    commands+=("mkdir -p ${MOUNT_POINT}" "mount -t hugetlbfs nodev ${MOUNT_POINT}")
  fi

  if [[ ${check} == true ]]; then
    local pages_state=ok mount_state=mounted
    ((total >= pages)) || pages_state="too few"
    hugetlbfs_mounted || mount_state="not mounted"
    printf '2 MiB hugepages: %s total, %s free (want at least %s): %s\n' "${total}" "${free}" "${pages}" "${pages_state}"
    printf 'hugetlbfs at %s: %s\n' "${MOUNT_POINT}" "${mount_state}"
    ((${#commands[@]} == 0)) && return 0
    printf 'to fix, as root:\n'
    printf '  %s\n' "${commands[@]}"
    exit "${EXIT_ENVIRONMENT}"
  fi

  if ((${#commands[@]} == 0)); then
    log "nothing to do: ${total} 2 MiB hugepages (${free} free, want ${pages}); hugetlbfs mounted at ${MOUNT_POINT}"
    return 0
  fi

  if ! is_root; then
    log "not root: run these as root, then run me again:"
    printf '  %s\n' "${commands[@]}" >&2
    exit "${EXIT_ENVIRONMENT}"
  fi

  local cmd
  for cmd in "${commands[@]}"; do
    log "running: ${cmd}"
    # The commands are ours, built above; eval keeps the sysfs redirect working.
    eval "${cmd}" >/dev/null || die "${EXIT_ENVIRONMENT}" "failed: ${cmd}"
  done

  total=$(<"${SYSFS_DIR}/nr_hugepages")
  free=$(<"${SYSFS_DIR}/free_hugepages")
  ((total >= pages)) ||
    die "${EXIT_ENVIRONMENT}" "the kernel gave only ${total} of ${pages} 2 MiB hugepages (memory too fragmented? try again after freeing memory)"
  hugetlbfs_mounted || die "${EXIT_ENVIRONMENT}" "hugetlbfs is still not mounted at ${MOUNT_POINT}"
  log "done: ${total} 2 MiB hugepages (${free} free); hugetlbfs mounted at ${MOUNT_POINT}"
}

main "$@"
