#pragma once
// Pinning the measuring processes: a cross-process ping-pong means nothing
// if the scheduler moves both sides onto one CPU.

namespace offload::microbench {

// Throws EnvironmentError if `cpu` is not in this process's allowed set.
void require_cpu(int cpu);

// Pins the calling thread (and what it forks later) to `cpu`; throws
// std::system_error on failure.
void pin_to_cpu(int cpu);

}  // namespace offload::microbench
