#pragma once


#include <cstdint>
#include <optional>

#include "offload/cli_options.hpp"
#include "offload/device_model.hpp"

namespace offload::threadsim {

inline constexpr std::uint32_t kMaxJobs = 65536;
inline constexpr std::size_t kMaxPayloadBytes = 1 << 20;

struct ThreadsimOptions {
  CommonOptions common;
  PayloadOptions payload;
  DelayDistOptions delay_dist;
  DelaySpec delay;  // resolved from --delay-ms and the distribution options
  std::optional<std::uint32_t> fail_job;
  unsigned device_threads = 2;
  unsigned engines = 0;        // 0: unlimited
  std::uint32_t inflight = 0;  // 0: min(--jobs, 1024)
  std::uint64_t timeout_ms = 0;  // 0: derived from the workload
  bool spurious_resumes = false;
};

// Defines every flag of offload-threadsim on `app`, writing into `opts`.
void define_options(CLI::App& app, ThreadsimOptions& opts);

}  // namespace offload::threadsim
