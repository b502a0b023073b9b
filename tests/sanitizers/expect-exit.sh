#!/usr/bin/env bash
# For CTest tests of a program whose expected exit status is not 0 (e.g.
# threadsim's 1 for --fail-job, 4 for --timeout-ms): passes when CMD exits
# with exactly CODE, so a sanitizer's own exit code (66) can never pass.
#
#   expect-exit.sh CODE CMD [ARGS...]
set -o errexit -o nounset -o pipefail

main() {
  if (($# < 2)); then
    echo "usage: $(basename "$0") CODE CMD [ARGS...]" >&2
    return 2
  fi
  local -r expected=$1
  shift
  local rc=0
  "$@" || rc=$?
  if ((rc != expected)); then
    echo "expect-exit: '$*' exited ${rc}, expected ${expected}" >&2
    return 1
  fi
  echo "expect-exit: exited ${rc} as expected"
}

main "$@"
