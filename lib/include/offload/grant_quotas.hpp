#pragma once
// How many request objects each attached frontend may hold at once: its
// grant quota. Each would like its job count plus a slack (so that a
// starting job finds a grant waiting). When the pool covers that for every
// frontend, that is the quota. When it does not, the pool is shared max-min
// fairly, the job counts first and the slack from what is left: a frontend
// that needs less than an equal share gets all it needs, the others split
// the rest equally, and every attached frontend gets at least one object.
// Without the cap a frontend that holds the whole pool had each object it
// returned granted straight back to it, and a frontend attached later waited
// for ever.
//
// Pure arithmetic, no DPDK: unit-tested on its own.

#include <cstdint>
#include <span>

namespace offload {

// `jobs[i]`: the job count of the frontend in slot i, 0 for a free slot.
// Writes slot i's quota to `quotas[i]` (0 for a free slot); `quotas` has
// jobs.size() entries. The quotas add up to at most `pool`, except that
// with more frontends than objects each still gets one.
void fair_grant_quotas(std::span<const std::uint32_t> jobs, std::uint32_t slack, std::uint32_t pool,
                       std::span<std::uint32_t> quotas);

}  // namespace offload
