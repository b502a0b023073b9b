#include "offload/job_driver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <openssl/async.h>

#include <cstdint>
#include <vector>

#include "offload/clock.hpp"
#include "offload/openssl_handles.hpp"
#include "offload/unique_fd.hpp"

namespace {

using offload::JobDriver;
using offload::JobSlot;

struct TestSlot : JobSlot {
  int runs = 0;           // how often the job function was entered
  bool done = false;      // the job may finish with 1
  bool cancel_seen = false;  // what the finish callback saw
};

// Waits (ASYNC_STATUS_EAGAIN, as a job waiting for a grant or a ring slot
// does) until the test lets it finish or it is cancelled.
int waiting_job(void* args) {
  auto& slot = offload::job_slot<TestSlot>(args);
  ++slot.runs;
  while (!slot.cancel.load(std::memory_order_acquire)) {
    if (slot.done) return 1;
    if (!offload::retry_later()) return 0;
  }
  return 0;
}

class JobDriverTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(ASYNC_is_capable(), 1) << "this OpenSSL build has no ASYNC fibres"; }

  // The frontend's pattern: a finished job's slot starts the next job, as
  // long as jobs are left.
  JobDriver make_driver(int& left) {
    return JobDriver(waiting_job, [this, &left](JobSlot& s) {
      auto& slot = static_cast<TestSlot&>(s);
      slot.cancel_seen = slot.cancel.load(std::memory_order_acquire);
      ++finished_;
      start_next(*driver_, slot, left);
    });
  }

  // Counted before start(): the job may finish inside it and start the next.
  void start_next(JobDriver& driver, TestSlot& slot, int& left) {
    if (left == 0 || driver.closed()) return;
    --left;
    ++started_;
    driver.start(slot);
  }

  void start_all(JobDriver& driver, std::vector<TestSlot>& slots, int& left) {
    driver_ = &driver;
    for (auto& slot : slots) start_next(driver, slot, left);
  }

  JobDriver* driver_ = nullptr;
  int started_ = 0;
  int finished_ = 0;
};

TEST_F(JobDriverTest, AFinishedJobStartsTheNextUntilNoneAreLeft) {
  offload::AsyncThreadPool pool(4, 4);
  std::vector<TestSlot> slots(4);
  int left = 10;
  JobDriver driver = make_driver(left);
  start_all(driver, slots, left);
  EXPECT_EQ(driver.active(), 4u);
  for (auto& slot : slots) slot.done = true;  // and so may every next job in the slot
  for (int turn = 0; turn < 100 && driver.active() != 0; ++turn) driver.poll(0);
  EXPECT_EQ(driver.active(), 0u);
  EXPECT_EQ(started_, 10);
  EXPECT_EQ(finished_, 10);
}

// Issue 13: jobs cancelled while waiting for a grant or a ring slot were
// replaced, from inside the cancel pass, by new jobs that nobody freed.
TEST_F(JobDriverTest, CancelBusyEndsEveryJobAndStartsNoNewOne) {
  offload::AsyncThreadPool pool(8, 8);
  std::vector<TestSlot> slots(8);
  int left = 100;
  JobDriver driver = make_driver(left);
  start_all(driver, slots, left);
  driver.poll(0);  // every job waits (EAGAIN)
  ASSERT_EQ(driver.active(), 8u);

  const auto ids = driver.cancel_busy(slots);
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(driver.active(), 0u);
  for (const auto& slot : slots) {
    EXPECT_FALSE(slot.busy) << "job " << slot.job_id;
    EXPECT_EQ(slot.async_job, nullptr) << "job " << slot.job_id << ": its ASYNC job (and stack) was not freed";
    EXPECT_TRUE(slot.cancel_seen) << "job " << slot.job_id << ": its finish did not see it was cancelled";
  }
  EXPECT_EQ(started_, 8);
  EXPECT_EQ(finished_, 8);

  // The run has ended: nothing starts any more.
  EXPECT_TRUE(driver.closed());
  EXPECT_FALSE(driver.start(slots[0]));
  driver.poll(0);
  EXPECT_EQ(driver.active(), 0u);
}

