#include "ring_pingpong.hpp"

#include <rte_pause.h>
#include <rte_ring.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "child_process.hpp"
#include "offload/clock.hpp"
#include "shared_mapping.hpp"
#include "spin_deadline.hpp"

namespace offload::microbench {

namespace {

constexpr unsigned kRingSize = 1024;  // a power of two: 1023 usable slots
constexpr unsigned kBurst = 32;       // the backend's dequeue burst, the order of it
constexpr std::uint32_t kWindow = 512;  // in flight when pipelined: under both rings' capacity
constexpr std::uint64_t kStopMessage = ~std::uint64_t{0};
// A single round trip takes well under a millisecond; this only catches a
// peer that is gone.
constexpr std::uint64_t kStallNs = 2'000'000'000;

void* to_msg(std::uint64_t v) noexcept { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(v)); }
std::uint64_t from_msg(void* p) noexcept { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); }

struct RingPair {
  rte_ring* to_child;
  rte_ring* to_parent;
};

std::size_t ring_bytes() {
  const ssize_t bytes = rte_ring_get_memsize(kRingSize);
  if (bytes < 0) throw std::runtime_error("rte_ring_get_memsize(" + std::to_string(kRingSize) + ") failed");
  return RTE_CACHE_LINE_ROUNDUP(static_cast<std::size_t>(bytes));
}

RingPair init_rings(const SharedMapping& memory, std::size_t bytes_each) {
  auto* base = static_cast<unsigned char*>(memory.data());
  RingPair rings{reinterpret_cast<rte_ring*>(base), reinterpret_cast<rte_ring*>(base + bytes_each)};
  // rte_ring_init touches only the memory it is given: no memzone, no EAL.
  if (rte_ring_init(rings.to_child, "mb_to_child", kRingSize, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0 ||
      rte_ring_init(rings.to_parent, "mb_to_parent", kRingSize, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0)
    throw std::runtime_error("rte_ring_init on shared memory failed");
  return rings;
}

// The child: echoes every message from `to_child` to `to_parent`, in bursts,
// until the stop message.
int echo(const RingPair& rings) {
  std::array<void*, kBurst> msgs{};
  SpinDeadline idle(5 * kStallNs);
  for (;;) {
    const unsigned n = rte_ring_sc_dequeue_burst(rings.to_child, msgs.data(), kBurst, nullptr);
    if (n == 0) {
      if (idle.expired()) return kChildIdleTimeout;
      rte_pause();
      continue;
    }
    idle.reset();
    for (unsigned i = 0; i < n; ++i)
      if (from_msg(msgs[i]) == kStopMessage) return 0;
    unsigned sent = 0;
    while (sent < n) {
      sent += rte_ring_sp_enqueue_burst(rings.to_parent, msgs.data() + sent, n - sent, nullptr);
      if (sent < n && idle.expired()) return kChildIdleTimeout;
    }
  }
}

void stalled(const char* what) {
  throw std::runtime_error(std::string("rte_ring ") + what + ": the child stopped answering for 2 s");
}

double ping_pong(const RingPair& rings, std::uint64_t first, std::uint64_t count) {
  SpinDeadline stall(kStallNs);
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t seq = first; seq < first + count; ++seq) {
    if (rte_ring_sp_enqueue(rings.to_child, to_msg(seq)) != 0) throw std::runtime_error("rte_ring ping-pong: ring A full");
    void* reply = nullptr;
    stall.reset();
    while (rte_ring_sc_dequeue(rings.to_parent, &reply) != 0) {
      if (stall.expired()) stalled("ping-pong");
      rte_pause();
    }
    if (from_msg(reply) != seq) throw std::runtime_error("rte_ring ping-pong: a reply out of order");
  }
  return static_cast<double>(monotonic_ns() - start);
}

// Sends singly (as each ASYNC job enqueues its own request) and receives in
// bursts (as the backend and a coalesced frontend do), `kWindow` in flight.
double pipelined(const RingPair& rings, std::uint64_t first, std::uint64_t count) {
  std::array<void*, kBurst> msgs{};
  SpinDeadline stall(kStallNs);
  std::uint64_t next_send = first;
  std::uint64_t next_recv = first;
  const std::uint64_t end = first + count;
  const std::uint64_t start = monotonic_ns();
  while (next_recv < end) {
    bool progress = false;
    while (next_send < end && next_send - next_recv < kWindow &&
           rte_ring_sp_enqueue(rings.to_child, to_msg(next_send)) == 0) {
      ++next_send;
      progress = true;
    }
    const unsigned n = rte_ring_sc_dequeue_burst(rings.to_parent, msgs.data(), kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i, ++next_recv)
      if (from_msg(msgs[i]) != next_recv) throw std::runtime_error("rte_ring pipelined: a reply out of order");
    if (n > 0 || progress) {
      stall.reset();
    } else if (stall.expired()) {
      stalled("pipelined");
    }
  }
  return static_cast<double>(monotonic_ns() - start);
}

}  // namespace

RingResult measure_ring(int child_cpu, std::uint64_t round_trips, std::uint64_t pipelined_msgs) {
  const std::size_t bytes_each = ring_bytes();
  SharedMapping memory(2 * bytes_each);
  const RingPair rings = init_rings(memory, bytes_each);

  ChildProcess child(child_cpu, [&rings] { return echo(rings); });

  // Warm-up (page faults, caches, the child reaching its loop), untimed.
  std::uint64_t seq = 1;
  ping_pong(rings, seq, round_trips / 10 + 1);
  seq += round_trips / 10 + 1;

  RingResult result;
  result.window = kWindow;
  result.burst = kBurst;
  result.round_trip_ns = ping_pong(rings, seq, round_trips) / static_cast<double>(round_trips);
  seq += round_trips;
  const double ns = pipelined(rings, seq, pipelined_msgs);
  result.pipelined_msgs_per_s = static_cast<double>(pipelined_msgs) * 1e9 / ns;

  // Every message has come back, so ring A is empty and has room.
  if (rte_ring_sp_enqueue(rings.to_child, to_msg(kStopMessage)) != 0) throw std::runtime_error("rte_ring: no room to stop the child");
  child.wait_success(std::chrono::milliseconds(5000));
  return result;
}

}  // namespace offload::microbench
