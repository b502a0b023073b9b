#pragma once

#include "microbench_options.hpp"
#include "report.hpp"

namespace offload::microbench {

// Takes every measurement: pins this process to opts.parent_cpu and forks
// children onto opts.child_cpu. Throws EnvironmentError if either CPU is
// unavailable, std::runtime_error if a measurement went wrong.
Results measure(const MicrobenchOptions& opts);

// measure(), then the table (or the JSON line) on stdout; returns the exit code.
int run(const MicrobenchOptions& opts);

}  // namespace offload::microbench
