#pragma once
// The CPU cost of the ASYNC machinery itself: what every offloaded request
// pays in the frontend whatever the device and the notification.

#include <cstdint>

namespace offload::microbench {

// Average nanoseconds of one ASYNC_start_job of a job that pauses once,
// plus the ASYNC_start_job that resumes it to its finish, on a thread set up
// with ASYNC_init_thread (so the job and its stack come from the pool).
double measure_async_cycle_ns(std::uint64_t iterations);

}  // namespace offload::microbench
