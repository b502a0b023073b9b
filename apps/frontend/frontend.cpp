#include "frontend.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backend_link.hpp"
#include "offload/async_wait.hpp"
#include "offload/cipher.hpp"
#include "offload/clock.hpp"
#include "offload/dpdk/eal.hpp"
#include "offload/exit_codes.hpp"
#include "offload/job_driver.hpp"
#include "offload/logging.hpp"
#include "offload/openssl_handles.hpp"
#include "offload/run_summary.hpp"
#include "offload_job.hpp"

namespace offload::frontend {
namespace {

constexpr std::uint32_t kNarratedJobs = 32;
constexpr std::uint64_t kDefaultTimeoutMs = 60'000;
// How often the event loop checks that the backend still lives: the bound
// on noticing a dead backend.
constexpr std::uint64_t kLivenessCheckMs = 100;

class Session {
public:
  explicit Session(const FrontendOptions& opts)
      : opts_(opts),
        pool_(opts.jobs, std::min<std::size_t>(opts.jobs, 64)),
        link_(opts.instance, opts.jobs, proto::NotifyMode::EventFd),
        driver_(offload_job_main, [this](JobSlot& slot) { finish(static_cast<OffloadSlot&>(slot)); }),
        slots_(opts.jobs) {
    std::vector<int> fds;
    fds.reserve(slots_.size());
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      OffloadSlot& slot = slots_[i];
      slot.link = &link_;
      slot.job_id = i;
      // Created before any job runs: the backend must hold every job's fd
      // before the first request can reach it.
      slot.eventfd = add_wait_eventfd(slot.wait_ctx.get(), &slot);
      if (slot.eventfd < 0) throw EnvironmentError(fmt::format("cannot create job eventfds: {}", std::strerror(errno)));
      fds.push_back(slot.eventfd);
    }
    link_.sync_job_fds(0, fds);
    summary_.program = "frontend";
    summary_.jobs = opts.jobs;
  }

  int run() {
    const std::uint64_t timeout_ms = opts_.timeout_ms != 0 ? opts_.timeout_ms : kDefaultTimeoutMs;
    const std::uint64_t started = monotonic_ns();
    const std::uint64_t deadline = started + timeout_ms * 1'000'000ULL;
    std::uint64_t last_check = started;

    for (auto& slot : slots_) {
      slot.begin(make_payload(opts_.payload.message, opts_.payload.payload_bytes, link_.frontend_id(), slot.job_id, 0));
      driver_.start(slot);
    }
    while (driver_.active() > 0) {
      const std::uint64_t now = monotonic_ns();
      if (now >= deadline) {
        end_early(fmt::format("timed out after {} ms", timeout_ms), false);
        outcome_ = kExitTimeout;
        break;
      }
      if (now - last_check >= kLivenessCheckMs * 1'000'000) {
        last_check = now;
        if (!link_.backend_alive()) {
          end_early(fmt::format("the backend of instance '{}' died (its DPDK primary is gone)", opts_.instance), true);
          outcome_ = kExitPeerLost;
          break;
        }
      }
      driver_.poll(static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, kLivenessCheckMs)));
    }

    summary_.wall_s = static_cast<double>(monotonic_ns() - started) / 1e9;
    summary_.cpu_s = process_cpu_seconds();
    summary_.pending = summary_.jobs - summary_.ok - summary_.failed;
    std::fputs(opts_.json ? (summary_.to_json() + "\n").c_str() : summary_.to_text().c_str(), stdout);
    std::fflush(stdout);
    if (outcome_ != kExitOk) return outcome_;
    return summary_.failed == 0 ? kExitOk : kExitJobsFailed;
  }

private:
  void finish(OffloadSlot& slot) {
    if (!slot.start_error.empty()) slot.failure = slot.start_error;
    if (slot.cancelled && !count_cancelled_as_failed_) return;
    if (slot.submitted_ns != 0 && !slot.cancelled) summary_.latency.record(monotonic_ns() - slot.submitted_ns);
    if (slot.ret == 1) {
      ++summary_.ok;
      spdlog::log(slot.job_id < kNarratedJobs ? spdlog::level::info : spdlog::level::debug,
                  "job {}: verified: {} -> {} (device {:.3f} ms, round trip {:.3f} ms)", slot.job_id,
                  hex_preview(slot.input), hex_preview(slot.result_preview) +
                      (slot.input.size() > 16 ? fmt::format(" … ({} bytes)", slot.input.size()) : ""),
                  slot.device_ms, static_cast<double>(monotonic_ns() - slot.submitted_ns) / 1e6);
    } else {
      ++summary_.failed;
      spdlog::error("job {}: FAILED: {}", slot.job_id, slot.failure);
    }
  }

  // Ends every job still waiting: each is resumed once more with its cancel
  // flag set, so it finishes and frees its ASYNC stack. Requests the backend
  // still holds are reclaimed by the backend when this frontend goes.
  void end_early(const std::string& why, bool jobs_failed) {
    std::vector<std::uint32_t> pending;
    for (const auto& slot : slots_)
      if (slot.busy) pending.push_back(slot.job_id);
    spdlog::error("{}: {} job(s) outstanding (jobs {}){}", why, pending.size(), id_list(pending),
                  jobs_failed ? ": failing them" : "");
    count_cancelled_as_failed_ = jobs_failed;
    for (auto& slot : slots_) {
      if (!slot.busy) continue;
      slot.cancel.store(true, std::memory_order_release);
      driver_.step(slot);
    }
  }

  const FrontendOptions& opts_;
  AsyncThreadPool pool_;
  BackendLink link_;
  JobDriver driver_;
  std::vector<OffloadSlot> slots_;
  RunSummary summary_;
  int outcome_ = kExitOk;
  bool count_cancelled_as_failed_ = false;
};

}  // namespace

int run(const FrontendOptions& opts) {
  setup_logging("frontend", opts.log_level);
  // Checked before the EAL: with no primary, rte_eal_init fails with only
  // EAL's own words and leaves an empty runtime dir behind.
  require_live_backend(opts.instance);
  ensure_fd_limit(std::size_t{opts.jobs} + 128);
  dpdk::EalSession eal("offload-frontend",
                       dpdk::EalConfig{dpdk::ProcessRole::Secondary, opts.instance, opts.lcore, "warning", opts.eal_args});
  Session session(opts);
  return session.run();
}

}  // namespace offload::frontend
