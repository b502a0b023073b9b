#pragma once
// rte_ring between two processes that busy-poll: the floor under the
// two-process offload's per-request latency and its message rate.

#include <cstdint>

namespace offload::microbench {

struct RingResult {
  double round_trip_ns = 0.0;      // one message there and back, one in flight
  double pipelined_msgs_per_s = 0.0;  // round trips completed per second, `window` in flight
  std::uint32_t window = 0;
  std::uint32_t burst = 0;
};

// Two single-producer/single-consumer rte_rings (rte_ring_init on a
// MAP_SHARED | MAP_ANONYMOUS mapping, no EAL) and a forked child on
// `child_cpu` that echoes ring A into ring B. The caller should already be
// pinned to its own CPU. `round_trips` ping-pongs, then `pipelined` messages
// with many in flight.
RingResult measure_ring(int child_cpu, std::uint64_t round_trips, std::uint64_t pipelined);

}  // namespace offload::microbench
