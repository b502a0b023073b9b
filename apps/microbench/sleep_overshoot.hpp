#pragma once
// How late a short sleep ends: what an idle poller pays when it naps (the
// backend between device deadlines, a callback-mode frontend between polls).

#include <cstdint>

namespace offload::microbench {

// Mean wall time in microseconds of nanosleep(requested_us), with the
// thread's default timer slack (as the programs run).
double measure_nanosleep_us(double requested_us, std::uint64_t count);

}  // namespace offload::microbench
