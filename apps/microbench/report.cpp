#include "report.hpp"

#include <fmt/format.h>

namespace offload::microbench {

std::string to_json(const Results& r) {
  return fmt::format(
      R"({{"program":"microbench","iterations":{},"parent_cpu":{},"child_cpu":{},"async_cycle_ns":{:.1f},)"
      R"("ring_round_trip_ns":{:.1f},"ring_pipelined_msgs_per_s":{:.0f},"ring_window":{},"ring_burst":{},)"
      R"("eventfd_round_trip_us":{:.2f},"eventfd_wake_us":{:.2f},"eventfd_write_read_ns":{:.1f},"syscall_ns":{:.1f},)"
      R"("nap_requested_us":{:.1f},"nap_actual_us":{:.1f},"nap_cpu_us":{:.1f}}})",
      r.iterations, r.parent_cpu, r.child_cpu, r.async_cycle_ns, r.ring_round_trip_ns, r.ring_pipelined_msgs_per_s,
      r.ring_window, r.ring_burst, r.eventfd_round_trip_us, r.eventfd_wake_us, r.eventfd_write_read_ns, r.syscall_ns, r.nap_requested_us, r.nap_actual_us,
      r.nap_cpu_us);
}

std::string to_table(const Results& r) {
  std::string out = fmt::format("unit costs, measured now (parent on CPU {}, forked child on CPU {}):\n", r.parent_cpu,
                                r.child_cpu);
  const auto row = [&out](const std::string& what, const std::string& value, const std::string& how) {
    out += fmt::format("  {:<44} {:>12}   {}\n", what, value, how);
  };
  row("ASYNC start+pause+resume+finish", fmt::format("{:.0f} ns", r.async_cycle_ns),
      fmt::format("one job pausing once, mean of {}", r.iterations));
  row("rte_ring round trip across processes", fmt::format("{:.0f} ns", r.ring_round_trip_ns),
      fmt::format("both busy-poll, 1 in flight, mean of {}", r.ring_round_trips));
  row("rte_ring pipelined across processes", fmt::format("{:.1f} M/s", r.ring_pipelined_msgs_per_s / 1e6),
      fmt::format("round trips/s, {} in flight, bursts of {}", r.ring_window, r.ring_burst));
  row("eventfd wake across processes", fmt::format("{:.1f} us", r.eventfd_wake_us),
      fmt::format("epoll_wait ping-pong: round trip {:.1f} us / 2, mean of {}", r.eventfd_round_trip_us,
                  r.eventfd_round_trips));
  row("eventfd write + read, nobody waiting", fmt::format("{:.0f} ns", r.eventfd_write_read_ns),
      fmt::format("one process, mean of {}", r.iterations));
  row("one syscall", fmt::format("{:.0f} ns", r.syscall_ns), fmt::format("getppid, mean of {}", r.iterations));
  row(fmt::format("nanosleep({:.0f} us)", r.nap_requested_us), fmt::format("{:.1f} us", r.nap_actual_us),
      fmt::format("default timer slack, mean of {}", r.naps));
  row(fmt::format("CPU of one nanosleep({:.0f} us)", r.nap_requested_us), fmt::format("{:.1f} us", r.nap_cpu_us),
      "user + system: arming the timer and the wake");
  return out;
}

}  // namespace offload::microbench
