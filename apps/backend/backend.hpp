#pragma once

#include "backend_options.hpp"

namespace offload::backend {

// Runs the backend until SIGINT/SIGTERM; returns the process exit code.
int run(const BackendOptions& opts);

}  // namespace offload::backend
