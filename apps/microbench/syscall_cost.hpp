#pragma once
// One trip into the kernel and back: the unit that every eventfd write,
// read and epoll_wait in the offload's notification paths is made of.

#include <cstdint>

namespace offload::microbench {

// Average nanoseconds of syscall(SYS_getppid), which does almost nothing
// in the kernel and which no libc caches.
double measure_syscall_ns(std::uint64_t iterations);

}  // namespace offload::microbench
