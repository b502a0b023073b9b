#pragma once


#include <cstdint>
#include <string>
#include <vector>

#include "offload/cipher.hpp"
#include "offload/cli_options.hpp"
#include "offload/protocol.hpp"

namespace offload::frontend {

struct FrontendOptions {
  std::string instance = "offload";
  int lcore = -1;  // -1: the first CPU this process may use (0 unless restricted)
  // Walkthrough: --jobs N runs N jobs once each. Load generator: --inflight
  // J jobs push --total N requests (or run for --duration S), each job
  // reused with its wait context and fd.
  std::uint32_t jobs = 8;
  std::uint32_t inflight = 0;     // resolved: jobs in flight
  std::uint64_t total = 0;        // resolved: requests to complete (0 with a duration: unbounded)
  double duration_s = 0.0;
  std::string op_name = "not";
  Operation op = Operation::BitwiseNot;
  std::string key_hex;       // empty: a random key per run
  std::uint32_t aad_len = 0;  // AES-GCM: bytes of AAD per request
  std::string verify = "all";  // all, sample, none
  std::uint64_t requests_per_job = 1;  // 0: a job goes on until the run ends
  std::int64_t corrupt_tag_job = -1;  // testing aid: that job's decrypt request carries a flipped tag bit
  // Coalesced mode: sleep until the doorbell rings, or nap and look.
  std::string coalesced_wait = "doorbell";
  std::string notify_name = "eventfd";
  proto::NotifyMode notify = proto::NotifyMode::EventFd;
  PayloadOptions payload;
  std::uint64_t timeout_ms = 0;  // 0: derived from the workload
  bool json = false;
  bool stats = false;
  std::uint16_t protocol_version = proto::kVersion;  // testing aid: pretend to be another version
  std::string inject_fault;  // testing aid: corrupt job 0's first request (see define_options)
  bool die_holding_memory_lock = false;  // testing aid (see define_options)
  std::string log_level = "info";
  std::vector<std::string> eal_args;  // after "--"
};

void define_options(CLI::App& app, FrontendOptions& opts);

}  // namespace offload::frontend
