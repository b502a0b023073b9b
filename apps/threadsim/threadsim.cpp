#include "threadsim.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "job_request.hpp"
#include "offload/aes_gcm.hpp"
#include "offload/async_wait.hpp"
#include "offload/cipher.hpp"
#include "offload/clock.hpp"
#include "offload/exit_codes.hpp"
#include "offload/job_driver.hpp"
#include "offload/logging.hpp"
#include "offload/openssl_handles.hpp"
#include "offload/run_summary.hpp"
#include "sim_device.hpp"

namespace offload::threadsim {
namespace {

// Past this many jobs the per-job walkthrough lines drop to debug level, so
// a 65536-job run stays readable (the summary still counts every job).
constexpr std::uint32_t kNarratedJobs = 32;

spdlog::level::level_enum narration(std::uint32_t job_id) {
  return job_id < kNarratedJobs ? spdlog::level::info : spdlog::level::debug;
}

// One in-flight position, reused job after job (with its wait context and
// the eventfd in it).
struct SimSlot : JobSlot {
  SimDevice* device = nullptr;
  const ThreadsimOptions* opts = nullptr;

  // The job currently in the slot.
  JobRequest request;
  std::atomic<DeviceStatus> status{DeviceStatus::Pending};
  std::uint64_t submitted_ns = 0;
  std::uint64_t spurious_resumes = 0;
  bool cancelled = false;
  bool spurious_injected = false;
  std::string failure;

  void begin(std::uint32_t id) {
    job_id = id;
    status.store(DeviceStatus::Pending, std::memory_order_relaxed);
    cancel.store(false, std::memory_order_relaxed);
    submitted_ns = 0;
    spurious_resumes = 0;
    cancelled = false;
    spurious_injected = false;
    failure.clear();
  }
};

// The job function: runs on the ASYNC job's own stack.
int job_main(void* args) {
  SimSlot& slot = job_slot<SimSlot>(args);
  const auto level = narration(slot.job_id);

  const int fd = job_wait_eventfd(&slot);
  if (fd < 0) {
    slot.failure = fmt::format("cannot create its wait eventfd: {}", std::strerror(errno));
    return 0;
  }
  if (std::string error = slot.request.prepare(slot.job_id); !error.empty()) {
    slot.failure = std::move(error);
    return 0;
  }
  DeviceRequest request = slot.request.device_request();
  request.inject_error = slot.opts->fail_job && *slot.opts->fail_job == slot.job_id;
  request.status = &slot.status;
  request.notify_fd = fd;
  slot.submitted_ns = monotonic_ns();
  slot.device->submit(request);
  spdlog::log(level, "job {}: submitted {} bytes to the device ({}); its ASYNC_WAIT_CTX holds wait fd {}; pausing",
              slot.job_id, slot.request.device_bytes(), operation_name(slot.opts->op), fd);

  switch (await_eventfd(fd, &slot.cancel, &slot.spurious_resumes)) {
    case AwaitResult::Signalled: break;
    case AwaitResult::Cancelled:
      slot.cancelled = true;
      slot.failure = "cancelled: the run timed out before the device answered";
      return 0;
    case AwaitResult::Error:
      slot.failure = fmt::format("reading its wait fd {} failed: {}", fd, std::strerror(errno));
      return 0;
  }
  spdlog::log(level, "job {}: resumed: the device signalled fd {}", slot.job_id, fd);

  slot.failure = slot.request.check(slot.status.load(std::memory_order_acquire));
  return slot.failure.empty() ? 1 : 0;
}

std::uint64_t default_timeout_ms(const ThreadsimOptions& o) {
  return derived_timeout_ms(o.delay.latency_bound_ms(), o.engines, o.inflight, o.common.jobs);
}

class Simulation {
public:
  // `run_key`: the AES-GCM ops' key and IV prefix (null for xor and not).
  Simulation(const ThreadsimOptions& opts, const GcmRunKey* run_key)
      : opts_(opts),
        pool_(opts.inflight, std::min<std::size_t>(opts.inflight, 64)),
        device_(opts.device_threads, opts.engines, opts.delay, opts.delay_dist.seed),
        driver_(job_main, [this](JobSlot& slot) { finish(static_cast<SimSlot&>(slot)); }),
        slots_(opts.inflight) {
    for (auto& slot : slots_) {
      slot.device = &device_;
      slot.opts = &opts_;
      slot.request = JobRequest(opts_, run_key);
    }
    if (opts.spurious_resumes) driver_.set_on_pause([this](JobSlot& slot) { resume_spuriously(static_cast<SimSlot&>(slot)); });
    summary_.program = "threadsim";
    summary_.op = operation_name(opts.op);
    summary_.inflight = opts.inflight;
    summary_.jobs = opts.common.jobs;
  }

