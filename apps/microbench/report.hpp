#pragma once
// The microbenchmark's results and their two renderings: a table for a
// person, one JSON line for scripts (scripts/bench.sh reads it with jq).

#include <cstdint>
#include <string>

namespace offload::microbench {

struct Results {
  std::uint64_t iterations = 0;
  int parent_cpu = 0;
  int child_cpu = 0;
  double async_cycle_ns = 0.0;
  double ring_round_trip_ns = 0.0;
  double ring_pipelined_msgs_per_s = 0.0;
  std::uint32_t ring_window = 0;
  std::uint32_t ring_burst = 0;
  std::uint64_t ring_round_trips = 0;
  std::uint64_t ring_pipelined_msgs = 0;
  double eventfd_round_trip_us = 0.0;
  double eventfd_wake_us = 0.0;
  std::uint64_t eventfd_round_trips = 0;
  double eventfd_write_read_ns = 0.0;
  double syscall_ns = 0.0;
  double nap_requested_us = 0.0;
  double nap_actual_us = 0.0;
  double nap_cpu_us = 0.0;  // this process's CPU per nap
  std::uint64_t naps = 0;
};

// One line, no trailing newline.
std::string to_json(const Results& r);
// Several lines, with a trailing newline.
std::string to_table(const Results& r);

}  // namespace offload::microbench
