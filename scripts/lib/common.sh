# shellcheck shell=bash
# Sourced by scripts/*.sh: messages and exit codes, so that every script
# reports the same way the programs do (2 bad usage, 3 environment).

# shellcheck disable=SC2034 # used by the scripts that source this file
readonly EXIT_USAGE=2
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly EXIT_ENVIRONMENT=3

SCRIPT_NAME=$(basename "$0")
readonly SCRIPT_NAME

# Progress goes to stderr: stdout stays for results (STYLE.md rule 7).
log() {
  printf '%s: %s\n' "${SCRIPT_NAME}" "$*" >&2
}

# die CODE MESSAGE...
die() {
  local code=$1
  shift
  log "error: $*"
  exit "${code}"
}

usage_error() {
  log "error: $*"
  log "run '${SCRIPT_NAME} --help' for the usage"
  exit "${EXIT_USAGE}"
}

is_root() {
  [[ $(id -u) -eq 0 ]]
}

# The repository root, found from this file rather than the caller's cwd.
repo_root() {
  (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
}
