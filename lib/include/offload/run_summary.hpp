#pragma once
// What a run reports at the end: counts, wall and CPU time, throughput and
// per-request latency percentiles, as a human summary or one JSON line.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "offload/log_linear_buckets.hpp"

namespace offload {

// Collects latencies (nanoseconds) in a log-linear histogram: constant
// memory however long the run, relative error under 1/64.
class LatencyHistogram {
public:
  LatencyHistogram();
  // Inline: a frontend records every request (out of line, the call and
  // the bucket's arithmetic were 2 ns of its 165 per request at 1 KiB).
  void record(std::uint64_t ns) noexcept {
    ++buckets_[bucket_of(ns)];
    ++count_;
    max_ = std::max(max_, ns);
  }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max_ns() const noexcept { return max_; }
  // The value at quantile q in [0, 1] (0 when empty).
  [[nodiscard]] std::uint64_t quantile_ns(double q) const noexcept;

private:
  static constexpr unsigned kSubBits = 6;  // 64 sub-buckets per power of two
  static std::size_t bucket_of(std::uint64_t ns) noexcept { return LogLinearBuckets<kSubBits>::bucket_of(ns); }
  static std::uint64_t bucket_value(std::size_t bucket) noexcept;
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

struct RunSummary {
  std::string program;  // "threadsim", "frontend"
  std::string notify;   // the notification mode, if the program has one
  std::string op;       // the operation (operation_name), if the program reports one
  std::string verify;   // which results were verified (all, sample, none), if not all
  // Coalesced mode that napped instead of sleeping until its doorbell rang:
  // how many naps (0: it did not nap).
  std::uint64_t naps = 0;
  std::uint64_t payload_bytes = 0;  // per request, when every request has the same size
  // How many requests each ASYNC job made one after another (0: as many as
  // the run had); "jobs" below counts requests either way.
  std::uint64_t requests_per_job = 1;
  std::uint64_t inflight = 0;
  std::uint64_t jobs = 0;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t pending = 0;  // not finished when the run ended (timeout, peer lost)
  double wall_s = 0.0;
  double cpu_s = 0.0;
  LatencyHistogram latency;

  [[nodiscard]] double throughput_jobs_per_s() const noexcept;
  // One line of JSON, no trailing newline.
  [[nodiscard]] std::string to_json() const;
  // A few human-readable lines, with a trailing newline.
  [[nodiscard]] std::string to_text() const;
};

// "3, 5, 9 and 12 more": job ids for a log line, at most `max_shown` of them.
std::string id_list(std::span<const std::uint32_t> ids, std::size_t max_shown = 20);

// Process CPU time (user + system) in seconds.
double process_cpu_seconds() noexcept;

}  // namespace offload