// A slot whose start found no free ASYNC job (ASYNC_NO_JOBS) waits for a
// retry; cancelling it must not start its job then.
TEST_F(JobDriverTest, CancelBusyDoesNotStartAJobThatNeverGotAnAsyncJob) {
  offload::AsyncThreadPool pool(2, 2);
  std::vector<TestSlot> slots(4);
  int left = 4;
  JobDriver driver = make_driver(left);
  start_all(driver, slots, left);
  ASSERT_EQ(driver.active(), 4u);
  int running = 0;
  for (const auto& slot : slots) running += slot.runs;
  ASSERT_EQ(running, 2) << "the ASYNC pool holds 2 jobs";

  EXPECT_EQ(driver.cancel_busy(slots).size(), 4u);
  EXPECT_EQ(driver.active(), 0u);
  running = 0;
  for (const auto& slot : slots) {
    running += slot.runs;
    EXPECT_FALSE(slot.busy);
    EXPECT_TRUE(slot.cancel_seen);
  }
  EXPECT_EQ(running, 2) << "a cancelled slot ran its job";
  EXPECT_EQ(finished_, 4);
}

// The expectation of a completion (set_expected_completion): poll() sleeps
// until just before it, polls from there, and polls once per expectation:
// a device slower than expected is then slept for as before.
int never_runs(void*) { return 0; }

std::uint64_t elapsed_ms_since(std::uint64_t start_ns) { return (offload::monotonic_ns() - start_ns) / 1'000'000; }

// A driver with no job, only a doorbell that counts its rings.
class JobDriverExpectation : public ::testing::Test {
protected:
  void SetUp() override {
    driver_.watch_doorbell(doorbell_.get(), [this](bool) {
      offload::drain_eventfd(doorbell_.get());
      ++rang_;
    });
  }

  JobDriver driver_{never_runs, [](JobSlot&) {}};
  offload::UniqueFd doorbell_ = offload::make_eventfd();
  int rang_ = 0;
};

