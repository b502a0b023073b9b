#pragma once


#include <cstdint>
#include <string>
#include <vector>

#include "offload/cli_options.hpp"
#include "offload/device_model.hpp"
#include "offload/protocol.hpp"

namespace offload::backend {

struct BackendOptions {
  std::string instance = "offload";
  int lcore = -1;  // -1: the last core, leaving core 0 to the frontend
  double delay_ms = 20.0;
  DelayDistOptions delay_dist;
  DelaySpec delay;
  unsigned engines = 0;  // 0: unlimited
  std::uint32_t queue_depth = 1024;
  std::uint32_t pool_size = 8191;
  std::uint32_t idle_sleep_us = 200;
  std::uint32_t buffer_bytes = proto::kDefaultBufferBytes;
  std::string crypto_dev = "crypto_aesni_mb";  // "none": xor and not only
  std::string log_level = "info";
  std::vector<std::string> eal_args;  // after "--"
};

void define_options(CLI::App& app, BackendOptions& opts);

}  // namespace offload::backend
