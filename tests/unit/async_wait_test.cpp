#include "offload/async_wait.hpp"

#include <gtest/gtest.h>
#include <openssl/async.h>

#include <fcntl.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <vector>

#include "offload/openssl_handles.hpp"
#include "offload/unique_fd.hpp"

namespace {

using offload::AwaitResult;

// Distinct addresses serve as ASYNC_WAIT_CTX keys.
const char kKey = 0;
const char kOtherKey = 0;

constexpr int kSignalledRet = 7;
constexpr int kCancelledRet = 8;
constexpr int kErrorRet = 9;

bool is_closed(int fd) {
  errno = 0;
  return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

// What a job reports back to the test. The job gets a pointer to it:
// ASYNC_start_job copies `args`, so the pointer is what is copied.
struct JobState {
  const void* key = &kKey;
  int fd = -1;
  int fd_again = -1;
  int other_fd = -1;
  int errno_seen = 0;
  std::atomic<bool> cancel{false};
  std::uint64_t spurious = 0;
  AwaitResult result = AwaitResult::Error;
  bool clear_after_first_wake = false;
};

JobState& state_of(void* args) { return **static_cast<JobState**>(args); }

int get_fd_twice_job(void* args) {
  JobState& st = state_of(args);
  st.fd = offload::job_wait_eventfd(st.key);
  st.errno_seen = errno;
  st.fd_again = offload::job_wait_eventfd(st.key);
  st.other_fd = offload::job_wait_eventfd(&kOtherKey);
  return 42;
}

int await_job(void* args) {
  JobState& st = state_of(args);
  st.fd = offload::job_wait_eventfd(st.key);
  if (st.fd < 0) return kErrorRet;
  st.result = offload::await_eventfd(st.fd, &st.cancel, &st.spurious);
  if (st.clear_after_first_wake) {
    // Hand the fd back to the event loop's bookkeeping as "deleted", pause
    // once more so it is published, then close it (clear_fd does not).
    ASYNC_WAIT_CTX_clear_fd(ASYNC_get_wait_ctx(ASYNC_get_current_job()), st.key);
    ASYNC_pause_job();
    ::close(st.fd);
  }
  switch (st.result) {
    case AwaitResult::Signalled: return kSignalledRet;
    case AwaitResult::Cancelled: return kCancelledRet;
    case AwaitResult::Error: return kErrorRet;
  }
  return kErrorRet;
}

class AsyncWaitTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(ASYNC_is_capable(), 1) << "this OpenSSL build has no ASYNC fibres"; }

  // Starts (job_ == nullptr) or resumes the job on ctx_.
  int run(int (*fn)(void*)) {
    JobState* ptr = &st_;
    return ASYNC_start_job(&job_, ctx_.get(), &ret_, fn, &ptr, sizeof ptr);
  }

  void TearDown() override {
    // A job left paused by a failed assertion must not outlive its wait ctx.
    for (int i = 0; job_ != nullptr && i < 8; ++i) {
      st_.cancel.store(true);
      run(await_job);
    }
  }

  offload::AsyncThreadPool pool_{4, 0};
  offload::WaitCtxPtr ctx_ = offload::make_wait_ctx();
  ASYNC_JOB* job_ = nullptr;
  int ret_ = -1;
  JobState st_;
};

