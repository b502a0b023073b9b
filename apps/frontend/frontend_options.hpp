#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "offload/cli_options.hpp"

namespace offload::frontend {

struct FrontendOptions {
  std::string instance = "offload";
  int lcore = 0;
  std::uint32_t jobs = 8;
  PayloadOptions payload;
  std::uint64_t timeout_ms = 0;  // 0: derived from the workload
  bool json = false;
  std::string log_level = "info";
  std::vector<std::string> eal_args;  // after "--"
};

void define_options(CLI::App& app, FrontendOptions& opts);

}  // namespace offload::frontend
