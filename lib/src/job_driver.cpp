#include "offload/job_driver.hpp"

namespace offload {

JobDriver::JobDriver(JobFn job_fn, SlotFn on_finish) : job_fn_(job_fn), on_finish_(std::move(on_finish)) {}

void JobDriver::start(JobSlot& slot) {
  slot.busy = true;
  slot.ret = 0;
  slot.start_error.clear();
  ++active_;
  step(slot);
}

void JobDriver::step(JobSlot& slot) {
  switch (step_job(slot.async_job, slot.wait_ctx.get(), slot.ret, job_fn_, &slot)) {
    case StepResult::Paused:
      epoll_.watch_changed_fds(slot.wait_ctx.get(), &slot);
      if (on_pause_) on_pause_(slot);
      return;
    case StepResult::Finished: finished(slot); return;
    case StepResult::NoJobs: starved_.push_back(&slot); return;  // no pool job free right now
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

void JobDriver::poll(int wait_ms) {
  if (!starved_.empty()) {
    std::deque<JobSlot*> retry;
    retry.swap(starved_);
    for (JobSlot* slot : retry) step(*slot);
    wait_ms = 0;
  }
  for (void* token : epoll_.wait(wait_ms)) step(*static_cast<JobSlot*>(token));
}

}  // namespace offload
