#!/usr/bin/env bash
# CTest's fuzz.<target>: runs one libFuzzer binary over a fresh copy of its
# seed corpus, so that the inputs it discovers (and any crash reproducer)
# land in the build tree, never in the repository's tests/fuzz/corpus/.
#
#   run-fuzzer.sh FUZZER SEED_DIR WORK_DIR [LIBFUZZER_FLAGS...]
#
# The exit status is the fuzzer's: 0 when the time ran out without a finding.
set -o errexit -o nounset -o pipefail

main() {
  if (($# < 3)); then
    echo "usage: $(basename "$0") FUZZER SEED_DIR WORK_DIR [LIBFUZZER_FLAGS...]" >&2
    return 2
  fi
  local -r fuzzer=$1 seeds=$2 work=$3
  shift 3
  [[ -x ${fuzzer} ]] || { echo "not an executable: ${fuzzer}" >&2; return 2; }
  [[ -d ${seeds} ]] || { echo "no seed corpus at ${seeds}" >&2; return 2; }
  [[ ${work} == */fuzz-runs/* ]] || { echo "refusing to empty ${work}: not a fuzz-runs/ folder" >&2; return 2; }

  rm -rf -- "${work}"
  mkdir -p -- "${work}/corpus" "${work}/artifacts"
  cp -- "${seeds}"/* "${work}/corpus/"
  echo "fuzzing with $(find "${work}/corpus" -type f | wc -l) seed(s); crash reproducers go to ${work}/artifacts/"
  # libFuzzer writes new inputs into its first corpus folder: the copy.
  exec "${fuzzer}" -artifact_prefix="${work}/artifacts/" -print_final_stats=1 "$@" "${work}/corpus"
}

main "$@"
