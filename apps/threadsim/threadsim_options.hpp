#pragma once


#include <cstddef>
#include <cstdint>
#include <optional>

#include "offload/aes_gcm.hpp"
#include "offload/cipher.hpp"
#include "offload/cli_options.hpp"
#include "offload/device_model.hpp"

namespace offload::threadsim {

inline constexpr std::uint32_t kMaxJobs = 65536;
// Far above a TLS record (16 KiB + a 16-byte tag, which threadsim keeps
// beside the payload, not in it).
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
  // What the device does to each payload (--op); the AES-GCM ones only below.
  Operation op = Operation::Xor0xAA;
  std::optional<GcmKey> key;  // --key; unset: a random key per run
  std::size_t aad_len = 0;  // generated per job, like the payload
  std::optional<std::uint32_t> corrupt_tag_job;
};

// Defines every flag of offload-threadsim on `app`, writing into `opts`.
void define_options(CLI::App& app, ThreadsimOptions& opts);

}  // namespace offload::threadsim
