#pragma once
// An eventfd wake between two processes that sleep in epoll_wait: what the
// eventfd notification mode pays when the waiter is asleep.

#include <cstdint>

namespace offload::microbench {

struct EventfdResult {
  double round_trip_us = 0.0;  // signal, wake, signal back, wake
  double wake_us = 0.0;        // round_trip_us / 2: one signal to one woken waiter
};

// Two eventfds and a forked child on `child_cpu`; each side blocks in
// epoll_wait for its fd and answers by writing the other's. The caller
// should already be pinned to its own CPU.
EventfdResult measure_eventfd_wake(int child_cpu, std::uint64_t round_trips);

// eventfd write then read in one process, nobody waiting: the syscall pair
// a signalled job's fd costs beside any wake.
double measure_eventfd_write_read_ns(std::uint64_t iterations);

}  // namespace offload::microbench
