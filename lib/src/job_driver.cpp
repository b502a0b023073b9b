#include "offload/job_driver.hpp"

#include <spdlog/spdlog.h>

#include "offload/clock.hpp"

namespace offload {

JobDriver::JobDriver(JobFn job_fn, SlotFn on_finish) : job_fn_(job_fn), on_finish_(std::move(on_finish)) {}

bool JobDriver::start(JobSlot& slot) {
  // Once the run is ending a finish callback must not start a job that
  // nobody would resume and free.
  if (closed_ || slot.busy) return false;
  slot.cancel.store(false, std::memory_order_relaxed);
  slot.busy = true;
  slot.ret = 0;
  slot.start_error.clear();
  ++active_;
  step(slot);
  return true;
}

void JobDriver::stepped(JobSlot& slot, StepResult result) {
  switch (result) {
    case StepResult::Paused:
      if (jobs_have_fds_) epoll_.watch_changed_fds(slot.wait_ctx.get(), &slot);
      if (ASYNC_WAIT_CTX_get_status(slot.wait_ctx.get()) == ASYNC_STATUS_EAGAIN) {
        ASYNC_WAIT_CTX_set_status(slot.wait_ctx.get(), ASYNC_STATUS_OK);
        retry_.push_back(&slot);
      }
      if (on_pause_) on_pause_(slot);
      return;
    case StepResult::Finished: finished(slot); return;
    case StepResult::NoJobs: retry_.push_back(&slot); return;  // no pool job free right now
    case StepResult::Error:
      slot.ret = 0;
      slot.start_error = "ASYNC_start_job failed: " + take_openssl_error();
      finished(slot);
      return;
  }
}

void JobDriver::finished(JobSlot& slot) {
  slot.busy = false;
  --active_;
  on_finish_(slot);
}

void JobDriver::end_cancelled(JobSlot& slot) {
  // A cancelled job ends at its next resume (every pause in a job checks the
  // flag); a few more resumes cover a job paused for something else first.
  constexpr int kResumes = 4;
  for (int i = 0; i < kResumes && slot.busy; ++i) {
    if (slot.async_job == nullptr) {
      // ASYNC_start_job found no free job for it: it never ran. Starting it
      // now would run a job that is already over.
      slot.ret = 0;
      finished(slot);
      return;
    }
    step(slot);
  }
  if (slot.busy)
    spdlog::error("job {}: still paused after being cancelled and resumed {} times: its ASYNC stack stays allocated",
                  slot.job_id, kResumes);
}

void JobDriver::run_retries() {
  std::deque<JobSlot*> due;
  due.swap(retry_);
  for (JobSlot* slot : due) step(*slot);
}

void JobDriver::poll(int wait_ms) {
  if (!retry_.empty()) {
    run_retries();
    wait_ms = 0;
  }
  for (void* token : wait_events(wait_ms)) {
    if (token == &doorbell_token_ || token == &seen_token_)
      on_doorbell_(token == &doorbell_token_);
    else
      step(*static_cast<JobSlot*>(token));
  }
  if (after_poll_) after_poll_();
}

std::span<void* const> JobDriver::wait_events(int wait_ms) {
  if (wait_ms == 0) {
    // A look without a wait (jobs are due for a retry) looks at the
    // doorbell's ring too: a side that asked for no doorbell is rung for
    // nothing, and jobs retrying for what only a completion gives back (a
    // request buffer) retried for ever while their completions waited
    // (J = 128 on a pool of 64: not one request finished).
    if (const auto ready = epoll_.wait(0); !ready.empty()) return ready;
    return probed();
  }
  std::uint64_t expected = 0;
  if (expected_completion_) {
    expected = expected_completion_();
    if (expected == spun_for_) expected = 0;
  }
  if (const std::uint64_t nap_ns = expected == 0 && nap_ns_ ? nap_ns_() : 0; nap_ns != 0) {
    // No doorbell comes: the busy poll looks at the ring itself.
    if (const auto ready = busy_poll(true); !ready.empty()) return ready;
    return nap(nap_ns, wait_ms);
  }
  // With a ring to probe (coalesced mode) the busy poll looks at it, not
  // at the doorbell: the backend's doorbell waits for a batch of completions
  // (and may not ring at all while this side asks for no doorbell), and a
  // look at a ring is a load where epoll_wait is a system call.
  if (const auto ready = busy_poll(static_cast<bool>(doorbell_probe_)); !ready.empty()) return ready;
  if (ask_for_doorbell_) {
    ask_for_doorbell_();
    if (const auto seen = probed(); !seen.empty()) return seen;
  }
  if (expected != 0) return wait_expecting(expected, wait_ms);
  if (const auto ready = epoll_.wait(wait_ms); !ready.empty()) return ready;
  // A long wait that ran out with completions on the ring: the doorbell
  // that should have ended it never rang (the other side moderates it by
  // 0.1 ms at most).
  const auto seen = probed();
  if (!seen.empty() && wait_ms >= kLostDoorbellWaitMs) ++lost_doorbells_;
  return seen;
}

std::span<void* const> JobDriver::busy_poll(bool probe) {
  if (busy_poll_ns_ == 0) {
    // Now and then the budget comes back, to notice a faster device.
    if (++polls_without_busy_ % 256 == 0) busy_poll_ns_ = kBusyPollMaxNs;
    return {};
  }
  const std::uint64_t deadline = monotonic_ns() + busy_poll_ns_;
  do {
    const auto ready = probe ? probed() : epoll_.wait(0);
    if (!ready.empty()) {
      busy_poll_ns_ = kBusyPollMaxNs;
      return ready;
    }
  } while (monotonic_ns() < deadline);
  busy_poll_ns_ /= 2;
  if (busy_poll_ns_ < 500) busy_poll_ns_ = 0;
  return {};
}

std::span<void* const> JobDriver::probed() const {
  if (doorbell_probe_ && doorbell_probe_()) return seen_ready_;
  return {};
}

std::span<void* const> JobDriver::nap(std::uint64_t nap_ns, int wait_ms) {
  if (on_nap_) on_nap_();
  const std::uint64_t now = monotonic_ns();
  const auto ready = epoll_.wait_until(now + std::min(nap_ns, static_cast<std::uint64_t>(wait_ms) * 1'000'000));
  if (!ready.empty()) return ready;
  return probed();
}

std::span<void* const> JobDriver::wait_expecting(std::uint64_t expected_ns, int wait_ms) {
  const std::uint64_t now = monotonic_ns();
  const std::uint64_t until = now + static_cast<std::uint64_t>(wait_ms) * 1'000'000;
  const std::uint64_t spin_from = expected_ns > kSpinLeadNs ? expected_ns - kSpinLeadNs : 0;
  if (spin_from > now) {
    const auto ready = epoll_.wait_until(std::min(spin_from, until));
    if (!ready.empty() || spin_from >= until) return ready;
  }
  spun_for_ = expected_ns;
  const std::uint64_t spin_until = std::min(until, std::max(expected_ns, now) + kSpinPastNs);
  do {
    const auto ready = epoll_.wait(0);
    if (!ready.empty()) return ready;
    if (const auto seen = probed(); !seen.empty()) return seen;
  } while (monotonic_ns() < spin_until);
  return {};
}

void JobDriver::watch_doorbell(int fd, std::function<void(bool)> on_ready) {
  on_doorbell_ = std::move(on_ready);
  epoll_.watch(fd, &doorbell_token_);
}

bool retry_later() {
  ASYNC_JOB* job = ASYNC_get_current_job();
  if (job == nullptr) return false;
  ASYNC_WAIT_CTX_set_status(ASYNC_get_wait_ctx(job), ASYNC_STATUS_EAGAIN);
  return ASYNC_pause_job() == 1;
}

}  // namespace offload
