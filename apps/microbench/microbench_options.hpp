#pragma once


#include <cstdint>

#include "offload/cli_options.hpp"

namespace offload::microbench {

inline constexpr std::uint64_t kMinIterations = 1000;
inline constexpr std::uint64_t kMaxIterations = 100'000'000;

struct MicrobenchOptions {
  // Timed repetitions of the sub-microsecond measurements; the slower ones
  // derive theirs from it (microbench.cpp).
  std::uint64_t iterations = 200'000;
  int parent_cpu = 0;  // this process and the measurements it times alone
  int child_cpu = 1;   // the forked peer of the cross-process measurements
  bool json = false;
};

void define_options(CLI::App& app, MicrobenchOptions& opts);

}  // namespace offload::microbench
