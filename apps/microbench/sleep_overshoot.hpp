#pragma once
// How late a short sleep ends: what an idle poller pays when it naps (the
// backend between device deadlines, a callback-mode frontend between polls).

#include <cstdint>

namespace offload::microbench {

struct NapCost {
  double wall_us = 0.0;  // how long it really took
  double cpu_us = 0.0;   // this process's CPU (user + system) for it
};

// Mean cost of one nanosleep(requested_us), with the thread's default
// timer slack (as the programs run). On a VM that arms the timer through
// its hypervisor the CPU is far from free: that is what a frontend that
// naps instead of waiting for its doorbell pays (--coalesced-wait nap).
NapCost measure_nanosleep(double requested_us, std::uint64_t count);

}  // namespace offload::microbench
