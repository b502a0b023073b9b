#!/usr/bin/env bash
# The ASan/UBSan/LSan report folder of an asan build's Bats run (CTest
# fixture asan_reports, tests/CMakeLists.txt). The programs under test write
# their sanitizer output there (ASAN_OPTIONS/UBSAN_OPTIONS log_path) rather
# than on stderr, whose every line the Bats tests check; so a report from a
# process whose exit status no test looks at (a backend stopped in teardown,
# a frontend killed on purpose) still fails the run.
#
#   asan-reports.sh clear DIR   before the tests: an empty DIR
#   asan-reports.sh check DIR   after them: fails, printing them, if any report
set -o errexit -o nounset -o pipefail

# One warning is expected and harmless: OpenSSL's ASYNC jobs switch stacks
# (makecontext/swapcontext in the uninstrumented libcrypto), and ASan says
# once per process that it will not unpoison a "stack" that large on the
# next noreturn call. It may cause false positives, never hide a report.
readonly BENIGN='WARNING: ASan is ignoring requested __asan_handle_no_return: stack type: default top: |^False positive error reports may follow$|^For details see https://github.com/google/sanitizers/issues/189$'

main() {
  if (($# != 2)) || [[ $1 != clear && $1 != check ]]; then
    echo "usage: $(basename "$0") clear|check DIR" >&2
    return 2
  fi
  local -r dir=$2
  if [[ $1 == clear ]]; then
    rm -rf -- "${dir}"
    mkdir -p -- "${dir}"
    return 0
  fi

  [[ -d ${dir} ]] || { echo "no report folder ${dir}: did the fixture's clear step run?" >&2; return 1; }
  local file findings=0 processes=0
  for file in "${dir}"/*; do
    [[ -f ${file} ]] || continue
    processes=$((processes + 1))
    if grep -qvE -- "${BENIGN}" "${file}"; then
      findings=$((findings + 1))
      echo "=== ${file} ==="
      cat -- "${file}"
    fi
  done
  if ((findings > 0)); then
    echo "asan-reports: ${findings} of ${processes} sanitizer log(s) hold reports (above)" >&2
    return 1
  fi
  echo "asan-reports: no sanitizer reports (${processes} process log(s), benign ASYNC stack warnings only)"
}

main "$@"
