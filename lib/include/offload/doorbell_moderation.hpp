#pragma once
// Coalesced mode's doorbell moderation, as a NIC moderates its interrupts:
// the backend rings a frontend's doorbell once a batch of its completions
// wait on its ring, as soon as no other completion of it is coming soon (none
// in the device and due within kDoorbellSoonNs, none of its requests waiting
// on its request ring), or kDoorbellDelayNs after the first of them, whichever
// comes first. A frontend woken per completion spent more CPU on wake-ups
// (several microseconds each) than the AES-GCM it offloaded; a device with
// latency D, whose completions come one by one, rings at once.

#include <algorithm>
#include <cstdint>

namespace offload {

inline constexpr std::uint32_t kDoorbellBatchMax = 48;
inline constexpr std::uint64_t kDoorbellSoonNs = 5'000;
inline constexpr std::uint64_t kDoorbellDelayNs = 100'000;

// The batch for a frontend of `max_jobs` jobs: three quarters of them, at
// most kDoorbellBatchMax. The quarter left on the device keeps it busy while
// the woken frontend sends the next requests (at 16 KiB a quarter of 64 is
// 16 us of AES-GCM; a wake and 48 resumed jobs take under 10 us). Half, the
// batch before, cost the backend a third more eventfd writes (about 1 us
// each with the guest's halt polling on, 11 us without).
constexpr std::uint32_t doorbell_batch(std::uint32_t max_jobs) noexcept {
  const std::uint64_t three_quarters = std::uint64_t{max_jobs} * 3 / 4;
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(three_quarters, 1, kDoorbellBatchMax));
}

// Whether the doorbell of a frontend with `waiting` completions on its ring
// is due at `now_ns`; `first_waiting_ns` is when the first of them completed,
// which can be later than `now_ns` (the serving loop reads its clock once per
// turn, before it completes the turn's requests). `more_coming()` is asked
// only for a partial batch: the backend's answer reads a line of the
// frontend's request ring, which the frontend's core writes.
template <class MoreComing>
constexpr bool doorbell_due(std::uint32_t waiting, std::uint32_t batch, MoreComing&& more_coming,
                            std::uint64_t first_waiting_ns, std::uint64_t now_ns) {
  if (waiting == 0) return false;
  if (waiting >= batch || !more_coming()) return true;
  return now_ns > first_waiting_ns && now_ns - first_waiting_ns >= kDoorbellDelayNs;
}

}  // namespace offload
