#pragma once

#include "frontend_options.hpp"

namespace offload::frontend {

// Attaches to the backend, runs the jobs, prints the summary; returns the
// process exit code.
int run(const FrontendOptions& opts);

}  // namespace offload::frontend
