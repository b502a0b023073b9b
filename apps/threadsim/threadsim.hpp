#pragma once

#include "threadsim_options.hpp"

namespace offload::threadsim {

// Runs the whole simulation and returns the process exit code.
int run(const ThreadsimOptions& opts);

}  // namespace offload::threadsim