TEST(AsyncWait, JobWaitEventfdOutsideAJobFails) {
  errno = 0;
  EXPECT_EQ(offload::job_wait_eventfd(&kKey), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(AsyncWaitTest, JobWaitEventfdRegistersOneFdPerKey) {
  ASSERT_EQ(run(get_fd_twice_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, 42);
  EXPECT_EQ(job_, nullptr);
  ASSERT_GE(st_.fd, 0) << "errno " << st_.errno_seen;
  EXPECT_EQ(st_.fd_again, st_.fd);  // the second call finds the registered fd
  ASSERT_GE(st_.other_fd, 0);
  EXPECT_NE(st_.other_fd, st_.fd);  // another key, another fd

  OSSL_ASYNC_FD found = OSSL_BAD_ASYNC_FD;
  void* custom = &found;
  ASSERT_EQ(ASYNC_WAIT_CTX_get_fd(ctx_.get(), &kKey, &found, &custom), 1);
  EXPECT_EQ(found, st_.fd);
  ASSERT_EQ(ASYNC_WAIT_CTX_get_fd(ctx_.get(), &kOtherKey, &found, &custom), 1);
  EXPECT_EQ(found, st_.other_fd);

  std::size_t n = 0;
  ASSERT_EQ(ASYNC_WAIT_CTX_get_all_fds(ctx_.get(), nullptr, &n), 1);
  EXPECT_EQ(n, 2u);
}

TEST_F(AsyncWaitTest, JobWaitEventfdIsNonBlockingAndCloseOnExec) {
  ASSERT_EQ(run(get_fd_twice_job), ASYNC_FINISH);
  ASSERT_GE(st_.fd, 0);
  EXPECT_NE(::fcntl(st_.fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(st_.fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(offload::drain_eventfd(st_.fd), 0);  // an eventfd, not yet signalled
}

TEST_F(AsyncWaitTest, AReusedWaitCtxKeepsItsFdAcrossJobs) {
  ASSERT_EQ(run(get_fd_twice_job), ASYNC_FINISH);
  const int first = st_.fd;
  ASSERT_GE(first, 0);
  st_.fd = st_.fd_again = st_.other_fd = -1;
  ASSERT_EQ(run(get_fd_twice_job), ASYNC_FINISH);
  EXPECT_EQ(st_.fd, first);
}

TEST_F(AsyncWaitTest, FreeingTheWaitCtxClosesTheFd) {
  ASSERT_EQ(run(get_fd_twice_job), ASYNC_FINISH);
  ASSERT_GE(st_.fd, 0);
  ASSERT_FALSE(is_closed(st_.fd));
  ctx_.reset();
  EXPECT_TRUE(is_closed(st_.fd));
  EXPECT_TRUE(is_closed(st_.other_fd));
}

TEST_F(AsyncWaitTest, AwaitPausesUntilSignalled) {
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ASSERT_NE(job_, nullptr);
  ASSERT_GE(st_.fd, 0);

  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kSignalledRet);
  EXPECT_EQ(st_.result, AwaitResult::Signalled);
  EXPECT_EQ(job_, nullptr);
  // The signal was consumed by the wait.
  EXPECT_EQ(offload::drain_eventfd(st_.fd), 0);
}

TEST_F(AsyncWaitTest, SpuriousResumePausesAgain) {
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ASSERT_GE(st_.fd, 0);
  const std::uint64_t before = st_.spurious;

  // Resume without signalling: nothing to read, so the job pauses again.
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  EXPECT_EQ(st_.spurious, before + 1);
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  EXPECT_EQ(st_.spurious, before + 2);

  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kSignalledRet);
  EXPECT_EQ(st_.result, AwaitResult::Signalled);
}

TEST_F(AsyncWaitTest, SpuriousCountsOnlyResumesWithNothingToRead) {
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  EXPECT_EQ(st_.spurious, 0u);  // the first wait is not a resume at all
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  EXPECT_EQ(st_.spurious, 1u);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(st_.spurious, 1u) << "the resume that found the signal was counted as spurious";
}

TEST_F(AsyncWaitTest, SignalBeforeTheWaitFinishesWithoutPausing) {
  // The fd exists from the first run; a signal that arrives before the job's
  // next wait is consumed without another pause.
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));  // two signals still mean one wake-up
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kSignalledRet);
  EXPECT_EQ(offload::drain_eventfd(st_.fd), 0);  // both were consumed
}

TEST_F(AsyncWaitTest, CancelEndsAPausedWait) {
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  st_.cancel.store(true);
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kCancelledRet);
  EXPECT_EQ(st_.result, AwaitResult::Cancelled);
}

TEST_F(AsyncWaitTest, CancelWinsOverAPendingSignal) {
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  st_.cancel.store(true);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(st_.result, AwaitResult::Cancelled);
}

TEST_F(AsyncWaitTest, CancelSetBeforeTheWaitNeverPauses) {
  st_.cancel.store(true);
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kCancelledRet);
  EXPECT_EQ(st_.result, AwaitResult::Cancelled);
  EXPECT_EQ(st_.spurious, 0u);
}

TEST_F(AsyncWaitTest, AwaitOnABadFdIsAnError) {
  // Not a wait on a job fd: the read fails with EBADF before any pause.
  int fd = -1;
  {
    const offload::UniqueFd tmp = offload::make_eventfd();
    fd = tmp.get();
  }
  EXPECT_EQ(offload::await_eventfd(fd), AwaitResult::Error);
}

int self_job(void* args) {
  JobState& st = offload::job_self<JobState>(args);
  st.fd = offload::job_wait_eventfd(st.key);
  st.result = offload::await_eventfd(st.fd, &st.cancel, &st.spurious);
  return st.result == AwaitResult::Signalled ? kSignalledRet : kErrorRet;
}

TEST_F(AsyncWaitTest, StepJobHandsTheJobTheCallersObject) {
  using offload::StepResult;
  // The job writes through job_self into st_ itself, not into a copy.
  ASSERT_EQ(offload::step_job(job_, ctx_.get(), ret_, self_job, &st_), StepResult::Paused);
  ASSERT_GE(st_.fd, 0);
  ASSERT_EQ(offload::step_job(job_, ctx_.get(), ret_, self_job, &st_), StepResult::Paused);
  EXPECT_EQ(st_.spurious, 1u);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_EQ(offload::step_job(job_, ctx_.get(), ret_, self_job, &st_), StepResult::Finished);
  EXPECT_EQ(ret_, kSignalledRet);
  EXPECT_EQ(job_, nullptr);
  EXPECT_EQ(st_.result, AwaitResult::Signalled);
}