TEST_F(JobDriverExpectation, AnExpectationIsPolledForOnceThenSleptFor) {
  const std::uint64_t expected = offload::monotonic_ns();
  driver_.set_expected_completion([&] { return expected; });

  std::uint64_t start = offload::monotonic_ns();
  driver_.poll(2'000);
  EXPECT_LT(elapsed_ms_since(start), 1'000U) << "it slept its whole wait instead of polling for the expectation";
  start = offload::monotonic_ns();
  driver_.poll(200);
  EXPECT_GE(elapsed_ms_since(start), 199U) << "the same expectation again: it polled instead of sleeping";
  EXPECT_EQ(rang_, 0);
}

TEST_F(JobDriverExpectation, ASleepBeforeTheExpectationEndsWhenTheDoorbellRings) {
  driver_.set_expected_completion([] { return offload::monotonic_ns() + 60'000'000'000ULL; });
  ASSERT_TRUE(offload::signal_eventfd(doorbell_.get()));
  driver_.poll(5'000);
  EXPECT_EQ(rang_, 1);
}

TEST_F(JobDriverExpectation, WhileItPollsTheProbeStandsForTheDoorbell) {
  // Coalesced mode: completions on the ring before the (moderated) doorbell.
  bool on_ring = false;
  driver_.set_doorbell_probe([&] { return on_ring; });
  driver_.set_expected_completion([] { return offload::monotonic_ns(); });
  on_ring = true;
  driver_.poll(5'000);
  EXPECT_EQ(rang_, 1);
}

// The doorbell rung on request (set_doorbell_on_request): asked for only
// before a sleep that counts on it, and not slept for when the ring holds
// completions by then; a nap instead looks at the ring by itself.
TEST_F(JobDriverExpectation, ItAsksForTheDoorbellThenLooksOnceMoreBeforeItSleeps) {
  bool on_ring = false;
  int asked = 0;
  int napped = 0;
  driver_.set_doorbell_probe([&] { return on_ring; });
  driver_.set_doorbell_on_request(
      [&] {
        ++asked;
        on_ring = true;  // what the backend enqueued just before the flag was set
      },
      [] { return std::uint64_t{0}; }, [&] { ++napped; });
  const std::uint64_t start = offload::monotonic_ns();
  driver_.poll(2'000);
  EXPECT_LT(elapsed_ms_since(start), 1'000U) << "it slept though the ring held completions";
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(napped, 0);
  EXPECT_EQ(rang_, 1) << "the completions seen are handed over as if the doorbell had rung";
}

TEST_F(JobDriverExpectation, AskedForItSleepsUntilTheDoorbellRings) {
  int asked = 0;
  driver_.set_doorbell_probe([] { return false; });
  driver_.set_doorbell_on_request([&] { ++asked; }, [] { return std::uint64_t{0}; }, [] {});
  std::uint64_t start = offload::monotonic_ns();
  driver_.poll(200);
  EXPECT_GE(elapsed_ms_since(start), 199U) << "nothing on the ring, no doorbell: it sleeps its whole wait";
  ASSERT_TRUE(offload::signal_eventfd(doorbell_.get()));
  start = offload::monotonic_ns();
  driver_.poll(5'000);
  EXPECT_LT(elapsed_ms_since(start), 1'000U);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(rang_, 1);
}

TEST_F(JobDriverExpectation, AWaitThatRunsOutWithCompletionsOnTheRingCountsALostDoorbell) {
  std::atomic<bool> on_ring{false};
  driver_.set_doorbell_probe([&] { return on_ring.load(); });
  driver_.set_doorbell_on_request([] {}, [] { return std::uint64_t{0}; }, [] {});
  // Completions come during the wait (the probe before it saw none), and
  // nothing rings.
  std::thread arrives([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    on_ring = true;
  });
  driver_.poll(JobDriver::kLostDoorbellWaitMs * 10);
  arrives.join();
  EXPECT_EQ(rang_, 1) << "what the wait's end found is handed over";
  EXPECT_EQ(driver_.lost_doorbells(), 1U);
}

TEST_F(JobDriverExpectation, ANapLooksAtTheRingWithoutAskingForTheDoorbell) {
  bool on_ring = false;
  int asked = 0;
  int napped = 0;
  driver_.set_doorbell_probe([&] { return on_ring; });
  driver_.set_doorbell_on_request([&] { ++asked; }, [] { return std::uint64_t{20'000'000}; },
                                  [&] {
                                    ++napped;
                                    on_ring = true;  // completions come while it naps
                                  });
  const std::uint64_t start = offload::monotonic_ns();
  driver_.poll(5'000);
  const std::uint64_t took_ms = elapsed_ms_since(start);
  EXPECT_GE(took_ms, 19U) << "it did not nap";
  EXPECT_LT(took_ms, 1'000U) << "it slept past its nap";
  EXPECT_EQ(napped, 1);
  EXPECT_EQ(asked, 0) << "a nap does not ask for the doorbell";
  EXPECT_EQ(rang_, 1) << "what the nap found is handed over";
}

TEST_F(JobDriverExpectation, ANapEndsWhenTheDoorbellRingsAnyway) {
  driver_.set_doorbell_probe([] { return false; });
  driver_.set_doorbell_on_request([] {}, [] { return std::uint64_t{60'000'000'000ULL}; }, [] {});
  ASSERT_TRUE(offload::signal_eventfd(doorbell_.get()));
  const std::uint64_t start = offload::monotonic_ns();
  driver_.poll(5'000);
  EXPECT_LT(elapsed_ms_since(start), 1'000U);
  EXPECT_EQ(rang_, 1);
}

TEST(JobEpoll, WaitUntilSleepsToItsDeadlineAndReturnsWhatIsReady) {
  offload::JobEpoll epoll;
  const offload::UniqueFd fd = offload::make_eventfd();
  int token = 0;
  epoll.watch(fd.get(), &token);
  const std::uint64_t start = offload::monotonic_ns();
  EXPECT_TRUE(epoll.wait_until(start + 20'000'000).empty());
  EXPECT_GE(offload::monotonic_ns() - start, 20'000'000U);

  ASSERT_TRUE(offload::signal_eventfd(fd.get()));
  const auto ready = epoll.wait_until(offload::monotonic_ns() + 60'000'000'000ULL);
  ASSERT_EQ(ready.size(), 1U);
  EXPECT_EQ(ready[0], &token);
  offload::drain_eventfd(fd.get());
  EXPECT_TRUE(epoll.wait_until(0).empty()) << "a deadline in the past: an immediate look";
}

}  // namespace
