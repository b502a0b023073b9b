#!/usr/bin/env bash
# Configures and builds one CMake preset into build/<preset>.
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly DEFAULT_PRESET=release
readonly JOBS=2

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} [PRESET] [--target TARGET]... [--help]

Runs 'cmake --preset PRESET' and 'cmake --build --preset PRESET -j${JOBS}';
the build lands in build/PRESET. PRESET defaults to ${DEFAULT_PRESET}; the presets
are those of CMakePresets.json (cmake --list-presets).

  --target TARGET   build only TARGET (e.g. offload-threadsim); repeatable

Exit codes: 0 built, 2 bad usage (e.g. an unknown preset), else cmake's failure.
EOF
}

# The build presets CMakePresets.json defines, one a line.
build_presets() {
  cmake --list-presets=build | sed -n 's/^ *"\([^"]*\)".*/\1/p'
}

main() {
  local preset=""
  local -a targets=()
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --target)
        (($# >= 2)) || usage_error "--target needs a target name"
        targets+=(--target "$2")
        shift
        ;;
      -*) usage_error "unknown option: $1" ;;
      *)
        [[ -z ${preset} ]] || usage_error "one preset at a time (got '${preset}' and '$1')"
        preset=$1
        ;;
    esac
    shift
  done
  preset=${preset:-${DEFAULT_PRESET}}

  cd "$(repo_root)"
  command -v cmake >/dev/null || die "${EXIT_ENVIRONMENT}" "cmake not found: run scripts/install-deps.sh"
  local presets
  presets=$(build_presets)
  grep -qxF -- "${preset}" <<<"${presets}" ||
    usage_error "unknown preset '${preset}'; the presets are: $(paste -sd " " <<<"${presets}")"

  # The presets name no generator; Ninja is in the deps, and a build tree
  # keeps the generator it was first configured with.
  if [[ ! -f build/${preset}/CMakeCache.txt ]] && command -v ninja >/dev/null; then
    export CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja}
  fi

  log "configuring preset ${preset} (build/${preset})"
  cmake --preset "${preset}"
  log "building preset ${preset}"
  cmake --build --preset "${preset}" -j "${JOBS}" "${targets[@]}"
  log "built build/${preset}"
}

main "$@"