TEST(JobEpoll, WaitWithNothingReadyReturnsNothing) {
  offload::JobEpoll ep;
  EXPECT_GE(ep.fd(), 0);
  EXPECT_NE(::fcntl(ep.fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_TRUE(ep.wait(0).empty());

  const offload::UniqueFd quiet = offload::make_eventfd();
  int token = 0;
  ep.watch(quiet.get(), &token);
  EXPECT_TRUE(ep.wait(0).empty());
}

TEST(JobEpoll, WatchedFdReportsItsToken) {
  offload::JobEpoll ep;
  const offload::UniqueFd a = offload::make_eventfd();
  const offload::UniqueFd b = offload::make_eventfd();
  int token_a = 0;
  int token_b = 0;
  ep.watch(a.get(), &token_a);
  ep.watch(b.get(), &token_b);
  ASSERT_TRUE(offload::signal_eventfd(b.get()));
  const auto ready = ep.wait(0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0], &token_b);

  // Level-triggered: still ready until drained.
  EXPECT_EQ(ep.wait(0).size(), 1u);
  EXPECT_EQ(offload::drain_eventfd(b.get()), 1);
  EXPECT_TRUE(ep.wait(0).empty());
}

TEST(JobEpoll, WatchingAgainReplacesTheToken) {
  offload::JobEpoll ep;
  const offload::UniqueFd a = offload::make_eventfd();
  int first = 0;
  int second = 0;
  ep.watch(a.get(), &first);
  ep.watch(a.get(), &second);
  ASSERT_TRUE(offload::signal_eventfd(a.get()));
  const auto ready = ep.wait(0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0], &second);
}

TEST(JobEpoll, UnwatchedFdIsNotReported) {
  offload::JobEpoll ep;
  const offload::UniqueFd a = offload::make_eventfd();
  int token = 0;
  ep.watch(a.get(), &token);
  ep.unwatch(a.get());
  ep.unwatch(a.get());  // twice is harmless
  ASSERT_TRUE(offload::signal_eventfd(a.get()));
  EXPECT_TRUE(ep.wait(0).empty());
}

TEST(JobEpoll, WatchingABadFdThrows) {
  offload::JobEpoll ep;
  int token = 0;
  EXPECT_THROW(ep.watch(-1, &token), std::system_error);
}

TEST_F(AsyncWaitTest, EpollWatchesTheFdsAPausedJobAdded) {
  offload::JobEpoll ep;
  int token = 0;
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ep.watch_changed_fds(ctx_.get(), &token);
  EXPECT_TRUE(ep.wait(0).empty());  // registered, not yet signalled

  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  const auto ready = ep.wait(0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0], &token);

  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kSignalledRet);
  EXPECT_TRUE(ep.wait(0).empty());  // the job consumed the signal
}

TEST_F(AsyncWaitTest, EpollIgnoresAPauseThatAddedNothing) {
  offload::JobEpoll ep;
  int token = 0;
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ep.watch_changed_fds(ctx_.get(), &token);
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);  // spurious resume: no fd changes
  std::size_t added = 99;
  std::size_t deleted = 99;
  ASSERT_EQ(ASYNC_WAIT_CTX_get_changed_fds(ctx_.get(), nullptr, &added, nullptr, &deleted), 1);
  EXPECT_EQ(added, 0u);
  EXPECT_EQ(deleted, 0u);
  ep.watch_changed_fds(ctx_.get(), &token);  // a no-op that must keep the old registration

  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  const auto ready = ep.wait(0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0], &token);
  ASSERT_EQ(run(await_job), ASYNC_FINISH);
}

TEST_F(AsyncWaitTest, EpollForgetsAnFdTheJobCleared) {
  offload::JobEpoll ep;
  int token = 0;
  st_.clear_after_first_wake = true;
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ep.watch_changed_fds(ctx_.get(), &token);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_EQ(ep.wait(0).size(), 1u);

  // The job wakes, clears its fd from the wait ctx and pauses again.
  ASSERT_EQ(run(await_job), ASYNC_PAUSE);
  ep.watch_changed_fds(ctx_.get(), &token);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));  // still open: the job closes it later
  EXPECT_TRUE(ep.wait(0).empty());

  ASSERT_EQ(run(await_job), ASYNC_FINISH);
  EXPECT_EQ(ret_, kSignalledRet);
}

TEST_F(AsyncWaitTest, EpollWatchAllAndUnwatchAll) {
  ASSERT_EQ(run(get_fd_twice_job), ASYNC_FINISH);
  offload::JobEpoll ep;
  int token = 0;
  ep.watch_all_fds(ctx_.get(), &token);
  ASSERT_TRUE(offload::signal_eventfd(st_.fd));
  ASSERT_TRUE(offload::signal_eventfd(st_.other_fd));
  const auto ready = ep.wait(0);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0], &token);
  EXPECT_EQ(ready[1], &token);

  ep.unwatch_all_fds(ctx_.get());
  EXPECT_TRUE(ep.wait(0).empty());
}

TEST(JobEpoll, WatchAllOfAnEmptyWaitCtxIsANoOp) {
  offload::JobEpoll ep;
  const offload::WaitCtxPtr ctx = offload::make_wait_ctx();
  int token = 0;
  ep.watch_all_fds(ctx.get(), &token);
  ep.unwatch_all_fds(ctx.get());
  ep.watch_changed_fds(ctx.get(), &token);
  EXPECT_TRUE(ep.wait(0).empty());
}

}  // namespace