  int run() {
    const std::uint64_t timeout_ms = opts_.timeout_ms != 0 ? opts_.timeout_ms : default_timeout_ms(opts_);
    const std::uint64_t started = monotonic_ns();
    const std::uint64_t deadline = started + timeout_ms * 1'000'000ULL;

    for (auto& slot : slots_) start_next(slot);
    while (driver_.active() > 0) {
      const std::uint64_t now = monotonic_ns();
      if (now >= deadline) {
        time_out(timeout_ms);
        break;
      }
      driver_.poll(static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, 1000)));
    }
    device_.stop();

    summary_.wall_s = static_cast<double>(monotonic_ns() - started) / 1e9;
    summary_.cpu_s = process_cpu_seconds();
    summary_.pending = summary_.jobs - summary_.ok - summary_.failed;
    if (spurious_ != 0) spdlog::info("event loop: {} spurious resume(s) were tolerated (the job paused again)", spurious_);
    std::fputs(opts_.common.json ? (summary_.to_json() + "\n").c_str() : summary_.to_text().c_str(), stdout);
    std::fflush(stdout);

    if (timed_out_) return kExitTimeout;
    return summary_.failed == 0 ? kExitOk : kExitJobsFailed;
  }

private:
  void start_next(SimSlot& slot) {
    if (next_job_ >= opts_.common.jobs) return;
    slot.begin(next_job_++);
    driver_.start(slot);
  }

  // Deliberately resumes a job with nothing signalled, once: the job must
  // notice and pause again rather than read a result that is not there.
  void resume_spuriously(SimSlot& slot) {
    if (slot.spurious_injected) return;
    slot.spurious_injected = true;
    spdlog::log(narration(slot.job_id), "job {}: resuming it spuriously (nothing signalled yet)", slot.job_id);
    driver_.step(slot);
  }

  void finish(SimSlot& slot) {
    spurious_ += slot.spurious_resumes;
    if (!slot.start_error.empty()) slot.failure = slot.start_error;
    if (slot.cancelled) {
      start_next(slot);
      return;
    }
    if (slot.submitted_ns != 0) summary_.latency.record(monotonic_ns() - slot.submitted_ns);
    if (slot.ret == 1) {
      ++summary_.ok;
      spdlog::log(narration(slot.job_id), "job {}: done, verified: {}", slot.job_id, slot.request.describe());
    } else {
      ++summary_.failed;
      spdlog::error("job {}: FAILED: {}", slot.job_id, slot.failure);
    }
    start_next(slot);
  }

  void time_out(std::uint64_t timeout_ms) {
    timed_out_ = true;
    // No device thread may touch a job once it is cancelled.
    device_.stop();
    const std::uint32_t never_started = opts_.common.jobs - next_job_;
    next_job_ = opts_.common.jobs;
    const auto pending = driver_.cancel_busy(slots_);
    spdlog::error("timed out after {} ms: {} job(s) still waiting for the device (jobs {}){}", timeout_ms,
                  pending.size(), id_list(pending), never_started ? fmt::format(", {} never started", never_started) : "");
  }

  const ThreadsimOptions& opts_;
  AsyncThreadPool pool_;
  SimDevice device_;
  JobDriver driver_;
  std::vector<SimSlot> slots_;
  RunSummary summary_;
  std::uint32_t next_job_ = 0;
  std::uint64_t spurious_ = 0;
  bool timed_out_ = false;
};

}  // namespace

int run(const ThreadsimOptions& opts) {
  setup_logging("threadsim", opts.common.log_level);
  ensure_fd_limit(static_cast<std::size_t>(opts.inflight) + 64);
  spdlog::info("{} job(s), {} in flight; device: {} thread(s), {} engine(s), latency {}, op {}; {}", opts.common.jobs,
               opts.inflight, opts.device_threads, opts.engines == 0 ? std::string("unlimited") : std::to_string(opts.engines),
               opts.delay.describe(), operation_name(opts.op), OpenSSL_version(OPENSSL_VERSION));
  std::optional<GcmRunKey> run_key;
  if (is_aead(opts.op)) {
    run_key = make_gcm_run_key(opts.key);
    spdlog::info("AES-256-GCM: key {}, {} byte(s) of AAD per job, each job's IV {} + its id (4 bytes)",
                 opts.key ? "from --key" : "random for this run", opts.aad_len, to_hex(run_key->iv_prefix));
    // A random key is this run's secret: shown only when asked for.
    if (!opts.key) spdlog::debug("AES-256-GCM: this run's random key: {}", to_hex(run_key->key));
  }
  Simulation simulation(opts, run_key ? &*run_key : nullptr);
  return simulation.run();
}

}  // namespace offload::threadsim
