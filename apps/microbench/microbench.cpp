#include "microbench.hpp"

#include <algorithm>
#include <cstdio>

#include "async_cycle.hpp"
#include "cpu_affinity.hpp"
#include "eventfd_pingpong.hpp"
#include "offload/exit_codes.hpp"
#include "ring_pingpong.hpp"
#include "sleep_overshoot.hpp"
#include "syscall_cost.hpp"

namespace offload::microbench {

namespace {
// A pipelined message costs a few tens of nanoseconds and an eventfd round
// trip tens of microseconds: scaled so each measurement takes a comparable time.
constexpr std::uint64_t kPipelinedPerIteration = 20;
constexpr std::uint64_t kIterationsPerEventfdTrip = 20;
constexpr std::uint64_t kMinEventfdTrips = 100;
// The nap of an idle callback-mode frontend (frontend.cpp's poll_completions).
constexpr double kNapUs = 20.0;
constexpr std::uint64_t kIterationsPerNap = 500;
constexpr std::uint64_t kMinNaps = 100;
}  // namespace

Results measure(const MicrobenchOptions& opts) {
  require_cpu(opts.parent_cpu);
  require_cpu(opts.child_cpu);
  pin_to_cpu(opts.parent_cpu);

  Results r;
  r.iterations = opts.iterations;
  r.parent_cpu = opts.parent_cpu;
  r.child_cpu = opts.child_cpu;

  r.async_cycle_ns = measure_async_cycle_ns(opts.iterations);
  r.syscall_ns = measure_syscall_ns(opts.iterations);
  r.eventfd_write_read_ns = measure_eventfd_write_read_ns(opts.iterations);
  r.nap_requested_us = kNapUs;
  r.naps = std::max(opts.iterations / kIterationsPerNap, kMinNaps);
  const NapCost nap = measure_nanosleep(kNapUs, r.naps);
  r.nap_actual_us = nap.wall_us;
  r.nap_cpu_us = nap.cpu_us;

  r.ring_round_trips = opts.iterations;
  r.ring_pipelined_msgs = opts.iterations * kPipelinedPerIteration;
  const RingResult ring = measure_ring(opts.child_cpu, r.ring_round_trips, r.ring_pipelined_msgs);
  r.ring_round_trip_ns = ring.round_trip_ns;
  r.ring_pipelined_msgs_per_s = ring.pipelined_msgs_per_s;
  r.ring_window = ring.window;
  r.ring_burst = ring.burst;

  r.eventfd_round_trips = std::max(opts.iterations / kIterationsPerEventfdTrip, kMinEventfdTrips);
  const EventfdResult wake = measure_eventfd_wake(opts.child_cpu, r.eventfd_round_trips);
  r.eventfd_round_trip_us = wake.round_trip_us;
  r.eventfd_wake_us = wake.wake_us;
  return r;
}

int run(const MicrobenchOptions& opts) {
  const Results r = measure(opts);
  if (opts.json) {
    std::printf("%s\n", to_json(r).c_str());
  } else {
    std::fputs(to_table(r).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace offload::microbench
