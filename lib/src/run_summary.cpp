#include "offload/run_summary.hpp"

#include "offload/log_linear_buckets.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace offload {

LatencyHistogram::LatencyHistogram() : buckets_((64 - kSubBits + 1) << kSubBits, 0) {}

std::uint64_t LatencyHistogram::bucket_value(std::size_t bucket) noexcept {
  return LogLinearBuckets<kSubBits>::bucket_value(bucket);
}

std::uint64_t LatencyHistogram::quantile_ns(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(bucket_value(b), max_);
  }
  return max_;
}

double RunSummary::throughput_jobs_per_s() const noexcept {
  return wall_s > 0.0 ? static_cast<double>(ok + failed) / wall_s : 0.0;
}

namespace {
double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
}  // namespace

std::string RunSummary::to_json() const {
  std::string optional;
  if (!notify.empty()) optional += fmt::format(R"("notify":"{}",)", notify);
  if (!op.empty()) optional += fmt::format(R"("op":"{}",)", op);
  if (!verify.empty()) optional += fmt::format(R"("verify":"{}",)", verify);
  if (requests_per_job != 1) optional += fmt::format(R"("requests_per_job":{},)", requests_per_job);
  if (naps != 0) optional += fmt::format(R"("naps":{},)", naps);
  if (payload_bytes != 0)
    optional += fmt::format(R"("payload_bytes":{},"gbytes_per_s":{:.4f},)", payload_bytes,
                            throughput_jobs_per_s() * static_cast<double>(payload_bytes) / 1e9);
  return fmt::format(
      R"({{"program":"{}",{}"jobs":{},"inflight":{},"ok":{},"failed":{},"pending":{},"wall_s":{:.6f},"cpu_s":{:.6f},)"
      R"("throughput_jobs_per_s":{:.1f},"latency_us":{{"p50":{:.1f},"p90":{:.1f},"p99":{:.1f},"p999":{:.1f},"max":{:.1f}}}}})",
      program, optional, jobs, inflight, ok, failed, pending, wall_s, cpu_s, throughput_jobs_per_s(), us(latency.quantile_ns(0.50)),
      us(latency.quantile_ns(0.90)), us(latency.quantile_ns(0.99)), us(latency.quantile_ns(0.999)),
      us(latency.max_ns()));
}

std::string RunSummary::to_text() const {
  std::string out = fmt::format("summary: {} jobs: {} ok, {} failed", jobs, ok, failed);
  if (pending != 0) out += fmt::format(", {} still pending", pending);
  out += fmt::format(" in {:.3f} s ({:.0f} jobs/s", wall_s, throughput_jobs_per_s());
  if (payload_bytes != 0)
    out += fmt::format(", {:.1f} MB/s of {}-byte messages",
                       throughput_jobs_per_s() * static_cast<double>(payload_bytes) / 1e6, payload_bytes);
  out += fmt::format(", cpu {:.3f} s)\n", cpu_s);
  if (!verify.empty()) out += fmt::format("verified: {} of the results ({})\n", verify, op);
  if (requests_per_job != 1)
    out += requests_per_job == 0 ? std::string("each job made requests one after another until the run ended\n")
                                 : fmt::format("each job made up to {} requests one after another\n", requests_per_job);
  if (naps != 0)
    out += fmt::format("waited for completions in {} nap(s), looking at the ring itself (--coalesced-wait nap)\n", naps);
  if (latency.count() != 0)
    out += fmt::format("latency (submit to resume): p50 {:.1f} us, p99 {:.1f} us, max {:.1f} us\n",
                       us(latency.quantile_ns(0.50)), us(latency.quantile_ns(0.99)), us(latency.max_ns()));
  return out;
}

std::string id_list(std::span<const std::uint32_t> ids, std::size_t max_shown) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < max_shown; ++i) out += (i != 0 ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > max_shown) out += fmt::format(" and {} more", ids.size() - max_shown);
  return out;
}

double process_cpu_seconds() noexcept {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

}  // namespace offload
