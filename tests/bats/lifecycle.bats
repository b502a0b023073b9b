#!/usr/bin/env bats
# Client lifecycles (issue 11): frontends that start and stop concurrently,
# for a long time, never wedge the instance, and lose nothing. See
# docs/LIFECYCLE.md for why they once did (DPDK memory hotplug between
# secondaries starting and stopping at the same moment) and what removed it.

# The churn runs CHURN_S seconds: 60 by default, 20 in CI (CI set), or
# OFFLOAD_CHURN_S. bench.sh --churn is the long soak.
if [[ -n ${OFFLOAD_CHURN_S:-} ]]; then
  CHURN_S=${OFFLOAD_CHURN_S}
elif [[ -n ${CI:-} && ${CI} != false && ${CI} != 0 ]]; then
  CHURN_S=20
else
  CHURN_S=60
fi
# The churn, its last frontends' bound (30 s) and the checks after it.
TWO_PROCESS_TEST_TIMEOUT=$((CHURN_S + 90))

load 'test_helper/common-setup'
load 'test_helper/two-process'

# The backend's own runtime files: config, hugepage_info, mp_socket, the
# ready file, the memseg and memzone fbarrays (one per memseg list), and
# its record of dead secondaries. Anything beyond a few more is a leak.
MAX_RUNTIME_FILES=16

@test "churn: frontends with random jobs and notify modes start and stop, up to 8 at once, for CHURN_S s: none fails, nothing leaks" {
  start_backend "${INSTANCE}" --delay-ms 0.05

  run --separate-stderr bounded $((CHURN_S + 60)) "${REPO_ROOT}/scripts/churn.sh" --instance "${INSTANCE}" \
    --duration "${CHURN_S}" --max-at-once 8 --frontend "${FRONTEND}" --work-dir "${BATS_TEST_TMPDIR}/churn"
  echo "# churn: ${output}" >&3
  ((status == 0)) || fail "churn.sh exited ${status}: ${output}"$'\n'"${stderr}"
  assert_json '.failed == 0 and .failures == []'
  # At least one frontend a second, and 8 of them attached at once at times.
  assert_json ".frontends >= ${CHURN_S} and .max_at_once == 8"
  local -r attached=$(max_attached "${BACKEND_LOG}")
  ((attached >= 4)) || fail "the frontends did not overlap: at most ${attached} were attached together"

  # No memory was hotplugged while they came and went (the cause of the wedges).
  assert_backend_logged 'DPDK memory hotplug while serving' 0
  assert_backend_logged 'refused to grow the shared heap' 0
  stats
  assert_json "${POOLS_FULL} and .rejected == 0"
  local -r files=$(find "${DPDK_RUNTIME_ROOT}/${INSTANCE}" -mindepth 1 | wc -l)
  ((files <= MAX_RUNTIME_FILES)) ||
    fail "${files} runtime files after the churn: $(ls "${DPDK_RUNTIME_ROOT}/${INSTANCE}")"
  assert_equal "$(dead_secondaries_files "${INSTANCE}")" ''

  stop_backend
  assert_no_leftovers "${INSTANCE}"
}
