#!/usr/bin/env bash
# Installs the Debian 12 packages that the project builds, tests and demos
# with. Idempotent: dpkg says what is missing, and only that is installed.
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

PACKAGES=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries the code links
  libssl-dev openssl libdpdk-dev libcli11-dev libspdlog-dev libfmt-dev
  # DPDK's software crypto PMDs (crypto_aesni_mb, crypto_openssl), dpdk-test-crypto-perf
  # (the bench's reference) and dpdk-telemetry.py
  librte-crypto-ipsec-mb23 librte-crypto-openssl23 dpdk-dev
  # crypto_null: the unit test of a crypto device without AES-GCM
  librte-crypto-null23
  # tests
  libgtest-dev googletest bats bats-support bats-assert bats-file valgrind jq shellcheck
  # what the scripts and tests call: pgrep/sysctl, mount/findmnt, modprobe
  procps util-linux kmod
)
# Only with --with-plot (bench.sh --plot asks for it): nothing else draws.
readonly PLOT_PACKAGES=(gnuplot-nox)

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [--with-plot] [--help]

Installs whichever of these Debian packages are missing (checked with dpkg-query):
  ${PACKAGES[*]}

  --with-plot   also ${PLOT_PACKAGES[*]}, which scripts/bench.sh --plot draws with

Runs 'apt-get update' once and one 'apt-get install', and only when something is
missing; prints what it installs. Without root it prints the command to run instead.

Exit codes: 0 everything is installed, 2 bad usage, 3 packages missing and not root.
EOF
}

# Prints the packages that dpkg does not report as installed, one a line.
missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    # shellcheck disable=SC2016 # ${db:Status-Status} is dpkg-query's format, not ours
    status=$(dpkg-query --show --showformat='${db:Status-Status}' "${pkg}" 2>/dev/null) || status=missing
    [[ ${status} == installed ]] || printf '%s\n' "${pkg}"
  done
}

main() {
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --with-plot) PACKAGES+=("${PLOT_PACKAGES[@]}") ;;
      *) usage_error "unexpected argument: $1" ;;
    esac
    shift
  done
  readonly PACKAGES

  command -v dpkg-query >/dev/null || die "${EXIT_ENVIRONMENT}" "dpkg-query not found: this script is for Debian 12"

  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "all ${#PACKAGES[@]} packages are installed"
    return 0
  fi

  local -r install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if ! is_root; then
    log "missing packages: ${missing[*]}"
    log "run as root:"
    printf '  apt-get update && DEBIAN_FRONTEND=noninteractive %s\n' "${install[*]}" >&2
    exit "${EXIT_ENVIRONMENT}"
  fi

  log "installing ${#missing[@]} missing package(s): ${missing[*]}"
  # Wait (bounded) for another apt or dpkg run rather than failing at once.
  local -r lock_wait=(-o DPkg::Lock::Timeout=300)
  apt-get "${lock_wait[@]}" -q update
  DEBIAN_FRONTEND=noninteractive "${install[@]}" "${lock_wait[@]}" -q

  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) || die 1 "still missing after apt-get install: ${missing[*]}"
  log "installed; all ${#PACKAGES[@]} packages are present"
}

main "$@"
